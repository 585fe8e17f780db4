"""Claim money: the client's share at check-out, accounts-receivable aging, remittance math.

All amounts are integer cents. How to call:

    allowed, missing = allowed_amount({"97124": 3}, fee_schedule={"97124": 3000})
    est = estimate_client_share(allowed, deductible_remaining_cents=5000,
                                copay_cents=None, coinsurance_percent=20)
    est.total_cents, est.deductible_cents, est.coinsurance_cents, est.payer_cents

    table = ar_aging([(payer_name, claim_date, balance_cents), ...], today)
    table.rows[0].buckets["31-60"], table.totals.total_cents

    posting = post_remittance(RemitClaim(status="1", charge_cents=..., paid_cents=...,
                                         patient_responsibility_cents=..., adjustments=(...),
                                         lines=(RemitLine(...), ...)))
    posting.patient_responsibility_cents  # the client's invoice
    posting.write_off_cents, posting.by_group["CO"], posting.status, posting.problems
    whole = combine([remit_claim, ...])  # one claim's CLPs from one 835, as one answer

    recovered_write_off(charge, settled, posted, written_off)  # the write-off paid back
    payment_imbalance(payment, [claim paid ...], [provider adjustment ...])  # 0: balanced
    status_after_take_back(paid, client_share, open_cents)  # a line's money taken back
"""

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from portal.rules import claim_status

# --- the client's share at check-out ----------------------------------------------------------


@dataclass(frozen=True)
class ShareEstimate:
    """What the client pays at check-out, as an estimate, and how it was reached."""

    allowed_cents: int
    deductible_cents: int
    copay_cents: int
    coinsurance_cents: int
    total_cents: int
    capped_by_out_of_pocket: bool = False

    @property
    def payer_cents(self) -> int:
        """What the payer is expected to pay of the allowed amount."""
        return self.allowed_cents - self.total_cents


def allowed_amount(
    units_by_code: Mapping[str, int], fee_schedule: Mapping[str, int]
) -> tuple[int, tuple[str, ...]]:
    """(allowed cents, codes the fee schedule lacks): the fee schedule's price per unit
    times the units, summed. A code without a price adds nothing and is listed, so the
    caller can say the estimate leaves it out (or price it from the practice's list)."""
    total, missing = 0, []
    for code, units in units_by_code.items():
        if units < 0:
            raise ValueError("units cannot be negative")
        price = fee_schedule.get(code)
        if price is None:
            missing.append(code)
        else:
            total += price * units
    return total, tuple(missing)


def percent_of(cents: int, percent: int | Decimal) -> int:
    """`percent`% of `cents`, to the cent, half up: percent_of(7001, 20) == 1400."""
    value = Decimal(cents) * Decimal(percent) / Decimal(100)
    return int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def estimate_client_share(
    allowed_cents: int,
    *,
    deductible_remaining_cents: int | None = None,
    copay_cents: int | None = None,
    coinsurance_percent: int | Decimal | None = None,
    out_of_pocket_remaining_cents: int | None = None,
) -> ShareEstimate:
    """The client's share (DOMAIN.md "The client's share at check-out").

    The deductible not yet met is paid first, up to the allowed amount; then the copay
    (a fixed amount per visit) when the plan has one, or else the coinsurance (a
    percentage of what remains); never more than the allowed amount, nor more than what
    is left of the out-of-pocket maximum when that is known. None means "not known" (0).
    """
    for name, value in (
        ("allowed", allowed_cents),
        ("deductible", deductible_remaining_cents),
        ("copay", copay_cents),
        ("out-of-pocket", out_of_pocket_remaining_cents),
    ):
        if value is not None and value < 0:
            raise ValueError(f"the {name} amount cannot be negative")
    if coinsurance_percent is not None and not 0 <= coinsurance_percent <= 100:
        raise ValueError("coinsurance is a percentage from 0 to 100")
    deductible = min(deductible_remaining_cents or 0, allowed_cents)
    remaining = allowed_cents - deductible
    copay = coinsurance = 0
    if copay_cents:
        copay = min(copay_cents, remaining)
    elif coinsurance_percent:
        coinsurance = percent_of(remaining, coinsurance_percent)
    capped = False
    if out_of_pocket_remaining_cents is not None:
        room = out_of_pocket_remaining_cents
        parts = []
        for part in (deductible, copay, coinsurance):
            parts.append(min(part, room))
            room -= parts[-1]
        capped = parts != [deductible, copay, coinsurance]
        deductible, copay, coinsurance = parts
    total = deductible + copay + coinsurance
    return ShareEstimate(allowed_cents, deductible, copay, coinsurance, total, capped)


