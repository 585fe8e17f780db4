"""The claim's life through the services: every change with its history row and audit
row, in one transaction; edits send a claim back to draft and out again as corrected;
void, close, appeal with a reason; a secondary claim after the primary paid."""

import datetime as dt

import pytest

from portal.models import (
    AuditLog,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimProblem,
    ClaimWriteOff,
    InsurancePolicy,
)
from portal.rules import claim_status as cs
from portal.services.claims import ClaimError, build, history, life
from tests.claims import factories as cf


@pytest.fixture
def ready(ctx, world):
    appt, _ = cf.insured_visit(world.a)
    [claim] = build.create_for_visit(appt)
    assert claim.status == cs.READY
    return claim


def _events(claim):
    return [
        (e.action, e.from_status, e.to_status, e.reason, e.user_id)
        for e in ClaimEvent.select().where(ClaimEvent.claim == claim.id).order_by(ClaimEvent.id)
    ]


def _audits(claim, action):
    return (
        AuditLog.select()
        .where((AuditLog.action == action) & (AuditLog.object_id == claim.id))
        .count()
    )


def test_change_status_keeps_who_when_why(ready, world):
    user = world.a.frontdesk
    now = dt.datetime(2026, 11, 10, 12, 0)
    claim = life.change_status(
        ready, cs.SUBMITTED, user=user, reason="In batch 1", submitted_at=now
    )
    assert claim.status == cs.SUBMITTED and claim.submitted_at == now
    assert _events(claim)[-1] == ("status", "ready", "submitted", "In batch 1", user.id)
    assert _audits(claim, "claim.status") == 1
    with pytest.raises(cs.InvalidTransition, match="cannot go from Submitted to Ready"):
        life.change_status(claim, cs.READY, user=user)
    with pytest.raises(TypeError):
        life.change_status(claim, cs.ACCEPTED, total_cents=1)


def test_ready_only_when_nothing_holds_it(ctx, world):
    appt, _ = cf.insured_visit(world.a, payer_kw={"referral_required": True})
    [claim] = build.create_for_visit(appt)
    assert claim.status == cs.DRAFT and claim.held
    with pytest.raises(ClaimError, match="Problems hold this claim"):
        life.change_status(claim, cs.READY, user=world.a.owner)
    assert Claim.get_by_id(claim.id).status == cs.DRAFT
    claim = life.recheck(claim, user=world.a.owner)
    assert claim.status == cs.DRAFT
    assert _events(claim)[-1][0] == "checked" and "1 problem still" in _events(claim)[-1][3]


def test_editing_a_submitted_claim_sends_it_back_to_draft_as_corrected(ready, world):
    user = world.a.frontdesk
    claim = life.change_status(ready, cs.SUBMITTED, user=user)
    claim = life.change_status(claim, cs.ACCEPTED, user=None, payer_claim_number="PCN77")
    claim = life.set_place_of_service(claim, "12", user=user)
    assert (claim.status, claim.frequency_code, claim.place_of_service) == (cs.DRAFT, "7", "12")
    last = _events(claim)[-1]
    assert last[:3] == ("edited", "accepted", "draft")
    assert "corrected claim (frequency 7)" in last[3]
    assert _audits(claim, "claim.edit") == 1
    # another edit while in draft keeps it a corrected claim
    claim = life.set_place_of_service(claim, "11", user=user)
    assert claim.frequency_code == "7"
    claim = life.recheck(claim, user=user)
    assert claim.status == cs.READY


def test_a_claim_the_payer_never_numbered_goes_again_as_an_original(ready, world):
    claim = life.change_status(ready, cs.SUBMITTED, user=world.a.owner)
    claim = life.set_place_of_service(claim, "12", user=world.a.owner)
    assert claim.frequency_code == "1"
    assert "original claim (the payer gave no claim number)" in _events(claim)[-1][3]


