"""A normal (non-editable) install works outside the checkout: `ingest`, `ask` and `ui` run from
an empty directory with the code, the prompts and the app's entry file all taken from the wheel.

The wheel is built from a copy of the checkout and installed with `--no-deps` into a folder of
its own (`pip install --target`); the commands run with that folder first on PYTHONPATH, so the
project's installed dependencies are still found but the checkout is not (the tests assert it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import KNOWLEDGE, REPO
from helpers import free_port, running_server

# The joined bundled model (scripts/bootstrap.py puts it there): data, not code under test.
MODELS_DIR = REPO / ".lodestar" / "models"
# Left out of the copy the wheel is built from: environments, caches, data and earlier builds.
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", ".lodestar", "__pycache__", "*.egg-info", "build", "dist", ".*_cache",
    "test-artifacts",
)  # fmt: skip
DOCS = ("ml-engineering-manager.md", "ml-team-lead-salaries.md")
QUESTION = "How many engineers does an ML Engineering Manager lead?"


@dataclass
class Installed:
    """A wheel installed into `site`, and an empty directory to run commands from."""

    wheel: Path
    site: Path
    cwd: Path

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a command: the install first on the path; no LODESTAR_* setting
        inherited from the tests, so every default (./.lodestar, ./knowledge) is the cwd's."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("LODESTAR_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.site), env.get("PYTHONPATH")]))
        return {**env, **extra}

    def run(self, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
        """`python -m <args>` from the empty directory."""
        return subprocess.run(
            [sys.executable, *args],
            cwd=self.cwd,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def pip_ok(command: list[str]) -> None:
    """Run a pip command; its output is the failure message."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The project built as a wheel (from a copy, so the checkout gets no build/ folder) and
    installed without dependencies into a folder of its own."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=NOT_SOURCES)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    wheels = root / "wheels"
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", str(source), "-w", str(wheels)]
    pip_ok(build)
    (wheel,) = wheels.glob("lodestar-*.whl")
    site = root / "site"
    pip_ok([*pip, "install", "--no-deps", "--no-compile", "--target", str(site), str(wheel)])
    cwd = root / "empty"
    cwd.mkdir()
    return Installed(wheel=wheel, site=site, cwd=cwd)


@pytest.fixture(scope="module")
def ingested(installed: Installed) -> subprocess.CompletedProcess:
    """`lodestar ingest docs` from the empty directory (a folder of two markdown files)."""
    docs = installed.cwd / "docs"
    docs.mkdir()
    for name in DOCS:
        shutil.copy(KNOWLEDGE / name, docs / name)
    return installed.run("-m", "lodestar", "ingest", "docs")


def test_the_wheel_ships_every_prompt_file_as_it_is_in_prompts(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        shipped = {
            Path(name).name: wheel.read(name)
            for name in wheel.namelist()
            if name.startswith("lodestar/prompts/")
        }
    assert shipped == {p.name: p.read_bytes() for p in (REPO / "prompts").glob("*.md")}


# Imports the app's modules (not its entry file, which would run it) and reports every module of
# the project that Python loaded, the prompts folder, a rendered prompt and the app's entry file.
PROBE = """
import importlib, importlib.util, json, pkgutil, sys
import ingest.pipeline, lodestar.app
from lodestar.core.prompts import PROMPTS_DIR, render_prompt
for module in pkgutil.iter_modules(lodestar.app.__path__, "lodestar.app."):
    if module.name != "lodestar.app.streamlit_app":
        importlib.import_module(module.name)
project = [m for n, m in list(sys.modules.items()) if n.split(".")[0] in ("lodestar", "ingest")]
files = [m.__file__ for m in project if getattr(m, "__file__", None)]
print(json.dumps({
    "files": files,
    "prompts": str(PROMPTS_DIR),
    "system": render_prompt("system"),
    "app": importlib.util.find_spec("lodestar.app.streamlit_app").origin,
}))
"""


def test_the_installed_package_is_used_not_the_checkout(installed: Installed) -> None:
    result = installed.run("-c", PROBE)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert any(f.endswith("lodestar/app/chat.py") for f in found["files"])
    for path in [*found["files"], found["prompts"], found["app"]]:
        assert Path(path).is_relative_to(installed.site), path
    assert found["system"] == (REPO / "prompts" / "system.md").read_text(encoding="utf-8").strip()


def test_the_console_script_runs(installed: Installed) -> None:
    result = subprocess.run(
        [str(installed.site / "bin" / "lodestar"), "--help"],
        cwd=installed.cwd,
        env=installed.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "ingest" in result.stdout


def test_ingest_then_retrieve_from_an_empty_directory(
    installed: Installed, ingested: subprocess.CompletedProcess
) -> None:
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    assert "2 files seen, 2 added" in ingested.stdout
    assert (installed.cwd / ".lodestar").is_dir()
    result = installed.run("-m", "lodestar", "retrieve", QUESTION, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    top = json.loads(result.stdout)["passages"][0]
    assert top["source"] == "docs/ml-engineering-manager.md"
    assert "5-20 ML engineers" in top["text"]


@pytest.mark.model
def test_ask_from_an_empty_directory(
    installed: Installed, ingested: subprocess.CompletedProcess
) -> None:
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    result = installed.run(
        "-m", "lodestar", "ask", QUESTION, "--json", timeout=900,
        LODESTAR_LLM__MODELS_DIR=str(MODELS_DIR),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert answer["question"] == QUESTION
    assert not answer["refused"], answer["answer"]
    assert answer["citations"], answer["answer"]
    assert any(c["source"] == "docs/ml-engineering-manager.md" for c in answer["citations"])


def test_ui_starts_from_an_empty_directory(installed: Installed) -> None:
    """The server comes up on the app's entry file inside the installed package (no session is
    opened, so no model is loaded)."""
    port = free_port()
    command = [sys.executable, "-m", "lodestar", "ui", "--port", str(port)]
    health = f"http://127.0.0.1:{port}/_stcore/health"
    log = installed.cwd.parent / "ui.log"
    with (
        running_server(command, health, log, 120, cwd=installed.cwd, env=installed.env()),
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page,
    ):
        assert page.status == 200
