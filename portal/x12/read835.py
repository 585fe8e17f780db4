"""The 835 reader (005010X221A1): health care claim payment/advice, text in, dataclasses out.

    from portal.x12.read835 import read_835
    for remit in read_835(text):          # one Remittance per ST/SE transaction set
        remit.payment_cents, remit.method, remit.payment_date, remit.trace_number
        for claim in remit.claims:
            claim.patient_control_number  # our CLM01: match the claim by it
            claim.status, claim.charge_cents, claim.paid_cents
            claim.patient_responsibility_cents, claim.payer_claim_number (CLP07)
            claim.adjustments             # claim-level CAS: (group, reason, cents)
            for svc in claim.services:    # SVC lines, each with its CAS and LQ*HE remarks
                svc.code, svc.modifiers, svc.charge_cents, svc.paid_cents, svc.units
        remit.provider_adjustments        # PLB: belong to no claim

A remittance is the same payment again when `same_payment(a.payment, b.payment)`: the
payer's reassociation trace (TRN02 with TRN03), the amount (BPR02) and the day (BPR16)
repeat, and TRN04 does not tell them apart (see Remittance.payment). Raises X12Error on
malformed input.
"""

import datetime as dt
from dataclasses import dataclass, field

from portal.x12.segments import Segment, X12Error, cents, date_of, parse


@dataclass(frozen=True)
class Adjustment:
    group: str  # CO, PR, OA, PI, CR
    reason: str  # CARC
    cents: int
    quantity: str = ""


@dataclass
class ServicePayment:
    """One SVC line of a claim payment."""

    qualifier: str  # HC (CPT/HCPCS)
    code: str
    modifiers: tuple[str, ...]
    charge_cents: int
    paid_cents: int
    units: str  # SVC05, '' when 1 (the guide's default)
    submitted_code: str = ""  # SVC06 when the payer changed the code
    service_date: dt.date | None = None  # DTP*472 (or 150, the period start)
    control_number: str = ""  # REF*6R: our line control number
    allowed_cents: int | None = None  # AMT*B6
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)  # LQ*HE RARC codes


@dataclass
class ClaimPayment:
    """One CLP: the payer's answer for one of our claims."""

    patient_control_number: str  # CLP01 = our CLM01
    status: str  # CLP02: 1, 2, 3 processed, 4 denied, 19-21 forwarded, 22 reversal
    charge_cents: int
    paid_cents: int
    patient_responsibility_cents: int
    filing_indicator: str  # CLP06
    payer_claim_number: str  # CLP07: keep it, a corrected claim refers to it
    frequency: str = ""  # CLP09
    patient_last_name: str = ""
    patient_first_name: str = ""
    member_id: str = ""
    rendering_npi: str = ""
    service_start: dt.date | None = None  # DTP*232
    service_end: dt.date | None = None  # DTP*233
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)  # MOA remark codes
    services: list[ServicePayment] = field(default_factory=list)

    @property
    def all_adjustments(self) -> list[Adjustment]:
        return self.adjustments + [a for s in self.services for a in s.adjustments]


# PLB03-1, the provider adjustment reason codes (005010X221A1), in words.
PLB_REASONS = {
    "50": "Late charge", "51": "Interest penalty charge", "72": "Authorized return",
    "90": "Early payment allowance", "AH": "Origination fee",
    "AM": "Applied to borrower's account", "AP": "Acceleration of benefits", "B2": "Rebate",
    "B3": "Recovery allowance", "BD": "Bad debt adjustment", "BN": "Bonus",
    "C5": "Temporary allowance", "CR": "Capitation interest", "CS": "Adjustment",
    "CT": "Capitation payment", "CV": "Capital passthru",
    "CW": "Certified registered nurse anesthetist passthru",
    "DM": "Direct medical education passthru", "E3": "Withholding", "FB": "Forwarding balance",
    "FC": "Fund allocation", "GO": "Graduate medical education passthru",
    "HM": "Hemophilia clotting factor supplement", "IP": "Incentive premium payment",
    "IR": "Internal Revenue Service withholding", "IS": "Interim settlement",
    "J1": "Nonreimbursable", "L3": "Penalty", "L6": "Interest", "LE": "Levy",
    "LS": "Lump sum", "OA": "Organ acquisition passthru",
    "OB": "Offset for affiliated providers", "PI": "Periodic interim payment",
    "PL": "Payment final", "RA": "Retro-activity adjustment", "RE": "Return on equity",
    "SL": "Student loan repayment", "TL": "Third party liability",
    "WO": "Overpayment recovery", "WU": "Unspecified recovery",
}  # fmt: skip


