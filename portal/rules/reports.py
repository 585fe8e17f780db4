"""Revenue report arithmetic: pure functions over plain rows (no database).

Revenue is money received: client payments in cash, check, card or terminal (less
refunds) and payer payments posted to claims. A visit paid with a package credit is no
new money (the package's sale was), so package-credit redemptions never count.

    shares = allocate(10000, [9000, 3500])               # [7200, 2800], adds up exactly
    table = totals_by([("Acme", 5000, "pay-1"), ("Acme", -500, None), ("Zenith", 100, "pay-2")])
    # payers, providers: grouped by identity, never by name; same names told apart
    mi = Named(("payer", 7), "Blue Cross", marks=("payer ID 00710",), ident="00710")
    tx = Named(("payer", 9), "Blue Cross", marks=("payer ID 84980",), ident="84980")
    table = totals_by([(mi, 5000, "pay-1"), (tx, 900, "pay-2")])
    # two rows: "Blue Cross (payer ID 00710)" $50.00, "Blue Cross (payer ID 84980)" $9.00
    months = by_month([(date(2026, 11, 3), "client", 4000), (..., "payer", 9600)])
"""

import datetime as dt
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

CLIENT, PAYER = "client", "payer"


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """`total` cents split in proportion to `weights` (largest remainder: the shares add up
    to `total` exactly; a negative total, a refund, splits the same way). All-zero or no
    weights: everything on the first share (or [] when there are none)."""
    if not weights:
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights cannot be negative")
    whole = sum(weights)
    if whole == 0:
        return [total] + [0] * (len(weights) - 1)
    sign = -1 if total < 0 else 1
    amount = abs(total)
    shares = [amount * w // whole for w in weights]
    rests = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % whole), i))
    for i in rests[: amount - sum(shares)]:
        shares[i] += 1
    return [sign * s for s in shares]


@dataclass(frozen=True)
class Named:
    """What a report row is about when its name alone may not tell it apart (two payers
    called "Blue Cross", BCBS of two states): `key`, its identity (("payer", 7)); `name`,
    shown; `marks`, texts that tell it from another of the same name, best first ("payer ID
    00310", a city, "#7" last: unique); `ident`, its outside id for a CSV column."""

    key: Hashable
    name: str
    marks: tuple[str, ...] = ()
    ident: str = ""


def named_payer(payer_id: int, name: str, code: str, city: str, state: str) -> Named:
    """A payer as a report row: marked by its payer ID, then its place, then its number."""
    place = ", ".join(x for x in (city, state) if x)
    marks = (f"payer ID {code}" if code else "", place, f"#{payer_id}")
    return Named(("payer", payer_id), name, marks, code)


def _same_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def distinct_labels(items: Iterable[Named]) -> dict[Hashable, str]:
    """{key: label}: the name, or when another item has the same name (case and spacing
    aside), "name (mark)" with its first mark that no other item of that name has (the
    last one when none is its own; the name alone when it has no marks)."""
    groups: dict[str, dict[Hashable, Named]] = {}
    for item in items:
        groups.setdefault(_same_name(item.name), {})[item.key] = item
    labels = {}
    for group in groups.values():
        for item in group.values():
            marks = [m for m in item.marks if m]
            if len(group) == 1 or not marks:
                labels[item.key] = item.name
                continue
            others = {m for o in group.values() if o.key != item.key for m in o.marks}
            mark = next((m for m in marks if m not in others), marks[-1])
            labels[item.key] = f"{item.name} ({mark})"
    return labels


@dataclass(frozen=True)
class Total:
    label: str  # the name shown: same names told apart (distinct_labels)
    cents: int
    count: int
    ident: str = ""  # the outside id for a CSV column (payer ID, NPI), if any


def totals_by(rows: Iterable[tuple[str | Named, int, Hashable | None]]) -> list[Total]:
    """Sum cents per key over (key, cents, payment) rows: largest first, then by label;
    keys whose sum is zero are kept. A key is a text (a CPT code: itself its name) or a
    Named (grouped by its identity, never its name). `count` is the number of distinct
    payments of the key: a payment spread over several rows is one, a refund or take-back
    (payment None) none."""
    sums: dict[Hashable, list] = {}
    for key, cents, payment in rows:
        named = key if isinstance(key, Named) else Named(key, key)
        entry = sums.setdefault(named.key, [named, 0, set()])
        entry[1] += cents
        if payment is not None:
            entry[2].add(payment)
    labels = distinct_labels(named for named, _, _ in sums.values())
    return sorted(
        (Total(labels[n.key], c, len(p), n.ident) for n, c, p in sums.values()),
        key=lambda t: (-t.cents, t.label),
    )


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """A name for a CSV cell that a spreadsheet shows as text: one starting like a formula
    (= + - @, tab, carriage return) gets a leading apostrophe (OWASP's CSV injection advice).
    For text only: amounts are written as numbers ("-20.00" stays a number)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class Month:
    month: dt.date  # the first of the month
    client_cents: int
    payer_cents: int

    @property
    def total_cents(self) -> int:
        return self.client_cents + self.payer_cents

    @property
    def label(self) -> str:
        return f"{self.month:%B %Y}"


def by_month(
    rows: Iterable[tuple[dt.date, str, int]], months: Iterable[dt.date] = ()
) -> list[Month]:
    """Client and payer money per calendar month (the practice's dates), oldest first;
    each of `months` (first days, month_range) is a row even with no money in it."""
    sums: dict[dt.date, list[int]] = {m: [0, 0] for m in months}
    for day, source, cents in rows:
        if source not in (CLIENT, PAYER):
            raise ValueError(f"source is {CLIENT!r} or {PAYER!r}")
        entry = sums.setdefault(day.replace(day=1), [0, 0])
        entry[0 if source == CLIENT else 1] += cents
    return [Month(m, c, p) for m, (c, p) in sorted(sums.items())]


def month_range(start: dt.date, end: dt.date) -> list[dt.date]:
    """First days of the months from start's to end's, both included."""
    out, m = [], start.replace(day=1)
    while m <= end:
        out.append(m)
        m = (m.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out
