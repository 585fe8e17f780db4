"""999 and 277CA acknowledgments applied to batches and claims (services/claims/acks.py):
the 999 accepts or rejects a whole file (errors in words), the 277CA claim by claim (a
rejected claim goes back to the desk with the reason in words; an accepted one keeps the
payer's claim number). Every fixture is validated with pyx12 before it is fed."""

import datetime as dt

import pytest

from portal.models import Claim, ClaimBatch, ClaimEvent, ClaimProblem, X12Counter
from portal.services.claims import acks, batches, life
from portal.services.claims.acks import AckError
from portal.x12 import answers
from tests.claims import factories as cf
from tests.claims.test_remittances import fixture
from tests.x12.helpers import assert_valid


def _text(name):
    return fixture(name).decode("ascii")


@pytest.fixture
def sent(ctx, world):
    """The fixture batch's three claims, built into file 42 or 43 as a test asks."""
    a = cf.sendable(world.a)
    payer = cf.payer(a.practice, name="Blue Harbor Health", payer_code="BHH01")

    def build(number):
        X12Counter.insert(practice=a.practice, last_number=number - 1).on_conflict(
            conflict_target=[X12Counter.practice], update={X12Counter.last_number: number - 1}
        ).execute()
        made = [
            cf.claim(a.practice, a.c1, a.provider, payer_obj=payer, patient_control_number=pcn,
                     day=dt.date(2026, 11, 2 + n))
            for n, pcn in enumerate(("CLM0000101", "CLM0000102", "CLM0000103"))
        ]  # fmt: skip
        (batch,) = batches.build(a.practice.id)
        assert batch.group_control_number == number
        return a, batch, made

    return build


def _claims(made):
    return [Claim.get_by_id(c.id) for c in made]


def test_999_accepted_marks_the_file_accepted(sent):
    a, batch, made = sent(42)
    result = acks.apply_999(a.practice.id, _text("999_accepted.txt"))
    batch = ClaimBatch.get_by_id(batch.id)
    assert (batch.status, batch.ack_status) == ("accepted", "A")
    assert batch.ack_detail == "Accepted (A)."
    assert result.rejected == [] and {c.status for c in _claims(made)} == {"submitted"}


def test_999_rejected_rejects_the_files_claims_with_the_errors_in_words(sent):
    a, batch, made = sent(43)
    result = acks.apply_999(a.practice.id, _text("999_rejected.txt"))
    batch = ClaimBatch.get_by_id(batch.id)
    assert (batch.status, batch.ack_status) == ("rejected", "R")
    assert batch.ack_detail.splitlines() == [
        "Rejected (R).",
        "Transaction set 0001: rejected; one or more segments in error.",
        "Segment CLM (the claim's totals and codes) at position 21, loop 2300, claim "
        "CLM0000101: segment has data element errors; element 5:3 (data element 1325): "
        "invalid code value “9”.",
        "Segment DMG (a date of birth or sex) at position 19, loop 2010: segment has data "
        "element errors; element 2 (data element 1251): invalid date “19851312”.",
    ]
    assert len(result.rejected) == 3
    first, second, _ = _claims(made)
    assert {c.status for c in _claims(made)} == {"rejected"}
    (p,) = ClaimProblem.select().where(ClaimProblem.claim == first.id)
    assert p.source == "999" and p.fix_where == "claim"
    assert "Segment CLM (the claim's totals and codes)" in p.message
    assert "invalid date “19851312”" in p.message  # no claim named: every claim's
    (p2,) = ClaimProblem.select().where(ClaimProblem.claim == second.id)
    assert "Segment CLM" not in p2.message and "Segment DMG" in p2.message
    assert p2.message.endswith("Correct the claim, then send it again.")
    e = ClaimEvent.get((ClaimEvent.claim == first.id) & (ClaimEvent.to_status == "rejected"))
    assert e.from_status == "submitted" and e.batch_id == batch.id

    # The same 999 again changes nothing.
    events, problems = ClaimEvent.select().count(), ClaimProblem.select().count()
    again = acks.apply_999(a.practice.id, _text("999_rejected.txt"))
    assert again.rejected == [] and len(again.unchanged) == 3
    assert (ClaimEvent.select().count(), ClaimProblem.select().count()) == (events, problems)


