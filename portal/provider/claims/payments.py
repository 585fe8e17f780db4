"""A claim's payments: what payers paid (postings with their adjustments in words), write-
offs, posting an EOB by hand line by line (allowed, paid, adjustments by group CO/PR/OA/
PI with reason codes; money the payer took back typed negative is a reversal), and
writing the open balance off with a reason. The section is a
partial (provider/claims/_payments.html) for the claim page; this page shows it alone.
Owner and front desk post; a therapist who may see the claim reads it."""

import dataclasses
import datetime as dt
import re

from flask import flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.access import get_or_404, roles_required
from portal.formutil import CsrfForm
from portal.htmx import render, wants_fragment
from portal.models.claims import (
    Claim,
    ClaimLine,
)
from portal.models.people import DESK_ROLES, STAFF_ROLES
from portal.provider import bp
from portal.rules import claim_money, claim_status, edi_codes
from portal.rules.money import format_cents, parse_dollars
from portal.services.claims import posting, queries

ADJ_ROWS = 3
MAX_CENTS = 99_999_999  # $999,999.99: far past any massage claim, far below overflow
GROUPS = (("CO", "CO: contractual"), ("PR", "PR: client's share"), ("OA", "OA: other"),
          ("PI", "PI: payer reduction"))  # fmt: skip
COMMON_REASONS = ("1", "2", "3", "45", "50", "96", "97", "119", "197", "204", "16", "29")


class WriteOffForm(FlaskForm):
    amount = StringField("Amount to write off ($)", validators=[DataRequired("Enter an amount.")])
    reason = StringField(
        "Why",
        validators=[DataRequired("Say why it is written off."), Length(max=200)],
        description="For example: denied as not medically necessary, appeal not worth it.",
    )


@dataclasses.dataclass
class Entry:
    """One line of the hand-posting form, as typed, with its errors."""

    line: ClaimLine
    values: dict
    errors: list


def _lines(claim):
    return list(ClaimLine.select().where(ClaimLine.claim == claim.id).order_by(ClaimLine.position))


def _page(claim, entries=None, form_error="", writeoff_form=None, status=200, paid_on_error=""):
    postings, adjustments, writeoffs = queries.payment_history(claim)
    lines = _lines(claim)
    return (
        render(
            "provider/claims/payments.html",
            "payments_block",
            claim=claim,
            lines={line.id: line for line in lines},
            entries=entries or [Entry(line, {}, []) for line in lines],
            postings=postings,
            adjustments=adjustments,
            writeoffs=writeoffs,
            form=CsrfForm(),
            form_error=form_error,
            paid_on_error=paid_on_error,
            writeoff_form=writeoff_form or WriteOffForm(formdata=None),
            groups=GROUPS,
            reasons=[(code, edi_codes.carc_text(code)) for code in COMMON_REASONS],
            adj_rows=range(ADJ_ROWS),
            can_post=current_user.role in DESK_ROLES,
            takes_payments=claim_status.takes_payments(
                claim.status, claim.submitted_at is not None, claim.payer_claim_number or ""
            ),
            back="claim" if wants_fragment() else request.form.get("back", ""),
        ),
        status,
    )


def _back(claim):
    """Where the form was: the claim page (its payments section) or the payments page."""
    if request.form.get("back") == "claim":
        return redirect(url_for("provider.claim", claim_id=claim.id) + "#payments")
    return redirect(url_for("provider.claim_payments", claim_id=claim.id))


@bp.route("/claims/<int:claim_id>/payments")
@roles_required(*STAFF_ROLES)
def claim_payments(claim_id):
    claim = get_or_404(Claim, claim_id, audit_action="claim.view")
    return _page(claim)


def _dollars(text, errors, what, allow_negative=False):
    text = (text or "").strip()
    negative = allow_negative and text.startswith("-")
    try:
        cents = parse_dollars(text[1:] if negative else text, max_cents=MAX_CENTS)
    except ValueError as exc:
        errors.append(f"{what}: {exc}")
        return None
    return -cents if negative else cents


