"""The claim's life, besides money: status changes through rules/claim_status.py, checks,
edits, void, close and appeal. Each call is one transaction (a savepoint when the caller
already holds one) that re-reads the claim under the write lock, writes the change, one
ClaimEvent (who, when, why) and one audit row.

    change_status(claim, "submitted", user=u, reason="In batch 12", batch=b,
                  submitted_at=now)                       # claims-money: batches, 999,
                                                          # 277CA, 835 outcomes
    recheck(claim, user=u)        # check again after a fix elsewhere; ready when clean
    edit_line(claim, line_id, units=3, modifiers="59", pointers="A,B", charge_cents=9000)
    remove_line(claim, line_id); set_diagnoses(claim, ["M54.50"]); set_place_of_service(
    claim, "12"); set_referral(claim, referral_or_None); set_authorization(claim, auth)
    set_payer_claim_number(claim, "PAYER123")            # no status change (a correction:
                                                          # frequency 7 from then on)
    void(claim, reason); close(claim, reason); appeal(claim, reason); hold(claim, reason)
    use_note_minutes(claim)       # the check-out minutes set to the signed note's

Refusals raise ClaimError or rules.claim_status.ClaimStatusError (a ValueError), both
with a message for the person.

Editing a claim sends it back to draft (rules status_after_edit); a claim the payer held
goes out again as corrected (frequency 7 with the payer's claim number) or, when the
payer never numbered it, as an original (rules frequency_for_resend). Problems an
acknowledgment or remittance reported are cleared by an edit or a new check: they were
about the claim as it was sent.
"""

from portal import audit, clock
from portal.db import database
from portal.models import AppointmentMinutes, Claim, ClaimDiagnosis, ClaimLine
from portal.rules import claim_status as cs
from portal.rules import coding
from portal.rules.icd10 import MAX_DIAGNOSES, normalize_code
from portal.rules.money import format_cents
from portal.services import charting, coverage, icd10
from portal.services.claims import ClaimError, data, history, posting

# Fields other services may set along with a status change.
STATUS_FIELDS = frozenset(
    {"payer_claim_number", "submitted_at", "adjudicated_at", "batch", "frequency_code"}
)
CHECKABLE = frozenset({cs.DRAFT, cs.READY, cs.REJECTED})
REASON_MAX = 500
MAX_CHARGE_CENTS = 99_999_99  # $99,999.99: the 837P and the CMS-1500 take no more a line


def _fresh(claim):
    return Claim.get_by_id(claim.id)


def _reason(reason, what):
    reason = " ".join((reason or "").split())
    if not reason:
        raise ClaimError(f"Say why you {what} the claim.")
    if len(reason) > REASON_MAX:
        raise ClaimError(f"Keep the reason under {REASON_MAX} characters.")
    return reason


def change_status(
    claim,
    new_status,
    *,
    user=None,
    reason="",
    action="status",
    batch=None,
    remittance=None,
    amount_cents=None,
    **fields,
):
    """Move the claim to `new_status` (rules.claim_status.check_transition), with `fields`
    (STATUS_FIELDS) set in the same write. Ready only when no problem holds it."""
    unknown = set(fields) - STATUS_FIELDS
    if unknown:
        raise TypeError(f"change_status cannot set {', '.join(sorted(unknown))}")
    with database.atomic("IMMEDIATE"):
        c = _fresh(claim)
        old = c.status
        new = cs.check_transition(old, new_status)
        if new == cs.READY and history.refresh_held(c):
            raise ClaimError("Problems hold this claim: fix them, then check it again.")
        for name, value in fields.items():
            setattr(c, name, value)
        if batch is not None and "batch" not in fields:
            c.batch = batch
        c.status = new
        c.updated_at = clock.utcnow()
        c.save()
        history.event(
            c,
            action,
            user=user,
            from_status=old,
            to_status=new,
            reason=reason,
            amount_cents=amount_cents,
            batch=batch,
            remittance=remittance,
        )
        audit.record("claim.status", obj=c, user=user, detail=f"{old} -> {new}")
    return _fresh(c)


def _refresh_documents(c):
    """Before a check: the accident fields from the policy (where the problems send the
    desk to fix them), and the referral/authorization that applies now when the claim
    has none, or one that cannot carry the visit."""
    policy = c.policy
    c.claim_type = policy.claim_type
    c.injury_date = policy.injury_date
    c.accident_state = (policy.accident_state or "").upper()[:2]
    c.accident_claim_number = policy.claim_number
    if c.appointment_id is None:
        return
    needs = data.payer_rules(c.payer, coverage.latest_verification(policy))
    appt, day = c.appointment, c.service_date
    if c.referral_id is None or not data.referral_usable(c.referral, appt, day):
        found = data.pick_referral(c.client_id, policy, appt, day, needs.referral_required)
        c.referral = found.id if found else c.referral_id
    if c.authorization_id is None or not data.authorization_usable(c.authorization, appt, day):
        found = data.pick_authorization(
            c.client_id, policy, appt, day, needs.authorization_required
        )
        c.authorization = found.id if found else c.authorization_id


