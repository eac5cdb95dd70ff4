#!/usr/bin/env bash
# Install (first time only) and start the app on http://localhost:8501 with a workspace in ./workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python -m streamlit run app.py "$@"
