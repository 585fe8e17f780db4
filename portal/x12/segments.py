"""X12 text: separators, segments, element values, and telling files apart by content.

Reading (any X12 interchange; the separators come from its ISA segment):

    delims, segments = parse(text)     # raises X12Error on malformed input
    for seg in segments:
        seg.id, seg[1], seg.get(9), seg.component(1, 2)

    kind_of(text) -> "837" | "835" | "999" | "277" | ...   (ST01, never the file name)
    identify(text) -> FileInfo(kind, version, sender, receiver, interchange_control, ...)

Writing helpers used by the writer and the answer builders: `clean` (upper-case ASCII,
no separators, length-capped), `amount` (cents -> "100.5"), `d8` / `tm` (dates, times),
and `Writer`, which joins segments and counts them for SE.
"""

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


class X12Error(ValueError):
    """The text is not a well-formed X12 interchange; the message says what is wrong."""


@dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"


DEFAULT = Delimiters()


class Segment:
    """One segment: seg.id ('CLP'), seg[1] the first element ('' when absent)."""

    __slots__ = ("id", "elements", "position", "delims")

    def __init__(self, elements: list[str], position: int, delims: Delimiters):
        self.id = elements[0]
        self.elements = elements
        self.position = position  # 1-based, counted from the start of the interchange
        self.delims = delims

    def __getitem__(self, i: int) -> str:
        return self.elements[i] if 0 <= i < len(self.elements) else ""

    get = __getitem__

    def components(self, i: int) -> list[str]:
        return self[i].split(self.delims.component) if self[i] else []

    def component(self, i: int, j: int) -> str:
        parts = self.components(i)
        return parts[j - 1] if 0 < j <= len(parts) else ""

    def __repr__(self) -> str:
        return self.delims.element.join(self.elements)


def _isa_delimiters(text: str) -> Delimiters:
    if not text.startswith("ISA") or len(text) < 106:
        raise X12Error("This is not an X12 file: it does not begin with an ISA segment.")
    element = text[3]
    if element.isalnum() or element.isspace():
        raise X12Error("The ISA segment's element separator is not usable.")
    seps = [3]  # the separator before each of ISA01 ... ISA16
    while len(seps) < 16:
        nxt = text.find(element, seps[-1] + 1)
        if nxt < 0:
            raise X12Error("The ISA segment is cut short (fewer than 16 elements).")
        seps.append(nxt)
    i = seps[-1]
    component, segment = text[i + 1 : i + 2], text[i + 2 : i + 3]
    if not component or not segment or component == element or segment in (element, component):
        raise X12Error("The ISA segment does not end with a component separator and terminator.")
    if segment.isalnum() or segment == " ":
        raise X12Error("The ISA segment's segment terminator is not usable.")
    repetition = text.split(element, 12)[11]
    if len(repetition) != 1 or repetition.isalnum() or repetition in (element, component):
        repetition = ""  # 4010 files put 'U' here: no repetition separator
    return Delimiters(element, component, repetition, segment)


def parse(text: str) -> tuple[Delimiters, list[Segment]]:
    """Split an interchange into segments with the separators its ISA gives.

    Tolerates line breaks after (or as) segment terminators, a file wrapped in fixed-width
    lines (80 columns, as some payers' systems write it: line breaks mean nothing when
    they are not the terminator) and a byte-order mark. Raises X12Error when there is no
    ISA, when ISA/IEA, GS/GE or ST/SE do not pair up, or when an SE's segment count is
    wrong.
    """
    if not isinstance(text, str):
        raise X12Error("An X12 file is text.")
    text = text.lstrip("\ufeff \t\r\n")
    unwrapped = text.replace("\r", "").replace("\n", "")
    try:
        delims = _isa_delimiters(unwrapped)
        text = unwrapped
    except X12Error:  # the terminator is a line break (or the file is not X12)
        delims = _isa_delimiters(text)
    segments = []
    for raw in text.split(delims.segment):
        raw = raw.strip("\r\n\t ")
        if raw:
            elements = raw.split(delims.element)
            if not re.fullmatch(r"[A-Z][A-Z0-9]{1,2}", elements[0]):
                raise X12Error(f"Segment {len(segments) + 1} has no valid segment ID: {raw[:20]!r}")
            segments.append(Segment(elements, len(segments) + 1, delims))
    _check_envelopes(segments)
    return delims, segments


