"""Claims at the desk: check-in warnings, the client's share at check-out, and the
receivers that make a visit's claim the moment it can be made.

    checkin_warnings(appointment, on_date)  -> [str]   insurance warnings before a visit
    checkin_all_clear(appointment, on_date) -> str     what check-in says with no warning
    note_minutes(appointment_id)            -> {code: minutes} | None   the signed note's
    estimate(appointment)                   -> Quote   the client's share (an estimate)
    checkout_summary(appointment)           -> dict    the payment page's insurance card

A claim needs a completed visit AND its signed note, in either order:
- appointment_completed (check-out): the claim is made if the note is already signed, and
  the client's estimated share becomes an invoice (reason SHARE_REASON) the desk collects
  like any other payment;
- note_signed: the claim is made if the visit is already checked out.
Whatever is left is picked up by `claims create-due`, nightly. Receivers run inside the
sender's transaction: the claim and the invoice are written with the check-out or the
signature, or not at all. A visit that cannot be billed yet is not an error here.
"""

import dataclasses

from flask import has_request_context
from flask_login import current_user

from portal import clock
from portal.models import Appointment, Claim, Invoice
from portal.models.billing import LINE_PATIENT_RESPONSIBILITY
from portal.rules import claim_build, claim_money, coding
from portal.rules import claim_status as cs
from portal.rules import coverage as coverage_rules
from portal.rules.coverage import day as _day
from portal.rules.money import format_cents
from portal.services import charting, coverage, events, invoicing, packages
from portal.services.claims import build, data, history, share

SHARE_REASON = "insurance_share"  # the invoice of the client's estimated share
_connected = False


def _actor():
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def _bills_insurance(appointment):
    return bool(appointment.appointment_type.bill_insurance)


# --- check-in ---------------------------------------------------------------------------------


def checkin_warnings(appointment, on_date):
    """The insurance warnings before a visit billed to insurance: no active policy, or
    coverage.visit_warnings (verification, referral and authorization left, where the
    payer or the verification needs them). A self-pay visit has none: it is not billed to
    the client's policy (checkin_all_clear names it)."""
    client = appointment.client
    if not _bills_insurance(appointment):
        return []
    if not coverage.active_policies(client):
        return [
            f"This visit is billed to insurance, but no active insurance policy is on file "
            f"for {_day(on_date)}: add the client's policy, or change the visit to a "
            "self-pay type."
        ]
    return coverage.visit_warnings(client, on_date)


def checkin_all_clear(appointment, on_date):
    """What the check-in page says when there is no warning: what is on file (never "no
    warnings" for a client without insurance)."""
    policies = [p for p in coverage.active_policies(appointment.client) if p.covers(on_date)]
    if not _bills_insurance(appointment):
        if not policies:
            return "Self-pay visit: no insurance is on file for this client."
        return f"Self-pay visit: not billed to {coverage.billed_policy(policies).payer.name}."
    policy = coverage.billed_policy(policies)
    v = coverage.latest_verification(policy)
    terms = ""
    if v.copay_cents:
        terms = f" (copay {format_cents(v.copay_cents)})"
    elif v.coinsurance_percent:
        terms = f" (coinsurance {v.coinsurance_percent:g}%)"
    return (
        f"Ready to bill {policy.payer.name}: benefits verified {_day(v.verified_on)}{terms}, "
        "nothing to fix before the visit."
    )


# --- check-out --------------------------------------------------------------------------------


def note_minutes(appointment_id):
    """The signed note's minutes per code ({} never: None without a signed note). Check-out
    takes these instead of minutes typed again."""
    coded = charting.visit_coding(appointment_id)
    if coded is None:
        return None
    return {code: m for code, m in sorted(coded["minutes"].items()) if m}


@dataclasses.dataclass
class Quote:
    """The client's estimated share of an insurance visit, or why there is none."""

    estimate: claim_money.ShareEstimate | None = None
    payer: object = None
    unpriced: tuple = ()
    why: str = ""
    # the visit is in a later benefit year than the verification: what was met is not counted
    new_year: bool = False

    @property
    def total_cents(self):
        return self.estimate.total_cents if self.estimate else 0

    @property
    def description(self):
        """'copay $40.00 of Regence's allowed $110.00' (for the invoice and the page)."""
        e = self.estimate
        if e is None:
            return self.why
        parts = []
        if e.deductible_cents:
            parts.append(f"deductible {format_cents(e.deductible_cents)}")
        if e.copay_cents:
            parts.append(f"copay {format_cents(e.copay_cents)}")
        if e.coinsurance_cents:
            parts.append(f"coinsurance {format_cents(e.coinsurance_cents)}")
        head = " + ".join(parts) or "nothing"
        text = f"{head} of {self.payer.name}'s allowed {format_cents(e.allowed_cents)}"
        if e.capped_by_out_of_pocket:
            text += ", capped by the out-of-pocket maximum"
        if self.new_year:
            text += " (a new benefit year began after the last verification: nothing counted "
            text += "as met yet)"
        return text


