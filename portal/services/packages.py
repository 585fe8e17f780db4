"""Packages: sell, activate on payment, redeem, give back, expire. (Refunding the unused
sessions: services/package_refunds.py.)

Credits live in the append-only CreditLedger. Each write re-reads the balance inside
`database.atomic("IMMEDIATE")` (writers queue on SQLite's lock), and the database
itself refuses a row whose running balance would go below zero.
"""

import datetime as dt

from peewee import JOIN, Case, IntegrityError, fn

from portal import audit, clock
from portal.db import database
from portal.models.billing import (
    INVOICE_PAID,
    LEDGER_EXPIRY,
    LEDGER_PURCHASE,
    LEDGER_REDEEM,
    LEDGER_RETURN,
    LINE_PACKAGE,
    PAY_PACKAGE_CREDIT,
    PURCHASE_ACTIVE,
    PURCHASE_CANCELLED,
    PURCHASE_EXPIRED,
    PURCHASE_PENDING,
    CreditLedger,
    Invoice,
    PackageDefinition,
    PackageEligibleType,
    PackagePurchase,
)
from portal.models.scheduling import Appointment
from portal.rules import ledger as L
from portal.rules.money import format_cents
from portal.services import invoicing
from portal.services.reads import scoped_rows


class PackageError(L.LedgerError):
    """A refused package change, with a message for the user; `field`: the form field it
    is about, if one."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


# --- reading -----------------------------------------------------------------------------


def balance(purchase_id):
    total = (
        CreditLedger.select(fn.COALESCE(fn.SUM(CreditLedger.delta), 0))
        .where(CreditLedger.purchase == purchase_id)
        .scalar()
    )
    return int(total or 0)


USED = (LEDGER_REDEEM, LEDGER_RETURN)


def used_sum_sql():
    """SQL: the net value of the credits used (rules.ledger.used_value): + the price of
    each redeem (-1), - that of each give-back (+1)."""
    each = CreditLedger.delta * CreditLedger.unit_price_cents * -1
    return fn.COALESCE(fn.SUM(Case(None, [(CreditLedger.kind.in_(USED), each)], 0)), 0)


def _sum_by_purchase(purchase_ids, total):
    """{purchase id: the SQL aggregate `total` over its ledger rows (0 without rows)}, one
    query for all the purchases."""
    ids = list(purchase_ids)
    if not ids:
        return {}
    rows = (
        CreditLedger.select(CreditLedger.purchase, total)
        .where(CreditLedger.purchase.in_(ids))
        .group_by(CreditLedger.purchase)
        .tuples()
    )
    found = {pid: int(value or 0) for pid, value in rows}
    return {pid: found.get(pid, 0) for pid in ids}


def used_values(purchase_ids):
    """{purchase id: net value of the credits used} (rules.ledger.used_value), one query."""
    return _sum_by_purchase(purchase_ids, used_sum_sql())


def balance_and_used(purchase_id):
    """(credits left, net value of the credits used) of one purchase, in one query."""
    left, used = (
        CreditLedger.select(fn.COALESCE(fn.SUM(CreditLedger.delta), 0), used_sum_sql())
        .where(CreditLedger.purchase == purchase_id)
        .tuples()
        .get()
    )
    return int(left or 0), int(used or 0)


def unused_value(purchase):
    """What the unused sessions are worth: the price paid less the credits used."""
    return L.unused_value(purchase.price_cents, used_values([purchase.id])[purchase.id])


def eligible_type_ids(definition_id):
    return {
        row.appointment_type_id
        for row in PackageEligibleType.select().where(
            PackageEligibleType.definition == definition_id
        )
    }


def is_eligible(purchase, appointment_type_id):
    types = eligible_type_ids(purchase.definition_id)
    return not types or appointment_type_id in types  # no list = every type


def active_purchases(client_id, appointment_type_id=None):
    """Active packages of a client with credit left, soonest expiry first."""
    rows = (
        PackagePurchase.select()
        .where((PackagePurchase.client == client_id) & usable())
        .order_by(
            PackagePurchase.expires_at.is_null(), PackagePurchase.expires_at, PackagePurchase.id
        )
    )
    out = []
    for p in rows:
        if appointment_type_id is not None and not is_eligible(p, appointment_type_id):
            continue
        b = balance(p.id)
        if b > 0:
            p.balance = b
            out.append(p)
    return out


def redeemed_entry(appointment_id):
    """The purchase a credit is currently redeemed from for this appointment, or None."""
    rows = list(
        CreditLedger.select(CreditLedger.purchase, fn.SUM(CreditLedger.delta).alias("net"))
        .where(
            (CreditLedger.appointment == appointment_id)
            & (CreditLedger.kind.in_([LEDGER_REDEEM, LEDGER_RETURN]))
        )
        .group_by(CreditLedger.purchase)
    )
    for row in rows:
        if row.net < 0:
            return (
                CreditLedger.select()
                .where(
                    (CreditLedger.appointment == appointment_id)
                    & (CreditLedger.purchase == row.purchase_id)
                    & (CreditLedger.kind == LEDGER_REDEEM)
                )
                .order_by(CreditLedger.id.desc())
                .first()
            )
    return None


def per_visit_price(appointment_id):
    """The price actually paid for a visit paid by a package credit (for superbills)."""
    entry = redeemed_entry(appointment_id)
    return entry.unit_price_cents if entry else None


def balances(purchase_ids):
    """{purchase id: credits left} for these purchases, in one query."""
    return _sum_by_purchase(purchase_ids, fn.SUM(CreditLedger.delta))


def with_balances(purchases):
    """The purchases, each with `.balance` (credits left) set: one query for all."""
    purchases = list(purchases)
    left = balances(p.id for p in purchases)
    for p in purchases:
        p.balance = left[p.id]
    return purchases


def usable(now=None):
    """SQL: an active package not past its expiry at `now` (default: the clock; the daily
    task closes it later): its unused credits are owed to the client. Past its expiry they
    are the practice's."""
    now = now or clock.utcnow()
    return (PackagePurchase.status == PURCHASE_ACTIVE) & (
        PackagePurchase.expires_at.is_null() | (PackagePurchase.expires_at > now)
    )


