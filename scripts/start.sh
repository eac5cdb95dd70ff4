#!/usr/bin/env bash
# Install (first time only), start the local Dask cluster that runs the jobs (one worker per core; kept running
# across restarts of the app, so jobs outlive it; `python -m workbench cluster stop` ends it), then start the app
# on http://localhost:8501 with a workspace in ./workspace. With WORKBENCH_DASK_SCHEDULER set, that cluster is
# used instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
if [ -z "${WORKBENCH_DASK_SCHEDULER:-}" ]; then
  port="${WORKBENCH_DASK_PORT:-8786}"
  .venv/bin/python -m workbench cluster start --port "$port"
  export WORKBENCH_DASK_SCHEDULER="tcp://127.0.0.1:$port"
fi
# Single-user mode listens on 127.0.0.1 only (.streamlit/config.toml). With sign-in configured (an [auth]
# section in .streamlit/secrets.toml) the app is for a team: it listens on WORKBENCH_ADDRESS (default all
# interfaces).
address=()
if grep -qs '^\[auth' .streamlit/secrets.toml; then
  address=(--server.address "${WORKBENCH_ADDRESS:-0.0.0.0}")
fi
exec .venv/bin/python -m streamlit run app.py "${address[@]}" "$@"
