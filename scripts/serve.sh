#!/usr/bin/env bash
# `make demo`'s server: the task queue's consumer in the background, gunicorn in front.
# Ctrl-C stops both. Usage: scripts/serve.sh VENV PORT
set -euo pipefail
venv=$1
port=$2
"$venv/bin/flask" --app wsgi tasks worker --workers 2 &
worker=$!
trap 'kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT INT TERM
"$venv/bin/gunicorn" -c gunicorn.conf.py -b "127.0.0.1:$port" wsgi:app