def test_edit_line_checks_what_is_typed(ready, world):
    line = ClaimLine.get((ClaimLine.claim == ready.id) & (ClaimLine.position == 1))
    for kw, message in (
        (dict(units=0), "Units are a whole number"),
        (dict(pointers="Z"), "not a diagnosis letter"),
        (dict(pointers=""), "at least one diagnosis"),
        (dict(modifiers="5"), "Modifiers are up to four"),
        (dict(charge_cents=-1), "Enter the charge"),
        (dict(charge_cents=10**25), "at most \\$99,999.99"),
    ):
        args = {**dict(units=3, modifiers="", pointers="A", charge_cents=9000), **kw}
        with pytest.raises(ClaimError, match=message):
            life.edit_line(ready, line.id, **args)
    assert Claim.get_by_id(ready.id).status == cs.READY  # nothing half-written
    other = cf.claim(world.b.practice, world.b.c1, world.b.provider)
    foreign = ClaimLine.get(ClaimLine.claim == other.id)
    with pytest.raises(ClaimError, match="not on this claim"):
        life.edit_line(ready, foreign.id, units=1, modifiers="", pointers="A", charge_cents=1)


def test_edit_line_recomputes_the_total_and_checks_again(ready, world):
    line = ClaimLine.get((ClaimLine.claim == ready.id) & (ClaimLine.position == 1))
    claim = life.edit_line(
        ready, line.id, units=2, modifiers="", pointers="A", charge_cents=6000, user=world.a.owner
    )
    assert claim.total_cents == 6000 + 3500 and claim.status == cs.DRAFT
    codes = {p.code for p in history.problems_of(claim)}
    assert "units_disagree_with_note" in codes  # the note's 45 minutes are 3 units
    assert claim.held


def test_remove_line_closes_the_gap_and_keeps_one(ready, world):
    first = ClaimLine.get((ClaimLine.claim == ready.id) & (ClaimLine.position == 1))
    claim = life.remove_line(ready, first.id, user=world.a.owner)
    rows = list(ClaimLine.select().where(ClaimLine.claim == claim.id))
    assert [(r.position, r.cpt_code) for r in rows] == [(1, "97140")]
    assert claim.total_cents == 3500
    with pytest.raises(ClaimError, match="at least one line"):
        life.remove_line(claim, rows[0].id)


def test_set_diagnoses_refuses_codes_that_cannot_be_billed(ready):
    with pytest.raises(ClaimError, match="category, not a billable code"):
        life.set_diagnoses(ready, "M54.5")
    with pytest.raises(ClaimError, match="listed twice"):
        life.set_diagnoses(ready, "M54.50, m54.50")
    with pytest.raises(ClaimError, match="at least one diagnosis"):
        life.set_diagnoses(ready, " , ")
    with pytest.raises(ClaimError, match="at most 12"):
        life.set_diagnoses(
            ready,
            "M54.50, M54.2, M54.6, M62.830, M79.18, G44.209, S13.4XXA, M54.10, M54.11, "
            "M54.12, M54.13, M54.14, M54.15",
        )
    claim = life.set_diagnoses(ready, "m54.2 ; M54.50")
    assert [d.code for d in claim.diagnoses.order_by(Claim.diagnoses.rel_model.position)] == [
        "M54.2",
        "M54.50",
    ]


def test_void_before_the_payer_has_it_sends_nothing(ready, world):
    with pytest.raises(ClaimError, match="Say why"):
        life.void(ready, "  ")
    claim = life.void(ready, "Duplicate of another claim.", user=world.a.owner)
    assert (claim.status, claim.frequency_code) == (cs.VOID, "1")
    assert _events(claim)[-1][:4] == ("void", "ready", "void", "Duplicate of another claim.")
    with pytest.raises(cs.InvalidTransition):
        life.set_place_of_service(claim, "12")
    with pytest.raises(cs.ClaimStatusError):
        life.void(claim, "again")


def test_void_of_a_claim_the_payer_holds_needs_its_number_and_goes_out_as_8(ready, world):
    claim = life.change_status(ready, cs.SUBMITTED, user=world.a.owner, batch=None)
    with pytest.raises(cs.ClaimStatusError, match="payer's claim number"):
        life.void(claim, "Wrong client billed.")
    claim = life.set_payer_claim_number(claim, " PCN 77 ", user=world.a.owner)
    assert claim.payer_claim_number == "PCN77" and claim.status == cs.SUBMITTED
    claim = life.void(claim, "Wrong client billed.", user=world.a.owner)
    assert (claim.status, claim.frequency_code, claim.batch_id) == (cs.VOID, "8", None)
    assert "frequency 8" in _events(claim)[-1][3]


