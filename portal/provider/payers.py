"""Payers: the list, their settings (referral/authorization, unit rule, 97124+97140) and
an optional fee schedule. Owner and front desk."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import access
from portal.models import DESK_ROLES, Payer, PayerFee
from portal.provider import bp
from portal.provider.claim_return import saved, url_with_back
from portal.provider.clients_forms import FeeForm, PayerForm, cents
from portal.services import insurance as ins


@bp.route("/payers")
@access.roles_required(*DESK_ROLES)
def payers():
    rows = access.scoped(Payer).order_by(Payer.active.desc(), Payer.name)
    return render_template("provider/payers/list.html", payers=rows, section="payers")


def _data(form):
    data = {k: getattr(form, k).data for k in ins.PAYER_FIELDS}
    for k, v in data.items():
        if v is None and k != "filing_limit_days":  # None: the limit is not known
            data[k] = ""
    data["state"] = data["state"].upper()
    return data


@bp.route("/payers/new", methods=["GET", "POST"])
@access.roles_required(*DESK_ROLES)
def payer_new():
    form = PayerForm()
    if form.validate_on_submit():
        payer = Payer(practice=current_user.practice_id)
        ins.save_payer(payer, _data(form))
        flash("Payer added.", "success")
        return redirect(url_for("provider.payer_edit", payer_id=payer.id))
    return render_template(
        "provider/payers/form.html", form=form, payer=None, fee_form=None, section="payers"
    ), (400 if request.method == "POST" else 200)


def _fees(payer):
    return list(PayerFee.select().where(PayerFee.payer == payer.id).order_by(PayerFee.cpt_code))


@bp.route("/payers/<int:payer_id>", methods=["GET", "POST"])
@access.roles_required(*DESK_ROLES)
def payer_edit(payer_id):
    payer = access.get_or_404(Payer, payer_id)
    form = PayerForm(obj=payer)
    if form.validate_on_submit():
        ins.save_payer(payer, _data(form))
        flash("Payer saved.", "success")
        return saved(url_for("provider.payer_edit", payer_id=payer.id))
    return render_template(
        "provider/payers/form.html",
        form=form,
        payer=payer,
        fees=_fees(payer),
        fee_form=FeeForm(formdata=None),
        section="payers",
    ), (400 if request.method == "POST" else 200)


@bp.route("/payers/<int:payer_id>/fees", methods=["POST"])
@access.roles_required(*DESK_ROLES)
def payer_fee_set(payer_id):
    payer = access.get_or_404(Payer, payer_id)
    fee_form = FeeForm()
    if fee_form.validate_on_submit():
        ins.set_fee(payer, fee_form.cpt_code.data, cents(fee_form.fee))
        flash(f"Fee for {fee_form.cpt_code.data.upper()} saved.", "success")
        return redirect(url_with_back(url_for("provider.payer_edit", payer_id=payer.id)) + "#fees")
    return render_template(
        "provider/payers/form.html",
        form=PayerForm(obj=payer, formdata=None),
        payer=payer,
        fees=_fees(payer),
        fee_form=fee_form,
        section="payers",
    ), 400


@bp.route("/payers/<int:payer_id>/fees/<int:fee_id>/delete", methods=["POST"])
@access.roles_required(*DESK_ROLES)
def payer_fee_delete(payer_id, fee_id):
    payer = access.get_or_404(Payer, payer_id)
    fee = access.get_or_404(
        PayerFee, fee_id, query=PayerFee.select().where(PayerFee.payer == payer)
    )
    ins.set_fee(payer, fee.cpt_code, None)
    flash(f"Fee for {fee.cpt_code} removed.", "success")
    return redirect(url_with_back(url_for("provider.payer_edit", payer_id=payer.id)) + "#fees")
