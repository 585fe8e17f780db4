"""The deferred Peewee database, its pragmas, a connection per request and `flask db ...`.

SQLite (a file under instance/) unless PORTAL_DATABASE_URL names a PostgreSQL database
(`postgresql://user@host:5432/portal`): the process chooses once, at import, so that every
model binds to one database object. The SQL that differs between the two lives here and in
portal/ddl.py (migrations).
"""

import os

import click
from flask import current_app, g, has_app_context
from flask.cli import AppGroup
from peewee import OP, SQL, DatabaseError, Expression, NodeList, Value, fn
from playhouse.migrations import MigrationError, Runner
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from portal import dbcopy, ddl

# Every transaction opened with atomic("IMMEDIATE") relies on SQLite's single writer (read,
# decide, write, with no other writer in between). On PostgreSQL the same transactions take
# transaction-scoped advisory locks first, so that they run one after another as on SQLite,
# while every other transaction runs concurrently under READ COMMITTED. A signed-in user's
# request writes to its own practice only (portal/access.py): its writers queue per
# practice (WRITER_PRACTICE, practice id), holding WRITER_LOCK shared; anything else (the
# CLI, tasks, webhooks, public pages) takes WRITER_LOCK alone and waits for every writer.
WRITER_LOCK = 0x706F7274  # "port"
WRITER_PRACTICE = 0x70726163  # "prac"


def writer_practice():
    """The practice this request writes to (set by sessions.load_user), or None."""
    return g.get("writer_practice_id") if has_app_context() else None


