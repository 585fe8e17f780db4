"""What the clearinghouse's acknowledgments say, in words for the person fixing a claim
(acks.py applies them): a 999's segment and element errors, named by the party our own
837P holds at that position and the page where it is fixed; a 277CA's statuses and the
rejections among them; a TA1's note on a file's envelope. No database: text in, text out."""

from portal.rules import edi_codes
from portal.rules.problems import WHERE
from portal.x12.read277 import REJECTING
from portal.x12.segments import parse

# What the segments an 837P error points at hold, for the person fixing the claim.
SEGMENT_WORDS = {
    "CLM": "the claim's totals and codes",
    "DMG": "a date of birth or sex",
    "DTP": "a date",
    "HI": "the diagnosis codes",
    "N3": "a street address",
    "N4": "a city, state or ZIP code",
    "NM1": "a name or ID (NPI, member ID, payer ID)",
    "PER": "the practice's contact details",
    "REF": "a reference number (tax ID, authorization, claim number)",
    "SBR": "the subscriber and group number",
    "SV1": "a service line (code, modifiers, charge, units)",
    "PRV": "a taxonomy code",
}
# Whom an NM1 names (and the DMG, N3, N4, REF ... of its loop), and where that is fixed
# (a key of rules.problems.WHERE): read from our own file at the position a 999 points at.
PARTIES = {
    "85": ("the billing provider", "practice_settings"),
    "87": ("the pay-to provider", "practice_settings"),
    "77": ("the service location", "practice_settings"),
    "82": ("the rendering provider", "provider"),
    "DN": ("the referring provider", "referral"),
    "IL": ("the subscriber", "policy"),
    "QC": ("the patient", "client"),
    "PR": ("the payer", "payer"),
    "41": ("the submitter", "clearinghouse"),
    "40": ("the receiver", "clearinghouse"),
}
PARTY_SEGMENT_WORDS = {
    "NM1": "name or ID",
    "DMG": "date of birth or sex",
    "N3": "street address",
    "N4": "city, state or ZIP code",
    "REF": "reference number (tax ID, member ID ...)",
    "PER": "contact details",
}
CLIENT_DETAILS = frozenset({"DMG", "N3", "N4"})  # the subscriber's own, when it is the client


def _element_words(el):
    where = f"element {el.position}" + (f" (data element {el.reference})" if el.reference else "")
    value = f" “{el.bad_value}”" if el.bad_value else ""
    return f"{where}: {edi_codes.element_error_text(el.code).lower()}{value}"


def parties_in(text_837):
    """{(transaction set control number, position): (segment id, entity, subscriber is the
    patient)} for each segment in an NM1's loop of our 837P (the NM1 and what follows it,
    up to the next loop)."""
    _, segments = parse(text_837)
    found, st, start, entity, self_ = {}, "", 0, "", False
    for n, seg in enumerate(segments):
        if seg.id == "ST":
            st, start, entity = seg[2], n, ""
        elif seg.id == "SBR":
            entity, self_ = "", seg[2] == "18"
        elif seg.id == "NM1":
            entity = seg[1]
        elif seg.id in ("HL", "CLM", "LX", "SE"):
            entity = ""
        if entity in PARTIES:
            found[(st, n - start + 1)] = (seg.id, entity, self_)
    return found


def party(err, ts_control, parties):
    """(words for the segment, where it is fixed) of a 999 error, from our file; None when
    the file holds no such segment there (a missing one, or an answer to another file)."""
    seg_id, entity, self_ = parties.get((ts_control, err.position), ("", "", False))
    if seg_id != err.segment_id or seg_id not in PARTY_SEGMENT_WORDS:
        return None
    who, where = PARTIES[entity]
    if entity == "IL" and self_ and seg_id in CLIENT_DETAILS:
        where = "client"
    return f"{who}'s {PARTY_SEGMENT_WORDS[seg_id]}", where


def segment_error_words(err, party=None):
    """'Segment DMG (the subscriber's date of birth or sex) at position 19, loop 2010:
    segment has data element errors; element 2 (data element 1251): invalid date
    “19851312”.' (party: what party() says of it, else the segment's general words)."""
    what = party[0] if party else SEGMENT_WORDS.get(err.segment_id)
    name = f"Segment {err.segment_id}" + (f" ({what})" if what else "")
    loop = f", loop {err.loop}" if err.loop else ""
    claim = f", claim {err.patient_control_number}" if err.patient_control_number else ""
    text = (
        f"{name} at position {err.position}{loop}{claim}: "
        f"{edi_codes.segment_error_text(err.code).lower()}"
    )
    for el in err.elements:
        text += f"; {_element_words(el)}"
    return text + "."


def detail_999(ack, parties):
    lines = [f"{edi_codes.group_ack_text(ack.status)} ({ack.status})."]
    for code in ack.codes:
        lines.append(edi_codes.group_error_text(code) + ".")
    for ts in ack.transactions:
        if ts.accepted and not ts.errors:
            continue
        lines.append(
            f"Transaction set {ts.control_number}: {edi_codes.ack_text(ts.status).lower()}"
            + "".join(f"; {edi_codes.transaction_error_text(c).lower()}" for c in ts.codes)
            + "."
        )
        lines += [
            segment_error_words(err, party(err, ts.control_number, parties)) for err in ts.errors
        ]
    return "\n".join(lines)


def fix_words(where):
    if where == "claim":
        return " Correct the claim, then send it again."
    page = WHERE[where].split(" (")[0]
    return f" Correct it on {page}, then check the claim again and send it."


def status_words(st):
    """'Rejected for invalid information: entity's National Provider Identifier (NPI)
    (referring provider) (A7:562:DN): REFERRING PROVIDER NPI IS NOT VALID FOR THIS PAYER'."""
    words = edi_codes.stc_text(st.category, st.code, st.entity)
    return f"{words}: {st.message.strip()}" if st.message.strip() else words


def rejections(cs):
    out = []
    for st in cs.statuses:
        if st.category in REJECTING:
            out.append((f"277ca_{st.category}_{st.code}", status_words(st)))
    for line in cs.lines:
        name = line.code + "".join(f":{m}" for m in line.modifiers)
        for st in line.statuses:
            if st.category in REJECTING:
                out.append((f"277ca_{st.category}_{st.code}", f"Line {name}: {status_words(st)}"))
    return out


def ta1_note(ack):
    return f"TA1, {edi_codes.interchange_note_text(ack.note)}" if ack.note else "TA1"


def ta1_words(ack):
    """What a TA1 says of the file it answers, for its page."""
    note = ta1_note(ack)
    if ack.code == "A":
        return "The clearinghouse received this file (TA1); its 999 follows."
    if ack.code == "E":
        return (
            f"The clearinghouse took this file with a remark on its envelope ({note}): its "
            "claims go on, and its 999 says whether they passed. The owner checks the "
            "clearinghouse settings before the next file."
        )
    return (
        f"The clearinghouse refused this file at its envelope ({note}) before reading any "
        "of it: none of its claims reached the payer."
    )
