"""Grounding: every statement of an answer checked against the passages it cites.

One package below both the answer engine and the evaluation: `statements` (the splitter),
`guard` (figures, names and quantifiers no passage mentions), `evidence` (the most similar line
or passage), `judge` (the yes/no questions and P("yes")), `verifier` (verdicts) and `display`
(the checked answer as shown). It may import lodestar.core, lodestar.components and
lodestar.retrieval, nothing above.

A statement is checked in two steps. The deterministic guard comes first: a figure or a name that
its passages never mention makes it unsupported, whatever a model would say. Then the model is
asked whether the passage supports it, and its probability of "yes" is compared with a calibrated
threshold (`eval/judge_calibration.jsonl`, dev half; see `lodestar eval --calibrate`). Two designs
of that question exist (`lodestar eval --calibrate --design` measures both): `context`, the
question follows the answer in the answer's own chat, so llama.cpp reuses its KV cache and a
statement costs only its own tokens; `statement`, a separate fact-checking prompt with only the
cited passages and the passage line most similar to the statement pointed out.
"""
