"""The level guide: skill areas × levels from the documents that describe levels, each cell cited.

`source` reads the levelled sections from the index, `build` writes and checks each cell (and
caches it), `guide` is the result and its comparisons. It may import lodestar.drafting,
lodestar.answering, lodestar.grounding, lodestar.retrieval, lodestar.components and
lodestar.core; never lodestar.interview or ingest.
"""

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
