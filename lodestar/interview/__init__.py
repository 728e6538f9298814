"""Interview kits: plan the competencies for a role and level, write a checked question for each.

`plan` picks one passage per competency, `drafts` holds what the model writes for a question and
the checks on its wording, `signals` quotes signals from the passage, `writer` runs the loop and
`kit` is the result. It may import lodestar.drafting, lodestar.answering, lodestar.grounding,
lodestar.retrieval, lodestar.components and lodestar.core; never lodestar.levels or ingest.
"""

from lodestar.interview.kit import InterviewKit, KitQuestion, SkippedQuestion, ungrounded_terms
from lodestar.interview.plan import KitPlan, known_roles_and_levels, plan_kit
from lodestar.interview.writer import KitEvent, KitWriter, build_interview_kit

__all__ = [
    "InterviewKit",
    "KitEvent",
    "KitPlan",
    "KitQuestion",
    "KitWriter",
    "SkippedQuestion",
    "build_interview_kit",
    "known_roles_and_levels",
    "plan_kit",
    "ungrounded_terms",
]
