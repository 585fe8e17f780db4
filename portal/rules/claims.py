"""A claim as plain data, its checks, and the split of long visits into claims of 6 lines.

Pure: the caller (services) fills a ClaimData from the models and passes the ICD-10-CM
validator in, so nothing here loads the code set. How to call:

    from portal.services import icd10            # in the service layer only
    problems = validate_claim(data, icd10.validate)           # [Problem, ...]; [] = ready
    pieces = split_claim(data)                   # [ClaimData, ...] of at most 6 lines each

Order at claim creation: validate the whole visit's claim once (the 97124/97140 edit and
the minutes checks need every line of a date), then split it and store each piece as a
claim of its own. Each piece needs its own patient control number (the caller sets
`patient_account` per piece: the 835 and the 277CA answer claim by claim).

`icd10_validator(code)` returns a sequence whose first two items are (ok, message), like
services.icd10.validate: ok only for a code that exists and is billable.

Every problem is a rules.problems.Problem (code, message, where, field); `where` names
the page where it is fixed ('policy', 'payer', 'referral', 'authorization', 'note',
'visit', 'practice_settings', 'provider', 'client', 'claim').
"""

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence

from portal.rules import claim_parties, coding
from portal.rules.charting import normalize_cpt
from portal.rules.claim_data import (
    ACCIDENT_CLAIM_TYPES,
    CLAIM_TYPES,
    FREQUENCIES,
    RELATIONSHIPS,
    SEXES,
    TAXONOMY_MASSAGE_THERAPIST,
    US_STATES,
    AuthorizationInfo,
    BillingInfo,
    ClaimData,
    ClaimLine,
    Icd10Validator,
    PayerRules,
    PersonInfo,
    PolicyInfo,
    ProviderInfo,
    ReferralInfo,
    VisitMinutes,
)
from portal.rules.claim_parties import Found
from portal.rules.coverage import day as _day
from portal.rules.icd10 import MAX_DIAGNOSES, pointer_letter
from portal.rules.problems import Problem

__all__ = [  # the data classes are defined in claim_data and offered here too
    "ACCIDENT_CLAIM_TYPES", "CLAIM_TYPES", "FREQUENCIES", "RELATIONSHIPS", "SEXES",
    "TAXONOMY_MASSAGE_THERAPIST", "US_STATES", "AuthorizationInfo", "BillingInfo",
    "ClaimData", "ClaimLine", "Icd10Validator", "PayerRules", "PersonInfo", "PolicyInfo",
    "Problem", "ProviderInfo", "ReferralInfo", "VisitMinutes", "split_claim",
    "validate_claim",
]  # fmt: skip


def _letter(position: int) -> str:
    return pointer_letter(position) if 1 <= position <= MAX_DIAGNOSES else str(position)


# --- diagnoses, lines, totals -----------------------------------------------------------------


def _check_diagnoses(claim: ClaimData, validator: Icd10Validator) -> list[Problem]:
    dx, out = claim.diagnoses, Found()
    if not dx:
        out.add(
            "diagnosis_missing",
            "note",
            "The claim has no diagnosis: the signed note must name at least one ICD-10-CM code.",
        )
        return out
    for n, code in enumerate(dx, start=1):
        result = validator(code)
        if not result[0]:
            out.add(
                "diagnosis_invalid",
                "claim",
                f"Diagnosis {_letter(n)}: {result[1]} "
                "Replace it with a billable code on the claim.",
                code,
            )
    for code in sorted({c for c in dx if dx.count(c) > 1}):
        out.add(
            "diagnosis_repeated",
            "claim",
            f"{code} is listed twice: keep it once and point the lines to it.",
            code,
        )
    pieces = split_claim(claim) if len(claim.lines) > coding.MAX_LINES_PER_CLAIM else [claim]
    if any(len(piece.diagnoses) > MAX_DIAGNOSES for piece in pieces):
        out.add(
            "too_many_diagnoses",
            "claim",
            f"A claim holds at most {MAX_DIAGNOSES} "
            "diagnoses (A to L): keep the ones the services are for.",
        )
    return out


