"""What a payer paid on a claim, posted to the books: by hand per line, or from an 835
(remittances.py reads the file and calls `post`). One IMMEDIATE transaction each, with
the claim's history row and the audit row.

    result = post(claim, PayerAnswer(status="1", charge_cents=..., paid_cents=...,
                                     patient_responsibility_cents=...,
                                     lines=(PaidLine(claim_line, allowed, paid, adjs), ...)),
                  user=user, source="manual")
    result.status, result.invoice (the client's share, or None), result.problems
    write_off(claim, amount_cents, reason, user=user)

How the money lands (rules/claim_money.post_remittance does the arithmetic):
- paid -> Claim.paid_cents (payer revenue); allowed -> Claim.allowed_cents;
- PR (deductible, coinsurance, copay ...) -> Claim.patient_resp_cents and an invoice to the
  client through services.invoicing, for what the visit's client share comes to less
  what was billed to the client already (the estimate collected at check-out included),
  after voiding unpaid share invoices when the client was asked for more than the share;
  a payment with no PR settles the share too (the estimate paid is then an overpayment),
  a reversal does not (the payer's new answer does);
  a primary claim's share waits when the client has a secondary policy for that day,
  and is the client's when the secondary denies (pays nothing, puts nothing under PR);
  a visit split into claim parts is settled once every part (and its secondary) has its
  answer, by the last one: the check-out estimate was for the whole visit; a claim an
  835 answers in several CLPs (Split) is settled by its last, its status from them all;
- reductions to the payer's fee schedule (CO/PI/OA/CR 45, 253 ..., and OA 23 on a
  secondary) -> Claim.adjusted_cents: nothing to decide;
- any other adjustment (a denial: CO 50, 96, 197 ...) stays in the claim's balance, to be
  appealed or written off with a reason (write_off), and shows on the work list.
Postings and adjustments are append-only: a reversal (CLP02 22) posts negative amounts,
to a void claim too (the payer taking back its payment once it processed the void).
Money that arrives for an amount written off recovers the write-off (a negative write-off
row for what the posting settled beyond the open balance, in the same transaction).
"""

import dataclasses

from peewee import Case

from portal import audit, clock
from portal.db import database
from portal.models.billing import (
    Invoice,
)
from portal.models.claims import (
    Claim,
    ClaimAdjustment,
    ClaimLine,
    ClaimPosting,
    ClaimProblem,
    ClaimWriteOff,
)
from portal.models.insurance import Payer
from portal.rules import claim_money, claim_status, edi_codes
from portal.rules.money import format_cents
from portal.services.claims import history, share

AUTO_ADJUSTED = claim_status.FEE_SCHEDULE_REASONS


class PostingError(Exception):
    """A posting refused; the message is for the person posting."""


class MixedAnswer(PostingError):
    """Lines taking money back and lines paying, typed as one answer."""


class BadPaymentDate(PostingError):
    """The payer's date typed with a payment by hand cannot be its date."""


VOID_CLAIM = "This claim is void: post the payment to the claim that replaced it."


def check_takes_payments(claim):
    """Refuse a payment by hand or a write-off on a void claim or one the payer has never
    had."""
    if claim.status == claim_status.VOID:
        raise PostingError(VOID_CLAIM)
    sent = claim.submitted_at is not None
    if not claim_status.takes_payments(claim.status, sent, claim.payer_claim_number or ""):
        raise PostingError(
            "This claim has not been sent to the payer yet: payments are posted once it is "
            "sent. To stop billing the visit, void the claim."
        )


def takes_back(claim, answer):
    """A reversal (CLP02 22) of a void claim's payment: the payer taking back what it paid
    (as it does when it processes the void), posted to the void claim so the books show
    the money gone; the claim stays void."""
    return claim.status == claim_status.VOID and answer.status == claim_status.REVERSAL


@dataclasses.dataclass(frozen=True)
class PaidLine:
    """What the payer did with one line (claim_line None: the claim as a whole)."""

    claim_line: ClaimLine | None
    allowed_cents: int
    paid_cents: int
    adjustments: tuple[claim_money.Adj, ...] = ()
    remarks: tuple[str, ...] = ()
    charge_cents: int | None = None  # as the payer read it; None: the claim line's
    code: str = ""  # the procedure, when no claim line matched it

    @property
    def is_service(self):
        """A service line (matched to a claim line or not), not the claim as a whole."""
        return self.claim_line is not None or self.charge_cents is not None

    @property
    def charge(self):
        return self.charge_cents if self.charge_cents is not None else self.claim_line.charge_cents

    @property
    def what(self):
        return self.claim_line.cpt_code if self.claim_line is not None else self.code