def test_a_999_for_no_file_of_ours_is_refused(sent, world):
    a, batch, _ = sent(42)
    with pytest.raises(AckError, match="file number 43 .*none of the practice's 837P files"):
        acks.apply_999(a.practice.id, _text("999_rejected.txt"))
    with pytest.raises(AckError, match="none of the practice's"):  # practice b has no file 42
        acks.apply_999(world.b.practice.id, _text("999_accepted.txt"))
    with pytest.raises(AckError, match="cannot be read"):
        acks.apply_999(a.practice.id, _text("277ca_one_rejected.txt"))
    assert ClaimBatch.get_by_id(batch.id).status == "built"


def test_277ca_one_rejected_two_accepted(sent):
    a, _, made = sent(42)
    result = acks.apply_277ca(a.practice.id, _text("277ca_one_rejected.txt"))
    first, second, third = _claims(made)
    assert [c.id for c in result.accepted] == [first.id, third.id]
    assert [c.id for c in result.rejected] == [second.id] and result.unknown == []
    assert (first.status, first.payer_claim_number) == ("accepted", "BHH26336000101")
    assert (third.status, third.payer_claim_number) == ("accepted", "BHH26336000103")
    assert second.status == "rejected" and second.payer_claim_number == ""
    (p,) = ClaimProblem.select().where(ClaimProblem.claim == second.id)
    # The payer names the referring provider: fixed on the referral (its NPI), not the claim.
    assert (p.source, p.code, p.fix_where) == ("277ca", "277ca_A7_21", "referral")
    assert p.message == (
        "Blue Harbor Health rejected the claim (277CA): Rejected for invalid information: "
        "missing or invalid information (referring provider) (A7:21:DN): REFERRING PROVIDER "
        "NPI IS NOT VALID FOR THIS PAYER. Rejected for invalid information: entity's "
        "National Provider Identifier (NPI) (referring provider) (A7:562:DN): REFERRING "
        "PROVIDER NPI IS NOT VALID FOR THIS PAYER. Line 97140:59: Rejected for invalid "
        "information: procedure code modifiers (A7:453). Correct it on the client's "
        "referrals, then check the claim again and send it."
    )
    e = ClaimEvent.get((ClaimEvent.claim == second.id) & (ClaimEvent.to_status == "rejected"))
    assert e.reason.startswith("Rejected (277CA): Rejected for invalid information")
    e = ClaimEvent.get((ClaimEvent.claim == first.id) & (ClaimEvent.to_status == "accepted"))
    assert (
        e.reason == "Accepted (277CA): Accepted into adjudication: accepted for processing "
        "(payer) (A2:20:PR)"
    )

    events = ClaimEvent.select().count()
    again = acks.apply_277ca(a.practice.id, _text("277ca_one_rejected.txt"))
    assert again.accepted == again.rejected == [] and ClaimEvent.select().count() == events


def test_a_277ca_for_claims_not_ours_is_refused(sent, world):
    sent(42)
    with pytest.raises(AckError, match="None of the 3 claims this 277CA answers"):
        acks.apply_277ca(world.b.practice.id, _text("277ca_one_rejected.txt"))


def test_a_claim_paid_meanwhile_is_not_taken_back_by_a_late_rejection(sent):
    a, _, made = sent(42)
    Claim.update(status="paid").where(Claim.id == made[1].id).execute()
    result = acks.apply_277ca(a.practice.id, _text("277ca_one_rejected.txt"))
    assert Claim.get_by_id(made[1].id).status == "paid" and result.rejected == []


