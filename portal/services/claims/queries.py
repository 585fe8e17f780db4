"""Scoped reads for the claims pages: the list (a page of rows, only the columns shown),
the accounts-receivable aging per payer, and what the claim page shows.

Every query is scoped by portal.access.scoped (the user's practice, and for a therapist
whose practice limits them, the claims of their own clients); with the speed-ups on, its SQL
is built once per user scope and set of filters (portal/speedups.py). With 20,000 claims the list's
request costs about what the provider home's does (measured in-process, bench/areas/
claims.py); the aging table, loaded by its own request, sums per payer and date in SQL.
"""

import dataclasses
import datetime as dt

from peewee import JOIN, SQL, Case, fn

from portal import clock
from portal.models import (
    Claim,
    ClaimAdjustment,
    ClaimDiagnosis,
    ClaimEvent,
    ClaimLine,
    ClaimPosting,
    ClaimProblem,
    ClaimWriteOff,
    Client,
    Payer,
    PriorAuthorization,
    Referral,
    Remittance,
    RemittanceClaim,
    User,
)
from portal.rules import claim_money, edi_codes
from portal.rules import claim_status as cs
from portal.rules import reports as report_rules
from portal.services import charting
from portal.services.claims import data
from portal.services.reads import scoped_rows

PAGE = 50
# The badge colour of each status (the list draws its badges without a macro call per row).
TONES = {
    cs.READY: "ok",
    cs.SUBMITTED: "info",
    cs.ACCEPTED: "info",
    cs.REJECTED: "danger",
    cs.PAID: "ok",
    cs.PARTIALLY_PAID: "warn",
    cs.DENIED: "danger",
    cs.APPEALED: "warn",
    cs.VOID: "muted",
}
HELD = "held"  # a list filter beside the statuses: claims a problem holds
# ... and the claims the aging table counts (receivable, with a balance): its payers'
# cells link here (what the payer has) ...
OWED = "owed"
# ... its line of what no payer received (rejected, or being fixed after that) ...
NOT_RECEIVED = "not_received"
# ... and its line of claims being corrected (sent earlier, edited back to draft or ready)
CORRECTING = "correcting"
FILTERS = (HELD, OWED, NOT_RECEIVED, CORRECTING)
AGES = claim_money.BUCKETS
# Claims the payer has been billed for and that may still bring money: the receivables
# (rules.claim_status.is_receivable; receivable_sql below adds a claim being corrected).
AR_STATUSES = tuple(sorted(cs.BILLED_UNSETTLED))
_SENDS = (cs.SUBMITTED, cs.REJECTED)


def _last_send_rejected_sql():
    """The claim's last send was rejected: of the moves into submitted or rejected in its
    history, the latest is a rejection (rules.filing_limit reads sends the same way)."""
    e = ClaimEvent.alias("last_send")
    last = (
        e.select(e.to_status)
        .where((e.claim == Claim.id) & e.to_status.in_(_SENDS) & (e.from_status != e.to_status))
        .order_by(e.id.desc())
        .limit(1)
    )
    return fn.COALESCE(last, "") == cs.REJECTED


def fixing_rejected_sql():
    """A rejected claim being fixed: back to draft or ready, its last send rejected, never
    numbered by the payer (rules.claim_status.never_received). It goes out again as an
    original: no payer has a bill of it."""
    return (
        Claim.status.in_(sorted(cs.BEING_CORRECTED))
        & (Claim.payer_claim_number == "")
        & _last_send_rejected_sql()
    )


def being_corrected_sql():
    """A claim the payer has had (sent, or numbered by the payer), edited back to draft or
    ready to go out again as a corrected claim (rules.claim_status.is_receivable); not a
    rejected one being fixed, which the payer never had."""
    sent_before = Claim.submitted_at.is_null(False) | (Claim.payer_claim_number != "")
    return Claim.status.in_(sorted(cs.BEING_CORRECTED)) & sent_before & ~fixing_rejected_sql()


def not_received_sql():
    """Receivables no payer received (rules.claim_status.never_received): rejected, or a
    rejected claim being fixed. The aging table's line apart."""
    return (Claim.status == cs.REJECTED) | fixing_rejected_sql()


def with_payer_sql():
    """Receivables the payer has as they were sent: billed and not settled. A claim being
    corrected is owed on its earlier sending, but what comes of it waits on the practice's
    correction: the aging table's line apart (being_corrected_sql)."""
    has_it = sorted(set(AR_STATUSES) - {cs.REJECTED})
    return Claim.status.in_(has_it)


def receivable_sql():
    """The claims whose open balance is owed on a bill (aging, reports, work list): what
    payers have, what is being corrected and what no payer received."""
    return Claim.status.in_(AR_STATUSES) | being_corrected_sql() | fixing_rejected_sql()


