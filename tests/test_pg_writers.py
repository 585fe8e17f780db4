"""On PostgreSQL, atomic("IMMEDIATE") keeps SQLite's one-writer promise with advisory locks
(portal/db.py): a signed-in user's writers queue behind their own practice's writers only;
a writer with no practice (the CLI, tasks, webhooks) waits for every writer and every
writer waits for it. The races of the suite (last slot, last credit, duplicate webhook)
run on both databases; this shows the queueing itself."""

import threading
import time

import pytest
from flask import g

from portal.db import IS_POSTGRES, database

pytestmark = pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL's advisory locks")

HOLD = 1.0  # seconds the first writer keeps its transaction open


def _writer(app, practice_id, events, name, hold=0.0):
    def run():
        with app.app_context():
            if practice_id is not None:
                g.writer_practice_id = practice_id
            database.connect(reuse_if_open=True)
            try:
                events.append((name, "waiting", time.monotonic()))
                with database.atomic("IMMEDIATE"):
                    events.append((name, "in", time.monotonic()))
                    time.sleep(hold)
                events.append((name, "out", time.monotonic()))
            finally:
                database.close()

    return threading.Thread(target=run)


def _at(events, name, what):
    return next(t for n, w, t in events if n == name and w == what)


def _race(app, first, second):
    """`second` starts while `first` holds its transaction; returns the events."""
    events = []
    a = _writer(app, first, events, "first", hold=HOLD)
    a.start()
    while not any(n == "first" and w == "in" for n, w, _ in events):
        time.sleep(0.01)
    b = _writer(app, second, events, "second")
    b.start()
    a.join(10)
    b.join(10)
    assert not a.is_alive() and not b.is_alive()
    return events


def test_writers_of_two_practices_do_not_wait_for_each_other(app):
    events = _race(app, 1, 2)
    assert _at(events, "second", "in") < _at(events, "first", "out")


def test_writers_of_one_practice_take_turns(app):
    events = _race(app, 1, 1)
    assert _at(events, "second", "in") >= _at(events, "first", "in") + HOLD


@pytest.mark.parametrize("first, second", [(None, 1), (1, None)])
def test_a_writer_without_a_practice_waits_for_all_and_all_wait_for_it(app, first, second):
    events = _race(app, first, second)
    assert _at(events, "second", "in") >= _at(events, "first", "in") + HOLD