def _check_line(claim: ClaimData, n: int, line: ClaimLine) -> list[Problem]:
    where, out = str(n), Found()
    if normalize_cpt(line.code) != line.code:
        out.add(
            "cpt_invalid",
            "claim",
            f"Line {n}: “{line.code}” is not a CPT or HCPCS code (5 characters, like 97124).",
            where,
        )
    if not isinstance(line.units, int) or line.units < 1:
        out.add(
            "units_invalid",
            "claim",
            f"Line {n}: bill at least 1 unit (a code whose "
            "minutes earn no unit is left off the claim).",
            where,
        )
    if line.charge_cents <= 0:
        out.add(
            "charge_invalid",
            "claim",
            f"Line {n}: enter the charge (the practice's fee or the payer's fee schedule).",
            where,
        )
    if (line.place_of_service or claim.place_of_service) not in coding.PLACES_OF_SERVICE:
        out.add(
            "place_of_service_invalid",
            "claim",
            f"Line {n}: choose the place of service (11 office, 12 home, 02 or 10 telehealth).",
            where,
        )
    out += coding.check_modifiers(line.modifiers, n)
    out += coding.check_line_pointers(line.pointers, len(claim.diagnoses), n)
    return out


def _check_lines(claim: ClaimData) -> list[Problem]:
    out = Found()
    if not claim.lines:
        out.add(
            "lines_missing",
            "note",
            "The claim has no service lines: the signed note's minutes per code make them.",
        )
        return out
    for n, line in enumerate(claim.lines, start=1):
        out += _check_line(claim, n, line)
    out += coding.check_code_pair(claim.lines, claim.payer.allow_97124_97140)
    total = sum(line.charge_cents for line in claim.lines)
    if claim.total_cents != total:
        out.add(
            "total_mismatch",
            "claim",
            "The claim's total is not the sum of its lines "
            f"(${total // 100:,}.{total % 100:02d}): recalculate the total.",
        )
    return out


# --- minutes: check-out, note, units ----------------------------------------------------------


def minutes_text(minutes: Mapping[str, int]) -> str:
    """{"97124": 45, "97140": 15} -> '97124 45 min, 97140 15 min' ('no minutes')."""
    shown = [f"{code} {m} min" for code, m in sorted(minutes.items()) if m]
    return ", ".join(shown) or "no minutes"


def _check_visit(claim: ClaimData, visit: VisitMinutes) -> list[Problem]:
    """The signed note is the record the bill rests on: check-out minutes must agree with it,
    and each code's units must be what its minutes give under the payer's unit rule."""
    day, out = _day(visit.service_date), Found()
    if visit.note_minutes is None:
        out.add(
            "note_not_signed",
            "note",
            f"The visit on {day} has no signed chart note: the "
            "therapist signs it, then the claim takes its minutes and diagnoses.",
        )
        return out
    note = {c: m for c, m in visit.note_minutes.items() if m}
    if visit.checkout_minutes is not None:
        desk = {c: m for c, m in visit.checkout_minutes.items() if m}
        if desk != note:
            out.add(
                "minutes_disagree",
                "visit",
                f"On {day} check-out recorded "
                f"{minutes_text(desk)} but the signed note says {minutes_text(note)}. "
                "The note is the clinical record the claim rests on: correct the check-out "
                "minutes to the note's (if the note is wrong, the therapist adds an "
                "addendum first).",
            )
    expected = coding.units_for_day(note, claim.payer.unit_rule)
    billed: dict[str, int] = {}
    for line in claim.lines:
        if line.service_date == visit.service_date:
            billed[line.code] = billed.get(line.code, 0) + line.units
    for code in sorted(set(expected) | set(billed)):
        want, got = expected.get(code, 0), billed.get(code, 0)
        if want == got:
            continue
        if code not in note:
            out.add(
                "code_not_in_note",
                "claim",
                f"On {day} {code} is billed, but the signed "
                "note records no minutes for it: take the line off the claim.",
                code,
            )
        else:
            out.add(
                "units_disagree_with_note",
                "claim",
                f"On {day} {code} is billed with "
                f"{got} units, but the note's minutes give {want} under this payer's unit "
                f"rule: bill {want}.",
                code,
            )
    return out