# What a claim is, besides its status, as the list and the aging table tell it apart.
APART_NONE, APART_NOT_RECEIVED, APART_CORRECTING = 0, 1, 2


def apart_sql():
    """APART_NOT_RECEIVED for a rejected claim or one being fixed after a rejection,
    APART_CORRECTING for one being corrected after it was sent, else APART_NONE."""
    return Case(
        None,
        [(not_received_sql(), APART_NOT_RECEIVED), (being_corrected_sql(), APART_CORRECTING)],
        APART_NONE,
    )


def balance_sql():
    """A claim's open balance, as Claim.balance_cents (never below zero; 0 for a void
    claim, which bills nothing)."""
    open_ = (
        Claim.total_cents
        - Claim.paid_cents
        - Claim.adjusted_cents
        - Claim.patient_resp_cents
        - Claim.written_off_cents
    )
    return Case(None, [(Claim.status == cs.VOID, 0), (open_ > 0, open_)], 0)


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
    apart: int = APART_NONE  # apart_sql
    sent_on: dt.date | None = None  # the sending the payer has (local date), for a correction

    @property
    def correcting(self):
        """Sent earlier and being corrected: the payer has the earlier sending."""
        return self.apart == APART_CORRECTING

    @property
    def sent_day(self):
        return f"{self.sent_on:%b %d, %Y}" if self.sent_on else ""

    @property
    def day(self):
        """The date of service as the list shows it."""
        return self.service_date.strftime("%b %d, %Y")

    @property
    def status_label(self):
        return cs.label(self.status)

    @property
    def tone(self):
        return TONES.get(self.status, "")


def _list_query(q, on, status=None, payer=None, first=None, last=None, offset=0):
    """The list's query; `on` says which filters are on (held, status, payer, first, last,
    owed, not received, being corrected), the values are given for those."""
    held, by_status, by_payer, from_date, to_date, owed, not_received, correcting = on
    q = q.select(
        Claim.id,
        Claim.service_date,
        Claim.status,
        Claim.held,
        Claim.patient_control_number,
        Claim.frequency_code,
        Claim.total_cents,
        balance_sql(),
        Client.first_name,
        Client.preferred_name,
        Client.last_name,
        Payer.name,
        apart_sql().alias("apart"),
        Claim.submitted_at,
    )
    q = (
        q.join(Client, on=(Claim.client == Client.id))
        .switch(Claim)
        .join(Payer, on=(Claim.payer == Payer.id))
    )
    if held:
        q = q.where(Claim.held & (Claim.status != cs.VOID))
    if owed:  # what aging() sums in the payers' rows
        q = q.where(with_payer_sql() & (balance_sql() > 0))
    if not_received:  # ... on its line of claims no payer received ...
        q = q.where(not_received_sql() & (balance_sql() > 0))
    if correcting:  # ... and on its line of claims being corrected
        q = q.where(being_corrected_sql() & (balance_sql() > 0))
    if by_status:
        q = q.where(Claim.status == status)
    if by_payer:
        q = q.where(Claim.payer == payer)
    if from_date:
        q = q.where(Claim.service_date >= first)
    if to_date:
        q = q.where(Claim.service_date <= last)
    return (
        q.order_by(Claim.service_date.desc(), Claim.id.desc())
        .limit(PAGE + 1)  # one more than shown: is there a next page?
        .offset(offset)
    )


def claim_rows(user, *, status="", payer_id=None, age="", page=1, today=None):
    """(rows, has_next): one page of claims, newest date of service first."""
    status = status if status in FILTERS or status in cs.STATUSES else ""
    first = last = None
    if age in AGES:
        first, last = age_range(age, today)
    on = (
        status == HELD,
        bool(status) and status not in FILTERS,
        bool(payer_id),
        first is not None,
        last is not None,
        status == OWED,
        status == NOT_RECEIVED,
        status == CORRECTING,
    )
    values = {"offset": (page - 1) * PAGE}
    for name, value in (
        ("status", status if on[1] else None),
        ("payer", payer_id or None),
        ("first", first.isoformat() if first else None),  # dates are stored as ISO text
        ("last", last.isoformat() if last else None),
    ):
        if value is not None:
            values[name] = value
    found = scoped_rows(
        ("claims.list", on), Claim, user, lambda q, **v: _list_query(q, on, **v), values
    )
    tz = user.practice.tz
    rows = []
    for (
        cid,
        day,
        st,
        held,
        pcn,
        freq,
        total,
        bal,
        first_,
        pref,
        last_,
        payer,
        apart,
        sent_at,
    ) in found:
        name = f"{pref or first_} {last_}"
        sent_on = None
        if apart == APART_CORRECTING and sent_at is not None:
            sent_on = clock.local_date(sent_at, tz)
        rows.append(
            Row(cid, day, st, bool(held), pcn, freq, total, bal, name, payer, apart, sent_on)
        )
    return rows[:PAGE], len(rows) > PAGE