def _check_envelopes(segments: list[Segment]) -> None:
    open_isa = open_gs = open_st = None
    st_start = 0
    for n, seg in enumerate(segments):
        if seg.id == "ISA":
            open_isa = seg
        elif seg.id == "GS":
            if open_isa is None:
                raise X12Error("A GS segment comes before any ISA.")
            open_gs = seg
        elif seg.id == "ST":
            if open_gs is None:
                raise X12Error("An ST segment comes outside a functional group (GS).")
            if open_st is not None:
                raise X12Error(f"Transaction set {open_st[2]} has no SE before the next ST.")
            open_st, st_start = seg, n
        elif seg.id == "SE":
            if open_st is None or seg[2] != open_st[2]:
                raise X12Error(f"SE {seg[2]} does not close the transaction set that is open.")
            if not seg[1].isdigit() or int(seg[1]) != n - st_start + 1:
                raise X12Error(
                    f"Transaction set {seg[2]} says {seg[1]} segments but has "
                    f"{n - st_start + 1}: the file may be cut short or altered."
                )
            open_st = None
        elif seg.id == "GE":
            if open_gs is None or open_st is not None or seg[2] != open_gs[6]:
                raise X12Error("A GE segment does not close the functional group that is open.")
            open_gs = None
        elif seg.id == "IEA":
            if open_isa is None or open_gs is not None or seg[2] != open_isa[13]:
                raise X12Error("The IEA segment does not close the interchange that is open.")
            open_isa = None
    if open_st is not None or open_gs is not None or open_isa is not None:
        raise X12Error("The file ends before its envelopes close (SE, GE or IEA missing).")


@dataclass(frozen=True)
class FileInfo:
    kind: str  # ST01: 837, 835, 999, 277 ...
    version: str  # GS08, e.g. 005010X222A1
    functional_id: str  # GS01: HC, HP, FA, HN
    sender: str  # ISA06, stripped
    receiver: str  # ISA08, stripped
    interchange_control: str  # ISA13
    usage: str  # ISA15: P production, T test


def identify(text: str) -> FileInfo:
    """What an X12 file is, from its content (ST01, GS08), never from its name."""
    _, segments = parse(text)
    isa = segments[0]
    gs = next((s for s in segments if s.id == "GS"), None)
    st = next((s for s in segments if s.id == "ST"), None)
    if gs is None or st is None:
        raise X12Error("The interchange holds no transaction set (no GS/ST).")
    return FileInfo(st[1], gs[8], gs[1], isa[6].strip(), isa[8].strip(), isa[13], isa[15])


def kind_of(text: str) -> str:
    """'999', '277', '835', '837' ... (ST01 of the first transaction set)."""
    return identify(text).kind


# --- values -----------------------------------------------------------------------------------

_NOT_ALLOWED = re.compile(r"[^A-Z0-9 !\"&'()+,\-./;?=%@\[\]_{}\\|<>#$]")


def clean(value: object, max_len: int | None = None) -> str:
    """A value safe inside an element: ASCII upper case (accents dropped), separators and
    other characters outside X12's set turned to spaces, spaces collapsed, capped."""
    text = unicodedata.normalize("NFKD", str(value or "")).encode("ascii", "ignore").decode()
    text = _NOT_ALLOWED.sub(" ", text.upper())
    text = " ".join(text.split())
    return text[:max_len].rstrip() if max_len else text


def digits(value: object) -> str:
    return re.sub(r"\D", "", str(value or ""))


def amount(cents: int) -> str:
    """Cents as an X12 decimal: 10000 -> '100', 10050 -> '100.5', -1999 -> '-19.99'."""
    if not isinstance(cents, int) or isinstance(cents, bool):
        raise TypeError("amounts are integer cents")
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    if not part:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{part:02d}".rstrip("0")


MAX_DOLLARS = 10**11  # no remittance amount comes near; a database integer holds it in cents


def cents(text: str, what: str = "amount") -> int:
    """An X12 decimal as cents: '100.5' -> 10050; raises X12Error when it is not one."""
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError):
        raise X12Error(f"The {what} “{text}” is not a number.") from None
    try:
        whole = value.is_finite() and abs(value) < MAX_DOLLARS
        whole = whole and value == value.quantize(Decimal("0.01"))
    except InvalidOperation:  # more digits than any amount has
        whole = False
    if not whole:
        raise X12Error(f"The {what} “{text}” is not an amount in dollars and cents.")
    return int(value * 100)


def d8(day: dt.date) -> str:
    return f"{day:%Y%m%d}"


def tm(moment: dt.datetime) -> str:
    return f"{moment:%H%M}"


def date_of(text: str, what: str = "date") -> dt.date | None:
    """'20261102' -> date(2026, 11, 2); '' -> None; raises X12Error on a bad date."""
    if not text:
        return None
    try:
        return dt.datetime.strptime(text[:8], "%Y%m%d").date()
    except ValueError:
        raise X12Error(f"The {what} “{text}” is not a date (CCYYMMDD).") from None