def test_close_and_appeal_need_a_reason(ready, world):
    claim = life.change_status(ready, cs.SUBMITTED)
    claim = life.change_status(claim, cs.DENIED)
    with pytest.raises(ClaimError, match="Say why you appeal"):
        life.appeal(claim, "")
    claim = life.appeal(claim, "Medical necessity letter sent.", user=world.a.owner)
    assert claim.status == cs.APPEALED
    open_ = claim.balance_cents
    assert open_ > 0
    claim = life.close(claim, "Appeal lost.", user=world.a.owner)
    # closed, what was open is written off with the same reason: the books still add up
    assert (claim.status, claim.balance_cents, claim.written_off_cents) == (cs.CLOSED, 0, open_)
    assert [(w.amount_cents, w.reason) for w in ClaimWriteOff.select()] == [(open_, "Appeal lost.")]
    assert [e[0:3] for e in _events(claim)][-3:] == [
        ("status", "denied", "appealed"),
        ("written_off", "appealed", "appealed"),
        ("status", "appealed", "closed"),
    ]


def test_closing_a_denied_claim_writes_off_once_and_closes_once(ready, world):
    claim = life.change_status(life.change_status(ready, cs.SUBMITTED), cs.DENIED)
    claim = life.close(claim, "Not covered, not appealed.", user=world.a.frontdesk)
    assert (claim.status, claim.balance_cents) == (cs.CLOSED, 0)
    assert ClaimWriteOff.select().count() == 1
    assert [e[0:3] for e in _events(claim)][-1:] == [("written_off", "denied", "closed")]


def test_closing_a_paid_claim_writes_nothing_off(ready, world):
    claim = life.change_status(ready, cs.SUBMITTED)
    Claim.update(paid_cents=claim.total_cents).where(Claim.id == claim.id).execute()
    claim = life.change_status(claim, cs.PAID)
    claim = life.close(claim, "Settled.", user=world.a.owner)
    assert claim.status == cs.CLOSED and not ClaimWriteOff.select().exists()


def test_a_rejected_claim_is_fixed_and_checked_again(ready, world):
    claim = life.change_status(ready, cs.SUBMITTED)
    claim = life.change_status(claim, cs.REJECTED, reason="277CA A7:21")
    history.add_problem(claim, "277ca_A7", "Member ID invalid.", fix_where="policy", source="277ca")
    assert Claim.get_by_id(claim.id).held
    claim = life.recheck(claim, user=world.a.frontdesk)
    assert claim.status == cs.READY and not claim.held
    assert not ClaimProblem.select().where(ClaimProblem.claim == claim.id).exists()
    assert [e[1:3] for e in _events(claim)][-2:] == [("rejected", "draft"), ("draft", "ready")]


def test_recheck_refuses_a_claim_the_payer_has(ready):
    claim = life.change_status(ready, cs.SUBMITTED)
    with pytest.raises(ClaimError, match="the payer has it"):
        life.recheck(claim)


def test_hold_takes_a_ready_claim_out_of_the_next_batch(ready, world):
    claim = life.hold(ready, "Waiting for the new card.", user=world.a.frontdesk)
    assert claim.status == cs.DRAFT


def test_secondary_claim_after_the_primary_paid(ready, world):
    a = world.a
    with pytest.raises(ClaimError, match="after the primary has paid"):
        build.create_secondary(ready)
    claim = life.change_status(ready, cs.SUBMITTED)
    claim = life.change_status(claim, cs.PARTIALLY_PAID)
    Claim.update(paid_cents=8000).where(Claim.id == claim.id).execute()
    with pytest.raises(ClaimError, match="no active secondary policy"):
        build.create_secondary(claim)
    second_payer = cf.payer(a.practice, allow_97124_97140=True)
    cf.policy(a.practice, claim.client, second_payer, rank="secondary", member_id="SEC-1")
    secondary = build.create_secondary(claim, user=a.frontdesk)
    assert (secondary.rank, secondary.primary_claim_id, secondary.primary_paid_cents) == (
        "secondary",
        claim.id,
        8000,
    )
    assert secondary.payer_id == second_payer.id
    assert secondary.patient_control_number == f"V{claim.appointment_id}S1"
    assert secondary.total_cents == claim.total_cents
    assert secondary.status == cs.READY
    assert build.create_secondary(claim).id == secondary.id  # once
    assert InsurancePolicy.get_by_id(secondary.policy_id).rank == "secondary"
