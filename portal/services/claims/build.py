"""Claims from visits: a completed visit billed to insurance, with a signed chart note,
becomes a claim to the client's primary payer (or several, over six lines); a secondary
claim follows when the primary has paid.

    claims = create_for_visit(appointment, user=user)   # [] never: raises NotBillable
    claim = create_secondary(primary_claim, user=user)  # raises ClaimError
    result = create_due(practice_id=None)               # the nightly run and the CLI

Once per visit: the check is made again inside the write lock, and the database's unique
index (visit, rank, part; migration 0015) refuses a second claim if two writers race;
the loser gets the winner's claims back, never an error.

Where the claim's pieces come from:
- diagnoses and minutes per code: the SIGNED note (services.charting.visit_coding);
  units by the payer's unit rule; check-out minutes only to compare (rules.claims);
- the policy: the client's active primary policy in force on the date of service;
- the referral / authorization: the one in date with a visit left (data.pick_*);
- charges: rules.claim_build.line_charges (fee schedule, else the practice's price);
- modifiers and pointers: rules.claim_build.default_coding;
- place of service: the practice's claim settings; accident fields: the policy.
"""

import dataclasses

from peewee import IntegrityError, fn

from portal import audit, clock
from portal.db import database
from portal.models import Appointment, AppointmentType, ChartNote, Claim, ClaimDiagnosis, ClaimLine
from portal.models.charting import NOTE_SIGNED
from portal.models.scheduling import STATUS_COMPLETED
from portal.rules import claim_build, claim_status, coding
from portal.rules import claims as rules
from portal.services import charting, coverage, icd10, packages
from portal.services.claims import ClaimError, data, history

PRIMARY, SECONDARY = "primary", "secondary"
SECONDARY_AFTER = frozenset({claim_status.PAID, claim_status.PARTIALLY_PAID})


class NotBillable(ClaimError):
    """The visit cannot have a claim (yet): the message says why."""


@dataclasses.dataclass
class Plan:
    """A visit's claim before it is stored: the whole visit as ClaimData, and the rows."""

    appointment: Appointment
    policy: object
    rank: str
    service_date: object
    whole: rules.ClaimData
    minutes: dict
    referral: object = None
    authorization: object = None
    primary: Claim | None = None


def visit_claims(appointment_id, rank=PRIMARY):
    """The visit's claims of this rank that bill it (not void), part by part."""
    return list(
        Claim.select()
        .where(
            (Claim.appointment == appointment_id)
            & (Claim.rank == rank)
            & (Claim.status != claim_status.VOID)
        )
        .order_by(Claim.part)
    )


def _billable(appointment):
    if appointment.status != STATUS_COMPLETED:
        raise NotBillable("The visit is not completed.")
    if not appointment.appointment_type.bill_insurance:
        raise NotBillable("The visit's type is not billed to insurance.")
    if packages.redeemed_entry(appointment.id) is not None:
        raise NotBillable(
            "The visit was paid with a package credit: give the credit back before billing "
            "the visit to insurance."
        )


def create_for_visit(appointment, *, user=None):
    """The visit's primary claim(s): made now, or the ones it already has."""
    appointment = Appointment.get_by_id(appointment.id)
    _billable(appointment)
    existing = visit_claims(appointment.id)
    if existing:
        return existing
    coded = charting.visit_coding(appointment.id)
    if coded is None:
        raise NotBillable("The visit's chart note is not signed yet.")
    day = clock.local_date(appointment.starts_at, appointment.practice.tz)
    policy = data.active_policy(appointment.client_id, PRIMARY, day)
    if policy is None:
        raise NotBillable("The client has no active primary insurance policy for the visit.")
    return _store(_plan(appointment, policy, coded, day), user)


