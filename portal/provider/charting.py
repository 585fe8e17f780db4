"""Chart notes (SOAP, body diagram, minutes per CPT code, ICD-10 diagnoses): the client's
notes, the unsigned list, writing, signing, addenda and the PDF. (Note templates, CPT codes
and the ICD-10 lookup: provider/charting_settings.py; the forms: charting_forms.py.)

Who: owners and therapists. The front desk never sees chart notes (404 + audit);
therapists see notes of the clients they may see (access.scoped). Clients never do.
Every note view and change is audited: note.view, note.create, note.update, note.sign,
note.addendum, note.pdf, note.delete, note.list.

Ids appear in URLs; client names and search words do not (searches are POSTed).
"""

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from peewee import fn

from portal import audit, clock, pdf, speedups
from portal.access import get_or_404, roles_required, scope_key, scoped
from portal.db import database
from portal.formutil import CsrfForm, choices
from portal.htmx import render
from portal.inputs import int_arg
from portal.models import (
    CLINICAL_ROLES,
    ROLE_OWNER,
    Appointment,
    ChartNote,
    Client,
    NoteDiagnosis,
    Provider,
)
from portal.models.scheduling import CANCELLED_STATUSES
from portal.provider import bp, visit
from portal.provider.charting_forms import (
    AddendumForm,
    NoteForm,
    conflict_rows,
    note_input,
    prefill,
)
from portal.rules import charting as rules
from portal.rules import icd10 as icd10_rules
from portal.services import charting as svc
from portal.services import client_merge, icd10, note_templates, reads
from portal.services.claims import build as claim_build

PROVIDER_NAME = (Provider.first_name, Provider.last_name, Provider.credentials)  # display_name
# An appointment type's name in the note form's appointment choice: longer names are cut
# so the option reads whole on a 1024 px tablet.
TYPE_NAME_SHOWN = 48


# --- helpers ---------------------------------------------------------------------------------


def _local(value):
    return clock.to_local(value, current_user.practice.tz)


def _unsigned_count(user):
    """Drafts older than a day (the count on Today and in the navigation)."""

    def build(cutoff):
        query = svc.unsigned_query(
            scoped(ChartNote, user=user), user, now=cutoff + svc.UNSIGNED_AFTER
        )
        return query.order_by().select(fn.COUNT(ChartNote.id))

    cutoff = clock.utcnow() - svc.UNSIGNED_AFTER
    if not speedups.enabled():
        return build(cutoff).scalar()
    key = ("unsigned_count", *scope_key(user))
    sql, params = speedups.built_once(key, build, {"cutoff": cutoff})
    return database.execute_sql(sql, params).fetchone()[0]


@bp.app_context_processor
def _charting_globals():
    def unsigned_note_count():
        user = current_user._get_current_object()
        if not user.is_authenticated or user.role not in CLINICAL_ROLES:
            return 0
        return _unsigned_count(user)

    return {"unsigned_note_count": unsigned_note_count}


def _note(note_id, action=None):
    return get_or_404(ChartNote, note_id, audit_action=action, joined=(Client, Provider))


def _typed_text(note):
    """[(label, text)]: the SOAP text a refused POST of the note form brought that the
    note does not hold (typed in a tab opened before the note was signed elsewhere)."""
    if request.method != "POST":
        return []
    out = []
    for name in rules.SOAP_FIELDS:
        text = (request.form.get(name) or "").strip()
        if text and text != (getattr(note, name) or "").strip():
            out.append((name.capitalize(), text))
    return out


def _locked_response(note, message=None):
    """HTTP 409: a signed note cannot be edited; the page offers the addendum instead, and
    shows what the refused form had typed (not saved) so that nothing typed is lost."""
    resp = make_response(
        render(
            "provider/charting/locked.html",
            note=note,
            message=message or str(svc.NoteLocked()),
            addendum_form=AddendumForm(),
            typed=_typed_text(note),
        )
    )
    resp.status_code = 409
    return resp


def _refused(message):
    """HTTP 403 with the reason (the person may see the note, not change it)."""
    return render_template("errors/error.html", code=403, title="Not allowed", message=message), 403


# --- the client page's section and the unsigned list --------------------------------------


@bp.route("/clients/<int:client_id>/notes")
@roles_required(*CLINICAL_ROLES)
def client_notes(client_id):
    client = get_or_404(Client, client_id)
    user = current_user._get_current_object()
    family = {f"c{i}": c for i, c in enumerate(client_merge.family_ids(client.id))}
    key = ("client_notes", len(family), *scope_key(user))
    notes = reads.objects(key, ChartNote, _client_notes_query, family)
    # A view of the client's notes: once per user, client and 10 minutes (audit.record_view).
    audit.record_view("note.list", obj=client, detail=f"{len(notes)} notes")
    dx = {}
    if notes:
        ids = {f"n{i}": n.id for i, n in enumerate(notes)}
        for note_id, code in reads.rows(("client_notes_dx", len(ids)), _diagnoses_of, ids):
            dx.setdefault(note_id, []).append(code)
    return render(
        "provider/charting/client_notes.html",
        block="client_notes",
        client=client,
        notes=notes,
        dx=dx,
    )


