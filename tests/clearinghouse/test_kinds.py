"""What a received file is, by content: services.clearinghouse.kind_of reads the envelope
with portal.x12.segments (the separators are the sender's, from its ISA segment) and says
in words why anything else is not a 999, 277 or 835."""

import pytest

from portal.services.clearinghouse import kind_of
from tests.clearinghouse import samples


@pytest.mark.parametrize(
    ("data", "kind", "error"),
    [
        (samples.ack_999(), "999", ""),
        (samples.ack_277(), "277", ""),
        (samples.era_835(), "835", ""),
        # the separators are the sender's choice, read from the ISA segment
        (samples.interchange("835", element="|", terminator="\n"), "835", ""),
        (samples.interchange("999", element="!", terminator="'"), "999", ""),
        (b"\xef\xbb\xbf" + samples.ack_999(), "999", ""),  # a UTF-8 byte order mark
        ("\ufeff".encode("utf-16-le") + samples.ack_999(), "unknown", "characters X12 does"),
        (samples.ack_999().replace(b"AK1", "ÄK1".encode()), "unknown", "characters X12 does"),
        (b"\r\n  " + samples.era_835(), "835", ""),
        (samples.interchange("997"), "unknown", "X12 997 transaction set, not a 999"),
        (samples.interchange("271"), "unknown", "271"),
        (b"Your claims were received. Thank you!", "unknown", "does not begin with an ISA"),
        (b"ISA*00*short", "unknown", "does not begin with an ISA"),
        (b"%PDF-1.4 report", "unknown", "does not begin with an ISA"),
        (b"", "unknown", "does not begin with an ISA"),
        (samples.isa(5).encode() + b"TA1*000000005*261128*0930*A*000~IEA*0*000000005~", "ta1", ""),
        (
            samples.isa(5).encode() + b"GS*FA*X*Y*20261128*0930*1*X*005010~GE*0*1~IEA*1*000000005~",
            "unknown",
            "no ST segment",
        ),
        (
            samples.isa(6).encode()
            + b"GS*FA*X*Y*20261128*0930*6*X*005010~ST*999*0001~AK1*HC*1~SE*3*0001~"
            b"ST*835*0002~BPR*I*1*C*CHK~SE*3*0002~GE*2*6~IEA*1*000000006~",
            "unknown",
            "mixing transaction sets 835, 999",
        ),
        # a file cut short, or whose segment count was altered: not read at all
        (samples.era_835()[:-30], "unknown", "Not a readable X12 file"),
        (samples.ack_999().replace(b"SE*4*0001", b"SE*9*0001"), "unknown", "says 9 segments"),
    ],
)
def test_kind_by_content(data, kind, error):
    found, message = kind_of(data)
    assert found == kind, message
    assert (error in message) if error else message == ""


def _ta1(code, note):
    return (
        samples.isa(5).encode()
        + f"TA1*000000003*261128*0930*{code}*{note}~".encode()
        + (b"IEA*0*000000005~")
    )


@pytest.mark.parametrize(
    ("code", "note", "error"),
    [
        ("R", "006", ""),
        ("R", "099", ""),  # a note the portal does not know: said by its number
        ("E", "020", ""),
        ("A", "000", ""),
        ("R", "", ""),
        ("?", "006", "An interchange acknowledgment (TA1) the portal cannot read: TA104 at "
         "segment 2 is “?”, not A, E or R"),
    ],
)  # fmt: skip
def test_an_interchange_acknowledgment_is_a_kind_of_its_own(code, note, error):
    """A TA1 answers a whole file's envelope: the claims code applies it to the file it
    names (services/claims/acks.py, tests/claims/test_ta1.py); one it cannot read says so."""
    kind, message = kind_of(_ta1(code, note))
    assert kind == "ta1"
    assert (
        (error in message and message.endswith("Ask the clearinghouse."))
        if error
        else (message == "")
    )


@pytest.mark.parametrize(
    ("code", "error"),
    [("E", ""), ("Q", "An interchange acknowledgment (TA1) the portal cannot read: TA104")],
)
def test_a_ta1_before_a_999_keeps_the_999s_kind(code, error):
    """Clearinghouses send a file's TA1 in the interchange of its 999: the file is a 999
    (the claims code applies the TA1 with it); one whose TA1 cannot be read says so."""
    data = samples.ack_999()
    ta1 = f"TA1*000000003*261128*0930*{code}*020~\n".encode()
    at = data.index(b"GS*")
    kind, message = kind_of(data[:at] + ta1 + data[at:])
    assert kind == "999"
    assert (error in message) if error else message == ""