def _plan(appointment, policy, coded, day):
    payer = policy.payer
    verification = coverage.latest_verification(policy)
    payer_rules = data.payer_rules(payer, verification)
    minutes = {c: m for c, m in coded["minutes"].items() if m}
    units = coding.units_for_day(minutes, payer_rules.unit_rule)
    charges = claim_build.line_charges(
        units, data.fee_schedule(payer.id), appointment.appointment_type.price_cents
    )
    diagnoses = tuple(coded["diagnoses"])
    look = claim_build.default_coding(list(units), len(diagnoses), payer.allow_97124_97140)
    lines = tuple(
        rules.ClaimLine(
            service_date=day,
            code=code,
            units=n,
            charge_cents=charges[code],
            modifiers=look[code][0],
            pointers=look[code][1],
        )
        for code, n in units.items()
    )
    referral = data.pick_referral(
        appointment.client_id, policy, appointment, day, payer_rules.referral_required
    )
    authorization = data.pick_authorization(
        appointment.client_id, policy, appointment, day, payer_rules.authorization_required
    )
    settings = data.settings_for(appointment.practice_id)
    provider = appointment.provider
    whole = rules.ClaimData(
        payer=payer_rules,
        policy=data.policy_info(policy),
        patient=data.patient_info(appointment.client),
        subscriber=data.subscriber_info(policy, appointment.client),
        billing=data.billing_info(appointment.practice, provider, settings),
        rendering=data.rendering_info(provider, settings),
        referral=data.referral_info(referral, appointment) if referral else None,
        authorization=data.authorization_info(authorization, appointment)
        if authorization
        else None,
        diagnoses=diagnoses,
        lines=lines,
        total_cents=sum(line.charge_cents for line in lines),
        visits=(data.visit_minutes(appointment, day, coded),),
        place_of_service=settings.default_place_of_service,
        electronic=data.is_electronic(appointment.practice_id),
    )
    return Plan(appointment, policy, PRIMARY, day, whole, minutes, referral, authorization)


def _piece_problems(plan, pieces):
    """Problems per piece: the whole visit's when it fits one claim; otherwise each
    piece's own, plus the whole visit's that no line number points at (units, minutes,
    the 97124/97140 pair) and that its own check could not see."""
    whole = rules.validate_claim(plan.whole, icd10.validate)
    if len(pieces) == 1:
        return [whole]
    out = []
    for piece in pieces:
        own = rules.validate_claim(piece, icd10.validate)
        codes = {p.code for p in own}
        out.append(own + [p for p in whole if not p.field.isdigit() and p.code not in codes])
    return out


# The claim rules a note's coding (its minutes per code and its diagnoses) decides.
NOTE_CODING_PROBLEMS = frozenset(
    {
        "code_pair_refused",
        "code_pair_needs_modifier",
        "code_pair_same_region",
        "too_many_diagnoses",
        "diagnosis_repeated",
        "minutes_disagree",
    }
)


def note_warnings(note):
    """What would hold the claim of a note's visit billed to insurance, for the therapist
    to change in the note (before or after signing): the claim rules run on the note's
    coding as the claim would be made from it (no claim is stored). [] when the visit is
    not billed to insurance or the client has no primary policy for it."""
    if note.appointment_id is None or not _billed_to_insurance(note.appointment_id):
        return []  # the note page's common case: one small query, not the visit and its type
    appointment = note.appointment
    day = clock.local_date(appointment.starts_at, appointment.practice.tz)
    policy = data.active_policy(appointment.client_id, PRIMARY, day)
    if policy is None:
        return []
    plan = _plan(appointment, policy, charting.note_coding(note), day)
    problems = rules.validate_claim(plan.whole, icd10.validate)
    payer = policy.payer.name
    return [
        _to_therapist(p, payer, plan.whole, note)
        for p in problems
        if p.code in NOTE_CODING_PROBLEMS
    ]


def _billed_to_insurance(appointment_id):
    return (
        AppointmentType.select()
        .join(Appointment, on=(Appointment.appointment_type == AppointmentType.id))
        .where((Appointment.id == appointment_id) & (AppointmentType.bill_insurance == True))  # noqa: E712
        .exists()
    )


