"""The TA1 reader: the interchange acknowledgment, a clearinghouse's answer to a whole
file's envelope (ISA/IEA), before any of its content is read.

    from portal.x12.readta1 import read_ta1
    holds_ta1(text)                     # True: a TA1 alone, or before a 999's group
    for ack in read_ta1(text):          # one per TA1 segment (most files hold one)
        ack.control_number              # TA101 = the ISA13 of our 837P, as sent (9 digits)
        ack.code                        # TA104: A accepted, E accepted with errors, R rejected
        ack.note                        # TA105: the note code (000 no error, 006 sender ID ...)
        ack.rejected                    # True for R: none of the file was read

A TA1 stands in an interchange of its own (ISA, TA1, IEA*0) or before the functional groups
of one. Codes are kept as sent; rules.edi_codes.interchange_note_text gives their words.
Raises X12Error on malformed input, a file holding no TA1, or a TA1 whose number or
code is not one.
"""

from dataclasses import dataclass

from portal.x12.segments import X12Error, parse

CODES = ("A", "E", "R")


@dataclass(frozen=True)
class InterchangeAck:
    interchange_control: str  # the TA1's own ISA13
    control_number: str  # TA101: the ISA13 of the file it answers
    date: str  # TA102: that file's ISA09 (YYMMDD)
    time: str  # TA103: its ISA10 (HHMM)
    code: str  # TA104: A, E, R
    note: str  # TA105: 000 ... 031

    @property
    def rejected(self) -> bool:
        return self.code == "R"


def read_ta1(text: str) -> list[InterchangeAck]:
    """Every TA1 in the file, in order."""
    _, segments = parse(text)
    isa, out = None, []
    for seg in segments:
        if seg.id == "ISA":
            isa = seg
        elif seg.id == "TA1":
            number, code = seg[1].strip(), seg[4].strip().upper()
            if not number.isdigit() or len(number) > 9:
                raise X12Error(
                    f"TA101 at segment {seg.position} is not an interchange control number: "
                    f"“{number}”."
                )
            if code not in CODES:
                raise X12Error(
                    f"TA104 at segment {seg.position} is “{code}”, not A, E or R: the portal "
                    "cannot tell whether the file was taken."
                )
            out.append(InterchangeAck(isa[13], number, seg[2], seg[3], code, seg[5].strip()))
    if not out:
        raise X12Error("This file holds no interchange acknowledgment (TA1).")
    return out


def holds_ta1(text: str) -> bool:
    """Whether the interchange holds a TA1 (alone, or before functional groups such as a
    999's); False for text that is not X12."""
    try:
        _, segments = parse(text)
    except X12Error:
        return False
    return any(seg.id == "TA1" for seg in segments)
