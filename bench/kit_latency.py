"""Interview-kit latency with the bundled model: kit time, first question, attempts per question.

    .venv/bin/python bench/kit_latency.py [--data-dir DIR] [--out DIR] [--role R --level L --count N]

Ingests knowledge/ into DIR if it is empty, loads both models and warms them up with a one-question
kit for another role (so model loading and the first page-in of the 1.1 GB file are reported
apart), then writes the README's kit (ML Engineering Manager, senior, 8 questions) and records
when each question was shown. Writes kit_latency.{json,md} to bench/results/ (or --out).
The kit itself is scored with lodestar.evaluation.metrics.kits (distinct questions, figures and names
absent from the source) and saved beside the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {
    "kit_s_avx512": 60,
    "kit_s_avx2": 120,
    "first_question_s": 10,
    "attempts_per_question": 1.3,
}


def main() -> None:
    """Run the benchmark and write the results."""
    from bench.answer_latency import peak_rss_mb
    from ingest.pipeline import ingest_paths
    from lodestar.components.services import Services
    from lodestar.core.offline import configure_offline_environment
    from lodestar.core.settings import get_settings
    from lodestar.evaluation.metrics.kits import score_kit
    from lodestar.interview import KitQuestion, KitWriter

    configure_offline_environment()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(".lodestar"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--role", default="ML Engineering Manager")
    parser.add_argument("--level", default="senior")
    parser.add_argument("--count", type=int, default=8)
    args = parser.parse_args()
    load_before = round(os.getloadavg()[0], 2)
    settings = get_settings().with_dirs(args.data_dir)
    services = Services(settings)
    if not services.paths.manifest.exists():
        ingest_paths([settings.knowledge_dir], services)

    started = time.perf_counter()
    services.embed_model  # noqa: B018 - load both models outside the timed kit
    services.llm  # noqa: B018
    load_s = time.perf_counter() - started
    warm = time.perf_counter()
    KitWriter(services, "Practice Leader", "lead", 1).run()
    warm_up_s = time.perf_counter() - warm

    requested = time.perf_counter()
    writer = KitWriter(services, args.role, args.level, args.count)
    plan_s = time.perf_counter() - requested
    rows = []
    wall, cpu = time.perf_counter(), time.process_time()
    for event in writer:
        shown = round(time.perf_counter() - requested, 2)
        # Share of both cores this process got while writing the question: well under 1 means
        # something else was running.
        cpu_share = (time.process_time() - cpu) / max(1e-9, time.perf_counter() - wall)
        wall, cpu = time.perf_counter(), time.process_time()
        if isinstance(event, KitQuestion):
            rows.append(
                {
                    "n": writer.kit.made,
                    "competency": event.competency,
                    "question": event.question,
                    "signals": len(event.signals),
                    "signals_quoted": event.signals_quoted,
                    "attempts": event.attempts,
                    "seconds": event.seconds,
                    "shown_at_s": shown,
                    "cpu_share": round(cpu_share / (os.cpu_count() or 1), 2),
                    "rejected": event.rejected,
                }
            )
        else:
            rows.append({"skipped": event.note, "shown_at_s": shown, "cpu_share": None})
        print(json.dumps(rows[-1]), flush=True)
    kit = writer.kit
    total_s = round(time.perf_counter() - requested, 2)
    scores = score_kit(kit, services.embed_model.get_text_embedding_batch)
    summary = {
        "machine": machine(load_before),
        "model": services.llm_id,
        "role": kit.role,
        "level": kit.level,
        "asked": kit.asked,
        "made": kit.made,
        "model_load_s": round(load_s, 2),
        "warm_up_s": round(warm_up_s, 2),
        "plan_s": round(plan_s, 2),
        "kit_s": total_s,
        "first_question_s": rows[0]["shown_at_s"] if rows else None,
        "attempts": kit.attempts,
        "attempts_per_question": round(kit.attempts / max(1, len(writer.plan.questions)), 2),
        "questions_per_minute": scores.questions_per_minute,
        "max_question_similarity": scores.max_similarity,
        "ungrounded_terms": scores.ungrounded_terms,
        "peak_rss_mb": round(peak_rss_mb()),
        "targets": TARGETS,
        "load_average_after": round(os.getloadavg()[0], 2),
        "questions": rows,
        "notes": kit.notes,
    }
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "kit_latency.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "kit_latency_kit.md").write_text(kit.to_markdown())
    cpu = "AVX-512" if summary["machine"]["avx512"] else "AVX2 or older"
    target = TARGETS["kit_s_avx512"] if summary["machine"]["avx512"] else TARGETS["kit_s_avx2"]
    lines = [
        "# Interview-kit latency (bundled model)",
        "",
        f"{summary['machine']['cores']} cores ({summary['machine']['cpu']}, {cpu}) · "
        f"{summary['model']} · model load {summary['model_load_s']} s · warm-up "
        f"{summary['warm_up_s']} s · peak RSS {summary['peak_rss_mb']} MB · load average "
        f"{load_before} before, {summary['load_average_after']} after",
        "",
        f"Kit: {kit.role}, {kit.level}, {kit.asked} asked, {kit.made} made · plan "
        f"{summary['plan_s']} s",
        "",
        "| # | competency | attempts | signals (quoted from the passage) | seconds | shown at (s) "
        "| CPU share |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| – | {r['skipped']} | | | | {r['shown_at_s']} | |")
        else:
            lines.append(
                f"| {r['n']} | {r['competency']} | {r['attempts']} | {r['signals']} "
                f"({r['signals_quoted']}) | "
                f"{r['seconds']} | {r['shown_at_s']} | {r['cpu_share']} |"
            )
    lines += [
        "",
        f"Kit {summary['kit_s']} s (target ≤ {target} on {cpu}), first question "
        f"{summary['first_question_s']} s (target ≤ 10), "
        f"{summary['attempts_per_question']} attempts per question (target < 1.3), "
        f"{summary['questions_per_minute']} questions per minute.",
        f"Most similar pair of questions: cosine {summary['max_question_similarity']}; figures "
        f"or names absent from their source: {len(summary['ungrounded_terms'])} (must be 0).",
    ]
    (out / "kit_latency.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def machine(load_before: float) -> dict[str, Any]:
    """Cores, CPU, AVX-512 and the load average before the run, for a bench's summary."""
    from bench.answer_latency import _has_avx512

    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_name(),
        "avx512": _has_avx512(),
        "load_average_before": load_before,
    }


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
