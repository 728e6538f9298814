"""Answer latency with the bundled model: time to first token, total, tokens/s, peak RSS.

    .venv/bin/python bench/answer_latency.py [--data-dir DIR] [--out DIR]

Ingests knowledge/ into DIR if it is empty, asks five fixed questions (after one warm-up so model
loading is reported separately), and writes answer_latency.{json,md} to bench/results/ (or --out).
`python -m bench` runs it as one of its phases.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
from pathlib import Path

QUESTIONS = [
    "What should a new ML tech lead prioritise?",
    "How many engineers does an ML Engineering Manager lead?",
    "What salary range is typical for an ML Engineering Team Lead?",
    "Which MLOps tools should an ML Engineering Manager know?",
    "How do you spot a talented lead-level ML engineer?",
]
RESULTS = Path(__file__).resolve().parent / "results"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far.

    VmHWM: ru_maxrss would include the parent's peak when `python -m bench` starts this script.
    """
    try:
        with open("/proc/self/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run the benchmark and write the results."""
    from ingest.pipeline import ingest_paths
    from lodestar.answer import AnswerEngine
    from lodestar.services import Services
    from lodestar.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(".lodestar"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    settings = get_settings().with_dirs(args.data_dir)
    services = Services(settings)
    if not services.paths.manifest.exists():
        ingest_paths([settings.knowledge_dir], services)
    engine = AnswerEngine(services)

    started = time.perf_counter()
    services.embed_model  # noqa: B018 - load both models outside the timed questions
    services.llm  # noqa: B018
    load_s = time.perf_counter() - started
    engine.ask("What does a Practice Leader do?")  # warm-up: caches, first allocation

    rows = []
    for question in QUESTIONS:
        answer = engine.ask(question)
        tokens = engine.count_tokens(answer.answer)
        t = answer.timings
        generation_s = (t.total_ms - (t.first_token_ms or t.total_ms)) / 1000
        prompt_tokens = sum(engine.count_tokens(c.text) for c in answer.supplied)
        rows.append(
            {
                "question": question,
                "refused": answer.refused,
                "citations": [c.n for c in answer.citations],
                "passage_tokens": prompt_tokens,
                "retrieval_ms": t.retrieval_ms,
                "first_token_s": round((t.first_token_ms or 0) / 1000, 2),
                "total_s": round(t.total_ms / 1000, 2),
                "answer_tokens": tokens,
                "tokens_per_s": round(tokens / generation_s, 1) if generation_s > 0 else None,
            }
        )
        print(json.dumps(rows[-1]), flush=True)

    summary = {
        "machine": {"cores": os.cpu_count(), "cpu": platform.processor() or platform.machine()},
        "model": services.llm_id,
        "context_tokens": settings.answer.context_tokens,
        "model_load_s": round(load_s, 2),
        "median_first_token_s": statistics.median(r["first_token_s"] for r in rows),
        "median_total_s": statistics.median(r["total_s"] for r in rows),
        "median_tokens_per_s": statistics.median(r["tokens_per_s"] or 0 for r in rows),
        "peak_rss_mb": round(peak_rss_mb()),
        "targets": {"first_token_s": 6, "total_s": 25},
        "questions": rows,
    }
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "answer_latency.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [
        "# Answer latency (bundled model)",
        "",
        f"{summary['machine']['cores']} cores · {summary['model']} · passage budget "
        f"{summary['context_tokens']} tokens · model load {summary['model_load_s']} s · "
        f"peak RSS {summary['peak_rss_mb']} MB",
        "",
        "| question | passage tokens | first token (s) | total (s) | tokens/s | cited |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['question']} | {r['passage_tokens']} | {r['first_token_s']} | {r['total_s']} | "
            f"{r['tokens_per_s']} | {r['citations']} |"
        )
    lines += [
        "",
        f"Median: first token {summary['median_first_token_s']} s (target ≤ 6), total "
        f"{summary['median_total_s']} s (target ≤ 25), {summary['median_tokens_per_s']} tokens/s.",
    ]
    (out / "answer_latency.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