def liability(practice_id):
    """What the unused credits of the usable packages are worth: each package's price less
    the net value of its credits used (cents)."""
    purchases = PackagePurchase.select().where(PackagePurchase.practice == practice_id)
    return _liability(_active_values(purchases).tuples())


def liability_seen_by(user):
    """liability() over the packages `user` may see (for the owner: the whole practice's)."""
    return _liability(scoped_rows("packages.liability", PackagePurchase, user, _active_values))


def _active_values(purchases):
    """(price, net value of the credits used) of each usable package among `purchases`."""
    return (
        purchases.select(PackagePurchase.price_cents, used_sum_sql())
        .join(CreditLedger, JOIN.LEFT_OUTER, on=(CreditLedger.purchase == PackagePurchase.id))
        .where(usable())
        .group_by(PackagePurchase.id)
    )


def _liability(rows):
    return L.liability([(price, int(used)) for price, used in rows])


# --- definitions -------------------------------------------------------------------------


def save_definition(
    practice_id,
    *,
    name,
    sessions,
    price_cents,
    expiry_days,
    sold_online,
    type_ids,
    user,
    definition=None,
):
    L.session_prices(price_cents, sessions)  # validates
    if price_cents <= 0:
        raise PackageError("A package is sold for a price above $0.")
    with database.atomic("IMMEDIATE"):
        if definition is None:
            definition = PackageDefinition(practice=practice_id)
        definition.name = name
        definition.sessions = sessions
        definition.price_cents = price_cents
        definition.expiry_days = expiry_days or None
        definition.sold_online = bool(sold_online)
        definition.save()
        PackageEligibleType.delete().where(
            PackageEligibleType.definition == definition.id
        ).execute()
        for tid in type_ids:
            PackageEligibleType.create(
                practice=practice_id, definition=definition.id, appointment_type=tid
            )
        audit.record("package.define", obj=definition, user=user)
    return definition


# --- selling ------------------------------------------------------------------------------


