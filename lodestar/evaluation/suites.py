"""The suites of eval/suites.toml: which golden cases get the judged metrics in a run."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from lodestar.core.errors import ConfigurationError
from lodestar.evaluation.dataset import eval_dir


@dataclass
class Suite:
    """Which cases get the judged metrics (from `eval/suites.toml`)."""

    name: str
    description: str
    judged: list[str] | None  # None: every case
    llm_context_metrics: bool
    relevancy_questions: int

    def is_judged(self, case_id: str) -> bool:
        """Whether the judged metrics run on this case."""
        return self.judged is None or case_id in self.judged


def load_suite(name: str, path: Path | None = None) -> Suite:
    """A suite by name from `eval/suites.toml`."""
    path = path or eval_dir() / "suites.toml"
    suites = tomllib.loads(path.read_text(encoding="utf-8"))
    if name not in suites:
        raise ConfigurationError(
            f"unknown suite {name!r}", hint=f"suites in {path}: {', '.join(sorted(suites))}"
        )
    spec = suites[name]
    judged = spec.get("judged", "all")
    return Suite(
        name=name,
        description=spec.get("description", ""),
        judged=None if judged == "all" else list(judged),
        llm_context_metrics=bool(spec.get("llm_context_metrics", False)),
        relevancy_questions=int(spec.get("relevancy_questions", 1)),
    )
