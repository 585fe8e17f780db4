"""Check-out that closes the visit (issue 11 item 4): the client's choice of how to pay
(a package credit is offered, never forced), an optional tip kept apart from the invoice,
the receipt e-mailed as a link to the portal, and the next visit booked from the last.

Money writes go through the billing services (invoicing, packages, payments_service), each
in its own IMMEDIATE transaction with its audit rows; a tip is one Tip row and its audit
row, written once its money was taken.
"""

import dataclasses
import datetime as dt

from flask import current_app

from portal import audit, clock, mail, payments, tokens
from portal.db import database
from portal.models import Appointment, CheckoutAttempt, Client, Practice, Tip
from portal.models.billing import (
    PAY_ACCOUNT_CREDIT,
    PAY_CARD_ON_FILE,
    PAY_CASH,
    PAY_CHECK,
    PAY_PACKAGE_CREDIT,
    PAY_TERMINAL,
    Payment,
)
from portal.rules import desk as rules
from portal.rules import slots as slot_rules
from portal.rules.appointments import ACTIVE_STATUSES, COMPLETED
from portal.rules.billing import BillingError
from portal.services import account_credit, invoicing, packages, payments_service
from portal.services import scheduling as sched

TIP_METHODS = (PAY_CARD_ON_FILE, PAY_TERMINAL, PAY_CASH, PAY_CHECK)
MANUAL = (PAY_CASH, PAY_CHECK, PAY_TERMINAL)


class CheckoutError(BillingError):
    """A check-out step refused, with a message for the person."""


# --- paying the visit -------------------------------------------------------------------


def pay_invoice(inv, appt, method, *, card=None, purchase=None, reference="", user=None):
    """Pay the visit's invoice the way the client chose. Returns the Payment, or None when
    the invoice was sent by e-mail instead."""
    if method in MANUAL:
        return invoicing.record_payment(
            inv, method=method, amount_cents=inv.balance_cents, reference=reference, user=user
        )
    if method == PAY_CARD_ON_FILE:
        if card is None:
            raise CheckoutError("Choose the card to charge.")
        return payments_service.charge_card_on_file(inv, card, user=user)
    if method == PAY_PACKAGE_CREDIT:
        if purchase is None or purchase.client_id != appt.client_id:
            raise CheckoutError("Choose the package to use.")
        return packages.pay_invoice_with_credit(inv, purchase, appt, user=user)
    if method == PAY_ACCOUNT_CREDIT:  # as much as the client's credit holds
        return account_credit.pay_invoice(inv, user=user)
    if method == "send":
        invoicing.send_invoice(inv, user=user)
        return None
    raise CheckoutError("Choose how the client pays.")


# --- tips ---------------------------------------------------------------------------------


def take_tip(appt, cents, method, *, card=None, reference="", user=None):
    """Record a tip for the visit's provider (taken by `method`; a card on file is charged
    on its own). Not an invoice line: tips are the provider's pay, not the practice's
    revenue. Returns the Tip, or None for no tip."""
    cents = rules.check_tip(cents, 0)
    if not cents:
        return None
    if method not in TIP_METHODS:
        raise CheckoutError("Choose how the tip is paid.")
    pi_id = None
    if method == PAY_CARD_ON_FILE:
        pi_id = _charge_tip(appt, card, cents, user)
    with database.atomic("IMMEDIATE"):
        tip = Tip.create(
            practice=appt.practice_id,
            client=appt.client_id,
            appointment=appt.id,
            provider=appt.provider_id,
            method=method,
            amount_cents=cents,
            reference=(reference or "")[:255],
            stripe_payment_intent_id=pi_id,
            created_by=getattr(user, "id", None),
        )
        audit.record("tip.record", obj=tip, user=user, detail=method)
    return tip


def _charge_tip(appt, card, cents, user):
    if card is None or card.client_id != appt.client_id or not card.active:
        raise CheckoutError("Choose the client's card for the tip.")
    if not payments.is_configured():
        raise payments.PaymentsUnavailable(payments.SETUP_MESSAGE)
    customer = payments_service.customer_id_for(appt.client_id)
    if not customer:
        raise CheckoutError("This client has no card saved with Stripe.")
    currency = invoicing.settings_for(appt.practice_id).currency
    with database.atomic("IMMEDIATE"):
        attempt = CheckoutAttempt.create(
            practice=appt.practice_id,
            client=appt.client_id,
            purpose="tip",
            amount_cents=cents,
            currency=currency,
            created_by=getattr(user, "id", None),
        )
        audit.record("checkout.start", obj=attempt, detail="tip", user=user)
    practice = Practice.get_by_id(appt.practice_id)
    pi = payments.charge_off_session(
        customer=customer,
        payment_method=card.stripe_payment_method_id,
        amount_cents=cents,
        currency=currency,
        description=f"{practice.name}, tip",
        metadata={"attempt_id": str(attempt.id), "practice_id": str(appt.practice_id)},
        idempotency_key=attempt.idempotency_key,
    )
    with database.atomic("IMMEDIATE"):
        CheckoutAttempt.update(
            status="completed", completed_at=clock.utcnow(), stripe_payment_intent_id=pi["id"]
        ).where(CheckoutAttempt.id == attempt.id).execute()
    return pi["id"]


