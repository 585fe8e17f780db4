"""National Provider Identifier and federal tax ID (EIN) checks, and identifiers as printed
(EIN 93-1234567, ZIP+4 97205-1234)."""

import re


def luhn_checksum_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def is_valid_npi(value: str) -> bool:
    """10 digits whose last is the Luhn check digit over the prefix 80840 + the first nine."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{10}", value):
        return False
    return luhn_checksum_ok("80840" + value)


def normalize_ein(value: str) -> str:
    """'12-3456789' or '123456789' -> '123456789'; anything else is returned stripped."""
    value = (value or "").strip()
    if re.fullmatch(r"\d{2}-?\d{7}", value):
        return value.replace("-", "")
    return value


def is_valid_ein(value: str) -> bool:
    return bool(re.fullmatch(r"\d{9}", normalize_ein(value)))


def format_ein(value: str) -> str:
    v = normalize_ein(value)
    return f"{v[:2]}-{v[2:]}" if re.fullmatch(r"\d{9}", v) else v


def format_zip(value: str) -> str:
    """A ZIP code as people read it: 9 digits (kept whole for the 837P) as ZIP+4."""
    v = re.sub(r"\D", "", value or "")
    return f"{v[:5]}-{v[5:]}" if len(v) == 9 else (value or "")
