"""Several people asking at once, with the bundled model: each asker's first token and total.

    .venv/bin/python -m bench.team_latency [--data-dir DIR] [--out DIR] [--askers 4] [--question Q]

1, 2, 3 and 4 askers start at the same moment, each with a different question, through the path
the web app uses (`AnswerEngine.stream` on one shared engine, the stream read to its end, one
thread per asker as Streamlit runs one per session), each scenario with llama.cpp's prompt cache
emptied first. Each number of askers runs twice in the same
run: "call by call" (before: every model call takes its own turn, so answers interleave and
each call re-reads its prompt) and "whole answers" (now: an answer keeps the model from its
first call to its last check, in arrival order). Every question is also asked alone first. The
ratios the issue sets: the first answer done ≤ 1.2 × that question alone, the last ≤ 3.2 × the
askers' mean alone. Writes team_latency.{json,md} to bench/results/ (or --out).

`--question Q` gives every asker the same question: their prompts are then identical and share
llama.cpp's prompt cache, so that is the best case, not three people asking three things (on
2026-12-03, Intel AVX-512: 3 askers of one 10.9 s question, whole answers 11.8 / 16.1 / 20.5 s,
call by call 15.9 s each).
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

QUESTIONS = [
    "What should a new ML tech lead prioritise?",
    "How many engineers does an ML Engineering Manager lead?",
    "Which MLOps tools should an ML Engineering Manager know?",
    "How do you spot a talented lead-level ML engineer?",
]
RESULTS = Path(__file__).resolve().parent / "results"
MODES = ("call by call", "whole answers")


def ask(engine: Any, question: str, start: float, waits: list[int]) -> dict[str, Any]:
    """One asker, as the app's chat page: stream, read every delta, then the checked answer."""
    stream = engine.stream(question, on_wait=waits.append)
    first = None
    for _ in stream:
        if first is None:
            first = time.perf_counter() - start
    answer = stream.answer()
    return {
        "question": question,
        "first_token_s": round(first or 0.0, 2),
        "total_s": round(time.perf_counter() - start, 2),
        "refused": answer.refused,
        "verified": answer.verified.get("verified"),
        "statements": answer.verified.get("statements", 0),
        "supported": answer.verified.get("supported", 0),
        "answer": answer.answer,
        "told_places": sorted(set(waits), reverse=True),
    }


