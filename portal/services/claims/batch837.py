"""Claims as the 837P writer reads them: the models turned into portal.x12.claim837's
plain dataclasses, in a handful of queries whatever the number of claims.

    loaded = load_claims(Claim.select().where(...), tz)   # [Loaded]: claim, diagnoses, lines
    x12_claim = to_x12_claim(loaded_claim, billing_npi)
    billing = billing_provider(practice, settings, provider)
    submitter, receiver, envelope = parties(practice, connection)   # BatchError if missing

No writes here: batches.py numbers, writes and stores the file.
"""

import dataclasses
import datetime as dt

from peewee import JOIN

from portal import clock
from portal.models.claims import (
    Claim,
    ClaimDiagnosis,
    ClaimLine,
)
from portal.models.insurance import InsurancePolicy, Payer, PriorAuthorization, Referral
from portal.models.people import Client
from portal.models.practice import Provider
from portal.rules import claim_money, claim_status
from portal.rules.claim_build import split_provider_name
from portal.rules.coding import parse_modifiers, parse_pointers
from portal.services.claims import filing, queries
from portal.x12 import claim837 as x

SETTINGS_PAGE = "Settings → Clearinghouse"


class BatchError(Exception):
    """A batch that cannot be built; the message says what to fix and where."""


@dataclasses.dataclass
class Loaded:
    """A claim with what hangs from it, read in bulk."""

    claim: Claim
    diagnoses: list[str]
    lines: list[ClaimLine]
    primary: "Loaded | None" = None
    primary_postings: list = dataclasses.field(default_factory=list)
    primary_paid_date: dt.date | None = None  # DTP*573: see _paid_date


def _chunks(ids, size=500):
    ids = list(ids)
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def load_claims(query, tz):
    """[Loaded] for the claims `query` selects (a Claim select), with client, policy, payer,
    provider, referral and authorization joined, diagnoses and lines read in bulk, and, for
    secondary claims, their primary claim with its postings and the date it was paid (the
    day of its answers in the practice's zone `tz`)."""
    rows = list(
        query.select_extend(Client, InsurancePolicy, Payer, Provider, Referral, PriorAuthorization)
        .join_from(Claim, Client, on=(Claim.client == Client.id))
        .join_from(Claim, InsurancePolicy, on=(Claim.policy == InsurancePolicy.id))
        .join_from(Claim, Payer, on=(Claim.payer == Payer.id))
        .join_from(Claim, Provider, JOIN.LEFT_OUTER, on=(Claim.provider == Provider.id))
        .join_from(Claim, Referral, JOIN.LEFT_OUTER, on=(Claim.referral == Referral.id))
        .join_from(
            Claim,
            PriorAuthorization,
            JOIN.LEFT_OUTER,
            on=(Claim.authorization == PriorAuthorization.id),
        )
        .order_by(Claim.service_date, Claim.id)
    )
    return _attach(rows, tz)


def _attach(claims, tz):
    ids = [c.id for c in claims]
    dx, lines = {}, {}
    for chunk in _chunks(ids):
        for d in (
            ClaimDiagnosis.select(ClaimDiagnosis.claim, ClaimDiagnosis.code)
            .where(ClaimDiagnosis.claim.in_(chunk))
            .order_by(ClaimDiagnosis.claim, ClaimDiagnosis.position)
        ):
            dx.setdefault(d.claim_id, []).append(d.code)
        for line in (
            ClaimLine.select().where(ClaimLine.claim.in_(chunk)).order_by(ClaimLine.position)
        ):
            lines.setdefault(line.claim_id, []).append(line)
    out = [Loaded(c, dx.get(c.id, []), lines.get(c.id, [])) for c in claims]
    primaries = [o for o in out if o.claim.primary_claim_id]
    if primaries:
        wanted = {o.claim.primary_claim_id for o in primaries}
        found = {
            p.claim.id: p for p in load_claims(Claim.select().where(Claim.id.in_(list(wanted))), tz)
        }
        postings = _postings_of(list(wanted), tz)
        answers = filing.answers_by_claim(wanted, tz)
        for o in primaries:
            o.primary = found.get(o.claim.primary_claim_id)
            o.primary_postings = postings.get(o.claim.primary_claim_id, [])
            if o.primary is not None:
                o.primary_paid_date = _paid_date(
                    o.primary.claim, answers.get(o.claim.primary_claim_id, ()), tz
                )
    return out


