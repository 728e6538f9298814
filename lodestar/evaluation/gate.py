"""The gate: versioned thresholds (`eval/thresholds.toml`) checked against a run's scores.

`[min]` scores must be reached, `[max]` scores must not be exceeded. Unfaithful controls must
score below the faithfulness threshold and faithful ones reach it, or the judge is not telling
the difference and the run fails.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lodestar.core.errors import ConfigurationError
from lodestar.evaluation.dataset import eval_dir

if TYPE_CHECKING:
    from lodestar.evaluation.results import SuiteRun


@dataclass
class Check:
    """One threshold against one measured value."""

    name: str
    value: float | None
    op: str
    threshold: float
    passed: bool


@dataclass
class Thresholds:
    """Minimums and maximums per metric, per suite."""

    minimum: dict[str, float]
    maximum: dict[str, float]

    def check(self, run: SuiteRun) -> list[Check]:
        """Every threshold, then every control; a metric the run did not measure fails."""
        scores = run.aggregates()
        checks = [
            Check(name, scores.get(name), ">=", limit, _ge(scores.get(name), limit))
            for name, limit in self.minimum.items()
        ]
        checks += [
            Check(name, scores.get(name), "<=", limit, _le(scores.get(name), limit))
            for name, limit in self.maximum.items()
        ]
        bar = self.minimum.get("faithfulness")
        if bar is not None:
            for control in run.controls:
                unfaithful = control.expected == "unfaithful"
                value = control.faithfulness
                checks.append(
                    Check(
                        f"control {control.id} ({control.expected})",
                        value,
                        "<" if unfaithful else ">=",
                        bar,
                        value < bar if unfaithful else _ge(value, bar),
                    )
                )
        return checks


def _ge(value: float | None, limit: float) -> bool:
    return value is not None and value == value and value >= limit


def _le(value: float | None, limit: float) -> bool:
    return value is not None and value == value and value <= limit


def load_thresholds(suite: str, path: Path | None = None) -> Thresholds:
    """The thresholds for `suite` from `eval/thresholds.toml`."""
    path = path or eval_dir() / "thresholds.toml"
    if not path.is_file():
        raise ConfigurationError(f"thresholds file {path} does not exist")
    spec = tomllib.loads(path.read_text(encoding="utf-8")).get(suite)
    if spec is None:
        raise ConfigurationError(f"{path} has no thresholds for suite {suite!r}")
    return Thresholds(
        minimum={k: float(v) for k, v in spec.get("min", {}).items()},
        maximum={k: float(v) for k, v in spec.get("max", {}).items()},
    )
