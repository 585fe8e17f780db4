"""X12 interchanges for the transport's tests: a real ISA envelope (fixed width, the
separators a sender chose) around a short transaction set. They exercise the kind found
by content and the byte-for-byte keeping of files, not the claims code's reading of them
(its own fixtures are validated with pyx12)."""


def isa(control, element="*", terminator="~", component=":", sender="CLEARHOUSE"):
    fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        sender.ljust(15),
        "ZZ",
        "SUBMITTER01".ljust(15),
        "261128",
        "0930",
        "^",
        "00501",
        f"{control:09d}",
        "0",
        "T",
        component,
    ]
    segment = element.join(fields) + terminator
    assert len(segment) == 106
    return segment


def interchange(st01, control=101, element="*", terminator="~\n", body=()):
    gs01 = {"999": "FA", "277": "HN", "835": "HP", "997": "FA", "271": "HB"}.get(st01, "XX")
    segs = [
        f"GS*{gs01}*CLEARHOUSE*SUBMITTER01*20261128*0930*{control}*X*005010",
        f"ST*{st01}*0001",
        *body,
        f"SE*{len(body) + 2}*0001",
        f"GE*1*{control}",
        f"IEA*1*{control:09d}",
    ]
    text = isa(control, element=element, terminator=terminator[0]) + terminator[1:]
    text += "".join(s.replace("*", element) + terminator for s in segs)
    return text.encode("ascii")


def ack_999(control=101):
    return interchange("999", control, body=["AK1*HC*1*005010X222A1", "AK9*A*1*1*1"])


def ack_277(control=102):
    return interchange("277", control, body=["BHT*0085*08*277X214*20261128*0930*TH", "HL*1**20*1"])


def era_835(control=103):
    return interchange("835", control, body=["BPR*I*150*C*ACH*CCP", "TRN*1*12345*1512345678"])
