"""The claim life as a table (DOMAIN.md "Claim life", "Corrected and voided claims")."""

import itertools

import pytest

from portal.rules import claim_status as cs
from portal.rules.claim_status import (
    ACCEPTED,
    APPEALED,
    CLOSED,
    DENIED,
    DRAFT,
    PAID,
    PARTIALLY_PAID,
    READY,
    REJECTED,
    SUBMITTED,
    VOID,
)

# (from, to): the path the rule book draws, and the ways back it implies.
ALLOWED = {
    (DRAFT, READY),  # passed every check
    (READY, SUBMITTED),  # in a downloaded or uploaded batch
    (SUBMITTED, ACCEPTED), (SUBMITTED, REJECTED),  # 999 / 277CA
    (ACCEPTED, PAID), (ACCEPTED, PARTIALLY_PAID), (ACCEPTED, DENIED),  # 835
    (SUBMITTED, PAID), (SUBMITTED, PARTIALLY_PAID), (SUBMITTED, DENIED),  # 835 without a 277CA
    (ACCEPTED, REJECTED),  # a 277CA's A1 then A7
    (PAID, APPEALED), (PARTIALLY_PAID, APPEALED), (DENIED, APPEALED),
    (PAID, CLOSED), (PARTIALLY_PAID, CLOSED), (DENIED, CLOSED), (REJECTED, CLOSED),
    (APPEALED, PAID), (APPEALED, PARTIALLY_PAID), (APPEALED, DENIED), (APPEALED, CLOSED),
    (PARTIALLY_PAID, PAID), (PAID, PARTIALLY_PAID), (DENIED, PAID), (DENIED, PARTIALLY_PAID),
    # editing sends it back to draft; a ready claim that fails a check again too
    (READY, DRAFT), (SUBMITTED, DRAFT), (ACCEPTED, DRAFT), (REJECTED, DRAFT), (PAID, DRAFT),
    (PARTIALLY_PAID, DRAFT), (DENIED, DRAFT), (APPEALED, DRAFT), (CLOSED, DRAFT),
    # a reversal (CLP02 22) puts an adjudicated claim back in the payer's hands
    (PAID, ACCEPTED), (PARTIALLY_PAID, ACCEPTED), (DENIED, ACCEPTED), (CLOSED, ACCEPTED),
    # void: from anything but void itself and the in-between appeal
    (DRAFT, VOID), (READY, VOID), (SUBMITTED, VOID), (ACCEPTED, VOID), (REJECTED, VOID),
    (PAID, VOID), (PARTIALLY_PAID, VOID), (DENIED, VOID),
}  # fmt: skip


@pytest.mark.parametrize("current, new", list(itertools.product(cs.STATUSES, repeat=2)))
def test_transition_table(current, new):
    if current == new or (current, new) in ALLOWED:
        assert cs.check_transition(current, new) == new
    else:
        with pytest.raises(cs.InvalidTransition) as err:
            cs.check_transition(current, new)
        assert str(err.value).startswith(("A claim cannot go from", "This claim is void"))


@pytest.mark.parametrize(
    "current, new, message",
    [
        (DRAFT, SUBMITTED, "A claim cannot go from Draft to Submitted."),
        (REJECTED, PAID, "A claim cannot go from Rejected to Paid."),
        (VOID, DRAFT, "This claim is void: make a new claim instead."),
        ("lost", DRAFT, "Unknown claim status 'lost'."),
        (DRAFT, "lost", "Unknown claim status 'lost'."),
    ],
)
def test_refusals_say_why(current, new, message):
    with pytest.raises(cs.InvalidTransition, match=message.replace(".", r"\.")):
        cs.check_transition(current, new)


@pytest.mark.parametrize(
    "current, after",
    [(DRAFT, DRAFT), (READY, DRAFT), (SUBMITTED, DRAFT), (ACCEPTED, DRAFT), (REJECTED, DRAFT),
     (PAID, DRAFT), (DENIED, DRAFT), (CLOSED, DRAFT)],
)  # fmt: skip
def test_editing_a_claim_sends_it_back_to_draft(current, after):
    assert cs.status_after_edit(current) == after


def test_a_void_claim_cannot_be_edited():
    with pytest.raises(cs.InvalidTransition, match="void"):
        cs.status_after_edit(VOID)


@pytest.mark.parametrize(
    "before, payer_number, frequency",
    [
        (ACCEPTED, "PCN-998877", "7"),  # corrected: the payer has it under its number
        (PAID, "PCN-998877", "7"),
        (DENIED, "PCN-998877", "7"),
        (REJECTED, "", "1"),  # never entered the payer's system: a new original
        (REJECTED, "PCN-1", "1"),
        (READY, "", "1"),
        (SUBMITTED, "", "1"),  # no number known yet: nothing to replace by reference
    ],
)
def test_frequency_when_sent_again(before, payer_number, frequency):
    assert cs.frequency_for_resend(before, payer_number) == frequency


@pytest.mark.parametrize(
    "current, frequency, sent_before, result",
    [
        (DRAFT, cs.ORIGINAL, True, cs.CORRECTED),  # being corrected: replaces the numbered one
        (READY, cs.ORIGINAL, True, cs.CORRECTED),
        (DRAFT, cs.CORRECTED, True, cs.CORRECTED),
        (DRAFT, cs.ORIGINAL, False, cs.ORIGINAL),  # never sent: nothing to replace
        (SUBMITTED, cs.ORIGINAL, True, cs.ORIGINAL),  # as sent: the number changes nothing
        (PAID, cs.ORIGINAL, True, cs.ORIGINAL),
        (VOID, cs.VOIDED, True, cs.VOIDED),
    ],
)
def test_frequency_once_the_payer_numbers_the_claim(current, frequency, sent_before, result):
    assert cs.frequency_when_numbered(current, frequency, sent_before) == result


