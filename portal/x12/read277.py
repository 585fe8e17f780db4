"""The 277CA reader (005010X214): health care claim acknowledgment, claim by claim.

    from portal.x12.read277 import read_277ca
    for ack in read_277ca(text):               # one per ST/SE transaction set
        ack.source_name, ack.receiver_statuses
        ack.batch_trace                        # 2200B TRN02: the BHT03 of the 837P answered
        for claim in ack.claims:
            claim.patient_control_number       # TRN*2: our CLM01
            claim.accepted / claim.rejected    # by the STC categories
            claim.payer_claim_number           # REF*1K: keep it for corrections
            claim.clearinghouse_trace          # REF*D9: the clearinghouse's number for it
            claim.charge_cents, claim.status_date   # STC04 and STC02 of the claim's status
            for st in claim.statuses:          # STC01 and STC10/STC11, each a Status
                st.category, st.code, st.entity, st.message   # e.g. A7, 21, 85, free text
            claim.lines                        # 2220D service line statuses, if any

A claim is rejected when any of its statuses has category A3, A6, A7 or A8 (returned or
rejected, to be fixed); accepted when none does and one is A1, A2 or A5 (received or
accepted into adjudication). Raises X12Error on malformed input or another kind of file.
"""

import datetime as dt
from dataclasses import dataclass, field

from portal.x12.segments import Segment, X12Error, cents, date_of, parse

REJECTING = frozenset({"A3", "A6", "A7", "A8"})
ACCEPTING = frozenset({"A1", "A2", "A5"})


@dataclass(frozen=True)
class Status:
    category: str  # A0 ... A8, E0 ...
    code: str  # claim status code, e.g. 20 accepted, 21 missing or invalid information
    entity: str  # who is in error or meant, e.g. 85 billing provider, IL subscriber
    date: dt.date | None = None  # STC02
    action: str = ""  # STC03: WQ accepted, U rejected
    amount_cents: int | None = None  # STC04: the claim's charge
    message: str = ""  # STC12: the free-form text
    code_list: str = ""  # STC01-4, rarely used


@dataclass
class LineStatus:
    code: str
    modifiers: tuple[str, ...]
    charge_cents: int
    units: str = ""
    control_number: str = ""  # REF*FJ: our line item control number
    service_date: dt.date | None = None
    statuses: list[Status] = field(default_factory=list)


@dataclass
class ClaimStatus:
    patient_control_number: str
    last_name: str = ""
    first_name: str = ""
    member_id: str = ""
    payer_claim_number: str = ""  # REF*1K
    clearinghouse_trace: str = ""  # REF*D9
    bill_type: str = ""  # REF*BLT (institutional only)
    service_start: dt.date | None = None
    service_end: dt.date | None = None
    statuses: list[Status] = field(default_factory=list)
    lines: list[LineStatus] = field(default_factory=list)

    @property
    def charge_cents(self) -> int | None:
        """The claim's total charge as the status gives it (STC04), or None."""
        return next((s.amount_cents for s in self.statuses if s.amount_cents is not None), None)

    @property
    def status_date(self) -> dt.date | None:
        """The latest effective date of the claim's statuses (STC02), or None."""
        return max((s.date for s in self.statuses if s.date), default=None)

    @property
    def rejected(self) -> bool:
        every = self.statuses + [s for line in self.lines for s in line.statuses]
        return any(s.category in REJECTING for s in every)

    @property
    def accepted(self) -> bool:
        return not self.rejected and any(s.category in ACCEPTING for s in self.statuses)


@dataclass
class ClaimAck277:
    interchange_control: str
    transaction_control: str
    reference: str  # BHT03
    created: dt.date | None  # BHT04
    source_name: str = ""  # 2100A: the payer or clearinghouse answering
    receiver_name: str = ""  # 2100B: us
    receiver_id: str = ""
    batch_trace: str = ""  # 2200B TRN02: the claim transaction batch number (our BHT03)
    receiver_statuses: list[Status] = field(default_factory=list)  # 2200B, the whole batch
    claims: list[ClaimStatus] = field(default_factory=list)


