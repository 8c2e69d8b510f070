#!/usr/bin/env bash
# `make run`: the app with its background worker and the reference record service, so a
# demo shows entries travelling to "Joblog". Ctrl-C stops all three.
# PORT (default 5000) and RECORD_PORT (default 8089) move them: PORT=5100 RECORD_PORT=8189 make run
set -euo pipefail
VENV=${VENV:-.venv}
PORT=${PORT:-5000}
RECORD_PORT=${RECORD_PORT:-8089}
export JOBLOG_ENV_NAME=development FLASK_APP=wsgi
export JOBLOG_RECORD_HTTP_URL=${JOBLOG_RECORD_HTTP_URL:-http://127.0.0.1:$RECORD_PORT}
export JOBLOG_RECORD_CLIENT_SECRET=${JOBLOG_RECORD_CLIENT_SECRET:-dev-secret}

"$VENV/bin/flask" db upgrade
"$VENV/bin/flask" seed-demo --if-empty

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
# The secret travels in the environment, not on the command line (the process list).
"$VENV/bin/python" -m devtools.reference_record --port "$RECORD_PORT" \
  --db instance/reference-record.sqlite &
pids+=($!)
"$VENV/bin/flask" worker &
pids+=($!)
echo "Open http://localhost:$PORT (staff passkeys need the name localhost, not 127.0.0.1)."
"$VENV/bin/flask" run --host 127.0.0.1 --port "$PORT"
