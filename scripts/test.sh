#!/usr/bin/env bash
# Install (first time only) and run the whole test suite: unit, AppTest and browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python -m pytest "$@"
