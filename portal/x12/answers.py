"""Answers to an 837P, as a clearinghouse and a payer would send them: a 999 for the file,
a 277CA per claim. (answer835.py builds the 835.) For a fake clearinghouse in the demo
and in tests; the output passes pyx12 (maps 999.5010X231.A1 and 277.5010.X214).

    text_999 = answer_999(text_837, control_number=501, created=now)          # accepted
    text_999 = answer_999(text_837, control_number=502, created=now,
                          problems=[SegmentProblem("NM1", locate(text_837, "NM1", "85"),
                                                   "2010AA", "8", "9", "67", "7", "0000")])
    text_277 = answer_277ca(text_837, control_number=601, created=now,
                            rejections={"C102": ClaimRejection("A7", "21", "85", "Bad NPI")})
    text_ta1 = answer_ta1(text_837, control_number=401, created=now, code="R", note="006")
    text = with_ta1(text_999, text_837, code="E", note="020")   # a TA1 before the 999

Control numbers are the answering party's own (ISA13/GS06 of the answer). The answers go
from the 837's receiver back to its submitter. A TA1 stands alone in its interchange (ISA,
TA1, IEA*0: no functional group), which pyx12 reads but cannot check against a map.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from portal.x12 import segments as x
from portal.x12.read837 import Batch837, Claim837, read_837
from portal.x12.segments import Writer, amount, clean, d8

VERSION_999 = "005010X231A1"
VERSION_277CA = "005010X214"
VERSION_837P = "005010X222A1"


@dataclass(frozen=True)
class SegmentProblem:
    """One IK3 (and optionally one IK4) in a 999: what is wrong where in the 837P."""

    segment_id: str  # e.g. NM1
    position: int  # the segment's position in its transaction set (ST = 1): see locate()
    loop: str = ""  # e.g. 2010 (IK303 holds 4 characters: 2010AA is written 2010)
    code: str = "8"  # IK304: 8 element errors, 3 required segment missing ...
    element_position: str = ""  # IK401, e.g. "9"
    element_reference: str = ""  # IK402, the data element number, e.g. "67"
    element_code: str = ""  # IK403: 7 invalid code value, 1 required missing ...
    bad_value: str = ""  # IK404
    transaction: str = ""  # ST02 of the set in error; "" = the file's first


@dataclass(frozen=True)
class ClaimRejection:
    """How a 277CA rejects a claim: STC01 category:code:entity and the free text (STC12)."""

    category: str = "A7"  # A3, A6, A7 or A8
    code: str = "21"  # 21 missing or invalid information
    entity: str = ""  # e.g. 85 billing provider, IL subscriber, QC patient
    message: str = ""


def locate(text_837: str, segment_id: str, *values: str) -> int:
    """The position in its transaction set (ST = 1) of the first segment `segment_id` whose
    elements start with `values`: locate(text, "NM1", "85") -> the billing provider's NM1."""
    _, segs = x.parse(text_837)
    start = 0
    for n, seg in enumerate(segs):
        if seg.id == "ST":
            start = n
        elif seg.id == segment_id and seg.elements[1 : 1 + len(values)] == list(values):
            return n - start + 1
    raise ValueError(f"no {segment_id} segment starting with {values}")


def _envelope(
    w: Writer, batch: Batch837, functional_id: str, version: str, control: int, created: dt.datetime
) -> None:
    x.isa(w, batch.receiver_id, batch.submitter_id, control, created)
    x.gs(w, functional_id, batch.receiver_id, batch.submitter_id, control, created, version)


# --- 999 --------------------------------------------------------------------------------------


def _ik3(w: Writer, p: SegmentProblem) -> None:
    # IK303 holds at most 4 characters: the loop's number (2010 for 2010AA).
    w.seg("IK3", p.segment_id, str(p.position), p.loop[:4], p.code)
    if p.element_code:
        w.seg(
            "IK4", p.element_position, p.element_reference, p.element_code, clean(p.bad_value, 99)
        )


