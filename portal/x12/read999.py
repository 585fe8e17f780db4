"""The 999 reader (005010X231A1): the implementation acknowledgment of a whole file.

    from portal.x12.read999 import read_999
    for ack in read_999(text):                  # one per AK1 (functional group answered)
        ack.group_control                       # AK102 = the GS06 of our 837P
        ack.status                              # AK901: A, E, P (partially), R
        ack.accepted                            # True for A and E
        for ts in ack.transactions:             # one per AK2 (our ST02)
            ts.control_number, ts.status        # IK501: A, E, R ...
            for err in ts.errors:               # IK3 (segment) with its IK4s (elements)
                err.segment_id, err.position, err.loop, err.code
                for el in err.elements: el.position, el.reference, el.code, el.bad_value

Codes are kept as sent; rules.edi_codes gives their words. Raises X12Error on
malformed input or a file that is not a 999.
"""

from dataclasses import dataclass, field

from portal.x12.segments import Segment, X12Error, parse


@dataclass(frozen=True)
class ElementError:
    position: str  # IK401: element position, e.g. '2' or '2:1' (component)
    reference: str  # IK402: data element reference number
    code: str  # IK403: 1 required missing, 7 invalid code, 8 invalid date ...
    bad_value: str = ""  # IK404


@dataclass
class SegmentError:
    segment_id: str  # IK301, e.g. CLM
    position: int  # IK302: the segment's position in the transaction set (ST = 1)
    loop: str  # IK303, e.g. 2300
    code: str  # IK304: 8 element errors, 3 required segment missing ...
    elements: list[ElementError] = field(default_factory=list)
    context: list[str] = field(default_factory=list)  # CTX business unit, e.g. CLM01:C100

    @property
    def patient_control_number(self) -> str:
        """The claim (CLM01) the error is in, when the 999 names it in a CTX segment."""
        for ctx in self.context:
            name, _, value = ctx.partition(":")
            if name == "CLM01":
                return value
        return ""


@dataclass
class TransactionAck:
    set_id: str  # AK201: 837
    control_number: str  # AK202: our ST02
    version: str  # AK203
    status: str = ""  # IK501: A, E, M, R, W, X
    codes: list[str] = field(default_factory=list)  # IK502-IK506
    errors: list[SegmentError] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.status in ("A", "E")


@dataclass
class Ack999:
    interchange_control: str  # the 999's own ISA13
    functional_id: str  # AK101: HC for an 837
    group_control: str  # AK102: our GS06
    version: str  # AK103
    status: str = ""  # AK901: A, E, P, R ...
    included: int = 0  # AK902
    received: int = 0  # AK903
    accepted_count: int = 0  # AK904
    codes: list[str] = field(default_factory=list)  # AK905-AK909
    transactions: list[TransactionAck] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.status in ("A", "E")


def _int(seg: Segment, i: int) -> int:
    value = seg[i]
    if not value.isdigit():
        raise X12Error(f"{seg.id}{i:02d} at segment {seg.position} is not a count: “{value}”.")
    return int(value)


def read_999(text: str) -> list[Ack999]:
    """Every functional group acknowledged in the file."""
    _, segments = parse(text)
    isa, out = None, []
    ack: Ack999 | None = None
    ts: TransactionAck | None = None
    err: SegmentError | None = None
    for seg in segments:
        if seg.id == "ISA":
            isa = seg
        elif seg.id == "ST" and seg[1] != "999":
            raise X12Error(f"This is a {seg[1]} file, not a 999 acknowledgment.")
        elif seg.id == "AK1":
            ack = Ack999(isa[13], seg[1], seg[2], seg[3])
            out.append(ack)
            ts = err = None
        elif seg.id in ("AK2", "IK3", "IK4", "CTX", "IK5", "AK9") and ack is None:
            raise X12Error(f"{seg.id} at segment {seg.position} comes before any AK1.")
        elif seg.id == "AK2":
            ts, err = TransactionAck(seg[1], seg[2], seg[3]), None
            ack.transactions.append(ts)
        elif seg.id == "IK3":
            if ts is None:
                raise X12Error(f"IK3 at segment {seg.position} comes outside an AK2.")
            err = SegmentError(seg[1], _int(seg, 2), seg[3], seg[4])
            ts.errors.append(err)
        elif seg.id == "IK4":
            if err is None:
                raise X12Error(f"IK4 at segment {seg.position} comes outside an IK3.")
            position = ":".join(p for p in seg.components(1) if p)
            err.elements.append(ElementError(position, seg[2], seg[3], seg[4]))
        elif seg.id == "CTX" and err is not None:
            err.context.append(":".join(seg.components(1)))
        elif seg.id == "IK5":
            if ts is None:
                raise X12Error(f"IK5 at segment {seg.position} comes outside an AK2.")
            ts.status, ts.codes = seg[1], [c for c in seg.elements[2:7] if c]
            ts = err = None
        elif seg.id == "AK9":
            ack.status = seg[1]
            ack.included, ack.received, ack.accepted_count = (
                _int(seg, 2),
                _int(seg, 3),
                _int(seg, 4),
            )
            ack.codes = [c for c in seg.elements[5:10] if c]
    if not out:
        raise X12Error("The file holds no 999 acknowledgment (no AK1).")
    return out
