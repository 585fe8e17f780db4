"""The owner's reports: revenue by month, payer, CPT code and provider; claims by status;
package liability. Each is also a CSV (`table(report, name)`).

    report = build(practice, start, end)     # local dates, both included
    report.months, report.by_payer, report.by_cpt, report.by_provider, report.statuses,
    report.liability, report.total_cents
    title, headers, rows = table(report, "revenue-by-payer")

Revenue is money received in the period (rules/reports.py): client payments by cash,
check, card or terminal, less refunds, and payer payments posted to claims, dated by the
payer's date of the payment (`payer_day`). A visit paid with a package credit is no new
money and never counts; the package's sale does. Client money is spread over its
invoice's lines (largest remainder) to tell CPT codes and providers apart; payer money is
per claim line.
"""

import dataclasses
import datetime as dt

from peewee import JOIN, SQL, Case, fn

from portal import clock
from portal.models.billing import (
    PAY_PACKAGE_CREDIT,
    PAYMENT_SUCCEEDED,
    CreditLedger,
    InvoiceLine,
    PackageDefinition,
    PackagePurchase,
    Payment,
    Refund,
)
from portal.models.claims import Claim, ClaimLine, ClaimPosting, Remittance, RemittanceClaim
from portal.models.insurance import Payer
from portal.models.practice import Provider
from portal.rules import claim_status, ledger
from portal.rules import reports as rules
from portal.rules.money import format_cents
from portal.services import account_credit, packages
from portal.services.claims import queries

CLIENTS = "Clients"
NO_PROVIDER = "No provider (not for a visit)"  # package sales, payments on no visit
NO_CODE = {
    "package": "Package sales",
    "fee": "Fees (late cancellation, no-show)",
    "patient_responsibility": "Client share of insurance visits",
    "adjustment": "Adjustments",
}
NAMES = {
    "revenue-by-month": "Revenue by month",
    "revenue-by-payer": "Revenue by payer",
    "revenue-by-cpt": "Revenue by CPT code",
    "revenue-by-provider": "Revenue by provider",
    "claims-by-status": "Claims by status",
    "package-liability": "Package liability",
}


# Claims by status: a claim the payer has had, edited back to draft or ready for a
# correction, is a row of its own (its balance is a receivable; a draft never sent is not);
# so is a rejected claim being fixed (a receivable no payer received, as a rejected one).
CORRECTING = "correcting"
CORRECTING_LABEL = "Being corrected (billed, to send again)"
FIXING = "fixing"
FIXING_LABEL = "Rejected, being fixed (not with the payer)"
ORDER = (*claim_status.STATUSES[:2], CORRECTING, FIXING, *claim_status.STATUSES[2:])
RECEIVABLE_ROWS = frozenset({*queries.AR_STATUSES, CORRECTING, FIXING})
NOT_RECEIVED_ROWS = frozenset({claim_status.REJECTED, FIXING})
LABELS = {CORRECTING: CORRECTING_LABEL, FIXING: FIXING_LABEL}


@dataclasses.dataclass
class StatusRow:
    status: str
    count: int
    total_cents: int
    paid_cents: int
    balance_cents: int

    @property
    def label(self):
        return LABELS.get(self.status) or claim_status.label(self.status)


@dataclasses.dataclass
class LiabilityRow:
    name: str
    purchases: int
    credits_left: int
    cents: int


@dataclasses.dataclass
class Report:
    start: dt.date
    end: dt.date
    months: list
    by_payer: list
    by_cpt: list
    by_provider: list
    statuses: list
    liability: list
    credit_held_cents: int = 0  # clients' account credit held now (services/account_credit)

    @property
    def total_cents(self):
        return sum(m.total_cents for m in self.months)

    @property
    def receivable_cents(self):
        """The open balance owed on bills for the period's claims (as the aging table's
        total counts): with payers, being corrected, and rejected (no payer has those)."""
        return sum(s.balance_cents for s in self.statuses if s.status in RECEIVABLE_ROWS)

    @property
    def not_received_cents(self):
        """... of which no payer received the bill: rejected, or being fixed after that."""
        return sum(s.balance_cents for s in self.statuses if s.status in NOT_RECEIVED_ROWS)

    @property
    def correcting_cents(self):
        """... of which is being corrected after it was sent (the aging table's line)."""
        return sum(s.balance_cents for s in self.statuses if s.status == CORRECTING)

    @property
    def with_payers_cents(self):
        """... and what payers have as it was sent (the aging table's payers' rows)."""
        return self.receivable_cents - self.not_received_cents - self.correcting_cents

    @property
    def liability_cents(self):
        return sum(r.cents for r in self.liability)


