#!/usr/bin/env bash
# `make run`: the app with its background worker and the reference record service, so a
# demo shows entries travelling to "Joblog". Ctrl-C stops all three.
set -euo pipefail
VENV=${VENV:-.venv}
export JOBLOG_ENV_NAME=development FLASK_APP=wsgi
export JOBLOG_RECORD_HTTP_URL=${JOBLOG_RECORD_HTTP_URL:-http://127.0.0.1:8089}
export JOBLOG_RECORD_CLIENT_SECRET=${JOBLOG_RECORD_CLIENT_SECRET:-dev-secret}

"$VENV/bin/flask" db upgrade
"$VENV/bin/flask" seed-demo --if-empty

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
"$VENV/bin/flask" record-service --port 8089 &
pids+=($!)
"$VENV/bin/flask" worker &
pids+=($!)
"$VENV/bin/flask" run --host 127.0.0.1 --port 5000
