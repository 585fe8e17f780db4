"""Clients in the provider dashboard: list with live search, the client page, demographics,
insurance policies and cards, verifications, referrals, authorizations, intake (including
the front-desk tablet) and the intake form editor (owner).

Search terms travel in POST bodies (never in a URL). The front desk sees demographics and
insurance but no clinical content (chart notes, intake answers, intake flags).
"""

import datetime as dt
import io
import warnings

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from portal import access, audit, clock
from portal.auth import lockout_minutes, note_attempt, throttle_message, verify_password
from portal.formutil import choices
from portal.htmx import render
from portal.models import (
    ROLE_OWNER,
    ROLE_THERAPIST,
    CardImage,
    Client,
    InsurancePolicy,
    IntakeField,
    IntakeForm,
    IntakeSubmission,
    Payer,
    PriorAuthorization,
    Provider,
    Referral,
)
from portal.provider import bp, finder
from portal.provider.clients_forms import (
    AttachForm,
    AuthorizationForm,
    CardForm,
    ClientForm,
    IntakeFieldForm,
    IntakeFormForm,
    PolicyForm,
    ReferralForm,
    SearchForm,
    SignatureForm,
    TabletReturnForm,
    TabletStartForm,
    VerificationForm,
)
from portal.services import clients as client_svc
from portal.services import coverage, uploads
from portal.services import insurance as ins
from portal.services import intake as intake_svc

CLINICAL_ROLES = (ROLE_OWNER, ROLE_THERAPIST)
SECTIONS = [
    ("overview", "Overview", None),
    ("insurance", "Insurance", None),
    ("notes", "Chart notes", "provider.client_notes"),
    ("appointments", "Appointments", "provider.client_appointments"),
    ("billing", "Billing", "provider.client_billing"),
    ("documents", "Documents", "provider.client_documents"),
    ("messages", "Messages", "provider.client_messages"),
]


def today():
    now = clock.utcnow().replace(tzinfo=dt.UTC)
    return now.astimezone(current_user.practice.tz).date()


def sees_clinical():
    return current_user.role in CLINICAL_ROLES


# --- tablet lock: while a client holds the front-desk tablet only the tablet pages open --
# Every route of the app, not only the dashboard: the staff user's own /account pages (TOTP
# secret, password), the client portal, the login page and logout stay out of the client's
# reach until a staff password is entered on the return form.


TABLET_ENDPOINTS = {"provider.tablet", "provider.tablet_return", "static"}


@bp.before_app_request
def _tablet_lock():
    if session.get("tablet") and request.endpoint not in TABLET_ENDPOINTS:
        return redirect(url_for("provider.tablet"))
    return None


# --- list and search ------------------------------------------------------------------


def _search_page(form, status=200):
    q = form.q.data or ""
    page = form.page.data or 1
    rows, total, page, pages = client_svc.search(q, page=page, include_archived=form.archived.data)
    audit.record("client.search", detail=f"{total} matches, page {page}")
    resp = render(
        "provider/clients/list.html",
        block="client_results",
        form=form,
        clients=rows,
        total=total,
        page=page,
        pages=pages,
        searched=bool(q.strip()),
        section="clients",
    )
    resp.status_code = status
    return resp


@bp.route("/clients")
def clients():
    form = SearchForm(formdata=None)
    return _search_page(form)


@bp.route("/clients/search", methods=["POST"])
def clients_search():
    form = SearchForm()
    if not form.validate():
        return _search_page(form, status=400)
    return _search_page(form)


# --- create / edit ----------------------------------------------------------------------


def _therapist_choices(form, current_id=None):
    providers = access.scoped(Provider).where(
        (Provider.active == True) | (Provider.id == (current_id or 0))  # noqa: E712
    )
    form.therapist.choices = choices(
        [(0, "No one yet")] + [(p.id, p.display_name) for p in providers.order_by(Provider.id)]
    )


def _client_data(form):
    data = {
        name: getattr(form, name).data for name in client_svc.CLIENT_FIELDS if name != "therapist"
    }
    for k, v in data.items():
        if v is None and k != "date_of_birth":
            data[k] = ""
    tid = form.therapist.data or 0
    data["therapist"] = access.scoped(Provider).where(Provider.id == tid).first() if tid else None
    return data


