"""The owner's export of the whole practice (Settings -> Export): started here, built by
the task queue with a progress bar, downloaded by the owner who asked for it (no other
staff, no other owner), deleted from the server when it expires or when asked."""

from flask import abort, flash, redirect, send_file, url_for
from flask_login import current_user

from portal import access, tasks
from portal.access import roles_required
from portal.formutil import CsrfForm
from portal.htmx import render
from portal.models import DataExport
from portal.models.jobs import Job
from portal.provider import bp
from portal.services import practice_export
from portal.tasks.documents import build_practice_export


def _own_export(export_id):
    export = access.get_or_404(DataExport, export_id)
    if export.created_by_id != current_user.id:
        access.deny()  # another owner's export is theirs alone
    return export


@bp.route("/settings/export", methods=["GET", "POST"])
@roles_required("owner")
def practice_export_page():
    form = CsrfForm()
    if form.validate_on_submit():
        try:
            export = practice_export.start(current_user._get_current_object())
        except practice_export.ExportError as exc:
            flash(str(exc), "error")
            return redirect(url_for("provider.practice_export_page"), 303)
        if export.status == "building":
            tasks.enqueue(build_practice_export, export.id)
        return redirect(url_for("provider.practice_export_status", export_id=export.id), 303)
    exports = list(
        access.scoped(DataExport)
        .where((DataExport.created_by == current_user.id) & (DataExport.status != "deleted"))
        .order_by(DataExport.id.desc())
        .limit(20)
    )
    return render(
        "provider/exports/index.html",
        form=CsrfForm(formdata=None),
        exports=exports,
        keep_hours=practice_export.keep_hours(),
    )


@bp.route("/settings/export/<int:export_id>")
@roles_required("owner")
def practice_export_status(export_id):
    export = _own_export(export_id)
    job = Job.get_or_none(Job.id == export.job_id) if export.job_id else None
    if job is None:
        abort(404)
    result = None
    if export.available:
        result = url_for("provider.practice_export_download", export_id=export.id)
    return render(
        "provider/exports/status.html",
        block="job_progress",
        export=export,
        job=job,
        job_url=url_for("provider.practice_export_status", export_id=export.id),
        result_url=result,
        result_label="Download the export (ZIP)",
        delete_form=CsrfForm(formdata=None),
        keep_hours=practice_export.keep_hours(),
    )


@bp.route("/settings/export/<int:export_id>/download")
@roles_required("owner")
def practice_export_download(export_id):
    export = _own_export(export_id)
    path = practice_export.file_path(export) if export.available else None
    if path is None:
        flash("That export is no longer on the server: make a new one.", "error")
        return redirect(url_for("provider.practice_export_page"), 303)
    practice_export.mark_downloaded(export, current_user)
    resp = send_file(
        path, mimetype="application/zip", as_attachment=True, download_name=export.filename
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/settings/export/<int:export_id>/delete", methods=["POST"])
@roles_required("owner")
def practice_export_delete(export_id):
    export = _own_export(export_id)
    if CsrfForm().validate_on_submit():
        practice_export.delete(export, current_user)
        flash("The export is deleted from the server.", "success")
    return redirect(url_for("provider.practice_export_page"), 303)
