"""Chart notes (SOAP, body diagram, minutes per CPT code, ICD-10 diagnoses), note
templates and CPT codes (owner), and ICD-10 lookup with practice favourites.

Who: owners and therapists. The front desk never sees chart notes (404 + audit);
therapists see notes of the clients they may see (access.scoped). Clients never do.
Every note view and change is audited: note.view, note.create, note.update, note.sign,
note.addendum, note.pdf, note.delete, note.list.

Ids appear in URLs; client names and search words do not (searches are POSTed).
"""

import datetime as dt

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from peewee import SQL, Select, fn
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal import audit, clock, pdf
from portal.access import get_or_404, prebuilt_scoped, roles_required, scoped
from portal.db import database
from portal.formutil import CsrfForm, choices
from portal.htmx import render
from portal.inputs import int_arg
from portal.models import (
    ROLE_OWNER,
    Appointment,
    ChartNote,
    Client,
    Icd10Favourite,
    NoteTemplate,
    Provider,
)
from portal.models.scheduling import CANCELLED_STATUSES
from portal.provider import bp, visit
from portal.rules import charting as rules
from portal.rules import icd10 as icd10_rules
from portal.services import charting as svc
from portal.services import client_merge, icd10

CLINICAL = ("owner", "therapist")
OWNER = ("owner",)
STAFF = ("owner", "therapist", "frontdesk")
TEXT_MAX = 20_000
PAIN_CHOICES = [("", "—")] + [(str(i), str(i)) for i in range(rules.PAIN_MIN, rules.PAIN_MAX + 1)]


# --- helpers ---------------------------------------------------------------------------------


def _local(value):
    return value.replace(tzinfo=dt.UTC).astimezone(current_user.practice.tz)


def _today():
    return _local(clock.utcnow()).date()


_S_CUTOFF = dt.datetime(1900, 1, 2, 3, 4, 5)  # stands in for "now - a day" while building


def _unsigned_count_query(query, user):
    inner = svc.unsigned_query(query, user, now=_S_CUTOFF + svc.UNSIGNED_AFTER)
    inner = inner.order_by().alias("_wrapped").select(SQL("1"))
    return Select([inner], [fn.COUNT(SQL("1"))]).bind(database)


@bp.app_context_processor
def _charting_globals():
    def unsigned_note_count():
        user = current_user._get_current_object()
        if not user.is_authenticated or user.role not in CLINICAL:
            return 0
        # the same COUNT peewee's .count() runs, its SQL built once per process
        sql, params = prebuilt_scoped(
            "unsigned_note_count",
            ChartNote,
            _unsigned_count_query,
            user=user,
            extra={_S_CUTOFF: clock.utcnow() - svc.UNSIGNED_AFTER},
        )
        return database.execute_sql(sql, params).fetchone()[0]

    return {"unsigned_note_count": unsigned_note_count}


def _note(note_id, action=None):
    return get_or_404(ChartNote, note_id, audit_action=action)


def _locked_response(note, message=None):
    """HTTP 409: a signed note cannot be edited; the page offers the addendum instead."""
    resp = make_response(
        render(
            "provider/charting/locked.html",
            note=note,
            message=message or str(svc.NoteLocked()),
            addendum_form=AddendumForm(),
        )
    )
    resp.status_code = 409
    return resp


def _refused(message):
    """HTTP 403 with the reason (the person may see the note, not change it)."""
    return render_template("errors/error.html", code=403, title="Not allowed", message=message), 403


# --- forms -----------------------------------------------------------------------------------


class NoteForm(FlaskForm):
    visit_date = DateField("Visit date", validators=[InputRequired("Enter the visit date.")])
    provider = SelectField("Therapist", coerce=int)
    appointment = SelectField("Appointment", coerce=int, validators=[Optional()])
    subjective = TextAreaField(
        "Subjective",
        validators=[Length(max=TEXT_MAX)],
        description="What the client reports: complaint, pain, history, goals.",
    )
    objective = TextAreaField(
        "Objective",
        validators=[Length(max=TEXT_MAX)],
        description="What you observe and measure: posture, palpation, range of motion.",
    )
    assessment = TextAreaField(
        "Assessment",
        validators=[Length(max=TEXT_MAX)],
        description="Response to treatment and progress toward goals.",
    )
    plan = TextAreaField(
        "Plan",
        validators=[Length(max=TEXT_MAX)],
        description="Frequency, home care, focus for next time, referrals.",
    )
    pain_before = SelectField("Pain before treatment (0-10)", choices=choices(PAIN_CHOICES))
    pain_after = SelectField("Pain after treatment (0-10)", choices=choices(PAIN_CHOICES))
    techniques = SelectMultipleField("Techniques", validate_choice=False)
    techniques_other = StringField(
        "Other techniques",
        validators=[Optional(), Length(max=500)],
        description="Separate with commas.",
    )
    regions = SelectMultipleField(
        "Body regions treated", choices=choices((r, lbl) for r, lbl, _ in rules.REGIONS)
    )
    dx_new = StringField(
        "Add a diagnosis",
        validators=[Optional(), Length(max=200)],
        description="Type words (low back) or a code (M54.50). Without JavaScript, "
        "type codes separated by commas and save.",
    )


class TemplateForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name the template."), Length(max=120)])
    subjective = TextAreaField("Subjective", validators=[Length(max=TEXT_MAX)])
    objective = TextAreaField("Objective", validators=[Length(max=TEXT_MAX)])
    assessment = TextAreaField("Assessment", validators=[Length(max=TEXT_MAX)])
    plan = TextAreaField("Plan", validators=[Length(max=TEXT_MAX)])
    techniques = TextAreaField(
        "Techniques to tick",
        validators=[Length(max=5000)],
        description="One per line. They appear as tick boxes on the note.",
    )
    is_default = BooleanField("Use this template for new notes")
    active = BooleanField("Active", default=True)


class CptForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired("Enter a code."), Length(max=5)],
        description="5 characters: a CPT code like 97112, or HCPCS like G0283.",
    )
    description = StringField(
        "Description", validators=[DataRequired("Describe the code."), Length(max=200)]
    )


class AddendumForm(FlaskForm):
    body = TextAreaField(
        "Addendum",
        validators=[DataRequired("Write the addendum's text."), Length(max=svc.MAX_ADDENDUM)],
        description="Added below the signed note with your name and the time. "
        "It cannot be changed afterwards.",
    )


class Icd10SearchForm(FlaskForm):
    q = StringField(
        "Search ICD-10-CM",
        validators=[DataRequired("Type a code or words."), Length(max=200)],
        description="A code or its start (M54.5) or words (low back pain).",
    )


class FavouriteForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired("Enter a code."), Length(max=12)])


# --- ICD-10: lookup, autocomplete, favourites ---------------------------------------------


@bp.route("/icd10", methods=["GET", "POST"])
@roles_required(*STAFF)
def icd10_lookup():
    form = Icd10SearchForm()
    fav_form = FavouriteForm()
    results, status, validation = None, 200, None
    if form.validate_on_submit():
        results = icd10.search(form.q.data, limit=50)
        if icd10_rules.looks_like_code(form.q.data):
            validation = icd10.validate(form.q.data)
    elif request.method == "POST":
        status = 400
    favs = svc.favourites(current_user.practice_id)
    return render(
        "provider/charting/icd10.html",
        form=form,
        fav_form=fav_form,
        results=results,
        validation=validation,
        favourites=favs,
        fav_codes={f.code for f in favs},
    ), status


@bp.route("/icd10/suggest", methods=["POST"])
@roles_required(*STAFF)
def icd10_suggest():
    """Autocomplete fragment (HTMX): the search words are POSTed, never put in a URL."""
    q = (request.form.get("q") or request.form.get("dx_new") or "").strip()[:200]
    results = icd10.search(q, limit=12) if len(q) >= 2 else []
    return render("provider/charting/_icd10_suggest.html", q=q, results=results)


@bp.route("/icd10/favourites", methods=["POST"])
@roles_required(*CLINICAL)
def icd10_favourite_add():
    form = FavouriteForm()
    if form.validate_on_submit():
        try:
            fav = svc.add_favourite(current_user, form.code.data)
        except svc.ChartingError as exc:
            flash(str(exc), "error")
        else:
            flash(f"{fav.code} added to the practice's favourites.", "success")
    else:
        flash("Enter a code to add.", "error")
    return redirect(url_for("provider.icd10_lookup"))


@bp.route("/icd10/favourites/<int:favourite_id>/delete", methods=["POST"])
@roles_required(*CLINICAL)
def icd10_favourite_remove(favourite_id):
    fav = get_or_404(Icd10Favourite, favourite_id)
    svc.remove_favourite(current_user, fav)
    flash(f"{fav.code} removed from favourites.", "success")
    return redirect(url_for("provider.icd10_lookup"))