@dataclasses.dataclass(frozen=True)
class PayerAnswer:
    """One payer's answer for one claim (an 835 CLP, or an EOB typed in)."""

    status: str  # CLP02: 1, 2 processed, 4 denied, 22 reversal
    charge_cents: int
    paid_cents: int
    patient_responsibility_cents: int
    lines: tuple[PaidLine, ...]
    payer_claim_number: str = ""  # CLP07


@dataclasses.dataclass(frozen=True)
class Split:
    """Where an answer stands among the CLPs one 835 holds for the same claim (a payer
    splitting a claim over several CLPs with the same CLP01): `earlier` are the claim's
    answers posted before this one from the file (since its last reversal), `last` says
    no other follows. The claim's status comes from all of them together, their problems
    are kept side by side, and the client's share is settled once, by the last."""

    earlier: tuple[PayerAnswer, ...] = ()
    last: bool = True


ALONE = Split()


def answer_by_hand(lines, payer_claim_number=""):
    """The PayerAnswer of an EOB typed in line by line. Lines that take money back (their
    charge counted negative: the payer took back what it paid) make a reversal (CLP02 22),
    as an 835 reports it, so the claim goes back to accepted for the payer's new answer,
    not to denied; lines that pay make a processed answer (1). Both at once are refused:
    they are two answers from the payer."""
    taken_back = {pl.charge < 0 for pl in lines}
    if len(taken_back) > 1:
        raise MixedAnswer(
            "Post what the payer took back and what it paid again separately: a take-back "
            "is a reversal of the claim, the new payment another answer."
        )
    return PayerAnswer(
        status=claim_status.REVERSAL if True in taken_back else "1",
        charge_cents=sum(pl.charge for pl in lines),
        paid_cents=sum(pl.paid_cents for pl in lines),
        patient_responsibility_cents=sum(
            a.cents for pl in lines for a in pl.adjustments if a.group == "PR"
        ),
        lines=tuple(lines),
        payer_claim_number=payer_claim_number,
    )


@dataclasses.dataclass
class PostResult:
    claim: Claim
    status: str
    status_changed: bool
    invoice: Invoice | None
    problems: list[str]
    posting: claim_money.Posting


def is_auto_adjusted(adj):
    """A reduction to the fee schedule (or the prior payer's share): no decision needed."""
    if adj.group == "PR":
        return False
    if adj.group == "OA" and adj.reason == claim_money.PRIOR_PAYER_REASON:
        return True
    return adj.reason in AUTO_ADJUSTED


def _remit_claim(answer):
    claim_level = tuple(a for pl in answer.lines if not pl.is_service for a in pl.adjustments)
    lines = tuple(
        claim_money.RemitLine(pl.charge, pl.paid_cents, pl.adjustments, pl.what)
        for pl in answer.lines
        if pl.is_service
    )
    return claim_money.RemitClaim(
        answer.status,
        answer.charge_cents,
        answer.paid_cents,
        answer.patient_responsibility_cents,
        claim_level,
        lines,
    )


# --- posting -----------------------------------------------------------------------------


def _not_below_zero(expression):
    """An SQL sum kept at zero or more (a reversal takes back what was allowed; the column
    refuses a negative)."""
    return Case(None, [(expression < 0, 0)], expression)


def _add_lines(answer):
    """Cached per-line sums (allowed, paid, client share, auto-adjusted)."""
    for pl in answer.lines:
        if pl.claim_line is None:
            continue
        pr = sum(a.cents for a in pl.adjustments if a.group == "PR")
        auto = sum(a.cents for a in pl.adjustments if is_auto_adjusted(a))
        ClaimLine.update(
            allowed_cents=_not_below_zero(ClaimLine.allowed_cents + pl.allowed_cents),
            paid_cents=ClaimLine.paid_cents + pl.paid_cents,
            patient_resp_cents=ClaimLine.patient_resp_cents + pr,
            adjusted_cents=ClaimLine.adjusted_cents + auto,
        ).where(ClaimLine.id == pl.claim_line.id).execute()


