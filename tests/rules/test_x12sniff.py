"""What a received file is, by content (portal/rules/x12sniff.py)."""

import pytest

from portal.rules.x12sniff import sniff_kind
from tests.clearinghouse import samples


@pytest.mark.parametrize(
    ("data", "kind", "error"),
    [
        (samples.ack_999(), "999", ""),
        (samples.ack_277(), "277", ""),
        (samples.era_835(), "835", ""),
        # the separators are the sender's choice, read from the ISA segment
        (samples.interchange("835", element="|", terminator="\n"), "835", ""),
        (samples.interchange("999", element="^", terminator="'"), "999", ""),
        (b"\xef\xbb\xbf" + samples.ack_999(), "999", ""),  # a UTF-8 byte order mark
        ("\ufeff".encode("utf-16-le") + samples.ack_999(), "unknown", "characters X12 does"),
        (samples.ack_999().replace(b"AK1", "ÄK1".encode()), "unknown", "characters X12 does"),
        (b"\r\n  " + samples.era_835(), "835", ""),
        (samples.interchange("997"), "unknown", "X12 997 transaction set, not a 999"),
        (samples.interchange("271"), "unknown", "271"),
        (b"Your claims were received. Thank you!", "unknown", "does not start with an ISA"),
        (b"ISA*00*short", "unknown", "cut short"),
        (b"%PDF-1.4 report", "unknown", "does not start with an ISA"),
        (b"", "unknown", "does not start with an ISA"),
        (
            samples.isa(5).encode() + b"TA1*000000005*261128*0930*A*000~IEA*0*000000005~",
            "unknown",
            "(TA1)",
        ),
        (
            samples.isa(5).encode() + b"GS*FA*X*Y*20261128*0930*1*X*005010~GE*0*1~",
            "unknown",
            "no ST segment",
        ),
        (
            samples.interchange("999", body=["AK1*HC*1", "SE*3*0001", "ST*835*0002"]),
            "unknown",
            "mixing transaction sets 835, 999",
        ),
    ],
)
def test_kind_by_content(data, kind, error):
    found, message = sniff_kind(data)
    assert found == kind
    assert (error in message) if error else message == ""
