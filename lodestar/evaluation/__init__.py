"""Evaluation: the golden set, a calibrated judge, ragas metrics, the CI gate and its reports."""
