"""`lodestar eval`: run a suite and gate on it, calibrate the judge, propose new golden cases.

Heavy imports (ragas, the models) happen inside the commands, so `lodestar --help` stays fast.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from lodestar.cli import common
from lodestar.cli.common import (
    err,
    load_settings,
    out,
    progress_bar,
    user_errors,
    write_output,
)
from lodestar.core.settings import Settings

eval_app = typer.Typer(
    help="Evaluate answers against the golden set and gate on versioned thresholds.",
    invoke_without_command=True,
    no_args_is_help=False,
)

JudgeOpt = Annotated[
    str | None,
    typer.Option(
        "--judge", help="local, openai or openai_like [env LODESTAR_EVAL__JUDGE; default local]"
    ),
]


def _with_judge(settings: Settings, judge: str | None) -> Settings:
    if judge is None:
        return settings
    if judge not in ("local", "openai", "openai_like"):
        err.print(f"[red]error:[/red] unknown judge {judge!r}; use local, openai or openai_like")
        raise typer.Exit(2)
    return settings.model_copy(update={"eval": settings.eval.model_copy(update={"judge": judge})})


class _Steps:
    """A progress bar on a terminal; one plain line per step in CI logs."""

    def __init__(self, total: int, label: str) -> None:
        from rich.progress import TextColumn

        self.total, self.done, self.label = total, 0, label
        self.started = time.perf_counter()
        self.plain = not err.is_terminal
        self.progress = progress_bar(
            TextColumn("{task.fields[current]}"), transient=True, disable=self.plain
        )
        self.task = self.progress.add_task(label, total=total, current="")

    def __enter__(self) -> _Steps:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)  # type: ignore[arg-type]

    def step(self, name: str) -> None:
        """One step finished."""
        self.done += 1
        self.progress.update(self.task, advance=1, current=name)
        if self.plain:
            elapsed = time.perf_counter() - self.started
            err.print(f"{self.label}: {self.done}/{self.total} {name} ({elapsed:.0f} s)")


@eval_app.callback()
def run_eval(
    ctx: typer.Context,
    suite: Annotated[str, typer.Option("--suite", help="ci or full (eval/suites.toml)")] = "ci",
    calibrate: Annotated[
        bool,
        typer.Option("--calibrate", help="Measure the judge against eval/judge_calibration.jsonl"),
    ] = False,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="With --calibrate: statement (the evaluation's stand-alone check), context "
            "(the answer engine's check inside the answer's chat) or ragas (ragas's "
            "Faithfulness with its default prompts)",
        ),
    ] = "statement",
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Only the first N cases or items")
    ] = None,
    answerability: Annotated[
        bool,
        typer.Option(
            "--answerability",
            help="Calibrate the answer engine's answerability check on eval/answerability.jsonl",
        ),
    ] = False,
    judge: JudgeOpt = None,
    save_baseline: Annotated[
        bool,
        typer.Option(
            "--save-baseline", help="Store this run's scores as eval/baselines/SUITE.json"
        ),
    ] = False,
    golden: Annotated[
        Path | None, typer.Option("--golden", help="Golden dataset [default eval/golden.jsonl]")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Index and reports [default ./.lodestar]")
    ] = None,
    knowledge_dir: Annotated[
        Path | None, typer.Option("--knowledge-dir", help="Knowledge base [default ./knowledge]")
    ] = None,
) -> None:
    """Run a suite (default ci) and exit 1 when a threshold is missed; or calibrate the judge."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _with_judge(load_settings(data_dir, knowledge_dir), judge)
    with user_errors():
        if answerability:
            _calibrate_answerability(settings, limit)
        elif calibrate:
            _calibrate(settings, method, limit)
        else:
            _run_suite(settings, suite, golden, limit, save_baseline)


def _calibrate(settings: Settings, method: str, limit: int | None) -> None:
    from lodestar.evaluation.calibration import calibrate, ragas_default_verdict
    from lodestar.evaluation.dataset import load_calibration
    from lodestar.evaluation.judge import LlamaIndexRagasEmbedding, build_judge, judge_label

    if method not in ("statement", "context", "ragas"):
        err.print("[red]error:[/red] --method must be statement, context or ragas")
        raise typer.Exit(2)
    items = load_calibration()[:limit]
    services = common.build_services(settings)
    if method == "context":
        label = services.llm_id
        score = _context_scorer(services, items)
    else:
        label = judge_label(settings)
        llm = build_judge(settings, services.llm)
        if method == "statement":
            from lodestar.evaluation.calibration import statement_scorer
            from lodestar.evaluation.metrics.faithfulness import StatementFaithfulness

            metric = StatementFaithfulness(
                llm,
                LlamaIndexRagasEmbedding(services.embed_model),
                repeats=settings.eval.judge_repeats,
            )
            score = statement_scorer(metric)
        else:

            def score(item: Any) -> bool:
                return asyncio.run(ragas_default_verdict(llm, item))

    with _Steps(len(items), f"Calibrating {label} ({method})") as steps:
        report = calibrate(items, score, judge=label, method=method, on_step=steps.step)
    _print_calibration(settings, report, method)