@dataclass(frozen=True)
class ProviderAdjustment:
    """One PLB reason/amount: an adjustment to the provider, not to a claim."""

    provider_id: str
    fiscal_period_end: dt.date | None
    reason: str  # e.g. WO overpayment recovery, L6 interest, FB forwarding balance
    reference: str
    cents: int  # positive reduces the payment

    @property
    def words(self) -> str:
        return PLB_REASONS.get(self.reason, f"Provider adjustment {self.reason}")


@dataclass
class Remittance:
    interchange_control: str
    group_control: str
    transaction_control: str
    handling: str  # BPR01: I remittance with payment, H notification only ...
    payment_cents: int  # BPR02
    credit_debit: str  # BPR03: C or D
    method: str  # BPR04: ACH, CHK, BOP, FWT, NON
    payment_date: dt.date | None  # BPR16
    trace_number: str  # TRN02: check or EFT trace number
    payer_trace_id: str  # TRN03: the payer's identifier (1 + tax ID, often)
    trace_supplement: str = ""  # TRN04: the payer's division or plan under that TRN03
    originating_company: str = ""  # BPR10: the payer's identifier (TRN03's twin)
    payer_name: str = ""
    payer_id: str = ""  # N1*PR's ID or REF*2U
    payee_name: str = ""
    payee_npi: str = ""
    production_date: dt.date | None = None  # DTM*405
    claims: list[ClaimPayment] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)

    @property
    def net_payment_cents(self) -> int:
        """What the payer pays (BPR02; negative when BPR03 is D, a debit)."""
        return -self.payment_cents if self.credit_debit == "D" else self.payment_cents

    @property
    def identity(self) -> tuple[str, str]:
        """(payer, trace number): the payer as its own trace names it (TRN03, else BPR10,
        else N1*PR's name), and TRN02."""
        payer = self.payer_trace_id or self.originating_company or self.payer_name
        return (payer, self.trace_number)

    @property
    def payment(self) -> tuple[str, str, str, int, dt.date | None]:
        """(payer, trace number, TRN04, BPR02 cents, BPR16 date): what makes a payment the
        same one again (same_payment).

        - TRN02 with TRN03 (else BPR10, the same identifier) is the payer's reassociation
          trace: the payer writes it, its bank carries it with the money, and whoever
          passes the 835 on keeps it.
        - BPR02 and BPR16, the money itself: check and EFT trace numbers come round again
          (and two plans under one tax ID may each write check 1001), but not for the
          same amount on the same day.
        - TRN04, the payer's division or plan in the same TRN: two plans of one tax ID
          tell their payments apart by it; a file that leaves it out cannot, and is
          taken for the same payment.
        - Not the payer's additional ID (1000A REF*2U, N1*PR04): clearinghouses write
          their own payer IDs there, so a copy of the same payment names another. It is
          kept on the remittance to show, never to tell payments apart.
        """
        return (*self.identity, self.trace_supplement.strip(), self.payment_cents,
                self.payment_date)  # fmt: skip


