"""Building a claim from a visit, the pure parts: line charges, default pointers and
modifiers, and the patient control number (CLM01 / box 26).

How to call (the service reads the models and passes plain values):

    units = coding.units_for_day(note_minutes, payer.unit_rule)   # {code: units}, in order
    line_charges(units, fee_schedule={"97124": 3000}, visit_price_cents=12000)
    -> {"97124": 9000, "97140": 3000}
    default_coding(["97124", "97140"], n_diagnoses=2, allow_pair=True)
    -> {"97124": ((), (1,)), "97140": (("59",), (2,))}          # (modifiers, pointers)
    patient_control_number(appointment_id=1234, rank="primary", part=1)  -> "V1234P1"

Charges (the practice's decision, documented in the README): a code the payer's fee
schedule prices is charged at that fee per unit; a code it does not price is charged its
share of the practice's own price for the visit (the appointment type's price spread over
all the visit's units, largest remainder), so a visit billed wholly at the practice's
price adds up to exactly that price.
"""

import re
from collections.abc import Mapping, Sequence

from portal.rules import coding
from portal.rules.money import split_largest_remainder

PCN_MAX = 20  # CLM01: up to 20 characters (some payers keep fewer; ours stay short)


def line_charges(
    units_by_code: Mapping[str, int],
    fee_schedule: Mapping[str, int],
    visit_price_cents: int,
) -> dict[str, int]:
    """{code: charge cents} for the codes with units, in the order given."""
    if visit_price_cents < 0:
        raise ValueError("the visit's price cannot be negative")
    codes = [code for code, units in units_by_code.items() if units > 0]
    total_units = sum(units_by_code[code] for code in codes)
    if not total_units:
        return {}
    unit_prices = split_largest_remainder(visit_price_cents, total_units)
    out, at = {}, 0
    for code in codes:
        units = units_by_code[code]
        fee = fee_schedule.get(code)
        share = sum(unit_prices[at : at + units])
        at += units
        out[code] = fee * units if fee is not None else share
    return out


def estimate_allowed(
    units_by_code: Mapping[str, int],
    fee_schedule: Mapping[str, int],
    charges: Mapping[str, int],
) -> tuple[int, tuple[str, ...]]:
    """(allowed cents, codes priced at the practice's charge) for the client's estimate:
    the fee schedule's price where it has one, else the line's charge (a payer without a
    fee schedule for the code is taken to allow the practice's charge)."""
    total, unpriced = 0, []
    for code, units in units_by_code.items():
        fee = fee_schedule.get(code)
        if fee is None:
            unpriced.append(code)
            total += charges.get(code, 0)
        else:
            total += fee * units
    return total, tuple(unpriced)


def default_coding(
    codes: Sequence[str], n_diagnoses: int, allow_pair: bool
) -> dict[str, tuple[tuple[str, ...], tuple[int, ...]]]:
    """{code: (modifiers, pointers)} for a visit's lines before anyone edits them.

    Every line points to the claim's first diagnoses (up to four, primary first). When the
    payer takes 97124 with 97140 (with 59/XS and separate regions), and the note gives at
    least two diagnoses, the two lines split them: the one billed first (most minutes)
    gets A, C, E ..., the other B, D, F ..., and 97140 carries modifier 59. With a single
    diagnosis both point to A and the claim is held until someone separates them; a
    payer that refuses the pair is left to the 97124/97140 check.
    """
    base = coding.default_pointers(n_diagnoses)
    out = {code: ((), base) for code in codes}
    pair = coding.MASSAGE in codes and coding.MANUAL_THERAPY in codes
    if not (pair and allow_pair):
        return out
    first, second = sorted(
        (coding.MASSAGE, coding.MANUAL_THERAPY), key=lambda code: list(codes).index(code)
    )
    everyone = range(1, n_diagnoses + 1)
    odd = tuple(p for p in everyone if p % 2 == 1)[: coding.MAX_POINTERS]
    even = tuple(p for p in everyone if p % 2 == 0)[: coding.MAX_POINTERS]
    pointers = {first: odd, second: even or odd}
    for code in (first, second):
        mods = ("59",) if code == coding.MANUAL_THERAPY else ()
        out[code] = (mods, pointers[code] or base)
    return out


def patient_control_number(appointment_id: int, rank: str, part: int, attempt: int = 1) -> str:
    """CLM01 for a visit's claim: V<visit><P|S><part>, and R<n> when the visit is billed
    again after a void (attempt 2, 3 ...). Letters and digits only, at most 20."""
    if rank not in ("primary", "secondary"):
        raise ValueError(f"unknown rank {rank!r}")
    if appointment_id < 1 or part < 1 or attempt < 1:
        raise ValueError("visit, part and attempt are positive numbers")
    pcn = f"V{appointment_id}{'P' if rank == 'primary' else 'S'}{part}"
    if attempt > 1:
        pcn += f"R{attempt}"
    if len(pcn) > PCN_MAX or not re.fullmatch(r"[A-Z0-9]+", pcn):
        raise ValueError(f"patient control number {pcn!r} is not 1-20 letters and digits")
    return pcn


_TITLES = {"dr", "dr.", "doctor", "mr", "mr.", "mrs", "mrs.", "ms", "ms."}
_CREDENTIALS = {"md", "do", "dc", "np", "pa", "pa-c", "dpm", "dds", "phd", "pt", "dpt", "rn"}


def split_provider_name(text: str) -> tuple[str, str]:
    """A referring provider's name as one line -> (first, last) for box 17 / NM1*DN:
    'Dr. Ana Whitfield, MD' -> ('Ana', 'Whitfield'); 'Whitfield, Ana' -> ('Ana',
    'Whitfield'); a single word is the last name. Titles and credentials are dropped."""
    text = " ".join((text or "").split())
    if not text:
        return "", ""
    pieces = [p.strip() for p in text.split(",")]
    last_first = len(pieces) >= 2 and pieces[1] and " " not in pieces[0]
    if last_first and pieces[1].lower() not in _CREDENTIALS:
        name = f"{pieces[1]} {pieces[0]}"  # "Last, First"
    else:
        name = pieces[0]  # "First Last, MD"
    words = [w for w in name.split() if w.lower() not in _TITLES]
    if not words:
        return "", ""
    if len(words) == 1:
        return "", words[0]
    return " ".join(words[:-1]), words[-1]