def estimate(appointment):
    """The client's share (rules.claim_money.estimate_client_share) from the latest
    verification of the primary policy: the fee schedule's allowed amount for the units
    (the practice's charge for a code it does not price), the deductible not yet met,
    then the copay or the coinsurance. Units from the signed note, else check-out's."""
    day = clock.local_date(appointment.starts_at, appointment.practice.tz)
    policy = data.active_policy(appointment.client_id, "primary", day)
    if policy is None:
        return Quote(why="No active insurance policy: the client's share is not estimated.")
    payer = policy.payer
    v = coverage.latest_verification(policy)
    if v is None:
        return Quote(
            payer=payer,
            why=f"Benefits are not verified with {payer.name}: the client's share cannot be "
            "estimated. Verify the benefits, or invoice the client after the payer answers.",
        )
    if not v.covered:
        return Quote(
            payer=payer,
            why=f"{payer.name} said massage is not covered (verified {_day(v.verified_on)}).",
        )
    minutes = note_minutes(appointment.id) or data.checkout_minutes(appointment.id) or {}
    units = coding.units_for_day(minutes, data.payer_rules(payer, v).unit_rule)
    fees = data.fee_schedule(payer.id)
    charges = claim_build.line_charges(units, fees, appointment.appointment_type.price_cents)
    allowed, unpriced = claim_build.estimate_allowed(units, fees, charges)
    # In a later benefit year than the call, the deductible and out-of-pocket met then have
    # started over: the whole deductible is estimated, not last year's rest.
    new_year = coverage_rules.later_plan_year(v.verified_on, day, v.plan_year_month)
    deductible_left = None
    if v.deductible_cents is not None:
        met = 0 if new_year else (v.deductible_met_cents or 0)
        deductible_left = max(0, v.deductible_cents - met)
    oop_left = None
    if v.oop_max_cents is not None:
        oop_left = max(0, v.oop_max_cents - (0 if new_year else (v.oop_met_cents or 0)))
    est = claim_money.estimate_client_share(
        allowed,
        deductible_remaining_cents=deductible_left,
        copay_cents=v.copay_cents,
        coinsurance_percent=v.coinsurance_percent,
        out_of_pocket_remaining_cents=oop_left,
    )
    return Quote(estimate=est, payer=payer, unpriced=unpriced, new_year=new_year)


def share_invoice(appointment):
    """The invoice of the client's estimated share for this visit, if there is one."""
    return (
        Invoice.select()
        .where(
            (Invoice.appointment == appointment.id)
            & (Invoice.reason == SHARE_REASON)
            & (Invoice.status != "void")
        )
        .first()
    )


def _make_share_invoice(appointment, user):
    if share_invoice(appointment) is not None or packages.redeemed_entry(appointment.id):
        return None
    quote = estimate(appointment)
    if quote.total_cents <= 0:
        return None
    kind = appointment.appointment_type
    codes = ", ".join(note_minutes(appointment.id) or data.checkout_minutes(appointment.id) or {})
    return invoicing.create_invoice(
        practice_id=appointment.practice_id,
        client_id=appointment.client_id,
        lines=[
            {
                "kind": LINE_PATIENT_RESPONSIBILITY,
                "description": f"{kind.name}: your estimated share ({quote.description})",
                "unit_cents": quote.total_cents,
                "service_date": clock.local_date(appointment.starts_at, appointment.practice.tz),
                "cpt_code": codes,
                "provider_id": appointment.provider_id,
                "appointment_id": appointment.id,
            }
        ],
        reason=SHARE_REASON,
        appointment_id=appointment.id,
        user=user,
        note=("Estimate: " + quote.description)[:255],
    )


def checkout_summary(appointment):
    """The payment page's insurance card: the visit's claims (and what holds one, in the
    problem's own words: a therapist cannot open the claim), the estimate, the invoice."""
    if not _bills_insurance(appointment):
        return None
    claims = list(
        Claim.select()
        .where((Claim.appointment == appointment.id) & (Claim.status != cs.VOID))
        .order_by(Claim.rank, Claim.part)
    )
    waiting = None
    if not claims and appointment.status == "completed":
        waiting = (
            "The claim is made when the therapist signs the chart note."
            if note_minutes(appointment.id) is None
            else "No claim could be made: check the client's insurance policy."
        )
    held = history.problems_by_claim([c.id for c in claims if c.held])
    problems = {claim_id: [p.message for p in found] for claim_id, found in held.items()}
    return {
        "claims": claims,
        "problems": problems,  # {claim id: [message]}: what holds it, in words
        "waiting": waiting,
        "quote": estimate(appointment),
        "invoice": share_invoice(appointment),
    }


# --- the receivers ----------------------------------------------------------------------------


def on_completed(appointment, **kw):
    if not _bills_insurance(appointment):
        return
    user = _actor()
    try:
        build.create_for_visit(appointment, user=user)
    except build.NotBillable:
        pass  # not yet: the signature or the nightly run makes it
    _make_share_invoice(appointment, user)


def on_note_signed(note, user=None, **kw):
    if note.appointment_id is None:
        return
    appointment = Appointment.get_or_none(Appointment.id == note.appointment_id)
    if appointment is None or not _bills_insurance(appointment):
        return
    try:
        build.create_for_visit(appointment, user=user or _actor())
    except build.NotBillable:
        pass  # not checked out yet: check-out makes it


def connect():
    global _connected
    if _connected:
        return
    events.appointment_completed.connect(on_completed, weak=False)
    events.note_signed.connect(on_note_signed, weak=False)
    events.payment_refunded.connect(share.on_payment_refunded, weak=False)
    _connected = True


def init_app(app):
    connect()