def _check_and_settle(c, user):
    """Store the problems; a clean draft becomes ready, a held ready claim a draft."""
    held = history.store_problems(c, history.validate(c), sources=(history.RULES, *history.SENT))
    if held and c.status == cs.READY:
        _move(c, cs.DRAFT, user, "Held: a problem stops it from going out.")
    elif not held and c.status == cs.DRAFT:
        _move(c, cs.READY, user, "Passed every check.")
    return held


def _move(c, new, user, reason):
    old = c.status
    c.status = cs.check_transition(old, new)
    c.updated_at = clock.utcnow()
    c.save(only=[Claim.status, Claim.updated_at])
    history.event(c, "status", user=user, from_status=old, to_status=new, reason=reason)
    audit.record("claim.status", obj=c, user=user, detail=f"{old} -> {new}")


def recheck(claim, *, user=None):
    """Check the claim again after a fix on another page (policy, referral, client,
    payer, practice settings): it becomes ready when nothing holds it. A rejected claim
    goes back to draft first, to be sent again."""
    with database.atomic("IMMEDIATE"):
        c = _fresh(claim)
        if c.status not in CHECKABLE:
            raise ClaimError(
                f"This claim is {c.status_label.lower()}: the payer has it. Edit it to send a "
                "corrected claim."
            )
        _refresh_documents(c)
        c.updated_at = clock.utcnow()
        c.save()
        if c.status == cs.REJECTED:
            _move(c, cs.DRAFT, user, "Checked again after the rejection.")
        held = _check_and_settle(c, user)
        if held:
            n = len(history.problems_of(c))
            history.event(
                c,
                "checked",
                user=user,
                reason=f"Checked again: {n} problem{'s' if n != 1 else ''} still hold it.",
            )
        audit.record("claim.check", obj=c, user=user, detail="held" if held else "clean")
    return _fresh(c)


def hold(claim, reason, *, user=None):
    """Take a ready claim out of the next batch (back to draft), saying why."""
    return change_status(claim, cs.DRAFT, user=user, reason=_reason(reason, "hold"))


# --- edits ------------------------------------------------------------------------------------


def _edit(claim, user, what, apply):
    with database.atomic("IMMEDIATE"):
        c = _fresh(claim)
        before = c.status
        new = cs.status_after_edit(before)  # raises for a void claim
        if before in cs.PAYER_HAS_IT:
            c.frequency_code = cs.frequency_for_resend(before, c.payer_claim_number)
        apply(c)
        c.total_cents = sum(
            line.charge_cents
            for line in ClaimLine.select(ClaimLine.charge_cents).where(ClaimLine.claim == c.id)
        )
        c.status = new
        c.updated_at = clock.utcnow()
        c.save()
        reason = what
        if before in cs.PAYER_HAS_IT:
            reason += (
                " It goes out again as a corrected claim (frequency 7)."
                if c.frequency_code == cs.CORRECTED
                else " It goes out again as an original claim (the payer gave no claim number)."
            )
        history.event(c, "edited", user=user, from_status=before, to_status=new, reason=reason)
        history.store_problems(c, history.validate(c), sources=(history.RULES, *history.SENT))
        audit.record("claim.edit", obj=c, user=user, detail=what[:255])
    return _fresh(c)


def _line(c, line_id):
    line = ClaimLine.get_or_none((ClaimLine.id == line_id) & (ClaimLine.claim == c.id))
    if line is None:
        raise ClaimError("That line is not on this claim.")
    return line


def edit_line(claim, line_id, *, units, modifiers, pointers, charge_cents, user=None):
    """Change one line's units, modifiers ("59, XS"), pointers ("A, C") and charge."""
    try:
        mods = coding.parse_modifiers(modifiers)
        points = coding.parse_pointers(pointers)
    except ValueError as exc:
        raise ClaimError(str(exc)) from exc
    if coding.check_modifiers(mods, 1):
        raise ClaimError("Modifiers are up to four codes of two letters or digits, like 59 or XS.")
    if not points:
        raise ClaimError("Point the line to at least one diagnosis (A to L).")
    if not isinstance(units, int) or not 1 <= units <= 99:
        raise ClaimError("Units are a whole number from 1 to 99.")
    if not isinstance(charge_cents, int) or charge_cents < 0:
        raise ClaimError("Enter the charge, like 90 or 90.00.")
    if charge_cents > MAX_CHARGE_CENTS:
        raise ClaimError(f"A line's charge is at most {format_cents(MAX_CHARGE_CENTS)}.")

    def apply(c):
        line = _line(c, line_id)
        line.units = units
        line.modifiers = ",".join(mods)
        line.pointers = coding.pointer_letters(points)
        line.charge_cents = charge_cents
        line.save()

    line = _line(claim, line_id)
    what = (
        f"Line {line.position} ({line.cpt_code}): {units} units, modifiers "
        f"{','.join(mods) or 'none'}, pointers {coding.pointer_letters(points)}, charge "
        f"{format_cents(charge_cents)}."
    )
    return _edit(claim, user, what, apply)


