"""Drafting: small JSON replies written by the chat model, checked, and written again.

The interview kits and the level guide both ask the model for short structured replies and reject
the ones that do not hold up. What they share lives here: the reply schema and its parsing
(`structured`), the rejections (`rejections`), the sampling of each attempt (`sampling`) and the
draft → parse → check → retry loop with its chat model and grounding verifier (`retry`). It may
import lodestar.core, lodestar.components, lodestar.retrieval and lodestar.grounding, nothing above.
"""
