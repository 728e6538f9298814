"""The retrieval quality measure: what it counts as a hit, and the figures on knowledge/."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from conftest import KNOWLEDGE, seeds_or_none
from helpers import write

from ingest.pipeline import ingest_paths
from lodestar.components.services import Services
from lodestar.evaluation.retrieval_quality import (
    HELDOUT,
    QUESTIONS,
    TUNING_USER,
    load_questions,
    measure,
    question_file,
)

ROTA = (
    "---\ntitle: On-call handbook\ndoc_type: guide\nroles: [ML Tech Lead]\n---\n"
    "# On-call handbook\n\n## Zebracorn rota\n\nEach engineer covers one week in six.\n\n"
    "## Escalation\n\nPage the secondary after fifteen minutes without an acknowledgement.\n"
)


def questions(path: Path, *cases: dict[str, object]) -> Path:
    write(path, "".join(json.dumps(case) + "\n" for case in cases))
    return path


def test_a_key_in_the_heading_counts_because_the_model_reads_the_heading(
    tmp_path: Path, make_services: Callable[..., Services]
) -> None:
    write(tmp_path / "kb" / "oncall.md", ROTA)
    services = make_services()
    ingest_paths([tmp_path / "kb"], services)
    path = questions(
        tmp_path / "q.jsonl",
        {
            "id": "a",
            "question": "How often is each engineer on the zebracorn rota?",
            "style": "user",
            "keys": ["Zebracorn rota", "one week in six"],
        },
        {
            "id": "b",
            "question": "How long before an escalation pages the secondary engineer?",
            "style": "user",
            "keys": ["fifteen minutes", "no such text"],
        },
        {
            "id": "c",
            "question": "What is the capital of Australia?",
            "style": "out_of_scope",
            "keys": [],
        },
    )
    report = measure(services, questions=path)
    assert report.hits["user"] == 1
    assert report.misses == ["b: How long before an escalation pages the secondary engineer?"]
    assert (report.out_of_scope_refused, report.out_of_scope_total) == (1, 1)
    assert report.wrongly_refused == []


def test_the_budget_limits_what_counts(
    tmp_path: Path, make_services: Callable[..., Services]
) -> None:
    write(tmp_path / "kb" / "oncall.md", ROTA)
    services = make_services()
    ingest_paths([tmp_path / "kb"], services)
    path = questions(
        tmp_path / "q.jsonl",
        {
            "id": "a",
            "question": "How often is each engineer on the zebracorn rota?",
            "style": "user",
            "keys": ["one week in six", "fifteen minutes"],
        },
    )
    assert measure(services, questions=path).hit_rate == 0.0, "two passages hold the keys"


def assert_keyed_in_both_corpora(cases: list[dict[str, object]]) -> None:
    seeds = seeds_or_none()  # outside CI, without the seeds only knowledge/ is checked
    for case in cases:
        doc = (KNOWLEDGE / str(case["knowledge_doc"])).read_text()
        assert all(str(key) in doc for key in case["keys"]), case["id"]  # type: ignore[attr-defined]
        if seeds is not None:
            seed = (seeds / str(case["seed"])).read_text()
            assert all(str(key) in seed for key in case["keys"]), case["id"]  # type: ignore[attr-defined]


def test_held_out_questions_are_new_and_keyed_in_both_corpora() -> None:
    tuned = {
        str(case["question"])
        for case in load_questions(question_file(QUESTIONS))
        + load_questions(question_file(TUNING_USER))
    }
    heldout = load_questions(question_file(HELDOUT))
    answerable = [case for case in heldout if case["style"] != "out_of_scope"]
    assert len(answerable) >= 25
    assert len(heldout) - len(answerable) >= 10
    assert not tuned & {str(case["question"]) for case in heldout}
    assert_keyed_in_both_corpora(answerable)


def test_user_worded_tuning_questions_are_keyed_in_both_corpora() -> None:
    cases = load_questions(question_file(TUNING_USER))
    assert len(cases) >= 25
    assert {case["style"] for case in cases} == {"user"}
    assert len({str(case["question"]) for case in cases}) == len(cases)
    assert_keyed_in_both_corpora(cases)


def test_retrieval_quality_on_the_knowledge_base_does_not_regress(
    knowledge_index: Path, make_services: Callable[..., Services]
) -> None:
    """Floors at the figures measured for the README (eval/retrieval_*.jsonl on knowledge/)."""
    services = make_services(data_dir=knowledge_index)
    tuned = measure(services, questions=question_file(QUESTIONS))
    assert sum(tuned.hits.values()) >= 42, tuned.misses
    assert tuned.wrongly_refused == []
    assert tuned.out_of_scope_refused >= 14
    user_worded = measure(services, questions=question_file(TUNING_USER))
    assert sum(user_worded.hits.values()) >= 24, user_worded.misses
    assert user_worded.wrongly_refused == []
    heldout = measure(services, questions=question_file(HELDOUT))
    assert sum(heldout.hits.values()) >= 35, heldout.misses
    assert len(heldout.wrongly_refused) <= 1, heldout.wrongly_refused
    assert heldout.out_of_scope_refused >= 11
