"""A summary reader of 837P files: what a clearinghouse or payer reads back from a batch.

    from portal.x12.read837 import read_837
    batch = read_837(text)
    batch.interchange_control, batch.group_control, batch.submitter_id, batch.receiver_id
    for ts in batch.transactions:
        ts.control_number                        # ST02
        for claim in ts.claims:
            claim.patient_control_number, claim.charge_cents, claim.frequency
            claim.payer_id, claim.subscriber_last_name, claim.patient_last_name
            for line in claim.lines: line.code, line.modifiers, line.charge_cents, line.units

It reads the values answers.py needs to answer a batch (999, 277CA, 835) and tests
need to check what a file says; it is not a full 837P model. Raises X12Error.
"""

import datetime as dt
from dataclasses import dataclass, field

from portal.x12.segments import Segment, X12Error, cents, date_of, parse


@dataclass
class Line837:
    code: str
    modifiers: tuple[str, ...]
    charge_cents: int
    units: str
    pointers: tuple[int, ...]
    service_date: dt.date | None = None
    control_number: str = ""  # REF*6R


@dataclass
class Claim837:
    patient_control_number: str
    charge_cents: int
    place_of_service: str
    frequency: str
    payer_name: str
    payer_id: str
    subscriber_last_name: str
    subscriber_first_name: str
    member_id: str
    filing_indicator: str
    responsibility: str  # SBR01: P primary, S secondary
    patient_last_name: str  # the subscriber's when there is no 2000C loop
    patient_first_name: str
    original_claim_number: str = ""  # REF*F8
    prior_authorization: str = ""  # REF*G1
    diagnoses: list[str] = field(default_factory=list)
    lines: list[Line837] = field(default_factory=list)


@dataclass
class Transaction837:
    control_number: str
    claims: list[Claim837] = field(default_factory=list)
    segment_count: int = 0


@dataclass
class Batch837:
    interchange_control: str
    group_control: str
    submitter_id: str  # GS02
    receiver_id: str  # GS03
    version: str  # GS08
    reference: str = ""  # BHT03, the batch's own reference
    submitter_name: str = ""
    receiver_name: str = ""
    billing_name: str = ""
    billing_npi: str = ""
    billing_tax_id: str = ""
    transactions: list[Transaction837] = field(default_factory=list)

    @property
    def claims(self) -> list[Claim837]:
        return [c for ts in self.transactions for c in ts.claims]


class _State:
    def __init__(self):
        self.batch: Batch837 | None = None
        self.ts: Transaction837 | None = None
        self.claim: Claim837 | None = None
        self.line: Line837 | None = None
        self.nm1 = ""
        self.sub: dict[str, str] = {}
        self.patient: tuple[str, str] | None = None


def _subscriber_segment(s: _State, seg: Segment) -> None:
    if seg.id == "HL":
        s.claim = s.line = None
        if seg[3] == "22":
            s.sub, s.patient = {}, None
    elif seg.id == "SBR" and s.claim is None:
        s.sub.update(filing=seg[9], responsibility=seg[1])
    elif seg.id == "NM1":
        s.nm1 = seg[1]
        if seg[1] == "IL" and s.claim is None:
            s.sub.update(last=seg[3], first=seg[4], member=seg[9])
        elif seg[1] == "PR" and s.claim is None:
            s.sub.update(payer=seg[3], payer_id=seg[9])
        elif seg[1] == "QC":
            s.patient = (seg[3], seg[4])
        elif seg[1] == "85":
            s.batch.billing_name, s.batch.billing_npi = seg[3], seg[9]
        elif seg[1] == "41":
            s.batch.submitter_name = seg[3]
        elif seg[1] == "40":
            s.batch.receiver_name = seg[3]
    elif seg.id == "REF" and seg[1] in ("EI", "SY") and s.nm1 == "85":
        s.batch.billing_tax_id = seg[2]


def _claim(s: _State, seg: Segment) -> Claim837:
    last, first = s.patient or (s.sub.get("last", ""), s.sub.get("first", ""))
    return Claim837(
        patient_control_number=seg[1],
        charge_cents=cents(seg[2], "claim charge"),
        place_of_service=seg.component(5, 1),
        frequency=seg.component(5, 3),
        payer_name=s.sub.get("payer", ""),
        payer_id=s.sub.get("payer_id", ""),
        subscriber_last_name=s.sub.get("last", ""),
        subscriber_first_name=s.sub.get("first", ""),
        member_id=s.sub.get("member", ""),
        filing_indicator=s.sub.get("filing", ""),
        responsibility=s.sub.get("responsibility", ""),
        patient_last_name=last,
        patient_first_name=first,
    )


def _claim_segment(s: _State, seg: Segment) -> None:
    c = s.claim
    if seg.id == "LX":
        s.line = None
    elif seg.id == "SV1":
        parts = seg.components(1)
        s.line = Line837(
            parts[1] if len(parts) > 1 else "",
            tuple(p for p in parts[2:6] if p),
            cents(seg[2], "line charge"),
            seg[4],
            tuple(int(p) for p in seg.components(7) if p.isdigit()),
        )
        c.lines.append(s.line)
    elif seg.id == "DTP" and seg[1] == "472" and s.line is not None:
        s.line.service_date = date_of(seg[3][:8], "service date")
    elif seg.id == "REF" and seg[1] == "6R" and s.line is not None:
        s.line.control_number = seg[2]
    elif seg.id == "REF" and seg[1] == "F8":
        c.original_claim_number = seg[2]
    elif seg.id == "REF" and seg[1] == "G1":
        c.prior_authorization = seg[2]
    elif seg.id == "HI":
        c.diagnoses.extend(p.split(seg.delims.component)[1] for p in seg.elements[1:] if p)


def read_837(text: str) -> Batch837:
    """The batch's envelope and a summary of each claim. Raises X12Error."""
    _, segments = parse(text)
    s = _State()
    start = 0
    for n, seg in enumerate(segments):
        if seg.id == "GS":
            if seg[1] != "HC":
                raise X12Error(f"This file's functional group is {seg[1]}, not HC (claims).")
            s.batch = Batch837(segments[0][13], seg[6], seg[2], seg[3], seg[8])
        elif seg.id == "ST":
            if seg[1] != "837":
                raise X12Error(f"This is a {seg[1]} file, not an 837 claim file.")
            s.ts, start = Transaction837(seg[2]), n
            s.batch.transactions.append(s.ts)
        elif seg.id == "SE":
            s.ts.segment_count, s.ts = n - start + 1, None
            s.claim = s.line = None
        elif s.ts is None:
            continue
        elif seg.id == "BHT":
            s.batch.reference = seg[3]
        elif seg.id == "CLM":
            s.claim, s.line = _claim(s, seg), None
            s.ts.claims.append(s.claim)
        elif seg.id == "HL" or s.claim is None:
            _subscriber_segment(s, seg)
        else:
            _claim_segment(s, seg)
    if s.batch is None or not s.batch.claims:
        raise X12Error("The file holds no 837 claim.")
    return s.batch
