"""The models as the claim rules read them: a stored claim (or a visit about to become
one) as rules.claim_data.ClaimData, and the parts each comes from.

    data = claim_data(claim)                    # everything on the claim, read now
    data = claim_data(claim, electronic=True)   # as an 837P will carry it
    problems = rules.claims.validate_claim(data, icd10.validate)

What the claim row keeps (lines, diagnoses, place of service, referral and authorization,
accident fields, frequency) is read from it; who the patient, subscriber, payer and
billing provider are is read from the client, policy, payer and practice as they are now,
so a fix made on those pages shows on the claim at its next check.
"""

from portal.models import (
    AppointmentMinutes,
    Claim,
    ClaimDiagnosis,
    ClaimLine,
    ClaimSettings,
    ClearinghouseConnection,
    InsurancePolicy,
    PayerFee,
    PriorAuthorization,
    Referral,
)
from portal.rules import claim_status, coding
from portal.rules import claims as rules
from portal.rules.claim_build import split_provider_name
from portal.rules.coverage import OK_STATES
from portal.rules.coverage import state as coverage_state
from portal.services import charting, coverage


def settings_for(practice_id) -> ClaimSettings:
    """The practice's claim settings: its row, or the defaults (unsaved) until the practice
    saves some, so reading them never writes. The one reader for claims, paper forms and
    837P files alike."""
    found = ClaimSettings.get_or_none(ClaimSettings.practice == practice_id)
    return found or ClaimSettings(practice=practice_id)


def is_electronic(practice_id):
    """Claims go out as 837P when the practice has set up its clearinghouse; otherwise on
    paper (CMS-1500), where the payer ID and the ZIP+4 are not needed."""
    conn = ClearinghouseConnection.get_or_none(ClearinghouseConnection.practice == practice_id)
    return bool(conn and conn.is_configured)


def fee_schedule(payer_id):
    return {
        f.cpt_code: f.fee_cents
        for f in PayerFee.select(PayerFee.cpt_code, PayerFee.fee_cents).where(
            PayerFee.payer == payer_id
        )
    }


# --- who is on the claim ----------------------------------------------------------------------


def payer_rules(payer, verification=None):
    """The payer's settings; the latest verification may add a referral or authorization
    requirement the payer's settings do not have."""
    return rules.PayerRules(
        name=payer.name,
        payer_id=payer.payer_code,
        kind=payer.kind,
        referral_required=payer.referral_required
        or bool(verification and verification.referral_required),
        authorization_required=payer.authorization_required
        or bool(verification and verification.authorization_required),
        unit_rule=payer.unit_rule if payer.unit_rule in coding.UNIT_RULES else coding.CMS8,
        allow_97124_97140=payer.allow_97124_97140,
    )


def patient_info(client):
    return rules.PersonInfo(
        first_name=client.first_name,
        last_name=client.last_name,
        dob=client.date_of_birth,
        sex=client.sex or "",
        address1=client.address1,
        address2=client.address2,
        city=client.city,
        state=client.state,
        postal_code=client.postal_code,
    )


def subscriber_info(policy, client):
    """None when the client is the subscriber. A subscriber without an address of their own
    is taken to live with the client (a spouse or a child's parent, usually)."""
    if policy.relationship == "self":
        return None
    own = bool(policy.subscriber_address1.strip())
    return rules.PersonInfo(
        first_name=policy.subscriber_first_name,
        last_name=policy.subscriber_last_name,
        dob=policy.subscriber_dob,
        sex=policy.subscriber_sex or "",
        address1=policy.subscriber_address1 if own else client.address1,
        address2=policy.subscriber_address2 if own else client.address2,
        city=policy.subscriber_city if own else client.city,
        state=policy.subscriber_state if own else client.state,
        postal_code=policy.subscriber_postal_code if own else client.postal_code,
    )


