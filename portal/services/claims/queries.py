"""Scoped reads for the claims pages: the list (a page of rows, only the columns shown),
the accounts-receivable aging per payer, and what the claim page shows.

Every query starts from portal.access.scoped(Claim, user): the user's practice, and for
a therapist whose practice limits them, the claims of their own clients.
"""

import dataclasses
import datetime as dt

from peewee import JOIN, Case

from portal.access import scoped
from portal.models import (
    Claim,
    ClaimDiagnosis,
    ClaimEvent,
    ClaimLine,
    ClaimProblem,
    Client,
    Payer,
    PriorAuthorization,
    Referral,
    User,
)
from portal.rules import claim_money
from portal.rules import claim_status as cs
from portal.services import charting
from portal.services.claims import data

PAGE = 50
HELD = "held"  # a list filter beside the statuses: claims a problem holds
AGES = claim_money.BUCKETS
# Claims the payer has been billed for and that may still bring money: the receivables.
AR_STATUSES = (
    cs.SUBMITTED,
    cs.ACCEPTED,
    cs.REJECTED,
    cs.PAID,
    cs.PARTIALLY_PAID,
    cs.DENIED,
    cs.APPEALED,
)


def balance_sql():
    """A claim's open balance, as rules' Claim.balance_cents (never below zero)."""
    open_ = (
        Claim.total_cents
        - Claim.paid_cents
        - Claim.adjusted_cents
        - Claim.patient_resp_cents
        - Claim.written_off_cents
    )
    return Case(None, [(open_ > 0, open_)], 0)


def age_range(age, today):
    """(first, last) service dates of an age bucket ('0-30', '31-60', '61-90', '90+')."""
    bounds = {"0-30": (30, None), "31-60": (60, 31), "61-90": (90, 61), "90+": (None, 91)}
    oldest, newest = bounds[age]
    first = today - dt.timedelta(days=oldest) if oldest is not None else None
    last = today - dt.timedelta(days=newest) if newest is not None else None
    return first, last


@dataclasses.dataclass(frozen=True, slots=True)
class Row:
    id: int
    service_date: dt.date
    status: str
    held: bool
    pcn: str
    frequency_code: str
    total_cents: int
    balance_cents: int
    client_name: str
    payer_name: str

    @property
    def status_label(self):
        return cs.label(self.status)


def claim_rows(user, *, status="", payer_id=None, age="", page=1, today=None):
    """(rows, has_next): one page of claims, newest date of service first."""
    q = scoped(
        Claim,
        user=user,
        query=Claim.select(
            Claim.id,
            Claim.service_date,
            Claim.status,
            Claim.held,
            Claim.patient_control_number,
            Claim.frequency_code,
            Claim.total_cents,
            balance_sql().alias("balance"),
            Client.first_name,
            Client.preferred_name,
            Client.last_name,
            Payer.name,
        )
        .join(Client, on=(Claim.client == Client.id))
        .switch(Claim)
        .join(Payer, on=(Claim.payer == Payer.id)),
    )
    if status == HELD:
        q = q.where(Claim.held & (Claim.status != cs.VOID))
    elif status in cs.STATUSES:
        q = q.where(Claim.status == status)
    if payer_id:
        q = q.where(Claim.payer == payer_id)
    if age in AGES:
        first, last = age_range(age, today)
        if first is not None:
            q = q.where(Claim.service_date >= first)
        if last is not None:
            q = q.where(Claim.service_date <= last)
    q = (
        q.order_by(Claim.service_date.desc(), Claim.id.desc())
        .limit(PAGE + 1)  # one more than shown: is there a next page?
        .offset((page - 1) * PAGE)
    )
    rows = [
        Row(cid, sd, st, bool(held), pcn, freq, total, bal, f"{pref or first} {last}", payer)
        for (cid, sd, st, held, pcn, freq, total, bal, first, pref, last, payer) in q.tuples()
    ]
    return rows[:PAGE], len(rows) > PAGE


def payer_choices(user):
    return list(
        scoped(Payer, user=user, query=Payer.select(Payer.id, Payer.name))
        .order_by(Payer.name)
        .tuples()
    )


@dataclasses.dataclass(frozen=True, slots=True)
class PayerKey:
    """A payer as the aging table groups and sorts it (by name), keeping its id for links."""

    id: int
    name: str

    def __str__(self):
        return self.name


def aging(user, today):
    """Accounts receivable per payer by age of the date of service (rules.ar_aging): the
    open balance of every claim billed and not closed, void or settled."""
    bal = balance_sql()
    q = scoped(
        Claim,
        user=user,
        query=Claim.select(Payer.id, Payer.name, Claim.service_date, bal)
        .join(Payer, on=(Claim.payer == Payer.id))
        .where(Claim.status.in_(AR_STATUSES) & (bal > 0)),
    )
    rows = ((PayerKey(pid, name), day, cents) for pid, name, day, cents in q.tuples().iterator())
    return claim_money.ar_aging(rows, today)


# --- the claim page -----------------------------------------------------------------------


def detail(claim):
    """What the claim page shows besides the claim row (a handful of short queries)."""
    events = list(
        ClaimEvent.select(ClaimEvent, User.id, User.name, User.email)
        .join(User, JOIN.LEFT_OUTER, on=(ClaimEvent.user == User.id))
        .where(ClaimEvent.claim == claim.id)
        .order_by(ClaimEvent.id)
    )
    coded = None
    if claim.appointment_id:
        coded = charting.visit_coding(claim.appointment_id)
    return {
        "lines": list(
            ClaimLine.select().where(ClaimLine.claim == claim.id).order_by(ClaimLine.position)
        ),
        "diagnoses": list(
            ClaimDiagnosis.select()
            .where(ClaimDiagnosis.claim == claim.id)
            .order_by(ClaimDiagnosis.position)
        ),
        "problems": list(
            ClaimProblem.select().where(ClaimProblem.claim == claim.id).order_by(ClaimProblem.id)
        ),
        "events": events,
        "note_id": coded["note_id"] if coded else None,
        "checkout_minutes": data.checkout_minutes(claim.appointment_id)
        if claim.appointment_id
        else None,
        "note_minutes": coded["minutes"] if coded else None,
        "related": list(
            Claim.select(
                Claim.id, Claim.rank, Claim.part, Claim.status, Claim.patient_control_number
            )
            .where(
                (Claim.appointment == claim.appointment_id)
                & (Claim.id != claim.id)
                & (Claim.practice == claim.practice_id)
            )
            .order_by(Claim.rank, Claim.part, Claim.id)
        )
        if claim.appointment_id
        else [],
    }


def documents(claim):
    """The client's active referrals and authorizations, for the claim's edit form."""
    refs = list(
        Referral.select()
        .where((Referral.client == claim.client_id) & Referral.active)
        .order_by(Referral.referral_date.desc())
    )
    auths = list(
        PriorAuthorization.select()
        .where((PriorAuthorization.client == claim.client_id) & PriorAuthorization.active)
        .order_by(PriorAuthorization.start_date.desc())
    )
    return refs, auths
