"""What a visit was and how it was paid, as the client's documents state it (receipts,
superbills): date of service, place of service, provider and NPI, CPT codes with units by
the payer's unit rule, ICD-10 codes from the signed chart note, the fee and what was paid.

A visit paid from a package is stated at the price actually paid per session (the
ledger's per-visit value: $85 for a visit from a 5-for-$425 package), as its fee and as
its payment: the list price was never charged. A visit on an invoice is stated at its
invoice lines, paid by the invoice's payments net of refunds (a package credit used on the
invoice counts at its per-visit value, as above); what refunds that settle gave back is
taken off the fee (it was never owed).

Everything is read in a fixed number of queries for any number of visits.
"""

import datetime as dt
from dataclasses import dataclass, field

from peewee import fn

from portal import clock
from portal.models import (
    Appointment,
    AppointmentMinutes,
    AppointmentType,
    AppointmentTypeCode,
    ChartNote,
    CreditLedger,
    InsurancePolicy,
    Invoice,
    InvoiceLine,
    NoteDiagnosis,
    NoteMinutes,
    PackagePurchase,
    Payer,
    Payment,
    Provider,
    Refund,
)
from portal.models.billing import (
    LEDGER_REDEEM,
    LEDGER_RETURN,
    LINE_PATIENT_RESPONSIBILITY,
    LINE_VISIT,
    PAY_PACKAGE_CREDIT,
    PAYMENT_SUCCEEDED,
)
from portal.models.charting import NOTE_SIGNED
from portal.models.claims import ClaimSettings
from portal.models.scheduling import STATUS_COMPLETED
from portal.rules import coding

MEDICAL_LINES = (LINE_VISIT, LINE_PATIENT_RESPONSIBILITY)


@dataclass
class CodeLine:
    code: str
    units: int
    minutes: int
    modifiers: tuple = ()


@dataclass
class VisitFacts:
    appointment_id: int
    service_date: dt.date
    service: str
    provider: Provider
    place_of_service: str = "11"
    codes: list = field(default_factory=list)  # [CodeLine]
    diagnoses: list = field(default_factory=list)  # [(code, description)], primary first
    fee_cents: int = 0
    paid_cents: int = 0
    paid_by: str = "unpaid"  # package | payment | unpaid
    package_name: str = ""
    package_price_cents: int = 0
    package_sessions: int = 0
    package_bought_on: dt.date | None = None
    methods: list = field(default_factory=list)  # how it was paid, in words

    @property
    def paid_in_full(self):
        return self.paid_by != "unpaid" and self.paid_cents >= self.fee_cents

    @property
    def code_list(self):
        return ", ".join(c.code for c in self.codes)

    @property
    def diagnosis_codes(self):
        return [code for code, _ in self.diagnoses]


def _unit_rule_and_pair(client_id):
    """The unit rule and 97124+97140 setting of the client's primary payer (CMS 8-minute
    rule, pair not allowed, for self-pay clients)."""
    row = (
        Payer.select(Payer.unit_rule, Payer.allow_97124_97140)
        .join(InsurancePolicy, on=(InsurancePolicy.payer == Payer.id))
        .where((InsurancePolicy.client == client_id) & (InsurancePolicy.active == True))  # noqa: E712
        .order_by(InsurancePolicy.rank, InsurancePolicy.id)
        .first()
    )
    if row is None or row.unit_rule not in coding.UNIT_RULES:
        return coding.CMS8, False
    return row.unit_rule, bool(row.allow_97124_97140)


def place_of_service(practice_id):
    row = ClaimSettings.get_or_none(ClaimSettings.practice == practice_id)
    return row.default_place_of_service if row else "11"