def check_paid_on(claim, paid_on, today):
    """Refuse a payer's date typed by hand that cannot be the payment's: after `today` (the
    practice's date) or before the claim's date of service."""
    if paid_on is None:
        return
    if paid_on > today:
        raise BadPaymentDate(
            f"{paid_on:%b %-d, %Y} is after today: enter the date on the EOB (the check or "
            "EFT date)."
        )
    if paid_on < claim.service_date:
        raise BadPaymentDate(
            f"{paid_on:%b %-d, %Y} is before the visit ({claim.service_date:%b %-d, %Y}): "
            "enter the date on the EOB (the check or EFT date)."
        )


def _write_postings(claim, answer, remittance_claim, invoice, note, user, now, paid_on):
    for pl in answer.lines:
        row = ClaimPosting.create(
            practice=claim.practice_id,
            claim=claim.id,
            claim_line=pl.claim_line.id if pl.claim_line is not None else None,
            remittance_claim=remittance_claim.id if remittance_claim is not None else None,
            allowed_cents=pl.allowed_cents,
            paid_cents=pl.paid_cents,
            invoice=invoice.id if invoice is not None else None,
            note=note[:255],
            paid_on=paid_on,
            created_by=user.id if user is not None else None,
            created_at=now,
        )
        for a in pl.adjustments:
            ClaimAdjustment.create(
                practice=claim.practice_id,
                posting=row.id,
                group_code=a.group,
                reason_code=a.reason,
                amount_cents=a.cents,
            )


def open_adjustments(answer):
    """The adjustments left for the practice to decide on (denials), with their words."""
    out = []
    for pl in answer.lines:
        for a in pl.adjustments:
            if a.group != "PR" and not is_auto_adjusted(a) and a.cents > 0:
                what = pl.what or "The claim"
                out.append((what, a, edi_codes.adjustment_text(a.group, a.reason)))
    return out


def _problems(claim, answer, result, share_note, keep=False):
    """Replace the claim's 835 problems with this answer's: denials to appeal or write
    off, amounts that do not add up, a client overpayment. An adjudicated claim's
    rejections (999, 277CA, TA1) are over. `keep`: the answer adds to the claim's earlier
    answers from the same 835 (a split claim), whose problems stay."""
    if not keep:
        ClaimProblem.delete().where(
            (ClaimProblem.claim == claim.id) & ClaimProblem.source.in_(history.SENT)
        ).execute()
    messages = []
    if takes_lines_back(answer):
        for pl in answer.lines:
            if _taken_back(pl):
                messages.append(("taken_back", (
                    f"{pl.what or 'A line'}: the payer took back "
                    f"{format_cents(-pl.paid_cents)} it had paid. The amount is open again: "
                    "ask the payer why, then bill it again, appeal, or write it off."
                )))  # fmt: skip
    for what, a, words in open_adjustments(answer):
        messages.append(
            (
                "denied",
                f"{what}: {format_cents(a.cents)} not paid — {words}. Appeal it, or write it off.",
            )
        )
    messages += [("remittance_imbalance", p) for p in result.problems]
    if share_note and "refund" in share_note:
        messages.append(("client_overpaid", share_note))
    for code, message in messages:
        history.add_problem(claim, code, message, source="835")
    history.refresh_held(claim)
    return [m for _, m in messages]


def _reason(source, result, invoice, share_note, old, new, wanted):
    parts = [f"{source}: paid {format_cents(result.paid_cents)}"]
    if result.patient_responsibility_cents:
        parts.append(f"client's share {format_cents(result.patient_responsibility_cents)}")
    if invoice is not None:
        parts.append(f"invoiced as {invoice.number}")
    if share_note:
        parts.append(share_note.rstrip("."))
    if old == new and wanted != old:
        parts.append(f"status kept ({claim_status.label(old)})")
    return "; ".join(parts) + "."