# --- note templates and CPT codes (owner) -----------------------------------------------


@bp.route("/settings/charting/templates")
@roles_required(*OWNER)
def note_templates():
    rows = svc.templates(current_user.practice_id, include_inactive=True)
    return render(
        "provider/charting/templates.html",
        templates=rows,
        default_name=svc.DEFAULT_TEMPLATE["name"],
    )


@bp.route("/settings/charting/templates/default", methods=["POST"])
@roles_required(*OWNER)
def note_template_default():
    from portal.db import database

    with database.atomic("IMMEDIATE"):
        t = svc.ensure_default_template(current_user.practice_id, user=current_user)
    flash("The default massage template is ready to edit.", "success")
    return redirect(url_for("provider.note_template_edit", template_id=t.id))


@bp.route("/settings/charting/templates/new", methods=["GET", "POST"])
@bp.route("/settings/charting/templates/<int:template_id>", methods=["GET", "POST"])
@roles_required(*OWNER)
def note_template_edit(template_id=None):
    template = get_or_404(NoteTemplate, template_id) if template_id else None
    form = TemplateForm(obj=template)
    status = 200
    if form.validate_on_submit():
        data = {name: (getattr(form, name).data or "").strip() for name in svc.TEMPLATE_FIELDS}
        data["is_default"] = bool(form.is_default.data)
        data["active"] = bool(form.active.data)
        template = svc.save_template(current_user, template, data)
        flash(f"Template “{template.name}” saved.", "success")
        return redirect(url_for("provider.note_templates"))
    elif request.method == "POST":
        status = 400
    return render("provider/charting/template_form.html", form=form, template=template), status


@bp.route("/settings/charting/codes", methods=["GET", "POST"])
@roles_required(*OWNER)
def cpt_codes():
    form = CptForm()
    status = 200
    if form.validate_on_submit():
        try:
            row = svc.add_cpt_code(current_user, form.code.data, form.description.data)
        except svc.ChartingError as exc:
            form.code.errors.append(str(exc))
            status = 400
        else:
            flash(f"{row.code} is on the practice's list.", "success")
            return redirect(url_for("provider.cpt_codes"))
    elif request.method == "POST":
        status = 400
    codes = svc.cpt_codes(current_user.practice_id, include_inactive=True)
    return render("provider/charting/cpt_codes.html", form=form, codes=codes), status


@bp.route("/settings/charting/codes/toggle", methods=["POST"])
@roles_required(*OWNER)
def cpt_code_toggle():
    form = CsrfForm()
    if not form.validate_on_submit():
        abort(400)
    code = request.form.get("code", "")
    active = request.form.get("active") == "1"
    try:
        svc.set_cpt_active(current_user, code, active)
    except svc.ChartingError as exc:
        flash(str(exc), "error")
    else:
        flash(f"{code} {'shown on' if active else 'hidden from'} notes.", "success")
    return redirect(url_for("provider.cpt_codes"))


# --- the client page's section and the unsigned list --------------------------------------


@bp.route("/clients/<int:client_id>/notes")
@roles_required(*CLINICAL)
def client_notes(client_id):
    client = get_or_404(Client, client_id)
    notes = list(
        scoped(ChartNote)
        .where(ChartNote.client.in_(client_merge.family_ids(client.id)))  # merged records too
        .order_by(ChartNote.visit_date.desc(), ChartNote.id.desc())
        .limit(100)
    )
    audit.record("note.list", client=client, detail=f"{len(notes)} notes")
    dx = {}
    if notes:
        from portal.models import NoteDiagnosis

        for d in (
            NoteDiagnosis.select()
            .where(NoteDiagnosis.note.in_([n.id for n in notes]))
            .order_by(NoteDiagnosis.position)
        ):
            dx.setdefault(d.note_id, []).append(d.code)
    return render(
        "provider/charting/client_notes.html",
        block="client_notes",
        client=client,
        notes=notes,
        dx=dx,
    )


@bp.route("/notes/unsigned")
@roles_required(*CLINICAL)
def unsigned_notes():
    notes = list(svc.unsigned_query(scoped(ChartNote), current_user).limit(200))
    audit.record("note.list", detail=f"unsigned {len(notes)}")
    return render("provider/charting/unsigned.html", notes=notes, now=clock.utcnow())


