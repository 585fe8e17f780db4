"""The client's share of a visit after a payer's answer (posting.post calls it inside its
transaction): what the visit's claims put under PR, less what the client was billed
already (the check-out estimate included), invoiced once the visit's answer is complete
(every part answered; a primary's share waits for the secondary payer, and is the
client's when the secondary denies); unpaid estimates above the share are voided first;
what the client paid beyond the share is told, to refund (back to the client, or kept as
their account credit: services/account_credit; a refund of the overpaid share settles the
invoice, and the visit's share counts it as no longer billed: a payer's reversal and the
same answer again tell of nothing more; the refund clears the note once all of it went
back). A claim the payer split over several CLPs of one 835 gets one invoice of its whole
share, however its CLPs were posted: when one matched by hand adds to the share an
earlier one of the same remittance invoiced, that invoice (nothing paid on it) is voided
and replaced by one for the whole share, as posting all the CLPs from one import makes
it."""

from peewee import fn

from portal.models.billing import (
    INVOICE_OPEN,
    LINE_PATIENT_RESPONSIBILITY,
    PAYMENT_SUCCEEDED,
    Invoice,
    InvoiceLine,
    Payment,
    Refund,
)
from portal.models.claims import Claim, ClaimPosting, ClaimProblem, RemittanceClaim
from portal.models.insurance import InsurancePolicy
from portal.rules import claim_status, edi_codes
from portal.rules.money import format_cents
from portal.services import invoicing
from portal.services.claims import history

CLIENT_SHARE_WORDS = {"1": "Deductible", "2": "Coinsurance", "3": "Copay"}


def settles_client_share(claim, answer, result):
    """Whether this answer says what the client owes for the visit: a share (PR), a
    payment with none (what was collected at check-out is then the client's), or a
    secondary's denial. Not a reversal: the payer's new answer follows it."""
    if answer.status == claim_status.REVERSAL:
        return False
    if result.patient_responsibility_cents != 0 or result.paid_cents > 0:
        return True
    return claim.rank == "secondary"  # denied: the primary's share is the client's


def _has_secondary(claim):
    """Whether a primary claim's client share waits for the secondary payer: the client
    has a secondary policy for the day, and no secondary claim of this one was denied
    (answered with nothing paid and nothing for the client: the share is the client's)."""
    if claim.rank != "primary":
        return False
    policies = InsurancePolicy.select().where(
        (InsurancePolicy.client == claim.client_id)
        & (InsurancePolicy.rank == "secondary")
        & (InsurancePolicy.active == True)  # noqa: E712
    )
    if not any(p.covers(claim.service_date) for p in policies):
        return False
    denied = _answered_secondaries(claim).where(
        (Claim.paid_cents <= 0) & (Claim.patient_resp_cents <= 0)
    )
    return not denied.exists()


def _answered_secondaries(claim):
    """The primary `claim`'s secondary claims (not void) the secondary payer answered."""
    return Claim.select().where(
        (Claim.primary_claim == claim.id)
        & (Claim.status != claim_status.VOID)
        & Claim.adjudicated_at.is_null(False)
    )


def _visit_claims(claim):
    if claim.appointment_id is None:
        return [claim]
    return list(
        Claim.select().where(
            (Claim.appointment == claim.appointment_id) & (Claim.status != claim_status.VOID)
        )
    )


def _share_pending(claim):
    """Whether the claim has yet to say its part of the visit's client share: no answer
    yet (or a reversal waiting for the new one), or a primary whose share waits for a
    secondary claim's answer."""
    if not claim_status.has_answer(claim.status, claim.adjudicated_at is not None):
        return True
    if not _has_secondary(claim):
        return False
    answered = _answered_secondaries(claim).where(Claim.status != claim_status.ACCEPTED)
    return not answered.exists()


def _waiting_parts(claim, visit):
    """The visit's other claims (parts of a visit split over several claims, and their
    secondaries) whose answer the client's share still waits for, as words ("part 2")."""
    out = []
    for c in visit:
        if c.id == claim.id or not _share_pending(c):
            continue
        rank = "" if c.rank == claim.rank else f" {c.rank}"
        out.append(f"part {c.part}{rank}")
    return out


def _clear_early_notes(claim, visit):
    """The visit's share is settled on `claim`: an overpayment told on another of its parts
    before every part was answered is no longer true."""
    others = [c for c in visit if c.id != claim.id]
    if not others:
        return
    cleared = (
        ClaimProblem.delete()
        .where(
            ClaimProblem.claim.in_([c.id for c in others])
            & (ClaimProblem.source == "835")
            & (ClaimProblem.code == "client_overpaid")
        )
        .execute()
    )
    if cleared:
        for c in others:
            history.refresh_held(c)