def answer_999(
    text_837: str,
    *,
    control_number: int,
    created: dt.datetime,
    problems: Sequence[SegmentProblem] = (),
) -> str:
    """A 999 for the 837P: each transaction set accepted (IK5*A), or rejected (IK5*R*5)
    with its problems as IK3/IK4; AK9 says A, P (some rejected) or R (all rejected)."""
    batch = read_837(text_837)
    first = batch.transactions[0].control_number
    by_set: dict[str, list[SegmentProblem]] = {}
    for p in problems:
        by_set.setdefault(p.transaction or first, []).append(p)
    unknown = set(by_set) - {ts.control_number for ts in batch.transactions}
    if unknown:
        raise ValueError(f"no transaction set {sorted(unknown)} in the 837P")
    w = Writer()
    _envelope(w, batch, "FA", VERSION_999, control_number, created)
    w.start_count()
    st02 = f"{control_number:04d}"
    w.seg("ST", "999", st02, VERSION_999)
    w.seg("AK1", "HC", batch.group_control, batch.version)
    accepted = 0
    for ts in batch.transactions:
        w.seg("AK2", "837", ts.control_number, VERSION_837P)
        errors = by_set.get(ts.control_number, [])
        for p in errors:
            _ik3(w, p)
        if errors:
            w.seg("IK5", "R", "5")
        else:
            w.seg("IK5", "A")
            accepted += 1
    n = len(batch.transactions)
    status = "A" if accepted == n else ("P" if accepted else "R")
    w.seg("AK9", status, str(n), str(n), str(accepted))
    x.trailer(w, st02, control_number, control_number)
    return w.text()


# --- 277CA ------------------------------------------------------------------------------------


def _service_dates(claim: Claim837) -> str:
    days = [line.service_date for line in claim.lines if line.service_date]
    if not days:
        raise ValueError(f"claim {claim.patient_control_number} has no service date")
    return f"{d8(min(days))}-{d8(max(days))}"


def _claim_277(
    w: Writer,
    claim: Claim837,
    hl: int,
    parent: int,
    created: dt.datetime,
    rejection: ClaimRejection | None,
    payer_number: str,
    trace: str = "",
) -> None:
    w.seg("HL", str(hl), str(parent), "PT")
    x.nm1_person(w, "QC", claim.patient_last_name, claim.patient_first_name, "MI", claim.member_id)
    w.seg("TRN", "2", claim.patient_control_number)
    charge = amount(claim.charge_cents)
    if rejection is None:
        w.seg("STC", w.comp("A2", "20"), d8(created), "WQ", charge)
        w.seg("REF", "1K", clean(payer_number, 50))
    else:
        status = w.comp(rejection.category, rejection.code, rejection.entity)
        w.put(
            "STC", {1: status, 2: d8(created), 3: "U", 4: charge, 12: clean(rejection.message, 264)}
        )
    if trace:
        w.seg("REF", "D9", clean(trace, 50))
    w.seg("DTP", "472", "RD8", _service_dates(claim))


def _receiver_totals(
    w: Writer, accepted: list[Claim837], rejected: list[Claim837], qty: tuple[str, str]
) -> None:
    if accepted:
        w.seg("QTY", qty[0], str(len(accepted)))
    if rejected:
        w.seg("QTY", qty[1], str(len(rejected)))
    if accepted:
        w.seg("AMT", "YU", amount(sum(c.charge_cents for c in accepted)))
    if rejected:
        w.seg("AMT", "YY", amount(sum(c.charge_cents for c in rejected)))


