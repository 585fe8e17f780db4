"""Demo: the desk's takings. The scheduling loader marks the visits before now completed,
but a completed visit in the portal is one the desk checked out: its invoice is issued
then (services/billing_events.visit_invoice) and, at the desk, paid then. Every completed
self-pay visit the loaders above left without an invoice or a package credit gets both,
told at its check-out: paid on the card terminal, in cash (a tip now and then) or by check
(with its number) on the days before today, so a past day's sheet has a drawer and a
deposit; today's visits wait at the desk with their invoice open, as a visit just
checked out by its therapist does.

Idempotent: a visit with an invoice of its own (or a credit used) is left alone, so a demo
loaded again a day later pays nothing more.
"""

import datetime as dt

from portal import clock
from portal.models import Appointment, AppointmentType, Invoice
from portal.models.billing import PAY_CASH, PAY_CHECK, PAY_TERMINAL
from portal.services import desk_checkout, invoicing, packages
from portal.services.billing_events import visit_invoice

# The ways paid, in turn: mostly the terminal (cards, HSA and FSA), then cash and checks.
TURNS = (PAY_TERMINAL, PAY_CASH, PAY_TERMINAL, PAY_CHECK, PAY_TERMINAL, PAY_CASH)
TIP_CENTS = 1500  # with every other cash payment, for the visit's therapist


def _waiting(practice):
    """The completed self-pay visits with no invoice and no package credit, in order."""
    invoiced = Invoice.select(Invoice.appointment).where(
        (Invoice.practice == practice.id) & Invoice.appointment.is_null(False)
    )
    visits = (
        Appointment.select()
        .join(AppointmentType)
        .where(
            (Appointment.practice == practice.id)
            & (Appointment.status == "completed")
            & (AppointmentType.bill_insurance == False)  # noqa: E712
            & (AppointmentType.price_cents > 0)
            & Appointment.id.not_in(invoiced)
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return [v for v in visits if packages.redeemed_entry(v.id) is None]


def load(ctx):
    practice, desk = ctx["practice"], ctx.get("frontdesk")
    now = clock.utcnow()
    today = clock.today(practice.tz)
    cash_paid = 0
    for n, visit in enumerate(_waiting(practice)):
        out = min(visit.ends_at + dt.timedelta(minutes=2), now)
        with clock.told(out):
            inv = visit_invoice(visit, user=desk)
        if inv is None or clock.local_date(visit.starts_at, practice.tz) >= today:
            continue
        method = TURNS[n % len(TURNS)]
        reference = {PAY_CHECK: f"Check {1040 + n}", PAY_TERMINAL: f"Slip {4500 + n}"}
        with clock.told(out + dt.timedelta(minutes=1)):
            invoicing.record_payment(
                inv,
                method=method,
                amount_cents=inv.balance_cents,
                reference=reference.get(method, ""),
                user=desk,
            )
            if method == PAY_CASH:
                cash_paid += 1
                if cash_paid % 2:
                    desk_checkout.take_tip(visit, TIP_CENTS, PAY_CASH, user=desk)
