"""Clients: search, create, update, archive. Every change is audited (field names only)."""

import datetime as dt
import hashlib
import re
from typing import NamedTuple

from flask_login import current_user
from peewee import JOIN, fn

from portal import access, audit, clock
from portal.db import database, nocase, prefix_like, prefix_pattern
from portal.models import Client, Provider
from portal.models.practice import provider_name
from portal.services import reads

PAGE_SIZE = 25

CLIENT_FIELDS = (
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "email",
    "phone",
    "address1",
    "address2",
    "city",
    "state",
    "postal_code",
    "emergency_name",
    "emergency_phone",
    "emergency_relationship",
    "therapist",
)

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%m.%d.%Y")


def digits(text):
    return re.sub(r"\D", "", text or "")


def parse_date(text):
    text = (text or "").strip()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _clients(user, include_archived):
    query = access.scoped(Client, user=user, query=Client.select(Client.id))
    if not include_archived:
        query = query.where(Client.active == True)  # noqa: E712
    return query


# A word of a name search matches the start of any of these (case-insensitively).
NAME_COLUMNS = (Client.last_name, Client.first_name, Client.preferred_name, Client.email)


def search_query(q, user=None, include_archived=False):
    """The ids of the clients `user` may see that match `q` (name, phone, e-mail or date of
    birth), as a select of Client.id.

    Each word of a name search must match the start of one of the name columns: an OR of
    prefix matches, each an index range (migrations 0006 and 0010), which SQLite reads as
    the union of those ranges (a MULTI-INDEX OR) and PostgreSQL as a BitmapOr; the other
    words filter what the first one found. No statement reads every client of the practice.
    One flat select, not a UNION per word: peewee's SQL for the unions cost more than
    SQLite took to run them."""
    q = (q or "").strip()[:100]
    patterns = name_patterns(q)
    if patterns is not None:
        return _name_query(user, include_archived, patterns)
    query = _clients(user, include_archived)
    if not q:
        return query
    born = parse_date(q)
    if born is not None:
        return query.where(Client.date_of_birth == born)
    if "@" in q:
        return query.where(Client.email.contains(q.lower()))
    return query.where(Client.phone_digits.contains(digits(q)))


def name_patterns(q):
    """The prefix patterns of a name search's words (up to four), or None when `q` is no
    name search (empty, a date of birth, an e-mail or phone digits)."""
    q = (q or "").strip()[:100]
    if not q or parse_date(q) is not None or "@" in q:
        return None
    phone = digits(q)
    if phone and len(phone) >= 3 and re.fullmatch(r"[\d\s().+-]+", q):
        return None
    return [prefix_pattern(token) for token in q.replace(",", " ").split()[:4]]


def _name_query(user, include_archived, patterns):
    query = _clients(user, include_archived)
    if include_archived:
        # Both values named, so each name index (practice, active, name) is still a range.
        query = query.where(Client.active.in_((True, False)))
    for pattern in patterns:
        word = None
        for column in NAME_COLUMNS:
            one = prefix_like(column, pattern)
            word = one if word is None else word | one
        query = query.where(word)
    return query


def _order():
    # Case-insensitive by name: COLLATE NOCASE folds A-Z exactly as SQLite's lower() does
    # (ASCII only), so the order is lower()'s, without building two strings per match.
    return (nocase(Client.last_name), nocase(Client.first_name), Client.id)


# What the list shows of each client (and of the assigned therapist).
LIST_COLUMNS = (
    Client.id,
    Client.first_name,
    Client.last_name,
    Client.preferred_name,
    Client.date_of_birth,
    Client.phone,
    Client.email,
    Client.active,
    Client.therapist,
)


def _page_query(matches, limit, offset):
    # The page's ids first: SQLite sorts every match, and sorting bare ids carries far less
    # than whole rows; then the shown columns of those rows, in the same order. Joined, not
    # `IN (ids)`: peewee writes an IN's subquery out twice (once to see if it is empty).
    ids = matches.order_by(*_order()).limit(limit).offset(offset).alias("page")
    return (
        Client.select(*LIST_COLUMNS, Provider.first_name, Provider.last_name, Provider.credentials)
        .join(ids, on=(Client.id == ids.c.id))
        .join_from(Client, Provider, JOIN.LEFT_OUTER, on=(Client.therapist == Provider.id))
        .order_by(*_order())
    )


class ClientRow(NamedTuple):
    """One line of the client list: what it shows, formatted once."""

    id: int
    first_name: str
    last_name: str
    preferred_name: str
    born: str  # MM/DD/YYYY or ""
    phone: str
    email: str
    active: bool
    therapist: str  # the therapist's display name or ""