def policy_info(policy, claim=None):
    """The policy; a stored claim's own accident fields (copied from the policy when the
    claim was made, editable on the claim) take the place of the policy's."""
    src = claim if claim is not None else policy
    return rules.PolicyInfo(
        member_id=policy.member_id,
        relationship=policy.relationship,
        rank=claim.rank if claim is not None else policy.rank,
        group_number=policy.group_number,
        effective_date=policy.effective_date,
        end_date=policy.end_date,
        claim_type=src.claim_type,
        claim_number=claim.accident_claim_number if claim is not None else policy.claim_number,
        injury_date=src.injury_date,
        accident_state=src.accident_state,
        employer_name=policy.employer_name,
    )


def billing_info(practice, provider, settings):
    """Box 25/33 and loop 2010AA: the practice (its NPI and EIN), or the therapist billing
    under their own NPI (still with the practice's tax ID and address)."""
    as_provider = settings.bill_as == "provider" and provider is not None
    return rules.BillingInfo(
        name=provider.display_name if as_provider else practice.name,
        npi=provider.npi if as_provider else practice.npi,
        tax_id=practice.ein,
        address1=practice.address1,
        city=practice.city,
        state=practice.state,
        postal_code=practice.postal_code,
        taxonomy=(provider.taxonomy if as_provider else practice.taxonomy)
        or rules.TAXONOMY_MASSAGE_THERAPIST,
    )


def rendering_info(provider, settings):
    """Box 24J / loop 2310B: the therapist, when the practice bills (None when the
    therapist is the billing provider: the 837P leaves the loop out then)."""
    if provider is None or settings.bill_as == "provider":
        return None
    return rules.ProviderInfo(
        first_name=provider.first_name,
        last_name=provider.last_name,
        npi=provider.npi,
        taxonomy=provider.taxonomy or rules.TAXONOMY_MASSAGE_THERAPIST,
    )


# --- referral and authorization -----------------------------------------------------------


def visits_before(appointment, start_date, policy_id=None):
    """Completed insurance-billed visits of the client from `start_date` (local) up to this
    visit, this one left out, billed to the policy `policy_id` (None: any): what a referral
    or authorization of that policy had used before it (services.coverage counts them)."""
    return coverage.visits_before(appointment, start_date, policy_id)


def referral_info(ref, appointment):
    first, last = split_provider_name(ref.referring_name)
    used = (ref.visits_used_before or 0) + (
        visits_before(appointment, ref.referral_date, ref.policy_id)
        if appointment is not None
        else 0
    )
    return rules.ReferralInfo(
        referring_first_name=first,
        referring_last_name=last,
        npi=ref.referring_npi,
        referral_date=ref.referral_date,
        end_date=ref.end_date,
        visits_allowed=ref.visits_allowed,
        visits_used=used,
        qualifier=ref.qualifier or "DN",
    )


def authorization_info(auth, appointment):
    used = (auth.visits_used_before or 0) + (
        visits_before(appointment, auth.start_date, auth.policy_id)
        if appointment is not None
        else 0
    )
    return rules.AuthorizationInfo(
        number=auth.number,
        start_date=auth.start_date,
        end_date=auth.end_date,
        visits_allowed=auth.visits_allowed,
        visits_used=used,
    )


def _documents(model, client_id, policy):
    return list(
        model.select()
        .where(
            (model.client == client_id)
            & model.active
            & ((model.policy == policy.id) | model.policy.is_null())
        )
        .order_by(model.id.desc())
    )


def _usable(info, start, service_date):
    state, _ = coverage_state(
        start, info.end_date, info.visits_allowed, info.visits_used, service_date
    )
    return state in OK_STATES


def referral_usable(ref, appointment, service_date):
    info = referral_info(ref, appointment)
    return _usable(info, info.referral_date, service_date)


def authorization_usable(auth, appointment, service_date):
    info = authorization_info(auth, appointment)
    return _usable(info, info.start_date, service_date)


def pick_referral(client_id, policy, appointment, service_date, required):
    """The referral that applies to this visit: the newest in its dates with a visit left
    for it (not counting this one). When the payer requires one and none is usable, the
    newest on file, so the claim says why it cannot carry the visit."""
    rows = _documents(Referral, client_id, policy)
    for row in rows:
        info = referral_info(row, appointment)
        if _usable(info, info.referral_date, service_date):
            return row
    return rows[0] if rows and required else None


