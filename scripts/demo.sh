#!/usr/bin/env bash
# Set everything up, then run the main job offline: ingest knowledge/ and answer a sample question
# with the bundled model.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
"$PYTHON" scripts/bootstrap.py
.venv/bin/lodestar ingest
.venv/bin/lodestar ask "${1:-What should a new ML tech lead prioritise?}"
