"""A client's account credit at the desk: pay an invoice from it (services/account_credit).
The credit is kept by a refund (the invoice page's refund form) and shown on the client's
record and invoice pages."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.access import get_or_404, roles_required
from portal.formutil import CsrfForm
from portal.inputs import local_path
from portal.models.billing import Invoice
from portal.models.people import DESK_ROLES
from portal.provider import bp
from portal.provider.billing import invoice_page
from portal.rules.billing import BillingError
from portal.rules.money import format_cents
from portal.services import account_credit


@bp.route("/billing/invoices/<int:invoice_id>/pay-from-credit", methods=["POST"])
@roles_required(*DESK_ROLES)
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