# --- accounts-receivable aging ----------------------------------------------------------------

BUCKETS = ("0-30", "31-60", "61-90", "90+")


def age_bucket(claim_date: dt.date, today: dt.date) -> str:
    """0-30 days old (a future date too), 31-60, 61-90, or 90+ (91 days and more)."""
    days = (today - claim_date).days
    if days <= 30:
        return "0-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    return "90+"


@dataclass
class AgingRow:
    """One payer's open balances by age: cents and claim counts per bucket."""

    payer: Hashable
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))

    @property
    def total_cents(self) -> int:
        return sum(self.buckets.values())

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    def add(self, bucket: str, cents: int) -> None:
        self.buckets[bucket] += cents
        self.counts[bucket] += 1


NOT_RECEIVED = "Rejected, not with the payer"
CORRECTING = "Being corrected, sent earlier"


@dataclass
class AgingTable:
    """What payers owe, per payer, on the claims they have as they were sent; apart, what
    is owed on claims being corrected (sent earlier, edited back to draft or ready: the
    payer has the earlier sending, the correction waits on the practice) and on claims no
    payer received (rejected, or being fixed after a rejection:
    rules.claim_status.never_received); the totals are the three together."""

    rows: list[AgingRow]  # one per payer, in payer order: what the payer has
    totals: AgingRow  # everything owed: the payers' rows and the lines apart
    not_received: AgingRow = field(default_factory=lambda: AgingRow(NOT_RECEIVED))
    correcting: AgingRow = field(default_factory=lambda: AgingRow(CORRECTING))

    @property
    def payers(self) -> AgingRow:
        """The payers' rows summed ("All payers")."""
        row = AgingRow("All payers")
        for b in BUCKETS:
            apart = self.not_received, self.correcting
            row.buckets[b] = self.totals.buckets[b] - sum(r.buckets[b] for r in apart)
            row.counts[b] = self.totals.counts[b] - sum(r.counts[b] for r in apart)
        return row


def ar_aging(rows: Iterable[tuple[Hashable, dt.date, int]], today: dt.date) -> AgingTable:
    """Accounts-receivable aging per payer from (payer, claim date, balance cents) rows.

    The claim date is the date it was first submitted (or of service, as the caller
    decides). Rows with no balance are left out; payers are sorted by their text.
    """
    by_payer: dict[Hashable, AgingRow] = {}
    totals = AgingRow("All payers")
    for payer, claim_date, balance in rows:
        if not balance:
            continue
        bucket = age_bucket(claim_date, today)
        by_payer.setdefault(payer, AgingRow(payer)).add(bucket, balance)
        totals.add(bucket, balance)
    ordered = sorted(by_payer.values(), key=lambda row: str(row.payer).lower())
    return AgingTable(ordered, totals)


# --- a write-off recovered -------------------------------------------------------------------


def recovered_write_off(
    charge_cents: int, settled_cents: int, posted_cents: int, written_off_cents: int
) -> int:
    """The part of a claim's write-off a payer's later money takes back, as an AR ledger
    does: what this posting (`posted_cents` of paid, client share and adjusted) settled
    beyond the open balance, up to what was written off. `settled_cents` is the claim's
    paid + client share + adjusted after the posting (write-offs left out). So that
    charged = paid + client share + adjusted + written off + open holds again.

    recovered_write_off(9000, 9000, 9000, 3000) == 3000   # paid in full after all
    recovered_write_off(9000, 7000, 2000, 1000) == 0      # within the open balance
    """
    if posted_cents <= 0 or written_off_cents <= 0:
        return 0
    beyond = settled_cents + written_off_cents - charge_cents
    return max(0, min(beyond, posted_cents, written_off_cents))