def _utc(practice, day):
    local = dt.datetime.combine(day, dt.time(0), tzinfo=practice.tz)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


# Payers and providers are grouped by id, never by name: two payers called "Blue Cross"
# (BCBS of two states) are two rows, told apart by their payer IDs (rules.distinct_labels).
CLIENTS_ROW = rules.Named(("clients",), CLIENTS)
NO_PROVIDER_ROW = rules.Named(("provider", None), NO_PROVIDER)


def _payer_row(r):
    """A payer read with a posting (payer_id, payer_name, payer_code, payer_city,
    payer_state), as a row of the by-payer report."""
    keys = ("payer_id", "payer_name", "payer_code", "payer_city", "payer_state")
    return rules.named_payer(*(r[k] for k in keys))


def _provider_row(r):
    """A provider read with a posting or invoice line (provider_id, first_name, last_name,
    credentials, npi), or None, as a row of the by-provider report."""
    if r["provider_id"] is None:
        return NO_PROVIDER_ROW
    name = f"{r['first_name']} {r['last_name']}".strip() or NO_PROVIDER
    npi = r["npi"]
    marks = (f"NPI {npi}" if npi else "", r["credentials"], f"#{r['provider_id']}")
    return rules.Named(("provider", r["provider_id"]), name, marks, npi)


PROVIDER_FIELDS = (
    Provider.id.alias("provider_id"),
    Provider.first_name,
    Provider.last_name,
    Provider.credentials,
    Provider.npi,
)


def payer_day(remittance_day, typed_day, posted_at, tz):
    """The day payer money counts on: the payer's own date of the payment, an 835's BPR16
    (its remittance's payment_date) or the date typed from the EOB when it was posted by
    hand; else (an 835 without BPR16, a payment by hand with no date typed) the day it was
    posted, in the practice's zone `tz`: the money was in hand by then."""
    return remittance_day or typed_day or clock.local_date(posted_at, tz)


def _payer_day_in(start, end, lo, hi):
    """SQL: a posting whose payer_day falls on the local dates start..end (lo, hi: their
    bounds in UTC, for the day it was posted)."""
    remittance_day, typed_day = Remittance.payment_date, ClaimPosting.paid_on
    posted = (ClaimPosting.created_at >= lo) & (ClaimPosting.created_at < hi)
    return (
        remittance_day.between(start, end)
        | (remittance_day.is_null() & typed_day.between(start, end))
        | (remittance_day.is_null() & typed_day.is_null() & posted)
    )


def _payer_money(practice, start, end):
    """(local day, payer, cpt, provider, cents, payment) per posting of a payer's money
    (payer and provider: rules.Named), dated by payer_day; payment: the payer's answer
    (claim, when posted) when it paid, None for a take-back."""
    lo, hi = _utc(practice, start), _utc(practice, end + dt.timedelta(days=1))
    q = (
        ClaimPosting.select(
            ClaimPosting.claim,
            ClaimPosting.created_at,
            ClaimPosting.paid_cents,
            ClaimPosting.paid_on,
            Remittance.payment_date,
            Payer.id.alias("payer_id"),
            Payer.name.alias("payer_name"),
            Payer.payer_code,
            Payer.city.alias("payer_city"),
            Payer.state.alias("payer_state"),
            ClaimLine.cpt_code,
            *PROVIDER_FIELDS,
        )
        .join_from(ClaimPosting, Claim, on=(ClaimPosting.claim == Claim.id))
        .join_from(Claim, Payer, on=(Claim.payer == Payer.id))
        .join_from(Claim, Provider, JOIN.LEFT_OUTER, on=(Claim.provider == Provider.id))
        .join_from(
            ClaimPosting, ClaimLine, JOIN.LEFT_OUTER, on=(ClaimPosting.claim_line == ClaimLine.id)
        )
        .join_from(ClaimPosting, RemittanceClaim, JOIN.LEFT_OUTER,
                   on=(ClaimPosting.remittance_claim == RemittanceClaim.id))
        .join_from(RemittanceClaim, Remittance, JOIN.LEFT_OUTER,
                   on=(RemittanceClaim.remittance == Remittance.id))
        .where(
            (ClaimPosting.practice == practice.id)
            & _payer_day_in(start, end, lo, hi)
            & (ClaimPosting.paid_cents != 0)
        )
        .dicts()
    )  # fmt: skip
    for r in q:
        yield (
            payer_day(r["payment_date"], r["paid_on"], r["created_at"], practice.tz),
            _payer_row(r),
            r["cpt_code"] or "Not itemized",
            _provider_row(r),
            r["paid_cents"],
            ("claim", r["claim"], r["created_at"]) if r["paid_cents"] > 0 else None,
        )


