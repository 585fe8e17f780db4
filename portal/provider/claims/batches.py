"""837P files: choose ready claims and build one file per payer, the list of files, a
file's page (status, the clearinghouse's answer, tries and the last error in words, its
claims), its download, and Send (on the task queue). Owner and front desk."""

from flask import Response, flash, redirect, request, url_for
from flask_login import current_user

from portal import audit, tasks
from portal.access import deny, get_or_404, roles_required, scoped
from portal.formutil import CsrfForm
from portal.htmx import render
from portal.inputs import bounded_int, page_arg
from portal.models.claims import Claim, ClaimBatch
from portal.models.people import DESK_ROLES
from portal.provider import bp
from portal.services import clearinghouse
from portal.services.claims import batches as service
from portal.services.claims import sending
from portal.tasks import claims as claim_tasks

PAGE = 50


def batch_or_404(batch_id, action=None):
    return get_or_404(ClaimBatch, batch_id, audit_action=action)


def _connection():
    conn = clearinghouse.connection_for(current_user.practice_id)
    return conn, bool(conn is not None and conn.is_configured)


@bp.route("/claims/batches")
@roles_required(*DESK_ROLES)
def claim_batches():
    page = page_arg()
    rows = service.batches_for(current_user.practice_id, PAGE + 1, (page - 1) * PAGE)
    ready = sum(len(claims) for _, claims in service.ready_by_payer(current_user.practice_id))
    return render(
        "provider/claims/batches.html",
        rows=rows[:PAGE],
        has_next=len(rows) > PAGE,
        page=page,
        ready=ready,
        labels=service.STATUS_LABELS,
    )


def _new_page(error=None, status=200, chosen=None):
    groups = service.ready_by_payer(current_user.practice_id)
    conn, _ = _connection()
    try:
        service.batch837.parties(current_user.practice, conn)
        ids_missing = ""
    except service.BatchError as exc:
        ids_missing = str(exc)
    return (
        render(
            "provider/claims/batch_new.html",
            groups=groups,
            form=CsrfForm(),
            error=error,
            ids_missing=ids_missing,
            chosen=chosen,
        ),
        status,
    )


@bp.route("/claims/batches/new", methods=["GET", "POST"])
@roles_required(*DESK_ROLES)
def claim_batch_new():
    if request.method == "GET":
        return _new_page()
    form = CsrfForm()
    if not form.validate_on_submit():
        return _new_page("The form expired: choose the claims again.", 400)
    chosen = {bounded_int(v) for v in request.form.getlist("claim")} - {None}
    if chosen and scoped(Claim).where(Claim.id.in_(list(chosen))).count() != len(chosen):
        deny()  # another practice's claim, or none at all: 404 and an audit row
    try:
        built = service.build(current_user.practice_id, claim_ids=chosen, user=current_user)
    except service.BatchError as exc:
        return _new_page(str(exc), 409 if chosen else 400, set(chosen))
    n = sum(b.claim_count for b in built)
    flash(
        f"{len(built)} 837P file{'s' if len(built) != 1 else ''} built with {n} "
        f"claim{'s' if n != 1 else ''}: download {'them' if len(built) != 1 else 'it'}, "
        "or send to the clearinghouse.",
        "success",
    )
    if len(built) == 1:
        return redirect(url_for("provider.claim_batch", batch_id=built[0].id))
    return redirect(url_for("provider.claim_batches"))


@bp.route("/claims/batches/<int:batch_id>")
@roles_required(*DESK_ROLES)
def claim_batch(batch_id):
    batch = batch_or_404(batch_id, "claim_batch.view")
    _, can_send = _connection()
    return render(
        "provider/claims/batch.html",
        "batch_status" if request.args.get("part") == "status" else None,
        batch=batch,
        claims=service.claims_of(batch),
        late_answers=service.late_answers(batch),
        payer=batch.payer,
        labels=service.STATUS_LABELS,
        can_send=can_send,
        send_now=can_send and sending.can_send(batch),
        uploading=batch.status in sending.WAITING and sending.uploading(batch),
        wait=sending.wait_words(batch.attempts) if batch.attempts else "",
        form=CsrfForm(),
        max_attempts=sending.MAX_ATTEMPTS,
    )


@bp.route("/claims/batches/<int:batch_id>/file")
@roles_required(*DESK_ROLES)
def claim_batch_file(batch_id):
    batch = batch_or_404(batch_id)
    audit.record("claim_batch.download", obj=batch)
    return Response(
        service.file_bytes(batch),
        mimetype="application/edi-x12",
        headers={
            "Content-Disposition": f'attachment; filename="{batch.remote_name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/claims/batches/<int:batch_id>/send", methods=["POST"])
@roles_required(*DESK_ROLES)
def claim_batch_send(batch_id):
    batch = batch_or_404(batch_id)
    form = CsrfForm()
    if not form.validate_on_submit():
        flash("The form expired: press Send again.", "error")
        return redirect(url_for("provider.claim_batch", batch_id=batch.id))
    try:
        sending.queue(batch, current_user)
    except sending.SendError as exc:
        flash(str(exc), "error")
        return redirect(url_for("provider.claim_batch", batch_id=batch.id)), 303
    tasks.enqueue(claim_tasks.send_batch, batch.id)  # after the commit: the task reads it
    flash("The file is on its way to the clearinghouse; this page shows how it goes.", "success")
    return redirect(url_for("provider.claim_batch", batch_id=batch.id))