def _to_therapist(problem, payer, claim, note):
    """A claim problem in the words of the note that fixes it (`claim`: the claim as it
    would be made from the note, rules.claim_data.ClaimData)."""
    if problem.code == "minutes_disagree":
        visit = next(v for v in claim.visits if v.checkout_minutes is not None)
        fix = "add an addendum" if note.is_signed else "correct this draft before signing"
        return (
            f"Check-out recorded {rules.minutes_text(visit.checkout_minutes)}; this note says "
            f"{rules.minutes_text(visit.note_minutes)}. If the note is right, the front desk "
            f"corrects check-out; if not, {fix}. ({payer}: otherwise the claim is held.)"
        )
    if problem.code == "code_pair_same_region":
        return (
            f"97124 and 97140 on one date: give each its own diagnosis (its own body region) "
            f"for {payer}, or the claim is held."
        )
    if problem.code == "code_pair_refused":
        return (
            f"{payer} does not take 97124 and 97140 on one date: record the time under one "
            "code, or the claim is held."
        )
    return f"{problem.message} ({payer}: otherwise the claim is held.)"


def _pcn(appointment_id, rank, part, practice_id):
    """A patient control number not used before in the practice (a visit billed again
    after a void gets R2, R3 ...)."""
    attempt = 1 + (
        Claim.select()
        .where((Claim.appointment == appointment_id) & (Claim.rank == rank) & (Claim.part == part))
        .count()
    )
    while True:
        pcn = claim_build.patient_control_number(appointment_id, rank, part, attempt)
        taken = Claim.select().where(
            (Claim.practice == practice_id) & (Claim.patient_control_number == pcn)
        )
        if not taken.exists():
            return pcn
        attempt += 1


def _store(plan, user):
    pieces = rules.split_claim(plan.whole)
    problems = _piece_problems(plan, pieces)
    appt = plan.appointment
    try:
        with database.atomic("IMMEDIATE"):
            existing = visit_claims(appt.id, plan.rank)
            if plan.rank == SECONDARY:
                existing = [c for c in existing if c.part == plan.primary.part]
            if existing:
                return existing
            return [
                _store_piece(plan, piece, found, n, user)
                for n, (piece, found) in enumerate(zip(pieces, problems, strict=True), start=1)
            ]
    except IntegrityError:
        # Another check-out, signature or nightly run billed the visit first.
        existing = visit_claims(appt.id, plan.rank)
        if not existing:
            raise
        return existing


def _store_piece(plan, piece, problems, n, user):
    appt, policy = plan.appointment, plan.policy
    part = plan.primary.part if plan.primary is not None else n
    now = clock.utcnow()
    claim = Claim.create(
        practice=appt.practice_id,
        client=appt.client_id,
        appointment=appt.id,
        policy=policy.id,
        payer=policy.payer_id,
        provider=appt.provider_id,
        rank=plan.rank,
        part=part,
        primary_claim=plan.primary.id if plan.primary is not None else None,
        status=claim_status.DRAFT,
        patient_control_number=_pcn(appt.id, plan.rank, part, appt.practice_id),
        service_date=plan.service_date,
        place_of_service=piece.place_of_service,
        claim_type=policy.claim_type,
        injury_date=policy.injury_date,
        accident_state=(policy.accident_state or "").upper()[:2],
        accident_claim_number=policy.claim_number,
        referral=plan.referral.id if plan.referral else None,
        authorization=plan.authorization.id if plan.authorization else None,
        total_cents=piece.total_cents,
        primary_paid_cents=piece.primary_paid_cents,
        created_by=getattr(user, "id", None),
        created_at=now,
        updated_at=now,
    )
    for position, code in enumerate(piece.diagnoses, start=1):
        ClaimDiagnosis.create(practice=appt.practice_id, claim=claim, position=position, code=code)
    for position, line in enumerate(piece.lines, start=1):
        ClaimLine.create(
            practice=appt.practice_id,
            claim=claim,
            position=position,
            service_date=line.service_date,
            place_of_service=line.place_of_service,
            cpt_code=line.code,
            modifiers=",".join(line.modifiers),
            minutes=plan.minutes.get(line.code, 0),
            units=line.units,
            pointers=coding.pointer_letters(line.pointers),
            charge_cents=line.charge_cents,
        )
    what = "secondary claim" if plan.rank == SECONDARY else "claim"
    history.event(
        claim,
        "created",
        user=user,
        to_status=claim_status.DRAFT,
        reason=f"The {what} was made from the visit's signed chart note.",
    )
    held = history.store_problems(claim, problems)
    if not held:
        claim.status = claim_status.check_transition(claim_status.DRAFT, claim_status.READY)
        claim.save(only=[Claim.status])
        history.event(
            claim,
            "status",
            user=user,
            from_status=claim_status.DRAFT,
            to_status=claim_status.READY,
            reason="Passed every check.",
        )
    audit.record("claim.create", obj=claim, user=user, detail=claim.patient_control_number)
    return claim