def answer_277ca(
    text_837: str,
    *,
    control_number: int,
    created: dt.datetime,
    rejections: Mapping[str, ClaimRejection] | None = None,
    payer_claim_numbers: Mapping[str, str] | None = None,
    source_name: str = "CLEARINGHOUSE",
    source_id: str = "",
    traces: Mapping[str, str] | None = None,
) -> str:
    """A 277CA for every claim of the 837P: accepted (A2:20, with REF*1K the payer's claim
    number: given, or made up as '<control number>-<n>'), or rejected as `rejections`
    says for its patient control number. `traces`: the clearinghouse's own number for a
    claim (REF*D9), by patient control number. The receiver's TRN*2 names the 837P's
    batch (its BHT03), as clearinghouses answer it."""
    batch = read_837(text_837)
    rejections = dict(rejections or {})
    numbers = dict(payer_claim_numbers or {})
    claims = batch.claims
    unknown = set(rejections) - {c.patient_control_number for c in claims}
    if unknown:
        raise ValueError(f"no claim {sorted(unknown)} in the 837P")
    accepted = [c for c in claims if c.patient_control_number not in rejections]
    rejected = [c for c in claims if c.patient_control_number in rejections]
    w = Writer()
    _envelope(w, batch, "HN", VERSION_277CA, control_number, created)
    w.start_count()
    st02 = f"{control_number:04d}"
    w.seg("ST", "277", st02, VERSION_277CA)
    w.seg("BHT", "0085", "08", str(control_number), d8(created), x.tm(created), "TH")
    w.seg("HL", "1", "", "20", "1")
    x.nm1_org(w, "PR", source_name, "46", source_id or batch.receiver_id)
    w.seg("TRN", "1", str(control_number))
    w.seg("DTP", "050", "D8", d8(created))
    w.seg("DTP", "009", "D8", d8(created))
    w.seg("HL", "2", "1", "21", "1")
    x.nm1_org(w, "41", batch.submitter_name or batch.submitter_id, "46", batch.submitter_id)
    w.seg("TRN", "2", clean(batch.reference or batch.group_control, 50))
    total = amount(sum(c.charge_cents for c in claims))
    w.seg("STC", w.comp("A1", "19", "PR"), d8(created), "WQ", total)
    _receiver_totals(w, accepted, rejected, ("90", "AA"))
    w.seg("HL", "3", "2", "19", "1")
    w.seg("NM1", "85", "2", clean(batch.billing_name, 60), "", "", "", "", "XX", batch.billing_npi)
    w.seg("TRN", "1", "0")
    w.seg("STC", w.comp("A1", "19", "PR"), "", "WQ", total)
    _receiver_totals(w, accepted, rejected, ("QA", "QC"))
    for n, claim in enumerate(claims, start=1):
        pcn = claim.patient_control_number
        number = numbers.get(pcn) or f"{control_number}-{n}"
        trace = (traces or {}).get(pcn, "")
        _claim_277(w, claim, 3 + n, 3, created, rejections.get(pcn), number, trace)
    x.trailer(w, st02, control_number, control_number)
    return w.text()


# --- TA1 --------------------------------------------------------------------------------------


def answer_ta1(
    text_837: str, *, control_number: int, created: dt.datetime, code: str = "A", note: str = "000"
) -> str:
    """A TA1 for the 837P's envelope: TA101-103 its ISA13, ISA09 and ISA10; TA104 A, E or R;
    TA105 the note code (000 when all is well, 006 invalid sender ID ...)."""
    if code not in ("A", "E", "R"):
        raise ValueError("TA104 is A, E or R")
    _, segs = x.parse(text_837)
    isa = segs[0]
    w = Writer()
    x.isa(w, isa[8].strip(), isa[6].strip(), control_number, created, usage=isa[15],
          sender_qualifier=isa[7], receiver_qualifier=isa[5])  # fmt: skip
    w.seg("TA1", isa[13], isa[9], isa[10], code, note)
    w.seg("IEA", "0", f"{control_number:09d}")
    return w.text()


def with_ta1(answer: str, text_837: str, *, code: str = "A", note: str = "000") -> str:
    """`answer` (a 999 or a 277CA to the 837P) with a TA1 for the 837P's envelope after its
    ISA, before its functional group: real clearinghouses send the TA1 in the interchange
    of the 999 that follows it."""
    ta1 = answer_ta1(text_837, control_number=1, created=dt.datetime(2000, 1, 1), code=code,
                     note=note)  # fmt: skip
    terminator = ta1[105]
    (segment,) = [s.strip() for s in ta1.split(terminator) if s.strip().startswith("TA1")]
    return answer[:106] + "\n" + segment + terminator + answer[106:]
