"""Scoped reads as plain values, for the list pages (claims, invoices): the rows of a scoped
query as tuples, and the dates in them as Python dates whichever way they came.

With the speed-ups on (portal/speedups.py), a query's SQL is built once per shape and user
scope and run straight from the cursor: building the SQL of a list's query costs peewee
more than SQLite takes to run it. The cursor then gives dates and datetimes as SQLite
stores them (ISO text) where PostgreSQL, and peewee's own reading, give date objects:
`as_date` and `as_datetime` take either.
"""

import datetime as dt

from portal import speedups
from portal.access import scope_key, scoped
from portal.db import database


def scoped_rows(key, model, user, build, values=None):
    """The rows of `build(scoped(model, user), **values)` as tuples. `key` names everything
    else the query's shape depends on (the SQL is kept per key and user scope)."""
    return rows((key, *scope_key(user)), lambda **v: build(scoped(model, user=user), **v), values)


def rows(key, build, values=None):
    """The rows of `build(**values)` as tuples, for a query whose shape `key` names (None:
    a shape not worth keeping, built each time)."""
    values = values or {}
    if key is None or not speedups.enabled():
        return list(build(**values).tuples())
    sql, params = speedups.built_once(key, build, values)
    return database.execute_sql(sql, params).fetchall()


def objects(key, model, build, values):
    """The `model` instances of the select build(**values) returns, its SQL built once per
    `key` while the speed-ups are on (peewee's Model.raw reads the rows into instances, each
    column through its field). Columns of joined tables land on the instance as plain
    attributes, both ways (`.objects()` when the speed-ups are off)."""
    if not speedups.enabled():
        return list(build(**values).objects())
    sql, params = speedups.built_once(key, build, values)
    return list(model.raw(sql, *params))


def as_date(value):
    """A date column's value as a date (None stays None)."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value[:10])


def as_datetime(value):
    """A datetime column's value as a naive datetime (None stays None)."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)
