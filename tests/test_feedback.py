"""Feedback store (append-only SQLite), its export to eval cases, and upload file names."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingest.uploads import safe_filename
from lodestar.cli.main import app
from lodestar.components.store.feedback import FeedbackStore


def answer(text: str, *sources: str) -> dict[str, object]:
    return {
        "question": "How big is an ML team?",
        "standalone_question": "How big is an ML team?",
        "answer": text,
        "refused": False,
        "backend": "local",
        "model": "local:qwen",
        "citations": [
            {"n": n, "source": s, "title": "T", "heading": "H", "text": "x", "score": 0.5}
            for n, s in enumerate(sources, start=1)
        ],
    }


def test_feedback_is_append_only_and_exported_as_eval_cases(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = FeedbackStore(data / "feedback.sqlite3")
    store.add(answer("Five to twenty engineers [1].", "knowledge/ml-engineering-manager.md"), 1)
    bad = store.add(
        answer("About 50 [1][2].", "knowledge/a.md", "knowledge/b.md"), -1, "  wrong figure "
    )

    with sqlite3.connect(store.path) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute("DELETE FROM feedback")
    with sqlite3.connect(store.path) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE feedback SET rating = 1")
    with pytest.raises(ValueError, match="rating"):
        store.add(answer("x"), 0)
    assert [i.rating for i in store.items()] == [1, -1]

    out = tmp_path / "candidates.jsonl"
    result = CliRunner().invoke(
        app, ["feedback", "export", "--output", str(out), "--data-dir", str(data)]
    )
    assert result.exit_code == 0, result.output
    cases = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(cases) == 1
    case = cases[0]
    assert case["id"] == f"feedback-{bad:04d}"
    assert case["question"] == "How big is an ML team?"
    assert case["notes"] == "wrong figure"
    assert case["feedback"]["cited_doc_ids"] == ["a", "b"]
    assert case["feedback"]["answer"] == "About 50 [1][2]."
    # the golden dataset's keys, with the reference left for a person to write
    for key in ("category", "reference_answer", "reference_doc_ids", "key_facts", "must_refuse"):
        assert key in case
    assert case["needs_review"] is True


def test_export_with_no_feedback_is_empty_not_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["feedback", "export", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\notes.TXT", "notes.txt"),
        (".hidden.md", "hidden.md"),
        ("team plan (v2).pdf", "team plan _v2.pdf"),
        ("/abs/path/Plan.MD", "Plan.md"),
        ("....pdf", "document.pdf"),
        ("ｆｕｌｌｗｉｄｔｈ.md", "fullwidth.md"),
    ],
)
def test_upload_names_are_reduced_to_a_safe_base_name(name: str, safe: str) -> None:
    assert safe_filename(name) == safe