def _client_amounts(practice, lo, hi):
    """(local day, invoice id, cents, payment): payments received (payment: its id) less
    refunds made (None), package credits left out."""
    received = fn.COALESCE(Payment.received_at, Payment.created_at)
    payments = Payment.select(
        Payment.id, Payment.invoice, Payment.amount_cents, received.alias("at")
    ).where(
        (Payment.practice == practice.id)
        & (Payment.status == PAYMENT_SUCCEEDED)
        & (Payment.method != PAY_PACKAGE_CREDIT)
        & (received >= lo)
        & (received < hi)
    )
    for p in payments.dicts():
        day = clock.local_date(_as_dt(p["at"]), practice.tz)
        yield day, p["invoice"], p["amount_cents"], ("payment", p["id"])
    refunds = (
        Refund.select(Payment.invoice, Refund.amount_cents, Refund.created_at)
        .join(Payment, on=(Refund.payment == Payment.id))
        .where(
            (Refund.practice == practice.id)
            & (Refund.status == PAYMENT_SUCCEEDED)
            & (Payment.method != PAY_PACKAGE_CREDIT)
            & (Refund.created_at >= lo)
            & (Refund.created_at < hi)
        )
    )
    for r in refunds.dicts():
        day = clock.local_date(r["created_at"], practice.tz)
        yield day, r["invoice"], -r["amount_cents"], None


def _as_dt(value):
    if isinstance(value, str):  # COALESCE hands back SQLite's text
        return dt.datetime.fromisoformat(value)
    return value


def _lines_of(invoice_ids):
    out = {}
    ids = [i for i in set(invoice_ids) if i is not None]
    for i in range(0, len(ids), 500):
        q = (
            InvoiceLine.select(
                InvoiceLine.invoice,
                InvoiceLine.amount_cents,
                InvoiceLine.cpt_code,
                InvoiceLine.kind,
                *PROVIDER_FIELDS,
            )
            .join(Provider, JOIN.LEFT_OUTER, on=(InvoiceLine.provider == Provider.id))
            .where(InvoiceLine.invoice.in_(ids[i : i + 500]) & (InvoiceLine.amount_cents > 0))
            .order_by(InvoiceLine.invoice, InvoiceLine.position, InvoiceLine.id)
            .dicts()
        )
        for r in q:
            out.setdefault(r["invoice"], []).append(r)
    return out


def _client_money(practice, lo, hi):
    """(local day, cpt or kind, provider (rules.Named), cents, payment): client money
    spread over invoice lines."""
    amounts = list(_client_amounts(practice, lo, hi))
    lines = _lines_of(inv for _, inv, _, _ in amounts)
    for day, invoice_id, cents, payment in amounts:
        its = lines.get(invoice_id) or [
            {"cpt_code": "", "kind": "", "provider_id": None, "amount_cents": 1}
        ]
        shares = rules.allocate(cents, [ln["amount_cents"] for ln in its])
        for ln, share in zip(its, shares, strict=True):
            code = ln["cpt_code"] or NO_CODE.get(ln["kind"], "Other")
            yield day, code, _provider_row(ln), share, payment


def _statuses(practice, start, end):
    """Per status (a correction of a billed claim apart), for the period's visits."""
    status = Case(
        None,
        [(queries.fixing_rejected_sql(), FIXING), (queries.being_corrected_sql(), CORRECTING)],
        Claim.status,
    )
    q = (
        Claim.select(
            status.alias("status_group"),
            fn.COUNT(Claim.id).alias("n"),
            fn.SUM(Claim.total_cents).alias("total"),
            fn.SUM(Claim.paid_cents).alias("paid"),
            fn.SUM(queries.balance_sql()).alias("open"),  # a void claim: 0
        )
        .where(
            (Claim.practice == practice.id)
            & (Claim.service_date >= start)
            & (Claim.service_date <= end)
        )
        # by the output column's name: PostgreSQL does not match the CASE written twice,
        # each with its own parameters, as one expression
        .group_by(SQL("status_group"))
        .dicts()
    )
    rows = {r["status_group"]: r for r in q}
    return [
        StatusRow(
            s, rows[s]["n"], rows[s]["total"] or 0, rows[s]["paid"] or 0, rows[s]["open"] or 0
        )
        for s in ORDER
        if s in rows
    ]


