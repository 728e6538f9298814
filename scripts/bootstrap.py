"""Set up Lodestar in ./.venv: virtual environment, pinned dependencies, bundled models.

Standard library only, so it runs on a machine with nothing but Python 3.11. Every step checks
whether its work is already done (a stamp of the inputs it was done for) and skips it, so a second
run takes seconds.

    python3.11 scripts/bootstrap.py          # runtime
    python3.11 scripts/bootstrap.py --dev    # runtime + test tools
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
# torch first and pinned: a CPU wheel of 2.13.0 is on these machines; anything unpinned pulls
# the CUDA build (several GB).
TORCH = "torch==2.13.0"


def log(message: str) -> None:
    """Progress line on stderr."""
    print(f"[bootstrap] {message}", file=sys.stderr, flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    """Run a command, failing with its output visible."""
    subprocess.run([str(a) for a in args], check=True, env=env)


def stamp_matches(name: str, digest: str) -> bool:
    """Whether step `name` was already done for these inputs."""
    stamp = VENV / f".stamp-{name}"
    return stamp.exists() and stamp.read_text().strip() == digest


def write_stamp(name: str, digest: str) -> None:
    """Record that step `name` is done for these inputs."""
    (VENV / f".stamp-{name}").write_text(digest + "\n")


def digest_of(*parts: str | Path) -> str:
    """A hash of files' contents and plain strings."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.read_bytes() if isinstance(part, Path) else part.encode())
    return h.hexdigest()


def ensure_python() -> None:
    """Lodestar's pins are for CPython 3.11."""
    if sys.version_info[:2] != (3, 11):
        sys.exit(
            f"bootstrap needs Python 3.11 (this is {sys.version.split()[0]}); run it with python3.11"
        )


def ensure_venv() -> None:
    """Create .venv with pip if it is missing."""
    if PY.exists():
        return
    log(f"creating virtual environment in {VENV}")
    venv.EnvBuilder(with_pip=True, upgrade_deps=False).create(VENV)


def install_dependencies(dev: bool) -> None:
    """Install torch, then the project with constraints.txt pinning every package."""
    extras = "[dev]" if dev else ""
    inputs = (ROOT / "pyproject.toml", ROOT / "constraints.txt")
    digest = digest_of(*inputs, extras)
    # A dev install includes the runtime one.
    if stamp_matches("deps" + extras, digest) or (
        not dev and stamp_matches("deps[dev]", digest_of(*inputs, "[dev]"))
    ):
        log("dependencies up to date")
        return
    started = time.monotonic()
    log("installing dependencies (first run: a few minutes)")
    pip = [PY, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    run(*pip, TORCH)
    run(*pip, "-c", ROOT / "constraints.txt", "-e", f"{ROOT}{extras}")
    write_stamp("deps" + extras, digest)
    log(f"dependencies installed in {time.monotonic() - started:.0f}s")


def main() -> None:
    """Parse options and run each step."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--dev", action="store_true", help="also install the test tools")
    args = parser.parse_args()
    ensure_python()
    os.chdir(ROOT)
    ensure_venv()
    install_dependencies(args.dev)
    log(f"ready: {VENV / 'bin' / 'lodestar'}")


if __name__ == "__main__":
    main()
