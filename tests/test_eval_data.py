"""The evaluation's versioned inputs hold together: cases quote the knowledge base exactly."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from collections import Counter
from pathlib import Path

import pytest
from conftest import KNOWLEDGE

from lodestar.answering.compare import compared_roles
from lodestar.core.errors import ConfigurationError
from lodestar.core.settings import get_settings
from lodestar.evaluation.dataset import (
    GoldenCase,
    contains_fact,
    eval_dir,
    load_answerability,
    load_calibration,
    load_controls,
    load_golden,
    read_jsonl,
)
from lodestar.evaluation.results import SuiteRun
from lodestar.grounding.statements import split_statements


def _body(name: str) -> str:
    text = (KNOWLEDGE / name).read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", text.split("---", 2)[2])


def _all_bodies() -> str:
    return " ".join(_body(p.name) for p in sorted(KNOWLEDGE.glob("*.md")))


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_golden_set_covers_every_category_the_gate_needs() -> None:
    cases = load_golden()
    counts = Counter(c.category for c in cases)
    assert len(cases) >= 40
    assert counts["unanswerable"] >= 6
    assert counts["adversarial"] >= 3
    assert {"factual", "advice", "multi_doc", "comparison", "interview"} <= counts.keys()
    assert all(c.must_refuse for c in cases if c.category == "unanswerable")


def test_comparison_cases_name_two_roles_the_knowledge_base_profiles() -> None:
    """Each is answered as a table: its question names two roles the documents are tagged for."""
    roles = sorted(
        {
            role
            for path in KNOWLEDGE.glob("*.md")
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("roles:")
            for role in json.loads(line.removeprefix("roles:"))
        }
    )
    comparisons = [c for c in load_golden() if c.category == "comparison"]
    assert len(comparisons) >= 5
    pairs = set()
    for case in comparisons:
        pair = compared_roles(case.question, roles)
        assert pair is not None, case.id
        assert not case.must_refuse, case.id
        pairs.add(frozenset(pair))
    assert len(pairs) == len(comparisons)  # a different pair each


def test_golden_references_are_verbatim_and_hold_the_key_facts() -> None:
    for case in load_golden():
        bodies = " ".join(_body(doc.removeprefix("knowledge/")) for doc in case.reference_doc_ids)
        for context in case.reference_contexts:
            assert _squash(context) in bodies, (case.id, context[:60])
        for fact in case.key_facts:
            assert any(contains_fact(ctx, fact) for ctx in case.reference_contexts), (case.id, fact)
        if case.must_refuse:
            assert not case.key_facts, case.id


def test_calibration_set_is_hard_and_quotes_the_knowledge_base() -> None:
    items = load_calibration()
    kinds = Counter(i.kind for i in items)
    assert len(items) >= 40
    for kind in (
        "verbatim",
        "paraphrase",
        "partial",
        "contradicted",
        "number_shift",
        "quantifier_flip",
        "world_true_absent",
    ):
        assert kinds[kind] >= 4, kind
    assert all(i.supported == (i.kind in ("verbatim", "paraphrase")) for i in items)
    bodies = _all_bodies()
    assert all(_squash(i.context) in bodies for i in items)


def _halves_are_stratified(records: list, kind_of) -> None:  # type: ignore[type-arg, no-untyped-def]
    by_kind: dict[str, Counter[str]] = {}
    for record in records:
        by_kind.setdefault(kind_of(record), Counter())[record.split] += 1
    for kind, halves in by_kind.items():
        assert abs(halves["dev"] - halves["test"]) <= 1, kind


def test_calibration_halves_are_fixed_and_stratified_by_kind() -> None:
    items = load_calibration()
    assert {i.split for i in items} == {"dev", "test"}
    _halves_are_stratified(items, lambda i: i.kind)


def test_answerability_questions_quote_their_documents_and_are_split() -> None:
    questions = load_answerability()
    assert sum(q.answerable for q in questions) >= 20
    assert sum(not q.answerable for q in questions) >= 20
    for q in questions:
        if q.answerable:
            bodies = " ".join(_body(doc.removeprefix("knowledge/")) for doc in q.doc_ids)
            assert _squash(q.evidence) in bodies, q.id
        else:
            assert not q.doc_ids, q.id
            assert not q.evidence, q.id
    _halves_are_stratified(questions, lambda q: f"{q.answerable}:{q.kind}")
    golden = {c.question for c in load_golden()}
    assert not golden & {q.question for q in questions}


def test_controls_plant_unsupported_lines_in_their_answers() -> None:
    controls = load_controls()
    assert {c.expected for c in controls} == {"faithful", "unfaithful"}
    bodies = _all_bodies()
    for control in controls:
        assert all(_squash(ctx) in bodies for ctx in control.contexts), control.id
        statements = [s.text for s in split_statements(control.answer)]
        assert all(line in control.answer for line in control.fabricated), control.id
        if control.expected == "unfaithful":
            assert len(control.fabricated) >= 0.6 * len(statements), control.id


def test_suites_and_thresholds_name_real_cases_and_metrics() -> None:
    ids = {c.id for c in load_golden()}
    suites = tomllib.loads((eval_dir() / "suites.toml").read_text(encoding="utf-8"))
    thresholds = tomllib.loads((eval_dir() / "thresholds.toml").read_text(encoding="utf-8"))
    assert set(suites["ci"]["judged"]) <= ids
    assert len(suites["ci"]["judged"]) >= 8
    assert {"ci", "full"} <= thresholds.keys()
    assert "faithfulness" in thresholds["ci"]["min"]
    measured = SuiteRun("ci", "g", "j", cases=[], controls=[], seconds=0.0).aggregates()
    for suite in ("ci", "full"):
        gated = thresholds[suite]["min"].keys() | thresholds[suite]["max"].keys()
        assert gated <= measured.keys(), suite


def test_a_bad_line_is_reported_with_its_place(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "golden.jsonl"
    path.write_text('{"id": "x", "category": "factual"}\n', encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"golden.jsonl:1: not a valid GoldenCase"):
        read_jsonl(path, GoldenCase)


def test_the_eval_folder_is_the_checkouts_or_the_configured_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = eval_dir()
    assert (checkout / "golden.jsonl").is_file()
    copy = tmp_path / "my-eval"
    shutil.copytree(checkout, copy)
    monkeypatch.setenv("LODESTAR_EVAL__DIR", str(copy))
    get_settings.cache_clear()
    assert eval_dir() == copy
    assert [c.id for c in load_golden()] == [
        c.id for c in read_jsonl(copy / "golden.jsonl", GoldenCase)
    ]


def test_eval_says_where_it_looked_when_there_is_no_eval_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from lodestar.cli.main import app

    missing = tmp_path / "no-eval"
    monkeypatch.setenv("LODESTAR_EVAL__DIR", str(missing))
    get_settings.cache_clear()
    with pytest.raises(ConfigurationError, match="no eval folder at") as raised:
        load_golden()
    assert "LODESTAR_EVAL__DIR" in (raised.value.hint or "")
    result = CliRunner().invoke(app, ["eval", "--data-dir", str(tmp_path / "data")])
    assert result.exit_code != 0
    output = " ".join((result.stdout + result.stderr).split())
    assert f"no eval folder at {missing}" in output
    assert "LODESTAR_EVAL__DIR" in output
