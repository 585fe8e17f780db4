"""Coding a visit for a claim: units, the 97124/97140 edit, pointers, modifiers, place of service.

Pure functions over plain values (DOMAIN.md, "Codes"). How to call:

    units_for_day({"97124": 38, "97140": 15})             # CMS 8-minute rule (the default)
    -> {"97124": 2, "97140": 1}                            # most minutes first
    units_for_day({"97124": 38, "97140": 7}, PER_CODE)     # the payer counts each code alone
    -> {"97124": 3}
    check_code_pair(lines, allow_pair=payer.allow_97124_97140)   # -> [Problem, ...]
    parse_pointers("A, C") -> (1, 3);  pointer_letters((1, 3)) -> "AC"
    check_line_pointers((1, 3), n_diagnoses=2, line=1)     # -> [Problem, ...]
    parse_modifiers("59 xs") -> ("59", "XS");  check_modifiers(("59",), line=1)
    PLACES_OF_SERVICE["11"] -> "Office"

`lines` for check_code_pair are any objects with `service_date`, `code`, `modifiers`
(a sequence of strings) and `pointers` (1-based ints), e.g. rules.claims.ClaimLine.
Units are whole numbers; minutes are the timed minutes a signed note records per code
(rules/charting.py parses them). The CPT shape check is charting.normalize_cpt.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from portal.rules.icd10 import MAX_DIAGNOSES, pointer_letter
from portal.rules.problems import Problem

# Unit rules, as stored on a payer (models.insurance.UNIT_RULES uses the same keys).
CMS8 = "cms8"  # add the timed minutes of the day, then 8-22 = 1 unit, 23-37 = 2, ...
PER_CODE = "per_code"  # each code on its own: at least 8 minutes for a unit
UNIT_RULES = (CMS8, PER_CODE)
UNIT_MINUTES = 15
MIN_MINUTES = 8  # under 8 timed minutes, no unit

MASSAGE = "97124"
MANUAL_THERAPY = "97140"
DISTINCT_MODIFIERS = ("59", "XS")  # distinct procedural service / separate structure
MAX_MODIFIERS = 4
MAX_POINTERS = 4
MAX_LINES_PER_CLAIM = 6  # CMS-1500 24A-J; longer visits are split (rules.claims.split_claim)

PLACES_OF_SERVICE = {
    "11": "Office",
    "12": "Home",
    "02": "Telehealth provided other than in the patient's home",
    "10": "Telehealth provided in the patient's home",
}

_MODIFIER = re.compile(r"^[0-9A-Z]{2}\Z")
_LETTERS = "ABCDEFGHIJKL"


class CodedLine(Protocol):
    service_date: object
    code: str
    modifiers: Sequence[str]
    pointers: Sequence[int]


# --- units ------------------------------------------------------------------------------------


def units_for_minutes(minutes: int) -> int:
    """Units for timed minutes: under 8 none, 8-22 one, 23-37 two, ... (one per 15 more)."""
    if minutes < MIN_MINUTES:
        return 0
    return (minutes + MIN_MINUTES - 1) // UNIT_MINUTES


def _checked(minutes: Mapping[str, int]) -> dict[str, int]:
    clean = {}
    for code, value in minutes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"minutes for {code} must be a whole number of at least 0")
        if value:
            clean[code] = value
    return clean


def _by_minutes(minutes: Mapping[str, int]) -> list[str]:
    """Codes with the most minutes first; equal minutes in code order (deterministic)."""
    return sorted(minutes, key=lambda code: (-minutes[code], code))


def units_for_day(minutes: Mapping[str, int], rule: str = CMS8) -> dict[str, int]:
    """Units per code for one date of service: {code: units >= 1}, most minutes first.

    CMS8: the day's timed minutes are added up and give the total units; each code first
    gets its full 15-minute units, and the units left over go one each to the codes with
    the most minutes left over (then the most minutes in all, then code order), as in the
    CMS manual's examples (33 min 97110 + 7 min 97140 = 3 units: 2 + 1). A code whose
    minutes earn no unit is left out.
    PER_CODE: each code alone, at least 8 minutes for a unit.
    """
    if rule not in UNIT_RULES:
        raise ValueError(f"unknown unit rule {rule!r} (expected one of {UNIT_RULES})")
    minutes = _checked(minutes)
    order = _by_minutes(minutes)
    if rule == PER_CODE:
        units = {code: units_for_minutes(minutes[code]) for code in order}
        return {code: n for code, n in units.items() if n}
    total = units_for_minutes(sum(minutes.values()))
    units = {code: minutes[code] // UNIT_MINUTES for code in order}
    left = total - sum(units.values())
    # Never more than one extra unit per code: sum of remainders + 7 < 15 x codes + 15.
    by_remainder = sorted(
        order, key=lambda code: (-(minutes[code] % UNIT_MINUTES), -minutes[code], code)
    )
    for code in by_remainder[:left]:
        units[code] += 1
    return {code: n for code, n in units.items() if n}


# --- the 97124 / 97140 edit -------------------------------------------------------------------


def _day(value) -> str:
    return f"{value:%b} {value.day}, {value.year}" if hasattr(value, "year") else str(value)


def check_code_pair(lines: Iterable[CodedLine], allow_pair: bool) -> list[Problem]:
    """97124 and 97140 on one date: refused, unless the payer allows the pair; then one
    of the two lines carries modifier 59 or XS and the two lines point to separate
    diagnoses (separate body regions). Lines of other dates are not compared."""
    by_date: dict[object, dict[str, list[CodedLine]]] = {}
    for line in lines:
        if line.code in (MASSAGE, MANUAL_THERAPY):
            by_date.setdefault(line.service_date, {}).setdefault(line.code, []).append(line)
    problems = []
    for when, codes in by_date.items():
        if len(codes) < 2:
            continue
        day = _day(when)
        if not allow_pair:
            problems.append(
                Problem(
                    "code_pair_refused",
                    f"97124 (massage) and 97140 (manual therapy) are both billed on {day}, and "
                    "this payer does not take them on one date: bill the time under one code. "
                    "If the payer allows both with modifier 59 or XS, say so in its settings "
                    "(Clients → Payers).",
                    "claim",
                    MANUAL_THERAPY,
                )
            )
            continue
        pair = codes[MASSAGE] + codes[MANUAL_THERAPY]
        if not any(m in DISTINCT_MODIFIERS for line in pair for m in line.modifiers):
            problems.append(
                Problem(
                    "code_pair_needs_modifier",
                    f"97124 and 97140 on {day}: add modifier 59 or XS to one of the two lines "
                    "(the payer takes both only as separate services).",
                    "claim",
                    MANUAL_THERAPY,
                )
            )
        massage = {p for line in codes[MASSAGE] for p in line.pointers}
        manual = {p for line in codes[MANUAL_THERAPY] for p in line.pointers}
        shared = sorted(massage & manual)
        if shared:
            letters = pointer_letters(shared)
            problems.append(
                Problem(
                    "code_pair_same_region",
                    f"97124 and 97140 on {day} both point to diagnosis {', '.join(letters)}: each "
                    "must point only to the diagnoses of its own body region (separate regions "
                    "documented in the note).",
                    "claim",
                    MANUAL_THERAPY,
                )
            )
    return problems


# --- diagnosis pointers -----------------------------------------------------------------------


def pointer_letters(pointers: Iterable[int]) -> str:
    """1-based pointers as the CMS-1500's box 24E letters: (1, 3) -> 'AC'."""
    return "".join(pointer_letter(p) for p in pointers)


