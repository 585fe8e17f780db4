"""The life of a claim as a transition table, with explicit errors (DOMAIN.md "Claim life").

draft -> ready (passed every check) -> submitted (in a downloaded or uploaded batch) ->
accepted or rejected -> paid, partially paid or denied -> appealed or closed. Editing a
claim the payer may have sends it back to draft, and it goes out again as a corrected
claim (frequency 7, with the payer's claim number) or, when the payer never took it in,
as a new original (1). Voiding a claim the payer has sends a void (8).

How to call (the service writes the change and its history row in one transaction):

    new = check_transition(claim.status, READY)        # raises InvalidTransition
    new = status_after_edit(claim.status)              # DRAFT (or raises for a void claim)
    freq = frequency_for_resend(claim.status, payer_claim_number)   # "1" or "7"
    freq = frequency_when_numbered(claim.status, claim.frequency_code, sent_before)
    needs_void_claim(claim.status)                     # True: send a frequency-8 claim
    status_for_277ca("A7")                             # REJECTED; None: no change
    status_for_999("R")                                # REJECTED; None: no change
    status_for_remittance(clp_status, paid, patient_resp, adjustments)   # see its docstring
"""

from collections.abc import Iterable

DRAFT = "draft"
READY = "ready"
SUBMITTED = "submitted"
ACCEPTED = "accepted"
REJECTED = "rejected"
PAID = "paid"
PARTIALLY_PAID = "partially_paid"
DENIED = "denied"
APPEALED = "appealed"
CLOSED = "closed"
VOID = "void"

STATUSES = (DRAFT, READY, SUBMITTED, ACCEPTED, REJECTED, PAID, PARTIALLY_PAID, DENIED,
            APPEALED, CLOSED, VOID)  # fmt: skip
LABELS = {
    DRAFT: "Draft",
    READY: "Ready",
    SUBMITTED: "Submitted",
    ACCEPTED: "Accepted",
    REJECTED: "Rejected",
    PAID: "Paid",
    PARTIALLY_PAID: "Partially paid",
    DENIED: "Denied",
    APPEALED: "Appealed",
    CLOSED: "Closed",
    VOID: "Void",
}

# The outcome of an 835 (paid, partially paid, denied) may come without an acknowledgment
# first; a reversal (CLP02 = 22) takes a paid, denied or closed claim back to accepted.
_ADJUDICATED = frozenset({PAID, PARTIALLY_PAID, DENIED})
TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({READY, VOID}),
    READY: frozenset({DRAFT, SUBMITTED, VOID}),
    SUBMITTED: frozenset({DRAFT, ACCEPTED, REJECTED, VOID} | _ADJUDICATED),
    ACCEPTED: frozenset({DRAFT, REJECTED, VOID} | _ADJUDICATED),
    REJECTED: frozenset({DRAFT, CLOSED, VOID}),
    PAID: frozenset({DRAFT, ACCEPTED, APPEALED, CLOSED, VOID, PARTIALLY_PAID}),
    PARTIALLY_PAID: frozenset({DRAFT, ACCEPTED, APPEALED, CLOSED, VOID, PAID}),
    DENIED: frozenset({DRAFT, ACCEPTED, APPEALED, CLOSED, VOID, PAID, PARTIALLY_PAID}),
    APPEALED: frozenset({CLOSED, DRAFT} | _ADJUDICATED),
    CLOSED: frozenset({DRAFT, ACCEPTED}),
    VOID: frozenset(),
}

# Statuses in which the payer holds the claim (it entered its system or may have).
PAYER_HAS_IT = frozenset({SUBMITTED, ACCEPTED, PAID, PARTIALLY_PAID, DENIED, APPEALED, CLOSED})
# Receivables: claims the payer has been billed for and that may still bring money (a paid
# claim is settled: what the payer did not pay was adjusted or billed to the client) ...
BILLED_UNSETTLED = frozenset({SUBMITTED, ACCEPTED, REJECTED, PARTIALLY_PAID, DENIED, APPEALED})
# ... and a claim sent before (submitted_at, or the payer's claim number), edited back to
# draft or ready for a correction: the payer still has the original bill.
BEING_CORRECTED = frozenset({DRAFT, READY})
# Statuses the front desk's work list shows: something to do.
NEEDS_ATTENTION = frozenset({REJECTED, DENIED, PARTIALLY_PAID})