def _statuses(seg: Segment) -> list[Status]:
    """STC01, STC10 and STC11 as Statuses (the date, action, amount and text are shared)."""
    out = []
    amount = cents(seg[4], "claim amount") if seg[4] else None
    for i in (1, 10, 11):
        parts = seg.components(i)
        if parts and parts[0]:
            parts += [""] * (4 - len(parts))
            out.append(
                Status(
                    parts[0],
                    parts[1],
                    parts[2],
                    date_of(seg[2], "status date"),
                    seg[3],
                    amount,
                    seg[12],
                    parts[3],
                )
            )
    if not out:
        raise X12Error(f"STC at segment {seg.position} has no status category.")
    return out


def _range(text: str) -> tuple[dt.date | None, dt.date | None]:
    start, _, end = text.partition("-")
    return date_of(start, "service date"), date_of(end or start, "service date")


class _State:
    def __init__(self):
        self.isa = None
        self.ack: ClaimAck277 | None = None
        self.level = ""  # HL03: 20 source, 21 receiver, 19 provider, PT patient
        self.claim: ClaimStatus | None = None
        self.line: LineStatus | None = None
        self.patient_name: tuple[str, str, str] = ("", "", "")


def _patient_segment(s: _State, seg: Segment) -> None:
    if seg.id == "NM1" and seg[1] == "QC":
        s.patient_name, s.claim, s.line = (seg[3], seg[4], seg[9]), None, None
    elif seg.id == "TRN" and seg[1] == "2":
        s.claim, s.line = ClaimStatus(seg[2], *s.patient_name), None
        s.ack.claims.append(s.claim)
    elif s.claim is None:
        if seg.id in ("STC", "REF", "SVC"):
            raise X12Error(f"{seg.id} at segment {seg.position} comes before the claim's TRN.")
    elif seg.id == "SVC":
        parts = seg.components(1)
        s.line = LineStatus(
            parts[1] if len(parts) > 1 else "",
            tuple(p for p in parts[2:6] if p),
            cents(seg[2] or "0", "line charge"),
            seg[7],
        )
        s.claim.lines.append(s.line)
    elif seg.id == "STC":
        (s.line.statuses if s.line else s.claim.statuses).extend(_statuses(seg))
    elif seg.id == "REF" and s.line is not None and seg[1] == "FJ":
        s.line.control_number = seg[2]
    elif seg.id == "REF" and seg[1] in ("1K", "D9", "BLT"):
        attr = {"1K": "payer_claim_number", "D9": "clearinghouse_trace", "BLT": "bill_type"}
        setattr(s.claim, attr[seg[1]], seg[2])
    elif seg.id == "DTP" and seg[1] == "472":
        start, end = _range(seg[3])
        if s.line is not None:
            s.line.service_date = start
        else:
            s.claim.service_start, s.claim.service_end = start, end


def _segment(s: _State, seg: Segment) -> None:
    if seg.id == "HL":
        s.level, s.claim, s.line = seg[3], None, None
    elif s.level == "PT":
        _patient_segment(s, seg)
    elif s.level == "20" and seg.id == "NM1":
        s.ack.source_name = seg[3]
    elif s.level == "21" and seg.id == "NM1":
        s.ack.receiver_name, s.ack.receiver_id = seg[3], seg[9]
    elif s.level == "21" and seg.id == "TRN" and seg[1] == "2":
        s.ack.batch_trace = seg[2]
    elif s.level == "21" and seg.id == "STC":
        s.ack.receiver_statuses.extend(_statuses(seg))


def read_277ca(text: str) -> list[ClaimAck277]:
    """Every claim acknowledgment (ST/SE) in the file."""
    _, segments = parse(text)
    s, out = _State(), []
    for seg in segments:
        if seg.id == "ISA":
            s.isa = seg
        elif seg.id == "ST":
            if seg[1] != "277":
                raise X12Error(f"This is a {seg[1]} file, not a 277CA claim acknowledgment.")
            s.ack = ClaimAck277(s.isa[13], seg[2], "", None)
            s.level, s.claim, s.line = "", None, None
            out.append(s.ack)
        elif seg.id == "BHT" and s.ack is not None:
            s.ack.reference, s.ack.created = seg[3], date_of(seg[4], "BHT date")
        elif seg.id == "SE":
            s.ack = s.claim = s.line = None
        elif s.ack is not None:
            _segment(s, seg)
    if not out:
        raise X12Error("The file holds no 277 claim acknowledgment.")
    return out
