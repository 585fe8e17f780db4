"""What every claim write shares: the history row (ClaimEvent), the problems that hold a
claim (ClaimProblem and `held`), and the checks of rules/claims.py on a stored claim.

Called inside the caller's transaction (build.py, life.py, and claims-money's services);
nothing here opens one.
"""

from portal import clock
from portal.models import Claim, ClaimEvent, ClaimProblem
from portal.rules import claims as rules
from portal.services import icd10
from portal.services.claims import data

# Where a problem came from. Rules problems are worked out again at every check; those
# of an acknowledgment or a remittance describe the claim as it was sent, and are
# cleared when someone edits or checks the claim again to send it anew.
RULES = "rules"
SENT = ("999", "277ca", "835", "ta1")
DESK = "desk"


def event(
    claim,
    action,
    *,
    user=None,
    from_status="",
    to_status="",
    reason="",
    amount_cents=None,
    batch=None,
    remittance=None,
    trace="",
    paid_on=None,
):
    """Append one row to the claim's history (append-only: the database refuses changes).
    `trace`: the clearinghouse's trace of the sending an acknowledgment answered; `paid_on`:
    a payment posted by hand, the payer's date typed from the EOB."""
    return ClaimEvent.create(
        practice=claim.practice_id,
        claim=claim.id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=(reason or "")[:2000],
        amount_cents=amount_cents,
        batch=getattr(batch, "id", batch),
        remittance=getattr(remittance, "id", remittance),
        user=getattr(user, "id", user),
        trace=(trace or "")[:255],
        paid_on=paid_on,
        created_at=clock.utcnow(),
    )


def validate(claim, *, electronic=None):
    """Every reason the stored claim cannot go out yet ([] when it can)."""
    return rules.validate_claim(data.claim_data(claim, electronic=electronic), icd10.validate)


def store_problems(claim, problems, *, sources=(RULES,)):
    """Replace the claim's problems from `sources` with `problems` (rules.problems.Problem)
    and set `held` from whatever problems it has left. Returns held."""
    ClaimProblem.delete().where(
        (ClaimProblem.claim == claim.id) & ClaimProblem.source.in_(list(sources))
    ).execute()
    now = clock.utcnow()
    for p in problems:
        ClaimProblem.create(
            practice=claim.practice_id,
            claim=claim.id,
            code=p.code,
            message=p.message,
            fix_where=p.where,
            field=p.field[:255],
            source=RULES,
            created_at=now,
        )
    return refresh_held(claim)


def add_problem(claim, code, message, *, fix_where="claim", field="", source=DESK):
    """One problem from outside the rules (a 999, a 277CA, an 835, the desk): it holds the
    claim until the claim is edited or checked again."""
    ClaimProblem.create(
        practice=claim.practice_id,
        claim=claim.id,
        code=code[:255],
        message=message,
        fix_where=fix_where,
        field=field[:255],
        source=source,
        created_at=clock.utcnow(),
    )
    return refresh_held(claim)


def refresh_held(claim):
    held = ClaimProblem.select().where(ClaimProblem.claim == claim.id).exists()
    Claim.update(held=held, updated_at=clock.utcnow()).where(Claim.id == claim.id).execute()
    claim.held = held
    return held


def problems_of(claim):
    return list(
        ClaimProblem.select().where(ClaimProblem.claim == claim.id).order_by(ClaimProblem.id)
    )


def problems_by_claim(claim_ids):
    """{claim id: [ClaimProblem]} of the claims `claim_ids` (one statement; none for [])."""
    out = {}
    if claim_ids:
        for p in (
            ClaimProblem.select()
            .where(ClaimProblem.claim.in_(list(claim_ids)))
            .order_by(ClaimProblem.claim, ClaimProblem.id)
        ):
            out.setdefault(p.claim_id, []).append(p)
    return out