def tips_of(appointment_id):
    return list(Tip.select().where(Tip.appointment == appointment_id).order_by(Tip.id))


# --- the receipt ----------------------------------------------------------------------------


def email_receipt(payment, user=None):
    """E-mail the client a link to the receipt in their portal (no amount, service or name in
    the e-mail). A client without portal access is invited in the same step."""
    payment = Payment.get_by_id(payment.id)
    client = Client.get_by_id(payment.client_id)
    if not client.email:
        raise CheckoutError("This client has no e-mail address on file: print the receipt.")
    doc = payment.receipt or invoicing.issue_receipt(payment, user=user)
    practice = Practice.get_by_id(payment.practice_id)
    base = current_app.config["BASE_URL"].rstrip("/")
    with database.atomic("IMMEDIATE"):
        invited = False
        try:
            tokens.invite_client(client)
            invited = True
        except tokens.InviteError:
            pass  # has access already (or another account uses the address): the link serves
        mail.queue(
            client.email,
            f"Your receipt from {practice.name}",
            f"Hello,\n\nYour receipt from {practice.name} is in your client portal:\n\n"
            f"{base}/portal/documents/{doc.id}\n\n"
            + (
                "You will get a separate e-mail to set your portal password first.\n\n"
                if invited
                else ""
            )
            + "Thank you.",
            practice=practice.id,
            kind="receipt",
        )
        audit.record("receipt.send", obj=payment, user=user, detail="portal link")
    return doc


# --- the next visit -----------------------------------------------------------------------


NEAR_DAYS = 3  # the nearest free time is looked for this many days either side


@dataclasses.dataclass(frozen=True)
class NextVisit:
    """The next visit to offer, as local wall times: `wanted` is the client's rhythm's date
    at this visit's time of day; `suggested` the free time of the therapist's working hours
    nearest to it (`wanted` itself when free), or None when none is near."""

    wanted: dt.datetime
    suggested: dt.datetime | None


def next_visit(appt, tz):
    """The next visit like this one (same type and therapist): the same weekday and time
    on the client's own rhythm when the therapist works then and is free, else the
    nearest free time of the therapist around it, by the scheduling service's free
    slots (the ones online booking offers, without its notice and horizon)."""
    past = (
        Appointment.select(Appointment.starts_at)
        .where(
            (Appointment.client == appt.client_id)
            & (Appointment.status == COMPLETED)
            & (Appointment.id != appt.id)
            & (Appointment.starts_at < appt.starts_at)
        )
        .order_by(Appointment.starts_at.desc())
        .limit(3)
    )
    start = slot_rules.to_local(appt.starts_at, tz)
    dates = [slot_rules.to_local(a.starts_at, tz).date() for a in past]
    day = rules.suggested_next_date(start.date(), dates)
    wanted = dt.datetime.combine(day, start.time())
    free = sched.free_slots(
        appt.provider,
        appt.appointment_type,
        day - dt.timedelta(days=NEAR_DAYS),
        day + dt.timedelta(days=NEAR_DAYS),
        practice=appt.practice,
    )
    if not free:
        return NextVisit(wanted, None)
    target = slot_rules.to_utc(wanted, tz)
    best = min(free, key=lambda t: (abs(t - target), t))
    return NextVisit(wanted, slot_rules.to_local(best, tz))


def booked_next(appt):
    """The client's next active visit after this one, if any is booked already."""
    return (
        Appointment.select()
        .where(
            (Appointment.client == appt.client_id)
            & (Appointment.starts_at > appt.starts_at)
            & Appointment.status.in_(ACTIVE_STATUSES)
        )
        .order_by(Appointment.starts_at)
        .first()
    )


def book_next(appt, local_start, tz, user=None, override_reason=""):
    """Book the next visit like this one (type, therapist, room) at `local_start`."""
    return sched.book(
        practice=appt.practice,
        client=appt.client,
        appt_type=appt.appointment_type,
        provider=appt.provider,
        starts_at=slot_rules.to_utc(local_start, tz),
        user=user,
        override_reason=override_reason,
    )