ORIGINAL, CORRECTED, VOIDED = "1", "7", "8"  # CLM05-3, the claim frequency code
REVERSAL = "22"  # CLP02: a reversal of a previous payment
FREQUENCY_LABELS = {ORIGINAL: "Original", CORRECTED: "Corrected (replacement)", VOIDED: "Void"}


class ClaimStatusError(ValueError):
    """A claim status change that breaks a rule; the message is for the user."""


class InvalidTransition(ClaimStatusError):
    pass


def label(status: str) -> str:
    return LABELS.get(status, status)


def check_transition(current: str, new: str) -> str:
    """`new` when a claim may go from `current` to it; raises InvalidTransition otherwise."""
    if current not in TRANSITIONS:
        raise InvalidTransition(f"Unknown claim status {current!r}.")
    if new not in TRANSITIONS:
        raise InvalidTransition(f"Unknown claim status {new!r}.")
    if new == current:
        return new
    if new not in TRANSITIONS[current]:
        if current == VOID:
            raise InvalidTransition("This claim is void: make a new claim instead.")
        raise InvalidTransition(f"A claim cannot go from {label(current)} to {label(new)}.")
    return new


def status_after_edit(current: str) -> str:
    """Editing a claim sends it back to draft (to be checked and sent again)."""
    if current == VOID:
        raise InvalidTransition("This claim is void: make a new claim instead.")
    if current == DRAFT:
        return DRAFT
    return check_transition(current, DRAFT)


def frequency_for_resend(status_before_edit: str, payer_claim_number: str = "") -> str:
    """CLM05-3 for a claim sent again after an edit: 7 (corrected, with REF*F8 = the
    payer's claim number) when the payer took the claim in and gave it a number; 1 when
    it never entered the payer's system (rejected, or not sent yet)."""
    if status_before_edit in PAYER_HAS_IT and payer_claim_number.strip():
        return CORRECTED
    return ORIGINAL


def frequency_when_numbered(current: str, frequency: str, sent_before: bool) -> str:
    """CLM05-3 once the payer gives its claim number (an 835 or 277CA answering the
    earlier sending, or the number typed in): a claim being corrected (sent before, edited
    back to draft or ready) goes out as a corrected claim (7) replacing the one the payer
    has, not as a second original, which the payer would deny as a duplicate (CARC 18).
    Any other claim keeps its frequency.

    frequency_when_numbered(DRAFT, ORIGINAL, True) == CORRECTED
    frequency_when_numbered(DRAFT, ORIGINAL, False) == ORIGINAL   # never sent
    """
    if current in BEING_CORRECTED and sent_before and frequency == ORIGINAL:
        return CORRECTED
    return frequency


def needs_void_claim(current: str) -> bool:
    """True when voiding must send the payer a frequency-8 claim (the payer has it)."""
    return current in PAYER_HAS_IT


def check_void(current: str, payer_claim_number: str = "") -> str:
    """VOID when the claim may be voided; a void sent to the payer needs its claim number."""
    if current == VOID:
        raise InvalidTransition("This claim is already void.")
    check_transition(current, VOID)
    if needs_void_claim(current) and not payer_claim_number.strip():
        raise ClaimStatusError(
            "The payer has this claim: a void names the payer's claim number (from its "
            "835 or 277CA). Enter it first."
        )
    return VOID


def is_receivable(current: str, sent_before: bool, payer_claim_number: str = "") -> bool:
    """Whether the claim's open balance is owed on a bill the payer has had (the aging
    table, the claims-by-status report and the work list agree on it): billed and not
    settled, or being corrected after it was sent. Aged from its date of service either
    way: a correction does not make the debt younger. A void claim owes nothing."""
    if current in BILLED_UNSETTLED:
        return True
    return current in BEING_CORRECTED and (sent_before or bool(payer_claim_number.strip()))


def never_received(current: str, payer_claim_number: str = "", last_send_rejected=False) -> bool:
    """Whether a receivable is owed on a bill no payer received: rejected (by the
    clearinghouse or the payer's front end: a 999, a TA1, a 277CA), or being fixed after
    that (draft or ready again, its last send rejected, never numbered by the payer: it goes
    out again as an original). Still money owed, but not with the payer: the aging table
    shows it on a line of its own, not in the payer's buckets."""
    if current == REJECTED:
        return True
    return current in BEING_CORRECTED and last_send_rejected and not payer_claim_number.strip()


