"""Superbills: what a client sends their insurer to be paid back for visits they paid.

A superbill lists chosen paid visits of one client in a date range (visit_facts: place
of service, CPT codes with modifiers and units, the signed note's ICD-10 codes, the fee
and what was paid, a package visit at its per-visit price), with the provider's and the
practice's identifiers, the client's member ID and referring provider, totals, the
paid-in-full statement and the provider's typed signature.

Issued, it is a stored PDF that never changes. A correction issues the next version under
the same number (it replaces the one before; both stay, listed side by side). A client
who opts in gets one each month for the month before (`issue_monthly`, run by the task
queue).
"""

import datetime as dt

from portal import audit, clock, pdf
from portal.db import database
from portal.models import (
    Appointment,
    Client,
    ClientPreference,
    InsurancePolicy,
    Practice,
    Referral,
    StoredDocument,
    Superbill,
    SuperbillVisit,
)
from portal.models.scheduling import STATUS_COMPLETED
from portal.rules import coding
from portal.services import documents, visit_facts

MAX_RANGE_DAYS = 366
MAX_VISITS = 60


class SuperbillError(ValueError):
    """A superbill that cannot be issued as asked, with a message for the user and the
    form field it is about ("start", "end"; None: the visits chosen)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def month_before(today):
    """(first, last) day of the month before `today`."""
    first_this = today.replace(day=1)
    last = first_this - dt.timedelta(days=1)
    return last.replace(day=1), last


def check_range(start, end):
    if start is None:
        raise SuperbillError("Choose the first day.", field="start")
    if end is None:
        raise SuperbillError("Choose the last day.", field="end")
    if end < start:
        raise SuperbillError("The last day comes before the first.", field="end")
    if (end - start).days > MAX_RANGE_DAYS:
        raise SuperbillError(
            "A superbill covers at most a year: choose a shorter range.", field="end"
        )


def candidates(client, start, end):
    """The client's completed visits in [start, end] as VisitFacts, each with `.eligible`
    (paid in full) and `.superbills` (numbers of superbills already listing it)."""
    check_range(start, end)
    practice = Practice.get_by_id(client.practice_id)
    appts = visit_facts.completed_visits(client.id, start, end, practice.tz)
    facts = visit_facts.facts_for(appts, client.id)
    listed = {}
    for row in (
        SuperbillVisit.select(SuperbillVisit.appointment, Superbill.number)
        .join(Superbill)
        .where(SuperbillVisit.appointment.in_([a.id for a in appts]))
    ):
        listed.setdefault(row.appointment_id, set()).add(row.superbill.number)
    for f in facts:
        f.eligible = f.paid_in_full and f.fee_cents > 0
        f.superbills = sorted(listed.get(f.appointment_id, ()))
    return facts


def _context(client, facts, start, end, number, version, issued_on, replaces=None):
    practice = Practice.get_by_id(client.practice_id)
    policy = (
        InsurancePolicy.select()
        .where((InsurancePolicy.client == client.id) & (InsurancePolicy.active == True))  # noqa: E712
        .order_by(InsurancePolicy.rank, InsurancePolicy.id)
        .first()
    )
    referral = (
        Referral.select()
        .where((Referral.client == client.id) & (Referral.active == True))  # noqa: E712
        .order_by(Referral.referral_date.desc())
        .first()
    )
    providers = []
    for f in facts:
        if f.provider not in providers:
            providers.append(f.provider)
    diagnoses = []
    for f in facts:
        for code, description in f.diagnoses:
            if code not in [c for c, _ in diagnoses]:
                diagnoses.append((code, description))
    return {
        "practice": practice,
        "client": client,
        "policy": policy,
        "referral": referral,
        "providers": providers,
        "diagnoses": diagnoses,
        "facts": facts,
        "start": start,
        "end": end,
        "number": number,
        "version": version,
        "replaces": replaces,
        "issued_on": issued_on,
        "places": [
            (code, coding.place_of_service_label(code) or "")
            for code in sorted({f.place_of_service for f in facts})
        ],
        "total_fee": sum(f.fee_cents for f in facts),
        "total_paid": sum(f.paid_cents for f in facts),
    }


def render(client, facts, start, end, number="SB-PREVIEW", version=1, replaces=None):
    practice = Practice.get_by_id(client.practice_id)
    today = clock.local_date(clock.utcnow(), practice.tz)
    ctx = _context(client, facts, start, end, number, version, today, replaces)
    return pdf.render_pdf("pdf/superbill.html", **ctx), ctx


def _chosen_facts(client, appointment_ids, start, end):
    ids = {int(i) for i in appointment_ids}
    if not ids:
        raise SuperbillError("Choose at least one paid visit.")
    if len(ids) > MAX_VISITS:
        raise SuperbillError(f"A superbill lists at most {MAX_VISITS} visits.")
    facts = [f for f in candidates(client, start, end) if f.appointment_id in ids]
    if len(facts) != len(ids):
        raise SuperbillError(
            "A chosen visit is not a completed visit of this client in these dates."
        )
    unpaid = [f for f in facts if not f.eligible]
    if unpaid:
        day = unpaid[0].service_date.strftime("%b %-d, %Y")
        raise SuperbillError(
            f"The visit of {day} is not paid in full: a superbill lists paid visits only."
        )
    return facts


def _next_number(practice_id):
    n = (
        Superbill.select()
        .where((Superbill.practice == practice_id) & (Superbill.version == 1))
        .count()
    )
    return f"SB-{n + 1:06d}"


def _store(client, facts, start, end, *, number, version, replaces, source, reason, user):
    data, ctx = render(client, facts, start, end, number, version, replaces)
    label = number if version == 1 else f"{number} version {version}"
    doc = documents.store(
        client.practice_id,
        client.id,
        "superbill",
        f"Superbill {label}, {start.strftime('%b %-d')} to {end.strftime('%b %-d, %Y')}",
        f"superbill-{number}-v{version}.pdf",
        data,
        user=user,
    )
    bill = Superbill.create(
        practice=client.practice_id,
        client=client.id,
        number=number,
        version=version,
        replaces=replaces.id if replaces else None,
        period_start=start,
        period_end=end,
        total_fee_cents=ctx["total_fee"],
        total_paid_cents=ctx["total_paid"],
        visit_count=len(facts),
        source=source,
        correction_reason=(reason or "")[:255],
        document=doc.id,
        issued_by=user.id if user is not None else None,
        issued_at=clock.utcnow(),
    )
    for f in facts:
        SuperbillVisit.create(
            practice=client.practice_id,
            client=client.id,
            superbill=bill.id,
            appointment=f.appointment_id,
        )
    return bill


def issue(client, appointment_ids, start, end, user=None, source="staff"):
    """Issue a superbill of the chosen paid visits; returns the Superbill."""
    client = Client.get_by_id(client.id)
    with database.atomic("IMMEDIATE"):
        facts = _chosen_facts(client, appointment_ids, start, end)
        bill = _store(
            client,
            facts,
            start,
            end,
            number=_next_number(client.practice_id),
            version=1,
            replaces=None,
            source=source,
            reason="",
            user=user,
        )
        audit.record(
            "superbill.issue", obj=bill, detail=f"{source}, {len(facts)} visits", user=user
        )
    return bill


def latest_version(bill):
    """The newest version of `bill`'s number."""
    return (
        Superbill.select()
        .where((Superbill.practice == bill.practice_id) & (Superbill.number == bill.number))
        .order_by(Superbill.version.desc())
        .first()
    )