@bp.route("/clients/new", methods=["GET", "POST"])
def client_new():
    form = ClientForm()
    _therapist_choices(form)
    if request.method == "GET" and current_user.role == ROLE_THERAPIST:
        form.therapist.data = current_user.provider_id or 0
    duplicates = []
    if form.validate_on_submit():
        data = _client_data(form)
        duplicates = [] if form.not_a_duplicate.data else finder.duplicates_of(data)
        if not duplicates:
            client = client_svc.create(current_user.practice, data)
            flash("Client added.", "success")
            return redirect(url_for("provider.client_page", client_id=client.id))
    status = (409 if duplicates else 400) if request.method == "POST" else 200
    return render_template(
        "provider/clients/form.html",
        form=form,
        client=None,
        duplicates=duplicates,
        section="clients",
    ), status


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
def client_edit(client_id):
    client = access.get_or_404(Client, client_id)
    form = ClientForm(obj=client)
    _therapist_choices(form, client.therapist_id)
    if request.method == "GET":
        form.therapist.data = client.therapist_id or 0
        audit.record("client.view", obj=client, detail="edit form")
    if form.validate_on_submit():
        changed = client_svc.update(client, _client_data(form))
        flash("Saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("provider.client_page", client_id=client.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "provider/clients/form.html", form=form, client=client, section="clients"
    ), status


@bp.route("/clients/<int:client_id>/archive", methods=["POST"])
def client_archive(client_id):
    client = access.get_or_404(Client, client_id)
    client_svc.set_archived(client, client.active)
    flash("Client archived." if not client.active else "Client restored.", "success")
    return redirect(url_for("provider.client_page", client_id=client.id))


# --- the client page -------------------------------------------------------------------


def _insurance_context(client):
    on = today()
    policies = []
    for p in ins.client_policies(client):
        v = coverage.latest_verification(p)
        policies.append(
            {
                "policy": p,
                "cards": ins.current_cards(p),
                "verification": v,
                "summary": coverage.verification_summary(v) if v else "",
            }
        )
    referrals = [(r, *coverage.referral_status(r, on)) for r in ins.client_referrals(client)]
    auths = [(a, *coverage.authorization_status(a, on)) for a in ins.client_authorizations(client)]
    return {
        "policies": policies,
        "unattached": ins.unattached_cards(client),
        "referrals": referrals,
        "authorizations": auths,
    }


@bp.route("/clients/<int:client_id>")
def client_page(client_id):
    client = access.get_or_404(Client, client_id, audit_action="client.view")
    on = today()
    warnings = coverage.visit_warnings(client, on)
    said = " ".join(warnings).lower()
    skip = [kind for kind in ("referral", "authorization") if kind in said]
    warnings += coverage.document_warnings(client, on, skip=skip)
    ctx = _insurance_context(client)
    submissions = intake_svc.client_submissions(client)
    return render(
        "provider/clients/page.html",
        client=client,
        warnings=warnings,
        flags=coverage.intake_flags(client) if sees_clinical() else [],
        clinical=sees_clinical(),
        submissions=submissions,
        offered=intake_svc.offered_forms(client.practice_id),
        tablet_form=_tablet_start_form(client),
        sections=SECTIONS,
        section="clients",
        **ctx,
    )


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
        return redirect(url_for("provider.policy_page", policy_id=policy.id))
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
    resp = render(
        "provider/clients/policy.html",
        block="policy_cards",
        policy=policy,
        client=policy.client,
        cards=cards,
        verifications=verifications,
        summary=coverage.verification_summary(verifications[0]) if verifications else "",
        summaries={v.id: coverage.verification_summary(v) for v in verifications},
        card_form=card_form or CardForm(formdata=None),
        section="clients",
    )
    resp.status_code = status
    return resp


def _newest_verification():
    from portal.models import BenefitsVerification as BV

    return (BV.verified_on.desc(), BV.id.desc())


@bp.route("/policies/<int:policy_id>")
def policy_page(policy_id):
    policy = access.get_or_404(InsurancePolicy, policy_id, audit_action="policy.view")
    return _policy_page(policy)


@bp.route("/policies/<int:policy_id>/cards", methods=["POST"])
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
    form = VerificationForm()
    if request.method == "GET":
        audit.record("policy.view", obj=policy, detail="verification form")
        form.verified_on.data = today()
        form.referral_required.data = policy.payer.referral_required
        form.authorization_required.data = policy.payer.authorization_required
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
    from portal.rules.icd10 import split_codes

    codes, bad = split_codes(text)
    if bad:
        return codes, f"Not shaped like ICD-10-CM codes: {', '.join(bad[:5])}."
    if len(codes) > 12:
        return codes, "A claim holds at most 12 diagnosis codes."
    for code in codes:
        ok, message = _validate_icd10(code)
        if not ok:
            return codes, message
    return codes, None