def remove_line(claim, line_id, *, user=None):
    line = _line(claim, line_id)

    def apply(c):
        rows = list(ClaimLine.select().where(ClaimLine.claim == c.id).order_by(ClaimLine.position))
        if len(rows) <= 1:
            raise ClaimError("A claim keeps at least one line: void the claim instead.")
        ClaimLine.delete().where(ClaimLine.id == line_id).execute()
        for row in rows:  # close the gap, lowest first (positions are unique per claim)
            if row.position > line.position:
                ClaimLine.update(position=row.position - 1).where(ClaimLine.id == row.id).execute()

    return _edit(claim, user, f"Line {line.position} ({line.cpt_code}) taken off.", apply)


def parse_diagnoses(text_or_list):
    """Codes typed as 'M54.50, M62.830' (or a list) -> normalized codes, each billable.
    Raises ClaimError with icd10's message for a code that is not."""
    if isinstance(text_or_list, str):
        pieces = [p for p in text_or_list.replace(";", ",").replace("\n", ",").split(",")]
    else:
        pieces = list(text_or_list)
    codes = []
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        ok, message, _ = icd10.validate(piece)
        if not ok:
            raise ClaimError(message)
        code = icd10.lookup(normalize_code(piece)).code
        if code in codes:
            raise ClaimError(f"{code} is listed twice: keep it once.")
        codes.append(code)
    if not codes:
        raise ClaimError("A claim needs at least one diagnosis (ICD-10-CM, e.g. M54.50).")
    if len(codes) > MAX_DIAGNOSES:
        raise ClaimError(f"A claim holds at most {MAX_DIAGNOSES} diagnoses (A to L).")
    return codes


def set_diagnoses(claim, codes, *, user=None):
    """Replace the claim's diagnoses (primary first); lines keep their letters."""
    codes = parse_diagnoses(codes)

    def apply(c):
        ClaimDiagnosis.delete().where(ClaimDiagnosis.claim == c.id).execute()
        for n, code in enumerate(codes, start=1):
            ClaimDiagnosis.create(practice=c.practice_id, claim=c.id, position=n, code=code)

    return _edit(claim, user, f"Diagnoses: {', '.join(codes)}.", apply)


def set_place_of_service(claim, code, *, user=None):
    if code not in coding.PLACES_OF_SERVICE:
        raise ClaimError("Choose a place of service: 11 office, 12 home, 02 or 10 telehealth.")

    def apply(c):
        c.place_of_service = code

    label = coding.place_of_service_label(code)
    return _edit(claim, user, f"Place of service: {code} ({label}).", apply)


def _document(claim, row, kind):
    if row is not None and (
        row.client_id != claim.client_id or row.practice_id != claim.practice_id
    ):
        raise ClaimError(f"That {kind} is not the client's.")


def set_referral(claim, referral, *, user=None):
    """The referral the claim rests on (box 17), or None for no referral."""
    _document(claim, referral, "referral")

    def apply(c):
        c.referral = referral.id if referral else None

    what = f"Referral: {referral.referring_name}." if referral else "No referral on the claim."
    return _edit(claim, user, what, apply)


def set_authorization(claim, authorization, *, user=None):
    """The prior authorization (box 23), or None."""
    _document(claim, authorization, "authorization")

    def apply(c):
        c.authorization = authorization.id if authorization else None

    what = (
        f"Prior authorization {authorization.number}."
        if authorization
        else "No prior authorization on the claim."
    )
    return _edit(claim, user, what, apply)


def edit_details(claim, *, place_of_service, referral, authorization, user=None):
    """The claim's place of service, referral (box 17) and authorization (box 23) in one
    edit; only what changed is written and told in the history. None: no document."""
    if place_of_service not in coding.PLACES_OF_SERVICE:
        raise ClaimError("Choose a place of service: 11 office, 12 home, 02 or 10 telehealth.")
    _document(claim, referral, "referral")
    _document(claim, authorization, "authorization")
    c = _fresh(claim)
    told = []
    if place_of_service != c.place_of_service:
        label = coding.place_of_service_label(place_of_service)
        told.append(f"Place of service: {place_of_service} ({label}).")
    if getattr(referral, "id", None) != c.referral_id:
        told.append(f"Referral: {referral.referring_name}." if referral else "No referral.")
    if getattr(authorization, "id", None) != c.authorization_id:
        told.append(
            f"Prior authorization {authorization.number}." if authorization else "No authorization."
        )
    if not told:
        return c

    def apply(c):
        c.place_of_service = place_of_service
        c.referral = getattr(referral, "id", None)
        c.authorization = getattr(authorization, "id", None)

    return _edit(claim, user, " ".join(told), apply)


