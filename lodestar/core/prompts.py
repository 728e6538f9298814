"""Prompt templates are files in prompts/, loaded by name; `$variables` must all be supplied."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from string import Template

from lodestar.core.errors import ConfigurationError

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


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