def _parse_line(line, form):
    key = str(line.id)
    values = {name: form.get(f"{name}-{key}", "").strip() for name in ("allowed", "paid")}
    for n in range(ADJ_ROWS):
        for name in ("group", "reason", "amount"):
            values[f"{name}-{n}"] = form.get(f"{name}-{key}-{n}", "").strip()
    typed = any(v for k, v in values.items() if not k.startswith("group"))
    entry = Entry(line, values, [])
    if not typed:
        return entry, None
    errors = entry.errors
    paid = _dollars(values["paid"] or "0", errors, "Paid", allow_negative=True)
    adjustments = []
    for n in range(ADJ_ROWS):
        group, reason, amount = (values[f"{k}-{n}"] for k in ("group", "reason", "amount"))
        if not (reason or amount):
            continue
        if group not in dict(GROUPS) or not re.fullmatch(r"[A-Z0-9]{1,5}", reason.upper()):
            errors.append(
                f"Adjustment {n + 1}: choose a group and enter the reason code (e.g. 45)."
            )
            continue
        cents = _dollars(amount, errors, f"Adjustment {n + 1}", allow_negative=True)
        if cents is not None:
            adjustments.append(claim_money.Adj(group, reason.upper(), cents))
    pr = sum(a.cents for a in adjustments if a.group == "PR")
    allowed = _dollars(values["allowed"], errors, "Allowed") if values["allowed"] else None
    if paid is None or errors:
        return entry, None
    adjusted = sum(a.cents for a in adjustments)
    # Money taken back (the EOB's line negative) reverses the line: its charge counts
    # negative, as in an 835's reversal.
    taken_back = paid < 0 or (paid == 0 and adjusted < 0)
    charge = -line.charge_cents if taken_back else line.charge_cents
    if charge - paid != adjusted:
        errors.append(
            f"The charge{' taken back' if taken_back else ''} {format_cents(charge)} minus "
            f"the payment {format_cents(paid)} is {format_cents(charge - paid)}, but the "
            f"adjustments add up to {format_cents(adjusted)}: add what is missing "
            "(e.g. CO 45 for the fee schedule; negative when the payer takes money back)."
        )
        return entry, None
    if allowed is None:
        allowed = paid + pr
    elif taken_back:
        allowed = -allowed  # what the payer had allowed, taken back with the payment
    return entry, posting.PaidLine(line, allowed, paid, tuple(adjustments), charge_cents=charge)


NOT_POSTED = "Nothing was posted: correct what is marked below."
DATE_FORMAT = "Enter the date like 2026-01-30, or leave it empty."


def _paid_on(text):
    """The payer's date typed from the EOB (an <input type=date> sends 2026-01-30), or None
    when left empty: the payment is then dated by the day it is posted. ValueError when
    it is no date."""
    text = (text or "").strip()
    return dt.date.fromisoformat(text) if text else None


@bp.route("/claims/<int:claim_id>/payments", methods=["POST"])
@roles_required(*DESK_ROLES)
def claim_post_payment(claim_id):
    claim = get_or_404(Claim, claim_id)
    if not CsrfForm().validate_on_submit():
        return _page(claim, form_error="The form expired: enter the payment again.", status=400)
    entries, paid_lines = [], []
    for line in _lines(claim):
        entry, paid_line = _parse_line(line, request.form)
        entries.append(entry)
        if paid_line is not None:
            paid_lines.append(paid_line)
    if any(e.errors for e in entries):
        return _page(claim, entries, NOT_POSTED, status=400)
    if not paid_lines:
        return _page(claim, entries, "Enter what the payer paid on at least one line.", status=400)
    try:
        paid_on = _paid_on(request.form.get("paid_on", ""))
    except ValueError:
        return _page(claim, entries, NOT_POSTED, status=400, paid_on_error=DATE_FORMAT)
    note = request.form.get("note", "").strip()[:200]
    source = "Posted by hand" + (f" ({note})" if note else "")
    if paid_on is not None:
        source += f", paid {paid_on:%b %-d, %Y}"
    try:
        answer = posting.answer_by_hand(
            paid_lines, request.form.get("payer_claim_number", "").strip()[:50]
        )
        result = posting.post(claim, answer, user=current_user, source=source, note=note,
                              paid_on=paid_on)  # fmt: skip
    except posting.BadPaymentDate as exc:  # by its field, as typed
        return _page(claim, entries, NOT_POSTED, status=400, paid_on_error=str(exc))
    except posting.MixedAnswer as exc:  # what was typed: a 400 like any line error
        return _page(claim, entries, str(exc), status=400)
    except posting.PostingError as exc:
        return _page(claim, entries, str(exc), status=409)
    status = claim_status.label(result.status).lower()
    words = f"Posted {format_cents(result.posting.paid_cents)}; the claim is now {status}."
    if result.invoice is not None:
        inv = result.invoice
        words += f" The client is invoiced {format_cents(inv.total_cents)} ({inv.number})."
    flash(words, "success")
    return _back(claim)


@bp.route("/claims/<int:claim_id>/write-off", methods=["POST"])
@roles_required(*DESK_ROLES)
def claim_write_off(claim_id):
    claim = get_or_404(Claim, claim_id)
    form = WriteOffForm()
    if not form.validate_on_submit():
        return _page(claim, writeoff_form=form, status=400)
    try:
        cents = parse_dollars(form.amount.data)
        posting.write_off(claim, cents, form.reason.data, user=current_user)
    except ValueError as exc:
        form.amount.errors.append(str(exc))
        return _page(claim, writeoff_form=form, status=400)
    except posting.PostingError as exc:
        form.amount.errors.append(str(exc))
        return _page(claim, writeoff_form=form, status=409)
    flash(f"Wrote off {format_cents(cents)}.", "success")
    return _back(claim)