def _validate_icd10(code):
    try:
        from portal.services import icd10
    except ImportError:  # pragma: no cover - part B not installed
        icd10 = None
    if icd10 is not None and hasattr(icd10, "validate"):
        # The code set's first load uses importlib.resources' legacy API, which warns.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ok, message, _children = icd10.validate(code)
        return ok, message
    with warnings.catch_warnings():  # pragma: no cover
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm

    if not cm.is_valid_item(code):  # pragma: no cover
        return False, f"{code} is not in the ICD-10-CM code set."
    if not cm.is_leaf(code):  # pragma: no cover
        return False, f"{code} is a category, not a billable code: choose a more specific code."
    return True, ""  # pragma: no cover


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
            return redirect(url_for("provider.client_page", client_id=client.id) + "#insurance")
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
        return redirect(url_for("provider.client_page", client_id=client.id) + "#insurance")
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
        return redirect(url_for("provider.client_page", client_id=client.id) + "#insurance")
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
        return redirect(url_for("provider.client_page", client_id=client.id) + "#insurance")
    return render_template(
        "provider/clients/authorization_form.html",
        form=form,
        client=client,
        auth=auth,
        section="clients",
    ), (400 if request.method == "POST" else 200)


# --- intake submissions (clinical: owner and therapists) -------------------------------


@bp.route("/intake/submissions/<int:submission_id>")
@access.roles_required(*CLINICAL_ROLES)
def intake_submission(submission_id):
    sub = access.get_or_404(IntakeSubmission, submission_id, audit_action="intake.view")
    return render_template(
        "provider/clients/submission.html", sub=sub, client=sub.client, section="clients"
    )


@bp.route("/intake/submissions/<int:submission_id>/pdf")
@access.roles_required(*CLINICAL_ROLES)
def intake_submission_pdf(submission_id):
    sub = access.get_or_404(IntakeSubmission, submission_id)
    audit.record("intake.pdf", obj=sub)
    return _pdf_response(sub)