def _paid_date(primary, answers, tz):
    """The date the secondary's 837P says the primary payer paid (DTP*573): the day of the
    primary's latest answer (filing.answers_by_claim: the 835's payment date, or the date
    typed by hand, else the day posted in the practice's zone), whose money the 837P
    reports. None on record (a claim answered before its history kept answers): the local
    day it was last adjudicated."""
    latest = filing.latest_day(answers)
    if latest is not None:
        return latest
    return clock.local_date(primary.adjudicated_at or primary.updated_at or primary.created_at, tz)


def _postings_of(claim_ids, tz):
    """{claim id: [(posting, [adjustments], day)]} in posting order; `day` is the date of
    the answer the posting belongs to (filing's rule: its 835's payment date, or the date
    typed by hand, else the day it was posted in the practice's zone `tz`)."""
    postings, adjustments = queries.postings_of(claim_ids)
    out = {}
    for p in postings:
        day = p.payment_date or p.paid_on or clock.local_date(p.created_at, tz)
        out.setdefault(p.claim_id, []).append((p, adjustments.get(p.id, []), day))
    return out


# --- parties ---------------------------------------------------------------------------------


def _address(obj, prefix=""):
    def get(name):
        return (getattr(obj, prefix + name, "") or "").strip()

    if not (get("address1") and get("city") and get("state") and get("postal_code")):
        return None
    return x.Address(
        get("address1"), get("city"), get("state"), get("postal_code"), get("address2")
    )


def _sex(value):
    return value if value in ("F", "M") else "U"


def billing_provider(practice, settings, provider=None):
    """Loop 2010AA: the practice (its NPI and EIN), or the therapist when the practice
    bills under each provider's own NPI (ClaimSettings.bill_as)."""
    address = _address(practice)
    if address is None:
        raise BatchError(
            "Enter the practice's billing address (street, city, state, ZIP+4) in the "
            "practice settings before building an 837P file."
        )
    if settings.bill_as == "provider" and provider is not None:
        return x.BillingProvider(
            provider.last_name,
            provider.npi,
            practice.ein,
            address,
            first_name=provider.first_name,
            taxonomy=provider.taxonomy or practice.taxonomy,
        )
    return x.BillingProvider(
        practice.name, practice.npi, practice.ein, address, taxonomy=practice.taxonomy
    )


def parties(practice, conn):
    """(Submitter, Receiver, envelope ids) from the practice's clearinghouse settings."""
    missing = []
    if conn is not None:
        for label, value in (
            ("sender id (ISA06)", conn.isa_sender_id),
            ("receiver id (ISA08)", conn.isa_receiver_id),
            ("submitter id (loop 1000A)", conn.submitter_id),
            ("receiver name (loop 1000B)", conn.receiver_name),
            ("receiver id (loop 1000B)", conn.receiver_id),
        ):
            if not (value or "").strip():
                missing.append(label)
    if conn is None or missing:
        what = ", ".join(missing) if missing else "the submitter and receiver ids"
        raise BatchError(
            f"An 837P file needs the ids your clearinghouse gave you: enter {what} under "
            f"{SETTINGS_PAGE}."
        )
    if not (practice.phone or practice.email):
        raise BatchError(
            "An 837P file names a contact: enter the practice's phone or e-mail in the "
            "practice settings."
        )
    submitter = x.Submitter(
        practice.name, conn.submitter_id, practice.name, phone=practice.phone,
        email=practice.email if not practice.phone else "",
    )  # fmt: skip
    receiver = x.Receiver(conn.receiver_name, conn.receiver_id)
    envelope = {
        "interchange_sender": conn.isa_sender_id,
        "interchange_receiver": conn.isa_receiver_id,
        "application_sender": conn.gs_sender_code,
        "application_receiver": conn.gs_receiver_code,
        "sender_qualifier": conn.isa_sender_qualifier or "ZZ",
        "receiver_qualifier": conn.isa_receiver_qualifier or "ZZ",
        "usage": conn.usage_indicator if conn.usage_indicator in ("P", "T") else "T",
    }
    return submitter, receiver, envelope


# --- one claim -------------------------------------------------------------------------------


def _client_person(client):
    return x.Person(
        client.last_name, client.first_name, dob=client.date_of_birth, sex=_sex(client.sex),
        address=_address(client),
    )  # fmt: skip


def _subscriber_person(policy, client):
    if policy.relationship == "self":
        return _client_person(client)
    return x.Person(
        policy.subscriber_last_name,
        policy.subscriber_first_name,
        dob=policy.subscriber_dob,
        sex=_sex(policy.subscriber_sex),
        address=_address(policy, "subscriber_") or _address(client),
    )


def _payer(payer):
    return x.Payer(payer.name, payer.payer_code, _address(payer))


def _accident(claim):
    if claim.claim_type == "auto":
        return x.Accident("AA", claim.injury_date, claim.accident_state)
    if claim.claim_type == "workers_comp":
        return x.Accident("EM", claim.injury_date)
    return None


