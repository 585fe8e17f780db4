"""What a thread is about: a generic (kind, id) link to another record of the client.

Each kind says which model it points at, which staff roles may see it, whether the client
sees it and may start a thread from it, and how it reads. Claims will register a kind of
their own (`register(LinkKind(...))`) when they exist: no column or migration changes.

Resolution is always scoped (portal.access): a link never shows more than its viewer could
open anyway, and a kind the viewer's role may not see (chart notes for the front desk and
clients) resolves to nothing at all.
"""

from dataclasses import dataclass, field

from portal import access
from portal.models import (
    ROLE_FRONTDESK,
    ROLE_OWNER,
    ROLE_THERAPIST,
    Appointment,
    ChartNote,
    Invoice,
)
from portal.models.billing import INVOICE_DRAFT
from portal.rules.slots import to_local
from portal.services.messaging.queries import row_id

ALL_STAFF = (ROLE_OWNER, ROLE_THERAPIST, ROLE_FRONTDESK)
CLINICAL = (ROLE_OWNER, ROLE_THERAPIST)


@dataclass(frozen=True)
class LinkKind:
    name: str
    model: type
    noun: str  # "appointment": what the link is, in words ("a linked appointment")
    describe: object  # fn(obj, tz) -> "Appointment on Tue 3 Mar 2026, 2:00 PM"
    subject: object  # fn(obj, tz) -> a new thread's subject, shown to the client too
    staff_roles: tuple = ALL_STAFF
    staff_endpoint: str = ""  # e.g. provider.appointment, called with {staff_arg: id}
    staff_arg: str = ""
    client_sees: bool = False
    client_endpoint: str = ""  # a page of the client portal (no id)
    client_may_start: bool = False
    client_may_link: object = field(default=lambda obj: True)  # fn(obj) -> bool


KINDS = {}


def register(kind):
    KINDS[kind.name] = kind
    return kind


def _appointment(obj, tz):
    return "Appointment on " + to_local(obj.starts_at, tz).strftime("%a %-d %b %Y, %-I:%M %p")


def _invoice(obj, tz):
    return f"Invoice {obj.number}" if obj.number else "Invoice (draft)"


def _note(obj, tz):
    return "Chart note of " + obj.visit_date.strftime("%-d %b %Y")


def _visit(obj, tz):
    # The subject is the client's to read: it names the visit, never the chart note.
    return "Your visit on " + obj.visit_date.strftime("%-d %b %Y")


register(
    LinkKind(
        name="appointment",
        model=Appointment,
        noun="appointment",
        describe=_appointment,
        subject=_appointment,
        staff_endpoint="provider.appointment",
        staff_arg="appointment_id",
        client_sees=True,
        client_endpoint="client.appointments",
        client_may_start=True,
    )
)
register(
    LinkKind(
        name="invoice",
        model=Invoice,
        noun="invoice",
        describe=_invoice,
        subject=_invoice,
        staff_endpoint="provider.invoice",
        staff_arg="invoice_id",
        client_sees=True,
        client_endpoint="client.invoices",
        client_may_start=True,
        client_may_link=lambda inv: inv.status != INVOICE_DRAFT,
    )
)
# Chart notes: therapists and owners only. The front desk sees the thread, never the
# note or that one is linked; the client never sees chart notes.
register(
    LinkKind(
        name="note",
        model=ChartNote,
        noun="visit",
        describe=_note,
        subject=_visit,
        staff_roles=CLINICAL,
        staff_endpoint="provider.note_view",
        staff_arg="note_id",
    )
)


@dataclass(frozen=True)
class Link:
    kind: LinkKind
    obj: object  # None when the record is gone
    label: str
    endpoint: str  # "" when there is no page to open
    args: dict


def may_see(kind, user):
    if user.is_client:
        return kind.client_sees
    return user.role in kind.staff_roles


def target(kind_name, object_id, user):
    """(kind, object) for a new thread's link, or None: unknown kind, a kind this user may
    not link, or a record outside their scope (the view answers 404)."""
    kind = KINDS.get(kind_name)
    if kind is None or not may_see(kind, user):
        return None
    if user.is_client and not kind.client_may_start:
        return None
    object_id = row_id(object_id)
    if object_id is None:
        return None
    obj = access.scoped(kind.model, user=user).where(kind.model.id == object_id).first()
    if obj is None or (user.is_client and not kind.client_may_link(obj)):
        return None
    return kind, obj


def resolve(thread, user, tz):
    """The thread's link as `user` may see it, or None."""
    kind = KINDS.get(thread.link_kind)
    if kind is None or thread.link_id is None or not may_see(kind, user):
        return None
    obj = access.scoped(kind.model, user=user).where(kind.model.id == thread.link_id).first()
    if obj is None:
        return Link(kind, None, f"A linked {kind.noun} (no longer available)", "", {})
    label = kind.describe(obj, tz)
    if user.is_client:
        return Link(kind, obj, label, kind.client_endpoint, {})
    return Link(kind, obj, label, kind.staff_endpoint, {kind.staff_arg: obj.id})
