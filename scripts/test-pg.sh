#!/usr/bin/env bash
# `make test-pg`: the test suite on PostgreSQL. Makes a throwaway cluster in a temporary
# folder (trust logins, 127.0.0.1 on a free port, its socket in that folder, no fsync: the
# data lives only as long as the run), points PORTAL_DATABASE_URL at it, runs pytest, and
# always stops the cluster and removes the folder. Exits with pytest's status.
# Usage: scripts/test-pg.sh VENV [PYTEST_ARG ...]   (no argument: the whole suite)
set -euo pipefail
venv=$1
shift

bash "$(dirname "$0")/ensure-debs.sh" postgresql

# Debian keeps the server's programs under /usr/lib/postgresql/<version>/bin (not on PATH);
# take the newest version there, else whatever PATH has.
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
  echo "test-pg: no initdb found (looked in /usr/lib/postgresql/*/bin and PATH)" >&2
  exit 1
fi

# initdb refuses to run as root: as root, the cluster belongs to the postgres user.
as=()
if [ "$(id -u)" -eq 0 ]; then
  as=(runuser -u postgres --)
fi

tmp=$(mktemp -d /tmp/portal-test-pg.XXXXXX)
data=$tmp/data

cleanup() {
  status=$?
  if [ -f "$data/postmaster.pid" ]; then
    "${as[@]}" "$bindir/pg_ctl" -D "$data" -m immediate -s stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$tmp"
fi
"${as[@]}" "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
  --no-sync >"$tmp/initdb.log" 2>&1 || {
  cat "$tmp/initdb.log" >&2
  exit 1
}

# A free port, chosen now; if another program takes it first, try another.
started=""
for _ in 1 2 3; do
  port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if "${as[@]}" "$bindir/pg_ctl" -D "$data" -l "$tmp/server.log" -w -t 30 -s start \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$tmp \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off"; then
    started=1
    break
  fi
done
if [ -z "$started" ]; then
  echo "test-pg: the cluster did not start:" >&2
  cat "$tmp/server.log" >&2
  exit 1
fi
"$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres portal_test

export PORTAL_DATABASE_URL=postgresql://postgres@127.0.0.1:$port/portal_test
# For tests that need a PostgreSQL server while the process itself runs on SQLite.
export PORTAL_TEST_PG_ADMIN=postgresql://postgres@127.0.0.1:$port/postgres
echo "test-pg: PostgreSQL $("$bindir/postgres" -V | awk '{print $3}') on 127.0.0.1:$port, cluster in $tmp"

set +e
"$venv/bin/pytest" -q -p no:cacheprovider "$@"
status=$?
if [ $# -eq 0 ]; then
  # `flask db copy` moves a SQLite practice to PostgreSQL: its tests run in a process on
  # SQLite (the suite above skips them), with this cluster as the target.
  PORTAL_DATABASE_URL= "$venv/bin/pytest" -q -p no:cacheprovider tests/test_db_copy.py
  copy_status=$?
  [ "$status" -eq 0 ] && status=$copy_status
fi
set -e
exit "$status"
