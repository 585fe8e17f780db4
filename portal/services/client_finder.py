"""Finding a client at the desk: the type-ahead (name, phone, e-mail or date of birth,
with date of birth and phone shown to tell people apart) and the duplicate check on a new
client (same name and date of birth, or the same e-mail or phone).

The matching itself is `portal.services.clients.search_query` (one definition of what
matches); the finder reads only the columns it shows, a handful of rows at a time.
"""

from dataclasses import dataclass

from peewee import Value

from portal import access
from portal.db import nocase
from portal.models import Client
from portal.services import clients as client_svc

LIMIT = 8
MIN_CHARS = 2


@dataclass(frozen=True)
class Found:
    id: int
    first_name: str
    last_name: str
    preferred_name: str
    date_of_birth: object
    phone: str
    email: str
    active: bool = True

    @property
    def name(self):
        first = self.first_name
        if self.preferred_name and self.preferred_name != self.first_name:
            first = f"{first} ({self.preferred_name})"
        return f"{self.last_name}, {first}"

    @property
    def born(self):
        return self.date_of_birth.strftime("%m/%d/%Y") if self.date_of_birth else "—"


_COLUMNS = (
    Client.id,
    Client.first_name,
    Client.last_name,
    Client.preferred_name,
    Client.date_of_birth,
    Client.phone,
    Client.email,
    Client.active,
)


def _order():
    return (nocase(Client.last_name), nocase(Client.first_name), Client.id)


def find(q, user=None, limit=LIMIT):
    """([Found], more) for the words typed: active clients the user may see, by name, a
    part of the phone number (3+ digits), e-mail or date of birth; `more` says that there
    are more matches than shown. Fewer than two characters find nothing."""
    q = (q or "").strip()
    if len(q) < MIN_CHARS:
        return [], False
    query = client_svc.search_query(q, user=user)
    rows = list(query.select(*_COLUMNS).order_by(*_order()).limit(limit + 1).tuples())
    return [Found(*r) for r in rows[:limit]], len(rows) > limit


def possible_duplicates(practice_id, data, exclude_id=None, user=None):
    """Clients of the practice who may be this person: the same first and last name and
    date of birth, or the same e-mail, or the same phone number. [Found], at most 10."""
    first = (data.get("first_name") or "").strip()
    last = (data.get("last_name") or "").strip()
    born = data.get("date_of_birth")
    email = (data.get("email") or "").strip().lower()
    phone = client_svc.digits(data.get("phone") or "")
    same = []
    if first and last and born:
        same.append(
            (nocase(Client.first_name) == nocase(Value(first)))
            & (nocase(Client.last_name) == nocase(Value(last)))
            & (Client.date_of_birth == born)
        )
    if email:
        same.append(Client.email == email)
    if len(phone) >= 7:
        same.append(Client.phone_digits == phone)
    if not same:
        return []
    cond = same[0]
    for c in same[1:]:
        cond = cond | c
    query = access.scoped(Client, user=user).where(cond)
    if exclude_id:
        query = query.where(Client.id != exclude_id)
    rows = query.select(*_COLUMNS).order_by(*_order()).limit(10).tuples()
    return [Found(*r) for r in rows]


def why_duplicate(found, data):
    """The words for why `found` may be the same person as `data`."""
    reasons = []
    if (
        found.first_name.lower() == (data.get("first_name") or "").strip().lower()
        and found.last_name.lower() == (data.get("last_name") or "").strip().lower()
        and found.date_of_birth == data.get("date_of_birth")
    ):
        reasons.append("same name and date of birth")
    if found.email and found.email == (data.get("email") or "").strip().lower():
        reasons.append("same e-mail")
    if client_svc.digits(found.phone) and client_svc.digits(found.phone) == client_svc.digits(
        data.get("phone") or ""
    ):
        reasons.append("same phone")
    return ", ".join(reasons)