def parse_pointers(text: str) -> tuple[int, ...]:
    """'A, C', 'ac', 'A C' or '1,3' -> (1, 3), in the order typed (primary first).

    Raises ValueError with a message for the form on anything else, repeats, or more
    than four pointers.
    """
    pieces = [p for p in re.split(r"[\s,;]+", (text or "").strip().upper()) if p]
    if len(pieces) == 1 and re.fullmatch(r"[A-L]{2,}", pieces[0]):
        pieces = list(pieces[0])
    out = []
    for piece in pieces:
        if len(piece) == 1 and piece in _LETTERS:
            out.append(_LETTERS.index(piece) + 1)
        elif re.fullmatch(r"[0-9]{1,2}", piece) and 1 <= int(piece) <= MAX_DIAGNOSES:
            out.append(int(piece))
        else:
            raise ValueError(f"“{piece}” is not a diagnosis letter: use A to L, e.g. “A, C”.")
    if len(set(out)) != len(out):
        raise ValueError("Each diagnosis letter once per line.")
    if len(out) > MAX_POINTERS:
        raise ValueError("At most 4 diagnosis letters per line.")
    return tuple(out)


def default_pointers(n_diagnoses: int) -> tuple[int, ...]:
    """The first diagnoses of the claim, primary first, up to four: 3 -> (1, 2, 3)."""
    return tuple(range(1, min(n_diagnoses, MAX_POINTERS) + 1))


