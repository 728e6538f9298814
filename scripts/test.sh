#!/usr/bin/env bash
# Set up what the tests need, then run the whole suite (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
"$PYTHON" scripts/bootstrap.py --dev
exec .venv/bin/python -m pytest "$@"