@pytest.mark.parametrize(
    "current, number, result",
    [
        (DRAFT, "", VOID),  # never sent: void here only
        (READY, "", VOID),
        (REJECTED, "", VOID),
        (PAID, "PCN-1", VOID),  # a frequency-8 claim goes to the payer
        (PAID, "", "needs the number"),
        (APPEALED, "PCN-1", "refused"),
        (VOID, "PCN-1", "refused"),
    ],
)
def test_void(current, number, result):
    if result == VOID:
        assert cs.check_void(current, number) == VOID
        assert cs.needs_void_claim(current) is (current == PAID)
    elif result == "needs the number":
        with pytest.raises(cs.ClaimStatusError, match="names the payer's claim number"):
            cs.check_void(current, number)
    else:
        with pytest.raises(cs.InvalidTransition):
            cs.check_void(current, number)


def test_frequency_codes():
    assert (cs.ORIGINAL, cs.CORRECTED, cs.VOIDED) == ("1", "7", "8")
    assert cs.FREQUENCY_LABELS["7"] == "Corrected (replacement)"


@pytest.mark.parametrize(
    "category, status",
    [("A0", None), ("A1", None), ("A2", ACCEPTED), ("A3", REJECTED), ("A4", None),
     ("A5", ACCEPTED), ("A6", REJECTED), ("A7", REJECTED), ("a8", REJECTED), ("E0", None)],
)  # fmt: skip
def test_what_a_277ca_category_does(category, status):
    assert cs.status_for_277ca(category) == status


@pytest.mark.parametrize("code, status", [("A", None), ("E", None), ("R", REJECTED),
                                          ("X", REJECTED), ("", None)])  # fmt: skip
def test_what_a_999_does(code, status):
    assert cs.status_for_999(code) == status


@pytest.mark.parametrize(
    "clp, paid, pr, adjustments, status",
    [
        ("1", 8000, 0, [("CO", "45", 2000)], PAID),  # fee schedule reduction only
        ("1", 4000, 4000, [("CO", "45", 2000), ("PR", "1", 2000), ("PR", "3", 2000)],
         PARTIALLY_PAID),  # deductible and copay under PR
        ("1", 0, 10000, [("PR", "1", 10000)], PARTIALLY_PAID),  # all to the deductible
        ("1", 5000, 0, [("CO", "45", 1000), ("CO", "50", 4000)], PARTIALLY_PAID),  # a line denied
        ("4", 0, 0, [("CO", "50", 10000)], DENIED),
        ("1", 0, 0, [("CO", "97", 10000)], DENIED),  # processed, nothing paid
        ("2", 3000, 0, [("OA", "23", 7000)], PARTIALLY_PAID),  # secondary after primary
        ("22", -8000, 0, [("CO", "45", -2000)], ACCEPTED),  # reversal
        ("1", 9800, 0, [("CO", "253", 200)], PAID),  # sequestration
    ],
)  # fmt: skip
def test_status_after_a_remittance(clp, paid, pr, adjustments, status):
    assert cs.status_for_remittance(clp, paid, pr, adjustments) == status


@pytest.mark.parametrize(
    "current, wanted, write_off_left, result",
    [
        (SUBMITTED, PAID, 0, (PAID, True)),
        (PAID, PAID, 0, (PAID, False)),  # a second payment on a paid claim
        (DRAFT, PAID, 0, (DRAFT, False)),  # edited back to draft meanwhile: kept
        (VOID, ACCEPTED, 0, (VOID, False)),  # the reversal of a void claim's payment
        (CLOSED, ACCEPTED, 0, (ACCEPTED, True)),  # a reversal reopens a closed claim
        (CLOSED, PAID, 0, (PAID, True)),  # paid after all: the write-off all recovered
        (CLOSED, PARTIALLY_PAID, 0, (PARTIALLY_PAID, True)),
        (CLOSED, PAID, 1500, (CLOSED, False)),  # part of the write-off stands: nothing open
        (CLOSED, DENIED, 0, (CLOSED, False)),  # denied again: nothing changes
    ],
)  # fmt: skip
def test_status_after_a_payers_answer(current, wanted, write_off_left, result):
    assert cs.status_after_answer(current, wanted, write_off_left) == result


def test_labels():
    assert [cs.label(s) for s in (PARTIALLY_PAID, "unknown")] == ["Partially paid", "unknown"]
    assert set(cs.LABELS) == set(cs.STATUSES) == set(cs.TRANSITIONS)


@pytest.mark.parametrize(
    ("status", "number", "last_send_rejected", "never"),
    [
        (cs.REJECTED, "", True, True),  # the clearinghouse or the payer's front end refused it
        (cs.REJECTED, "RG77", True, True),
        (cs.DRAFT, "", True, True),  # being fixed after a rejection: goes out as an original
        (cs.READY, "", True, True),
        (cs.DRAFT, "RG77", True, False),  # numbered by the payer: a correction of its bill
        (cs.DRAFT, "", False, False),  # edited after a send not rejected
        (cs.SUBMITTED, "", False, False),
        (cs.ACCEPTED, "RG77", False, False),
        (cs.DENIED, "RG77", False, False),
    ],
)
def test_never_received(status, number, last_send_rejected, never):
    """Owed on a bill no payer received: the aging table's line apart."""
    assert cs.never_received(status, number, last_send_rejected) is never