def pick_authorization(client_id, policy, appointment, service_date, required):
    """Like pick_referral, for prior authorizations (box 23 / REF*G1)."""
    rows = _documents(PriorAuthorization, client_id, policy)
    for row in rows:
        info = authorization_info(row, appointment)
        if _usable(info, info.start_date, service_date):
            return row
    return rows[0] if rows and required else None


# --- minutes --------------------------------------------------------------------------------


def checkout_minutes(appointment_id):
    """Minutes per code recorded at check-out, or None when none were."""
    rows = AppointmentMinutes.select(AppointmentMinutes.cpt_code, AppointmentMinutes.minutes).where(
        AppointmentMinutes.appointment == appointment_id
    )
    found = {r.cpt_code: r.minutes for r in rows}
    return found or None


def visit_minutes(appointment, service_date, coding_=None):
    """The visit's minutes: the signed note's (None without one) and check-out's."""
    coding_ = coding_ if coding_ is not None else charting.visit_coding(appointment.id)
    return rules.VisitMinutes(
        service_date=service_date,
        note_minutes=dict(coding_["minutes"]) if coding_ else None,
        checkout_minutes=checkout_minutes(appointment.id),
    )


# --- a stored claim ----------------------------------------------------------------------


def _holds_whole_visit(claim):
    """False for a part of a visit split over several claims: the minutes and units
    checks need every line of the date, so they ran when the visit was split."""
    if claim.appointment_id is None:
        return False
    if claim.part > 1:
        return False
    return not (
        Claim.select(Claim.id)
        .where(
            (Claim.appointment == claim.appointment_id)
            & (Claim.part > 1)
            & (Claim.status != claim_status.VOID)
        )
        .exists()
    )


def claim_data(claim, *, electronic=None):
    """The stored claim as ClaimData (see the module's docstring)."""
    practice, policy, client = claim.practice, claim.policy, claim.client
    settings = settings_for(practice.id)
    provider = claim.provider
    appointment = claim.appointment if claim.appointment_id else None
    lines = tuple(
        rules.ClaimLine(
            service_date=line.service_date,
            code=line.cpt_code,
            units=line.units,
            charge_cents=line.charge_cents,
            modifiers=line.modifier_list,
            pointers=line.pointer_numbers,
            place_of_service=line.place_of_service,
        )
        for line in ClaimLine.select()
        .where(ClaimLine.claim == claim.id)
        .order_by(ClaimLine.position)
    )
    diagnoses = tuple(
        d.code
        for d in ClaimDiagnosis.select(ClaimDiagnosis.code)
        .where(ClaimDiagnosis.claim == claim.id)
        .order_by(ClaimDiagnosis.position)
    )
    visits = ()
    if appointment is not None and _holds_whole_visit(claim):
        visits = (visit_minutes(appointment, claim.service_date),)
    verification = coverage.latest_verification(policy)
    return rules.ClaimData(
        payer=payer_rules(claim.payer, verification),
        policy=policy_info(policy, claim),
        patient=patient_info(client),
        subscriber=subscriber_info(policy, client),
        billing=billing_info(practice, provider, settings),
        rendering=rendering_info(provider, settings),
        referral=referral_info(claim.referral, appointment) if claim.referral_id else None,
        authorization=authorization_info(claim.authorization, appointment)
        if claim.authorization_id
        else None,
        diagnoses=diagnoses,
        lines=lines,
        total_cents=claim.total_cents,
        visits=visits,
        place_of_service=claim.place_of_service,
        patient_account=claim.patient_control_number,
        frequency=claim.frequency_code,
        original_claim_number=claim.payer_claim_number,
        primary_paid_cents=claim.primary_paid_cents,
        electronic=is_electronic(practice.id) if electronic is None else electronic,
    )


def active_policy(client_id, rank, on_date):
    """The client's active policy of this rank in force on `on_date` (newest first)."""
    for policy in (
        InsurancePolicy.select()
        .where(
            (InsurancePolicy.client == client_id)
            & InsurancePolicy.active
            & (InsurancePolicy.rank == rank)
        )
        .order_by(InsurancePolicy.id.desc())
    ):
        if policy.covers(on_date):
            return policy
    return None
