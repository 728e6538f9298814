"""Speed levers for a whole answer, each measured against today's default in one run.

    .venv/bin/python -m bench.levers [--data-dir DIR] [--out DIR] [--label NAME]

One process, one loaded model, the questions of bench/answer_latency, each prompt read cold:

- `default`: the answer as `lodestar ask` gives it (shapes, verification with copies trusted);
- `copies judged`: the same answer's statements verified again with every statement sent to the
  model (`trust_copies=False`). The statements the model already checked are in llama.cpp's
  cache and cost almost nothing the second time, so this is the time judging the copied
  statements would have added: what the copy rule saves on that answer;
- `guidance at 800`: a guidance question ("what should I…") read with the 800-token budget of
  other questions instead of 1100, so what the larger budget costs is measured on its own.

The llama.cpp build is a lever too (weight repacking, `GGML_CPU_REPACK`): run this script with
each build's interpreter, one after the other, with `--label` naming the build; the results are
written side by side as levers_<label>.json and compared in levers.md by `--compare`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from bench.answer_latency import QUESTIONS, _has_avx512

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    """Run the levers and write levers_<label>.json, or compare the labels' results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(".lodestar"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--label", default="default-build")
    parser.add_argument("--compare", nargs="*", help="labels to put side by side in levers.md")
    args = parser.parse_args()
    if args.compare:
        compare(args.out, args.compare)
        return
    result = measure(args.data_dir)
    result["label"] = args.label
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"levers_{args.label}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "questions"}, indent=2))


def measure(data_dir: Path) -> dict[str, Any]:
    """Every question: the default answer, its statements re-verified with copies judged, and
    a guidance question again at the 800-token budget."""
    from lodestar.answering.engine import AnswerEngine
    from lodestar.answering.shape import answer_shape
    from lodestar.components.services import Services
    from lodestar.core.offline import configure_offline_environment
    from lodestar.core.settings import get_settings
    from lodestar.grounding.verifier import GroundingVerifier

    configure_offline_environment()
    settings = get_settings().with_dirs(data_dir)
    services = Services(settings)
    engine = AnswerEngine(services)
    engine.ask("What does a Practice Leader do?")  # warm-up: loading, first allocation
    narrow = settings.model_copy(
        update={"answer": settings.answer.model_copy(update={"guidance_context_tokens": 800})}
    )
    narrow_engine = AnswerEngine(
        Services(narrow, embed_model=services.embed_model, llm=services.llm)
    )

    def forget() -> None:
        clear = getattr(services.llm, "forget_prompt_cache", None)
        if clear is not None:
            clear()

    rows = []
    for question in QUESTIONS:
        forget()
        started = time.perf_counter()
        answer = engine.ask(question)
        whole = time.perf_counter() - started
        t = answer.timings
        row: dict[str, Any] = {
            "question": question,
            "shape": answer_shape(question),
            "whole_s": round(whole, 2),
            "first_token_s": round((t.first_token_ms or 0) / 1000, 2),
            "verification_s": round((t.verification_ms or 0) / 1000, 2),
            "statements": answer.verified.get("statements", 0),
            "copies": sum("copies passage" in g["reason"] for g in answer.grounding),
        }
        if answer.raw_answer and not answer.refused:
            supplied = [c.text for c in answer.supplied]
            messages = engine.messages_for(answer.standalone_question, _passages(answer))
            judged = GroundingVerifier(
                engine.judge,
                threshold=settings.answer.verify_threshold,
                design=settings.answer.verifier,
                embed=services.embed_model.get_text_embedding_batch,
                trust_copies=False,
            )
            started = time.perf_counter()
            judged.verify(answer.raw_answer, supplied, messages)
            row["verification_copies_judged_s"] = round(time.perf_counter() - started, 2)
        if row["shape"] == "guidance":
            forget()
            started = time.perf_counter()
            at_800 = narrow_engine.ask(question)
            row["whole_at_800_s"] = round(time.perf_counter() - started, 2)
            row["first_token_at_800_s"] = round((at_800.timings.first_token_ms or 0) / 1000, 2)
        rows.append(row)
        print(json.dumps(row), flush=True)

    def median(key: str) -> float | None:
        values = [r[key] for r in rows if r.get(key) is not None]
        return round(statistics.median(values), 2) if values else None

    return {
        "machine": {"cores": os.cpu_count(), "avx512": _has_avx512()},
        "model": services.llm_id,
        "median_whole_s": median("whole_s"),
        "median_first_token_s": median("first_token_s"),
        "median_verification_s": median("verification_s"),
        "median_verification_copies_judged_s": median("verification_copies_judged_s"),
        "questions": rows,
    }


def _passages(answer: Any) -> list[Any]:
    from lodestar.retrieval.passages import Passage

    return [
        Passage(
            text=c.text,
            source=c.source,
            title=c.title,
            heading=c.heading,
            score=c.score,
            doc_type="",
            page=c.page,
        )
        for c in answer.supplied
    ]


def compare(out: Path, labels: list[str]) -> None:
    """levers.md: each label's medians side by side."""
    results = [json.loads((out / f"levers_{label}.json").read_text()) for label in labels]
    cpu = "AVX-512" if results[0]["machine"]["avx512"] else "AVX2 or older"
    lines = [
        "# Speed levers (bundled model, one run per build, prompts read cold)",
        "",
        f"{results[0]['machine']['cores']} cores ({cpu}) · {results[0]['model']}",
        "",
        "| build | whole answer (median s) | first token (median s) | statement checks (median s) "
        "| judging the copies too would add (median s) |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['label']} | {r['median_whole_s']} | {r['median_first_token_s']} | "
            f"{r['median_verification_s']} | {r['median_verification_copies_judged_s']} |"
        )
    lines += ["", "Per question (first build):", ""]
    lines += [
        "| question | shape | whole (s) | first token (s) | checks (s) | judging the copies would add (s) "
        "| copies / statements | whole at 800 tokens (s) | first token at 800 tokens (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for q in results[0]["questions"]:
        lines.append(
            f"| {q['question']} | {q['shape']} | {q['whole_s']} | {q['first_token_s']} | "
            f"{q['verification_s']} | {q.get('verification_copies_judged_s', '–')} | "
            f"{q['copies']}/{q['statements']} | {q.get('whole_at_800_s', '–')} | "
            f"{q.get('first_token_at_800_s', '–')} |"
        )
    (out / "levers.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
