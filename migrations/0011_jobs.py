"""Jobs: long work run by the task queue (portal/tasks.py) and the progress pages poll.

Frozen as SQL (a migration never imports portal.models). The render cache's change
triggers are added like every table's: a finished job may change what a page shows.
"""

from portal import ddl, pagecache

TABLE = """CREATE TABLE job (
    id INTEGER PRIMARY KEY,
    practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
    created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
    kind VARCHAR(255) NOT NULL,
    title VARCHAR(255) NOT NULL DEFAULT '',
    status VARCHAR(255) NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'done', 'failed')),
    total INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0),
    done INTEGER NOT NULL DEFAULT 0 CHECK (done >= 0),
    message TEXT NOT NULL DEFAULT '',
    document_id INTEGER REFERENCES stored_document (id) ON DELETE RESTRICT,
    created_at DATETIME NOT NULL,
    started_at DATETIME,
    finished_at DATETIME
)"""


def up(migrator, db):
    ddl.run(db, TABLE)
    ddl.run(db, "CREATE INDEX job_practice ON job (practice_id, created_at)")
    ddl.run(db, "CREATE INDEX job_document ON job (document_id)")
    ddl.run(db, "CREATE INDEX job_created_by ON job (created_by_id)")
    pagecache.add_change_triggers(db, "job")


def down(migrator, db):
    ddl.run(db, "DROP TABLE IF EXISTS job")
