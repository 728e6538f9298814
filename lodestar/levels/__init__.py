"""The level guide: skill areas × levels from the documents that describe levels, each cell cited."""

from lodestar.levels.build import LevelGuideBuilder
from lodestar.levels.guide import (
    NOT_DESCRIBED,
    LevelCell,
    LevelComparison,
    LevelGuide,
    LevelRow,
    compare,
    ungrounded_cell_terms,
)
from lodestar.levels.source import LevelSection, LevelSources, level_sources

__all__ = [
    "NOT_DESCRIBED",
    "LevelCell",
    "LevelComparison",
    "LevelGuide",
    "LevelGuideBuilder",
    "LevelRow",
    "LevelSection",
    "LevelSources",
    "compare",
    "level_sources",
    "ungrounded_cell_terms",
]
