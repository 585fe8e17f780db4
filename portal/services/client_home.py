"""What a client's home shows first, on a phone: the next visit, booking the same again,
package credits and their expiry, what is owed, and what needs doing (an unsigned intake
form, a card on file about to expire, an insurance policy without a card photo); then
their latest documents, insurance cards, profile and choices.

Reads only: a fixed number of indexed queries per home, whatever the client's history.
"""

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import quote_plus

from peewee import JOIN, fn

from portal import clock
from portal.models import (
    Appointment,
    AppointmentType,
    CardImage,
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
from portal.models.billing import PURCHASE_ACTIVE
from portal.rules import appointments as appt_rules
from portal.rules import slots as slot_rules
from portal.services import client_account
from portal.services.scheduling.catalog import policy_for

CARD_WARNING_DAYS = 45  # a saved card expiring within this many days needs a new one


@dataclass
class Todo:
    text: str
    endpoint: str
    label: str
    args: dict = field(default_factory=dict)


@dataclass
class Home:
    next_visit: Appointment | None = None
    next_is_today: bool = False
    may_change: bool = False
    may_reschedule: bool = False
    upcoming_count: int = 0
    book_again: Appointment | None = None
    credits: list = field(default_factory=list)
    due: list = field(default_factory=list)
    due_cents: int = 0
    todos: list = field(default_factory=list)
    documents: list = field(default_factory=list)
    policies: list = field(default_factory=list)  # [(policy, has_front, has_back)]
    prefs: ClientPreference | None = None
    directions_url: str = ""


def directions_url(practice):
    parts = [practice.address1, practice.city, practice.state, practice.postal_code]
    address = ", ".join(p for p in parts if p)
    if not address:
        return ""
    return "https://www.openstreetmap.org/search?query=" + quote_plus(address)


def _with_names():
    return (
        Appointment.select(Appointment, AppointmentType, Provider)
        .join(AppointmentType, on=Appointment.appointment_type == AppointmentType.id)
        .switch(Appointment)
        .join(Provider, on=Appointment.provider == Provider.id)
    )


def _visits(home, client, practice, now):
    active = (appt_rules.BOOKED, appt_rules.CHECKED_IN)
    upcoming = list(
        _with_names()
        .where(
            (Appointment.client == client.id)
            & Appointment.status.in_(active)
            & (Appointment.ends_at > now)
        )
        .order_by(Appointment.starts_at)
        .limit(10)
    )
    home.upcoming_count = len(upcoming)
    window = policy_for(practice.id).cancellation_window_hours  # read either way: one count
    if upcoming:
        nxt = home.next_visit = upcoming[0]
        tz = practice.tz
        home.next_is_today = (
            slot_rules.to_local(nxt.starts_at, tz).date() == slot_rules.to_local(now, tz).date()
        )
        home.may_change = appt_rules.client_may_change(nxt.status, starts_at=nxt.starts_at, now=now)
        home.may_reschedule = home.may_change and not slot_rules.is_late_cancellation(
            nxt.starts_at, now, window
        )
    home.book_again = (
        _with_names()
        .where(
            (Appointment.client == client.id)
            & (Appointment.starts_at <= now)
            & (AppointmentType.online_bookable == True)  # noqa: E712
            & (AppointmentType.active == True)  # noqa: E712
        )
        .order_by(Appointment.starts_at.desc())
        .first()
    )


def _credits(home, client, now):
    # One statement, whatever the client holds: each live purchase with its ledger's sum.
    balance = fn.COALESCE(fn.SUM(CreditLedger.delta), 0).alias("balance")
    purchases = (
        PackagePurchase.select(PackagePurchase, balance)
        .join(CreditLedger, JOIN.LEFT_OUTER, on=(CreditLedger.purchase == PackagePurchase.id))
        .where(
            (PackagePurchase.client == client.id)
            & (PackagePurchase.status == PURCHASE_ACTIVE)
            & (PackagePurchase.expires_at.is_null() | (PackagePurchase.expires_at > now))
        )
        .group_by(PackagePurchase.id)
        .order_by(PackagePurchase.expires_at.is_null(), PackagePurchase.expires_at)
    )
    for p in purchases:
        p.balance = int(p.balance or 0)
        if p.balance > 0:
            home.credits.append(p)


def _money(home, client):
    home.due = [
        inv
        for inv in Invoice.select()
        .where((Invoice.client == client.id) & Invoice.status.in_(["open", "partially_paid"]))
        .order_by(Invoice.due_date, Invoice.id)
        if inv.balance_cents > 0
    ]
    home.due_cents = sum(inv.balance_cents for inv in home.due)


def _todos(home, client, practice, now):
    signed = {
        s.form_id
        for s in IntakeSubmission.select(IntakeSubmission.form).where(
            IntakeSubmission.client == client.id
        )
    }
    for form in (
        IntakeForm.select()
        .where((IntakeForm.practice == practice.id) & IntakeForm.active)
        .order_by(IntakeForm.position, IntakeForm.id)
    ):
        if form.id not in signed:
            home.todos.append(
                Todo(
                    f"Fill in and sign “{form.title}”.",
                    "client.intake_fill",
                    "Fill in",
                    {"form_id": form.id},
                )
            )
    soon = (now + dt.timedelta(days=CARD_WARNING_DAYS)).date()
    for card in SavedPaymentMethod.select().where(
        (SavedPaymentMethod.client == client.id) & SavedPaymentMethod.active
    ):
        if card.exp_year and dt.date(card.exp_year, card.exp_month, 1) <= soon.replace(day=1):
            past = (card.exp_year, card.exp_month) < (now.year, now.month)
            word = "has expired" if past else "expires soon"
            home.todos.append(
                Todo(
                    f"Your saved {card.label} {word}: save a new card.",
                    "client.invoices",
                    "Update card",
                )
            )
    policies = list(
        InsurancePolicy.select(InsurancePolicy, Payer)
        .join(Payer)
        .where((InsurancePolicy.client == client.id) & (InsurancePolicy.active == True))  # noqa: E712
        .order_by(InsurancePolicy.rank, InsurancePolicy.id)
    )
    sides = {}
    for c in CardImage.select(CardImage.policy, CardImage.side).where(
        (CardImage.client == client.id) & CardImage.replaced_at.is_null()
    ):
        sides.setdefault(c.policy_id, set()).add(c.side)
    for p in policies:
        have = sides.get(p.id, set())
        home.policies.append((p, "front" in have, "back" in have))
        if "front" not in have:
            home.todos.append(
                Todo(f"Send a photo of your {p.payer.name} card.", "client.insurance", "Send photo")
            )


def home_for(client, practice, now=None):
    now = now or clock.utcnow()
    home = Home(directions_url=directions_url(practice))
    _visits(home, client, practice, now)
    _credits(home, client, now)
    _money(home, client)
    _todos(home, client, practice, now)
    home.documents = list(
        StoredDocument.select(
            StoredDocument.id, StoredDocument.kind, StoredDocument.title, StoredDocument.created_at
        )
        .where(
            (StoredDocument.client == client.id)
            & StoredDocument.kind.in_(["superbill", "receipt", "letter", "invoice"])
        )
        .order_by(StoredDocument.id.desc())
        .limit(3)
    )
    home.prefs = client_account.preferences(client.id)  # the saved choices, or the defaults
    return home
