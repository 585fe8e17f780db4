"""The staff inbox: every thread of the practice the user may see (a therapist only their
own clients' where the practice says so), filtered by assignee, unread and status; the
client page's Messages section; the live poll; quick replies; notice settings."""

from flask import flash, redirect, request, url_for
from flask_login import current_user

from portal import audit
from portal.htmx import render
from portal.models import Client
from portal.models.messaging import MessageSnippet
from portal.provider import bp
from portal.provider.messages import flows
from portal.provider.messages.common import get_or_404, live_response, put_error, target_block
from portal.provider.messages.forms import SnippetForm
from portal.services.messaging import live, queries, snippets
from portal.services.messaging.threads import MessagingError, staff_members


def _filters():
    assigned = request.args.get("assigned", "")
    if assigned not in ("", "me", "none") and queries.row_id(assigned) is None:
        assigned = ""
    status = request.args.get("status", queries.STATUS_OPEN)
    if status not in queries.STATUSES:
        status = queries.STATUS_OPEN
    return {
        "assigned": assigned,
        "unread": request.args.get("unread") == "1",
        "status": status,
        "page": request.args.get("page", 1, type=int) or 1,
    }


@bp.route("/messages/")
def messages():
    user = current_user._get_current_object()
    filters = _filters()
    result = queries.inbox(user, **filters)
    audit.record_view("message.list", detail=f"inbox {filters['status']}")
    return render(
        "provider/messages/inbox.html",
        block=target_block("thread-list", "thread_list"),
        result=result,
        filters=filters,
        staff=staff_members(user.practice_id),
        section="messages",
    )


@bp.route("/clients/<int:client_id>/messages")
def client_messages(client_id):
    """The client page's Messages section (loaded into the page by HTMX)."""
    client = get_or_404(Client, client_id)
    user = current_user._get_current_object()
    rows = queries.client_threads(user, client_id=client.id)
    audit.record_view("message.list", obj=client, detail="client page")
    return render(
        "provider/messages/client_section.html",
        block="section",
        client=client,
        threads=rows,
        section="clients",
    )


@bp.route("/messages/live")
def messages_live():
    return live_response(current_user._get_current_object())


@bp.route("/messages/summary")
def messages_summary():
    """The Today page's line about waiting messages (reloaded when the count changes)."""
    if not request.headers.get("HX-Request"):
        return redirect(url_for("provider.messages"))
    user = current_user._get_current_object()
    return render(
        "provider/messages/_home_line.html",
        unread=live.state(user, 0, live.current_version()).unread,
    )


# --- quick replies ----------------------------------------------------------------------


def _snippets_page(form, status=200):
    return render(
        "provider/messages/snippets.html",
        form=form,
        snippets=snippets.active(current_user.practice_id),
        section="messages",
    ), status


@bp.route("/messages/snippets", methods=["GET", "POST"])
def message_snippets():
    form = SnippetForm()
    if request.method == "GET":
        return _snippets_page(SnippetForm(formdata=None))
    if not form.validate_on_submit():
        return _snippets_page(form, 400)
    try:
        snippets.add(current_user._get_current_object(), form.title.data, form.body.data)
    except MessagingError as exc:
        put_error(form, exc)
        return _snippets_page(form, exc.status)
    flash("Quick reply saved.", "success")
    return redirect(url_for("provider.message_snippets"), 303)


@bp.route("/messages/snippets/<int:snippet_id>/remove", methods=["POST"])
def message_snippet_remove(snippet_id):
    snippet = get_or_404(MessageSnippet, snippet_id)
    snippets.remove(snippet, current_user._get_current_object())
    flash("Quick reply removed.", "success")
    return redirect(url_for("provider.message_snippets"), 303)


# --- notices ------------------------------------------------------------------------------


@bp.route("/messages/notices", methods=["GET", "POST"])
def message_notices():
    return flows.notice_settings("provider/messages/notices.html", "provider.message_notices")