# --- writing a note ----------------------------------------------------------------------------


def _provider_choices(client):
    rows = list(scoped(Provider).where(Provider.active).order_by(Provider.last_name))
    return [(p.id, p.display_name) for p in rows]


def _appointment_choices(client, keep_id=None):
    q = (
        scoped(Appointment)
        .where(
            (Appointment.client == client.id)
            & (Appointment.status.not_in(CANCELLED_STATUSES) | (Appointment.id == (keep_id or 0)))
        )
        .order_by(Appointment.starts_at.desc())
        .limit(30)
    )
    out = [(0, "— not linked to an appointment —")]
    for a in q:
        start = _local(a.starts_at)
        label = f"{start:%a %d %b %Y, %-I:%M %p} · {a.appointment_type.name} · {a.status_label}"
        out.append((a.id, label))
    return out


def _dx_from_form(form, errors):
    """Diagnosis codes from the ticked list (in order) and the typed box."""
    codes = []
    for raw in request.form.getlist("dx"):
        code = icd10_rules.normalize_code(raw)
        if code and code not in codes:
            codes.append(code)
    typed = (form.dx_new.data or "").strip()
    if typed:
        new, bad = icd10_rules.split_codes(typed)
        if bad:
            errors["dx"] = (
                "Pick a code from the suggestions, or type codes like M54.50 "
                "(not words) to add them."
            )
        for code in new:
            if code not in codes:
                codes.append(code)
    offered = []
    for code in codes:
        ok, message, children = icd10.validate(code)
        if not ok:
            errors["dx"] = message
            offered.extend(children[:12])
    if len(codes) > icd10_rules.MAX_DIAGNOSES:
        errors["dx"] = f"At most {icd10_rules.MAX_DIAGNOSES} diagnosis codes per note."
    return codes, offered


def _form_context(form, client, note, template, minutes_raw, dx_codes, errors, offered=()):
    codes = svc.cpt_codes(client.practice_id)
    listed = {c for c, _, _, _ in codes}
    # A draft that recorded a code the practice has since hidden still shows it.
    for code in minutes_raw:
        if code not in listed:
            codes.append((code, "(no longer on the practice's list)", False, False))
    dx_rows = [(c, icd10.describe(c)) for c in dx_codes]
    favs = [f for f in svc.favourites(client.practice_id) if f.code not in dx_codes]
    technique_choices = list(template.technique_list if template else [])
    for t in form.techniques.data or []:
        if t not in technique_choices:
            technique_choices.append(t)
    return {
        "form": form,
        "client": client,
        "note": note,
        "note_template": template,
        "templates": svc.templates(client.practice_id),
        "codes": codes,
        "minutes_raw": minutes_raw,
        "dx_rows": dx_rows,
        "favourites": favs,
        "offered": list(offered),
        "errors": errors,
        "technique_choices": technique_choices,
        "region_groups": rules.region_groups(),
        "selected_regions": set(form.regions.data or []),
        "is_owner": current_user.role == ROLE_OWNER,
    }


def _note_input(form, minutes, dx_codes, template_id):
    pain_before, _ = rules.parse_pain(form.pain_before.data)
    pain_after, _ = rules.parse_pain(form.pain_after.data)
    return svc.NoteInput(
        visit_date=form.visit_date.data,
        provider_id=form.provider.data,
        appointment_id=form.appointment.data or None,
        template_id=template_id,
        subjective=(form.subjective.data or "").strip(),
        objective=(form.objective.data or "").strip(),
        assessment=(form.assessment.data or "").strip(),
        plan=(form.plan.data or "").strip(),
        pain_before=pain_before,
        pain_after=pain_after,
        techniques=rules.join_techniques(form.techniques.data or [], form.techniques_other.data),
        regions=list(form.regions.data or []),
        minutes=minutes,
        diagnoses=dx_codes,
    )