def _client_notes_query(**family):
    """The newest 100 notes of a client and the records merged into it (`family`: their
    ids), with who wrote each (the provider's name columns)."""
    shown = (ChartNote.id, ChartNote.visit_date, ChartNote.status, ChartNote.provider)
    return (
        scoped(ChartNote, query=ChartNote.select(*shown, *PROVIDER_NAME))
        .join(Provider, on=(ChartNote.provider == Provider.id))
        .where(ChartNote.client.in_(list(family.values())))
        .order_by(ChartNote.visit_date.desc(), ChartNote.id.desc())
        .limit(100)
    )


def _diagnoses_of(**note_ids):
    return (
        NoteDiagnosis.select(NoteDiagnosis.note, NoteDiagnosis.code)
        .where(NoteDiagnosis.note.in_(list(note_ids.values())))
        .order_by(NoteDiagnosis.position)
    )


@bp.route("/notes/unsigned")
@roles_required(*CLINICAL_ROLES)
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
        kind = a.appointment_type.name
        if len(kind) > TYPE_NAME_SHOWN:
            kind = kind[: TYPE_NAME_SHOWN - 1].rstrip(" ,;:-") + "…"
        label = f"{start:%a %d %b %Y, %-I:%M %p} · {kind} · {a.status_label}"
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


def _form_context(
    form, client, note, template, minutes_raw, dx_codes, errors, offered=(), conflict=None
):
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
        "templates": note_templates.templates(client.practice_id),
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
        "conflict": conflict,
    }


def _signed(note):
    """After signing: the visit's next step, or the note. Whatever would hold the visit's
    claim is said (never blocks signing): as a warning on the next page when that is not
    the note (whose page shows it)."""
    flash("Note signed. It is locked now; add an addendum to add to it.", "success")
    nxt = visit.after_sign_redirect(note)
    if nxt is None:
        return redirect(url_for("provider.note_view", note_id=note.id))
    for warning in claim_build.note_warnings(note):
        flash(warning, "warning")
    return nxt


def _not_signed(note):
    """Signing refused for what the note lacks: its form, the reasons by their fields
    (the draft as saved; the GET with sign=1 asks services.charting.signing_problems)."""
    flash("The note is saved as a draft, not signed: see the marked fields.", "warning")
    return redirect(url_for("provider.note_edit", note_id=note.id, sign=1))


def _sign_check(form, note, errors):
    """The edit form after a refused signing: why, by the fields."""
    problems = svc.signing_problems(note)
    if "soap" in problems:
        form.subjective.errors = [problems["soap"]]
    if "dx" in problems:
        errors["dx"] = problems["dx"]


def _sign_after_save(saved):
    """ "Save and sign": sign the saved draft (the response to send: the visit's next step
    or the note), or say why it stays a draft (None)."""
    try:
        svc.sign_note(current_user, saved)
    except svc.NoteIncomplete:
        return _not_signed(saved)
    except svc.ChartingError as exc:
        flash(str(exc), "error")
    else:
        return _signed(saved)
    return None