class PostgresDatabase(PooledPostgresqlDatabase):
    """PostgreSQL through psycopg 3, with SQLite's `atomic("IMMEDIATE")` meaning kept."""

    def begin(self, lock_type=None):
        super().begin()
        if lock_type != "IMMEDIATE":
            return
        practice = writer_practice()
        if practice is None:
            self.cursor().execute("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK,))
        else:
            self.cursor().execute(
                "SELECT pg_advisory_xact_lock_shared(%s), pg_advisory_xact_lock(%s, %s)",
                (WRITER_LOCK, WRITER_PRACTICE, practice),
            )


def q(sql):
    """Raw SQL written with SQLite's `?` placeholders, in this database's paramstyle (for
    SQL built once at import; peewee's own queries need nothing)."""
    if IS_POSTGRES:
        return sql.replace("%", "%%").replace("?", "%s")
    return sql


def unique_violation(exc, table):
    """Whether IntegrityError `exc` is a UNIQUE violation on `table` (either database)."""
    if IS_POSTGRES:
        orig = getattr(exc, "orig", None)  # psycopg's error, which peewee wraps
        diag = getattr(orig, "diag", None)
        return (
            getattr(orig, "sqlstate", None) == "23505"
            and getattr(diag, "table_name", None) == table
        )
    text = str(exc)
    if f"UNIQUE constraint failed: {table}." in text:
        return True
    # a unique index on expressions (remittance_trace's COALESCE, migration 0026) is named
    # by the index, not by its columns: its table is looked up
    prefix = "UNIQUE constraint failed: index '"
    if not text.startswith(prefix):
        return False
    name = text[len(prefix) :].split("'", 1)[0]
    sql = "SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = ?"
    return database.execute_sql(sql, (name,)).fetchone() == (table,)


def nocase(field):
    """`field` compared and ordered without case (ASCII), as an index on it can serve:
    SQLite's NOCASE collation; lower() on PostgreSQL (whose indexes are on lower(col))."""
    if IS_POSTGRES:
        return fn.LOWER(field)
    return field.collate("NOCASE")


def prefix_pattern(text):
    """The LIKE pattern of prefix_like for "starts with `text`": its wildcards and the
    escape character escaped, so they match themselves (lowered on PostgreSQL)."""
    escaped = text.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
    return (escaped.lower() if IS_POSTGRES else escaped) + "%"


def prefix_like(column, pattern):
    """`column` LIKE `pattern` (a prefix_pattern), ignoring case (ASCII), as an index range:
    SQLite's LIKE (case-blind, over a NOCASE index); on PostgreSQL lower(column) LIKE (its
    text_pattern_ops index, migration 0010). The pattern is one parameter of its own, so
    SQL built once (speedups.built_once) can take another."""
    if IS_POSTGRES:
        return fn.LOWER(column) % pattern  # backslash is PostgreSQL's LIKE escape
    escape = NodeList((Value(pattern, converter=False), SQL("ESCAPE '\\'")))
    return Expression(column, OP.ILIKE, escape)  # peewee's ILIKE is SQLite's LIKE


def prefix_match(column, text):
    """`column` starts with `text`, ignoring case (ASCII), as an index range (prefix_like).
    Wildcards in `text` match themselves."""
    return prefix_like(column, prefix_pattern(text))


def plus_days(date_column, days_column):
    """`date_column` + `days_column` days, a date both databases compare with a date and
    order by: date + integer on PostgreSQL (an INTEGER column is BIGINT there, which a date
    does not add: cast), date(d, '+N days') (ISO text) on SQLite."""
    if IS_POSTGRES:
        return date_column + days_column.cast("integer")
    return fn.date(date_column, Value("+").concat(days_column).concat(" days"))


def day_before(datetime_column):
    """The date before a stored (naive UTC) datetime's UTC date: a date both databases
    compare with a date, never after the datetime's local date in any time zone (UTC-12 to
    UTC+14), for SQL that narrows by a local date the rules then read exactly."""
    if IS_POSTGRES:
        return fn.DATE(datetime_column) - 1
    return fn.date(datetime_column, "-1 day")


def url_from_env():
    return os.environ.get("PORTAL_DATABASE_URL", "").strip()


def _choose():
    url = url_from_env()
    if url:
        if not ddl.is_postgres_url(url):
            raise RuntimeError("PORTAL_DATABASE_URL must start with postgresql://")
        return PostgresDatabase(None, max_connections=None, prefer_psycopg3=True)
    # Each request checks a connection out (before_request) and gives it back (teardown).
    # The pool keeps given-back connections open: opening one costs ~0.9 ms (SQLite parses
    # the whole schema again), more than the rest of a typical page. No cap: a thread holds
    # at most one.
    return PooledSqliteDatabase(None, max_connections=None)


database = _choose()
IS_POSTGRES = isinstance(database, PostgresDatabase)


def model_from_row(model, row, start=0):
    """A `model` instance from `row[start:]` holding `model._meta.sorted_fields` in order
    (what `Model.select()` lists, so a select of several models gives one row to split),
    each value converted as peewee converts it."""
    fields = model._meta.sorted_fields
    values = zip(fields, row[start : start + len(fields)], strict=True)
    return model(**{f.name: None if v is None else f.python_value(v) for f, v in values})


def models_from_row(row, *models):
    """One instance of each model from a row of `select(*models)`."""
    out, start = [], 0
    for model in models:
        out.append(model_from_row(model, row, start))
        start += len(model._meta.sorted_fields)
    return out


def column_list(model, alias):
    """`alias."col", ...` for every field of `model`, in the order model_from_row reads."""
    return ", ".join(f'{alias}."{f.column_name}"' for f in model._meta.sorted_fields)


_VERSION_SQL = "SELECT n FROM data_version WHERE id = 1"


def data_version():
    """The data version (migrations 0007, 0008): a number SQLite triggers change on every
    write that could change a page or a signed-in user (sessions' last_seen_at excepted).
    None when the database has no data_version table yet."""
    try:
        row = database.execute_sql(_VERSION_SQL).fetchone()
    except DatabaseError:
        return None
    return row[0] if row else None


def refresh_statistics():
    """Gather the statistics the query planner picks indexes by (ANALYZE). SQLite keeps none
    until asked, and without them it may read a practice's every appointment through the
    wrong index where one provider's would do; PostgreSQL's autovacuum gathers them too,
    and ANALYZE there is the same. On SQLite each index is sampled (analysis_limit), so a
    run takes well under a second. Run daily by the task consumer and after migrations."""
    if not IS_POSTGRES:
        database.execute_sql("PRAGMA analysis_limit=1000")
    database.execute_sql("ANALYZE")


MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")


def pragmas(config):
    return {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": int(config["SQLITE_BUSY_TIMEOUT_MS"]),
        "synchronous": config["SQLITE_SYNCHRONOUS"],
        "cache_size": -16000,  # 16 MB page cache per connection
        "temp_store": "memory",
    }


def describe(config):
    """Where the data lives, for messages (a PostgreSQL URL without its password)."""
    if IS_POSTGRES:
        return _without_password(config["DATABASE_URL"])
    return config["DATABASE"]


def _without_password(url):
    head, sep, tail = url.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, userinfo = head.partition("//")
    return f"{scheme}//{userinfo.split(':', 1)[0]}:***@{tail}"


def init_app(app):
    if not database.deferred:
        database.close_all()  # pooled connections belong to the previous app's database
    if IS_POSTGRES:
        url = app.config.get("DATABASE_URL") or url_from_env()
        if not ddl.is_postgres_url(url):
            raise RuntimeError("this process runs on PostgreSQL: DATABASE_URL must name one")
        app.config["DATABASE_URL"] = url
        database.init(url, options="-c timezone=UTC", prefer_psycopg3=True)
    else:
        if app.config.get("DATABASE_URL"):
            raise RuntimeError("DATABASE_URL is set but PORTAL_DATABASE_URL was not at import")
        os.makedirs(os.path.dirname(app.config["DATABASE"]), exist_ok=True)
        database.init(app.config["DATABASE"], pragmas=pragmas(app.config), check_same_thread=False)

    @app.before_request
    def _connect():
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if not database.is_closed():
            database.close()

    app.cli.add_command(db_cli)


class CheckedRunner(Runner):
    """Peewee's runner, whose down() first asks every migration it would revert whether it
    can be undone (a module's `refusal(db)`: a sentence saying why not, or None), and
    reverts none of them when one refuses: otherwise the later migrations would already be
    reverted when an earlier one refused."""

    def down(self, target=None):
        applied = [m for m in self.status() if m.applied]
        names = [m.name for m in applied]
        if target is not None and target in names:
            applied = applied[names.index(target) :]
        elif target is None:
            applied = applied[-1:]
        for m in reversed(applied):
            refusal = getattr(m.load(), "refusal", None) if m.path else None
            reason = refusal(self.database) if refusal else None
            if reason:
                raise MigrationError(reason)
        return super().down(target)


def runner():
    return CheckedRunner(database, MIGRATIONS_DIR)


def upgrade():
    with database.connection_context():
        applied = runner().up()
        if applied:
            refresh_statistics()
        return applied


db_cli = AppGroup("db", help="Database migrations, and the move from SQLite to PostgreSQL.")


@db_cli.command("upgrade")
def upgrade_cmd():
    """Apply every pending migration."""
    applied = upgrade()
    click.echo("Applied: " + ", ".join(applied) if applied else "Already up to date.")
    click.echo("Database: " + describe(current_app.config))


@db_cli.command("analyze")
def analyze_cmd():
    """Refresh the query planner's statistics (the task consumer does it daily)."""
    with database.connection_context():
        refresh_statistics()
    click.echo("Statistics refreshed: " + describe(current_app.config))


@db_cli.command("status")
def status_cmd():
    """List migrations and whether each is applied."""
    with database.connection_context():
        for m in runner().status():
            mark = "applied " + m.applied.strftime("%Y-%m-%d %H:%M") if m.applied else "pending"
            click.echo(f"{m.name:40s} {mark}")


@db_cli.command("down")
@click.option("--to", "target", default=None, help="Revert back through this migration.")
@click.option("--all", "all_", is_flag=True, help="Revert every applied migration.")
def down_cmd(target, all_):
    """Revert the latest migration (or back through --to, or --all)."""
    with database.connection_context():
        r = runner()
        if all_:
            applied = [m.name for m in r.status() if m.applied]
            target = applied[0] if applied else None
            if target is None:
                click.echo("Nothing to revert.")
                return
        try:
            reverted = r.down(target)
        except MigrationError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo("Reverted: " + ", ".join(reverted) if reverted else "Nothing to revert.")


@db_cli.command("copy")
@click.option(
    "--to", "url", required=True, metavar="URL", help="An empty PostgreSQL database's URL."
)
def copy_cmd(url):
    """Copy this install's SQLite data to an empty PostgreSQL database and check every row."""
    if IS_POSTGRES:
        raise click.ClickException(
            "This process runs on PostgreSQL (PORTAL_DATABASE_URL is set): the copy reads "
            "the SQLite database. Unset PORTAL_DATABASE_URL and run it again."
        )
    click.echo(f"From {current_app.config['DATABASE']} to {_without_password(url)}")
    try:
        target = dbcopy.connect(url)
        try:
            with database.connection_context():
                report = dbcopy.run(database, target, MIGRATIONS_DIR, _progress)
        finally:
            target.close()
    except dbcopy.CopyRefused as exc:
        raise click.ClickException(f"{exc}. Nothing was changed.") from exc
    except dbcopy.CopyError as exc:
        raise click.ClickException(
            f"{exc}. The copy was rolled back: the target holds the empty tables only."
        ) from exc
    for problem in report.problems:
        click.echo("MISMATCH " + problem, err=True)
    summary = f"{report.tables} tables, {report.rows} rows, {report.documents} documents"
    if not report.ok:
        click.echo(f"FAILED: {summary} copied, {len(report.problems)} problem(s) found.", err=True)
        raise SystemExit(1)
    click.echo(f"{summary} copied and checked.")
    click.echo("Set PORTAL_DATABASE_URL to this database and start the portal.")


def _progress(table, rows):
    click.echo(f"  {table:32s} {rows:>9} rows")