def _handle_note_form(client, note, template):
    """GET shows, POST validates and saves (and signs when asked). Returns a response."""
    form = NoteForm()
    provider_choices = _provider_choices(client)
    form.provider.choices = choices(provider_choices)
    keep_appt = note.appointment_id if note is not None else None
    form.appointment.choices = choices(_appointment_choices(client, keep_appt))
    own_provider = current_user.provider_id
    if current_user.role != ROLE_OWNER:
        # A therapist writes their own notes; the field is fixed.
        if own_provider is None:
            return _refused("Your account is not linked to a therapist record.")
        form.provider.choices = choices([p for p in provider_choices if p[0] == own_provider])
    errors = {}
    if request.method == "GET":
        if not current_app.config.get("TESTING"):
            icd10.warm_in_background()  # the diagnosis search is next
        type_minutes = []
        if note is None:
            appt_id = int_arg("appointment", 0)
            if appt_id and appt_id in {c.value for c in form.appointment.choices}:
                form.appointment.data = appt_id
                appt = Appointment.get_by_id(appt_id)
                form.visit_date.data = _local(appt.starts_at).date()
                form.provider.data = appt.provider_id
                # started from the visit: its type's minutes, to be corrected as given
                type_minutes = [
                    (c.cpt_code, c.minutes) for c in appt.appointment_type.default_codes
                ]
            else:
                form.visit_date.data = _today()
                form.provider.data = own_provider or client.therapist_id or 0
            if current_user.role != ROLE_OWNER:
                form.provider.data = own_provider
            for name in rules.SOAP_FIELDS:
                getattr(form, name).data = getattr(template, name)
            details = {"regions": [], "minutes": type_minutes, "diagnoses": []}
        else:
            details = svc.note_details(note)
            form.visit_date.data = note.visit_date
            for name in rules.SOAP_FIELDS:
                getattr(form, name).data = getattr(note, name)
            form.appointment.data = note.appointment_id or 0
            form.provider.data = note.provider_id
            form.pain_before.data = "" if note.pain_before is None else str(note.pain_before)
            form.pain_after.data = "" if note.pain_after is None else str(note.pain_after)
            chosen = note.technique_list
            known = template.technique_list if template else []
            form.techniques.data = [t for t in chosen if t in known]
            form.techniques_other.data = ", ".join(t for t in chosen if t not in known)
            form.regions.data = details["regions"]
        minutes_raw = {c: str(m) for c, m in details["minutes"]}
        dx_codes = [d.code for d in details["diagnoses"]]
        ctx = _form_context(form, client, note, template, minutes_raw, dx_codes, errors)
        return render("provider/charting/note_form.html", **ctx)

    # POST
    codes = [c for c, _, _, _ in svc.cpt_codes(client.practice_id)]
    minutes_raw = {}
    for key, value in request.form.items():
        if key.startswith("minutes-"):
            minutes_raw[key.removeprefix("minutes-")[:8]] = value
    minutes, minute_errors = rules.parse_minutes(minutes_raw, codes)
    if minute_errors:
        errors["minutes"] = minute_errors
    dx_codes, offered = _dx_from_form(form, errors)
    for name in ("pain_before", "pain_after"):
        _, err = rules.parse_pain(getattr(form, name).data)
        if err:
            errors[name] = err
    valid = form.validate_on_submit()
    if not valid or errors:
        # Keep what was typed, drop only what cannot be read.
        kept = [c for c in dx_codes if icd10.validate(c)[0]]
        ctx = _form_context(form, client, note, template, minutes_raw, kept, errors, offered)
        return render("provider/charting/note_form.html", **ctx), 400
    data = _note_input(form, minutes, dx_codes, template.id if template else None)
    try:
        saved = svc.save_note(current_user, client, data, note=note)
    except svc.NoteLocked as exc:
        return _locked_response(note, str(exc))
    except svc.NotAllowed as exc:
        return _refused(str(exc))
    except svc.ChartingError as exc:
        form.form_errors.append(str(exc))
        ctx = _form_context(form, client, note, template, minutes_raw, dx_codes, errors)
        return render("provider/charting/note_form.html", **ctx), 400
    if request.form.get("action") == "sign":
        try:
            svc.sign_note(current_user, saved)
        except svc.NoteIncomplete as exc:
            for p in exc.problems:
                flash(p, "error")
            flash("The note is saved as a draft, not signed.", "warning")
        except svc.ChartingError as exc:
            flash(str(exc), "error")
        else:
            flash("Note signed. It is locked now; add an addendum to add to it.", "success")
            return visit.after_sign_redirect(saved) or redirect(
                url_for("provider.note_view", note_id=saved.id)
            )
    else:
        flash("Draft saved.", "success")
    return redirect(url_for("provider.note_view", note_id=saved.id))


