"""What a client's home shows first, on a phone: the next visit, booking the same again,
package credits and their expiry, what is owed, and what needs doing (an unsigned intake
form, a card on file about to expire, an insurance policy without a card photo); then
their latest documents, insurance cards, profile and choices.

Reads only: a fixed number of indexed queries per home, whatever the client's history,
each selecting just the columns the home shows (rows as tuples, services/reads.py).
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import quote_plus

from peewee import JOIN, fn

from portal import clock
from portal.models import (
    Appointment,
    AppointmentType,
    BookingPolicy,
    CardImage,
    Client,
    ClientPreference,
    CreditLedger,
    InsurancePolicy,
    IntakeForm,
    IntakeSubmission,
    Invoice,
    PackagePurchase,
    Payer,
    Provider,
    SavedPaymentMethod,
    StoredDocument,
)
from portal.rules import appointments as appt_rules
from portal.rules import slots as slot_rules
from portal.services import account_credit, packages, reads

CARD_WARNING_DAYS = 45  # a saved card expiring within this many days needs a new one
DOCUMENT_KINDS = ("superbill", "receipt", "letter", "invoice")
DUE_STATUSES = ("open", "partially_paid")


@dataclass
class Todo:
    text: str
    endpoint: str
    label: str
    args: dict = field(default_factory=dict)


class Visit(NamedTuple):
    id: int
    starts_at: dt.datetime
    status: str
    type_name: str
    provider_first: str
    provider_last: str


class BookAgain(NamedTuple):
    type_id: int
    provider_id: int
    type_name: str
    provider_first: str


class Credit(NamedTuple):
    name: str
    sessions_total: int
    expires_at: dt.datetime | None
    balance: int


class Document(NamedTuple):
    id: int
    kind: str
    title: str
    created_at: dt.datetime


class Prefs(NamedTuple):
    monthly_superbill: bool
    document_emails: bool


@dataclass
class Home:
    client: Client | None = None
    next_visit: Visit | None = None
    next_is_today: bool = False
    may_change: bool = False
    may_reschedule: bool = False
    upcoming_count: int = 0
    book_again: BookAgain | None = None
    credits: list = field(default_factory=list)  # [Credit] with sessions left
    due: list = field(default_factory=list)  # [Invoice] with a balance
    due_cents: int = 0
    account_credit_cents: int = 0  # money the practice keeps for the client
    todos: list = field(default_factory=list)
    documents: list = field(default_factory=list)  # [Document], newest first
    policies: list = field(default_factory=list)  # [(payer name, has_front, has_back)]
    prefs: Prefs | None = None
    directions_url: str = ""


def directions_url(practice):
    parts = [practice.address1, practice.city, practice.state, practice.postal_code]
    address = ", ".join(p for p in parts if p)
    if not address:
        return ""
    return "https://www.openstreetmap.org/search?query=" + quote_plus(address)


# The client's own details (the profile card, the greeting, the view audit) with their
# saved choices: no ClientPreference row means the defaults.
_CLIENT = (
    Client.id,
    Client.practice,
    Client.first_name,
    Client.last_name,
    Client.preferred_name,
    Client.email,
    Client.phone,
    Client.address1,
    Client.city,
)


def _client_query(client_id):
    return (
        Client.select(
            *_CLIENT, ClientPreference.monthly_superbill, ClientPreference.document_emails
        )
        .join(ClientPreference, JOIN.LEFT_OUTER, on=(ClientPreference.client == Client.id))
        .where(Client.id == client_id)
    )


def _client(home, client_id):
    row = reads.rows("client_home.client", _client_query, {"client_id": client_id})[0]
    home.client = Client(**{f.name: v for f, v in zip(_CLIENT, row, strict=False)})
    monthly, emails = row[len(_CLIENT) :]
    home.prefs = Prefs(
        ClientPreference.monthly_superbill.default if monthly is None else monthly,
        ClientPreference.document_emails.default if emails is None else emails,
    )


def _with_names(*columns):
    """A select of `columns` of appointments joined to their type and their provider."""
    return (
        Appointment.select(*columns)
        .join(AppointmentType, on=(Appointment.appointment_type == AppointmentType.id))
        .switch(Appointment)
        .join(Provider, on=(Appointment.provider == Provider.id))
    )


def _upcoming_query(client_id, now):
    # With the practice's cancellation window (no policy row: the default window).
    return (
        _with_names(
            Appointment.id,
            Appointment.starts_at,
            Appointment.status,
            AppointmentType.name,
            Provider.first_name,
            Provider.last_name,
            BookingPolicy.cancellation_window_hours,
        )
        .switch(Appointment)
        .join(
            BookingPolicy,
            JOIN.LEFT_OUTER,
            on=(BookingPolicy.practice == Appointment.practice),
        )
        .where(
            (Appointment.client == client_id)
            & Appointment.status.in_((appt_rules.BOOKED, appt_rules.CHECKED_IN))
            & (Appointment.ends_at > now)
        )
        .order_by(Appointment.starts_at)
        .limit(10)
    )


def _book_again_query(client_id, now):
    return (
        _with_names(
            Appointment.appointment_type,
            Appointment.provider,
            AppointmentType.name,
            Provider.first_name,
        )
        .where(
            (Appointment.client == client_id)
            & (Appointment.starts_at <= now)
            & (AppointmentType.online_bookable == True)  # noqa: E712
            & (AppointmentType.active == True)  # noqa: E712
        )
        .order_by(Appointment.starts_at.desc())
        .limit(1)
    )


def _visits(home, client_id, practice, now):
    values = {"client_id": client_id, "now": now}
    upcoming = reads.rows("client_home.upcoming", _upcoming_query, values)
    home.upcoming_count = len(upcoming)
    if upcoming:
        *visit, window = upcoming[0]
        if window is None:
            window = BookingPolicy.cancellation_window_hours.default
        nxt = home.next_visit = Visit(*visit)
        tz = practice.tz
        home.next_is_today = (
            slot_rules.to_local(nxt.starts_at, tz).date() == slot_rules.to_local(now, tz).date()
        )
        home.may_change = appt_rules.client_may_change(nxt.status, starts_at=nxt.starts_at, now=now)
        home.may_reschedule = home.may_change and not slot_rules.is_late_cancellation(
            nxt.starts_at, now, window
        )
    again = reads.rows("client_home.book_again", _book_again_query, values)
    home.book_again = BookAgain(*again[0]) if again else None


def _credits_query(client_id, now):
    # One statement, whatever the client holds: each live purchase with its ledger's sum.
    balance = fn.COALESCE(fn.SUM(CreditLedger.delta), 0)
    return (
        PackagePurchase.select(
            PackagePurchase.name,
            PackagePurchase.sessions_total,
            PackagePurchase.expires_at,
            balance,
        )
        .join(CreditLedger, JOIN.LEFT_OUTER, on=(CreditLedger.purchase == PackagePurchase.id))
        .where((PackagePurchase.client == client_id) & packages.usable(now))
        .group_by(PackagePurchase.id)
        .order_by(PackagePurchase.expires_at.is_null(), PackagePurchase.expires_at)
    )


def _due_query(client_id):
    return (
        Invoice.select(
            Invoice.id,
            Invoice.status,
            Invoice.total_cents,
            Invoice.paid_cents,
            Invoice.refunded_cents,
            Invoice.settled_cents,
        )
        .where((Invoice.client == client_id) & Invoice.status.in_(DUE_STATUSES))
        .order_by(Invoice.due_date, Invoice.id)
    )


def _money(home, client_id, now):
    values = {"client_id": client_id, "now": now}
    for name, total, expires_at, balance in reads.rows(
        "client_home.credits", _credits_query, values
    ):
        balance = int(balance or 0)
        if balance > 0:
            home.credits.append(Credit(name, total, expires_at, balance))
    for iid, status, total, paid, refunded, settled in reads.rows(
        "client_home.due", _due_query, {"client_id": client_id}
    ):
        inv = Invoice(
            id=iid,
            status=status,
            total_cents=total,
            paid_cents=paid,
            refunded_cents=refunded,
            settled_cents=settled,
        )
        if inv.balance_cents > 0:
            home.due.append(inv)
    home.due_cents = sum(inv.balance_cents for inv in home.due)
    home.account_credit_cents = account_credit.balance(client_id)


def _unsigned_forms_query(client_id, practice_id):
    # The practice's active forms this client has no signed submission of.
    signed = IntakeSubmission.select(IntakeSubmission.id).where(
        (IntakeSubmission.client == client_id) & (IntakeSubmission.form == IntakeForm.id)
    )
    return (
        IntakeForm.select(IntakeForm.id, IntakeForm.title)
        .where((IntakeForm.practice == practice_id) & IntakeForm.active & ~fn.EXISTS(signed))
        .order_by(IntakeForm.position, IntakeForm.id)
    )


def _cards_query(client_id):
    return SavedPaymentMethod.select(
        SavedPaymentMethod.brand,
        SavedPaymentMethod.last4,
        SavedPaymentMethod.exp_month,
        SavedPaymentMethod.exp_year,
    ).where((SavedPaymentMethod.client == client_id) & SavedPaymentMethod.active)


def _has_side(client_id, side):
    return fn.EXISTS(
        CardImage.select(CardImage.id).where(
            (CardImage.policy == InsurancePolicy.id)
            & (CardImage.client == client_id)
            & (CardImage.side == side)
            & CardImage.replaced_at.is_null()
        )
    )


def _policies_query(client_id):
    # Each active policy's payer, whether a current front and back photo are on file, and
    # its end date.
    return (
        InsurancePolicy.select(
            Payer.name,
            _has_side(client_id, "front"),
            _has_side(client_id, "back"),
            InsurancePolicy.end_date,
        )
        .join(Payer)
        .where((InsurancePolicy.client == client_id) & (InsurancePolicy.active == True))  # noqa: E712
        .order_by(InsurancePolicy.rank, InsurancePolicy.id)
    )


def _todos(home, client_id, practice, now):
    for form_id, title in reads.rows(
        "client_home.unsigned_forms",
        _unsigned_forms_query,
        {"client_id": client_id, "practice_id": practice.id},
    ):
        home.todos.append(
            Todo(
                f"Fill in and sign “{title}”.",
                "client.intake_fill",
                "Fill in",
                {"form_id": form_id},
            )
        )
    soon = (now + dt.timedelta(days=CARD_WARNING_DAYS)).date()
    for brand, last4, exp_month, exp_year in reads.rows(
        "client_home.cards", _cards_query, {"client_id": client_id}
    ):
        if exp_year and dt.date(exp_year, exp_month, 1) <= soon.replace(day=1):
            past = (exp_year, exp_month) < (now.year, now.month)
            word = "has expired" if past else "expires soon"
            label = SavedPaymentMethod(brand=brand, last4=last4).label
            home.todos.append(
                Todo(
                    f"Your saved {label} {word}: save a new card.", "client.invoices", "Update card"
                )
            )
    values = {"client_id": client_id}
    today = clock.to_local(now, practice.tz).date()
    for payer, front, back, end in reads.rows("client_home.policies", _policies_query, values):
        if end is not None and end < today:
            continue  # it ended: no card to send
        home.policies.append((payer, bool(front), bool(back)))
        if not front:
            home.todos.append(
                Todo(f"Send a photo of your {payer} card.", "client.insurance", "Send photo")
            )


def _documents_query(client_id):
    return (
        StoredDocument.select(
            StoredDocument.id, StoredDocument.kind, StoredDocument.title, StoredDocument.created_at
        )
        .where((StoredDocument.client == client_id) & StoredDocument.kind.in_(DOCUMENT_KINDS))
        .order_by(StoredDocument.id.desc())
        .limit(3)
    )


def home_for(client_id, practice, now=None):
    """The home of the client `client_id` (the signed-in client's own id)."""
    now = now or clock.utcnow()
    home = Home(directions_url=directions_url(practice))
    _client(home, client_id)
    _visits(home, client_id, practice, now)
    _money(home, client_id, now)
    _todos(home, client_id, practice, now)
    home.documents = [
        Document(*row)
        for row in reads.rows("client_home.documents", _documents_query, {"client_id": client_id})
    ]
    return home
