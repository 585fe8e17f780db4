"""The CMS-1500 (02/12) paper claim as plain values: `build(claim) -> Cms1500`.

Every box holds the text the form prints, already written the way the NUCC instructions
ask (capitals; names "LAST, FIRST"; no periods or commas in addresses; dates split into
MM | DD | YY; money split into dollars | cents; telephone numbers without separators;
diagnosis codes without their decimal point), so the print grid (cms1500_grid.py) and the
templates only place strings. Check boxes are booleans or a chosen value.

A claim prints on one form: at most six service lines and twelve diagnoses. Longer visits
are split into claims (parts) before they get here; `build` refuses anything longer.
"""

import re
import unicodedata
from dataclasses import dataclass

from peewee import JOIN

from portal import clock
from portal.models import (
    Claim,
    ClaimDiagnosis,
    ClaimLine,
    ClaimSettings,
    Client,
    InsurancePolicy,
    Payer,
    Practice,
    PriorAuthorization,
    Provider,
    Referral,
)
from portal.rules import coding
from portal.services import reads
from portal.services.claims.data import settings_for

MAX_LINES = coding.MAX_LINES_PER_CLAIM  # 24A-J
MAX_DIAGNOSES = 12  # 21 A-L
MAX_CENTS = 9_999_999  # 24F and 28 hold five digits of dollars
ICD10_INDICATOR = "0"
ONSET_QUALIFIER = "431"  # box 14: onset of current symptoms or illness
OTHER_CLAIM_QUALIFIER = "Y4"  # box 11b: property and casualty (auto, workers' comp) claim number
TAXONOMY_QUALIFIER = "ZZ"  # box 33b
SIGNATURE_ON_FILE = "SIGNATURE ON FILE"
# Box 1, by the payer's kind: auto and workers' comp carriers are "other"; FECA is the
# federal employees' program only.
INSURANCE_TYPES = {
    "medicare": "MEDICARE",
    "medicaid": "MEDICAID",
    "commercial": "GROUP",
    "workers_comp": "OTHER",
    "auto": "OTHER",
    "other": "OTHER",
}
OFFICE = "11"


class Cms1500Error(ValueError):
    """The claim cannot be printed on one form; the message says why and what to do."""


@dataclass(frozen=True)
class Date:
    mm: str = ""
    dd: str = ""
    yy: str = ""  # two digits, or four where the box takes an 8-digit date


@dataclass(frozen=True)
class Money:
    dollars: str = ""
    cents: str = ""


@dataclass(frozen=True)
class Phone:
    area: str = ""
    number: str = ""  # seven digits, no separator


@dataclass(frozen=True)
class Address:
    street: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    phone: Phone = Phone()


@dataclass(frozen=True)
class ServiceLine:
    """24A-J: one service line (the shaded supplemental line above it stays empty)."""

    date_from: Date
    date_to: Date
    place: str  # 24B
    cpt: str  # 24D
    modifiers: tuple[str, ...] = ()  # up to four
    pointers: str = ""  # 24E: diagnosis letters, primary first
    charge: Money = Money()  # 24F
    units: str = ""  # 24G
    npi: str = ""  # 24J: the rendering provider


@dataclass(frozen=True)
class Cms1500:
    # The carrier block above the form: where the claim is mailed.
    payer_name: str = ""
    payer_street: str = ""
    payer_street2: str = ""
    payer_city_state_zip: str = ""
    insurance_type: str = "GROUP"  # 1: MEDICARE, MEDICAID, TRICARE, CHAMPVA, GROUP, FECA, OTHER
    insured_id: str = ""  # 1a
    patient_name: str = ""  # 2
    patient_dob: Date = Date()  # 3
    patient_sex: str = ""  # 3: M or F (blank when unknown)
    insured_name: str = ""  # 4
    patient_address: Address = Address()  # 5
    relationship: str = "SELF"  # 6: SELF, SPOUSE, CHILD, OTHER
    insured_address: Address = Address()  # 7
    other_insured_name: str = ""  # 9
    other_insured_policy: str = ""  # 9a
    other_plan_name: str = ""  # 9d
    employment: bool = False  # 10a
    auto_accident: bool = False  # 10b
    accident_state: str = ""  # 10b PLACE
    other_accident: bool = False  # 10c
    claim_codes: str = ""  # 10d
    group_number: str = ""  # 11
    insured_dob: Date = Date()  # 11a
    insured_sex: str = ""  # 11a
    other_claim_qualifier: str = ""  # 11b, left of the dotted line
    other_claim_id: str = ""  # 11b
    plan_name: str = ""  # 11c
    another_plan: bool = False  # 11d
    patient_signature: str = ""  # 12
    insured_signature: str = ""  # 13
    illness_date: Date = Date()  # 14
    illness_qualifier: str = ""  # 14 QUAL.
    referring_qualifier: str = ""  # 17: DN, DK or DQ
    referring_name: str = ""  # 17
    referring_npi: str = ""  # 17b
    icd_indicator: str = ICD10_INDICATOR  # 21
    diagnoses: tuple[str, ...] = ()  # 21 A-L
    resubmission_code: str = ""  # 22: 7 or 8
    original_ref: str = ""  # 22
    prior_authorization: str = ""  # 23
    lines: tuple[ServiceLine, ...] = ()  # 24
    tax_id: str = ""  # 25
    tax_id_type: str = "EIN"  # 25: EIN or SSN
    account_number: str = ""  # 26
    accept_assignment: bool = True  # 27
    total_charge: Money = Money()  # 28
    amount_paid: Money = Money()  # 29
    physician_signature: str = ""  # 31
    physician_date: Date = Date()  # 31
    facility: Address = Address()  # 32 (street, city/state/zip)
    facility_name: str = ""  # 32
    facility_npi: str = ""  # 32a
    billing_name: str = ""  # 33
    billing: Address = Address()  # 33 and its phone
    billing_npi: str = ""  # 33a
    billing_other_id: str = ""  # 33b: qualifier and number, no space


