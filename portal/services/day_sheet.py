"""The day sheet: every movement of money at the practice on one of its days, to close the
cash drawer and fill in the bank deposit.

    sheet = build(practice, day)        # a local date of the practice
    sheet.entries                       # payments, tips, refunds, credit payouts, by time
    sheet.totals                        # per way of paying: taken, given back, net
    sheet.cash_net_cents                # what the cash drawer gained over the day
    sheet.tips_cents                    # of the money taken, the tips (the providers' pay)
    sheet.checks_in                     # the checks to deposit, with their numbers
    sheet.not_money                     # package and account credit used, credit kept

A payment or a tip counts on the day it was recorded, a refund on the day it was made (a
card refund once Stripe has done it), a payout of account credit on the day it was handed
over. Tips are money in the drawer like any other (they are not on an invoice: they are
the provider's pay). Package credits and account credit are no money taken that day: they
are listed apart (a package credit used as the package's ledger says, whether it paid an
invoice at check-out or was taken at booking), as are refunds kept as account credit (no
money left the practice).
"""

import dataclasses
import datetime as dt

from peewee import JOIN

from portal import clock
from portal.models import AccountCredit, Client, Invoice, Provider, Tip, User
from portal.models.billing import (
    CREDIT_PAYOUT,
    LEDGER_REDEEM,
    LEDGER_RETURN,
    PAY_ACCOUNT_CREDIT,
    PAY_CARD,
    PAY_CARD_ON_FILE,
    PAY_CASH,
    PAY_CHECK,
    PAY_PACKAGE_CREDIT,
    PAY_TERMINAL,
    PAYMENT_METHOD_LABELS,
    PAYMENT_SUCCEEDED,
    CreditLedger,
    PackagePurchase,
    Payment,
    Refund,
)
from portal.models.people import ROLE_CLIENT
from portal.services.scheduling.agenda import day_bounds

MONEY_METHODS = (PAY_CASH, PAY_CHECK, PAY_TERMINAL, PAY_CARD, PAY_CARD_ON_FILE)
ALWAYS_SHOWN = (PAY_CASH, PAY_CHECK)  # the drawer's rows, even on a day without them
PAYMENT, TIP, REFUND, KEPT, PAYOUT = "payment", "tip", "refund", "kept", "payout"
PACKAGE = "package"  # a package credit used (or given back: cents below zero)
KIND_LABELS = {
    PAYMENT: "Payment",
    TIP: "Tip",
    REFUND: "Refund",
    KEPT: "Refund kept as account credit",
    PAYOUT: "Account credit paid out",
    PACKAGE: "Package credit used",
}
ONLINE = "The client, online"
NOBODY = "Not recorded"
TIME_FORMAT = "%I:%M %p"


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    at: dt.datetime  # aware, in the practice's zone
    kind: str
    client_id: int
    client_name: str
    invoice_id: int | None
    invoice_number: str
    method: str
    reference: str
    cents: int  # + money in, - money out (a package credit: its per-visit value)
    by: str
    detail: str = ""  # a tip's provider, a package's name

    @property
    def time(self):
        return self.at.strftime(TIME_FORMAT).lstrip("0")

    @property
    def kind_label(self):
        if self.kind == PACKAGE and self.cents < 0:
            return f"Package credit given back ({self.detail})"
        if self.kind == TIP:
            return f"Tip for {self.detail}"
        if self.detail:
            return f"{KIND_LABELS[self.kind]} ({self.detail})"
        return KIND_LABELS[self.kind]

    @property
    def method_label(self):
        return PAYMENT_METHOD_LABELS.get(self.method, self.method)

    @property
    def is_money(self):
        return self.kind in (PAYMENT, TIP, REFUND, PAYOUT) and self.method in MONEY_METHODS


