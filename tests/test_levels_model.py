"""`lodestar levels` on the starter knowledge base with the real bundled model and index."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from typer.testing import CliRunner

from lodestar.answering.citations import Citation
from lodestar.cli import common
from lodestar.cli.main import app
from lodestar.components.llm.factory import build_llm
from lodestar.components.services import Services
from lodestar.core.settings import LLMSettings, Settings
from lodestar.levels import LevelCell, ungrounded_cell_terms

pytestmark = [pytest.mark.model, pytest.mark.slow]

MODELS_DIR = REPO / ".lodestar" / "models"
FOUR = {"Scalable ML Systems", "Best Practices", "Project Management", "Culture Fit"}
LEVELS = ["junior", "senior", "lead"]
_STOP = {"about", "their", "these", "those", "which", "while", "where", "other", "engineer"}


def key_terms(text: str) -> list[str]:
    """The words of five letters or more that carry a cell's meaning."""
    words = re.findall(r"[a-z][a-z-]{4,}", text.lower())
    return [w for w in words if w.rstrip("s") not in _STOP]


def test_levels_json_on_the_starter_knowledge_base(
    knowledge_index: Path, tmp_path: Path, embed_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(knowledge_index, data_dir, ignore=shutil.ignore_patterns("levels"))
    llm = build_llm(Settings(llm=LLMSettings(models_dir=MODELS_DIR)))
    services = Services(Settings(data_dir=data_dir), embed_model=embed_model, llm=llm)
    monkeypatch.setattr(common, "build_services", lambda settings: services)
    result = CliRunner().invoke(app, ["levels", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["levels"] == LEVELS
    categories = {row["category"] for row in data["rows"]}
    assert categories >= FOUR
    for category in FOUR:
        rows = [row for row in data["rows"] if row["category"] == category]
        for level in LEVELS:
            assert any(row["cells"][level]["described"] for row in rows), (category, level)
    for row in data["rows"]:
        for level in LEVELS:
            cell = row["cells"][level]
            if not cell["described"]:
                continue
            source = cell["source"]["text"]
            assert cell["line"] in source  # the passage holding this level's line
            terms = key_terms(cell["text"])
            held = [t for t in terms if t[:5] in source.lower()]
            assert len(held) >= 0.75 * len(terms), (cell["text"], set(terms) - set(held))
            shown = LevelCell(level=level, text=cell["text"], source=Citation(**cell["source"]))
            assert ungrounded_cell_terms(shown) == [], cell["text"]
    print(f"{data['not_described']} of {data['cells']} cells not described")  # noqa: T201

    # built once: shown again from the cache, without the model
    again = CliRunner().invoke(app, ["levels", "--format", "json"])
    assert again.exit_code == 0, again.stderr
    assert "0 written now, 48 from the cache" in again.stderr
    cached = json.loads(again.stdout)["rows"]
    texts = [[row["cells"][lv]["text"] for lv in LEVELS] for row in data["rows"]]
    assert [[row["cells"][lv]["text"] for lv in LEVELS] for row in cached] == texts