# --- writing values as the form wants them ---------------------------------------------------

_SPACES = re.compile(r"\s+")


def text(value, drop=".") -> str:
    """Capitals, one space between words, no control characters; `drop` characters removed
    (the NUCC instructions: no periods in names, no periods or commas in addresses)."""
    value = unicodedata.normalize("NFC", str(value or ""))
    value = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in value)
    for ch in drop:
        value = value.replace(ch, "")
    return _SPACES.sub(" ", value).strip().upper()


def name(last, first) -> str:
    last, first = text(last, ".,"), text(first, ".,")
    return f"{last}, {first}" if last and first else last or first


def digits(value) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdigit())


def date(value, year_digits=2) -> Date:
    if value is None:
        return Date()
    year = f"{value.year:04d}"
    return Date(f"{value.month:02d}", f"{value.day:02d}", year[-year_digits:])


def money(cents) -> Money:
    if cents is None:
        return Money()
    if cents < 0:
        raise Cms1500Error("A CMS-1500 has no place for a negative amount.")
    if cents > MAX_CENTS:
        raise Cms1500Error("An amount over $99,999.99 does not fit the form's boxes.")
    return Money(str(cents // 100), f"{cents % 100:02d}")


def phone(value) -> Phone:
    number = digits(value)
    if len(number) == 11 and number.startswith("1"):
        number = number[1:]
    if len(number) != 10:
        return Phone()
    return Phone(number[:3], number[3:])


def city_state_zip(city, state, postal_code) -> str:
    parts = [text(city, ".,"), text(state, ".,"), digits(postal_code)]
    return " ".join(p for p in parts if p)


def address(street, city, state, postal_code, phone_value="") -> Address:
    return Address(
        street=text(street, ".,"),
        city=text(city, ".,"),
        state=text(state, ".,"),
        zip=digits(postal_code),
        phone=phone(phone_value),
    )


def sex(value) -> str:
    return value if value in ("M", "F") else ""


# --- from the models ----------------------------------------------------------------------------


# The claim's parties, selected with it in this order: (model, the claim's attribute).
_PARTIES = (
    (InsurancePolicy, "policy"),
    (Payer, "payer"),
    (Client, "client"),
    (Practice, "practice"),
    (Provider, "provider"),
    (Referral, "referral"),
    (PriorAuthorization, "authorization"),
)


def _claim_query(claim_id, practice_id):
    return (
        Claim.select(Claim, *(model for model, _ in _PARTIES))
        .join(InsurancePolicy, on=(Claim.policy == InsurancePolicy.id))
        .switch(Claim)
        .join(Payer, on=(Claim.payer == Payer.id))
        .switch(Claim)
        .join(Client, on=(Claim.client == Client.id))
        .switch(Claim)
        .join(Practice, on=(Claim.practice == Practice.id))
        .switch(Claim)
        .join(Provider, JOIN.LEFT_OUTER, on=(Claim.provider == Provider.id))
        .switch(Claim)
        .join(Referral, JOIN.LEFT_OUTER, on=(Claim.referral == Referral.id))
        .switch(Claim)
        .join(
            PriorAuthorization,
            JOIN.LEFT_OUTER,
            on=(Claim.authorization == PriorAuthorization.id),
        )
        .where((Claim.id == claim_id) & (Claim.practice == practice_id))
    )


def load_claim(claim_id, practice_id) -> Claim | None:
    """The claim with its policy, payer, client, provider, practice, referral and
    authorization, in one query (None when it is not the practice's). Its SQL is built
    once (services/reads): peewee took longer to build it (180 columns) than the form's
    database reads and layout beside WeasyPrint."""
    values = {"claim_id": claim_id, "practice_id": practice_id}
    found = reads.instances("cms1500.claim", _claim_query, values, Claim, _PARTIES)
    return found[0] if found else None


def check_fits(n_lines: int, n_diagnoses: int) -> None:
    """A form holds 1-6 service lines and up to 12 diagnoses (the database refuses more
    too; this says so in words before anything is drawn)."""
    if n_lines < 1:
        raise Cms1500Error("This claim has no service lines to print.")
    if n_lines > MAX_LINES:
        raise Cms1500Error(
            f"A CMS-1500 holds {MAX_LINES} service lines and this claim has {n_lines}: "
            "split it into claims of six lines or fewer first."
        )
    if n_diagnoses > MAX_DIAGNOSES:
        raise Cms1500Error(
            f"A CMS-1500 holds {MAX_DIAGNOSES} diagnoses and this claim has {n_diagnoses}: "
            "keep the twelve the service lines point to."
        )


def build(claim: Claim, settings: ClaimSettings | None = None) -> Cms1500:
    """The form's values for `claim` (best loaded with load_claim: one query for its parties)."""
    lines = list(claim.lines.order_by(ClaimLine.position))
    codes = [d.code for d in claim.diagnoses.order_by(ClaimDiagnosis.position)]
    check_fits(len(lines), len(codes))
    settings = settings or settings_for(claim.practice_id)
    practice, policy, payer, client = claim.practice, claim.policy, claim.payer, claim.client
    values = {
        **_carrier(payer),
        **_patient_and_insured(claim, policy, client),
        **_other_insurance(claim, policy),
        **_condition(claim, policy),
        **_referral_and_codes(claim, codes),
        **_services(claim, lines, settings),
        **_providers(claim, practice, lines, settings),
    }
    return Cms1500(**values)


def _carrier(payer):
    return {
        "payer_name": text(payer.name),
        "payer_street": text(payer.address1, ".,"),
        "payer_street2": text(payer.address2, ".,"),
        "payer_city_state_zip": city_state_zip(payer.city, payer.state, payer.postal_code),
        "insurance_type": INSURANCE_TYPES.get(payer.kind, "OTHER"),
    }


def _insured(policy, client):
    """(name, address, dob, sex) of the subscriber: the client when the policy is theirs."""
    if policy.relationship == "self":
        return (
            name(client.last_name, client.first_name),
            address(client.address1, client.city, client.state, client.postal_code, client.phone),
            date(client.date_of_birth, 4),
            sex(client.sex),
        )
    return (
        name(policy.subscriber_last_name, policy.subscriber_first_name),
        address(
            policy.subscriber_address1,
            policy.subscriber_city,
            policy.subscriber_state,
            policy.subscriber_postal_code,
        ),
        date(policy.subscriber_dob, 4),
        sex(policy.subscriber_sex),
    )


def _patient_and_insured(claim, policy, client):
    insured_name, insured_address, insured_dob, insured_sex = _insured(policy, client)
    return {
        "insured_id": text(policy.member_id),
        "patient_name": name(client.last_name, client.first_name),
        "patient_dob": date(client.date_of_birth, 4),
        "patient_sex": sex(client.sex),
        "insured_name": insured_name,
        "patient_address": address(
            client.address1, client.city, client.state, client.postal_code, client.phone
        ),
        "relationship": text(policy.relationship) or "SELF",
        "insured_address": insured_address,
        "group_number": text(policy.group_number),
        "insured_dob": insured_dob,
        "insured_sex": insured_sex,
        "plan_name": text(policy.plan_name) or text(claim.payer.name),
    }


def _other_policy(claim, policy):
    """(policy, its payer) of the other insurance: for a secondary claim the primary's; for
    a primary claim the client's secondary coverage on the date of service, if any."""
    if claim.rank == "secondary" and claim.primary_claim_id:
        primary = Claim.get_by_id(claim.primary_claim_id)
        other = primary.policy
        return other, other.payer
    wanted = "primary" if claim.rank == "secondary" else "secondary"
    candidates = (
        InsurancePolicy.select(InsurancePolicy, Payer)
        .join(Payer)
        .where(
            (InsurancePolicy.client == claim.client_id)
            & (InsurancePolicy.id != policy.id)
            & (InsurancePolicy.rank == wanted)
            & InsurancePolicy.active
        )
        .order_by(InsurancePolicy.id)
    )
    for other in candidates:
        if other.covers(claim.service_date):
            return other, other.payer
    return None, None


def _other_insurance(claim, policy):
    other, other_payer = _other_policy(claim, policy)
    if other is None:
        return {"another_plan": False}
    other_name, _, _, _ = _insured(other, claim.client)
    return {
        "other_insured_name": other_name,
        "other_insured_policy": text(other.member_id or other.group_number),
        "other_plan_name": text(other.plan_name) or text(other_payer.name),
        "another_plan": True,
    }


def _condition(claim, policy):
    claim_type = claim.claim_type or policy.claim_type
    accident = claim_type in ("workers_comp", "auto")
    injury = claim.injury_date or (policy.injury_date if accident else None)
    claim_number = claim.accident_claim_number or (policy.claim_number if accident else "")
    return {
        "employment": claim_type == "workers_comp",
        "auto_accident": claim_type == "auto",
        "accident_state": text(claim.accident_state or policy.accident_state)
        if claim_type == "auto"
        else "",
        "other_claim_qualifier": OTHER_CLAIM_QUALIFIER if accident and claim_number else "",
        "other_claim_id": text(claim_number) if accident else "",
        "illness_date": date(injury, 4),
        "illness_qualifier": ONSET_QUALIFIER if injury else "",
    }


def _referral_and_codes(claim, codes):
    values = {
        "diagnoses": tuple(text(code, ".") for code in codes),
        "prior_authorization": text(claim.authorization.number) if claim.authorization_id else "",
    }
    if claim.referral_id:
        ref = claim.referral
        values.update(
            referring_qualifier=text(ref.qualifier) or "DN",
            referring_name=text(ref.referring_name, ".,"),
            referring_npi=digits(ref.referring_npi),
        )
    if claim.frequency_code in ("7", "8"):
        values.update(
            resubmission_code=claim.frequency_code, original_ref=text(claim.payer_claim_number)
        )
    return values


def _services(claim, lines, settings):
    npi = digits(claim.provider.npi) if claim.provider_id else ""
    printed = tuple(
        ServiceLine(
            date_from=date(line.service_date),
            date_to=date(line.service_date),
            place=line.place_of_service or claim.place_of_service,
            cpt=text(line.cpt_code),
            modifiers=tuple(line.modifier_list[: coding.MAX_MODIFIERS]),
            pointers=line.pointer_text[: coding.MAX_POINTERS],
            charge=money(line.charge_cents),
            units=str(line.units),
            npi=npi,
        )
        for line in lines
    )
    if claim.rank == "secondary":
        paid = claim.primary_paid_cents
        if paid is None and claim.primary_claim_id:
            paid = Claim.get_by_id(claim.primary_claim_id).paid_cents
        amount_paid = money(paid or 0)
    else:
        amount_paid = Money()
    return {
        "lines": printed,
        "account_number": text(claim.patient_control_number),
        "total_charge": money(sum(line.charge_cents for line in lines)),
        "amount_paid": amount_paid,
    }


def _signature_date(claim, practice):
    created = claim.created_at or clock.utcnow()
    return clock.local_date(created, practice.tz)


def _providers(claim, practice, lines, settings):
    on_file = bool(settings.signature_on_file)
    values = {
        "patient_signature": SIGNATURE_ON_FILE if on_file else "",
        "insured_signature": SIGNATURE_ON_FILE if on_file else "",
        "physician_signature": SIGNATURE_ON_FILE if on_file else "",
        "physician_date": date(_signature_date(claim, practice)) if on_file else Date(),
        "tax_id": digits(practice.ein),
        "tax_id_type": "EIN",
    }
    places = {line.place_of_service or claim.place_of_service for line in lines}
    if places == {OFFICE}:  # 32: where the services were given, when that is the office
        values.update(
            facility_name=text(practice.name, "."),
            facility=address(
                practice.address1, practice.city, practice.state, practice.postal_code
            ),
            facility_npi=digits(practice.npi),
        )
    billing_address = address(
        practice.address1, practice.city, practice.state, practice.postal_code, practice.phone
    )
    provider = claim.provider if claim.provider_id else None
    if settings.bill_as == "provider" and provider is not None:
        parts = (provider.first_name, provider.last_name, provider.credentials)
        billing_name = " ".join(p for p in (text(part, ".,") for part in parts) if p)
        npi, taxonomy = provider.npi, provider.taxonomy
    else:
        billing_name, npi, taxonomy = text(practice.name, "."), practice.npi, practice.taxonomy
    values.update(
        billing_name=billing_name,
        billing=billing_address,
        billing_npi=digits(npi),
        billing_other_id=f"{TAXONOMY_QUALIFIER}{text(taxonomy)}" if taxonomy else "",
    )
    return values
