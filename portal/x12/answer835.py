"""An 835 that pays (or denies) the claims of a given 837P, as a payer would: for a fake
clearinghouse in the demo and tests. The output passes pyx12 (835.5010.X221.A1).

    pay = {
        "C100": ClaimPay((line_paid(9000, 7000),)),                        # paid at 70
        "C101": ClaimPay((line_paid(9000, 7000, deductible=2000, copay=2000),)),
        "C102": ClaimPay((line_denied(9000, "50"),)),                      # denied
    }
    text = answer_835(text_837, pay, control_number=701, created=now,
                      trace_number="EFT123", payer_name="BLUE HARBOR HEALTH",
                      payer_tax_id="131234567", payment_date=date(2026, 12, 10))

ClaimPay.lines go with the 837 claim's lines in order. Claims of the 837 not in `pay`
are left out (not adjudicated yet). Each line must balance: charge = paid + adjustments.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from portal.x12 import segments as x
from portal.x12.read837 import Claim837, read_837
from portal.x12.segments import Writer, amount, clean, d8, digits

VERSION_835 = "005010X221A1"
# The 835's CLP06 list is shorter than the 837's SBR09: what is not in it is answered ZZ.
CLP06_CODES = frozenset("12 13 14 15 16 17 AM CH DS HM LM MA MB MC OF TV VA WC ZZ".split())


@dataclass(frozen=True)
class LinePay:
    """What the payer does with one line: paid, and adjustments (group, reason, cents)."""

    paid_cents: int
    adjustments: tuple[tuple[str, str, int], ...] = ()
    allowed_cents: int | None = None
    remarks: tuple[str, ...] = ()  # RARC codes, LQ*HE


def line_paid(
    charge_cents: int,
    allowed_cents: int,
    *,
    deductible: int = 0,
    coinsurance: int = 0,
    copay: int = 0,
    remarks: tuple[str, ...] = (),
) -> LinePay:
    """A line paid at the fee schedule: CO 45 down to `allowed`, then PR 1/2/3 for the
    client; the payer pays the rest."""
    adjustments = []
    if charge_cents > allowed_cents:
        adjustments.append(("CO", "45", charge_cents - allowed_cents))
    for reason, cents in (("1", deductible), ("2", coinsurance), ("3", copay)):
        if cents:
            adjustments.append(("PR", reason, cents))
    paid = allowed_cents - deductible - coinsurance - copay
    if paid < 0:
        raise ValueError("the client's share is more than the allowed amount")
    return LinePay(paid, tuple(adjustments), allowed_cents, remarks)


def line_denied(
    charge_cents: int, reason: str = "50", group: str = "CO", remarks: tuple[str, ...] = ()
) -> LinePay:
    """A line the payer does not pay (CO 50 not medically necessary, by default)."""
    return LinePay(0, ((group, reason, charge_cents),), None, remarks)


@dataclass(frozen=True)
class ClaimPay:
    lines: tuple[LinePay, ...]
    status: str = ""  # CLP02; default 1 (2 for a secondary claim), 4 when nothing is owed
    payer_claim_number: str = ""  # CLP07; default made up from the control number


@dataclass(frozen=True)
class ProviderAdjustmentOut:
    """A PLB entry: reason (e.g. WO overpayment recovery, L6 interest), reference, cents
    (positive: taken from the payment)."""

    reason: str
    reference: str
    cents: int


def _claim_status(claim: Claim837, pay: ClaimPay, paid: int, pr: int) -> str:
    if pay.status:
        return pay.status
    if paid == 0 and pr == 0:
        return "4"
    return "2" if claim.responsibility == "S" else "1"


def _claim(w: Writer, claim: Claim837, pay: ClaimPay, number: str) -> int:
    if len(pay.lines) != len(claim.lines):
        raise ValueError(f"claim {claim.patient_control_number}: one LinePay per 837 line")
    paid = sum(p.paid_cents for p in pay.lines)
    pr = sum(c for p in pay.lines for g, _, c in p.adjustments if g == "PR")
    filing = claim.filing_indicator
    filing = "OF" if filing == "FI" else (filing if filing in CLP06_CODES else "ZZ")
    w.put(
        "CLP",
        {
            1: claim.patient_control_number,
            2: _claim_status(claim, pay, paid, pr),
            3: amount(claim.charge_cents),
            4: amount(paid),
            5: amount(pr),
            6: filing,
            7: clean(number, 50),
            8: claim.place_of_service,
            9: claim.frequency,
        },
    )
    x.nm1_person(w, "QC", claim.patient_last_name, claim.patient_first_name, "MI", claim.member_id)
    for line, p in zip(claim.lines, pay.lines, strict=True):
        if line.charge_cents - p.paid_cents != sum(c for _, _, c in p.adjustments):
            raise ValueError(
                f"claim {claim.patient_control_number} {line.code}: charge minus paid must "
                "equal the adjustments"
            )
        procedure = w.comp("HC", line.code, *line.modifiers)
        units = line.units if line.units not in ("", "1") else ""
        w.seg("SVC", procedure, amount(line.charge_cents), amount(p.paid_cents), "", units)
        if line.service_date:
            w.seg("DTM", "472", d8(line.service_date))
        x.cas(w, p.adjustments)
        if line.control_number:
            w.seg("REF", "6R", line.control_number)
        if p.allowed_cents is not None:
            w.seg("AMT", "B6", amount(p.allowed_cents))
        for code in p.remarks:
            w.seg("LQ", "HE", code)
    return paid


def answer_835(
    text_837: str,
    pay: Mapping[str, ClaimPay],
    *,
    control_number: int,
    created: dt.datetime,
    trace_number: str,
    payer_name: str,
    payer_tax_id: str,
    payment_date: dt.date,
    method: str = "CHK",
    payer_address: tuple[str, str, str, str] = ("PO BOX 1000", "ALBANY", "NY", "12201"),
    payer_phone: str = "8005550100",
    provider_adjustments: Sequence[ProviderAdjustmentOut] = (),
) -> str:
    """The 835 for the claims named in `pay` (by patient control number)."""
    batch = read_837(text_837)
    claims = {c.patient_control_number: c for c in batch.claims}
    unknown = set(pay) - set(claims)
    if unknown:
        raise ValueError(f"no claim {sorted(unknown)} in the 837P")
    if method not in ("CHK", "ACH", "NON"):
        raise ValueError("method is CHK, ACH or NON")
    sender = digits(payer_tax_id) or "PAYER"
    w = Writer()
    x.isa(w, sender, batch.submitter_id, control_number, created)
    x.gs(w, "HP", sender, batch.submitter_id, control_number, created, VERSION_835)
    w.start_count()
    st02 = f"{control_number:04d}"
    w.seg("ST", "835", st02)
    body = Writer()
    body.start_count()
    total = 0
    for n, (pcn, claim_pay) in enumerate(pay.items(), start=1):
        number = claim_pay.payer_claim_number or f"{control_number}{n:04d}"
        total += _claim(body, claims[pcn], claim_pay, number)
    total -= sum(a.cents for a in provider_adjustments)
    _bpr(w, total, method, payment_date, payer_tax_id)
    w.seg("TRN", "1", clean(trace_number, 50), "1" + digits(payer_tax_id)[:9])
    w.seg("DTM", "405", d8(created))
    w.seg("N1", "PR", clean(payer_name, 60))
    w.seg("N3", clean(payer_address[0], 55))
    w.seg("N4", clean(payer_address[1], 30), payer_address[2], digits(payer_address[3]))
    w.seg("PER", "BL", "EDI SUPPORT", "TE", digits(payer_phone))
    w.seg("N1", "PE", clean(batch.billing_name, 60), "XX", batch.billing_npi)
    if batch.billing_tax_id:
        w.seg("REF", "TJ", batch.billing_tax_id)
    if pay:
        w.seg("LX", "1")
        w.parts.extend(body.parts)
    for a in provider_adjustments:
        w.seg(
            "PLB",
            batch.billing_npi,
            f"{payment_date.year}1231",
            w.comp(a.reason, clean(a.reference, 50)),
            amount(a.cents),
        )
    x.trailer(w, st02, control_number, control_number)
    return w.text()


def _bpr(w: Writer, total: int, method: str, payment_date: dt.date, payer_tax_id: str) -> None:
    """BPR: I (payment with remittance) or H (notification only, nothing paid); for ACH the
    made-up bank routing and account numbers a test payer would send."""
    bpr = {1: "I" if total > 0 else "H", 2: amount(total), 3: "C", 16: d8(payment_date)}
    bpr[4] = method if total > 0 else "NON"
    if bpr[4] == "ACH":
        bpr.update(
            {
                5: "CCP",
                6: "01",
                7: "021000021",
                8: "DA",
                9: "000123456789",
                10: "1" + digits(payer_tax_id)[:9],
                12: "01",
                13: "011000015",
                14: "DA",
                15: "000987654321",
            }
        )
    w.put("BPR", bpr)