def same_payment(a: tuple, b: tuple) -> bool:
    """Whether two Remittance.payment tuples are the same payment: equal, except a TRN04
    missing from one of them (a file that does not name the plan cannot tell a payment
    apart from another: it is taken for the same one).

    same_payment(("1131", "CHK1", "PLANA", 7200, d), ("1131", "CHK1", "PLANB", 7200, d))
    is False; with "" for either TRN04 it is True. Given the tuples' first three, it says
    whether two remittances carry the same trace, whatever their amounts.
    """
    (payer, trace, plan, *money), (payer_b, trace_b, plan_b, *money_b) = a, b
    return (payer, trace, money) == (payer_b, trace_b, money_b) and (
        plan == plan_b or not plan or not plan_b
    )


ADJUSTMENT_GROUPS = ("CO", "PR", "OA", "PI", "CR")  # CAS01 (CR: 4010 files, still seen)
VERSION = "005010X221"  # GS08 of an 835: 005010X221A1


def _cas(seg: Segment) -> list[Adjustment]:
    if seg[1] not in ADJUSTMENT_GROUPS:
        raise X12Error(
            f"The adjustment group “{seg[1]}” (CAS at segment {seg.position}) is not one of "
            "CO, PR, OA or PI."
        )
    out = []
    for i in range(2, 20, 3):
        reason, value = seg[i], seg[i + 1]
        if reason:
            out.append(Adjustment(seg[1], reason, cents(value, "adjustment"), seg[i + 2]))
    return out


def _svc(seg: Segment) -> ServicePayment:
    parts = seg.components(1)
    if len(parts) < 2:
        raise X12Error(f"SVC at segment {seg.position} names no procedure.")
    return ServicePayment(
        qualifier=parts[0],
        code=parts[1],
        modifiers=tuple(p for p in parts[2:6] if p),
        charge_cents=cents(seg[2], "line charge"),
        paid_cents=cents(seg[3] or "0", "line payment"),
        units=seg[5],
        submitted_code=seg.component(6, 2),
    )


def _bpr(seg: Segment, isa: Segment, gs: Segment, st: Segment) -> Remittance:
    return Remittance(
        interchange_control=isa[13],
        group_control=gs[6],
        transaction_control=st[2],
        handling=seg[1],
        payment_cents=cents(seg[2], "payment amount"),
        credit_debit=seg[3],
        method=seg[4],
        payment_date=date_of(seg[16], "payment date"),
        trace_number="",
        payer_trace_id="",
        originating_company=seg[10],
    )


def _plb(seg: Segment) -> list[ProviderAdjustment]:
    out = []
    for i in range(3, 15, 2):
        if seg[i]:
            parts = seg.components(i)
            out.append(
                ProviderAdjustment(
                    seg[1],
                    date_of(seg[2], "fiscal period date"),
                    parts[0],
                    parts[1] if len(parts) > 1 else "",
                    cents(seg[i + 1], "provider adjustment"),
                )
            )
    return out


class _State:
    def __init__(self):
        self.isa = self.gs = self.st = None
        self.remit: Remittance | None = None
        self.claim: ClaimPayment | None = None
        self.svc: ServicePayment | None = None
        self.n1 = ""


def _header_segment(s: _State, seg: Segment) -> None:
    r = s.remit
    if seg.id == "TRN" and seg[1] == "1":
        r.trace_number, r.payer_trace_id, r.trace_supplement = seg[2], seg[3], seg[4]
    elif seg.id == "DTM" and seg[1] == "405":
        r.production_date = date_of(seg[2], "production date")
    elif seg.id == "N1":
        s.n1 = seg[1]
        if seg[1] == "PR":
            r.payer_name, r.payer_id = seg[2], seg[4] or r.payer_id
        elif seg[1] == "PE":
            r.payee_name = seg[2]
            r.payee_npi = seg[4] if seg[3] == "XX" else r.payee_npi
    elif seg.id == "REF" and seg[1] == "2U" and s.n1 == "PR":
        r.payer_id = seg[2]


