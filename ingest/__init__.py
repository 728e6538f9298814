"""Ingestion: knowledge files into the index. Discovery and loaders turn files into documents
(decoding, cleaning, Word and web pages included; decoding judges legacy readings with
plausibility and languages), chunking cuts them into passages, the pipeline
embeds and stores them incrementally with one docstore per source, uploads add files from the
app, and status summarises the index. It imports `lodestar.core` and `lodestar.components`
only; the CLI, the app and the evaluation import it, nothing below them does.
"""
