"""A client's account credit at the desk (services/account_credit): pay an invoice from
it, or pay it out in money. The credit is kept by a refund (the invoice page's refund
form) and listed on the client's billing page."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.access import get_or_404, roles_required
from portal.formutil import CsrfForm, choices
from portal.htmx import render
from portal.inputs import local_path
from portal.models.billing import PAY_CASH, PAY_CHECK, Invoice
from portal.models.people import DESK_ROLES, Client
from portal.provider import bp
from portal.provider.billing import client_summary, invoice_page
from portal.rules.billing import BillingError
from portal.rules.money import format_cents, parse_dollars
from portal.services import account_credit


# Taking a payment, as recording one and check-out are: any staff member. Money leaving
# the practice (a refund, a payout) is the desk's.
@bp.route("/billing/invoices/<int:invoice_id>/pay-from-credit", methods=["POST"])
def invoice_pay_from_credit(invoice_id):
    inv = get_or_404(Invoice, invoice_id)
    if not CsrfForm().validate_on_submit():
        abort(400)
    # The check-out page sends its own address: the desk goes on there.
    back = local_path(request.form.get("back"))
    try:
        payment = account_credit.pay_invoice(inv, user=current_user)
    except BillingError as e:  # account_credit.CreditError among them
        flash(f"Not paid from account credit: {e}", "error")
        if back:
            return redirect(back, 303)
        return invoice_page(Invoice.get_by_id(inv.id), 409)
    flash(f"{format_cents(payment.amount_cents)} paid from the client's account credit.", "success")
    return redirect(back or url_for("provider.invoice", invoice_id=inv.id), 303)


class PayoutForm(FlaskForm):
    amount = StringField("Amount ($)", validators=[DataRequired("Enter the amount to pay out.")])
    method = RadioField(
        "Paid out by",
        choices=choices([(PAY_CASH, "Cash"), (PAY_CHECK, "Check")]),
        invalid_choice_message="Choose cash or check.",
    )
    reference = StringField("Check number or note", validators=[Optional(), Length(max=80)])


@bp.route("/billing/clients/<int:client_id>/credit/payout", methods=["POST"])
@roles_required(*DESK_ROLES)
def client_credit_payout(client_id):
    """Pay a client's account credit out in money (cash or a check, by hand)."""
    client = get_or_404(Client, client_id)
    form = PayoutForm()
    if form.validate_on_submit():
        try:
            cents = parse_dollars(form.amount.data)
        except ValueError as e:
            form.amount.errors = [str(e)]
        else:
            try:
                account_credit.pay_out(
                    client, cents, form.method.data, form.reference.data or "", user=current_user
                )
            except BillingError as e:  # account_credit.CreditError among them
                form.amount.errors = [str(e)]
            else:
                flash(f"{format_cents(cents)} of account credit paid out.", "success")
                return redirect(url_for("provider.client_billing", client_id=client.id), 303)
    page = render(
        "provider/billing/client.html",
        section="clients",
        payout_form=form,
        **client_summary(client),
    )
    return page, 400