def _calibrate_answerability(settings: Settings, limit: int | None) -> None:
    from ingest.pipeline import ingest_paths
    from lodestar.answering.engine import AnswerEngine
    from lodestar.evaluation.calibration import calibrate
    from lodestar.evaluation.dataset import load_answerability

    questions = load_answerability()[:limit]
    services = common.build_services(settings)
    ingest_paths([settings.knowledge_dir], services)
    engine = AnswerEngine(services)
    by_id = {q.id: q for q in questions}
    with _Steps(len(questions), "Answerability") as steps:
        report = calibrate(
            [q.as_item() for q in questions],
            lambda item: engine.answerable_probability(by_id[item.id].question),
            judge=services.llm_id,
            method="answerability",
            # Refusing an answerable question costs twice a wrong "yes": an answered question
            # still has every statement verified, a refused one has no second chance.
            false_no_cost=2.0,
            on_step=steps.step,
        )
    _print_calibration(settings, report, "answerability")


def _print_calibration(settings: Settings, report: Any, name: str) -> None:
    data = report.to_json()
    folder = settings.data_dir / "eval"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"calibration-{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    bar = f", P(yes) >= {report.threshold:g} chosen on dev" if report.threshold is not None else ""
    out.print(f"{report.judge} ({name}{bar}), {data['seconds_per_item']} s/item:")
    for split, figures in data["splits"].items():
        out.print(
            f"  {split:<5} {figures['items']} items: accuracy {figures['accuracy']:.3f}, "
            f"kappa {figures['kappa']:.3f}, balanced {figures['balanced_accuracy']:.3f}"
        )
    for kind, counts in data["per_kind"].items():
        out.print(f"  {kind:<24} {counts['right']}/{counts['total']}")
    out.print(f"  confusion (test): {data['confusion_test']}")
    err.print(f"[dim]wrote {path}[/dim]")


def _context_scorer(services: Any, items: list[Any]) -> Any:
    """The engine's own verifier (its configured LLM), asked inside an answer's chat."""
    from lodestar.answering.engine import AnswerEngine
    from lodestar.evaluation.calibration import context_scorer
    from lodestar.grounding.judge import yes_no_judge
    from lodestar.retrieval.passages import Passage

    engine = AnswerEngine(services)

    def answer_messages(question: str, passages: list[str]) -> list[Any]:
        supplied = [
            Passage(text=text, source="", title="", heading="", score=0.0, doc_type="")
            for text in passages
        ]
        return engine.messages_for(question, supplied, shape="general")

    return context_scorer(
        yes_no_judge(services.llm),
        items,
        answer_messages,
        services.embed_model.get_text_embedding_batch,
    )


def _run_suite(
    settings: Settings, name: str, golden: Path | None, limit: int | None, save: bool
) -> None:
    from ingest.pipeline import ingest_paths
    from lodestar.evaluation.dataset import load_calibration, load_controls, load_golden
    from lodestar.evaluation.gate import load_thresholds
    from lodestar.evaluation.judge import build_judge, judge_label
    from lodestar.evaluation.kits import kit_cases
    from lodestar.evaluation.report import build_report, save_baseline, write_report
    from lodestar.evaluation.runner import SuiteRunner
    from lodestar.evaluation.suites import load_suite

    suite = load_suite(name)
    thresholds = load_thresholds(name)
    cases = load_golden(golden)[:limit]
    controls = load_controls()
    services = common.build_services(settings)
    ingested = ingest_paths([settings.knowledge_dir], services)
    if not ingested.ok:
        err.print(f"[yellow]warning:[/yellow] {len(ingested.failed)} file(s) failed to ingest")
    # the interview kits the loaded golden cases call for (eval/kit_cases.jsonl)
    ids = {case.id for case in cases}
    kits = [kit for kit in kit_cases() if ids & set(kit.cases)]
    runner = SuiteRunner(services, lambda: build_judge(settings, services.llm))
    with _Steps(len(cases) + len(controls) + 1 + len(kits), f"suite {name}") as steps:
        run = runner.run(
            suite, cases, controls, on_step=steps.step, calibration=load_calibration(), kits=kits
        )
    run.judge = judge_label(settings)
    checks = thresholds.check(run)
    report = build_report(run, checks)
    json_path, md_path = write_report(report, settings.data_dir)
    if run.dataset is not None:
        run.dataset.to_jsonl(json_path.with_name("ragas_dataset.jsonl"))
    out.print(md_path.read_text(encoding="utf-8"), markup=False, highlight=False)
    err.print(f"[dim]wrote {json_path} and {md_path}[/dim]")
    if save:
        err.print(f"[dim]baseline saved to {save_baseline(run, report)}[/dim]")
    if not report["passed"]:
        failed = [c.name for c in checks if not c.passed]
        err.print(f"[red]evaluation gate failed:[/red] {', '.join(failed)}")
        raise typer.Exit(1)


@eval_app.command("generate")
def generate(
    size: Annotated[int, typer.Option("--size", min=1, help="Cases to propose")] = 10,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the candidate cases")
    ] = Path("eval/generated-candidates.jsonl"),
    data_dir: Annotated[Path | None, typer.Option("--data-dir")] = None,
    knowledge_dir: Annotated[Path | None, typer.Option("--knowledge-dir")] = None,
) -> None:
    """Propose golden cases from the knowledge base with ragas's TestsetGenerator.

    Needs a capable model (LODESTAR_LLM__BACKEND=openai or a strong openai_like server): the
    generator asks for long structured outputs that the bundled 1.5B model does not produce
    reliably. The candidates are for a person to review before they go into eval/golden.jsonl.
    """
    from lodestar.evaluation.generate import propose_cases

    settings = load_settings(data_dir, knowledge_dir)
    with user_errors():
        cases = propose_cases(common.build_services(settings), size)
    write_output("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), output)
    err.print(f"wrote {len(cases)} candidate case(s) to {output}; review them before use")