def payer_choices(user):
    """[(id, name)] of the practice's payers, for the list's filter."""
    return scoped_rows(
        "claims.payers", Payer, user, lambda q: q.select(Payer.id, Payer.name).order_by(Payer.name)
    )


@dataclasses.dataclass(frozen=True, slots=True)
class PayerKey:
    """A payer as the aging table groups and sorts it (by its name, told apart from another
    of the same name), keeping its id for links."""

    id: int
    name: str

    def __str__(self):
        return self.name


# What tells two payers of one name apart (BCBS of two states): rules.distinct_labels.
PAYER_NAMING = (Payer.id, Payer.name, Payer.payer_code, Payer.city, Payer.state)


TOTAL_OWED = "Total owed"


def aging(user, today):
    """Accounts receivable per payer by age of the date of service: the open balance of
    every claim billed and not settled, as rules.claim_money.ar_aging tables it; on lines
    apart, in the totals too, what is being corrected after it was sent (table.correcting:
    its age still runs from the visit, the correction does not restart it) and what no
    payer received (table.not_received: rejected, or being fixed after that). SQLite
    sums the claims per payer, date and line; the buckets are the rules'."""
    bal = balance_sql()
    apart = apart_sql()
    found = scoped_rows(
        "claims.aging",
        Claim,
        user,
        lambda q: (
            q.select(
                *PAYER_NAMING, Claim.service_date, apart.alias("apart"), fn.SUM(bal), fn.COUNT(1)
            )  # fmt: skip
            .join(Payer, on=(Claim.payer == Payer.id))
            .where(receivable_sql() & (bal > 0))
            # by the output column's name: PostgreSQL does not match the CASE written
            # twice, each with its own parameters, as one expression (reports.py)
            .group_by(*PAYER_NAMING, Claim.service_date, SQL("apart"))
        ),
    )
    named = {report_rules.named_payer(*r[:5]) for r in found if not r[6]}
    labels = report_rules.distinct_labels(named)
    by_payer, totals = {}, claim_money.AgingRow(TOTAL_OWED)
    lines = {
        APART_NOT_RECEIVED: claim_money.AgingRow(claim_money.NOT_RECEIVED),
        APART_CORRECTING: claim_money.AgingRow(claim_money.CORRECTING),
    }
    for payer_id, *_, day, line, cents, count in found:
        bucket = claim_money.age_bucket(day, today)
        if line in lines:
            row = lines[line]
        else:
            key = PayerKey(payer_id, labels[("payer", payer_id)])
            row = by_payer.setdefault(key, claim_money.AgingRow(key))
        for r in (row, totals):
            r.buckets[bucket] += cents
            r.counts[bucket] += count
    ordered = sorted(by_payer.values(), key=lambda r: str(r.payer).lower())
    return claim_money.AgingTable(
        ordered, totals, lines[APART_NOT_RECEIVED], lines[APART_CORRECTING]
    )


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


def postings_of(claim_ids):
    """(postings, {posting id: [adjustments]}) of the claims `claim_ids`, in posting order,
    each posting with `.payment_date` (its 835's BPR16, if any): two statements."""
    postings = list(
        ClaimPosting.select(ClaimPosting, Remittance.payment_date)
        .join_from(ClaimPosting, RemittanceClaim, JOIN.LEFT_OUTER,
                   on=(ClaimPosting.remittance_claim == RemittanceClaim.id))
        .join_from(RemittanceClaim, Remittance, JOIN.LEFT_OUTER,
                   on=(RemittanceClaim.remittance == Remittance.id))
        .where(ClaimPosting.claim.in_(list(claim_ids)))
        .order_by(ClaimPosting.id)
        .objects()
    )  # fmt: skip
    adjustments = {}
    if postings:
        for a in ClaimAdjustment.select().where(
            ClaimAdjustment.posting.in_([p.id for p in postings])
        ):
            adjustments.setdefault(a.posting_id, []).append(a)
    return postings, adjustments


def payment_history(claim):
    """The claim's postings (postings_of), their adjustments in words, and the
    write-offs."""
    postings, by_posting = postings_of([claim.id])
    adjustments = {
        pid: [(a, edi_codes.adjustment_text(a.group_code, a.reason_code)) for a in adjs]
        for pid, adjs in by_posting.items()
    }
    writeoffs = list(
        ClaimWriteOff.select().where(ClaimWriteOff.claim == claim.id).order_by(ClaimWriteOff.id)
    )
    return postings, adjustments, writeoffs