def _visit_invoices(claim):
    """The claim's visit's invoices to the client, void ones left out (a query of ids): the
    visit's, or for a claim without a visit those its postings made."""
    invoices = Invoice.select(Invoice.id).where(
        (Invoice.client == claim.client_id) & (Invoice.status != "void")
    )
    if claim.appointment_id is not None:
        return invoices.where(Invoice.appointment == claim.appointment_id)
    mine = ClaimPosting.select(ClaimPosting.invoice).where(
        (ClaimPosting.claim == claim.id) & ClaimPosting.invoice.is_null(False)
    )
    return invoices.where(Invoice.id.in_(mine))


def overpaid_invoice_id(claim):
    """The invoice to refund the client's overpaid share on: the visit's newest one that
    bills a share and still holds money paid (None when there is none)."""
    shares = InvoiceLine.select(InvoiceLine.invoice).where(
        InvoiceLine.kind == LINE_PATIENT_RESPONSIBILITY
    )
    found = (
        _visit_invoices(claim)
        .where(Invoice.id.in_(shares) & (Invoice.paid_cents > Invoice.refunded_cents))
        .order_by(Invoice.id.desc())
        .first()
    )
    return found.id if found else None


def _billed_to_client(claim):
    """Client-share lines already invoiced for the claim's visit (check-out estimate and
    earlier remittances alike), void invoices left out, less what was refunded on them as
    the client's overpaid share (refund.overpaid_share): given back, it is no longer billed.
    A goodwill refund still counts as billed: a larger share from the payer is owed."""
    invoices = _visit_invoices(claim)
    billed = InvoiceLine.select(fn.COALESCE(fn.SUM(InvoiceLine.amount_cents), 0)).where(
        (InvoiceLine.kind == LINE_PATIENT_RESPONSIBILITY) & InvoiceLine.invoice.in_(invoices)
    )
    given_back = (
        Refund.select(fn.COALESCE(fn.SUM(Refund.amount_cents), 0))
        .join(Payment, on=(Refund.payment == Payment.id))
        .where(
            Refund.overpaid_share
            & (Refund.status == PAYMENT_SUCCEEDED)
            & Payment.invoice.in_(invoices)
        )
    )
    return int(billed.scalar() or 0) - int(given_back.scalar() or 0)


def _unpaid_share_invoices(claim):
    """The visit's open client-share invoices nothing was paid on (an estimate the client
    left without paying, an earlier posting's share)."""
    if claim.appointment_id is None:
        return []
    found = Invoice.select().where(
        (Invoice.appointment == claim.appointment_id)
        & (Invoice.client == claim.client_id)
        & (Invoice.status == INVOICE_OPEN)
        & (Invoice.paid_cents == 0)
    )
    return [
        inv for inv in found if {line.kind for line in inv.lines} == {LINE_PATIENT_RESPONSIBILITY}
    ]


def _earlier_answer_invoices(claim, remittance):
    """The open share invoices, nothing paid on them, that earlier answers of `remittance`
    for `claim` made (a split claim's CLPs matched by hand one at a time, or one posted at
    import and the next matched by hand)."""
    made = (
        ClaimPosting.select(ClaimPosting.invoice)
        .join(RemittanceClaim, on=(ClaimPosting.remittance_claim == RemittanceClaim.id))
        .where(
            (ClaimPosting.claim == claim.id)
            & (RemittanceClaim.remittance == remittance.id)
            & ClaimPosting.invoice.is_null(False)
        )
    )
    return list(
        Invoice.select().where(
            Invoice.id.in_(made) & (Invoice.status == INVOICE_OPEN) & (Invoice.paid_cents == 0)
        )
    )


def _replace_earlier(claim, remittance, payer_name, user):
    """Void the invoices earlier answers of the remittance made for the claim (see
    _earlier_answer_invoices): the whole share is invoiced once, in their place. Returns the
    words for the claim's history ('' when none)."""
    if remittance is None:
        return ""
    replaced = _earlier_answer_invoices(claim, remittance)
    for inv in replaced:
        invoicing.void_invoice(
            inv, f"Replaced by one invoice of the claim's whole share ({payer_name})", user=user
        )
    if not replaced:
        return ""
    return f"it replaces {', '.join(inv.number for inv in replaced)}, voided."


