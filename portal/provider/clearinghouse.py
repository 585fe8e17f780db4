"""Owner settings: the practice's clearinghouse connection (SFTP server, login, folders,
submitter and receiver ids), its key pair, the pinned server key and the connection test."""

from flask import flash, redirect, request, url_for
from flask_login import current_user

from portal.access import roles_required
from portal.htmx import render
from portal.models.clearinghouse import AUTH_PASSWORD, ClearinghouseConnection
from portal.models.people import OWNER_ROLES
from portal.provider import bp
from portal.provider.clearinghouse_forms import AcceptHostKeyForm, ClearinghouseForm
from portal.services import clearinghouse as ch
from portal.services import clearinghouse_sftp as sftp

PAGE = "owner/clearinghouse.html"


def _page(form=None, result=None, error=None, status=200):
    practice_id = current_user.practice_id
    conn = ch.connection_for(practice_id)
    if form is None:
        form = ClearinghouseForm(obj=conn or ClearinghouseConnection())
        if conn is None or not conn.host:  # never saved (a key pair may have been made first)
            form.upload_dir.data, form.download_dir.data = "inbound", "outbound"
    return (
        render(
            PAGE,
            "connection" if request.endpoint == "provider.clearinghouse_test" else None,
            form=form,
            conn=conn,
            key_fingerprint=ch.public_key_fingerprint(conn.public_key) if conn else "",
            accept_form=AcceptHostKeyForm(),
            result=result,
            error=error,
            files=ch.recent_files(practice_id),
            counts=ch.file_counts(practice_id),
            kinds=ch.KIND_LABELS,
            timeout=int(sftp.timeout_seconds()),
        ),
        status,
    )


@bp.route("/settings/clearinghouse", methods=["GET", "POST"])
@roles_required(*OWNER_ROLES)
def clearinghouse_settings():
    if request.method == "GET":
        return _page()
    form = ClearinghouseForm()
    conn = ch.connection_for(current_user.practice_id)
    if form.validate_on_submit():
        password = form.password.data or None
        has_password = password or (conn is not None and conn.has_password)
        if form.auth_method.data == AUTH_PASSWORD and not has_password:
            form.password.errors.append("Enter the password: none is stored yet.")
        else:
            _, changed = ch.save_settings(current_user.practice_id, form.values(), password)
            if "host_key_forgotten" in changed:
                flash(
                    "Clearinghouse settings saved. The server changed, so its key will be "
                    "pinned again on the next connection.",
                    "success",
                )
            else:
                flash("Clearinghouse settings saved.", "success")
            return redirect(url_for("provider.clearinghouse_settings"))
    form.password.data = ""  # never sent back, not even what was just typed
    return _page(form=form, status=400)


@bp.route("/settings/clearinghouse/key", methods=["POST"])
@roles_required(*OWNER_ROLES)
def clearinghouse_key():
    ch.generate_key(current_user.practice_id)
    flash(
        "A new key pair was made. Register the public key below with the clearinghouse "
        "before testing the connection.",
        "success",
    )
    return redirect(url_for("provider.clearinghouse_settings") + "#key")


@bp.route("/settings/clearinghouse/test", methods=["POST"])
@roles_required(*OWNER_ROLES)
def clearinghouse_test():
    """Connect with the saved settings and list both folders (a few seconds at most)."""
    conn = ch.connection_for(current_user.practice_id)
    if conn is None:
        return _page(error="Save the connection settings first, then test them.", status=400)
    try:
        result = sftp.check_connection(conn)
    except sftp.TransportError as exc:
        return _page(error=exc.message)
    return _page(result=result)


@bp.route("/settings/clearinghouse/host-key", methods=["POST"])
@roles_required(*OWNER_ROLES)
def clearinghouse_accept_host_key():
    form = AcceptHostKeyForm()
    if not form.validate_on_submit():
        flash("Choose the new key to accept from the page.", "error")
        return redirect(url_for("provider.clearinghouse_settings"))
    try:
        ch.accept_host_key(current_user.practice_id, form.fingerprint.data.strip())
    except ch.ClearinghouseError as exc:
        flash(str(exc), "error")
        return redirect(url_for("provider.clearinghouse_settings"))
    flash(
        "The server's new key is accepted; transfers resume. A file stopped meanwhile waits "
        "on Claims → Work list under “Files not sent”: press Send again there.",
        "success",
    )
    return redirect(url_for("provider.clearinghouse_settings"))
