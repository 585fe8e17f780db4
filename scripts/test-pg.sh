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

here=$(dirname "$0")
tmp=$(mktemp -d /tmp/portal-test-pg.XXXXXX)
cleanup() {
  status=$?
  bash "$here/pg-cluster.sh" remove "$tmp" || true
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A throwaway cluster (scripts/pg-cluster.sh), without fsync: its data lives for this run.
admin=$(PG_CLUSTER_OPTIONS="-c fsync=off -c full_page_writes=off" \
  bash "$here/pg-cluster.sh" start "$tmp")
port=${admin##*:}
port=${port%%/*}
createdb -h 127.0.0.1 -p "$port" -U postgres portal_test

export PORTAL_DATABASE_URL=postgresql://postgres@127.0.0.1:$port/portal_test
# For tests that need a PostgreSQL server while the process itself runs on SQLite.
export PORTAL_TEST_PG_ADMIN=postgresql://postgres@127.0.0.1:$port/postgres
echo "test-pg: PostgreSQL on 127.0.0.1:$port, cluster in $tmp"

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
