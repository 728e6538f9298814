"""Evaluation: the eval folder's data sets (`dataset`), suites (`suites`), the runner that answers
and scores golden cases (`runner`), their results and aggregates (`results`), the gate, reports,
the calibrated judge and its calibration; `metrics/` holds the metrics, one kind per module. It
may import every library layer below it (answering, interview, grounding, retrieval,
components, core) and `ingest`, never the CLI or the app.
"""