@dataclasses.dataclass(slots=True)
class MethodTotal:
    method: str
    taken_count: int = 0
    taken_cents: int = 0
    out_count: int = 0
    out_cents: int = 0  # given back or paid out, as a positive amount

    @property
    def label(self):
        return PAYMENT_METHOD_LABELS[self.method]

    @property
    def net_cents(self):
        return self.taken_cents - self.out_cents


@dataclasses.dataclass(slots=True)
class DaySheet:
    day: dt.date
    entries: list
    totals: list  # MethodTotal, in MONEY_METHODS order
    not_money: list  # (label, count, cents)

    @property
    def net_cents(self):
        return sum(t.net_cents for t in self.totals)

    @property
    def taken_cents(self):
        return sum(t.taken_cents for t in self.totals)

    @property
    def out_cents(self):
        return sum(t.out_cents for t in self.totals)

    @property
    def tips_cents(self):
        return sum(e.cents for e in self.entries if e.kind == TIP)

    @property
    def title(self):
        return f"{self.day:%A, %B} {self.day.day}, {self.day.year}"

    @property
    def cash_net_cents(self):
        return next(t.net_cents for t in self.totals if t.method == PAY_CASH)

    @property
    def checks_in(self):
        return [e for e in self.entries if e.method == PAY_CHECK and e.kind == PAYMENT]


def build(practice, day):
    tz = practice.tz
    lo, hi = day_bounds(tz, day)
    reads = (_payments, _tips, _refunds, _payouts, _package_credits)
    entries = [e for read in reads for e in read((practice.id, lo, hi), tz)]
    entries.sort(key=lambda e: e.at)  # stable: at one second, in the order read
    return DaySheet(day, entries, _totals(entries), _not_money(entries))


def _by(r, method):
    """Who took it: the staff member; the client when they paid in the portal, or by card
    with no one signed in (Stripe's webhook); else no one recorded (an import, a task)."""
    if r["by_role"] == ROLE_CLIENT or (r["by_id"] is None and method == PAY_CARD):
        return ONLINE
    if r["by_id"] is None:
        return NOBODY
    return r["by_name"] or r["by_email"]


def _name(r):
    return f"{r['preferred_name'] or r['first_name']} {r['last_name']}".strip()


_PEOPLE = (
    Client.id.alias("client_id"),
    Client.first_name,
    Client.preferred_name,
    Client.last_name,
    User.id.alias("by_id"),
    User.name.alias("by_name"),
    User.email.alias("by_email"),
    User.role.alias("by_role"),
)


def _of_day(model, day, fields, where=None, joins=()):
    """Rows (dicts) of `model` recorded in `day` (practice id, UTC bounds), with its client
    and who recorded it (User, when any) joined: `fields` beside them, `joins` as (model,
    on, join type) between, `where` added to the practice and the day."""
    practice_id, lo, hi = day
    q = model.select(model.created_at, *fields, *_PEOPLE).join(
        Client, on=(model.client == Client.id)
    )
    for other, on, kind in joins:
        q = q.join(other, kind, on=on)
    q = q.join(User, JOIN.LEFT_OUTER, on=(model.created_by == User.id))
    on_day = (model.practice == practice_id) & (model.created_at >= lo) & (model.created_at < hi)
    return q.where(on_day if where is None else on_day & where).dicts()


_INVOICE = (Invoice.id.alias("invoice_id"), Invoice.number)


def _payments(day, tz):
    rows = _of_day(
        Payment,
        day,
        (Payment.method, Payment.amount_cents, Payment.reference, *_INVOICE),
        (Payment.status == PAYMENT_SUCCEEDED)
        & (Payment.method != PAY_PACKAGE_CREDIT),  # the package's ledger tells those
        joins=[(Invoice, Payment.invoice == Invoice.id, JOIN.LEFT_OUTER)],
    )
    for r in rows:
        yield _entry(r, PAYMENT, r["method"], r["reference"], r["amount_cents"], tz)


