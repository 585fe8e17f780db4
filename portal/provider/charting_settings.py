"""Charting settings and the ICD-10 lookup: note templates and CPT codes (owner), ICD-10
search, autocomplete and the practice's favourites (owners and therapists; the front desk
may look codes up). The chart notes themselves: provider/charting.py."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.access import get_or_404, roles_required
from portal.db import database
from portal.formutil import CsrfForm
from portal.htmx import render
from portal.models import CLINICAL_ROLES, OWNER_ROLES, STAFF_ROLES, Icd10Favourite, NoteTemplate
from portal.provider import bp
from portal.provider.charting_forms import CptForm, FavouriteForm, Icd10SearchForm, TemplateForm
from portal.rules import icd10 as icd10_rules
from portal.services import charting as svc
from portal.services import icd10
from portal.services import note_templates as templates_svc

# --- ICD-10: lookup, autocomplete, favourites ---------------------------------------------


@bp.route("/icd10", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
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
@roles_required(*STAFF_ROLES)
def icd10_suggest():
    """Autocomplete fragment (HTMX): the search words are POSTed, never put in a URL."""
    q = (request.form.get("q") or request.form.get("dx_new") or "").strip()[:200]
    results = icd10.search(q, limit=12) if len(q) >= 2 else []
    return render("provider/charting/_icd10_suggest.html", q=q, results=results)


@bp.route("/icd10/favourites", methods=["POST"])
@roles_required(*CLINICAL_ROLES)
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
@roles_required(*CLINICAL_ROLES)
def icd10_favourite_remove(favourite_id):
    fav = get_or_404(Icd10Favourite, favourite_id)
    svc.remove_favourite(current_user, fav)
    flash(f"{fav.code} removed from favourites.", "success")
    return redirect(url_for("provider.icd10_lookup"))


# --- note templates and CPT codes (owner) -----------------------------------------------


@bp.route("/settings/charting/templates")
@roles_required(*OWNER_ROLES)
def note_templates():
    rows = templates_svc.templates(current_user.practice_id, include_inactive=True)
    return render(
        "provider/charting/templates.html",
        templates=rows,
        default_name=templates_svc.DEFAULT_TEMPLATE["name"],
    )


@bp.route("/settings/charting/templates/default", methods=["POST"])
@roles_required(*OWNER_ROLES)
def note_template_default():
    with database.atomic("IMMEDIATE"):
        t = templates_svc.ensure_default_template(current_user.practice_id, user=current_user)
    flash("The default massage template is ready to edit.", "success")
    return redirect(url_for("provider.note_template_edit", template_id=t.id))


@bp.route("/settings/charting/templates/new", methods=["GET", "POST"])
@bp.route("/settings/charting/templates/<int:template_id>", methods=["GET", "POST"])
@roles_required(*OWNER_ROLES)
def note_template_edit(template_id=None):
    template = get_or_404(NoteTemplate, template_id) if template_id else None
    form = TemplateForm(obj=template)
    status = 200
    if form.validate_on_submit():
        data = {
            name: (getattr(form, name).data or "").strip() for name in templates_svc.TEMPLATE_FIELDS
        }
        data["is_default"] = bool(form.is_default.data)
        data["active"] = bool(form.active.data)
        template = templates_svc.save_template(current_user, template, data)
        flash(f"Template “{template.name}” saved.", "success")
        return redirect(url_for("provider.note_templates"))
    elif request.method == "POST":
        status = 400
    return render("provider/charting/template_form.html", form=form, template=template), status


@bp.route("/settings/charting/codes", methods=["GET", "POST"])
@roles_required(*OWNER_ROLES)
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
@roles_required(*OWNER_ROLES)
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
