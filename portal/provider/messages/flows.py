"""The form flows staff and clients share: start a thread, reply in one, choose notices.
Each view passes what differs (its template, its endpoints, who the message can go to);
refused input comes back next to its field with a 4xx, nothing written."""

from flask import flash, redirect, request, url_for
from flask_login import current_user

from portal.htmx import render
from portal.provider.messages.common import put_error, read_file, status_of, upload_refused
from portal.provider.messages.forms import NewThreadForm, NoticesForm, ReplyForm
from portal.services import uploads
from portal.services.messaging import notices
from portal.services.messaging import threads as msg


def _user():
    return current_user._get_current_object()


def start_thread(
    for_client, link, choices, template, thread_endpoint, default_to=None, to_help="", **page
):
    """GET: the new-message form (the subject taken from the link); POST: the thread.
    `to_help`: a line under the choice of who the message is for."""
    user = _user()
    status = 200
    if request.method == "GET":
        subject = link[0].subject(link[1], user.practice.tz) if link else ""
        form = NewThreadForm(formdata=None, subject=subject, to=default_to or choices[0][0])
    else:
        form = NewThreadForm()
        status = 400
    form.to.choices = choices
    form.to.description = to_help
    if request.method == "POST":
        if not form.validate_on_submit():
            _check_body_too(form)
        else:
            try:
                thread = msg.start_thread(
                    for_client,
                    user,
                    form.subject.data,
                    form.body.data,
                    form.to.data,
                    link=link,
                    data=read_file(form),
                )
            except uploads.UploadError as exc:
                upload_refused(form, exc, for_client.id)
            except msg.MessagingError as exc:
                put_error(form, exc)
                status = status_of(exc)
            else:
                flash("Message sent.", "success")
                return redirect(url_for(thread_endpoint, thread_id=thread.id), 303)
    label = link[0].describe(link[1], user.practice.tz) if link else ""
    return render(template, form=form, link_label=label, section="messages", **page), status


def _check_body_too(form):
    """A form refused for its subject also says what is wrong with the message, so the
    client fixes both at once."""
    has_file = bool(getattr(form.file.data, "filename", ""))
    try:
        msg.clean_body(form.body.data, has_file)
    except msg.MessagingError as exc:
        if not form.body.errors:
            put_error(form, exc)


def reply(thread, thread_page, thread_endpoint, body=lambda text: text):
    """POST of the reply box: the message (with its attachment), or the thread page again
    with the error next to its field. `body` may add to the text (a quick reply)."""
    form = ReplyForm()
    if not form.validate_on_submit():
        return thread_page(thread, reply=form, status=400)
    try:
        message = msg.send_message(thread, _user(), body(form.body.data), data=read_file(form))
    except uploads.UploadError as exc:
        upload_refused(form, exc, thread.client_id)
        return thread_page(thread, reply=form, status=400)
    except msg.MessagingError as exc:
        put_error(form, exc)
        return thread_page(thread, reply=form, status=status_of(exc))
    flash("Message sent.", "success")
    url = url_for(thread_endpoint, thread_id=thread.id)
    return redirect(f"{url}#m{message.id}", 303)


def notice_settings(template, endpoint):
    """The user's own choice of e-mail notices."""
    user = _user()
    if request.method == "POST":
        form = NoticesForm()
        if form.validate_on_submit():
            notices.set_email_notices(user, form.email_notices.data)
            flash("Your choice is saved.", "success")
            return redirect(url_for(endpoint), 303)
        status = 400
    else:
        form = NoticesForm(formdata=None, email_notices=notices.email_wanted(user.id))
        status = 200
    return render(template, form=form, section="messages"), status
