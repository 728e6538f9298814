"""Components: the external services every stage uses, each built from Settings by a small
factory: the LLM (`llm/`), the embedder (`embedding/`) and the index store (`store/`: Chroma,
manifest, BM25 keyword index, metadata catalogue, feedback). `services.Services` holds one of each
per process, built lazily. Components may import `lodestar.core` only, never a stage above them.
"""