def post(claim, answer, *, user=None, source="Posted by hand", remittance_claim=None,
         remittance=None, note="", split=ALONE, paid_on=None):  # fmt: skip
    """Post one payer answer to `claim` (see the module's notes). `source` opens the
    history line ("835 from Acme Health, check 123"); `split` places an 835's answer
    among the file's others for the claim (Split); `paid_on`, by hand only, the payer's
    date of the payment as typed from the EOB (an 835's is its remittance's BPR16).
    Returns a PostResult."""
    with database.atomic("IMMEDIATE"):
        claim = Claim.get_by_id(claim.id)
        from_835 = remittance_claim is not None or remittance is not None
        if from_835 and paid_on is not None:
            raise ValueError("an 835's payment is dated by its remittance (BPR16)")
        if not from_835:
            check_takes_payments(claim)  # by hand (an 835 is the payer's own word)
            check_paid_on(claim, paid_on, clock.today(claim.practice.tz))
        elif claim.status == claim_status.VOID and not takes_back(claim, answer):
            raise PostingError(VOID_CLAIM)
        result = claim_money.post_remittance(_remit_claim(answer))
        whole = _whole(split, answer, result)
        now = clock.utcnow()
        old = claim.status
        auto = sum(a.cents for pl in answer.lines for a in pl.adjustments if is_auto_adjusted(a))
        posted = result.paid_cents + result.patient_responsibility_cents + auto
        recovered = _recovered(claim, posted)
        wanted = whole.status
        if takes_lines_back(answer):
            wanted = _status_after_take_back(claim, result, posted, recovered)
        new, changed = claim_status.status_after_answer(
            old, wanted, claim.written_off_cents - recovered
        )
        values = {
            "allowed_cents": _not_below_zero(
                Claim.allowed_cents + sum(pl.allowed_cents for pl in answer.lines)
            ),
            "paid_cents": Claim.paid_cents + result.paid_cents,
            "patient_resp_cents": Claim.patient_resp_cents + result.patient_responsibility_cents,
            "adjusted_cents": Claim.adjusted_cents + auto,
            "status": new,
            "adjudicated_at": now,
            "updated_at": now,
        }
        if answer.payer_claim_number:
            values["payer_claim_number"] = answer.payer_claim_number[:255]
            values["frequency_code"] = claim_status.frequency_when_numbered(
                new, claim.frequency_code, claim.submitted_at is not None
            )
        Claim.update(**values).where(Claim.id == claim.id).execute()
        _add_lines(answer)
        claim = Claim.get_by_id(claim.id)
        payer_name = Payer.get_by_id(claim.payer_id).name
        claim = _recover_write_off(claim, recovered, payer_name, user, now)
        invoice, share_note = None, ""
        if not split.last:
            share_note = "The client's share is settled with the claim's next answer in this 835."
        elif share.settles_client_share(claim, answer, whole):
            invoice, share_note = share.client_invoice(
                claim, whole.by_reason, payer_name, user, remittance if split.earlier else None
            )
        _write_postings(claim, answer, remittance_claim, invoice, note, user, now, paid_on)
        problems = _problems(claim, answer, result, share_note, keep=bool(split.earlier))
        history.event(
            claim,
            "posted",
            user=user,
            from_status=old,
            to_status=new,
            reason=_reason(source, result, invoice, share_note, old, new, wanted),
            amount_cents=result.paid_cents,
            remittance=remittance,
            paid_on=paid_on,
        )
        audit.record("claim.post", obj=claim, detail=f"paid {format_cents(result.paid_cents)}",
                     user=user)  # fmt: skip
    return PostResult(claim, new, changed, invoice, problems, result)


def _whole(split, answer, result):
    """The claim_money.Posting of everything the 835 said about the claim up to `answer`
    (its status and client share): `result` itself unless the claim is split over CLPs."""
    if not split.earlier:
        return result
    parts = [_remit_claim(a) for a in split.earlier] + [_remit_claim(answer)]
    return claim_money.post_remittance(claim_money.combine(parts))


def takes_lines_back(answer):
    """An answer that takes back what the payer paid on a line (a negative line payment)
    without reversing the claim (CLP02 22): a take-back of one line, as some payers send
    it."""
    return answer.status != claim_status.REVERSAL and any(_taken_back(pl) for pl in answer.lines)


def _taken_back(pl):
    """A service line paying less than nothing (not the claim-level rest, which is below
    zero when claim-level adjustments come off the lines' payments)."""
    return pl.is_service and pl.paid_cents < 0