@bp.route("/clients/<int:client_id>/notes/new", methods=["GET", "POST"])
@roles_required(*CLINICAL)
def note_new(client_id):
    client = get_or_404(Client, client_id)
    if request.method == "GET":
        audit.record("client.view", client=client, detail="new note form")
    template_id = int_arg("template", source=request.values)
    template = svc.template_for_new_note(client.practice_id, template_id)
    return _handle_note_form(client, None, template)


@bp.route("/notes/<int:note_id>")
@roles_required(*CLINICAL)
def note_view(note_id):
    note = _note(note_id, action="note.view")
    return render(
        "provider/charting/note.html",
        note=note,
        client=note.client,
        addendum_form=AddendumForm(),
        may_edit=svc.may_edit(current_user, note),
        may_sign=current_user.provider_id is not None
        and current_user.provider_id == note.provider_id,
        **svc.note_details(note),
    )


@bp.route("/notes/<int:note_id>/edit", methods=["GET", "POST"])
@roles_required(*CLINICAL)
def note_edit(note_id):
    note = _note(note_id)
    if note.is_signed:
        audit.record("note.update.refused", obj=note, detail="signed")
        return _locked_response(note)
    if not svc.may_edit(current_user, note):
        return _refused("Only the note's therapist or the owner can edit a draft.")
    if request.method == "GET":
        audit.record("note.view", obj=note, detail="edit form")
    template = note.template if note.template_id else svc.template_for_new_note(note.practice_id)
    return _handle_note_form(note.client, note, template)


@bp.route("/notes/<int:note_id>/sign", methods=["POST"])
@roles_required(*CLINICAL)
def note_sign(note_id):
    note = _note(note_id)
    form = CsrfForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        svc.sign_note(current_user, note)
    except svc.NoteLocked as exc:
        return _locked_response(note, str(exc))
    except svc.NotAllowed as exc:
        return _refused(str(exc))
    except svc.NoteIncomplete as exc:
        for p in exc.problems:
            flash(p, "error")
        return redirect(url_for("provider.note_view", note_id=note.id))
    flash("Note signed. It is locked now; add an addendum to add to it.", "success")
    return visit.after_sign_redirect(note) or redirect(
        url_for("provider.note_view", note_id=note.id)
    )


@bp.route("/notes/<int:note_id>/addenda", methods=["POST"])
@roles_required(*CLINICAL)
def note_addendum(note_id):
    note = _note(note_id)
    form = AddendumForm()
    if form.validate_on_submit():
        try:
            svc.add_addendum(current_user, note, form.body.data)
        except svc.ChartingError as exc:
            if note.is_signed:
                form.body.errors.append(str(exc))
            else:
                flash(str(exc), "error")
        else:
            flash("Addendum added.", "success")
            return redirect(url_for("provider.note_view", note_id=note.id) + "#addenda")
    audit.record("note.view", obj=note, detail="addendum form")
    return render(
        "provider/charting/note.html",
        note=note,
        client=note.client,
        addendum_form=form,
        may_edit=svc.may_edit(current_user, note),
        may_sign=current_user.provider_id == note.provider_id,
        **svc.note_details(note),
    ), 400


@bp.route("/notes/<int:note_id>/delete", methods=["POST"])
@roles_required(*CLINICAL)
def note_delete(note_id):
    note = _note(note_id)
    form = CsrfForm()
    if not form.validate_on_submit():
        abort(400)
    client_id = note.client_id
    try:
        svc.delete_draft(current_user, note)
    except svc.NoteLocked as exc:
        return _locked_response(note, str(exc))
    except svc.NotAllowed as exc:
        return _refused(str(exc))
    flash("Draft discarded.", "success")
    return redirect(url_for("provider.client_notes", client_id=client_id))


@bp.route("/notes/<int:note_id>/pdf")
@roles_required(*CLINICAL)
def note_pdf(note_id):
    note = _note(note_id, action="note.pdf")
    details = svc.note_details(note)
    data = pdf.render_pdf(
        "pdf/chart_note.html",
        note=note,
        client=note.client,
        practice=note.practice,
        provider=note.provider,
        local=_local,
        region_groups=rules.region_groups(),
        selected_regions=set(details["regions"]),
        generated_at=clock.utcnow(),
        **details,
    )
    resp = make_response(data)
    resp.headers["Content-Type"] = "application/pdf"
    # The file name carries the note number only: no client name in headers.
    resp.headers["Content-Disposition"] = f'inline; filename="chart-note-{note.id}.pdf"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
