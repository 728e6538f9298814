#!/usr/bin/env bash
# Set up what the tests need, check the import contracts, run the whole test suite, then the
# evaluation gate.
#   ./scripts/test.sh                 import contracts, tests, then `lodestar eval --suite ci`
#                                     (exit 1 if a contract is broken or a threshold is missed)
#   ./scripts/test.sh tests/test_x.py import contracts, then only pytest with these arguments
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
"$PYTHON" scripts/bootstrap.py --dev
# The layers and "no cycles" contracts in pyproject.toml's [tool.importlinter]; a broken one fails.
.venv/bin/lint-imports --no-cache --no-logo
if [ "$#" -gt 0 ]; then
  exec .venv/bin/python -m pytest "$@"
fi
.venv/bin/python -m pytest
# The gate answers the golden set with the bundled model and scores it; its report is printed.
exec .venv/bin/lodestar eval --suite ci