def _minutes(appointments):
    """{appointment id: ({code: minutes}, [(code, description)])}: the signed note's, else
    the minutes recorded at check-out, else the visit type's default codes."""
    ids = [a.id for a in appointments]
    notes = {}
    for note in (
        ChartNote.select(ChartNote.id, ChartNote.appointment, ChartNote.signed_at)
        .where((ChartNote.appointment.in_(ids)) & (ChartNote.status == NOTE_SIGNED))
        .order_by(ChartNote.signed_at)
    ):
        notes[note.appointment_id] = note.id  # the latest signed note of the visit
    by_note = {nid: ({}, []) for nid in notes.values()}
    for m in NoteMinutes.select().where(NoteMinutes.note.in_(list(by_note))):
        by_note[m.note_id][0][m.cpt_code] = m.minutes
    for d in (
        NoteDiagnosis.select()
        .where(NoteDiagnosis.note.in_(list(by_note)))
        .order_by(NoteDiagnosis.position)
    ):
        by_note[d.note_id][1].append((d.code, d.description))
    checkout = {}
    for m in AppointmentMinutes.select().where(AppointmentMinutes.appointment.in_(ids)):
        checkout.setdefault(m.appointment_id, {})[m.cpt_code] = m.minutes
    defaults = {}
    for c in AppointmentTypeCode.select().where(
        AppointmentTypeCode.appointment_type.in_({a.appointment_type_id for a in appointments})
    ):
        defaults.setdefault(c.appointment_type_id, {})[c.cpt_code] = c.minutes
    out = {}
    for a in appointments:
        note_minutes, dx = by_note.get(notes.get(a.id), ({}, []))
        minutes = note_minutes or checkout.get(a.id) or defaults.get(a.appointment_type_id, {})
        out[a.id] = (minutes, dx)
    return out


def _code_lines(minutes, rule, allow_pair):
    units = coding.units_for_day(minutes, rule) if minutes else {}
    both = coding.MASSAGE in units and coding.MANUAL_THERAPY in units
    lines = []
    for code, n in units.items():
        mods = ("59",) if both and allow_pair and code == coding.MANUAL_THERAPY else ()
        lines.append(CodeLine(code, n, minutes[code], mods))
    return lines


def _package_values(ids):
    """{appointment id: (per-visit cents, purchase)} for visits whose credit is still
    used (a redemption not given back). Its price is the net of its rows (+ each redeem's
    price, - each give-back's): the price of the redemption that holds now, which need not
    be the highest it ever had (used, given back, then used again when the credits left
    were worth a cent less)."""
    net = {}
    for row in (
        CreditLedger.select(
            CreditLedger.appointment,
            CreditLedger.purchase,
            fn.SUM(CreditLedger.delta).alias("net"),
            fn.SUM(CreditLedger.delta * CreditLedger.unit_price_cents * -1).alias("price"),
        )
        .where(
            CreditLedger.appointment.in_(ids)
            & CreditLedger.kind.in_([LEDGER_REDEEM, LEDGER_RETURN])
        )
        .group_by(CreditLedger.appointment, CreditLedger.purchase)
    ):
        if row.net < 0:
            net[row.appointment_id] = (row.price, row.purchase_id)
    purchases = {
        p.id: p
        for p in PackagePurchase.select().where(
            PackagePurchase.id.in_({pid for _, pid in net.values()})
        )
    }
    return {aid: (price, purchases[pid]) for aid, (price, pid) in net.items()}


