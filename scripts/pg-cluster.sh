#!/usr/bin/env bash
# A PostgreSQL cluster of our own, for a run that needs a server (the benchmark, tests).
#
#   scripts/pg-cluster.sh start [DIR]   start a cluster; print its admin URL on stdout
#                                       (postgresql://postgres@127.0.0.1:PORT/postgres)
#   scripts/pg-cluster.sh stop DIR      stop it
#   scripts/pg-cluster.sh remove DIR    stop it and delete DIR
#
# Without DIR, `start` makes a temporary folder (its path is printed on stderr: stop and
# remove it with the same script). With DIR, a cluster already in DIR is started again
# (the benchmark keeps its seeded template database that way); an empty or missing DIR
# gets a new one (initdb). A cluster already running in DIR is reused as it is.
#
# The cluster: trust logins for the postgres user, 127.0.0.1 on a free port, its socket in
# DIR, synchronous_commit=off (commits do not wait for the disk: what SQLite's WAL with
# synchronous=NORMAL promises, so the two are measured alike). As root, the cluster runs as
# the postgres user (initdb refuses root). Self-contained on purpose: Debian's server
# programs (/usr/lib/postgresql/<version>/bin) or whatever PATH has. PG_CLUSTER_OPTIONS adds
# server settings (scripts/test-pg.sh turns fsync off: its data lives for one run).
set -euo pipefail

usage() {
  echo "usage: $0 start [DIR] | stop DIR | remove DIR" >&2
  exit 2
}

bindir=""
for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
    bindir=$dir
    break
  fi
done
if [ -z "$bindir" ] && command -v initdb >/dev/null; then
  bindir=$(dirname "$(command -v initdb)")
fi
if [ -z "$bindir" ]; then
  echo "pg-cluster: no initdb found (install Debian's postgresql)" >&2
  exit 1
fi

as=()
if [ "$(id -u)" -eq 0 ]; then
  as=(runuser -u postgres --)
fi

running_port() {
  # The port of the cluster running in $1 (line 4 of postmaster.pid), or nothing.
  local pidfile=$1/data/postmaster.pid
  [ -f "$pidfile" ] || return 0
  if "${as[@]}" "$bindir/pg_ctl" -D "$1/data" status >/dev/null 2>&1; then
    sed -n 4p "$pidfile"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local dir=${1:-}
  if [ -z "$dir" ]; then
    dir=$(mktemp -d /tmp/portal-pg.XXXXXX)
    echo "pg-cluster: cluster in $dir (stop it with: $0 remove $dir)" >&2
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  local port
  port=$(running_port "$dir")
  if [ -n "$port" ]; then
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    return
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    rm -rf "$dir/data"
    "${as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
  fi
  # A free port, chosen now; if another program takes it first, try another.
  for _ in 1 2 3; do
    port=$(free_port)
    if "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -s start \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir \
          -c synchronous_commit=off -c max_connections=200 ${PG_CLUSTER_OPTIONS:-}"; then
      echo "postgresql://postgres@127.0.0.1:$port/postgres"
      return
    fi
  done
  echo "pg-cluster: the cluster in $dir did not start:" >&2
  tail -20 "$dir/server.log" >&2
  exit 1
}

stop() {
  local dir=$1
  if [ -f "$dir/data/postmaster.pid" ]; then
    "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 -s stop >/dev/null 2>&1 ||
      "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -s stop >/dev/null 2>&1 || true
  fi
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop)
    [ -n "${2:-}" ] || usage
    stop "$2"
    ;;
  remove)
    [ -n "${2:-}" ] || usage
    stop "$2"
    rm -rf "$2"
    ;;
  *) usage ;;
esac