def sell(definition, client_id, user=None):
    """Create a pending purchase and its issued invoice. Credits come when it is paid."""
    if not definition.active:
        raise PackageError("This package is no longer sold.")
    with database.atomic("IMMEDIATE"):
        purchase = PackagePurchase.create(
            practice=definition.practice_id,
            client=client_id,
            definition=definition.id,
            name=definition.name,
            sessions_total=definition.sessions,
            price_cents=definition.price_cents,
            status=PURCHASE_PENDING,
            created_by=user.id if user is not None else None,
        )
        inv = invoicing.create_invoice(
            practice_id=definition.practice_id,
            client_id=client_id,
            lines=[
                {
                    "kind": LINE_PACKAGE,
                    "description": f"Package: {definition.name} ({definition.sessions} sessions)",
                    "unit_cents": definition.price_cents,
                    "service_date": clock.today(definition.practice.tz),
                }
            ],
            reason="package",
            user=user,
            issue=False,
        )
        PackagePurchase.update(invoice=inv.id).where(PackagePurchase.id == purchase.id).execute()
        invoicing.issue_invoice(inv, user=user)
        audit.record("package.sell", obj=purchase, user=user)
        on_invoice_paid(Invoice.get_by_id(inv.id), user=user)  # a free package is paid at once
    return PackagePurchase.get_by_id(purchase.id), Invoice.get_by_id(inv.id)


def on_invoice_paid(inv, user=None, **kw):
    """invoice_paid: activate the invoice's pending packages once it is paid: +N credits."""
    invoice_id = inv.id
    with database.atomic("IMMEDIATE"):
        inv = Invoice.get_by_id(invoice_id)
        if inv.status != INVOICE_PAID:
            return
        for purchase in PackagePurchase.select().where(
            (PackagePurchase.invoice == invoice_id) & (PackagePurchase.status == PURCHASE_PENDING)
        ):
            now = clock.utcnow()
            expires = None
            definition = PackageDefinition.get_by_id(purchase.definition_id)
            if definition.expiry_days:
                expires = expiry_after(now, definition.expiry_days, inv.practice.tz)
            PackagePurchase.update(
                status=PURCHASE_ACTIVE, activated_at=now, expires_at=expires
            ).where(
                (PackagePurchase.id == purchase.id) & (PackagePurchase.status == PURCHASE_PENDING)
            ).execute()
            append_entry(purchase, LEDGER_PURCHASE, purchase.sessions_total, user=user)
            audit.record("package.activate", obj=purchase, user=user)


def expiry_after(paid_at, days, tz):
    """When a package paid at `paid_at` expires: the end of the practice's day `days` days
    later, so a client told "use them by Apr 1" can use them all that day."""
    last_day = clock.local_date(paid_at, tz) + dt.timedelta(days=days)
    end = dt.datetime.combine(last_day, dt.time(23, 59, 59), tzinfo=tz)
    return end.astimezone(dt.UTC).replace(tzinfo=None)


def on_invoice_voided(inv, user=None, **kw):
    """invoice_voided: a package sold on it and not yet paid is cancelled."""
    invoice_id = inv.id
    with database.atomic("IMMEDIATE"):
        PackagePurchase.update(status=PURCHASE_CANCELLED, closed_at=clock.utcnow()).where(
            (PackagePurchase.invoice == invoice_id) & (PackagePurchase.status == PURCHASE_PENDING)
        ).execute()


def append_entry(
    purchase, kind, delta, *, unit_price=0, amount=0, appointment_id=None, note="", user=None
):
    """Append one ledger row; balance re-read here (caller holds the IMMEDIATE lock)."""
    current = balance(purchase.id)
    after = L.apply(current, delta)
    try:
        with database.atomic():
            return CreditLedger.create(
                practice=purchase.practice_id,
                client=purchase.client_id,
                purchase=purchase.id,
                kind=kind,
                delta=delta,
                balance_after=after,
                unit_price_cents=unit_price,
                amount_cents=amount,
                appointment=appointment_id,
                note=note[:255],
                created_by=user.id if user is not None else None,
            )
    except IntegrityError as e:  # the database's own guard (CHECK / trigger)
        raise L.NoCreditLeft("No package credit is left.") from e


# --- redeeming and giving back -------------------------------------------------------------