def _invoice_values(ids):
    """{appointment id: (fee cents, paid cents, [method words])} from visit invoices."""
    lines = list(
        InvoiceLine.select(InvoiceLine, Invoice)
        .join(Invoice)
        .where(
            InvoiceLine.appointment.in_(ids)
            & InvoiceLine.kind.in_(MEDICAL_LINES)
            & (Invoice.status.in_(["open", "partially_paid", "paid"]))
        )
    )
    inv_ids = {line.invoice_id for line in lines}
    payments = {}
    for p in Payment.select().where(
        Payment.invoice.in_(inv_ids) & (Payment.status == PAYMENT_SUCCEEDED)
    ):
        payments.setdefault(p.invoice_id, []).append(p)
    refunded = {}
    for r in (
        Refund.select(Refund.payment, Refund.amount_cents)
        .join(Payment)
        .where(Payment.invoice.in_(inv_ids) & (Refund.status == PAYMENT_SUCCEEDED))
    ):
        refunded[r.payment_id] = refunded.get(r.payment_id, 0) + r.amount_cents
    out = {}
    for line in lines:
        inv = line.invoice
        fee, paid, words = out.get(line.appointment_id, (0, 0, []))
        share = line.amount_cents
        # What refunds that settle gave back was never owed (a goodwill refund, an overpaid
        # share refunded): the line's fee is its part of the rest, so the visit reads as
        # paid in full, not as owing the refund again.
        settled = min(share, share * inv.settled_cents // inv.total_cents) if inv.total_cents else 0
        net_paid = 0
        for p in payments.get(inv.id, []):
            kept = p.amount_cents - refunded.get(p.id, 0)
            if kept <= 0:
                continue
            net_paid += kept
            word = p.method_label + (f", {p.card_label}" if p.card_label else "")
            if word not in words:
                words.append(word)
        # A line's part of what the invoice's payments cover, in proportion.
        charged = share - settled
        line_paid = min(charged, share * net_paid // inv.total_cents) if inv.total_cents else 0
        out[line.appointment_id] = (fee + charged, paid + line_paid, words)
    return out


def _credit_payments(ids):
    """Appointments whose invoice was paid with a package credit (at the desk)."""
    rows = (
        Payment.select(Invoice.appointment)
        .join(Invoice)
        .where(
            Invoice.appointment.in_(ids)
            & (Payment.method == PAY_PACKAGE_CREDIT)
            & (Payment.status == PAYMENT_SUCCEEDED)
        )
        .tuples()
    )
    return {aid for (aid,) in rows}


def facts_for(appointments, client_id):
    """[VisitFacts] of `appointments` (their rows), oldest first."""
    appointments = sorted(appointments, key=lambda a: a.starts_at)
    if not appointments:
        return []
    ids = [a.id for a in appointments]
    practice = appointments[0].practice
    tz = practice.tz
    pos = place_of_service(practice.id)
    rule, allow_pair = _unit_rule_and_pair(client_id)
    coded = _minutes(appointments)
    packaged = _package_values(ids)
    invoiced = _invoice_values(ids)
    credit_paid = _credit_payments(ids)
    types = {
        t.id: t
        for t in AppointmentType.select().where(
            AppointmentType.id.in_({a.appointment_type_id for a in appointments})
        )
    }
    providers = {
        p.id: p
        for p in Provider.select().where(Provider.id.in_({a.provider_id for a in appointments}))
    }
    out = []
    for a in appointments:
        minutes, dx = coded[a.id]
        facts = VisitFacts(
            appointment_id=a.id,
            service_date=clock.local_date(a.starts_at, tz),
            service=types[a.appointment_type_id].name,
            provider=providers[a.provider_id],
            place_of_service=pos,
            codes=_code_lines(minutes, rule, allow_pair),
            diagnoses=dx,
        )
        if a.id in packaged and (a.id in credit_paid or a.id not in invoiced):
            price, purchase = packaged[a.id]
            facts.fee_cents = facts.paid_cents = price
            facts.paid_by = "package"
            facts.package_name = purchase.name
            facts.package_price_cents = purchase.price_cents
            facts.package_sessions = purchase.sessions_total
            if purchase.activated_at:
                facts.package_bought_on = clock.local_date(purchase.activated_at, tz)
            facts.methods = [f"Package credit ({purchase.name})"]
        elif a.id in invoiced:
            fee, paid, words = invoiced[a.id]
            facts.fee_cents, facts.paid_cents, facts.methods = fee, paid, words
            facts.paid_by = "payment" if paid > 0 else "unpaid"
        out.append(facts)
    return out


def completed_visits(client_id, start, end, tz):
    """The client's completed visits whose local date is in [start, end]."""
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=tz).astimezone(dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz).astimezone(dt.UTC)
    return list(
        Appointment.select()
        .where(
            (Appointment.client == client_id)
            & (Appointment.status == STATUS_COMPLETED)
            & (Appointment.starts_at >= lo.replace(tzinfo=None))
            & (Appointment.starts_at < hi.replace(tzinfo=None))
        )
        .order_by(Appointment.starts_at)
    )