# --- remittance math (one 835 claim) ----------------------------------------------------------


def status_after_take_back(paid_cents: int, patient_resp_cents: int, open_cents: int) -> str:
    """The claim's status after an answer that takes back money the payer paid on a line
    without reversing the claim (CLP02 1 with a negative SVC03): what the claim now holds
    in all, not what this answer alone says. Some paid and some open -> partially paid;
    everything settled -> paid; nothing paid and nothing for the client -> accepted (the
    payer has the claim and owes its word on it again).

    status_after_take_back(7200, 0, 7000) == "partially_paid"
    """
    if paid_cents <= 0 and patient_resp_cents <= 0:
        return claim_status.ACCEPTED
    if open_cents > 0 or patient_resp_cents > 0:
        return claim_status.PARTIALLY_PAID
    return claim_status.PAID


def payment_imbalance(
    payment_cents: int, claims_paid: Iterable[int], provider_adjustments: Iterable[int]
) -> int:
    """How far an 835's payment is from what it reports: the guide's balance is BPR02 =
    the claims' payments (CLP04) less the provider-level adjustments (PLB: interest is
    negative and adds, a recoupment or a forwarded balance positive and takes away).
    0 when the remittance reconciles.

    payment_imbalance(7250, [9600], [-150, 2000, 500]) == 0
    """
    return payment_cents - (sum(claims_paid) - sum(provider_adjustments))


GROUPS = ("CO", "PR", "OA", "PI", "CR")
PRIOR_PAYER_REASON = "23"
DENIED_CODE = "4"  # CLP02: denied  # OA 23: the impact of the prior payer's adjudication


@dataclass(frozen=True)
class Adj:
    """One CAS adjustment: group (CO, PR, OA, PI), reason (CARC) and cents (may be < 0)."""

    group: str
    reason: str
    cents: int


@dataclass(frozen=True)
class RemitLine:
    charge_cents: int
    paid_cents: int
    adjustments: tuple[Adj, ...] = ()
    code: str = ""  # the procedure, for messages


@dataclass(frozen=True)
class RemitClaim:
    """An 835 CLP as the posting reads it (x12.read835 gives the raw values)."""

    status: str  # CLP02
    charge_cents: int  # CLP03
    paid_cents: int  # CLP04
    patient_responsibility_cents: int  # CLP05
    adjustments: tuple[Adj, ...] = ()  # claim-level CAS
    lines: tuple[RemitLine, ...] = ()


@dataclass(frozen=True)
class Posting:
    """What posting a remittance claim does to the books.

    patient_responsibility_cents: PR adjustments, the client's invoice (deductible,
    coinsurance, copay, ...). write_off_cents: CO, PI and OA (other than OA 23), which
    the practice writes off. prior_payer_cents: OA 23 on a secondary's remittance.
    problems: plain-English reasons the remittance does not add up (kept, shown, never
    silently fixed).
    """

    paid_cents: int
    patient_responsibility_cents: int
    write_off_cents: int
    prior_payer_cents: int
    by_group: dict[str, int]
    by_reason: dict[tuple[str, str], int]
    status: str
    problems: tuple[str, ...]