def set_payer_claim_number(claim, number, *, user=None):
    """The payer's claim number (from its 835 or 277CA), for a corrected or void claim.
    It does not change what is billed, so the claim keeps its status."""
    number = "".join((number or "").split())
    if not number or len(number) > 50 or not number.isalnum():
        raise ClaimError("Enter the payer's claim number (letters and digits, up to 50).")
    with database.atomic("IMMEDIATE"):
        c = _fresh(claim)
        if c.status == cs.VOID:
            raise ClaimError("This claim is void.")
        c.payer_claim_number = number
        # a claim being corrected now replaces the one the payer numbered (not a duplicate)
        c.frequency_code = cs.frequency_when_numbered(
            c.status, c.frequency_code, c.submitted_at is not None
        )
        c.updated_at = clock.utcnow()
        c.save(only=[Claim.payer_claim_number, Claim.frequency_code, Claim.updated_at])
        history.event(c, "edited", user=user, reason="The payer's claim number was entered.")
        if c.status in CHECKABLE:
            history.store_problems(c, history.validate(c))
        audit.record("claim.edit", obj=c, user=user, detail="payer claim number")
    return _fresh(c)


# --- void, close, appeal ---------------------------------------------------------------------


def void(claim, reason, *, user=None):
    """Void the claim. When the payer has it, a void claim (frequency 8, with the payer's
    claim number) goes out with the next batch: the claim's batch is cleared so the
    batch builder finds it (status void, frequency 8, no batch)."""
    reason = _reason(reason, "void")
    with database.atomic("IMMEDIATE"):
        c = _fresh(claim)
        before = c.status
        cs.check_void(before, c.payer_claim_number)
        send = cs.needs_void_claim(before)
        c.status = cs.VOID
        if send:
            c.frequency_code = cs.VOIDED
            c.batch = None
            c.submitted_at = None
        c.updated_at = clock.utcnow()
        c.save()
        if send:
            reason += " A void claim (frequency 8) goes to the payer with the next batch."
        history.event(c, "void", user=user, from_status=before, to_status=cs.VOID, reason=reason)
        audit.record("claim.void", obj=c, user=user, detail=f"{before} -> void")
    return _fresh(c)


def close(claim, reason, *, user=None):
    """The practice stops pursuing the claim. What is still open on it is written off with
    the same reason, in the same transaction: closed, it leaves the receivables, and the
    books say why the money is not coming (charged = paid + client share + adjusted +
    written off)."""
    reason = _reason(reason, "close")
    with database.atomic("IMMEDIATE"):
        c = _fresh(claim)
        cs.check_transition(c.status, cs.CLOSED)
        if c.balance_cents > 0:
            try:
                c = posting.write_off(c, c.balance_cents, reason, user=user)
            except posting.PostingError as exc:
                raise ClaimError(str(exc)) from None
        if c.status == cs.CLOSED:  # the write-off settled a denied or partly paid claim
            return c
        return change_status(c, cs.CLOSED, user=user, reason=reason)


def appeal(claim, reason, *, user=None):
    return change_status(claim, cs.APPEALED, user=user, reason=_reason(reason, "appeal"))


def use_note_minutes(claim, *, user=None):
    """Where check-out recorded other minutes than the signed note: set the visit's
    check-out minutes to the note's (the note is the record the bill rests on), and
    check the claim again."""
    with database.atomic("IMMEDIATE"):
        c = _fresh(claim)
        if c.status not in CHECKABLE:
            raise ClaimError("The payer has this claim: its minutes are no longer changed here.")
        coded = charting.visit_coding(c.appointment_id) if c.appointment_id else None
        if coded is None:
            raise ClaimError("The visit has no signed chart note to take the minutes from.")
        AppointmentMinutes.delete().where(
            AppointmentMinutes.appointment == c.appointment_id
        ).execute()
        for code, minutes in sorted(coded["minutes"].items()):
            if minutes:
                AppointmentMinutes.create(
                    practice=c.practice_id,
                    client=c.client_id,
                    appointment=c.appointment_id,
                    cpt_code=code,
                    minutes=minutes,
                )
        audit.record(
            "appointment.minutes_corrected", obj=c.appointment, user=user, detail="from note"
        )
        history.event(
            c, "edited", user=user, reason="The check-out minutes were set to the signed note's."
        )
        if c.status == cs.REJECTED:
            _move(c, cs.DRAFT, user, "Checked again after the rejection.")
        _check_and_settle(c, user)
    return _fresh(c)
