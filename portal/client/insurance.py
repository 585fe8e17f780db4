"""Client portal: my insurance. The client sees their own policies and card images and
uploads card photos from a phone (camera capture)."""

from flask import flash, redirect, url_for
from flask_login import current_user

from portal import access, audit, clock
from portal.client import bp
from portal.formutil import choices
from portal.htmx import render
from portal.models import CardImage, InsurancePolicy
from portal.provider.clients_forms import ClientCardForm
from portal.provider.insurance import serve_card
from portal.rules import coverage as coverage_rules
from portal.security import body_limit
from portal.services import insurance as ins
from portal.services import uploads


def _policies():
    """The client's active policies: those in effect first, then one not started yet, then
    those that ended (each as (order, words) on `.dates`)."""
    today = clock.today(current_user.practice.tz)
    policies = list(
        access.scoped(InsurancePolicy)
        .where(InsurancePolicy.active == True)  # noqa: E712
        .order_by(InsurancePolicy.rank, InsurancePolicy.id)
    )
    for p in policies:
        p.dates = coverage_rules.policy_dates(p.effective_date, p.end_date, today)
    return sorted(policies, key=lambda p: p.dates[0])


def _label(policy, policies):
    """The insurer's name, short enough for a phone's select: with the rank ("Secondary")
    or member ID only when another policy has that insurer's name too."""
    name = policy.payer.name
    same = [p for p in policies if p.payer.name.casefold() == name.casefold()]
    if len(same) == 1:
        return name
    if sum(p.rank == policy.rank for p in same) == 1:
        return f"{name} ({policy.rank_label})"
    return f"{name} (member ID {policy.member_id})"


def _page(form=None, status=200):
    client = current_user.client
    policies = _policies()
    if form is None:
        form = ClientCardForm(formdata=None)
    form.policy.choices = choices(
        [(p.id, _label(p, policies)) for p in policies] + [(0, "New insurance, not on file yet")]
    )
    audit.record("policy.view", client=client, detail="portal insurance list")
    resp = render(
        "client/insurance.html",
        client=client,
        policies=[(p, ins.current_cards(p)) for p in policies],
        unattached=ins.unattached_cards(client),
        form=form,
        section="insurance",
    )
    resp.status_code = status
    return resp


@bp.route("/insurance")
def insurance():
    return _page()


@bp.route("/insurance/cards", methods=["POST"])
@body_limit(uploads.PHOTO_REQUEST_BYTES)
def insurance_card_upload():
    form = ClientCardForm()
    policies = _policies()
    form.policy.choices = choices([(p.id, "") for p in policies] + [(0, "")])
    if not form.validate_on_submit():
        return _page(form, 400)
    policy = None
    if form.policy.data:
        policy = access.get_or_404(InsurancePolicy, form.policy.data)
    try:
        data = uploads.read_upload(form.file.data)
        ins.add_card(current_user.client, policy, form.side.data, data, current_user)
    except uploads.UploadError as exc:
        form.file.errors = list(form.file.errors) + [str(exc)]
        audit.record("card.refused", client=current_user.client, detail=str(exc)[:80])
        return _page(form, 400)
    flash("Thank you: your card photo was received.", "success")
    return redirect(url_for("client.insurance"))


@bp.route("/insurance/cards/<int:card_id>")
def insurance_card(card_id):
    card = access.get_or_404(CardImage, card_id)
    return serve_card(card)
