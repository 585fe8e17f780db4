"""What a file from the clearinghouse is, by its content: the transaction set (ST01) of an
X12 interchange. A stand-in until the X12 readers in portal/x12/ arrive (they will replace
it): it reads just enough of the envelope to tell a 999, a 277 (the 277CA) and an 835
apart, and says in words why anything else is not one of them.

The ISA segment is fixed-width (106 characters): its 4th character is the element
separator and the character after ISA16 (index 105) the segment terminator, whatever a
sender chose.
"""

KINDS = {"999": "999", "277": "277", "835": "835"}
ISA_LENGTH = 106


def sniff_kind(data):
    """(kind, error) for the bytes of one file: kind is "999", "277", "835" or "unknown";
    error is "" for a known kind, else a sentence for the owner."""
    if data.startswith(b"\xef\xbb\xbf"):  # a byte order mark some systems add
        data = data[3:]
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return "unknown", "Not an X12 file: it holds characters X12 does not use."
    text = text.lstrip(" \t\r\n")
    if not text.startswith("ISA"):
        return "unknown", "Not an X12 file: it does not start with an ISA segment."
    if len(text) < ISA_LENGTH:
        return "unknown", "A broken X12 file: its ISA segment is cut short."
    element, terminator = text[3], text[ISA_LENGTH - 1]
    if element.isalnum() or terminator.isalnum() or element == terminator:
        return "unknown", "A broken X12 file: its ISA segment has no usable separators."
    segments = [s.strip("\r\n") for s in text.split(terminator)]
    sets = [s.split(element) for s in segments if s.startswith("ST" + element)]
    if not sets:
        if any(s.startswith("TA1" + element) for s in segments):
            return "unknown", "An interchange acknowledgment (TA1), not a 999, 277 or 835."
        return "unknown", "An X12 file without a transaction set (no ST segment)."
    ids = {fields[1] if len(fields) > 1 else "" for fields in sets}
    if len(ids) > 1:
        return "unknown", "An X12 file mixing transaction sets " + ", ".join(sorted(ids)) + "."
    st01 = ids.pop()
    if st01 not in KINDS:
        return "unknown", f"An X12 {st01 or 'file'} transaction set, not a 999, 277 or 835."
    return KINDS[st01], ""
