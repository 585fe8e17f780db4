"""Client portal: secure messages with the practice. A client reads and writes only their
own threads (portal.access scopes every query to their client record), starts one from
the Messages tab, an appointment or an invoice, and chooses whether to get e-mail notices
(which never hold the text)."""

from flask import redirect, request, url_for
from flask_login import current_user

from portal import audit
from portal.client import bp
from portal.htmx import render, wants_fragment
from portal.models import Client
from portal.models.messaging import MessageThread
from portal.provider.messages import flows
from portal.provider.messages.common import (
    attachment_response,
    deny_404,
    get_or_404,
    live_response,
    target_block,
    with_badge,
)
from portal.provider.messages.forms import ReplyForm
from portal.services.messaging import links, live, queries
from portal.services.messaging import threads as msg


def _user():
    return current_user._get_current_object()


@bp.route("/messages/")
def messages():
    user = _user()
    rows = queries.client_threads(user)
    audit.record_view("message.list", detail="portal")
    return render(
        "client/messages/list.html",
        block=target_block("thread-list", "thread_list"),
        threads=rows,
        section="messages",
    )


def _thread_page(thread, reply=None, status=200):
    user = _user()
    rows = queries.messages(thread, user)
    read = msg.mark_read(
        thread, user, thread.last_message_id, known=msg.read_upto(thread.id, user.id)
    )
    if read:
        live.after_write()
    audit.record_view("message.thread_view", obj=thread)
    block = target_block("message-list", "message_list")
    resp = render(
        "client/messages/thread.html",
        block=block,
        thread=thread,
        messages=rows,
        link=links.resolve(thread, user, user.practice.tz),
        reply=reply or ReplyForm(formdata=None),
        live_thread=thread.id,
        section="messages",
    )
    if block and read and wants_fragment():
        with_badge(resp)
    return resp, status


@bp.route("/messages/<int:thread_id>")
def message_thread(thread_id):
    return _thread_page(get_or_404(MessageThread, thread_id))


@bp.route("/messages/<int:thread_id>/reply", methods=["POST"])
def message_reply(thread_id):
    thread = get_or_404(MessageThread, thread_id)
    return flows.reply(thread, _thread_page, "client.message_thread")


@bp.route("/messages/files/<int:attachment_id>")
def message_file(attachment_id):
    return attachment_response(attachment_id)


def _to_choices(client):
    out = []
    if client.therapist_id:
        name = client.therapist.display_name
        out.append((msg.TO_THERAPIST, f"My therapist, {name}"))
    out.append((msg.TO_FRONT_DESK, "The front desk (appointments, billing, insurance)"))
    if client.therapist_id:
        out.append((msg.TO_BOTH, "Both"))
    return out


# The front desk (and the owner) see every thread: the choice is who answers, not who reads.
TO_HELP = "Who answers. The front desk and the practice's owner can read every conversation too."


def _new_thread(link=None):
    client = Client.get_by_id(_user().client_id)
    # Questions about a bill go to the front desk first.
    default_to = msg.TO_FRONT_DESK if link and link[0].name == "invoice" else None
    return flows.start_thread(
        client,
        link,
        _to_choices(client),
        "client/messages/new.html",
        "client.message_thread",
        default_to=default_to,
        to_help=TO_HELP,
    )


@bp.route("/messages/new", methods=["GET", "POST"])
def message_new():
    return _new_thread()


@bp.route("/messages/new/<kind>/<int:object_id>", methods=["GET", "POST"])
def message_new_linked(kind, object_id):
    """ "Ask about this" from one of the client's appointments or invoices."""
    found = links.target(kind, object_id, _user())
    if found is None:
        deny_404(kind[:32], object_id)
    return _new_thread(link=found)


@bp.route("/messages/live")
def messages_live():
    return live_response(_user())


@bp.route("/messages/summary")
def messages_summary():
    """The home page's line about waiting messages (reloaded when the count changes)."""
    if not request.headers.get("HX-Request"):
        return redirect(url_for("client.messages"))
    return render(
        "client/messages/_home_line.html",
        unread=live.state(_user(), 0, live.current_version()).unread,
    )


@bp.route("/messages/notices", methods=["GET", "POST"])
def message_notices():
    return flows.notice_settings("client/messages/notices.html", "client.message_notices")
