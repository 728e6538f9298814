"""Embedding: the embedder built from the embedding settings (`factory`: where a local model
lives, which backend and runtime, the matching tokenizer) and the ONNX Runtime embedder
(`onnx`). It may import `lodestar.core` only.
"""