def _read_post(form, client, errors):
    """(the form validates, the POSTed minutes as typed and as read, the diagnoses, the
    billable codes to offer for a category), with what is wrong put in `errors` by field;
    when the form is valid, the minutes and the date checked against the linked visit."""
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
    if valid and form.appointment.data:
        # the appointment is one of the form's choices: this client's
        found = svc.visit_problems(
            client, form.appointment.data, form.visit_date.data, minutes, current_user.practice
        )
        if "visit_date" in found:
            form.visit_date.errors.append(found["visit_date"])
        errors.update(found)
    return valid, minutes_raw, minutes, dx_codes, offered


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
        details = prefill(form, client, note, template)
        minutes_raw = {c: str(m) for c, m in details["minutes"]}
        dx_codes = [d.code for d in details["diagnoses"]]
        if note is not None and request.args.get("sign"):
            _sign_check(form, note, errors)
        ctx = _form_context(form, client, note, template, minutes_raw, dx_codes, errors)
        return render("provider/charting/note_form.html", **ctx, sign_check=bool(errors))

    valid, minutes_raw, minutes, dx_codes, offered = _read_post(form, client, errors)
    if not valid or errors:
        # Keep what was typed, drop only what cannot be read.
        kept = [c for c in dx_codes if icd10.validate(c)[0]]
        ctx = _form_context(form, client, note, template, minutes_raw, kept, errors, offered)
        return render("provider/charting/note_form.html", **ctx), 400
    data = note_input(form, minutes, dx_codes, template.id if template else None)
    try:
        saved = svc.save_note(current_user, client, data, note=note, version=form.version.data)
    except svc.NoteChanged as exc:
        # Another tab or person saved first (or the form did not say what it was opened
        # on): keep what was typed, say who and when, and show the saved fields that differ
        # beside it; the form now carries the newer version, so saving again replaces it
        # deliberately.
        audit.record("note.update.conflict", obj=note, detail="no version" if exc.missing else "")
        form.version.data, differences = svc.draft_differences(note, data)
        ctx = _form_context(
            form, client, note, template, minutes_raw, dx_codes, errors, conflict=exc
        )
        rows = conflict_rows(form, differences)
        return render("provider/charting/note_form.html", **ctx, conflict_rows=rows), 409
    except svc.NoteLocked as exc:
        return _locked_response(note, str(exc))
    except svc.NotAllowed as exc:
        return _refused(str(exc))
    except svc.ChartingError as exc:
        form.form_errors.append(str(exc))
        ctx = _form_context(form, client, note, template, minutes_raw, dx_codes, errors)
        return render("provider/charting/note_form.html", **ctx), 400
    if request.form.get("action") == "sign":
        signed = _sign_after_save(saved)
        if signed is not None:
            return signed
    else:
        flash("Draft saved.", "success")
    return redirect(url_for("provider.note_view", note_id=saved.id))


@bp.route("/clients/<int:client_id>/notes/new", methods=["GET", "POST"])
@roles_required(*CLINICAL_ROLES)
def note_new(client_id):
    client = get_or_404(Client, client_id)
    if request.method == "GET":
        audit.record("client.view", client=client, detail="new note form")
    template_id = int_arg("template", source=request.values)
    template = note_templates.template_for_new_note(client.practice_id, template_id)
    return _handle_note_form(client, None, template)


@bp.route("/notes/<int:note_id>")
@roles_required(*CLINICAL_ROLES)
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
        claim_warnings=claim_build.note_warnings(note),
        **svc.note_details(note),
    )


@bp.route("/notes/<int:note_id>/edit", methods=["GET", "POST"])
@roles_required(*CLINICAL_ROLES)
def note_edit(note_id):
    note = _note(note_id)
    if note.is_signed:
        audit.record("note.update.refused", obj=note, detail="signed")
        return _locked_response(note)
    if not svc.may_edit(current_user, note):
        return _refused("Only the note's therapist or the owner can edit a draft.")
    if request.method == "GET":
        audit.record("note.view", obj=note, detail="edit form")
    template = (
        note.template
        if note.template_id
        else note_templates.template_for_new_note(note.practice_id)
    )
    return _handle_note_form(note.client, note, template)


def _sign_refused(exc):
    """Why a Sign from the note's page was refused: the draft changed since it was read, or
    the request did not say which version was read (a bare POST)."""
    if exc.missing:
        return "Not signed: read the note on its page, then sign it there."
    who = exc.saved_by or "you, in another tab or window"
    return (
        f"Not signed: the draft was changed since you opened it (saved by {who}, "
        f"{_local(exc.saved_at):%-I:%M %p}). Read it again, then sign."
    )


@bp.route("/notes/<int:note_id>/sign", methods=["POST"])
@roles_required(*CLINICAL_ROLES)
def note_sign(note_id):
    note = _note(note_id)
    form = CsrfForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        svc.sign_note(current_user, note, version=request.form.get("version"), read_first=True)
    except svc.NoteChanged as exc:
        audit.record(
            "note.update.conflict", obj=note, detail="sign, no version" if exc.missing else "sign"
        )
        flash(_sign_refused(exc), "error")
        return redirect(url_for("provider.note_view", note_id=note.id))
    except svc.NoteLocked as exc:
        return _locked_response(note, str(exc))
    except svc.NotAllowed as exc:
        return _refused(str(exc))
    except svc.NoteIncomplete:
        return _not_signed(note)
    return _signed(note)


@bp.route("/notes/<int:note_id>/addenda", methods=["POST"])
@roles_required(*CLINICAL_ROLES)
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
        claim_warnings=claim_build.note_warnings(note),
        **svc.note_details(note),
    ), 400


@bp.route("/notes/<int:note_id>/delete", methods=["POST"])
@roles_required(*CLINICAL_ROLES)
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
@roles_required(*CLINICAL_ROLES)
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
