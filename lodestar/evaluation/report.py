"""Run reports: JSON and Markdown in the data dir, compared with the stored baseline."""

from __future__ import annotations

import json
import math
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lodestar.components.llm.llama_runtime import default_threads
from lodestar.evaluation.dataset import eval_dir
from lodestar.evaluation.gate import Check
from lodestar.evaluation.results import SuiteRun


def baseline_path(suite: str) -> Path:
    """The versioned baseline of `suite` (the aggregates of an accepted run)."""
    return eval_dir() / "baselines" / f"{suite}.json"


def load_baseline(suite: str) -> dict[str, Any] | None:
    """The stored baseline, or None before one is saved."""
    path = baseline_path(suite)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def save_baseline(run: SuiteRun, report: dict[str, Any]) -> Path:
    """Store this run's aggregates as the suite's baseline."""
    path = baseline_path(run.suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    baseline = {
        key: report[key] for key in ("suite", "generator", "judge", "when", "seconds", "aggregates")
    }
    baseline["controls"] = {c["id"]: c["faithfulness"] for c in report["controls"]}
    path.write_text(json.dumps(baseline, indent=2) + "\n", encoding="utf-8")
    return path


def build_report(run: SuiteRun, checks: list[Check]) -> dict[str, Any]:
    """The whole run as plain data: scores, per-case results, checks, baseline deltas."""
    report = run.to_json()
    baseline = load_baseline(run.suite)
    report["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["machine"] = {"cpu_count": default_threads(), "python": platform.python_version()}
    report["checks"] = [vars(c) for c in checks]
    report["passed"] = all(c.passed for c in checks)
    report["baseline"] = baseline
    report["delta"] = {
        name: _delta(value, (baseline or {}).get("aggregates", {}).get(name))
        for name, value in report["aggregates"].items()
    }
    return report


def write_report(report: dict[str, Any], data_dir: Path) -> tuple[Path, Path]:
    """Write `report.json` and `report.md` under DATA_DIR/eval/<time>-<suite>/; return both."""
    stamp = report["when"].replace(":", "").replace("+0000", "Z")
    folder = data_dir / "eval" / f"{stamp}-{report['suite']}"
    folder.mkdir(parents=True, exist_ok=True)
    json_path, md_path = folder / "report.json", folder / "report.md"
    json_path.write_text(json.dumps(report, indent=2, default=_plain) + "\n", encoding="utf-8")
    md_path.write_text(render_markdown(report), encoding="utf-8")
    return json_path, md_path


def render_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: verdict, checks, aggregates with deltas, controls, cases."""
    sections = (
        _gate_section,
        _scores_section,
        _calibration_section,
        _kits_section,
        _modes_section,
        _controls_section,
        _cases_section,
        _unsupported_section,
    )
    lines = [line for section in sections for line in section(report)]
    return "\n".join(lines) + "\n"


def _gate_section(report: dict[str, Any]) -> list[str]:
    verdict = "PASSED" if report["passed"] else "FAILED"
    lines = [
        f"# Lodestar evaluation: suite `{report['suite']}`: {verdict}",
        "",
        f"- when: {report['when']}; duration {report['seconds']:.0f} s on "
        f"{report['machine']['cpu_count']} cores",
        f"- generator: `{report['generator']}`",
        f"- judge: `{report['judge']}` (temperature 0, fixed seed)",
        f"- cases: {len(report['cases'])}, judged: {sum(c['judged'] for c in report['cases'])}, "
        f"controls: {len(report['controls'])}",
        "",
        "## Gate",
        "",
        "| check | value | threshold | result |",
        "|---|---|---|---|",
    ]
    for check in report["checks"]:
        mark = "pass" if check["passed"] else "**FAIL**"
        lines.append(
            f"| {check['name']} | {_fmt(check['value'])} | {check['op']} {check['threshold']:g} | {mark} |"
        )
    return lines


def _scores_section(report: dict[str, Any]) -> list[str]:
    lines = ["", "## Scores", "", "| metric | value | baseline | delta |", "|---|---|---|---|"]
    base = (report.get("baseline") or {}).get("aggregates", {})
    for name, value in report["aggregates"].items():
        lines.append(
            f"| {name} | {_fmt(value)} | {_fmt(base.get(name))} | {_fmt(report['delta'][name], signed=True)} |"
        )
    return lines


def _calibration_section(report: dict[str, Any]) -> list[str]:
    calibration = report.get("calibration")
    if not calibration:
        return []
    return [
        "",
        "## Judge against hand labels (calibration test half)",
        "",
        f"{calibration.get('items', 0)} items never used to choose a threshold: accuracy "
        f"{_fmt(calibration.get('accuracy'))}, Cohen's kappa {_fmt(calibration.get('kappa'))}, "
        f"balanced accuracy {_fmt(calibration.get('balanced_accuracy'))} at P(yes) >= "
        f"{calibration.get('threshold')} (chosen on the dev half).",
    ]


def _kits_section(report: dict[str, Any]) -> list[str]:
    kits = report.get("kits") or []
    if not kits:
        return []
    lines = [
        "",
        "## Interview kits (golden requests for interview questions, eval/kit_cases.jsonl)",
        "",
        "| kit | made | schema valid | most similar pair | signals supported | "
        "figures/names not in source | questions/min |",
        "|---|---|---|---|---|---|---|",
    ]
    for kit in kits:
        lines.append(
            f"| {kit['role']} ({kit['level']}) | {kit['made']} of {kit['asked']} | "
            f"{_fmt(kit['schema_valid'])} | {_fmt(kit['max_similarity'])} | "
            f"{_fmt(kit['signals_supported'])} ({kit['signals']} signals) | "
            f"{len(kit['ungrounded_terms'])} | {kit['questions_per_minute']:g} |"
        )
    return lines


def _modes_section(report: dict[str, Any]) -> list[str]:
    modes = report.get("modes") or {}
    if not modes:
        return []
    lines = [
        "",
        "## Raw and displayed answers",
        "",
        "The engine's verifier and this judge are the same bundled model, so the judged "
        "faithfulness of the displayed answer is partly circular; the raw answer's is not "
        "filtered by it. The deterministic rows are independent of both.",
        "",
        f"- faithfulness: raw {_fmt(report['aggregates'].get('faithfulness_raw'))}, "
        f"displayed {_fmt(report['aggregates'].get('faithfulness'))}",
        f"- figures/names in displayed answers that no supplied passage contains: "
        f"{_fmt(report['aggregates'].get('ungrounded_terms'))}",
        "",
        "| shown with | key facts | refusal accuracy | false refusals | citation validity | faithfulness |",
        "|---|---|---|---|---|---|",
    ]
    for mode, scores in modes.items():
        lines.append(
            f"| {mode} | {_fmt(scores['key_fact_recall'])} | {_fmt(scores['refusal_accuracy'])} | "
            f"{_fmt(scores['false_refusal_rate'])} | {_fmt(scores['citation_validity'])} | "
            f"{_fmt(scores['faithfulness'])} |"
        )
    return lines


def _controls_section(report: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## Controls (planted answers)",
        "",
        "| control | expected | faithfulness |",
        "|---|---|---|",
    ]
    for control in report["controls"]:
        lines.append(
            f"| {control['id']} | {control['expected']} | {_fmt(control['faithfulness'])} |"
        )
    return lines


def _cases_section(report: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## Cases",
        "",
        "| case | category | refused | table | key facts | cited | hit@5 | ctx recall | faithful | relevancy | s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in report["cases"]:
        refused = ("yes" if case["refused"] else "no") + (
            "" if case["refused"] == case["must_refuse"] else " (wrong)"
        )
        if case["error"]:
            refused = f"error: {case['error'][:60]}"
        lines.append(
            f"| {case['id']} | {case['category']} | {refused} | "
            f"{_fmt(case['table'])} | {_fmt(case['key_fact_recall'])} | "
            f"{_fmt(case['citation_valid'])} | {_fmt(case['hit_at_5'])} | "
            f"{_fmt(case['context_recall'])} | {_fmt(case['faithfulness'])} | "
            f"{_fmt(case['answer_relevancy'])} | {case['seconds']:.0f} |"
        )
    return lines


def _unsupported_section(report: dict[str, Any]) -> list[str]:
    unsupported = [
        (case["id"], v["statement"])
        for case in report["cases"]
        for v in case["faithfulness_verdicts"]
        if not v["supported"]
    ]
    if not unsupported:
        return []
    return ["", "## Statements the judge found unsupported", ""] + [
        f"- {case_id}: {text}" for case_id, text in unsupported
    ]


def _fmt(value: Any, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float | int):
        return f"{value:+.3f}" if signed else f"{value:.3f}"
    return str(value)


def _delta(value: float | None, base: float | None) -> float | None:
    if value is None or base is None:
        return None
    return round(value - base, 4)


def _plain(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else str(value)