# --- secondary claims ---------------------------------------------------------------------


def create_secondary(primary, *, user=None):
    """The secondary payer's claim for what the primary paid (its lines and diagnoses,
    carrying the primary's payment: loop 2320 / box 29)."""
    primary = Claim.get_by_id(primary.id)
    if primary.rank != PRIMARY:
        raise ClaimError("Only a primary claim is followed by a secondary one.")
    if primary.status not in SECONDARY_AFTER:
        raise ClaimError(
            "The secondary payer is billed after the primary has paid: post the primary's "
            "payment first."
        )
    if primary.appointment_id is None:
        raise ClaimError("This claim has no visit to bill the secondary payer for.")
    policy = data.active_policy(primary.client_id, SECONDARY, primary.service_date)
    if policy is None:
        raise ClaimError(
            "The client has no active secondary policy for the date of service: add it on "
            "the client's insurance first."
        )
    existing = [
        c for c in visit_claims(primary.appointment_id, SECONDARY) if c.part == primary.part
    ]
    if existing:
        return existing[0]
    appointment = primary.appointment
    day = primary.service_date
    verification = coverage.latest_verification(policy)
    payer_rules = data.payer_rules(policy.payer, verification)
    before = data.claim_data(primary)
    referral = data.pick_referral(
        primary.client_id, policy, appointment, day, payer_rules.referral_required
    ) or (primary.referral if primary.referral_id else None)
    authorization = data.pick_authorization(
        primary.client_id, policy, appointment, day, payer_rules.authorization_required
    )
    whole = dataclasses.replace(
        before,
        payer=payer_rules,
        policy=dataclasses.replace(data.policy_info(policy), rank=SECONDARY),
        subscriber=data.subscriber_info(policy, primary.client),
        referral=data.referral_info(referral, appointment) if referral else None,
        authorization=data.authorization_info(authorization, appointment)
        if authorization
        else None,
        frequency=claim_status.ORIGINAL,
        original_claim_number="",
        patient_account="",
        primary_paid_cents=primary.paid_cents,
    )
    minutes = {
        line.cpt_code: line.minutes
        for line in ClaimLine.select().where(ClaimLine.claim == primary.id)
    }
    plan = Plan(
        appointment, policy, SECONDARY, day, whole, minutes, referral, authorization, primary
    )
    return _store(plan, user)[0]


# --- the nightly run -----------------------------------------------------------------------


def due_visits(practice_id=None):
    """Completed insurance-billed visits with a signed note and no claim yet (cancelled
    and no-show visits are never completed, so they never come up)."""
    signed = ChartNote.select(ChartNote.id).where(
        (ChartNote.appointment == Appointment.id) & (ChartNote.status == NOTE_SIGNED)
    )
    billed = Claim.select(Claim.id).where(
        (Claim.appointment == Appointment.id)
        & (Claim.rank == PRIMARY)
        & (Claim.status != claim_status.VOID)
    )
    q = (
        Appointment.select()
        .join(AppointmentType)
        .where(
            (Appointment.status == STATUS_COMPLETED)
            & (AppointmentType.bill_insurance == True)  # noqa: E712
            & fn.EXISTS(signed)
            & ~fn.EXISTS(billed)
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if practice_id is not None:
        q = q.where(Appointment.practice == practice_id)
    return q


@dataclasses.dataclass
class DueResult:
    created: list = dataclasses.field(default_factory=list)  # Claim
    skipped: list = dataclasses.field(default_factory=list)  # (appointment id, why)


def create_due(practice_id=None, user=None):
    """A claim for every visit due one (see due_visits), each in its own transaction."""
    result = DueResult()
    for appointment in list(due_visits(practice_id)):
        try:
            result.created.extend(create_for_visit(appointment, user=user))
        except ClaimError as exc:
            result.skipped.append((appointment.id, str(exc)))
    return result