def check_line_pointers(pointers: Sequence[int], n_diagnoses: int, line: int) -> list[Problem]:
    """A line points to 1 to 4 of the claim's diagnoses, each once, primary first."""
    where = str(line)
    if not pointers:
        return [
            Problem(
                "pointer_missing",
                f"Line {line}: point it to at least one diagnosis (its primary first).",
                "claim",
                where,
            )
        ]
    problems = []
    if len(pointers) > MAX_POINTERS:
        problems.append(
            Problem(
                "too_many_pointers",
                f"Line {line}: at most 4 diagnosis pointers; keep the 4 that "
                "matter most for this service, primary first.",
                "claim",
                where,
            )
        )
    if len(set(pointers)) != len(pointers):
        problems.append(
            Problem(
                "pointer_repeated",
                f"Line {line}: each diagnosis letter may appear once.",
                "claim",
                where,
            )
        )
    outside = [p for p in pointers if not 1 <= p <= n_diagnoses]
    if outside:
        problems.append(
            Problem(
                "pointer_out_of_range",
                f"Line {line} points to a diagnosis the claim does not list "
                f"(it has {n_diagnoses}): choose among its diagnoses.",
                "claim",
                where,
            )
        )
    return problems


# --- modifiers and place of service -----------------------------------------------------------


def parse_modifiers(text: str | Sequence[str]) -> tuple[str, ...]:
    """'59 xs', '59,XS' or ['59', 'xs'] -> ('59', 'XS'); the shape is checked separately."""
    if isinstance(text, str):
        pieces = re.split(r"[\s,;:]+", text)
    else:
        pieces = list(text)
    return tuple(p.strip().upper() for p in pieces if p and p.strip())


def check_modifiers(modifiers: Sequence[str], line: int) -> list[Problem]:
    """Up to four two-character modifiers per line, none repeated."""
    where = str(line)
    problems = []
    bad = [m for m in modifiers if not _MODIFIER.match(m)]
    if bad:
        problems.append(
            Problem(
                "modifier_invalid",
                f"Line {line}: “{bad[0]}” is not a modifier (two letters or "
                "digits, like 59 or XS).",
                "claim",
                where,
            )
        )
    if len(modifiers) > MAX_MODIFIERS:
        problems.append(
            Problem("too_many_modifiers", f"Line {line}: at most 4 modifiers.", "claim", where)
        )
    if len(set(modifiers)) != len(modifiers):
        problems.append(
            Problem("modifier_repeated", f"Line {line}: each modifier once.", "claim", where)
        )
    return problems


def place_of_service_label(code: str) -> str:
    """'11' -> 'Office'; '' for a code the practice does not use."""
    return PLACES_OF_SERVICE.get(code, "")