def at_once(engine: Any, questions: list[str]) -> list[dict[str, Any]]:
    """Every question asked at the same moment, one thread each; results in asking order."""
    results: list[dict[str, Any]] = [{} for _ in questions]
    gate = threading.Barrier(len(questions))

    def run(i: int) -> None:
        gate.wait()
        results[i] = ask(engine, questions[i], time.perf_counter(), [])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(questions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def main() -> None:
    """Run the benchmark and write the results."""
    from bench.answer_latency import _has_avx512
    from bench.measure import machine
    from ingest.pipeline import ingest_paths
    from lodestar.answering.engine import AnswerEngine
    from lodestar.components.services import Services
    from lodestar.core.offline import configure_offline_environment
    from lodestar.core.settings import get_settings

    configure_offline_environment()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(".lodestar"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--askers", type=int, default=len(QUESTIONS))
    parser.add_argument(
        "--question", help="every asker asks this one question (the default: a different each)"
    )
    args = parser.parse_args()
    questions = [args.question] * args.askers if args.question else QUESTIONS[: args.askers]
    settings = get_settings().with_dirs(args.data_dir)
    services = Services(settings)
    if not services.paths.manifest.exists():
        ingest_paths([settings.knowledge_dir], services)

    class CallByCall(Services):
        """Before: no turn for a whole answer, only the one each model call takes."""

        def model_turn(self, label: str = "", on_wait: Any = None) -> AbstractContextManager[None]:
            return nullcontext()

    engines = {
        "whole answers": AnswerEngine(services),
        "call by call": AnswerEngine(
            CallByCall(settings, embed_model=services.embed_model, llm=services.llm)
        ),
    }
    engine = engines["whole answers"]
    engine.warm_up()
    engine.ask("What does a Practice Leader do?")  # first allocations, outside the timings

    # Every scenario starts with nothing in llama.cpp's prompt cache: otherwise a question
    # asked before would find its passages read already and look faster than it is.
    fresh = getattr(services.llm, "forget_prompt_cache", lambda: None)

    alone = {}
    for question in dict.fromkeys(questions):
        fresh()
        alone[question] = ask(engine, question, time.perf_counter(), [])
        print(json.dumps({"alone": question, "total_s": alone[question]["total_s"]}), flush=True)
    runs: list[dict[str, Any]] = []
    for n in range(1, args.askers + 1):
        for mode in MODES:
            fresh()
            askers = at_once(engines[mode], questions[:n])
            runs.append(summarise(mode, askers, alone))
            print(json.dumps({k: v for k, v in runs[-1].items() if k != "askers"}), flush=True)

    summary = {
        "machine": machine(),
        "avx512": _has_avx512(),
        "model": services.llm_id,
        "alone": list(alone.values()),
        "runs": runs,
        "targets": {"first_done_ratio": 1.2, "last_done_ratio": 3.2, "askers": 3},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "team_latency.json").write_text(json.dumps(summary, indent=2) + "\n")
    markdown = report(summary)
    (args.out / "team_latency.md").write_text(markdown)
    print(markdown)


def summarise(mode: str, askers: list[dict[str, Any]], alone: dict[str, Any]) -> dict[str, Any]:
    """One run of n askers: who finished first and last, against the same questions alone."""
    first = min(askers, key=lambda a: a["total_s"])
    last = max(askers, key=lambda a: a["total_s"])
    mean_alone = statistics.mean(alone[a["question"]]["total_s"] for a in askers)
    return {
        "mode": mode,
        "askers": askers,
        "n": len(askers),
        "first_done_s": first["total_s"],
        "last_done_s": last["total_s"],
        "first_done_ratio": round(first["total_s"] / alone[first["question"]]["total_s"], 2),
        "last_done_ratio": round(last["total_s"] / mean_alone, 2),
        # Correct and verified under load: each answer's text and verdicts as when asked alone.
        "verified_as_alone": sum(
            _verdicts(a) == _verdicts(alone[a["question"]]) and not a["refused"] for a in askers
        ),
        "same_as_alone": sum(a["answer"] == alone[a["question"]]["answer"] for a in askers),
    }


def _verdicts(asked: dict[str, Any]) -> tuple[bool, int, int]:
    return asked["refused"], asked["supported"], asked["statements"]


def report(summary: dict[str, Any]) -> str:
    """The results as Markdown: one row per asker count and mode."""
    cpu = "AVX-512" if summary["avx512"] else "AVX2 or older"
    cores = summary["machine"].get("cores")
    lines = [
        "# Several askers at once (bundled model)",
        "",
        f"{cores} cores ({cpu}) · {summary['model']} · one shared engine, one thread per asker, "
        "the app's path (stream read to its end, statements verified). Alone: "
        + ", ".join(f"{a['total_s']} s" for a in summary["alone"])
        + " (each question by itself, in order).",
        "",
        "| askers | turns | each asker: first token / done (s) | first done | last done | "
        "first ÷ alone | last ÷ mean alone | verified as alone | same text as alone |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in summary["runs"]:
        each = ", ".join(f"{a['first_token_s']} / {a['total_s']}" for a in run["askers"])
        lines.append(
            f"| {run['n']} | {run['mode']} | {each} | {run['first_done_s']} | "
            f"{run['last_done_s']} | {run['first_done_ratio']} | {run['last_done_ratio']} | "
            f"{run['verified_as_alone']}/{run['n']} | {run['same_as_alone']}/{run['n']} |"
        )
    targets = summary["targets"]
    lines += [
        "",
        f"Targets with {targets['askers']} askers, whole answers: first done ≤ "
        f"{targets['first_done_ratio']} × alone, last done ≤ {targets['last_done_ratio']} × the "
        'mean alone. Ratios from this one run. "Verified as alone": the same statements held '
        "as when the question was asked by itself (not refused).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