def has_answer(current: str, adjudicated: bool) -> bool:
    """Whether the payer's answer (paid, partly paid, denied) stands on the claim: it was
    adjudicated and not reversed since (a reversal takes it back to accepted until the
    payer's new answer). A claim edited back to draft after its answer keeps it."""
    return adjudicated and current not in (ACCEPTED, VOID)


def takes_payments(current: str, sent_before: bool, payer_claim_number: str = "") -> bool:
    """Whether payments are posted by hand to the claim and its balance written off: only
    once the payer has had it (sent now, or sent before an edit took it back to draft)."""
    if current == VOID:
        return False
    return (
        current in PAYER_HAS_IT
        or current == REJECTED
        or sent_before
        or bool(payer_claim_number.strip())
    )


def status_after_answer(current: str, wanted: str, write_off_left_cents: int = 0):
    """(status, changed) for a claim the payer answers with `wanted` (from
    status_for_remittance): the answer's status when the claim's life allows the move; a
    claim edited back to draft meanwhile keeps its status (the money is still posted).

    A closed claim the payer pays after all (no reversal first) is reopened to what the
    payer says, paid or partially paid, when that money took back everything the practice
    had written off; with a write-off left, or a denial, it stays closed: nothing is open.

    status_after_answer(CLOSED, PAID, 0) == (PAID, True)
    status_after_answer(CLOSED, PAID, 1000) == (CLOSED, False)
    """
    if wanted == current:
        return current, False
    if current == CLOSED and wanted in (PAID, PARTIALLY_PAID):
        return (wanted, True) if write_off_left_cents <= 0 else (current, False)
    if wanted not in TRANSITIONS.get(current, ()):
        return current, False
    return wanted, True


# --- what acknowledgments and remittances do --------------------------------------------------

_REJECTED_277 = frozenset({"A3", "A6", "A7", "A8"})
_ACCEPTED_277 = frozenset({"A2", "A5"})


def status_for_277ca(category: str) -> str | None:
    """A 277CA status category -> the claim's new status, or None for no change.

    A2 (accepted into adjudication) and A5 (split on acceptance) -> accepted; A3, A6, A7,
    A8 (returned, rejected) -> rejected; A0 (forwarded), A1 (received), A4 (not found) and
    anything else -> no change (A4 is worth showing: the payer does not find the claim).
    """
    category = (category or "").strip().upper()
    if category in _ACCEPTED_277:
        return ACCEPTED
    if category in _REJECTED_277:
        return REJECTED
    return None


def status_for_999(ack_code: str) -> str | None:
    """A 999's IK501 for the transaction set that carried the claim -> new status or None.

    R (and M, W, X: rejected for security or syntax) -> rejected; A and E (accepted, with
    errors noted) -> no change: acceptance of the file is not acceptance of the claim.
    """
    return REJECTED if (ack_code or "").strip().upper() in {"R", "M", "W", "X"} else None


# Adjustments that only bring the charge down to what the payer allows: a claim paid with
# only these is paid in full.
FEE_SCHEDULE_REASONS = frozenset({"45", "253", "42", "59", "94"})


def status_for_remittance(
    clp_status: str,
    paid_cents: int,
    patient_responsibility_cents: int,
    adjustments: Iterable[tuple[str, str, int]] = (),
) -> str:
    """The claim's status after an 835's CLP for it.

    clp_status is CLP02 (1, 2, 3 processed as primary/secondary/tertiary, 4 denied, 19-21
    processed and forwarded, 22 reversal of a previous payment, 23 not our claim).
    adjustments are (group, reason, cents) from the claim's and its lines' CAS segments.

    - 22 -> accepted (the earlier payment is taken back; a new CLP usually follows);
    - 4, or nothing paid and nothing owed by the client -> denied;
    - something owed by the client (PR), or an adjustment other than a fee-schedule
      reduction (CO/PI/OA with a reason outside FEE_SCHEDULE_REASONS, e.g. a line denied
      as not medically necessary) -> partially paid;
    - otherwise -> paid.
    """
    code = (clp_status or "").strip()
    if code == REVERSAL:
        return ACCEPTED
    if code == "4" or (paid_cents <= 0 and patient_responsibility_cents <= 0):
        return DENIED
    if patient_responsibility_cents > 0:
        return PARTIALLY_PAID
    for group, reason, cents in adjustments:
        if cents and group != "PR" and reason not in FEE_SCHEDULE_REASONS:
            return PARTIALLY_PAID
    return PAID
