"""Where log records and library warnings go: a log file in the data dir, never the terminal.

Libraries report what they tolerate (pypdf's "EOF marker not found", bm25s lowering k on a small
index) through `logging` and `warnings`; without a handler Python prints those among Lodestar's
own lines. Entry points call `configure_logging` once: records and warnings are appended to
`DATA_DIR/lodestar.log`, and with LODESTAR_DEBUG=1 they are shown on stderr as well.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from pathlib import Path

LOG_FILE_NAME = "lodestar.log"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def debug_enabled() -> bool:
    """True when LODESTAR_DEBUG asks for tracebacks and library logs on the terminal."""
    return bool(os.environ.get("LODESTAR_DEBUG"))  # as the CLI's traceback switch reads it


class _LodestarHandler(logging.Handler):
    """Marks the handlers this module installed, so configuring again replaces them."""


class _LogFileHandler(logging.FileHandler, _LodestarHandler):
    """A log file that is created (with its folder) only when the first record arrives."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8", delay=True)

    def _open(self) -> io.TextIOWrapper:
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()


class _DebugStreamHandler(logging.StreamHandler, _LodestarHandler):
    """stderr, looked up at each record so that a test runner's capture sees it."""

    def emit(self, record: logging.LogRecord) -> None:
        self.setStream(sys.stderr)
        super().emit(record)


class _NullHandler(logging.NullHandler, _LodestarHandler):
    """Keeps Python's last-resort handler away when there is no log file."""


def configure_logging(data_dir: Path | None, *, debug: bool | None = None) -> None:
    """Send log records and warnings to `data_dir`'s log file, and to stderr when debugging."""
    debug = debug_enabled() if debug is None else debug
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _LodestarHandler)]:
        root.removeHandler(old)
        old.close()
    formatter = logging.Formatter(_FORMAT)
    handlers: list[logging.Handler] = []
    if data_dir is not None:
        handlers.append(_LogFileHandler(data_dir / LOG_FILE_NAME))
    if debug:
        handlers.append(_DebugStreamHandler())
    else:
        # With no handler at all, Python's last-resort handler would print warnings to stderr.
        handlers.append(_NullHandler())
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(logging.INFO if debug else logging.WARNING)
    logging.captureWarnings(True)
