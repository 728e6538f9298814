"""Waits users meet every day: commands from a new process, sources first, the app's first answer.

    .venv/bin/python -m bench.cold_start [--data-dir DIR] [--baseline REF] [--runs N] [--out DIR]

Each command runs in a new process, once per question (the five of `answer_latency`), and the
medians are reported. With `--baseline REF` (a git commit, default f43c859, the code before the
cold-start work) the same commands run from a detached worktree of that commit in the same run,
alternating with today's code, so the ratio comes from one machine state. A small wrapper
(`bench/cold_child.py`) runs the CLI of either build and marks the moment retrieval returns;
the first byte on stdout is the first answer token (the passages go to stderr).

The app's rows are measured in-process the way the app works: services built, the warm-up the
app starts on page load (`AnswerEngine.warm_up`), then the questions; against a first question
asked with nothing loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.answer_latency import QUESTIONS, _has_avx512

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CHILD = ROOT / "bench" / "cold_child.py"
BASELINE = "f43c859"
TARGETS = {"retrieve_s": 3.0, "ask_retrieved_s": 3.0, "ask_total_s": 10.0, "sources_s": 1.0}


def timed_command(root: Path, args: list[str], env: dict[str, str]) -> dict[str, float | None]:
    """Run `lodestar ARGS` of the build in `root`; seconds to retrieval, first token, exit."""
    marks: dict[str, float | None] = {"retrieved_s": None, "first_output_s": None}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(root), *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    def watch_err() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if b"BENCH-RETRIEVED" in line and marks["retrieved_s"] is None:
                marks["retrieved_s"] = time.perf_counter() - started

    def watch_out() -> None:
        assert proc.stdout is not None
        while chunk := proc.stdout.read(1):
            if marks["first_output_s"] is None and chunk.strip():
                marks["first_output_s"] = time.perf_counter() - started

    threads = [threading.Thread(target=watch_err), threading.Thread(target=watch_out)]
    for t in threads:
        t.start()
    code = proc.wait()
    total = time.perf_counter() - started
    for t in threads:
        t.join()
    if code != 0:
        raise SystemExit(f"`lodestar {' '.join(args)}` in {root} exited with {code}")
    return {**marks, "total_s": total}


def baseline_tree(ref: str) -> Path:
    """A detached worktree of `ref` (created once, reused)."""
    path = Path("/tmp") / f"lodestar-baseline-{ref}"
    if not path.exists():
        made = subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref],
            capture_output=True,
            text=True,
        )
        if made.returncode != 0:
            raise SystemExit(
                f"cannot check out the baseline {ref!r}: {made.stderr.strip()}\n"
                "(a shallow clone lacks it: `git fetch --unshallow`, or pass --baseline '')"
            )
    return path


def command_rows(builds: dict[str, Path], env: dict[str, str], runs: int) -> list[dict[str, Any]]:
    """Every build × question × command, alternating builds so drift hits both alike."""
    rows: list[dict[str, Any]] = []
    for _ in range(runs):
        for question in QUESTIONS:
            for build, root in builds.items():
                retrieve = timed_command(root, ["retrieve", question, "--k", "5"], env)
                ask = timed_command(root, ["ask", question], env)
                rows.append(
                    {
                        "build": build,
                        "question": question,
                        "retrieve_s": round(retrieve["total_s"] or 0, 2),
                        "ask_retrieved_s": _round(ask["retrieved_s"]),
                        "ask_first_token_s": _round(ask["first_output_s"]),
                        "ask_total_s": round(ask["total_s"] or 0, 2),
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
    return rows


def app_rows(data_dir: Path) -> dict[str, Any]:
    """First token of the app's first question, cold and after the warm-up, and of later ones."""
    from lodestar.answering.engine import AnswerEngine
    from lodestar.components.services import Services
    from lodestar.core.settings import get_settings

    settings = get_settings().with_dirs(data_dir)

    def first_token(engine: AnswerEngine, question: str) -> tuple[float, float]:
        started = time.perf_counter()
        stream = engine.stream(question)
        sources = time.perf_counter() - started
        answer = stream.answer()
        return (answer.timings.first_token_ms or 0) / 1000, sources

    cold_engine = AnswerEngine(Services(settings))
    cold_first, cold_sources = first_token(cold_engine, QUESTIONS[0])
    del cold_engine
    engine = AnswerEngine(Services(settings))
    began = time.perf_counter()
    engine.warm_up()
    warm_up_s = time.perf_counter() - began
    firsts = [first_token(engine, q) for q in QUESTIONS]
    later = [f for f, _ in firsts[1:]]
    return {
        "first_question_cold_first_token_s": round(cold_first, 2),
        "first_question_cold_sources_s": round(cold_sources, 2),
        "warm_up_s": round(warm_up_s, 2),
        "first_question_first_token_s": round(firsts[0][0], 2),
        "later_questions_first_token_s": round(statistics.median(later), 2),
        "sources_after_s": round(statistics.median(s for _, s in firsts), 3),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _median(rows: list[dict[str, Any]], build: str, key: str) -> float | None:
    values = [r[key] for r in rows if r["build"] == build and r[key] is not None]
    return round(statistics.median(values), 2) if values else None


def main() -> None:
    """Run the commands (and the app rows) and write cold_start.{json,md}."""
    from lodestar.core.offline import configure_offline_environment

    configure_offline_environment()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(".lodestar"))
    parser.add_argument("--baseline", default=BASELINE, help="git ref to compare with; '' for none")
    parser.add_argument("--runs", type=int, default=1, help="times each question is asked")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--skip-app", action="store_true")
    args = parser.parse_args()
    data_dir = args.data_dir.resolve()
    env = dict(os.environ, LODESTAR_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    builds = {"today": ROOT}
    if args.baseline:
        builds["baseline"] = baseline_tree(args.baseline)
    rows = command_rows(builds, env, args.runs)
    summary: dict[str, Any] = {
        "machine": {"cores": os.cpu_count(), "avx512": _has_avx512()},
        "baseline": args.baseline or None,
        "runs": args.runs,
        "questions": len(QUESTIONS),
        "medians": {
            build: {
                key: _median(rows, build, key)
                for key in ("retrieve_s", "ask_retrieved_s", "ask_first_token_s", "ask_total_s")
            }
            for build in builds
        },
        "targets": TARGETS,
        "rows": rows,
    }
    if not args.skip_app:
        summary["app"] = app_rows(data_dir)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cold_start.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = report(summary)
    (args.out / "cold_start.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def report(summary: dict[str, Any]) -> list[str]:
    """The Markdown table: every wait of the cold-start issue, today against the baseline."""
    today = summary["medians"]["today"]
    base = summary["medians"].get("baseline", {})
    cpu = "AVX-512" if summary["machine"]["avx512"] else "AVX2 or older"

    def cell(value: float | None) -> str:
        return "–" if value is None else f"{value} s"

    def ratio(key: str) -> str:
        if not base.get(key) or not today.get(key):
            return "–"
        return f"{base[key] / today[key]:.1f}×"

    lines = [
        "# Cold start and sources first",
        "",
        f"{summary['machine']['cores']} cores ({cpu}); medians over {summary['questions']} "
        f"questions × {summary['runs']} run(s), each command a new process; baseline "
        f"{summary['baseline'] or 'none'} measured in the same run, alternating.",
        "",
        "| wait | baseline | today | faster | target |",
        "|---|---|---|---|---|",
        f"| `lodestar retrieve`, whole command | {cell(base.get('retrieve_s'))} | "
        f"{cell(today['retrieve_s'])} | {ratio('retrieve_s')} | ≤ 3 s |",
        f"| `lodestar ask`: command start → retrieval done (sources listed) | "
        f"{cell(base.get('ask_retrieved_s'))} | {cell(today['ask_retrieved_s'])} | "
        f"{ratio('ask_retrieved_s')} | ≤ 3 s |",
        f"| `lodestar ask`: first answer token | {cell(base.get('ask_first_token_s'))} | "
        f"{cell(today['ask_first_token_s'])} | {ratio('ask_first_token_s')} | – |",
        f"| `lodestar ask`, whole command | {cell(base.get('ask_total_s'))} | "
        f"{cell(today['ask_total_s'])} | {ratio('ask_total_s')} | ≤ 10 s |",
    ]
    app = summary.get("app")
    if app:
        lines += [
            "",
            "App, in-process as the app runs it (services built, warm-up on page load):",
            "",
            "| wait | measured | target |",
            "|---|---|---|",
            f"| first question, nothing loaded: first token | "
            f"{app['first_question_cold_first_token_s']} s | – |",
            f"| warm-up on page load (models, index, system prompt) | {app['warm_up_s']} s | – |",
            f"| first question after the warm-up: first token | "
            f"{app['first_question_first_token_s']} s | same as later questions |",
            f"| later questions: first token (median) | "
            f"{app['later_questions_first_token_s']} s | – |",
            f"| sources shown after the question is sent (median) | {app['sources_after_s']} s "
            f"(first question cold: {app['first_question_cold_sources_s']} s) | ≤ 1 s |",
        ]
    return lines


if __name__ == "__main__":
    main()