def _status_after_take_back(claim, result, posted, recovered):
    """The status from what the claim holds once the answer is posted (not from this
    answer alone, which takes money back and would read as a denial)."""
    paid = claim.paid_cents + result.paid_cents
    client = claim.patient_resp_cents + result.patient_responsibility_cents
    settled = claim.paid_cents + claim.patient_resp_cents + claim.adjusted_cents + posted
    open_cents = claim.total_cents - settled - (claim.written_off_cents - recovered)
    return claim_money.status_after_take_back(paid, client, open_cents)


def _recovered(claim, posted):
    """What of the claim's write-off `posted` cents (paid, client share and adjusted of one
    answer, not yet on `claim`) take back: money a payer sends after the practice wrote an
    amount off recovers the write-off (an AR ledger's rule)."""
    settled = claim.paid_cents + claim.patient_resp_cents + claim.adjusted_cents + posted
    return claim_money.recovered_write_off(
        claim.total_cents, settled, posted, claim.written_off_cents
    )


def _recover_write_off(claim, cents, payer_name, user, now):
    """A negative write-off row for the `cents` the payer's money recovered (_recovered), so
    charged = paid + client share + adjusted + written off + open. Returns the claim as it
    now reads."""
    if cents <= 0:
        return claim
    reason = f"Recovered: paid by {payer_name} after the write-off"
    ClaimWriteOff.create(
        practice=claim.practice_id,
        claim=claim.id,
        amount_cents=-cents,
        reason=reason[:255],
        created_by=user.id if user is not None else None,
        created_at=now,
    )
    Claim.update(written_off_cents=Claim.written_off_cents - cents).where(
        Claim.id == claim.id
    ).execute()
    history.event(claim, "write_off_recovered", user=user, from_status=claim.status,
                  to_status=claim.status, reason=f"{reason} ({format_cents(cents)}).",
                  amount_cents=-cents)  # fmt: skip
    audit.record("claim.write_off_recovered", obj=claim, detail=format_cents(cents), user=user)
    return Claim.get_by_id(claim.id)


# --- write-off ---------------------------------------------------------------------------

CLOSE_WHEN_SETTLED = frozenset({claim_status.DENIED, claim_status.PARTIALLY_PAID,
                                claim_status.REJECTED})  # fmt: skip


def write_off(claim, amount_cents, reason, user=None):
    """Stop pursuing `amount_cents` of the claim's open balance, for `reason`. A denied or
    partly paid claim with nothing left open is closed."""
    reason = (reason or "").strip()
    if not reason:
        raise PostingError("Say why the amount is written off (e.g. denied, not appealed).")
    if amount_cents <= 0:
        raise PostingError("Enter an amount above zero.")
    with database.atomic("IMMEDIATE"):
        claim = Claim.get_by_id(claim.id)
        check_takes_payments(claim)
        if amount_cents > claim.balance_cents:
            raise PostingError(
                f"Only {format_cents(claim.balance_cents)} is open on this claim: write off "
                "at most that."
            )
        now = clock.utcnow()
        ClaimWriteOff.create(
            practice=claim.practice_id,
            claim=claim.id,
            amount_cents=amount_cents,
            reason=reason[:255],
            created_by=user.id if user is not None else None,
            created_at=now,
        )
        old = claim.status
        new = old
        if claim.balance_cents == amount_cents and old in CLOSE_WHEN_SETTLED:
            new = claim_status.check_transition(old, claim_status.CLOSED)
        Claim.update(
            written_off_cents=Claim.written_off_cents + amount_cents, status=new, updated_at=now
        ).where(Claim.id == claim.id).execute()
        if new == claim_status.CLOSED:
            ClaimProblem.delete().where(
                (ClaimProblem.claim == claim.id) & (ClaimProblem.source == "835")
            ).execute()
            history.refresh_held(claim)
        history.event(
            claim,
            "written_off",
            user=user,
            from_status=old,
            to_status=new,
            reason=f"Wrote off {format_cents(amount_cents)}: {reason}",
            amount_cents=amount_cents,
        )
        audit.record("claim.write_off", obj=claim, detail=format_cents(amount_cents), user=user)
    return Claim.get_by_id(claim.id)
