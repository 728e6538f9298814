"""The index store: opening Chroma (`chroma`), what a data dir records about its index
(`manifest`), the BM25 keyword index kept in step with the collection (`keyword_index`), the
metadata vocabulary (`catalogue`), answer feedback (`feedback`) and a loopback Chroma server for
tests and benchmarks (`chroma_server`). It may import `lodestar.core` only.
"""
