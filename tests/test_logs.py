"""Library warnings go to the data dir's log, not the terminal; LODESTAR_DEBUG shows them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lodestar.core.logs import LOG_FILE_NAME

REPO = Path(__file__).resolve().parents[1]

# Real library calls that log warnings: pypdf on a file without an EOF marker, and llama-index's
# bm25s retriever asked for more passages than it holds.
NOISY = textwrap.dedent(
    """
    import sys, warnings
    from pathlib import Path
    if sys.argv[1] == "configured":
        from lodestar.core.logs import configure_logging
        configure_logging(Path(sys.argv[2]))
    from llama_index.core.schema import TextNode
    from llama_index.retrievers.bm25 import BM25Retriever
    from ingest.loaders import load_document
    from lodestar.core.errors import DocumentError
    pdf = Path(sys.argv[2]) / "no-eof.pdf"
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.write_bytes(b"%PDF-1.4\\n1 0 obj << >> endobj\\n")
    try:
        load_document(pdf, doc_id="x", relpath="no-eof.pdf", max_bytes=10**6)
    except DocumentError as exc:
        print("failed:", exc.one_line())
    BM25Retriever.from_defaults(nodes=[TextNode(text="one passage")], similarity_top_k=5)
    warnings.warn("a library deprecation", UserWarning, stacklevel=1)
    """
)


def run_noisy(mode: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "LODESTAR_DEBUG"}
    environment.update(PYTHONPATH=str(REPO), **env)
    return subprocess.run(
        [sys.executable, "-c", NOISY, mode, str(data_dir)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=True,
    )


@pytest.mark.slow
def test_library_warnings_go_to_the_log_file_not_the_terminal(tmp_path: Path) -> None:
    unconfigured = run_noisy("plain", tmp_path / "a")
    assert "EOF marker not found" in unconfigured.stderr, "control: the libraries do warn"
    assert "requires k less than" in unconfigured.stderr

    quiet = run_noisy("configured", tmp_path / "b")
    assert quiet.stderr == ""
    assert quiet.stdout.startswith("failed: corrupt or unreadable PDF")
    log = (tmp_path / "b" / LOG_FILE_NAME).read_text()
    assert "pypdf" in log
    assert "EOF marker not found" in log
    assert "requires k less than" in log
    assert "a library deprecation" in log

    debug = run_noisy("configured", tmp_path / "c", LODESTAR_DEBUG="1")
    assert "EOF marker not found" in debug.stderr
    assert "a library deprecation" in debug.stderr


def test_configuring_twice_keeps_one_set_of_handlers(tmp_path: Path) -> None:
    import logging

    from lodestar.core.logs import configure_logging

    before = list(logging.getLogger().handlers)
    level = logging.getLogger().level
    try:
        configure_logging(tmp_path / "one", debug=False)
        configure_logging(tmp_path / "two", debug=False)
        added = [h for h in logging.getLogger().handlers if h not in before]
        assert len(added) == 2  # the log file and the guard against Python's stderr fallback
        logging.getLogger("pypdf").warning("only in the second log")
        assert not (tmp_path / "one").exists(), "the log file is created on first use only"
        assert "only in the second log" in (tmp_path / "two" / LOG_FILE_NAME).read_text()
    finally:
        for handler in logging.getLogger().handlers:
            if handler not in before:
                logging.getLogger().removeHandler(handler)
                handler.close()
        logging.getLogger().setLevel(level)
        logging.captureWarnings(False)