def _claim_segment(s: _State, seg: Segment) -> None:
    c, svc = s.claim, s.svc
    if seg.id == "CAS":
        (svc.adjustments if svc else c.adjustments).extend(_cas(seg))
    elif seg.id == "NM1" and seg[1] == "QC":
        c.patient_last_name, c.patient_first_name = seg[3], seg[4]
        c.member_id = c.member_id or seg[9]
    elif seg.id == "NM1" and seg[1] == "IL":
        c.member_id = seg[9] or c.member_id
    elif seg.id == "NM1" and seg[1] == "82":
        c.rendering_npi = seg[9]
    elif seg.id == "MOA":
        c.remarks.extend(v for v in seg.elements[3:8] if v and not v[0].isdigit())
    elif seg.id == "DTM" and svc is None and seg[1] in ("232", "233"):
        when = date_of(seg[2], "service date")
        if seg[1] == "232":
            c.service_start = when
        else:
            c.service_end = when
    elif svc is not None and seg.id == "DTM" and seg[1] in ("472", "150"):
        svc.service_date = date_of(seg[2], "service date")
    elif svc is not None and seg.id == "REF" and seg[1] == "6R":
        svc.control_number = seg[2]
    elif svc is not None and seg.id == "AMT" and seg[1] == "B6":
        svc.allowed_cents = cents(seg[2], "allowed amount")
    elif svc is not None and seg.id == "LQ" and seg[1] == "HE":
        svc.remarks.append(seg[2])


def _clp(seg: Segment) -> ClaimPayment:
    if not seg[1]:
        raise X12Error(f"CLP at segment {seg.position} has no patient control number.")
    return ClaimPayment(
        patient_control_number=seg[1],
        status=seg[2],
        charge_cents=cents(seg[3], "claim charge"),
        paid_cents=cents(seg[4] or "0", "claim payment"),
        patient_responsibility_cents=cents(seg[5] or "0", "patient responsibility"),
        filing_indicator=seg[6],
        payer_claim_number=seg[7],
        frequency=seg[9],
    )


def _check_kind(st: Segment, gs: Segment) -> None:
    if st[1] != "835":
        raise X12Error(f"This is a {st[1]} file, not an 835 remittance.")
    if not gs[8].startswith(VERSION):
        raise X12Error(
            f"This 835 is version {gs[8] or '(none given)'}; the portal reads 005010X221A1 "
            "(5010) remittances: ask the payer or clearinghouse for the 5010 file."
        )


def read_835(text: str) -> list[Remittance]:
    """Every remittance (ST/SE) in the file. Raises X12Error when it is not an 835."""
    _, segments = parse(text)
    s, out = _State(), []
    for seg in segments:
        if seg.id in ("ISA", "GS"):
            setattr(s, seg.id.lower(), seg)
        elif seg.id in ("GE", "IEA"):
            continue
        elif seg.id == "ST":
            _check_kind(seg, s.gs)
            s.st, s.remit, s.claim, s.svc, s.n1 = seg, None, None, None, ""
        elif s.st is None:
            raise X12Error(
                f"Segment {seg.id} at {seg.position} is outside a transaction set (ST/SE)."
            )
        elif seg.id == "SE":
            s.st = s.remit = s.claim = s.svc = None
        elif seg.id == "BPR":
            if s.remit is not None:
                raise X12Error(f"Transaction set {s.st[2]} has more than one BPR (payment).")
            s.remit = _bpr(seg, s.isa, s.gs, s.st)
            out.append(s.remit)
        elif s.remit is None:
            raise X12Error(f"Segment {seg.id} at {seg.position} comes before the BPR.")
        elif seg.id == "CLP":
            s.claim, s.svc = _clp(seg), None
            s.remit.claims.append(s.claim)
        elif seg.id == "SVC" and s.claim is not None:
            s.svc = _svc(seg)
            s.claim.services.append(s.svc)
        elif seg.id == "PLB":
            s.claim = s.svc = None
            s.remit.provider_adjustments.extend(_plb(seg))
        elif s.claim is not None:
            _claim_segment(s, seg)
        else:
            _header_segment(s, seg)
    if not out:
        raise X12Error("The file holds no remittance (no 835 with a BPR).")
    return out
