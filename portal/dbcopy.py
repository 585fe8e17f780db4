"""Move a practice from its SQLite database to an empty PostgreSQL one (`flask db copy`).

`run(source, target, migrations_dir)` refuses (CopyRefused, nothing changed) unless the
source is a fully migrated SQLite database this code knows and the target an empty
PostgreSQL database; then it migrates the target, copies every table in one transaction
(`copy_data`) and compares both sides (`check`). Plain functions on peewee Database
objects: portal/db.py's command wraps them for the terminal.

The copy keeps ids and writes each value as the target column's type: 0/1 flags become
booleans, SQLite's date and time text becomes dates and datetimes, BLOBs bytes. The guard
triggers (append-only tables, issued documents, signed notes) and the data-version triggers
are off for the copy, inside its transaction, and on again before it commits: the rows being
copied were checked by SQLite's triggers when they were first written.
"""

import datetime as dt
import graphlib
import hashlib
from dataclasses import dataclass, field

from peewee import OperationalError, PostgresqlDatabase
from playhouse.migrations import Runner

from portal import ddl

# Migration bookkeeping: made by the migrations on the target, not copied.
BOOKKEEPING = frozenset({"schema_migration", "data_version"})
BATCH_ROWS = 1000
BATCH_ROWS_WITH_BYTES = 20  # stored PDFs run to a few hundred KB each


class CopyError(Exception):
    """The copy failed; its transaction was rolled back."""


class CopyRefused(CopyError):
    """The copy cannot start; nothing was changed."""


def connect(url):
    """A PostgreSQL database for `url` (psycopg 3), connected; CopyRefused if it is not."""
    if not ddl.is_postgres_url(url):
        raise CopyRefused("--to must be a PostgreSQL URL (postgresql://user@host:5432/name)")
    url = "postgresql://" + url.split("://", 1)[1]
    target = PostgresqlDatabase(url, prefer_psycopg3=True, options="-c timezone=UTC")
    try:
        target.connect()
    except OperationalError as exc:
        raise CopyRefused(f"cannot connect to the target database: {exc}".strip()) from exc
    return target


def run(source, target, migrations_dir, progress=None):
    """Refuse, or migrate the target, copy and check; returns the check's Report."""
    refusal = why_not(source, target, migrations_dir)
    if refusal:
        raise CopyRefused(refusal)
    try:
        Runner(target, migrations_dir).up()
    except Exception as exc:
        raise CopyError(f"migrating the target database failed: {exc}") from exc
    copy_data(source, target, progress)
    return check(source, target)


# --- before: what the copy needs -----------------------------------------------------


def why_not(source, target, migrations_dir):
    """Why the copy must not start (None when it may)."""
    if ddl.is_postgres(source):
        return "the source must be this install's SQLite database"
    if not ddl.is_postgres(target):
        return "the target must be a PostgreSQL database"
    status = Runner(source, migrations_dir).status()
    unknown = [m.name for m in status if m.path is None]
    if unknown:
        return (
            "the SQLite database has migrations this code does not know ("
            + ", ".join(unknown)
            + "): run the copy with the portal's version that made them"
        )
    pending = [m.name for m in status if m.applied is None]
    if pending:
        return (
            "the SQLite database is not fully migrated (pending: "
            + ", ".join(pending)
            + "): run `flask db upgrade` first"
        )
    return _target_not_empty(target, migrations_dir)


def _target_not_empty(target, migrations_dir):
    tables = target.get_tables()
    if not tables:
        return None
    if "schema_migration" not in tables:
        return (
            "the target database holds tables that are not the portal's ("
            + ", ".join(tables[:5])
            + (", ..." if len(tables) > 5 else "")
            + "): copy into a new, empty database"
        )
    unknown = [m.name for m in Runner(target, migrations_dir).status() if m.path is None]
    if unknown:
        return "the target database has migrations this code does not know: " + ", ".join(unknown)
    for table in tables:
        if table in BOOKKEEPING:
            continue
        if target.execute_sql(f'SELECT EXISTS (SELECT 1 FROM "{table}")').fetchone()[0]:
            return (
                f"the target database already holds data (table {table}): "
                "copy into a new, empty database"
            )
    return None


# --- the copy ------------------------------------------------------------------------