def _refunds(day, tz):
    rows = _of_day(
        Refund,
        day,
        (Refund.amount_cents, Refund.to_credit, Payment.method, Payment.reference, *_INVOICE),
        (Refund.status == PAYMENT_SUCCEEDED) & (Payment.method != PAY_PACKAGE_CREDIT),
        joins=[
            (Payment, Refund.payment == Payment.id, JOIN.INNER),
            (Invoice, Payment.invoice == Invoice.id, JOIN.LEFT_OUTER),
        ],
    )
    for r in rows:
        kind = KEPT if r["to_credit"] else REFUND
        yield _entry(r, kind, r["method"], r["reference"], -r["amount_cents"], tz)


def _payouts(day, tz):
    rows = _of_day(
        AccountCredit,
        day,
        (AccountCredit.delta, AccountCredit.method, AccountCredit.reference),
        AccountCredit.kind == CREDIT_PAYOUT,
    )
    for r in rows:
        yield _entry(r, PAYOUT, r["method"], r["reference"], r["delta"], tz)


def _tips(day, tz):
    names = (Provider.first_name.alias("provider_first"), Provider.last_name.alias("provider_last"))
    rows = _of_day(
        Tip,
        day,
        (Tip.method, Tip.amount_cents, Tip.reference, *names),
        joins=[(Provider, Tip.provider == Provider.id, JOIN.INNER)],
    )
    for r in rows:
        who = f"{r['provider_first']} {r['provider_last']}".strip()
        yield _entry(r, TIP, r["method"], r["reference"], r["amount_cents"], tz, detail=who)


def _package_credits(day, tz):
    """Credits used (redeem: -1) and given back (cancel_return: +1), at their per-visit
    value: whether they paid an invoice at check-out or were taken at booking."""
    rows = _of_day(
        CreditLedger,
        day,
        (CreditLedger.delta, CreditLedger.unit_price_cents, PackagePurchase.name.alias("package")),
        CreditLedger.kind.in_([LEDGER_REDEEM, LEDGER_RETURN]),
        joins=[(PackagePurchase, CreditLedger.purchase == PackagePurchase.id, JOIN.INNER)],
    )
    for r in rows:
        cents = -r["delta"] * r["unit_price_cents"]
        yield _entry(r, PACKAGE, PAY_PACKAGE_CREDIT, "", cents, tz, detail=r["package"])


def _entry(r, kind, method, reference, cents, tz, detail=""):
    return Entry(
        at=clock.to_local(r["created_at"], tz),
        kind=kind,
        client_id=r["client_id"],
        client_name=_name(r),
        invoice_id=r.get("invoice_id"),
        invoice_number=r.get("number") or "",
        method=method,
        reference=reference or "",
        cents=cents,
        by=_by(r, method),
        detail=detail,
    )


def _totals(entries):
    totals = {m: MethodTotal(m) for m in MONEY_METHODS}
    for e in entries:
        if not e.is_money:
            continue
        t = totals[e.method]
        if e.cents > 0:
            t.taken_count += 1
            t.taken_cents += e.cents
        else:
            t.out_count += 1
            t.out_cents -= e.cents
    return [t for m, t in totals.items() if m in ALWAYS_SHOWN or t.taken_count or t.out_count]


def _not_money(entries):
    """(label, count, cents) of what moved that day without money, each net of what was
    given back: package credits used (at their per-visit value), invoices paid from account
    credit, refunds kept as account credit (what the clients' credit gained)."""
    rows = []
    for label, sign, match in (
        ("Package credits used", 1, lambda e: e.kind == PACKAGE),
        ("Paid from account credit", 1, lambda e: e.method == PAY_ACCOUNT_CREDIT),
        ("Refunds kept as account credit", -1,
         lambda e: e.kind == KEPT and e.method != PAY_ACCOUNT_CREDIT),
    ):  # fmt: skip
        hits = [sign * e.cents for e in entries if match(e)]
        if hits:
            count = sum(1 if c > 0 else -1 for c in hits)
            rows.append((label, count, sum(hits)))
    return rows