def _list_row(values):
    cid, first, last, preferred, born, phone, email, active, therapist_id = values[:9]
    t_first, t_last, t_credentials = values[9:]
    therapist = ""
    if therapist_id is not None and t_last is not None:
        therapist = provider_name(t_first, t_last, t_credentials)
    return ClientRow(
        cid,
        first,
        last,
        preferred or "",
        born.strftime("%m/%d/%Y") if born else "",
        phone or "",
        email or "",
        bool(active),
        therapist,
    )


def search(q, page=1, user=None, include_archived=False, page_size=PAGE_SIZE):
    """(ClientRows on this page, total matches, page, pages), within what `user` (default:
    the current user) may see. The unfiltered list, the page most often opened, has its SQL
    built once per scope."""
    user = user or current_user._get_current_object()
    words = {}
    key = None
    if not (q or "").strip():
        key = ("client_list", *access.scope_key(user), include_archived)
        matches = _clients(user, include_archived)
    elif (patterns := name_patterns(q)) is not None:
        # A name search's SQL has one shape per number of words: its patterns are values.
        words = {f"w{i}": p for i, p in enumerate(patterns)}
        key = ("client_search", len(words), *access.scope_key(user), include_archived)
        matches = None
    else:
        matches = search_query(q, user=user, include_archived=include_archived)

    def _matches(w):
        if matches is not None:
            return matches
        return _name_query(user, include_archived, [w[f"w{i}"] for i in range(len(w))])

    def count(**w):
        return _matches(w).select(fn.COUNT(Client.id))

    total = reads.rows(key and (*key, "count"), count, words)[0][0]
    pages = max(1, (total + page_size - 1) // page_size)
    page = min(max(1, page), pages)
    if not total:
        return [], total, page, pages

    def rows(limit, offset, **w):
        return _page_query(_matches(w), limit, offset)

    values = {"limit": page_size, "offset": (page - 1) * page_size, **words}
    found = reads.rows(key, rows, values)
    return [_list_row(r) for r in found], total, page, pages


def _normal(name, value):
    """A form's value as stored: text stripped, e-mail lower case, state upper case, the
    therapist as an id."""
    if isinstance(value, str):
        value = value.strip()
    if name == "email":
        value = (value or "").lower()
    if name == "state":
        value = (value or "").upper()
    if name == "therapist":
        value = value.id if value is not None else None
    return value


def _stored(client, name):
    return client.therapist_id if name == "therapist" else getattr(client, name)


def _apply(client, data):
    changed = []
    for name in CLIENT_FIELDS:
        if name not in data:
            continue
        new = _normal(name, data[name])
        if _stored(client, name) != new:
            changed.append(name)
            if name == "therapist":
                client.therapist = data[name]
            else:
                setattr(client, name, new)
    client.phone_digits = digits(client.phone)
    return changed


def version(client, fields=CLIENT_FIELDS):
    """A fingerprint of the client's `fields` as stored: a form carries the one it was
    opened on, so a save over a later change (the client's own, or a colleague's) is
    refused instead of overwriting it silently."""
    raw = repr([(name, _stored(client, name)) for name in fields])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


class ClientChanged(Exception):
    """The client's details changed after the form was opened (`missing`: the form did not
    say which version it was opened on). `differences`: [(field, stored now, typed)];
    `version`: the stored one now, for the form to save over it knowingly; `saved_by`: a
    name, or None when it was the same user."""

    def __init__(self, differences, version, saved_at, saved_by, missing):
        super().__init__("These details were changed after the form was opened.")
        self.differences = differences
        self.version = version
        self.saved_at = saved_at
        self.saved_by = saved_by
        self.missing = missing


def create(practice, data):
    with database.atomic("IMMEDIATE"):
        client = Client(practice=practice)
        _apply(client, data)
        client.updated_at = clock.utcnow()
        client.save()
        audit.record("client.create", obj=client)
    return client


def update(client, data, version_read, user):
    """Save the form's `data` over the client's details, in one transaction, when the
    stored details are still the `version_read` the form was opened on; else raise
    ClientChanged with what differs. Returns the names of the fields changed."""
    fields = [name for name in CLIENT_FIELDS if name in data]
    with database.atomic("IMMEDIATE"):
        stored = Client.get_by_id(client.id)
        now = version(stored, fields)
        if version_read != now:
            pairs = [(name, _stored(stored, name), _normal(name, data[name])) for name in fields]
            differences = [p for p in pairs if (p[1] or None) != (p[2] or None)]
            by = audit.last_editor("client", client.id, ("client.create", "client.update"), user)
            raise ClientChanged(differences, now, stored.updated_at, by, not version_read)
        changed = _apply(stored, data)
        if changed:
            stored.updated_at = clock.utcnow()
            stored.save()
            audit.record("client.update", obj=stored, detail=",".join(changed), user=user)
    return changed


def set_archived(client, archived):
    with database.atomic("IMMEDIATE"):
        client.active = not archived
        client.archived_at = clock.utcnow() if archived else None
        client.updated_at = clock.utcnow()
        client.save()
        audit.record("client.archive" if archived else "client.restore", obj=client)
