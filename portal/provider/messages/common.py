"""What the staff and client messaging views share: the live poll, serving an attachment,
the template global that puts the poller and the unread badge in both layouts, and
reading an optional attachment from a form."""

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from portal import access, audit
from portal.provider import bp
from portal.services import uploads
from portal.services.messaging import live, queries
from portal.services.messaging.threads import MessagingError


@dataclass(frozen=True)
class LiveView:
    url: str  # the poll URL: data version, stamp, open thread
    unread: int
    seconds: int


def _endpoints(user):
    if user.is_client:
        return "client.messages_live", "client.messages"
    return "provider.messages_live", "provider.messages"


def _live_view(user, thread_id, version, state):
    params = {"v": version if version is not None else "", "s": state.stamp}
    if thread_id:
        params["t"] = thread_id
    # Built by hand: url_for remembers every URL it builds, and each poll URL is new.
    url = url_for(_endpoints(user)[0]) + "?" + urlencode(params)
    return LiveView(url, state.unread, live.poll_seconds())


@bp.app_template_global()
def messages_live(thread_id=0):
    """The poller and badge of the page being rendered, or None (not signed in, a staff
    member who must first set up two-step login: every request of theirs is redirected)."""
    user = current_user._get_current_object()
    if not user or not user.is_authenticated:
        return None
    if user.is_client and user.client_id is None:
        return None
    if user.is_staff and not user.totp_enabled and user.practice.require_staff_totp:
        return None
    version = live.current_version()
    return _live_view(user, thread_id, version, live.state(user, thread_id, version))


def live_response(user):
    """The answer to one poll: 204 when nothing changed (the common case, no query), else a
    new poller, the badge (out of band) and the names of what changed (HX-Trigger)."""
    if not request.headers.get("HX-Request"):
        return redirect(url_for(_endpoints(user)[1]))
    version = live.current_version()
    seen = request.args.get("v", type=int)
    if seen is not None and seen == version:
        return Response(status=204)
    thread_id = queries.row_id(request.args.get("t")) or 0
    old = live.parse_stamp(request.args.get("s"))
    new = live.state(user, thread_id, version)
    view = _live_view(user, thread_id, version, new)
    changed = old != new
    resp = Response(
        render_template("_partials/messages_live_poll.html", live=view, changed=changed)
    )
    if changed:
        names = live.events(old, new)
        if names:
            resp.headers["HX-Trigger"] = json.dumps({name: True for name in names})
        audit.record_view("message.unread", detail="live count")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def with_badge(resp):
    """A reloaded part of a page that marked messages read also sets the top bar's badge
    (out of band), so the count drops at once rather than at the next poll."""
    view = messages_live()
    if view is not None:
        badge = render_template("_partials/messages_badge_oob.html", live=view)
        resp.set_data(resp.get_data(as_text=True) + badge)
    return resp


def read_file(form):
    """The attachment's bytes, or None when none was chosen (uploads.UploadError when the
    file is empty or too large)."""
    storage = form.file.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return uploads.read_upload(storage)


def put_error(form, exc):
    """A service's refusal next to its field (or at the top of the form)."""
    field = getattr(form, getattr(exc, "field", None) or "", None)
    if field is not None:
        field.errors = list(field.errors) + [str(exc)]
    else:
        form.form_errors.append(str(exc))


def upload_refused(form, exc, client_id):
    form.file.errors = list(form.file.errors) + [str(exc)]
    audit.record("message.attachment_refused", client=client_id, detail=str(exc)[:80])


def status_of(exc):
    return exc.status if isinstance(exc, MessagingError) else 400


def attachment_response(attachment_id):
    """An attachment the current user may open (else 404 with an access.denied row): never
    cached, never run: PDFs download, photos show inline under a sandboxing policy, the
    type is the checked one."""
    found = queries.attachment_for(current_user._get_current_object(), attachment_id)
    if found is None:
        deny_404("message_attachment", attachment_id)
    a = found.file
    try:
        body = uploads.load(a.stored_name)
    except FileNotFoundError:
        abort(404)
    audit.record_view("message.attachment_view", obj=a)
    ext = uploads.EXTENSIONS[a.content_type]
    disposition = "attachment" if a.is_pdf else "inline"
    resp = Response(body, mimetype=a.content_type)
    resp.headers["Cache-Control"] = "no-store, private"
    resp.headers["Content-Disposition"] = f'{disposition}; filename="message-{a.id}.{ext}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


def deny_404(object_type, object_id):
    """404 with its access.denied row, for lookups access.get_or_404 does not cover."""
    audit.record(
        "access.denied",
        object_type=object_type,
        object_id=queries.row_id(object_id),
        detail=f"{request.method} {request.endpoint}",
    )
    abort(404)


def get_or_404(model, object_id):
    """access.get_or_404 for an id from a URL, after checking that it can be a row's id
    (a number larger than SQLite's INTEGER would otherwise fail in the driver)."""
    if queries.row_id(object_id) is None:
        deny_404(model.__name__.lower(), object_id)
    return access.get_or_404(model, object_id)


def target_block(dom_id, block):
    """The block to render for an HTMX request aimed at `dom_id` (None: the whole page)."""
    return block if request.headers.get("HX-Target") == dom_id else None
