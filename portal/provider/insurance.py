"""A client's insurance in the provider dashboard: policies, card images, benefits
verifications, referrals and prior authorizations. The front desk works here too; every
view of a policy or document is audited."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import access, audit, clock
from portal.formutil import choices
from portal.htmx import render
from portal.models import (
    BenefitsVerification,
    CardImage,
    Client,
    InsurancePolicy,
    Payer,
    PriorAuthorization,
    Referral,
)
from portal.provider import bp
from portal.provider.claim_return import saved
from portal.provider.clients_forms import (
    AttachForm,
    AuthorizationForm,
    CardForm,
    PolicyForm,
    ReferralForm,
    VerificationForm,
)
from portal.rules.icd10 import split_codes
from portal.security import body_limit
from portal.services import coverage, icd10, uploads
from portal.services import insurance as ins

# --- policies ---------------------------------------------------------------------------


def _payer_choices(form, current=None):
    payers = access.scoped(Payer).where(
        (Payer.active == True) | (Payer.id == (current or 0))  # noqa: E712
    )
    form.payer.choices = choices(
        [(0, "Choose a payer")] + [(p.id, p.name) for p in payers.order_by(Payer.name)]
    )


def _policy_data(form):
    data = {k: getattr(form, k).data for k in ins.POLICY_FIELDS if k != "payer"}
    for k, v in data.items():
        if v is None and not (k.endswith("_date") or k.endswith("_dob")):
            data[k] = ""
    for k in ("subscriber_state", "accident_state"):
        data[k] = (data[k] or "").upper()
    data["payer"] = access.scoped(Payer).where(Payer.id == form.payer.data).first()
    return data


def _valid_payer(form):
    if not access.scoped(Payer).where(Payer.id == (form.payer.data or 0)).exists():
        form.payer.errors = list(form.payer.errors) + ["Choose the payer."]
        return False
    return True


@bp.route("/clients/<int:client_id>/policies/new", methods=["GET", "POST"])
def policy_new(client_id):
    client = access.get_or_404(Client, client_id)
    form = PolicyForm()
    _payer_choices(form)
    if form.validate_on_submit() and _valid_payer(form):
        policy = InsurancePolicy(practice=client.practice_id, client=client)
        ins.save_policy(policy, dict(_policy_data(form), active=True))
        flash("Policy added. Now add photos of the card.", "success")
        return redirect(url_for("provider.policy_page", policy_id=policy.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "provider/clients/policy_form.html",
        form=form,
        client=client,
        policy=None,
        section="clients",
    ), status


@bp.route("/policies/<int:policy_id>/edit", methods=["GET", "POST"])
def policy_edit(policy_id):
    policy = access.get_or_404(InsurancePolicy, policy_id)
    form = PolicyForm(obj=policy)
    _payer_choices(form, policy.payer_id)
    if request.method == "GET":
        form.payer.data = policy.payer_id
        audit.record("policy.view", obj=policy, detail="edit form")
    if form.validate_on_submit() and _valid_payer(form):
        ins.save_policy(policy, _policy_data(form))
        flash("Policy saved.", "success")
        return saved(url_for("provider.policy_page", policy_id=policy.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "provider/clients/policy_form.html",
        form=form,
        client=policy.client,
        policy=policy,
        section="clients",
    ), status


def _policy_page(policy, card_form=None, status=200):
    cards = ins.current_cards(policy)
    verifications = list(policy.verifications.order_by(*_newest_verification()))
    insurance = coverage.ClientInsurance(policy.client)  # the billed visits, read once
    resp = render(
        "provider/clients/policy.html",
        block="policy_cards",
        policy=policy,
        client=policy.client,
        cards=cards,
        verifications=verifications,
        summary=coverage.verification_summary(verifications[0], insurance) if verifications else "",
        summaries={v.id: coverage.verification_summary(v, insurance) for v in verifications},
        card_form=card_form or CardForm(formdata=None),
        section="clients",
    )
    resp.status_code = status
    return resp


def _newest_verification():
    return (BenefitsVerification.verified_on.desc(), BenefitsVerification.id.desc())


@bp.route("/policies/<int:policy_id>")
def policy_page(policy_id):
    policy = access.get_or_404(InsurancePolicy, policy_id, audit_action="policy.view")
    return _policy_page(policy)


@bp.route("/policies/<int:policy_id>/cards", methods=["POST"])
@body_limit(uploads.PHOTO_REQUEST_BYTES)
def policy_card_upload(policy_id):
    policy = access.get_or_404(InsurancePolicy, policy_id)
    form = CardForm()
    if form.validate_on_submit():
        try:
            data = uploads.read_upload(form.file.data)
            ins.add_card(policy.client, policy, form.side.data, data, current_user)
        except uploads.UploadError as exc:
            form.file.errors = list(form.file.errors) + [str(exc)]
            audit.record("card.refused", obj=policy, detail=str(exc)[:80])
            return _policy_page(policy, form, status=400)
        flash(f"Card {form.side.data} saved.", "success")
        return redirect(url_for("provider.policy_page", policy_id=policy.id))
    return _policy_page(policy, form, status=400)


def serve_card(card):
    try:
        body = uploads.load(card.stored_name)
    except FileNotFoundError:
        abort(404)
    audit.record("card.view", obj=card, detail=card.side)
    ext = uploads.EXTENSIONS[card.content_type]
    disposition = "attachment" if card.is_pdf else "inline"
    resp = Response(body, mimetype=card.content_type)
    resp.headers["Cache-Control"] = "no-store, private"
    resp.headers["Content-Disposition"] = f'{disposition}; filename="card-{card.side}.{ext}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


@bp.route("/cards/<int:card_id>")
def card_file(card_id):
    card = access.get_or_404(CardImage, card_id)
    return serve_card(card)


@bp.route("/cards/<int:card_id>/attach", methods=["POST"])
def card_attach(card_id):
    card = access.get_or_404(CardImage, card_id)
    form = AttachForm()
    form.policy.choices = choices(
        [(p.id, p.payer.name) for p in ins.client_policies(card.client, include_inactive=False)]
    )
    if form.validate_on_submit():
        policy = access.get_or_404(InsurancePolicy, form.policy.data)
        if policy.client_id != card.client_id:
            access.deny()
        ins.attach_card(card, policy)
        flash("Card attached to the policy.", "success")
    else:
        flash("Choose a policy to attach the card to.", "error")
    return redirect(url_for("provider.client_page", client_id=card.client_id) + "#insurance")


# --- verifications ----------------------------------------------------------------------


@bp.route("/policies/<int:policy_id>/verifications/new", methods=["GET", "POST"])
def verification_new(policy_id):
    policy = access.get_or_404(InsurancePolicy, policy_id)
    form = VerificationForm(today=clock.today(current_user.practice.tz))
    if request.method == "GET":
        audit.record("policy.view", obj=policy, detail="verification form")
        form.verified_on.data = form.today
        form.referral_required.data = policy.payer.referral_required
        form.authorization_required.data = policy.payer.authorization_required
        last = coverage.latest_verification(policy)  # a plan's year rarely changes
        form.plan_year_month.data = last.plan_year_month if last else 1
    if form.validate_on_submit():
        ins.add_verification(policy, form.data_for_service(), current_user)
        flash("Verification saved.", "success")
        return redirect(url_for("provider.client_page", client_id=policy.client_id) + "#insurance")
    status = 400 if request.method == "POST" else 200
    return render_template(
        "provider/clients/verification_form.html",
        form=form,
        policy=policy,
        client=policy.client,
        section="clients",
    ), status


# --- referrals and authorizations -------------------------------------------------------


def _policy_choices(form, client):
    form.policy.choices = choices(
        [(0, "Any policy")]
        + [(p.id, f"{p.payer.name} ({p.rank_label})") for p in ins.client_policies(client)]
    )


def _policy_for(form, client):
    pid = form.policy.data or 0
    if not pid:
        return None
    return (
        access.scoped(InsurancePolicy)
        .where((InsurancePolicy.id == pid) & (InsurancePolicy.client == client.id))
        .first()
    )


def check_diagnosis_codes(text):
    """(codes, error): billable ICD-10-CM codes in order, or a message for the field."""
    codes, bad = split_codes(text)
    if bad:
        return codes, f"Not shaped like ICD-10-CM codes: {', '.join(bad[:5])}."
    if len(codes) > 12:
        return codes, "A claim holds at most 12 diagnosis codes."
    for code in codes:
        ok, message, _children = icd10.validate(code)
        if not ok:
            return codes, message
    return codes, None


def _referral_form_page(form, client, referral, status):
    return render_template(
        "provider/clients/referral_form.html",
        form=form,
        client=client,
        referral=referral,
        section="clients",
    ), status


def _save_referral(form, client, referral):
    codes, error = check_diagnosis_codes(form.diagnosis_codes.data)
    if error:
        form.diagnosis_codes.errors = list(form.diagnosis_codes.errors) + [error]
        return False
    data = {k: getattr(form, k).data for k in ins.REFERRAL_FIELDS if k != "policy"}
    data["policy"] = _policy_for(form, client)
    data["diagnosis_codes"] = ",".join(codes)
    data["referring_npi"] = "".join(ch for ch in form.referring_npi.data if ch.isdigit())
    data["visits_used_before"] = data["visits_used_before"] or 0
    data["notes"] = data["notes"] or ""
    ins.save_referral(referral, data)
    return True


@bp.route("/clients/<int:client_id>/referrals/new", methods=["GET", "POST"])
def referral_new(client_id):
    client = access.get_or_404(Client, client_id)
    form = ReferralForm()
    _policy_choices(form, client)
    if form.validate_on_submit():
        referral = Referral(practice=client.practice_id, client=client)
        form.active.data = True  # the box shows when editing only
        if _save_referral(form, client, referral):
            flash("Referral saved.", "success")
            return saved(url_for("provider.client_page", client_id=client.id) + "#insurance")
    return _referral_form_page(form, client, None, 400 if request.method == "POST" else 200)


@bp.route("/referrals/<int:referral_id>/edit", methods=["GET", "POST"])
def referral_edit(referral_id):
    referral = access.get_or_404(Referral, referral_id)
    client = referral.client
    form = ReferralForm(obj=referral)
    _policy_choices(form, client)
    if request.method == "GET":
        form.policy.data = referral.policy_id or 0
        form.diagnosis_codes.data = ", ".join(referral.codes)
        audit.record("referral.view", obj=referral)
    if form.validate_on_submit() and _save_referral(form, client, referral):
        flash("Referral saved.", "success")
        return saved(url_for("provider.client_page", client_id=client.id) + "#insurance")
    return _referral_form_page(form, client, referral, 400 if request.method == "POST" else 200)


def _save_authorization(form, client, auth):
    data = {k: getattr(form, k).data for k in ins.AUTHORIZATION_FIELDS if k != "policy"}
    data["policy"] = _policy_for(form, client)
    data["visits_used_before"] = data["visits_used_before"] or 0
    for k in ("body_regions", "notes"):
        data[k] = data[k] or ""
    ins.save_authorization(auth, data)


@bp.route("/clients/<int:client_id>/authorizations/new", methods=["GET", "POST"])
def authorization_new(client_id):
    client = access.get_or_404(Client, client_id)
    form = AuthorizationForm()
    _policy_choices(form, client)
    if form.validate_on_submit():
        auth = PriorAuthorization(practice=client.practice_id, client=client)
        form.active.data = True  # the box shows when editing only
        _save_authorization(form, client, auth)
        flash("Authorization saved.", "success")
        return saved(url_for("provider.client_page", client_id=client.id) + "#insurance")
    return render_template(
        "provider/clients/authorization_form.html",
        form=form,
        client=client,
        auth=None,
        section="clients",
    ), (400 if request.method == "POST" else 200)


@bp.route("/authorizations/<int:auth_id>/edit", methods=["GET", "POST"])
def authorization_edit(auth_id):
    auth = access.get_or_404(PriorAuthorization, auth_id)
    client = auth.client
    form = AuthorizationForm(obj=auth)
    _policy_choices(form, client)
    if request.method == "GET":
        form.policy.data = auth.policy_id or 0
        audit.record("authorization.view", obj=auth)
    if form.validate_on_submit():
        _save_authorization(form, client, auth)
        flash("Authorization saved.", "success")
        return saved(url_for("provider.client_page", client_id=client.id) + "#insurance")
    return render_template(
        "provider/clients/authorization_form.html",
        form=form,
        client=client,
        auth=auth,
        section="clients",
    ), (400 if request.method == "POST" else 200)
