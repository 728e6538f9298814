#!/usr/bin/env bash
# Set everything up, then run the main job offline: ingest knowledge/ and answer a sample question.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
"$PYTHON" scripts/bootstrap.py
.venv/bin/lodestar ingest
.venv/bin/lodestar retrieve "${1:-What salary range is typical for an ML Engineering Team Lead?}" --k 3
