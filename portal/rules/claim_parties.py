"""Claim checks about who is on the claim: client, policy, accident, payer, providers,
referral and authorization. Called by rules.claims.validate_claim; each function takes a
ClaimData and returns a list of Problems (empty when all is well)."""

import datetime as dt
import re

from portal.rules import coverage, npi
from portal.rules.claim_data import (
    ACCIDENT_CLAIM_TYPES,
    CLAIM_TYPES,
    RELATIONSHIPS,
    SEXES,
    US_STATES,
    ClaimData,
)
from portal.rules.problems import Problem


class Found(list):
    """Problems found so far; add(code, where, message, field='') keeps the calls short."""

    def add(self, code: str, where: str, message: str, field: str = "") -> None:
        self.append(Problem(code, message, where, field))


def _full(*parts: str) -> bool:
    return all(p.strip() for p in parts)


def service_days(claim: ClaimData) -> list[dt.date]:
    return sorted({line.service_date for line in claim.lines})


def check_patient(claim: ClaimData) -> list[Problem]:
    p, out = claim.patient, Found()
    if not _full(p.first_name, p.last_name):
        out.add(
            "patient_name_missing",
            "client",
            "Enter the client's first and last name as on the insurance card.",
        )
    if p.dob is None:
        out.add("patient_dob_missing", "client", "Enter the client's date of birth.")
    if p.sex not in SEXES:
        out.add(
            "patient_sex_missing",
            "client",
            "Enter the client's sex as the payer has it (female, male or unknown).",
        )
    if not _full(p.address1, p.city, p.state, p.postal_code):
        out.add(
            "patient_address_missing",
            "client",
            "Enter the client's full address (street, city, state, ZIP code).",
        )
    return out


def check_policy(claim: ClaimData) -> list[Problem]:
    pol, out = claim.policy, Found()
    if not pol.member_id.strip():
        out.add("member_id_missing", "policy", "Enter the member ID from the insurance card.")
    if pol.relationship not in RELATIONSHIPS:
        out.add(
            "relationship_invalid",
            "policy",
            "Choose the client's relationship to the subscriber (self, spouse, child or other).",
        )
    elif pol.relationship != "self":
        sub = claim.subscriber
        if sub is None or not _full(sub.first_name, sub.last_name):
            out.add(
                "subscriber_missing",
                "policy",
                "The client is not the subscriber: enter the subscriber's name on the policy.",
            )
    for when in service_days(claim):
        before = pol.effective_date is not None and when < pol.effective_date
        after = pol.end_date is not None and when > pol.end_date
        if before or after:
            out.add(
                "policy_not_in_force",
                "policy",
                f"The policy does not cover "
                f"{coverage.day(when)} (outside its dates): check the policy's dates, or "
                "bill the policy that covered that day.",
            )
            break
    if pol.claim_type not in CLAIM_TYPES:
        out.add(
            "claim_type_invalid",
            "policy",
            "Choose the claim type on the policy (health "
            "insurance, workers' compensation or auto).",
        )
    return out


def check_accident(claim: ClaimData) -> list[Problem]:
    """Workers' compensation and auto claims: injury date, claim number; auto: the state."""
    pol, out = claim.policy, Found()
    if pol.claim_type not in ACCIDENT_CLAIM_TYPES:
        return out
    kind = "work injury" if pol.claim_type == "workers_comp" else "auto accident"
    if pol.injury_date is None:
        out.add(
            "injury_date_missing",
            "policy",
            f"This is a {kind} claim: enter the date of the injury or accident on the policy.",
        )
    elif any(line.service_date < pol.injury_date for line in claim.lines):
        out.add(
            "injury_date_after_service",
            "policy",
            "The injury date on the policy is after a date of service: correct the injury date.",
        )
    if not pol.claim_number.strip():
        out.add(
            "claim_number_missing",
            "policy",
            f"This is a {kind} claim: enter the insurer's claim number on the policy.",
        )
    if pol.claim_type == "auto" and pol.accident_state.strip().upper() not in US_STATES:
        out.add(
            "accident_state_missing",
            "policy",
            "This is an auto accident claim: enter the "
            "state where the accident happened (two letters, e.g. NY) on the policy.",
        )
    return out


def check_payer(claim: ClaimData) -> list[Problem]:
    out = Found()
    if claim.electronic and not claim.payer.payer_id.strip():
        out.add(
            "payer_id_missing",
            "payer",
            f"Enter {claim.payer.name}'s payer ID (from the "
            "clearinghouse's payer list) in the payer's settings.",
        )
    return out


def _tax_id_ok(tax_id: str, kind: str) -> bool:
    if kind == "ein":
        return npi.is_valid_ein(tax_id)
    return kind == "ssn" and bool(re.fullmatch(r"\d{9}", re.sub(r"[\s-]", "", tax_id)))


