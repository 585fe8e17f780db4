"""Money is integer cents. Display and exact splits live here."""

from decimal import ROUND_HALF_UP, Decimal


def format_cents(cents: int, symbol: str = "$") -> str:
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    cents = abs(int(cents))
    return f"{sign}{symbol}{cents // 100:,}.{cents % 100:02d}"


# More than a practice takes at once, and within a 32-bit integer of cents.
MAX_DOLLARS = Decimal("10000000")


def parse_dollars(text: str, max_cents: int | None = None) -> int:
    """'85', '85.5', '$1,085.50' -> cents. Raises ValueError on anything else, on negatives
    and above `max_cents` (default: MAX_DOLLARS), saying the limit."""
    limit = MAX_DOLLARS if max_cents is None else Decimal(max_cents) / 100
    cleaned = (text or "").strip().replace("$", "").replace(",", "")
    if not cleaned:
        raise ValueError("Enter an amount.")
    try:
        value = Decimal(cleaned)
    except Exception as exc:  # decimal.InvalidOperation
        raise ValueError("Enter an amount like 85 or 85.50.") from exc
    if not value.is_finite():  # "NaN", "Infinity": Decimal reads them, comparing raises
        raise ValueError("Enter an amount like 85 or 85.50.")
    if value < 0:
        raise ValueError("The amount cannot be negative.")
    if value > limit:  # before quantize(), which cannot hold 1e30 to the cent
        raise ValueError(f"Enter at most ${limit:,.2f}.")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("Use at most two decimal places.")
    return int((value * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def split_largest_remainder(total: int, parts: int) -> list[int]:
    """Split `total` cents into `parts` integer shares that add up exactly.

    >>> split_largest_remainder(42500, 5)
    [8500, 8500, 8500, 8500, 8500]
    >>> split_largest_remainder(10000, 3)
    [3334, 3333, 3333]
    """
    if parts <= 0:
        raise ValueError("parts must be positive")
    if total < 0:
        raise ValueError("total must not be negative")
    base, remainder = divmod(total, parts)
    return [base + (1 if i < remainder else 0) for i in range(parts)]
