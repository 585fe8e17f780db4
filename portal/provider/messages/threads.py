"""One thread as staff see it: read, reply (with a photo or PDF), assign, mark done or open
again, hide a message or show it again; start a thread for a client, or from an
appointment, an invoice or a chart note ("Message the client")."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from portal import access, audit
from portal.formutil import CsrfForm
from portal.htmx import render, wants_fragment
from portal.models import Client, User
from portal.models.messaging import Message, MessageSnippet, MessageThread
from portal.provider import bp
from portal.provider.messages import flows
from portal.provider.messages.common import (
    attachment_response,
    deny_404,
    get_or_404,
    put_error,
    target_block,
    with_badge,
)
from portal.provider.messages.forms import AssignForm, HideForm, ReplyForm
from portal.services.messaging import links, live, queries, snippets
from portal.services.messaging import threads as msg


def _user():
    return current_user._get_current_object()


def _thread(thread_id):
    return get_or_404(MessageThread, thread_id)


def _assign_form(thread, formdata=None):
    form = AssignForm(formdata=formdata, assigned_to=thread.assigned_to_id or 0)
    form.assigned_to.choices = [(0, "Nobody")] + [
        (u.id, f"{u.name or u.email} ({u.role_label})")
        for u in msg.staff_members(thread.practice_id)
    ]
    return form


def _thread_page(thread, reply=None, hide_errors=None, status=200):
    user = _user()
    rows = queries.messages(thread, user)
    read = msg.mark_read(
        thread, user, thread.last_message_id, known=msg.read_upto(thread.id, user.id)
    )
    if read:
        live.after_write()
    audit.record_view("message.thread_view", obj=thread)
    hide_forms = {m.id: HideForm(formdata=None, prefix=f"hide{m.id}") for m in rows}
    if hide_errors:
        hide_forms[hide_errors[0]] = hide_errors[1]
    block = target_block("message-list", "message_list")
    resp = render(
        "provider/messages/thread.html",
        block=block,
        thread=thread,
        client=Client.get_by_id(thread.client_id),
        messages=rows,
        link=links.resolve(thread, user, user.practice.tz),
        assignee=User.get_or_none(User.id == thread.assigned_to_id)
        if thread.assigned_to_id
        else None,
        reply=reply or ReplyForm(formdata=None),
        assign_form=_assign_form(thread),
        hide_forms=hide_forms,
        snippets=snippets.active(user.practice_id),
        live_thread=thread.id,
        section="messages",
    )
    if block and read and wants_fragment():
        with_badge(resp)
    return resp, status


@bp.route("/messages/<int:thread_id>")
def message_thread(thread_id):
    return _thread_page(_thread(thread_id))


def _with_snippet(body):
    """A quick reply chosen without JavaScript (the script adds its text to the box and
    resets the choice) is added on sending."""
    snippet_id = queries.row_id(request.form.get("snippet"))
    if snippet_id is None:
        return body
    snippet = (
        access.scoped(MessageSnippet)
        .where((MessageSnippet.id == snippet_id) & (MessageSnippet.active == True))  # noqa: E712
        .first()
    )
    if snippet is None:
        return body
    body = (body or "").rstrip()
    return f"{body}\n\n{snippet.body}" if body else snippet.body


@bp.route("/messages/<int:thread_id>/reply", methods=["POST"])
def message_reply(thread_id):
    thread = _thread(thread_id)
    return flows.reply(thread, _thread_page, "provider.message_thread", body=_with_snippet)


@bp.route("/messages/<int:thread_id>/assign", methods=["POST"])
def message_assign(thread_id):
    thread = _thread(thread_id)
    form = _assign_form(thread, formdata=request.form)
    if not form.validate_on_submit():
        flash("Choose someone on the practice's staff, or nobody.", "error")
        return redirect(url_for("provider.message_thread", thread_id=thread.id), 303)
    msg.assign(thread, _user(), form.assigned_to.data or None)
    flash("Assignment saved.", "success")
    return redirect(url_for("provider.message_thread", thread_id=thread.id), 303)


@bp.route("/messages/<int:thread_id>/done", methods=["POST"])
def message_done(thread_id):
    thread = _thread(thread_id)
    msg.set_done(thread, _user(), True)
    flash("Marked done. A new message from the client opens it again.", "success")
    return redirect(url_for("provider.messages"), 303)


@bp.route("/messages/<int:thread_id>/reopen", methods=["POST"])
def message_reopen(thread_id):
    thread = _thread(thread_id)
    msg.set_done(thread, _user(), False)
    flash("Open again.", "success")
    return redirect(url_for("provider.message_thread", thread_id=thread.id), 303)


@bp.route("/messages/message/<int:message_id>/hide", methods=["POST"])
def message_hide(message_id):
    message = get_or_404(Message, message_id)
    thread = MessageThread.get_by_id(message.thread_id)
    form = HideForm(prefix=f"hide{message.id}")
    if not form.validate_on_submit():
        return _thread_page(thread, hide_errors=(message.id, form), status=400)
    try:
        msg.hide_message(message, _user(), form.reason.data)
    except msg.MessagingError as exc:
        put_error(form, exc)
        return _thread_page(thread, hide_errors=(message.id, form), status=exc.status)
    flash("The message is hidden. Its text stays on record.", "success")
    return redirect(
        url_for("provider.message_thread", thread_id=thread.id) + f"#m{message.id}", 303
    )


@bp.route("/messages/message/<int:message_id>/unhide", methods=["POST"])
def message_unhide(message_id):
    message = get_or_404(Message, message_id)
    if not CsrfForm().validate_on_submit():
        abort(400)
    try:
        msg.unhide_message(message, _user())
    except msg.MessagingError as exc:
        flash(str(exc), "error")
        return _thread_page(MessageThread.get_by_id(message.thread_id), status=exc.status)
    flash("The message is shown again: the client sees it.", "success")
    return redirect(
        url_for("provider.message_thread", thread_id=message.thread_id) + f"#m{message.id}", 303
    )


@bp.route("/messages/files/<int:attachment_id>")
def message_file(attachment_id):
    return attachment_response(attachment_id)


# --- starting a thread --------------------------------------------------------------------


def _to_choices(client):
    out = []
    if client.therapist_id:
        out.append(
            (msg.TO_BOTH, f"The therapist, {client.therapist.display_name}, and the front desk")
        )
        out.append((msg.TO_THERAPIST, f"The therapist only, {client.therapist.display_name}"))
    out.append((msg.TO_FRONT_DESK, "The front desk"))
    return out


def _has_portal(client):
    return (
        User.select()
        .where(
            (User.client == client.id)
            & (User.active == True)  # noqa: E712
            & User.password_hash.is_null(False)
        )
        .exists()
    )


def _new_thread(client, link=None):
    return flows.start_thread(
        client,
        link,
        _to_choices(client),
        "provider/messages/new.html",
        "provider.message_thread",
        client=client,
        has_portal=_has_portal(client),
    )


@bp.route("/clients/<int:client_id>/messages/new", methods=["GET", "POST"])
def message_new(client_id):
    return _new_thread(get_or_404(Client, client_id))


@bp.route("/messages/new/<kind>/<int:object_id>", methods=["GET", "POST"])
def message_new_linked(kind, object_id):
    """ "Message the client" from an appointment, an invoice or a chart note."""
    found = links.target(kind, object_id, _user())
    if found is None:
        deny_404(f"{kind[:32]}", object_id)
    client = get_or_404(Client, found[1].client_id)
    return _new_thread(client, link=found)