def _check_frequency(claim: ClaimData) -> list[Problem]:
    out = Found()
    if claim.frequency not in FREQUENCIES:
        out.add(
            "frequency_invalid",
            "claim",
            "The claim frequency is 1 (original), 7 (corrected) or 8 (void).",
        )
    elif claim.frequency in ("7", "8") and not claim.original_claim_number.strip():
        kind = "corrected" if claim.frequency == "7" else "void"
        out.add(
            "original_claim_number_missing",
            "claim",
            f"A {kind} claim names the payer's "
            "claim number of the original (from its 835 or 277CA): enter it.",
        )
    return out


def _check_secondary(claim: ClaimData) -> list[Problem]:
    out = Found()
    if claim.policy.rank == "secondary" and claim.primary_paid_cents is None:
        out.add(
            "primary_payment_missing",
            "claim",
            "This claim goes to the secondary payer: "
            "post the primary payer's payment (its 835 or by hand) first; the secondary "
            "claim carries it.",
        )
    return out


def validate_claim(claim: ClaimData, icd10_validator: Icd10Validator) -> list[Problem]:
    """Every reason the claim cannot go out yet, in the order of the claim form; [] = ready.

    A claim of more than 6 lines is not a problem: split_claim makes claims of 6. The
    12-diagnosis limit is checked on those pieces.
    """
    out: list[Problem] = []
    out += claim_parties.check_payer(claim)
    out += claim_parties.check_patient(claim)
    out += claim_parties.check_policy(claim)
    out += claim_parties.check_accident(claim)
    out += claim_parties.check_referral(claim)
    out += claim_parties.check_authorization(claim)
    out += _check_diagnoses(claim, icd10_validator)
    out += _check_lines(claim)
    for visit in claim.visits:
        out += _check_visit(claim, visit)
    out += _check_frequency(claim)
    out += _check_secondary(claim)
    out += claim_parties.check_billing(claim)
    out += claim_parties.check_rendering(claim)
    return out


# --- splitting --------------------------------------------------------------------------------


def _chunks(lines: Sequence[ClaimLine], size: int) -> list[list[ClaimLine]]:
    """Lines in groups of at most `size`, a date's lines kept together where they fit."""
    by_date: dict[dt.date, list[ClaimLine]] = {}
    for line in lines:
        by_date.setdefault(line.service_date, []).append(line)
    chunks: list[list[ClaimLine]] = [[]]
    for group in by_date.values():
        if chunks[-1] and len(chunks[-1]) + len(group) > size:
            chunks.append([])
        for line in group:
            if len(chunks[-1]) == size:
                chunks.append([])
            chunks[-1].append(line)
    return chunks


def split_claim(claim: ClaimData, max_lines: int = coding.MAX_LINES_PER_CLAIM) -> list[ClaimData]:
    """The claim as claims of at most `max_lines` lines (a CMS-1500 holds 6).

    A claim that fits is returned as it is ([claim]). Otherwise lines stay in order and a
    date's lines stay on one claim where they fit. Each piece lists only the diagnoses its
    lines point to, in the claim's order (primary first), re-lettered from A, with the
    pointers remapped; its total is the sum of its lines, and it keeps the minutes of the
    dates wholly on it. The caller gives each piece its own patient_account.
    """
    if max_lines < 1:
        raise ValueError("max_lines must be at least 1")
    if len(claim.lines) <= max_lines:
        return [claim]
    on_claim = Counter(line.service_date for line in claim.lines)
    pieces = []
    for chunk in _chunks(claim.lines, max_lines):
        used = sorted(
            {p for line in chunk for p in line.pointers if 1 <= p <= len(claim.diagnoses)}
        )
        new_position = {old: new for new, old in enumerate(used, start=1)}
        lines = tuple(
            dataclasses.replace(
                line, pointers=tuple(new_position[p] for p in line.pointers if p in new_position)
            )
            for line in chunk
        )
        here = Counter(line.service_date for line in chunk)
        whole = {d for d, n in here.items() if n == on_claim[d]}  # dates wholly on this piece
        pieces.append(
            dataclasses.replace(
                claim,
                diagnoses=tuple(claim.diagnoses[p - 1] for p in used),
                lines=lines,
                total_cents=sum(line.charge_cents for line in lines),
                visits=tuple(v for v in claim.visits if v.service_date in whole),
            )
        )
    return pieces
