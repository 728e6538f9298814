"""Answer latency with the bundled model: time to first token, total, tokens/s, peak RSS.

    .venv/bin/python bench/answer_latency.py [--data-dir DIR] [--out DIR]

Ingests knowledge/ into DIR if it is empty, asks five fixed questions (after one warm-up so model
loading is reported separately), and writes answer_latency.{json,md} to bench/results/ (or --out).
Each question is asked twice in the same run, with verification off (as before it existed) and
on, so the time the answerability check and the statement checks add, and the first token with
and without them, come from one machine state. `python -m bench` runs it as one of its phases.
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
from typing import Any

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
    from lodestar.answering.engine import AnswerEngine
    from lodestar.components.services import Services
    from lodestar.core.offline import configure_offline_environment
    from lodestar.core.settings import get_settings

    configure_offline_environment()
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

    plain = settings.model_copy(
        update={"answer": settings.answer.model_copy(update={"verify": False})}
    )
    plain_engine = AnswerEngine(Services(plain, embed_model=services.embed_model, llm=services.llm))

    rows = []

    def cold(ask: Any, question: str) -> Any:
        # Each run reads its prompt from scratch: the second run of a question would otherwise
        # find the whole prompt in llama.cpp's KV cache and show a first token it never has.
        forget = getattr(services.llm, "forget_prompt_cache", None)
        if forget is not None:
            forget()
        return ask(question)

    for question in QUESTIONS:
        unverified = cold(plain_engine.ask, question)
        answer = cold(engine.ask, question)
        tokens = engine.count_tokens(answer.raw_answer or answer.answer)
        t = answer.timings
        # The answerability check reads the prompt the answer needs anyway: what it adds is the
        # first token's delay against the same question unverified.
        first_s = (t.first_token_ms or 0) / 1000
        delay_s = max(0.0, first_s - (unverified.timings.first_token_ms or 0) / 1000)
        added_s = delay_s + (t.verification_ms or 0) / 1000
        generation_s = (
            t.total_ms - (t.first_token_ms or t.total_ms) - (t.verification_ms or 0)
        ) / 1000
        prompt_tokens = sum(engine.count_tokens(c.text) for c in answer.supplied)
        rows.append(
            {
                "question": question,
                "refused": answer.refused,
                "citations": [c.n for c in answer.citations],
                "passage_tokens": prompt_tokens,
                "retrieval_ms": t.retrieval_ms,
                "first_token_s": round((t.first_token_ms or 0) / 1000, 2),
                "first_token_unverified_s": round(
                    (unverified.timings.first_token_ms or 0) / 1000, 2
                ),
                "answerability_s": round((t.answerability_ms or 0) / 1000, 2),
                "first_token_delay_s": round(delay_s, 2),
                "verification_s": round((t.verification_ms or 0) / 1000, 2),
                "added_s": round(added_s, 2),
                "statements": answer.verified.get("statements", 0),
                "supported": answer.verified.get("supported", 0),
                "total_s": round(t.total_ms / 1000, 2),
                "total_unverified_s": round(unverified.timings.total_ms / 1000, 2),
                "answer_tokens": tokens,
                "tokens_per_s": round(tokens / generation_s, 1) if generation_s > 0 else None,
            }
        )
        print(json.dumps(rows[-1]), flush=True)

    def median(key: str) -> float:
        return round(statistics.median(r[key] or 0 for r in rows), 2)

    summary = {
        "machine": {
            "cores": os.cpu_count(),
            "cpu": platform.processor() or platform.machine(),
            "avx512": _has_avx512(),
        },
        "model": services.llm_id,
        "context_tokens": settings.answer.context_tokens,
        "verifier": settings.answer.verifier,
        "model_load_s": round(load_s, 2),
        "median_first_token_s": median("first_token_s"),
        "median_first_token_unverified_s": median("first_token_unverified_s"),
        "median_answerability_s": median("answerability_s"),
        "median_first_token_delay_s": median("first_token_delay_s"),
        "median_verification_s": median("verification_s"),
        "median_added_s": median("added_s"),
        "median_total_s": median("total_s"),
        "median_tokens_per_s": median("tokens_per_s"),
        "peak_rss_mb": round(peak_rss_mb()),
        "targets": {"first_token_s": 6, "total_s": 25, "added_s": 3},
        "questions": rows,
    }
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "answer_latency.json").write_text(json.dumps(summary, indent=2) + "\n")
    cpu = "AVX-512" if summary["machine"]["avx512"] else "AVX2 or older"
    lines = [
        "# Answer latency (bundled model)",
        "",
        f"{summary['machine']['cores']} cores ({cpu}) · {summary['model']} · passage budget "
        f"{summary['context_tokens']} tokens · verifier `{summary['verifier']}` · model load "
        f"{summary['model_load_s']} s · peak RSS {summary['peak_rss_mb']} MB",
        "",
        "| question | passage tokens | first token (s) | unverified first token (s) | "
        "answerability check, prompt included (s) | first token delay (s) | verification (s) | "
        "statements | total (s) | tokens/s | cited |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['question']} | {r['passage_tokens']} | {r['first_token_s']} | "
            f"{r['first_token_unverified_s']} | {r['answerability_s']} | "
            f"{r['first_token_delay_s']} | {r['verification_s']} | "
            f"{r['supported']}/{r['statements']} | {r['total_s']} | {r['tokens_per_s']} | "
            f"{r['citations']} |"
        )
    lines += [
        "",
        f"Median: first token {summary['median_first_token_s']} s (unverified "
        f"{summary['median_first_token_unverified_s']} s; target ≤ 6), total "
        f"{summary['median_total_s']} s (target ≤ 25), {summary['median_tokens_per_s']} tokens/s.",
        f"Verification adds {summary['median_added_s']} s per answer (median; target ≤ 3): the "
        f"answerability check delays the first token by {summary['median_first_token_delay_s']} s "
        f"(it reads the prompt the answer needs anyway, {summary['median_answerability_s']} s "
        f"with it), the statement checks take {summary['median_verification_s']} s after the "
        "last token. Each run reads its prompt cold.",
    ]
    (out / "answer_latency.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _has_avx512() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            return "avx512f" in fh.read()
    except OSError:
        return False


if __name__ == "__main__":
    main()