def _sum_by(adjustments: Iterable[Adj]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    groups: dict[str, int] = {}
    reasons: dict[tuple[str, str], int] = {}
    for a in adjustments:
        groups[a.group] = groups.get(a.group, 0) + a.cents
        reasons[(a.group, a.reason)] = reasons.get((a.group, a.reason), 0) + a.cents
    return groups, reasons


def net_adjustments(adjustments: Iterable[Adj]) -> list[Adj]:
    """The adjustments as one per group and reason, summed, in the order each first came,
    without those that sum to nothing: what a prior payer's answer comes to after its
    reversals and corrections (CO 45 $20, CO 45 -$20, CO 45 $15 -> CO 45 $15), as the
    secondary payer is told it in the 837P's CAS segments."""
    _, reasons = _sum_by(adjustments)
    return [Adj(g, r, cents) for (g, r), cents in reasons.items() if cents]


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def _balance_problems(claim: RemitClaim, every: list[Adj], pr: int) -> list[str]:
    problems = []
    for n, line in enumerate(claim.lines, start=1):
        adjusted = sum(a.cents for a in line.adjustments)
        if line.charge_cents - line.paid_cents != adjusted:
            name = f" ({line.code})" if line.code else ""
            problems.append(
                f"Line {n}{name}: charge {_money(line.charge_cents)} minus paid "
                f"{_money(line.paid_cents)} is not the adjustments' {_money(adjusted)}."
            )
    lines_paid = sum(x.paid_cents for x in claim.lines)
    claim_level = sum(a.cents for a in claim.adjustments)
    if claim.lines and lines_paid - claim_level != claim.paid_cents:
        problems.append(
            f"The lines' payments ({_money(lines_paid)}) less the claim's own adjustments "
            f"({_money(claim_level)}) are not the claim's payment ({_money(claim.paid_cents)})."
        )
    adjusted = sum(a.cents for a in every)
    if claim.charge_cents - claim.paid_cents != adjusted:
        problems.append(
            f"Charge {_money(claim.charge_cents)} minus paid {_money(claim.paid_cents)} is "
            f"not the adjustments' {_money(adjusted)}."
        )
    if pr != claim.patient_responsibility_cents:
        problems.append(
            f"The payer says the client owes {_money(claim.patient_responsibility_cents)} "
            f"(CLP05) but its PR adjustments add up to {_money(pr)}."
        )
    return problems


def combine(claims: Sequence[RemitClaim]) -> RemitClaim:
    """One claim's answers from one 835, as one: a payer may split a claim over several
    CLPs with the same CLP01 (lines 1-2 in one, line 3 in another). Amounts, adjustments
    and lines add up; the CLP02 is a denial (4) only when every part denies, so that
    post_remittance gives the claim's status from everything the payer said about it.
    (Whether each CLP balances is each one's own question: post_remittance of each.)

    combine([paid 1-2 (CLP02 1), line 3 denied (CLP02 4)]).status == "1"
    """
    codes = [c.status for c in claims]
    return RemitClaim(
        status=next((code for code in codes if code != DENIED_CODE), DENIED_CODE),
        charge_cents=sum(c.charge_cents for c in claims),
        paid_cents=sum(c.paid_cents for c in claims),
        patient_responsibility_cents=sum(c.patient_responsibility_cents for c in claims),
        adjustments=tuple(a for c in claims for a in c.adjustments),
        lines=tuple(line for c in claims for line in c.lines),
    )


def post_remittance(claim: RemitClaim) -> Posting:
    """Paid, patient responsibility by PR, adjustments by group and reason, write-off, the
    claim's new status (claim_status.status_for_remittance), and any imbalance."""
    every = list(claim.adjustments) + [a for line in claim.lines for a in line.adjustments]
    unknown = sorted({a.group for a in every} - set(GROUPS))
    by_group, by_reason = _sum_by(every)
    pr = by_group.get("PR", 0)
    prior = by_reason.get(("OA", PRIOR_PAYER_REASON), 0)
    write_off = sum(by_group.get(g, 0) for g in ("CO", "PI", "OA", "CR")) - prior
    problems = _balance_problems(claim, every, pr)
    if unknown:
        problems.append(f"Unknown adjustment group {', '.join(unknown)}.")
    status = claim_status.status_for_remittance(
        claim.status, claim.paid_cents, pr, [(a.group, a.reason, a.cents) for a in every]
    )
    return Posting(
        paid_cents=claim.paid_cents,
        patient_responsibility_cents=pr,
        write_off_cents=write_off,
        prior_payer_cents=prior,
        by_group=by_group,
        by_reason=by_reason,
        status=status,
        problems=tuple(problems),
    )
