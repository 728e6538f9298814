"""The CLI contract: ingest summary and exit codes, status, retrieve --json, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import write
from typer.testing import CliRunner

from lodestar.cli.main import app

pytestmark = pytest.mark.model
runner = CliRunner()


def lodestar(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_seeds_acceptance_ingest_retrieve_reingest(tmp_path: Path, seeds: Path) -> None:
    data = str(tmp_path / "x")
    code, out, _ = lodestar("ingest", str(seeds), "--data-dir", data)
    assert code == 0, out
    assert "5 files seen, 5 added" in out

    question = "What salary range is typical for an ML Engineering Team Lead?"
    code, out, _ = lodestar("retrieve", question, "--data-dir", data, "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["question"] == question
    assert len(payload["passages"]) == 5
    for passage in payload["passages"]:
        assert set(passage) == {"text", "source", "title", "heading", "score", "doc_type"}
        assert isinstance(passage["score"], float)
    assert any("$172,150" in p["text"] and "$212,400" in p["text"] for p in payload["passages"])

    code, out, _ = lodestar("ingest", str(seeds), "--data-dir", data)
    assert code == 0
    assert "0 chunks embedded" in out

    code, out, _ = lodestar("status", "--data-dir", data)
    assert code == 0
    assert "local:all-MiniLM-L6-v2" in out
    assert "seeds (5 docs)" in out


def test_partial_failure_exits_1_with_a_line_per_bad_file(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    write(kb / "good.md", "# Good\n\nMentor new leads weekly.\n")
    write(kb / "bad.pdf", b"%PDF-1.4 broken")
    code, out, err = lodestar("ingest", str(kb), "--data-dir", str(tmp_path / "d"))
    assert code == 1
    assert "failed:" in err
    assert "bad.pdf" in err
    assert "corrupt" in err
    assert "1 added" in out
    assert "1 failed" in out
    assert "Traceback" not in out + err


def test_default_path_is_the_knowledge_dir(tmp_path: Path) -> None:
    kb = tmp_path / "my-kb"
    write(kb / "a.md", "# A\n\nDelegation frees the lead's time.\n")
    code, out, _ = lodestar("ingest", "--knowledge-dir", str(kb), "--data-dir", str(tmp_path / "d"))
    assert code == 0
    assert "Ingested my-kb" in out


def test_errors_are_messages_not_tracebacks(tmp_path: Path) -> None:
    code, _, err = lodestar("retrieve", "anything", "--data-dir", str(tmp_path / "empty"))
    assert code == 2
    assert "is empty" in err
    assert "lodestar ingest" in err
    code, _, err = lodestar("ingest", str(tmp_path / "missing"), "--data-dir", str(tmp_path / "d"))
    assert code == 2
    assert "no such file or folder" in err
    assert "Traceback" not in err


def test_retrieve_says_when_a_question_is_not_covered(knowledge_index: Path) -> None:
    code, out, err = lodestar(
        "retrieve", "What is the capital of France?", "--json", "--data-dir", str(knowledge_index)
    )
    assert code == 0
    assert json.loads(out)["passages"] == []
    assert "not covered by the knowledge base" in err
    assert "closest topics:" in err