def redeem(appointment, user=None, purchase=None):
    """Use one credit for `appointment` (idempotent: a visit uses at most one credit).

    Returns the ledger row, or None when no eligible package has credit left.
    Raises NoCreditLeft when `purchase` was given and it has none left."""
    with database.atomic("IMMEDIATE"):
        existing = redeemed_entry(appointment.id)
        if existing is not None:
            return existing
        if purchase is not None:
            purchase = PackagePurchase.get_by_id(purchase.id)
            if purchase.status != PURCHASE_ACTIVE or purchase.client_id != appointment.client_id:
                raise L.NoCreditLeft("This package cannot be used for this visit.")
            if purchase.expires_at is not None and purchase.expires_at <= clock.utcnow():
                raise L.NoCreditLeft("This package has expired.")
            if not is_eligible(purchase, appointment.appointment_type_id):
                raise PackageError("This package does not cover this kind of visit.")
            candidates = [purchase]
        else:
            candidates = active_purchases(appointment.client_id, appointment.appointment_type_id)
            if not candidates:
                return None
        chosen = candidates[0]
        current, used = balance_and_used(chosen.id)
        if current <= 0:
            raise L.NoCreditLeft("No package credit is left.")
        price = L.redeem_price(chosen.price_cents, current, used)
        row = append_entry(
            chosen, LEDGER_REDEEM, -1, unit_price=price, appointment_id=appointment.id, user=user
        )
        audit.record("package.redeem", obj=row, user=user)
        return row


def return_credit(appointment, user=None, note="cancelled inside the policy"):
    """+1 back for a visit whose credit was redeemed (e.g. cancelled in time)."""
    with database.atomic("IMMEDIATE"):
        entry = redeemed_entry(appointment.id)
        if entry is None:
            return None
        purchase = PackagePurchase.get_by_id(entry.purchase_id)
        if purchase.status != PURCHASE_ACTIVE:
            return None
        row = append_entry(
            purchase,
            LEDGER_RETURN,
            1,
            unit_price=entry.unit_price_cents,
            appointment_id=appointment.id,
            note=note,
            user=user,
        )
        audit.record("package.return", obj=row, user=user)
        return row


def pay_invoice_with_credit(inv, purchase, appointment, user=None):
    """Check-out: pay a visit invoice with one package credit (a whole visit: not a fee,
    nor the client's share of a visit billed to insurance)."""
    if not inv.takes_package_credit:
        raise PackageError(
            "A package credit pays for a whole visit: take this invoice another way."
        )
    with database.atomic("IMMEDIATE"):
        row = redeem(appointment, user=user, purchase=purchase)
        inv = Invoice.get_by_id(inv.id)
        payment = invoicing.record_payment(
            inv,
            method=PAY_PACKAGE_CREDIT,
            amount_cents=inv.balance_cents,
            user=user,
            reference=f"{purchase.name}: per-visit value {format_cents(row.unit_price_cents)}",
            package_purchase=row.purchase_id,
        )
    return payment


def on_payment_refunded(payment, refund=None, user=None, **kw):
    """payment_refunded: a visit paid by a package credit gets its credit back."""
    if payment.method != PAY_PACKAGE_CREDIT or not payment.package_purchase_id:
        return None
    if payment.invoice_id is None:
        return None
    inv = Invoice.get_by_id(payment.invoice_id)
    if inv.appointment_id is None:
        return None
    return return_credit(Appointment.get_by_id(inv.appointment_id), user=user, note="refund")


# --- expiry and refunds -----------------------------------------------------------------------


def expire_due(now=None):
    """Expire active packages past their date: -remaining. Returns how many expired."""
    now = now or clock.utcnow()
    due = list(
        PackagePurchase.select(PackagePurchase.id).where(
            (PackagePurchase.status == PURCHASE_ACTIVE)
            & PackagePurchase.expires_at.is_null(False)
            & (PackagePurchase.expires_at <= now)
        )
    )
    count = 0
    for row in due:
        with database.atomic("IMMEDIATE"):
            purchase = PackagePurchase.get_by_id(row.id)
            if purchase.status != PURCHASE_ACTIVE:
                continue
            remaining = balance(purchase.id)
            if remaining > 0:
                value = unused_value(purchase)
                append_entry(purchase, LEDGER_EXPIRY, -remaining, amount=value, note="expired")
            PackagePurchase.update(status=PURCHASE_EXPIRED, closed_at=now).where(
                PackagePurchase.id == purchase.id
            ).execute()
            audit.record("package.expire", obj=purchase, detail=f"{remaining} credits")
            count += 1
    return count


def is_past_expiry(purchase, now=None):
    """Whether an active package is past its expiry (the daily task closes it later)."""
    now = now or clock.utcnow()
    return purchase.expires_at is not None and purchase.expires_at <= now
