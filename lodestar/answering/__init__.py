"""Answering: a question to a cited, checked answer. `engine` (AnswerEngine: condense, retrieve,
prompt), `context` (the passages packed into the prompt), `stream` (the answer as it is written,
then checked), `citations`, `refusal` (the "not covered" result), `result` (Answer, Timings),
`injection` (instruction-like text taken out of passages), `conversation` and `presentation`.
It may import lodestar.grounding, lodestar.retrieval, lodestar.components and lodestar.core,
never interview, levels, evaluation, the CLI or the app.
"""