def _liability(practice):
    last = (
        CreditLedger.select(CreditLedger.purchase, fn.MAX(CreditLedger.id).alias("last_id"))
        .where(CreditLedger.practice == practice.id)
        .group_by(CreditLedger.purchase)
    )
    balances = {
        row.purchase_id: row.balance_after
        for row in CreditLedger.select(CreditLedger.purchase, CreditLedger.balance_after).where(
            CreditLedger.id.in_([r.last_id for r in last])
        )
    }
    active = list(
        PackagePurchase.select(PackagePurchase, PackageDefinition)
        .join(PackageDefinition, on=(PackagePurchase.definition == PackageDefinition.id))
        .where((PackagePurchase.practice == practice.id) & packages.usable())
    )
    used = packages.used_values(p.id for p in active)
    # per package sold (its definition and the name it was sold under), not per name: two
    # packages of one name (an old price kept beside a new one) are two rows
    rows, named = {}, {}
    for p in active:
        key = (p.definition_id, p.name)
        d = p.definition
        marks = (f"{d.sessions} sessions for {format_cents(d.price_cents)}", f"#{d.id}")
        named.setdefault(key, rules.Named(key, p.name, marks))
        row = rows.setdefault(key, LiabilityRow(p.name, 0, 0, 0))
        row.purchases += 1
        row.credits_left += balances.get(p.id, 0)
        row.cents += ledger.unused_value(p.price_cents, used[p.id])
    labels = rules.distinct_labels(named.values())
    for key, row in rows.items():
        row.name = labels[key]
    return sorted(rows.values(), key=lambda r: (-r.cents, r.name))


def build(practice, start, end):
    """The report for the practice's local dates start..end (both included)."""
    lo, hi = _utc(practice, start), _utc(practice, end + dt.timedelta(days=1))
    payer = list(_payer_money(practice, start, end))
    client = list(_client_money(practice, lo, hi))
    months = rules.by_month(
        [(d, rules.PAYER, c) for d, _, _, _, c, _ in payer]
        + [(d, rules.CLIENT, c) for d, _, _, c, _ in client],
        # a quiet month is a row of $0; a period without any money, the page's empty state
        rules.month_range(start, end) if payer or client else (),
    )
    return Report(
        start=start,
        end=end,
        months=months,
        by_payer=rules.totals_by(
            [(p, c, i) for _, p, _, _, c, i in payer] + [(CLIENTS_ROW, c, i) for *_, c, i in client]
        ),
        by_cpt=rules.totals_by(
            [(code, c, i) for _, _, code, _, c, i in payer]
            + [(code, c, i) for _, code, _, c, i in client]
        ),
        by_provider=rules.totals_by(
            [(pr, c, i) for *_, pr, c, i in payer] + [(pr, c, i) for _, _, pr, c, i in client]
        ),
        statuses=_statuses(practice, start, end),
        liability=_liability(practice),
        credit_held_cents=account_credit.held_total(practice.id),
    )


def _money(cents):
    return f"{cents / 100:.2f}"


def _totals_table(report, name):
    """A payer's and a provider's row carry its outside id (payer ID, NPI) in a column of
    its own, so a spreadsheet tells two of the same name apart; a CPT code is its own."""
    if name == "revenue-by-cpt":
        rows = [(rules.csv_text(t.label), _money(t.cents), t.count) for t in report.by_cpt]
        return NAMES[name], ("cpt_code", "amount", "payments"), rows
    key, ident, items = {
        "revenue-by-payer": ("payer", "payer_id", report.by_payer),
        "revenue-by-provider": ("provider", "npi", report.by_provider),
    }[name]
    rows = [(rules.csv_text(t.label), rules.csv_text(t.ident), _money(t.cents), t.count)
            for t in items]  # fmt: skip
    return NAMES[name], (key, ident, "amount", "payments"), rows


def table(report, name):
    """(title, headers, rows) of one report, for the CSV download: amounts in dollars as
    numbers (1085.00, -10.00), names a spreadsheet would run as a formula quoted."""
    if name == "revenue-by-month":
        rows = [(m.month.strftime("%Y-%m"), _money(m.client_cents), _money(m.payer_cents),
                 _money(m.total_cents)) for m in report.months]  # fmt: skip
        return NAMES[name], ("month", "clients", "payers", "total"), rows
    if name in ("revenue-by-payer", "revenue-by-cpt", "revenue-by-provider"):
        return _totals_table(report, name)
    if name == "claims-by-status":
        rows = [(rules.csv_text(s.label), s.count, _money(s.total_cents), _money(s.paid_cents),
                 _money(s.balance_cents)) for s in report.statuses]  # fmt: skip
        return NAMES[name], ("status", "claims", "charges", "paid", "open"), rows
    if name == "package-liability":
        rows = [(rules.csv_text(r.name), r.purchases, r.credits_left, _money(r.cents))
                for r in report.liability]  # fmt: skip
        return NAMES[name], ("package", "purchases", "credits_left", "liability"), rows
    raise KeyError(name)


def summary(report):
    return f"{format_cents(report.total_cents)} received {report.start} to {report.end}"
