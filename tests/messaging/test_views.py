"""Messaging pages as a browser and an attacker submit them: a client writes with a photo,
staff answer, assign, mark done, hide with a reason, use quick replies; "Message the
client" from an appointment and an invoice; refused input comes back next to its field
with a 4xx; every read and write is audited."""

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

from portal.models import AuditLog, OutboxMessage
from portal.models.messaging import Message, MessageAttachment, MessageSnippet, MessageThread
from portal.services.messaging import threads as msg
from tests import pdf_samples
from tests.conftest import login
from tests.messaging import helpers as h


def _actions():
    return [a.action for a in AuditLog.select().order_by(AuditLog.id)]


def _file(data, name="photo.jpg"):
    return (io.BytesIO(data), name)


def test_a_client_writes_with_a_photo_and_staff_answer(app, client, world):
    login(client, world.a.cu1)
    page = client.get("/portal/messages/new").get_data(as_text=True)
    assert f"My therapist, {world.a.provider.display_name}" in page
    r = client.post(
        "/portal/messages/new",
        data={
            "subject": "Bruise after Tuesday",
            "to": "therapist",
            "body": "Is this normal?",
            "file": _file(h.photo()),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 303
    t = MessageThread.get()
    assert r.headers["Location"] == f"/portal/messages/{t.id}"
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    a = MessageAttachment.get()
    assert "Is this normal?" in page and f"/portal/messages/files/{a.id}" in page
    assert "message.thread_create" in _actions() and "message.thread_view" in _actions()
    client.post("/logout")

    login(client, world.a.therapist)
    inbox = client.get("/provider/messages/").get_data(as_text=True)
    assert "Bruise after Tuesday" in inbox and "unread" in inbox
    page = client.get(f"/provider/messages/{t.id}").get_data(as_text=True)
    assert f"/provider/messages/files/{a.id}" in page and world.a.c1.display_name in page
    r = client.post(f"/provider/messages/{t.id}/reply", data={"body": "Yes, it fades in days."})
    assert r.status_code == 303 and r.headers["Location"].startswith(f"/provider/messages/{t.id}#m")
    assert Message.select().count() == 2
    client.post("/logout")

    login(client, world.a.cu1)
    assert "Yes, it fades in days." in client.get(f"/portal/messages/{t.id}").get_data(as_text=True)
    assert {"message.send", "message.attachment_upload", "message.list"} <= set(_actions())


def test_refused_input_comes_back_next_to_the_field(app, client, world):
    login(client, world.a.cu1)
    r = client.post("/portal/messages/new", data={"subject": "", "to": "therapist", "body": ""})
    assert r.status_code == 400
    body = r.get_data(as_text=True)
    assert re.search(r'id="subject-error">Give the conversation a subject', body)
    assert 'id="body-error">Write a message, or add a photo or PDF.' in body  # both at once
    r = client.post(
        "/portal/messages/new",
        data={"subject": "Hi", "to": "nobody", "body": "x"},
    )
    assert r.status_code == 400 and 'id="to-error"' in r.get_data(as_text=True)
    r = client.post(
        "/portal/messages/new",
        data={"subject": "Hi", "to": "frontdesk", "body": ""},
    )
    assert r.status_code == 400
    assert 'id="body-error">Write a message, or add a photo or PDF.' in r.get_data(as_text=True)
    for bad in (h.SVG, h.HTML, h.GIF_HTML, h.PDF_HTML):
        r = client.post(
            "/portal/messages/new",
            data={"subject": "Card", "to": "frontdesk", "body": "x", "file": _file(bad, "x.jpg")},
            content_type="multipart/form-data",
        )
        assert r.status_code == 400
        assert 'id="file-error"' in r.get_data(as_text=True), bad[:20]
    assert MessageThread.select().count() == 0 and h.stored_files(app) == []
    assert AuditLog.select().where(AuditLog.action == "message.attachment_refused").count() == 4
    # An attacker's form: no subject field at all, a huge body, garbage file.
    r = client.post("/portal/messages/new", data={"body": "x" * 6000})
    assert r.status_code == 400
    with app.test_request_context():
        t = h.thread(world.a)
    r = client.post(f"/portal/messages/{t.id}/reply", data={"body": "   "})
    assert r.status_code == 400 and 'id="body-error"' in r.get_data(as_text=True)
    r = client.post(
        f"/portal/messages/{t.id}/reply",
        data={"body": "", "file": _file(b"", "empty.jpg")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400
    assert Message.select().count() == 1


def test_staff_assign_mark_done_reopen_and_hide(app, client, world):
    with app.test_request_context():
        t = h.thread(world.a, body="4111 1111 1111 1111 is my card")
    m = Message.get()
    login(client, world.a.frontdesk)
    r = client.post(f"/provider/messages/{t.id}/assign", data={"assigned_to": world.a.owner.id})
    assert r.status_code == 303
    assert MessageThread.get_by_id(t.id).assigned_to_id == world.a.owner.id
    r = client.post(f"/provider/messages/{t.id}/assign", data={"assigned_to": world.b.owner.id})
    assert r.status_code == 303 and MessageThread.get_by_id(t.id).assigned_to_id == world.a.owner.id
    assert "assigned to" in client.get("/provider/messages/").get_data(as_text=True)
    r = client.post(f"/provider/messages/message/{m.id}/hide", data={f"hide{m.id}-reason": ""})
    assert r.status_code == 400 and f'id="hide{m.id}-reason-error"' in r.get_data(as_text=True)
    r = client.post(
        f"/provider/messages/message/{m.id}/hide", data={f"hide{m.id}-reason": "Card number"}
    )
    assert r.status_code == 303 and Message.get_by_id(m.id).is_hidden
    page = client.get(f"/provider/messages/{t.id}").get_data(as_text=True)
    assert "Hidden by" in page and "Card number" in page
    r = client.post(
        f"/provider/messages/message/{m.id}/hide", data={f"hide{m.id}-reason": "Again please"}
    )
    assert r.status_code == 409
    assert client.post(f"/provider/messages/{t.id}/done").status_code == 303
    assert MessageThread.get_by_id(t.id).done_at is not None
    assert f"/provider/messages/{t.id}" not in client.get("/provider/messages/").get_data(
        as_text=True
    )
    assert f"/provider/messages/{t.id}" in client.get("/provider/messages/?status=done").get_data(
        as_text=True
    )
    assert client.post(f"/provider/messages/{t.id}/reopen").status_code == 303
    assert MessageThread.get_by_id(t.id).done_at is None
    for action in ("message.assign", "message.hide", "message.done", "message.reopen"):
        assert action in _actions()


def test_quick_replies(app, client, world):
    with app.test_request_context():
        t = h.thread(world.a)
    login(client, world.a.therapist)
    r = client.post("/provider/messages/snippets", data={"title": "", "body": ""})
    assert r.status_code == 400 and 'id="title-error"' in r.get_data(as_text=True)
    r = client.post(
        "/provider/messages/snippets",
        data={"title": "Directions", "body": "Park behind the building."},
    )
    assert r.status_code == 303
    s = MessageSnippet.get()
    page = client.get(f"/provider/messages/{t.id}").get_data(as_text=True)
    assert 'data-text="Park behind the building."' in page and ">Directions<" in page
    # Without JavaScript the chosen quick reply is added on sending.
    client.post(f"/provider/messages/{t.id}/reply", data={"body": "Welcome!", "snippet": s.id})
    assert Message.select().order_by(Message.id.desc()).get().body == (
        "Welcome!\n\nPark behind the building."
    )
    client.post(f"/provider/messages/{t.id}/reply", data={"body": "", "snippet": s.id})
    assert Message.select().order_by(Message.id.desc()).get().body == "Park behind the building."
    assert client.post(f"/provider/messages/snippets/{s.id}/remove").status_code == 303
    assert not MessageSnippet.get_by_id(s.id).active
    client.post("/logout")
    login(client, world.b.owner)
    assert client.post(f"/provider/messages/snippets/{s.id}/remove").status_code == 404


def test_notice_settings_pages(client, world):
    login(client, world.a.cu1)
    page = client.get("/portal/messages/notices").get_data(as_text=True)
    assert 'name="email_notices"' in page and "checked" in page
    assert client.post("/portal/messages/notices", data={}).status_code == 303
    page = client.get("/portal/messages/notices").get_data(as_text=True)
    assert "checked" not in page
    client.post("/logout")
    login(client, world.a.therapist)
    assert client.post("/provider/messages/notices", data={"email_notices": "y"}).status_code == 303


def test_message_the_client_from_an_appointment_and_an_invoice(app, client, world):
    with app.test_request_context():
        appt = h.appointment(world.a)
        inv = h.invoice(world.a, issue=True)
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/appointments/{appt.id}").get_data(as_text=True)
    assert f'href="/provider/messages/new/appointment/{appt.id}"' in page
    page = client.get(f"/provider/billing/invoices/{inv.id}").get_data(as_text=True)
    assert f'href="/provider/messages/new/invoice/{inv.id}"' in page
    page = client.get(f"/provider/messages/new/invoice/{inv.id}").get_data(as_text=True)
    assert f'value="Invoice {inv.number}"' in page
    r = client.post(
        f"/provider/messages/new/invoice/{inv.id}",
        data={"subject": f"Invoice {inv.number}", "to": "frontdesk", "body": "A reminder."},
    )
    assert r.status_code == 303
    t = MessageThread.get()
    assert (t.link_kind, t.link_id) == ("invoice", inv.id)
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert f'href="/provider/billing/invoices/{inv.id}"' in page
    assert OutboxMessage.select().where(OutboxMessage.to_addr == world.a.cu1.email).count() == 1
    client.post("/logout")

    # The client starts a thread from their appointment and their invoice.
    login(client, world.a.cu1)
    page = client.get("/portal/appointments").get_data(as_text=True)
    assert f'href="/portal/messages/new/appointment/{appt.id}"' in page
    page = client.get("/portal/invoices").get_data(as_text=True)
    assert f'href="/portal/messages/new/invoice/{inv.id}"' in page
    r = client.post(
        f"/portal/messages/new/appointment/{appt.id}",
        data={"subject": "Can I bring my own oil?", "to": "therapist", "body": "Lavender?"},
    )
    assert r.status_code == 303
    t = MessageThread.select().order_by(MessageThread.id.desc()).get()
    assert (t.link_kind, t.link_id, t.client_id) == ("appointment", appt.id, world.a.c1.id)
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Appointment on" in page and 'href="/portal/appointments"' in page


def test_the_client_page_lists_the_clients_threads(app, client, world):
    with app.test_request_context():
        h.thread(world.a, subject="Mine")
        h.thread(world.a, client=world.a.c2, subject="Not this client")
    login(client, world.a.owner)
    page = client.get(f"/provider/clients/{world.a.c1.id}").get_data(as_text=True)
    assert f'hx-get="/provider/clients/{world.a.c1.id}/messages"' in page
    # the section's thread list is styled by messages.css, which the client page loads
    # (without it each subject ran into its date: "Receipt for my HSAMon 30 Nov")
    head = page.split("</head>", 1)[0]
    assert "css/messages.css" in head
    r = client.get(f"/provider/clients/{world.a.c1.id}/messages", headers={"HX-Request": "true"})
    frag = r.get_data(as_text=True)
    assert "<html" not in frag and "Mine" in frag and "Not this client" not in frag
    assert f"/provider/clients/{world.a.c1.id}/messages/new" in frag
    page = client.get(f"/provider/clients/{world.a.c1.id}/messages/new").get_data(as_text=True)
    assert "has no portal access" not in page
    r = client.post(
        f"/provider/clients/{world.a.c1.id}/messages/new",
        data={"subject": "Hello", "to": "both", "body": "Welcome to the portal."},
    )
    assert r.status_code == 303


def test_a_thread_for_a_client_without_portal_access_says_so(app, client, world):
    with app.test_request_context():
        from tests import factories

        walk_in = factories.client(world.a.practice)
    login(client, world.a.owner)
    page = client.get(f"/provider/clients/{walk_in.id}/messages/new").get_data(as_text=True)
    assert "has no portal access yet" in page


def test_a_therapist_messages_the_client_from_a_chart_note(app, client, world):
    from tests.charting.helpers import make_note

    with app.test_request_context():
        note = make_note(h.user(world.a.therapist), world.a.c1, world.a.provider.id)
    login(client, world.a.therapist)
    page = client.get(f"/provider/notes/{note.id}").get_data(as_text=True)
    assert f'href="/provider/messages/new/note/{note.id}"' in page
    page = client.get(f"/provider/messages/new/note/{note.id}").get_data(as_text=True)
    assert 'value="Your visit on' in page  # the subject names the visit, not the note
    r = client.post(
        f"/provider/messages/new/note/{note.id}",
        data={"subject": "Your stretches", "to": "therapist", "body": "Three times a day."},
    )
    assert r.status_code == 303
    t = MessageThread.get()
    assert (t.link_kind, t.link_id) == ("note", note.id)


def _textarea(page):
    return re.search(r"<textarea[^>]*>\r?\n?(.*?)</textarea>", page, re.S)


def test_a_message_too_long_comes_back_whole_with_its_length(app, client, world):
    """A browser cuts a paste at a textarea's maxlength without a word: the box has none,
    and the server says by the field how long the message is, keeping all of it."""
    login(client, world.a.cu1)
    page = client.get("/portal/messages/new").get_data(as_text=True)
    assert "maxlength" not in _textarea(page).group(0)
    long = "word " * 1199 + "the end"  # 6,002 characters
    for url, data in (
        ("/portal/messages/new", {"subject": "My history", "to": "therapist", "body": long}),
        ("/portal/messages/new", {"subject": "", "to": "therapist", "body": long}),
    ):
        r = client.post(url, data=data)
        page = r.get_data(as_text=True)
        assert r.status_code == 400
        assert 'id="body-error">That message is 6,002 characters; the limit is 5,000.' in page
        assert _textarea(page).group(1) == long
    with app.test_request_context():
        t = h.thread(world.a)
    r = client.post(f"/portal/messages/{t.id}/reply", data={"body": long})
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "That message is 6,002 characters" in page
    assert "maxlength" not in _textarea(page).group(0) and _textarea(page).group(1) == long
    assert Message.select().count() == 1


def test_a_refused_pdf_is_explained_for_a_message_not_an_insurance_card(app, client, world):
    script = b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"
    active = pdf_samples.classic(catalog_extra=script)
    login(client, world.a.cu1)
    with app.test_request_context():
        t = h.thread(world.a)
    r = client.post(
        f"/portal/messages/{t.id}/reply",
        data={"body": "My referral", "file": _file(active, "referral.pdf")},
        content_type="multipart/form-data",
    )
    page = r.get_data(as_text=True)
    error = re.search(r'id="file-error">([^<]*)', page).group(1)
    assert r.status_code == 400 and "scripts, actions or embedded files" in error
    assert "card" not in error and "photo of it instead" in error
    assert _textarea(page).group(1) == "My referral"


def test_a_client_is_told_who_can_read_a_message_to_the_therapist(client, world):
    """The front desk sees every thread (docs/messaging.md): "My therapist" chooses who
    answers, not who may read, and the form says so by the choice."""
    login(client, world.a.cu1)
    page = client.get("/portal/messages/new").get_data(as_text=True)
    select = re.search(r'<select[^>]*id="to"[^>]*>', page).group(0)
    assert 'aria-describedby="to-help"' in select
    help_text = re.search(r'id="to-help">([^<]*)', page).group(1)
    assert "front desk" in help_text and "can read every conversation" in help_text


def _hidden_note(html, message_id):
    """The note staff read in place of (or above) a hidden or once-hidden message."""
    item = re.search(rf'<li id="m{message_id}".*?</li>', html, re.S).group(0)
    found = re.search(r'<p class="hidden-note">(.*?)</p>', item, re.S)
    return " ".join(found.group(1).split()) if found else None


def test_a_hidden_message_says_who_when_and_why_on_reload_and_can_be_shown_again(
    app, client, world
):
    with app.test_request_context():
        t = h.thread(world.a, body="4111 1111 1111 1111 is my card")
    m = Message.get()
    url = f"/provider/messages/{t.id}"
    login(client, world.a.frontdesk)
    r = client.post(
        f"/provider/messages/message/{m.id}/hide",
        data={f"hide{m.id}-reason": "Card number sent by mistake"},
    )
    assert r.status_code == 303
    hidden = Message.get_by_id(m.id)
    when = hidden.hidden_at.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(world.a.practice.timezone))
    said = (
        f"Hidden by {world.a.frontdesk.name} on {when:%-d %b %Y, %-I:%M %p}: "
        "Card number sent by mistake."
    )
    # Reloaded as a page, and as the list the live poller swaps in: the same words.
    for headers in ({}, {"HX-Request": "true", "HX-Target": "message-list"}):
        html = client.get(url, headers=headers).get_data(as_text=True)
        assert _hidden_note(html, m.id).startswith(said), headers
        assert f"/provider/messages/message/{m.id}/unhide" in html

    client.post("/logout")
    login(client, world.a.owner)
    r = client.post(f"/provider/messages/message/{m.id}/unhide")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"{url}#m{m.id}")
    assert not Message.get_by_id(m.id).is_hidden
    html = client.get(url).get_data(as_text=True)
    shown = Message.get_by_id(m.id).unhidden_at.replace(tzinfo=dt.UTC)
    shown = shown.astimezone(ZoneInfo(world.a.practice.timezone))
    assert _hidden_note(html, m.id) == (
        f"{said} Shown again by {world.a.owner.name} on {shown:%-d %b %Y, %-I:%M %p}."
    )
    item = re.search(rf'<li id="m{m.id}".*?</li>', html, re.S).group(0)
    assert '<div class="message-body">4111 1111 1111 1111 is my card</div>' in item
    assert "<details" in item and "Hide this message" in item  # it can be hidden again
    assert client.post(f"/provider/messages/message/{m.id}/unhide").status_code == 409
    assert "message.unhide" in _actions()

    # The client reads it again.
    portal = app.test_client()
    login(portal, world.a.cu1)
    page = portal.get(f"/portal/messages/{t.id}").get_data(as_text=True)
    assert "4111 1111 1111 1111 is my card" in page and "withdrawn" not in page


def test_showing_a_message_again_is_staff_only_and_scoped(app, client, world):
    with app.test_request_context():
        t = h.thread(world.a)
        mine = Message.get(Message.thread == t.id)
        msg.hide_message(mine, h.user(world.a.frontdesk), "Wrong client")
        other = h.thread(world.b)
        theirs = Message.get(Message.thread == other.id)
        msg.hide_message(theirs, h.user(world.b.frontdesk), "Wrong client")
    login(client, world.a.owner)
    assert client.post(f"/provider/messages/message/{theirs.id}/unhide").status_code == 404
    assert (
        client.post(f"/provider/messages/message/{mine.id}/unhide", csrf=False).status_code == 400
    )
    assert Message.get_by_id(theirs.id).is_hidden and Message.get_by_id(mine.id).is_hidden
    client.post("/logout")
    login(client, world.a.cu1)
    assert client.post(f"/provider/messages/message/{mine.id}/unhide").status_code in (403, 404)
    assert Message.get_by_id(mine.id).is_hidden
