"""The evaluation's metrics, one kind per module: answers (key facts, citations), contexts
(containment, context recall/precision, retrieval hit), faithfulness (the judged one) and kits.

They may import lodestar.core, lodestar.grounding, lodestar.interview and the evaluation's
dataset module; the runner and the report import them, never the other way round.
"""