def _referring(claim):
    ref = claim.referral if claim.referral_id else None
    if ref is None:
        return None
    first, last = split_provider_name(ref.referring_name)
    return x.Provider(last, first, ref.referring_npi, qualifier=ref.qualifier or "DN")


def _rendering(claim):
    p = claim.provider if claim.provider_id else None
    if p is None:
        return None
    return x.Provider(p.last_name, p.first_name, p.npi, taxonomy=p.taxonomy)


def line_control_number(line):
    """REF*6R: the 835 gives it back per service line, so a payment finds its line."""
    return f"L{line.id}"


def _lines(loaded):
    claim = loaded.claim
    return tuple(
        x.ServiceLine(
            line.cpt_code,
            line.charge_cents,
            line.units,
            tuple(parse_pointers(line.pointers)),
            line.service_date,
            modifiers=tuple(parse_modifiers(line.modifiers)),
            place_of_service=line.place_of_service or claim.place_of_service,
            control_number=line_control_number(line),
        )
        for line in loaded.lines
    )


def _net(adjustments):
    """A reversed answer and its correction add up to what the payer decided last: the
    secondary payer is told the net per group and reason, not every posting's."""
    netted = claim_money.net_adjustments(adjustments)
    return tuple(x.Adjustment(a.group, a.reason, a.cents) for a in netted)


def _other_payer(loaded):
    """Loops 2320/2330 of a secondary claim: the primary payer and what it paid; per line
    the primary answered (2430), the net of its postings on the line (a reversal and its
    correction: what the payer decided last) and the day of the latest answer that
    adjudicated that line, which may be earlier than the claim's latest answer (another
    line re-adjudicated later)."""
    primary = loaded.primary
    if primary is None:
        return ()
    pclaim = primary.claim
    positions = {line.id: line.position for line in primary.lines}
    paid_date = loaded.primary_paid_date
    claim_level, by_line = [], {}
    for posting, adjustments, day in loaded.primary_postings:
        adjs = [claim_money.Adj(a.group_code, a.reason_code, a.amount_cents) for a in adjustments]
        position = positions.get(posting.claim_line_id)
        if position is None:
            claim_level.extend(adjs)
            continue
        paid, got, _ = by_line.get(position, (0, [], day))
        by_line[position] = (paid + posting.paid_cents, got + adjs, day)
    policy = pclaim.policy
    line_adjudications = tuple(
        x.LineAdjudication(n, paid, day, _net(adjs))
        for n, (paid, adjs, day) in sorted(by_line.items())
    )
    return (
        x.OtherPayer(
            payer=_payer(pclaim.payer),
            subscriber=_subscriber_person(policy, pclaim.client),
            member_id=policy.member_id,
            paid_cents=pclaim.paid_cents,
            paid_date=paid_date,
            relationship=policy.relationship,
            filing_indicator=x.filing_indicator(pclaim.payer.kind, pclaim.claim_type),
            group_number=policy.group_number,
            adjustments=_net(claim_level),
            lines=line_adjudications,
        ),
    )


def to_x12_claim(loaded):
    """One claim as loop 2000B-2400 data."""
    claim, policy, client = loaded.claim, loaded.claim.policy, loaded.claim.client
    subscriber = x.Subscriber(
        _subscriber_person(policy, client),
        policy.member_id,
        group_number=policy.group_number,
        group_name=policy.plan_name if not policy.group_number else "",
        responsibility="S" if claim.rank == "secondary" else "P",
        filing_indicator=x.filing_indicator(claim.payer.kind, claim.claim_type),
        property_casualty_claim_number=claim.accident_claim_number
        if claim.claim_type in ("auto", "workers_comp")
        else "",
    )
    is_self = policy.relationship == "self"
    corrected = claim.frequency_code in (claim_status.CORRECTED, claim_status.VOIDED)
    return x.Claim(
        claim.patient_control_number,
        subscriber,
        _payer(claim.payer),
        tuple(loaded.diagnoses),
        _lines(loaded),
        place_of_service=claim.place_of_service,
        patient=None if is_self else _client_person(client),
        relationship=policy.relationship,
        frequency=claim.frequency_code,
        original_claim_number=claim.payer_claim_number if corrected else "",
        accident=_accident(claim),
        prior_authorization=claim.authorization.number if claim.authorization_id else "",
        referring=_referring(claim),
        rendering=_rendering(claim),
        other_payers=_other_payer(loaded),
    )


def local_now(practice, now_utc):
    """The practice's wall clock, for the file's ISA/GS/BHT date and time."""
    return clock.to_local(now_utc, practice.tz).replace(tzinfo=None)