def correct(bill, reason, user=None, appointment_ids=None):
    """Issue the next version of `bill` (its latest version), from the data as it is now
    (a note signed since, a visit added or left out); the earlier versions stay."""
    reason = (reason or "").strip()
    if not reason:
        raise SuperbillError("Say what the correction is for (the client sees it).")
    with database.atomic("IMMEDIATE"):
        current = latest_version(bill)
        if current.id != bill.id:
            raise SuperbillError(f"Version {current.version} is the latest: correct that one.")
        client = Client.get_by_id(bill.client_id)
        if appointment_ids is None:
            appointment_ids = [
                v.appointment_id
                for v in SuperbillVisit.select().where(SuperbillVisit.superbill == bill.id)
            ]
        facts = _chosen_facts(client, appointment_ids, bill.period_start, bill.period_end)
        new = _store(
            client,
            facts,
            bill.period_start,
            bill.period_end,
            number=bill.number,
            version=bill.version + 1,
            replaces=bill,
            source="staff",
            reason=reason,
            user=user,
        )
        audit.record("superbill.correct", obj=new, detail=f"version {new.version}", user=user)
    return new


def for_client(client_id):
    """Every version of every superbill of a client, newest number first, versions in
    order, each with `.replaced` (a later version exists)."""
    rows = list(
        Superbill.select()
        .where(Superbill.client == client_id)
        .order_by(Superbill.number.desc(), Superbill.version.desc())
    )
    replaced = {r.replaces_id for r in rows if r.replaces_id}
    for r in rows:
        r.replaced = r.id in replaced
    return rows


def document_of(bill):
    return StoredDocument.get_by_id(bill.document_id)


# --- every month, for clients who asked --------------------------------------------------


def issue_monthly(now=None):
    """For each client who opted in: a superbill of last month's paid visits that no
    superbill lists yet, and an e-mail with a portal link (when they keep document e-mails
    on). Safe to run daily: a month done is not done again. Returns how many were issued."""
    now = now or clock.utcnow()
    count = 0
    for pref in ClientPreference.select().where(ClientPreference.monthly_superbill == True):  # noqa: E712
        client = Client.get_by_id(pref.client_id)
        if not client.active:
            continue
        practice = Practice.get_by_id(client.practice_id)
        start, end = month_before(clock.local_date(now, practice.tz))
        done = (
            Superbill.select()
            .where(
                (Superbill.client == client.id)
                & (Superbill.source == "monthly")
                & (Superbill.period_start == start)
            )
            .exists()
        )
        if done:
            continue
        ids = [
            f.appointment_id
            for f in candidates(client, start, end)
            if f.eligible and not f.superbills
        ]
        if not ids:
            continue
        bill = issue(client, ids, start, end, source="monthly")
        if client.email:
            documents.send_link(document_of(bill), automatic=True)
        count += 1
    return count


def visit_ids_of(bill):
    return [
        v.appointment_id
        for v in SuperbillVisit.select(SuperbillVisit.appointment).where(
            SuperbillVisit.superbill == bill.id
        )
    ]


def completed_in(client_id, ids):
    """Of `ids`, those that are completed visits of the client (for forms)."""
    return [
        a.id
        for a in Appointment.select(Appointment.id).where(
            Appointment.id.in_(ids)
            & (Appointment.client == client_id)
            & (Appointment.status == STATUS_COMPLETED)
        )
    ]
