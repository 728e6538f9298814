"""SIGKILL in the middle of an ingest, then a re-run, gives the same index as one clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaClientSettings
from helpers import write

pytestmark = [pytest.mark.model, pytest.mark.slow]


def _corpus(root: Path, docs: int = 24) -> Path:
    for i in range(docs):
        sections = "\n\n".join(
            f"## Topic {j}\n\nDocument {i} section {j}: a lead should review plans, mentor "
            f"engineers and track {i * 7 + j} metrics every sprint. " * 2
            for j in range(4)
        )
        write(root / f"doc{i:03d}.md", f"# Document {i}\n\n{sections}\n")
    return root


def _ingest_cmd(corpus: Path, data_dir: Path) -> list[str]:
    return [sys.executable, "-m", "lodestar", "ingest", str(corpus), "--data-dir", str(data_dir)]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["LODESTAR_INGEST__COMMIT_EVERY"] = "4"
    env["LODESTAR_EMBEDDING__BATCH_SIZE"] = "8"
    return env


def _snapshot(data_dir: Path) -> dict[str, tuple[str, str]]:
    client = chromadb.PersistentClient(
        path=str(data_dir / "chroma"), settings=ChromaClientSettings(anonymized_telemetry=False)
    )
    data = client.get_collection("lodestar").get(include=["documents", "metadatas"])
    ids = data["ids"]
    assert len(ids) == len(set(ids)), "duplicate passage ids"
    return {
        pid: (str(meta["document_id"]), str(text))
        for pid, meta, text in zip(ids, data["metadatas"], data["documents"], strict=True)
    }


def test_sigkill_mid_ingest_then_rerun_equals_a_clean_run(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "kb")
    clean_dir, crashed_dir = tmp_path / "clean", tmp_path / "crashed"
    subprocess.run(_ingest_cmd(corpus, clean_dir), check=True, env=_env(), capture_output=True)
    expected = _snapshot(clean_dir)
    assert len({doc for doc, _ in expected.values()}) == 24

    proc = subprocess.Popen(
        _ingest_cmd(corpus, crashed_dir),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    docstore = crashed_dir / "docstores" / "kb.json"
    deadline = time.monotonic() + 300
    # Kill as soon as the first slice is committed: Chroma and the docstore hold part of the work.
    while not docstore.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "ingest finished before it could be killed; make the corpus bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    partial = _snapshot(crashed_dir)
    assert 0 < len(partial) < len(expected), "the kill did not land in the middle of the ingest"

    rerun = subprocess.run(
        _ingest_cmd(corpus, crashed_dir), env=_env(), capture_output=True, text=True, check=True
    )
    assert "0 failed" in rerun.stdout
    assert _snapshot(crashed_dir) == expected

    again = subprocess.run(
        _ingest_cmd(corpus, crashed_dir), env=_env(), capture_output=True, text=True, check=True
    )
    assert "0 chunks embedded" in again.stdout
