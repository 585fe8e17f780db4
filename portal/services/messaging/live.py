"""Live updates by polling: unread counts and a stamp of what a page shows.

Every portal page (staff and client layouts) carries a small poller: HTMX asks the live
URL every POLL_SECONDS with the data version (`v`) and a stamp (`s`) of what the page
shows. The reasons for polling over server-sent events are in the README ("Messaging").

Per poll, the cheap path answers most of them:
1. `v` equals the current data version (read by auth before the view anyway: migration
   0007's counter that every write changes): nothing changed anywhere -> 204, no query.
2. Otherwise the state is computed again (two or three indexed queries, remembered per
   user, thread and data version) and compared with `s`: equal -> only a new poller.
3. Different -> the new badge and the names of what changed ("messages-changed",
   "thread-changed", "unread-changed"), which the page's parts listen to and reload
   themselves on (the inbox list, the open thread, the home page's line).
"""

import threading
from dataclasses import dataclass

from flask import current_app, g
from peewee import JOIN, fn

from portal import access
from portal.db import data_version, database
from portal.models.messaging import MessageRead, MessageThread

DEFAULT_POLL_SECONDS = 5
EVENT_ANY = "messages-changed"
EVENT_THREAD = "thread-changed"
EVENT_UNREAD = "unread-changed"


def poll_seconds():
    return int(current_app.config.get("MESSAGES_POLL_SECONDS") or DEFAULT_POLL_SECONDS)


def current_version():
    """The data version of this request (auth reads it before the view), or read now; after
    this request wrote (a read marker), the version read after that write."""
    version = g.get("messages_data_version")
    if version is None:
        version = g.get("data_version")
    return version if version is not None else data_version()


def after_write():
    """This request changed data (e.g. marked a thread read): the badge and poller it
    renders next must reflect that, so the version is read again."""
    g.messages_data_version = data_version()


@dataclass(frozen=True)
class State:
    unread: int  # threads with something this user has not read
    newest: int  # the newest message id among the threads this user sees
    thread_newest: int  # the newest message id of the open thread (0: none open)

    @property
    def stamp(self):
        return f"{self.unread}.{self.newest}.{self.thread_newest}"


def parse_stamp(text):
    try:
        a, b, c = (int(x) for x in (text or "").split("."))
    except ValueError:
        return None
    return State(a, b, c)


# The three queries below run after every write, for every open tab's user: their SQL is
# built once per process and user shape by access.prebuilt_scoped (the same scoping as
# access.scoped), with these sentinels standing for the user and the thread.
S_USER, S_THREAD = -9_100_101, -9_100_102


def _unread_query(query, user):
    marker = MessageRead.alias("r")
    column = (
        MessageThread.last_staff_message_id
        if user.is_client
        else MessageThread.last_client_message_id
    )
    query = (
        query.select(fn.COUNT(MessageThread.id))
        .join(
            marker,
            JOIN.LEFT_OUTER,
            on=((marker.thread == MessageThread.id) & (marker.user == S_USER)),
        )
        .where(column > fn.COALESCE(marker.last_read_message_id, 0))
    )
    if not user.is_client:
        query = query.where(MessageThread.done_at.is_null())
    return query


def _scalar(key, build, user, extra=None):
    sql, params = access.prebuilt_scoped(key, MessageThread, build, user=user, extra=extra)
    row = database.execute_sql(sql, params).fetchone()
    return (row[0] if row else 0) or 0


def unread_count(user):
    """Threads with a message this user has not read: for staff, open threads whose newest
    client message is past their marker (a client's message reopens a done thread); for a
    client, threads whose newest staff message is."""
    return _scalar("messages.unread", _unread_query, user, {S_USER: user.id})


def newest_message(user):
    return _scalar(
        "messages.newest",
        lambda q, u: q.select(fn.MAX(MessageThread.last_message_id)),
        user,
    )


def thread_newest(user, thread_id):
    if not thread_id:
        return 0
    return _scalar(
        "messages.thread_newest",
        lambda q, u: q.select(MessageThread.last_message_id).where(MessageThread.id == S_THREAD),
        user,
        {S_THREAD: thread_id},
    )


# Per process: (database, user, thread, data version) -> State. The data version changes
# with every write (a message, a read marker, a reassigned client, a practice setting), so
# an entry is never stale; 50 tabs of one user cost one computation per version.
_MEMO = {}
_MEMO_MAX = 4096
_MEMO_LOCK = threading.Lock()


def state(user, thread_id=0, version=None):
    key = (database.database, user.id, thread_id, version)
    if version is not None:
        hit = _MEMO.get(key)
        if hit is not None:
            return hit
    found = State(unread_count(user), newest_message(user), thread_newest(user, thread_id))
    if version is not None:
        with _MEMO_LOCK:
            if len(_MEMO) >= _MEMO_MAX:
                _MEMO.clear()
            _MEMO[key] = found
    return found


def events(old, new):
    """What changed between the stamp a page had and now."""
    out = []
    if old is None or old.newest != new.newest:
        out.append(EVENT_ANY)
    if new.thread_newest and (old is None or old.thread_newest != new.thread_newest):
        out.append(EVENT_THREAD)
    if old is None or old.unread != new.unread:
        out.append(EVENT_UNREAD)
    return out