def test_a_999_for_an_older_file_leaves_a_claim_sent_again_since_alone(sent):
    """A file rejected by its 999, its claims corrected and sent again in a new file: the
    old file's 999 fetched once more (a copy the clearinghouse sends again, or one late)
    does not reject the claims the new file carries."""
    a, old, made = sent(43)
    acks.apply_999(a.practice.id, _text("999_rejected.txt"))
    # Corrected and checked again (the fixture's claims lack a signed note: set by hand).
    ClaimProblem.delete().execute()
    Claim.update(status="ready", held=False).execute()
    (new,) = batches.build(a.practice.id)
    assert new.id != old.id and {c.batch_id for c in _claims(made)} == {new.id}

    again = acks.apply_999(a.practice.id, _text("999_rejected.txt"))
    assert again.rejected == [] and len(again.unchanged) == 3
    assert {c.status for c in _claims(made)} == {"submitted"}
    assert not ClaimProblem.select().where(ClaimProblem.source == "999").exists()
    assert ClaimBatch.get_by_id(old.id).status == "rejected"


@pytest.mark.parametrize(
    ("segment", "values", "loop", "party", "where", "fix"),
    [
        ("NM1", ("85",), "2010AA", "the billing provider's name or ID", "practice_settings",
         "Correct it on the practice settings, then check the claim again and send it."),
        ("DMG", ("D8",), "2010BA", "the subscriber's date of birth or sex", "client",
         "Correct it on the client's details, then check the claim again and send it."),
        ("NM1", ("PR",), "2010BB", "the payer's name or ID", "payer",
         "Correct it on the payer's settings, then check the claim again and send it."),
        ("CLM", (), "2300", "the claim's totals and codes", "claim",
         "Correct the claim, then send it again."),
    ],
)  # fmt: skip
def test_a_999_error_names_whose_detail_is_wrong_and_where_it_is_fixed(
    sent, segment, values, loop, party, where, fix
):
    """The 999 points at a segment by its position in our file: the portal reads its own
    file there, so "NM1 at position 8" becomes the billing provider's NPI, fixed in the
    practice settings, not by editing the claim."""
    a, batch, made = sent(42)
    text = batches.file_bytes(batch).decode("ascii")
    position = answers.locate(text, segment, *values)
    problem = answers.SegmentProblem(segment, position, loop, "8", "2", "67", "7", "BAD")
    ack = answers.answer_999(text, control_number=901, created=dt.datetime(2026, 12, 2),
                             problems=[problem])  # fmt: skip
    assert_valid(ack)
    acks.apply_999(a.practice.id, ack)
    p = ClaimProblem.get(ClaimProblem.claim == made[0].id)
    assert f"Segment {segment} ({party}) at position {position}" in p.message
    assert p.fix_where == where and p.message.endswith(fix), p.message
    assert f"({party})" in ClaimBatch.get_by_id(batch.id).ack_detail


def test_a_277ca_numbering_a_claim_being_corrected_makes_the_correction_a_replacement(sent):
    """The first claim was edited back to draft after its file went out, before any answer
    (no payer number: it would go out again as an original). The 277CA accepting the
    sending the payer has gives its number: the correction now goes out as a corrected
    claim (frequency 7) replacing it, not as a duplicate original."""
    a, _, made = sent(42)
    line = made[0].lines.get()
    edited = life.edit_line(made[0], line.id, units=line.units, modifiers="", pointers="A",
                            charge_cents=line.charge_cents + 500)  # fmt: skip
    assert (edited.status, edited.frequency_code) == ("draft", "1")
    acks.apply_277ca(a.practice.id, _text("277ca_one_rejected.txt"))
    first, _, third = _claims(made)
    assert (first.payer_claim_number, first.frequency_code) == ("BHH26336000101", "7")
    assert first.status == "draft"  # the correction is the desk's to finish and send
    assert (third.status, third.frequency_code) == ("accepted", "1")  # not corrected: as is
