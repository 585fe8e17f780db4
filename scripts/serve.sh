#!/usr/bin/env bash
# `make demo`'s server: the task queue's consumer and the demo's pretend clearinghouse
# (when asyncssh is installed) in the background, gunicorn in front. Ctrl-C stops them all.
# Usage: scripts/serve.sh VENV PORT
set -euo pipefail
venv=$1
port=$2
"$venv/bin/flask" --app wsgi tasks worker --workers 2 &
worker=$!
clearinghouse=""
if "$venv/bin/python" -c "import asyncssh" 2>/dev/null; then
  "$venv/bin/python" scripts/demo_clearinghouse.py &
  clearinghouse=$!
else
  echo "No demo clearinghouse (asyncssh is not installed): build 837P files and download them instead."
fi
trap 'kill "$worker" $clearinghouse 2>/dev/null || true; wait 2>/dev/null || true' EXIT INT TERM
"$venv/bin/gunicorn" -c gunicorn.conf.py -b "127.0.0.1:$port" wsgi:app
