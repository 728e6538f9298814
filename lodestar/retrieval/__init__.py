"""Retrieval: a question to ranked passages from the index.

`passages` (Passage, the filters a search takes, a question's result), `hybrid` (vector + BM25
search with the "not covered" check), `fusion` (llama-index's fusion for one query) and
`sections` (a passage read by its heading and its levels' lines, for the kits and the level
guide). It may import lodestar.core and lodestar.components, nothing above (not ingest).
"""
