"""PostgreSQL for the bench (BENCH_DB=postgresql): a server, the run's throwaway database and
the seeded template it is copied from.

The server: BENCH_PG_URL (an admin URL, e.g. postgresql://postgres@localhost:55432/postgres)
or, without it, a cluster of the bench's own in bench/.data/pg, started for the run on a
free port by scripts/pg-cluster.sh and stopped at its end (its data is kept, as the seeded
SQLite file is, so a run does not seed again).

The databases, named after this checkout (two checkouts may share a server):
- bench_seeded_<tag>: the seeded database, kept as a template; its comment holds the seed
  key (bench.seeded.sqlite3 and seed-key.json on SQLite);
- bench_run_<tag>: the database of one run, copied from the template (CREATE DATABASE ...
  TEMPLATE: a file copy, as the SQLite file is copied) and dropped when the run ends.
"""

import hashlib
import os
import subprocess
import urllib.parse

import psycopg
from psycopg import sql

CLUSTER_SCRIPT = "scripts/pg-cluster.sh"


def with_database(url, name):
    """`url` with its database name replaced by `name`."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def without_password(url):
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class PgBench:
    def __init__(self, root, data_dir, log):
        self.root = root
        self.log = log
        self.admin_url = os.environ.get("BENCH_PG_URL", "").strip()
        self.cluster_dir = None if self.admin_url else os.path.join(data_dir, "pg")
        tag = hashlib.sha256(os.path.realpath(root).encode()).hexdigest()[:8]
        self.run_name = f"bench_run_{tag}"
        self.seeded_name = f"bench_seeded_{tag}"
        self.url = None

    # --- the server -------------------------------------------------------------------

    def start(self):
        if self.cluster_dir:
            script = os.path.join(self.root, CLUSTER_SCRIPT)
            out = subprocess.run(
                ["bash", script, "start", self.cluster_dir],
                capture_output=True,
                text=True,
                timeout=180,
            )
            if out.returncode != 0:
                raise SystemExit(f"ERROR the bench's PostgreSQL cluster: {out.stderr.strip()}")
            self.admin_url = out.stdout.strip().splitlines()[-1]
            where = f"a cluster in {os.path.relpath(self.cluster_dir, self.root)}"
        else:
            where = "BENCH_PG_URL"
        with self._admin() as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        self.log(f"PostgreSQL {version}: {without_password(self.admin_url)} ({where})")
        self.drop(self.run_name)  # left behind by a run that was killed
        self.url = with_database(self.admin_url, self.run_name)

    def stop(self):
        try:
            self.drop(self.run_name)
        finally:
            if self.cluster_dir:
                script = os.path.join(self.root, CLUSTER_SCRIPT)
                subprocess.run(["bash", script, "stop", self.cluster_dir], timeout=120)

    def _admin(self):
        return psycopg.connect(self.admin_url, autocommit=True)

    # --- databases --------------------------------------------------------------------

    def drop(self, name):
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def seeded_key(self):
        """The seed key of the kept template, or None when there is none."""
        with self._admin() as conn:
            row = conn.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                [self.seeded_name],
            ).fetchone()
        return row[0] if row else None

    def create_run(self, from_seeded):
        """The run's database: a copy of the seeded template, or empty (to be seeded)."""
        with self._admin() as conn:
            if from_seeded:
                stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(self.run_name), sql.Identifier(self.seeded_name)
                )
            else:
                stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.run_name))
            conn.execute(stmt)

    def vacuum_analyze(self):
        """What a live server's autovacuum would have done after the seeds' bulk inserts:
        planner statistics and visibility maps, so the plans are those of a settled database."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")

    def keep_as_seeded(self, key):
        """Keep the run's freshly seeded database as the template for later runs (no one
        may be connected to the run's database meanwhile)."""
        self.drop(self.seeded_name)
        with self._admin() as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(self.seeded_name), sql.Identifier(self.run_name)
                )
            )
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(self.seeded_name), sql.Literal(key)
                )
            )

    def forget_seeded(self):
        self.drop(self.seeded_name)