class Writer:
    """Builds segments with the default separators and counts them for SE.

    w.seg("NM1", "85", "2", name, "", "", "", "", "XX", npi)  # trailing empties dropped
    w.start_count() at ST; w.count at SE includes SE itself when added after it.
    """

    def __init__(self, delims: Delimiters = DEFAULT, line_break: bool = True):
        self.delims = delims
        self.parts: list[str] = []
        self.end = delims.segment + ("\n" if line_break else "")
        self._mark = 0

    def seg(self, *elements: str) -> None:
        items = list(elements)
        while items and items[-1] == "":
            items.pop()
        self.parts.append(self.delims.element.join(items) + self.end)

    def put(self, seg_id: str, elements: Mapping[int, str]) -> None:
        """A segment from {element position: value}, the guide's numbering:
        w.put("SBR", {1: "P", 2: "18", 9: "CI"}) -> SBR*P*18*******CI."""
        last = max(elements, default=0)
        self.seg(seg_id, *(elements.get(i, "") for i in range(1, last + 1)))

    def comp(self, *components: str) -> str:
        items = list(components)
        while items and items[-1] == "":
            items.pop()
        return self.delims.component.join(items)

    def start_count(self) -> None:
        self._mark = len(self.parts)

    @property
    def count(self) -> int:
        """Segments since start_count(), the ST included."""
        return len(self.parts) - self._mark

    def text(self) -> str:
        return "".join(self.parts)


def isa(
    w: Writer,
    sender: str,
    receiver: str,
    control: int,
    created: dt.datetime,
    usage: str = "P",
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    ack_requested: str = "0",
) -> None:
    """The fixed-width ISA segment (106 characters with its terminator)."""
    if not 0 < control < 10**9:
        raise ValueError("an interchange control number has 1 to 9 digits")
    if usage not in ("P", "T"):
        raise ValueError("usage is P (production) or T (test)")
    d = w.delims
    w.seg(
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        sender_qualifier,
        clean(sender, 15).ljust(15),
        receiver_qualifier,
        clean(receiver, 15).ljust(15),
        f"{created:%y%m%d}",
        tm(created),
        d.repetition,
        "00501",
        f"{control:09d}",
        ack_requested,
        usage,
        d.component,
    )


def gs(
    w: Writer,
    functional_id: str,
    sender: str,
    receiver: str,
    control: int,
    created: dt.datetime,
    version: str,
) -> None:
    if not 0 < control < 10**9:
        raise ValueError("a group control number has 1 to 9 digits")
    w.seg(
        "GS",
        functional_id,
        clean(sender, 15),
        clean(receiver, 15),
        d8(created),
        tm(created),
        str(control),
        "X",
        version,
    )


def trailer(w: Writer, st02: str, group_control: int, interchange_control: int) -> None:
    """SE (with the count since start_count), GE and IEA for a one-set, one-group file."""
    w.seg("SE", str(w.count + 1), st02)
    w.seg("GE", "1", str(group_control))
    w.seg("IEA", "1", f"{interchange_control:09d}")


def nm1_person(
    w: Writer,
    code: str,
    last: str,
    first: str,
    qualifier: str = "",
    ident: str = "",
    middle: str = "",
    suffix: str = "",
) -> None:
    """NM1 for a person: NM1*code*1*LAST*FIRST*MIDDLE**SUFFIX*qualifier*id."""
    w.put(
        "NM1",
        {
            1: code,
            2: "1",
            3: clean(last, 60),
            4: clean(first, 35),
            5: clean(middle, 25),
            7: clean(suffix, 10),
            8: qualifier if ident else "",
            9: clean(ident, 80),
        },
    )


def nm1_org(w: Writer, code: str, name: str, qualifier: str = "", ident: str = "") -> None:
    """NM1 for an organization: NM1*code*2*NAME*****qualifier*id."""
    w.put(
        "NM1",
        {1: code, 2: "2", 3: clean(name, 60), 8: qualifier if ident else "", 9: clean(ident, 80)},
    )


def cas(w: Writer, adjustments: Iterable[tuple[str, str, int]]) -> None:
    """CAS segments from (group, reason, cents): one per group, six reasons at most each."""
    by_group: dict[str, list[tuple[str, int]]] = {}
    for group, reason, value in adjustments:
        by_group.setdefault(group, []).append((reason, value))
    for group, items in by_group.items():
        for i in range(0, len(items), 6):
            w.seg("CAS", group, *[v for r, c in items[i : i + 6] for v in (r, amount(c), "")])
