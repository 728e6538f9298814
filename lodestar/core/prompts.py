"""Prompt templates are files in prompts/, loaded by name; `$variables` must all be supplied.

The files are package data: `lodestar/prompts` is a symlink to the top-level `prompts/` folder
(the one copy, where users read and edit them), and pyproject.toml ships `lodestar/prompts/*.md`
in the wheel, so a checkout, an editable and a normal install all read them through
importlib.resources.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from string import Template

from lodestar.core.errors import ConfigurationError

PROMPTS_DIR: Traversable = files("lodestar") / "prompts"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def prompt_names() -> list[str]:
    """Every prompt's name (the file stems), sorted."""
    return sorted(p.name[: -len(".md")] for p in PROMPTS_DIR.iterdir() if p.name.endswith(".md"))


@cache
def load_prompt(name: str) -> Template:
    """The template `prompts/<name>.md`."""
    if not _NAME.match(name):
        raise ConfigurationError(f"invalid prompt name {name!r}")
    path = PROMPTS_DIR / f"{name}.md"
    if not path.is_file():
        raise ConfigurationError(f"prompt file {path} is missing")
    return Template(path.read_text(encoding="utf-8").strip())


def prompt_variables(name: str) -> set[str]:
    """The `$variables` a prompt expects."""
    return {
        match.group("named") or match.group("braced")
        for match in Template.pattern.finditer(load_prompt(name).template)
        if match.group("named") or match.group("braced")
    }


def render_prompt(name: str, **variables: object) -> str:
    """Fill a prompt; a missing or unexpected variable is an error, not a silent blank."""
    expected = prompt_variables(name)
    missing = expected - variables.keys()
    extra = variables.keys() - expected
    if missing or extra:
        raise ConfigurationError(
            f"prompt {name!r}: missing variables {sorted(missing)}, unexpected {sorted(extra)}"
        )
    return load_prompt(name).substitute({k: str(v) for k, v in variables.items()})