def copy_data(source, target, progress=None):
    """Copy every table of the migrated target from `source`, ids kept, in one transaction
    on the target; returns {table: rows}. `progress(table, rows)` after each table."""
    tables = copy_order(target)
    missing = sorted(set(tables) - set(_source_tables(source)))
    if missing:
        raise CopyError("the SQLite database lacks tables: " + ", ".join(missing))
    counts = {}
    with source.atomic(), target.atomic():
        for table in tables:
            target.execute_sql(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        for table in tables:
            try:
                counts[table] = _copy_table(source, target, table)
            except CopyError:
                raise
            except Exception as exc:
                raise CopyError(f"copying {table} failed: {exc}") from exc
            if progress:
                progress(table, counts[table])
        _copy_data_version(source, target)
        for table in tables:
            target.execute_sql(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
        for table in tables:
            _restart_sequence(target, table)
    return counts


def copy_order(target):
    """The target's tables (bookkeeping left out), each after the tables it refers to."""
    tables = [t for t in target.get_tables() if t not in BOOKKEEPING]
    graph = {t: set() for t in tables}
    rows = target.execute_sql(
        "SELECT a.relname, b.relname FROM pg_constraint c "
        "JOIN pg_class a ON a.oid = c.conrelid JOIN pg_class b ON b.oid = c.confrelid "
        "JOIN pg_namespace n ON n.oid = a.relnamespace "
        "WHERE c.contype = 'f' AND n.nspname = current_schema()"
    ).fetchall()
    for child, parent in rows:
        # A row referring to its own table (a corrected superbill, a secondary claim)
        # refers to an earlier row: ids ascending take care of it.
        if child in graph and parent in graph and child != parent:
            graph[child].add(parent)
    try:
        return list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        raise CopyError(f"tables refer to each other in a cycle: {exc.args[1]}") from exc


def _copy_table(source, target, table):
    columns = _source_columns(source, table)
    types = _target_types(target, table)
    unknown = [c for c in columns if c not in types]
    if unknown:
        raise CopyError(f"{table}: columns unknown to the target: {', '.join(unknown)}")
    convert = [_converter(*types[c]) for c in columns]
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
    rows = 0
    for batch in _batches(source, table, columns, _batch_size(types)):
        values = [_convert_row(table, columns, convert, row) for row in batch]
        target.cursor().executemany(sql, values)
        rows += len(values)
    return rows


def _copy_data_version(source, target):
    # One more than the source's: no page cached against the SQLite data can match.
    row = source.execute_sql("SELECT n FROM data_version WHERE id = 1").fetchone()
    target.execute_sql("UPDATE data_version SET n = %s WHERE id = 1", ((row[0] if row else 0) + 1,))


def _restart_sequence(target, table):
    """The id sequence continues after the largest copied id (1 for an empty table)."""
    target.execute_sql(
        "SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 0) + 1, false) "
        f'FROM "{table}"',
        (f'"{table}"',),
    )


# --- the check -----------------------------------------------------------------------


@dataclass
class Report:
    tables: int = 0
    rows: int = 0
    documents: int = 0
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems


def check(source, target):
    """Compare every copied table (row count and a checksum of its values, each normalised
    as the copy wrote it) and every stored document (sha256 of its bytes on the target)."""
    report = Report()
    with source.atomic(), target.atomic():
        present = set(_source_tables(source))
        for table in copy_order(target):
            report.tables += 1
            if table not in present:
                report.problems.append(f"{table}: not in the SQLite database")
                continue
            types = _target_types(target, table)
            try:
                report.rows += _check_table(source, target, table, types, report.problems)
            except CopyError as exc:
                report.problems.append(str(exc))
            if types.get("data", ("",))[0] == "bytea" and "sha256" in types:
                report.documents += _check_documents(target, table, report.problems)
        report.problems.extend(_disabled_triggers(target))
    return report


def _check_table(source, target, table, types, problems):
    """The table's rows on the target (its problems added to `problems`)."""
    columns = _source_columns(source, table)
    missing = [c for c in columns if c not in types]
    if missing:
        problems.append(f"{table}: columns not on the target: {', '.join(missing)}")
        columns = [c for c in columns if c in types]
    convert = [_converter(*types[c]) for c in columns]
    size = _batch_size(types)
    mine = _digest(
        _convert_row(table, columns, convert, row)
        for batch in _batches(source, table, columns, size)
        for row in batch
    )
    theirs = _digest(row for batch in _batches(target, table, columns, size) for row in batch)
    if mine[0] != theirs[0]:
        problems.append(f"{table}: {mine[0]} rows in SQLite, {theirs[0]} copied")
    elif mine[1] != theirs[1]:
        problems.append(f"{table}: the copied values differ from SQLite's")
    return theirs[0]


def _check_documents(target, table, problems):
    checked, bad = 0, []
    for batch in _batches(target, table, ["id", "sha256", "data"], BATCH_ROWS_WITH_BYTES):
        for doc_id, sha, data in batch:
            checked += 1
            if hashlib.sha256(bytes(data)).hexdigest() != sha:
                bad.append(str(doc_id))
    if bad:
        problems.append(
            f"{table}: {len(bad)} stored document(s) whose bytes do not match their sha256 "
            "(ids " + ", ".join(bad[:10]) + (", ..." if len(bad) > 10 else "") + ")"
        )
    return checked


def _disabled_triggers(target):
    rows = target.execute_sql(
        "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE NOT t.tgisinternal AND t.tgenabled = 'D' AND n.nspname = current_schema()"
    ).fetchall()
    return [f"{table}: trigger {name} is disabled" for table, name in rows]


def _digest(rows):
    """(row count, sha256) of rows in id order, each value in one canonical form."""
    h, n = hashlib.sha256(), 0
    for row in rows:
        n += 1
        for value in row:
            part = _canonical(value)
            h.update(len(part).to_bytes(8, "big"))
            h.update(part)
    return n, h.hexdigest()


def _canonical(v):
    if v is None:
        return b"N"
    if isinstance(v, bool):
        return b"T" if v else b"F"
    if isinstance(v, int):
        return b"i%d" % v
    if isinstance(v, float):
        return b"f" + repr(v).encode()
    if isinstance(v, dt.datetime):
        return b"t" + v.isoformat().encode()
    if isinstance(v, dt.date):
        return b"d" + v.isoformat().encode()
    if isinstance(v, bytes | bytearray | memoryview):
        return b"b" + bytes(v)
    return b"s" + str(v).encode()


# --- reading and converting ----------------------------------------------------------


def _source_tables(source):
    rows = source.execute_sql("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return [r[0] for r in rows if not r[0].startswith("sqlite_")]


def _source_columns(source, table):
    """The source table's column names, id first (the batches are read by id)."""
    names = [r[1] for r in source.execute_sql(f'PRAGMA table_info("{table}")').fetchall()]
    return ["id"] + [n for n in names if n != "id"]


def _target_types(target, table):
    rows = target.execute_sql(
        "SELECT column_name, data_type, character_maximum_length "
        "FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s",
        (table,),
    ).fetchall()
    return {name: (kind, length) for name, kind, length in rows}


def _batch_size(types):
    with_bytes = any(kind == "bytea" for kind, _ in types.values())
    return BATCH_ROWS_WITH_BYTES if with_bytes else BATCH_ROWS


def _batches(db, table, columns, size):
    """Lists of at most `size` rows in id order, never the whole table at once."""
    names = ", ".join(f'"{c}"' for c in columns)
    first = f'SELECT {names} FROM "{table}" ORDER BY id LIMIT {size}'
    after = f'SELECT {names} FROM "{table}" WHERE id > {db.param} ORDER BY id LIMIT {size}'
    rows = db.execute_sql(first).fetchall()
    while rows:
        yield rows
        if len(rows) < size:
            return
        rows = db.execute_sql(after, (rows[-1][0],)).fetchall()


def _convert_row(table, columns, convert, row):
    out = []
    for name, conv, value in zip(columns, convert, row, strict=True):
        if value is not None and conv is not None:
            try:
                value = conv(value)
            except (TypeError, ValueError) as exc:
                raise CopyError(f"{table}.{name} (id {row[0]}): {exc}") from exc
        out.append(value)
    return tuple(out)


def _converter(kind, length):
    if kind in ("character varying", "text"):
        return lambda v: _text(v, length)
    return {
        "boolean": _flag,
        "timestamp without time zone": _datetime,
        "date": _date,
        "bytea": _bytes,
        "double precision": float,
    }.get(kind)


def _flag(v):
    if v in (0, 1) or v in ("0", "1"):
        return bool(int(v))
    raise ValueError(f"{v!r} is not a 0/1 flag")


def _datetime(v):
    if isinstance(v, dt.datetime):
        value = v
    elif isinstance(v, str):
        value = dt.datetime.fromisoformat(v)
    else:
        raise ValueError(f"{v!r} is not a date and time")
    if value.tzinfo is not None:  # times are stored in UTC, without a zone
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _date(v):
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v
    if isinstance(v, str):
        return dt.date.fromisoformat(v)
    raise ValueError(f"{v!r} is not a date")


def _bytes(v):
    return v.encode() if isinstance(v, str) else bytes(v)


def _text(v, length):
    if isinstance(v, bytes):
        v = v.decode()  # a BLOB in a text column: UTF-8 text, or refused
    elif not isinstance(v, str):
        v = str(v)
    if length is not None and len(v) > length:
        raise ValueError(f"{len(v)} characters, more than the column's {length}")
    if "\x00" in v:
        raise ValueError("a NUL character, which PostgreSQL text cannot hold")
    return v
