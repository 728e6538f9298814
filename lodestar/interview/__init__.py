"""Interview kits: plan the competencies for a role and level, write a checked question for each."""

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
