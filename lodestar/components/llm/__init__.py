"""Language models: the factory that builds the configured LLM (`factory`), the one chat gateway
that translates remote errors (`gateway`), the bundled model's files (`bundled`), llama.cpp
loading (`llama_runtime`), grammar-constrained sampling (`grammar_sampling`) and
`lodestar serve-model` (`server`). It may import `lodestar.core` only.
"""