def client_invoice(claim, by_reason, payer_name, user, remittance=None):
    """(invoice or None, note): the client's share of the visit not billed yet. When the
    client was asked for more than the payer says they owe, the invoices nothing was paid
    on are voided first (the client is asked for the share, not the estimate); what was
    paid beyond the share is told, to refund. A visit split into
    claim parts is settled once, when its last part is answered (the check-out estimate
    was for the whole visit); an overpayment told earlier on another part is cleared.
    `remittance`: the 835 whose earlier answers for the claim this one adds to (a split
    claim): when it adds to the share, their unpaid invoices are replaced by one."""
    if _has_secondary(claim):
        return None, "The client's share waits for the secondary payer's answer."
    visit = _visit_claims(claim)
    waiting = _waiting_parts(claim, visit)
    if waiting:
        parts = "part" if len(waiting) == 1 else "parts"
        return None, (
            f"The client's share of the visit waits for the visit's other {parts} "
            f"({', '.join(waiting)}): it is settled once every part is answered."
        )
    _clear_early_notes(claim, visit)
    owed = _owed(visit)
    billed = _billed_to_client(claim)
    note = ""
    if owed > billed:
        note = _replace_earlier(claim, remittance, payer_name, user)
        billed = _billed_to_client(claim) if note else billed
    if owed < billed:
        for inv in _unpaid_share_invoices(claim):
            invoicing.void_invoice(inv, f"Replaced by the share {payer_name} set", user=user)
        billed = _billed_to_client(claim)
    due = owed - billed
    if due < 0:
        return None, _overpaid_note(billed, owed)
    if due == 0:
        return None, ""
    shares = {r: c for (g, r), c in by_reason.items() if g == "PR" and c > 0}
    lines = _share_lines(shares, due, claim, payer_name)
    inv = invoicing.create_invoice(
        practice_id=claim.practice_id,
        client_id=claim.client_id,
        lines=lines,
        reason="insurance",
        appointment_id=claim.appointment_id,
        user=user,
        note=f"Your share after {payer_name} paid",
    )
    return inv, note


def _owed(visit):
    """The client's share of the visit: its claims' PR, a primary's left out while it waits
    for the secondary payer."""
    return sum(c.patient_resp_cents for c in visit if not _has_secondary(c))


def _overpaid_note(billed, owed):
    return (
        f"The client was billed {format_cents(billed)} for this visit but owes "
        f"{format_cents(owed)}: refund {format_cents(billed - owed)} on the visit's invoice "
        'as "the client\'s overpaid insurance share", back to the client or kept as their '
        "account credit (either settles it, and this claim counts it)."
    )


def on_payment_refunded(payment, refund=None, user=None, **kw):
    """payment_refunded (inside the refund's transaction): a refund of the client's
    overpaid insurance share answers the visit's claims' "refund ..." note. Once all the
    client overpaid went back the note is cleared (the claim no longer held by it) and the
    claim's history says so; a part refunded leaves the note saying what is left."""
    if refund is None or not refund.overpaid_share:
        return
    inv = Invoice.get_by_id(payment.invoice_id)
    related = Claim.select(Claim.id).where(Claim.client == inv.client_id)
    if inv.appointment_id is not None:
        related = related.where(Claim.appointment == inv.appointment_id)
    else:
        posted = ClaimPosting.select(ClaimPosting.claim).where(ClaimPosting.invoice == inv.id)
        related = related.where(Claim.id.in_(posted))
    told = ClaimProblem.select().where(
        (ClaimProblem.code == "client_overpaid") & ClaimProblem.claim.in_(related)
    )
    for problem in told:
        claim = Claim.get_by_id(problem.claim_id)
        owed = _owed(_visit_claims(claim))
        billed = _billed_to_client(claim)
        if billed > owed:
            problem.message = _overpaid_note(billed, owed)
            problem.save()
            continue
        problem.delete_instance()
        history.refresh_held(claim)
        history.event(
            claim,
            "client_refund",
            user=user,
            from_status=claim.status,
            to_status=claim.status,
            amount_cents=refund.amount_cents,
            reason="The client's overpaid share was refunded: nothing more to give back.",
        )


def _share_lines(shares, due, claim, payer_name):
    """Invoice lines naming the share (deductible, copay ...) when they add up to what is
    due; one line for the rest otherwise (a check-out payment already covered part)."""
    when = f"{claim.service_date:%b %d, %Y}"
    if sum(shares.values()) != due:
        shares = {"": due}
    out = []
    for reason, cents in sorted(shares.items()):
        words = CLIENT_SHARE_WORDS.get(reason) or (
            edi_codes.carc_text(reason) if reason else "Your share"
        )
        out.append(
            {
                "kind": LINE_PATIENT_RESPONSIBILITY,
                "description": f"{words}: visit of {when} ({payer_name})",
                "unit_cents": cents,
                "service_date": claim.service_date,
                "appointment_id": claim.appointment_id,
                "provider_id": claim.provider_id,
            }
        )
    return out