def _pdf_response(sub):
    body = intake_svc.render_pdf(sub)
    resp = Response(io.BytesIO(body).getvalue(), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="intake-{sub.id}.pdf"'
    resp.headers["Cache-Control"] = "no-store, private"
    return resp


# --- the front-desk tablet ----------------------------------------------------------------


def _tablet_start_form(client):
    form = TabletStartForm(formdata=None)
    form.form.choices = choices(
        [(f.id, f.title) for f in intake_svc.offered_forms(client.practice_id)]
    )
    return form


@bp.route("/clients/<int:client_id>/tablet", methods=["POST"])
def tablet_start(client_id):
    client = access.get_or_404(Client, client_id)
    form = TabletStartForm()
    form.form.choices = choices(
        [(f.id, f.title) for f in intake_svc.offered_forms(client.practice_id)]
    )
    if not form.validate_on_submit():
        flash("Choose a form for the client to fill in.", "error")
        return redirect(url_for("provider.client_page", client_id=client.id))
    session["tablet"] = {"client_id": client.id, "form_id": form.form.data, "done": False}
    audit.record("intake.tablet_start", obj=client, detail=f"form {form.form.data}")
    return redirect(url_for("provider.tablet"))


def _tablet_state():
    state = session.get("tablet")
    if not state:
        return None, None, None
    client = access.get_or_404(Client, state["client_id"])
    form_obj = access.get_or_404(IntakeForm, state["form_id"])
    return state, client, form_obj


@bp.route("/tablet", methods=["GET", "POST"])
def tablet():
    state, client, form_obj = _tablet_state()
    if state is None:
        return redirect(url_for("provider.clients"))
    if state.get("done"):
        return render_template(
            "provider/clients/tablet_done.html", form=TabletReturnForm(formdata=None)
        )
    sign = SignatureForm()
    answers, errors = {}, {}
    if request.method == "POST":
        answers, errors = intake_svc.read_answers(form_obj, request.form)
        if sign.validate_on_submit() and not errors:
            intake_svc.submit(
                form_obj, client, answers, sign.signature_name.data, current_user, via="tablet"
            )
            session["tablet"] = dict(state, done=True)
            return redirect(url_for("provider.tablet"))
    return render_template(
        "provider/clients/tablet.html",
        form_obj=form_obj,
        fields=list(form_obj.active_fields()),
        client=client,
        sign=sign,
        answers=answers,
        errors=errors,
    ), (400 if request.method == "POST" else 200)


@bp.route("/tablet/return", methods=["GET", "POST"])
def tablet_return():
    form = TabletReturnForm()
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        # Wrong staff passwords count toward the login throttling of that account.
        minutes = lockout_minutes(user.email, audit.client_ip())
        if minutes:
            form.password.errors = [throttle_message(minutes)]
            audit.record("login.throttled", detail="tablet return")
            status = 429
        elif verify_password(user, form.password.data):
            note_attempt(user.email, True)
            state = session.pop("tablet", None) or {}
            audit.record("intake.tablet_end")
            flash("The tablet is back in staff mode.", "success")
            if state.get("client_id"):
                return redirect(url_for("provider.client_page", client_id=state["client_id"]))
            return redirect(url_for("provider.clients"))
        else:
            note_attempt(user.email, False)
            form.password.errors = ["That password is not right."]
            audit.record("intake.tablet_end_failed")
    if not session.get("tablet"):
        return redirect(url_for("provider.clients"))
    return render_template("provider/clients/tablet_done.html", form=form), status


# --- the intake form editor (owner) -------------------------------------------------------


@bp.route("/intake/forms")
@access.roles_required(ROLE_OWNER)
def intake_forms():
    forms = access.scoped(IntakeForm).order_by(IntakeForm.position, IntakeForm.id)
    return render_template("provider/clients/intake_forms.html", forms=forms, section="clients")


@bp.route("/intake/forms/new", methods=["GET", "POST"])
@access.roles_required(ROLE_OWNER)
def intake_form_new():
    form = IntakeFormForm()
    if form.validate_on_submit():
        obj = intake_svc.save_form(
            IntakeForm(practice=current_user.practice_id), _intake_form_data(form)
        )
        flash("Form created. Add its questions below.", "success")
        return redirect(url_for("provider.intake_form_edit", form_id=obj.id))
    return render_template(
        "provider/clients/intake_form.html",
        form=form,
        obj=None,
        field_form=None,
        section="clients",
    ), (400 if request.method == "POST" else 200)


@bp.route("/intake/forms/default", methods=["POST"])
@access.roles_required(ROLE_OWNER)
def intake_form_default():
    """One click: a health-history form with sensible questions, to edit afterwards."""
    obj = intake_svc.create_default_form(current_user.practice_id)
    flash("A health-history form was created. Edit its questions as you like.", "success")
    return redirect(url_for("provider.intake_form_edit", form_id=obj.id))


def _intake_form_data(form):
    return {
        "title": form.title.data.strip(),
        "kind": form.kind.data,
        "description": form.description.data or "",
        "position": form.position.data or 0,
        "active": form.active.data,
    }


def _field_data(form):
    return {
        "label": form.label.data.strip(),
        "field_type": form.field_type.data,
        "choices": "\n".join(
            c.strip() for c in (form.choices_text.data or "").splitlines() if c.strip()
        ),
        "help_text": form.help_text.data or "",
        "required": form.required.data,
        "flag": form.flag.data,
        "flag_label": form.flag_label.data or "",
        "position": form.position.data or 0,
        "active": form.active.data,
    }


@bp.route("/intake/forms/<int:form_id>", methods=["GET", "POST"])
@access.roles_required(ROLE_OWNER)
def intake_form_edit(form_id):
    obj = access.get_or_404(IntakeForm, form_id)
    form = IntakeFormForm(obj=obj)
    if form.validate_on_submit():
        intake_svc.save_form(obj, _intake_form_data(form))
        flash("Form saved.", "success")
        return redirect(url_for("provider.intake_form_edit", form_id=obj.id))
    field_form = IntakeFieldForm(formdata=None)
    field_form.position.data = (obj.fields.count() + 1) * 10
    return render_template(
        "provider/clients/intake_form.html",
        form=form,
        obj=obj,
        fields=list(obj.fields.order_by(IntakeField.position, IntakeField.id)),
        field_form=field_form,
        section="clients",
    ), (400 if request.method == "POST" else 200)


@bp.route("/intake/forms/<int:form_id>/fields/new", methods=["POST"])
@access.roles_required(ROLE_OWNER)
def intake_field_new(form_id):
    obj = access.get_or_404(IntakeForm, form_id)
    field_form = IntakeFieldForm()
    if field_form.validate_on_submit():
        intake_svc.save_field(
            IntakeField(practice=obj.practice_id, form=obj), _field_data(field_form)
        )
        flash("Question added.", "success")
        return redirect(url_for("provider.intake_form_edit", form_id=obj.id) + "#questions")
    return render_template(
        "provider/clients/intake_form.html",
        form=IntakeFormForm(obj=obj, formdata=None),
        obj=obj,
        fields=list(obj.fields.order_by(IntakeField.position, IntakeField.id)),
        field_form=field_form,
        section="clients",
    ), 400


@bp.route("/intake/fields/<int:field_id>/edit", methods=["GET", "POST"])
@access.roles_required(ROLE_OWNER)
def intake_field_edit(field_id):
    field_obj = access.get_or_404(IntakeField, field_id)
    form = IntakeFieldForm(obj=field_obj)
    if request.method == "GET":
        form.choices_text.data = field_obj.choices
    if form.validate_on_submit():
        intake_svc.save_field(field_obj, _field_data(form))
        flash("Question saved.", "success")
        return redirect(url_for("provider.intake_form_edit", form_id=field_obj.form_id))
    return render_template(
        "provider/clients/intake_field.html", form=form, field_obj=field_obj, section="clients"
    ), (400 if request.method == "POST" else 200)
