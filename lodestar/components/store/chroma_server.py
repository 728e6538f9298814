"""A Chroma server on loopback, started from the installed chromadb (for tests and benchmarks).

The chromadb package ships the server as `chroma run`; in a team deployment it runs on its own
host (see the README, "Deploying for a team"), and Lodestar reaches it by configuration alone.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lodestar.core.errors import StoreUnavailableError

# `chroma run` is chromadb.cli.cli:app; calling it through this interpreter avoids depending on
# the console script being on the PATH.
_CHROMA_CLI = "import sys; from chromadb.cli.cli import app; sys.argv[0] = 'chroma'; app()"


@dataclass
class ChromaServer:
    """A running server: where it listens and its process."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        """Base URL of the server's HTTP API."""
        return f"http://{self.host}:{self.port}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def heartbeat(url: str, timeout: float = 1.0) -> bool:
    """Whether a Chroma server answers at `url`."""
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=timeout) as response:
            return "nanosecond heartbeat" in json.loads(response.read())
    except (OSError, ValueError):
        return False


@contextmanager
def run_chroma_server(
    path: Path, port: int | None = None, startup_timeout: float = 30.0
) -> Iterator[ChromaServer]:
    """Start `chroma run --path PATH` on 127.0.0.1, wait for its heartbeat, stop it on exit."""
    path.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = path.with_name(path.name + ".log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", _CHROMA_CLI, "run", "--path", str(path)]
            + ["--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = ChromaServer("127.0.0.1", port, process, log)
    try:
        deadline = time.monotonic() + startup_timeout
        while not heartbeat(server.url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise StoreUnavailableError(
                    f"the Chroma server on port {port} did not start "
                    f"(exit code {process.poll()}); its log is {log}",
                    hint="is the port taken, or the chromadb install incomplete?",
                )
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