def check_billing(claim: ClaimData) -> list[Problem]:
    """The billing provider: NPI, tax ID (box 25), address (box 33; 9-digit ZIP for 837P)."""
    b, out = claim.billing, Found()
    if not npi.is_valid_npi(b.npi):
        out.add(
            "billing_npi_invalid",
            "practice_settings",
            f"The billing NPI “{b.npi}” is "
            "not a valid NPI (10 digits with a check digit): correct it in the practice "
            "settings.",
        )
    if not _tax_id_ok(b.tax_id, b.tax_id_kind):
        out.add(
            "tax_id_invalid",
            "practice_settings",
            "Enter the practice's federal tax ID "
            "(an EIN like 12-3456789, or an SSN) in the practice settings.",
        )
    if not _full(b.address1, b.city, b.state, b.postal_code):
        out.add(
            "billing_address_missing",
            "practice_settings",
            "Enter the practice's billing "
            "address (street, city, state, ZIP code) in the practice settings.",
        )
    elif claim.electronic and len(re.sub(r"\D", "", b.postal_code)) != 9:
        out.add(
            "billing_zip_incomplete",
            "practice_settings",
            "Electronic claims need the "
            "billing address's full 9-digit ZIP code (ZIP+4): enter it in the practice "
            "settings.",
        )
    return out


def check_rendering(claim: ClaimData) -> list[Problem]:
    r, out = claim.rendering, Found()
    if r is not None and not npi.is_valid_npi(r.npi):
        name = f"{r.first_name} {r.last_name}".strip() or "the rendering provider"
        out.add(
            "rendering_npi_invalid",
            "provider",
            f"The NPI of {name} (“{r.npi}”) is not a valid NPI: correct it in their profile.",
        )
    return out


# --- referral and authorization ---------------------------------------------------------------

_STATE_WORDS = {
    "not_started": "is not valid yet on {day}",
    "expired": "had expired by {day}",
    "used_up": "has no visits left for {day}",
}


def _first_unusable(start, end, allowed, used, days):
    """(state, day) for the first service day the referral/authorization cannot carry:
    each day of the claim uses one visit after the `used` ones."""
    for i, when in enumerate(days):
        state, _ = coverage.state(start, end, allowed, used + i, when)
        if state not in coverage.OK_STATES:
            return state, when
    return None, None


def check_referral(claim: ClaimData) -> list[Problem]:
    """A referral is needed when the payer requires one; its provider goes in box 17 / 2310A,
    so a referral on the claim always needs a name and a valid NPI."""
    ref, out = claim.referral, Found()
    if ref is None:
        if claim.payer.referral_required:
            out.add(
                "referral_missing",
                "referral",
                f"{claim.payer.name} requires a "
                "physician's referral: enter the client's referral (referring provider, "
                "NPI, date).",
            )
        return out
    if not _full(ref.referring_first_name, ref.referring_last_name):
        out.add(
            "referring_name_missing",
            "referral",
            "Enter the referring provider's first and last name on the referral.",
        )
    if not npi.is_valid_npi(ref.npi):
        out.add(
            "referring_npi_invalid",
            "referral",
            f"The referring provider's NPI "
            f"“{ref.npi}” is not a valid NPI: correct it on the referral.",
        )
    if ref.qualifier not in ("DN", "DK", "DQ"):
        out.add(
            "referring_qualifier_invalid",
            "referral",
            "Choose whether the provider on the referral is referring, ordering or supervising.",
        )
    if claim.payer.referral_required:
        state, when = _first_unusable(
            ref.referral_date,
            ref.end_date,
            ref.visits_allowed,
            ref.visits_used,
            service_days(claim),
        )
        if state:
            name = f"{ref.referring_first_name} {ref.referring_last_name}".strip()
            out.add(
                f"referral_{state}",
                "referral",
                f"The referral from "
                f"{name or 'the physician'} "
                f"{_STATE_WORDS[state].format(day=coverage.day(when))}: enter a new or "
                "extended referral.",
            )
    return out


def check_authorization(claim: ClaimData) -> list[Problem]:
    """A prior authorization, when required or given: number (box 23 / REF*G1), dates, visits."""
    auth, out = claim.authorization, Found()
    if auth is None:
        if claim.payer.authorization_required:
            out.add(
                "authorization_missing",
                "authorization",
                f"{claim.payer.name} requires a "
                "prior authorization: enter its number, visits and dates.",
            )
        return out
    if not auth.number.strip():
        out.add(
            "authorization_number_missing",
            "authorization",
            "Enter the prior authorization's number (it goes in box 23 of the claim).",
        )
    state, when = _first_unusable(
        auth.start_date, auth.end_date, auth.visits_allowed, auth.visits_used, service_days(claim)
    )
    if state:
        number = f" {auth.number.strip()}" if auth.number.strip() else ""
        out.add(
            f"authorization_{state}",
            "authorization",
            f"The prior authorization{number} "
            f"{_STATE_WORDS[state].format(day=coverage.day(when))}: ask the payer for a new "
            "or extended authorization and enter it.",
        )
    return out
