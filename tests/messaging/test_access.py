"""Every thread, message and attachment URL refuses another client, another practice, the
wrong role and a logged-out request (404 with an access.denied row, or the login page);
therapists limited to their own clients see only theirs; the front desk never sees a chart
note linked from a thread."""

import pytest

from portal.models import AuditLog, Practice
from portal.models.messaging import Message, MessageAttachment, MessageThread
from portal.services.messaging import links, live, queries
from portal.services.messaging import threads as msg
from tests.charting.helpers import make_note
from tests.conftest import login
from tests.messaging import helpers as h


@pytest.fixture
def seen(app, world):
    """A thread of client a.c1 with a photo, a hidden message with a PDF, and a reply."""
    with app.test_request_context():
        t = h.thread(world.a, body="my photo", data=h.photo())
        hidden = msg.send_message(t, h.user(world.a.cu1), "oops", data=h.PDF_OK)
        msg.hide_message(hidden, h.user(world.a.frontdesk), "Sent by mistake")
        msg.send_message(t, h.user(world.a.therapist), "reply")
        photo = MessageAttachment.get(MessageAttachment.message != hidden.id)
        pdf = MessageAttachment.get(MessageAttachment.message == hidden.id)
        first = Message.get((Message.thread == t.id) & (Message.body == "my photo"))
    return {"thread": t, "photo": photo, "pdf": pdf, "message": first, "hidden": hidden}


def staff_urls(s):
    t, m = s["thread"].id, s["message"].id
    return [
        ("GET", f"/provider/messages/{t}"),
        ("GET", f"/provider/messages/files/{s['photo'].id}"),
        ("POST", f"/provider/messages/{t}/reply"),
        ("POST", f"/provider/messages/{t}/assign"),
        ("POST", f"/provider/messages/{t}/done"),
        ("POST", f"/provider/messages/{t}/reopen"),
        ("POST", f"/provider/messages/message/{m}/hide"),
        ("POST", f"/provider/messages/message/{s['hidden'].id}/unhide"),
    ]


def client_urls(s):
    t = s["thread"].id
    return [
        ("GET", f"/portal/messages/{t}"),
        ("GET", f"/portal/messages/files/{s['photo'].id}"),
        ("POST", f"/portal/messages/{t}/reply"),
    ]


FORM = {"body": "intruder", "assigned_to": "0", "reason": "x" * 10}


def _call(c, method, url, data=None):
    if method == "GET":
        return c.get(url)
    return c.post(url, data=dict(data or FORM, **{f"hide{url.split('/')[-2]}-reason": "because"}))


def _denials():
    """The refused user's own denial rows (a probe of another practice's object also
    writes a row, without the user, in the owning practice's log)."""
    return (
        AuditLog.select()
        .where((AuditLog.action == "access.denied") & AuditLog.user_id.is_null(False))
        .count()
    )


def _unchanged(s):
    t = MessageThread.get_by_id(s["thread"].id)
    return (
        Message.select().count() == 3
        and t.assigned_to_id is None
        and t.done_at is None
        and not Message.get_by_id(s["message"].id).is_hidden
        and Message.get_by_id(s["hidden"].id).is_hidden
    )


def test_logged_out_every_url_goes_to_login(client, seen):
    for method, url in staff_urls(seen) + client_urls(seen):
        r = _call(client, method, url)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login"), url
    assert _unchanged(seen)


@pytest.mark.parametrize("who", ["b.owner", "b.therapist", "b.frontdesk"])
def test_staff_of_another_practice_get_404(client, world, seen, who):
    side, role = who.split(".")
    login(client, getattr(getattr(world, side), role))
    for method, url in staff_urls(seen):
        before = _denials()
        assert _call(client, method, url).status_code == 404, url
        assert _denials() == before + 1, url
    assert _unchanged(seen)


@pytest.mark.parametrize("who", ["a.cu2", "b.cu1"])
def test_another_client_gets_404(client, world, seen, who):
    side, role = who.split(".")
    login(client, getattr(getattr(world, side), role))
    for method, url in client_urls(seen):
        before = _denials()
        assert _call(client, method, url).status_code == 404, url
        assert _denials() == before + 1, url
    assert _unchanged(seen)


def test_the_wrong_role_gets_404(client, world, seen):
    login(client, world.a.cu1)  # the thread's own client, on the staff URLs
    for method, url in staff_urls(seen):
        assert _call(client, method, url).status_code == 404, url
    client.post("/logout")
    login(client, world.a.owner)  # staff, on the client's URLs
    for method, url in client_urls(seen):
        assert _call(client, method, url).status_code == 404, url
    assert _unchanged(seen)


def test_the_own_client_and_staff_open_them(client, world, seen):
    login(client, world.a.cu1)
    assert client.get(f"/portal/messages/{seen['thread'].id}").status_code == 200
    r = client.get(f"/portal/messages/files/{seen['photo'].id}")
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    client.post("/logout")
    login(client, world.a.frontdesk)
    assert client.get(f"/provider/messages/{seen['thread'].id}").status_code == 200
    assert client.get(f"/provider/messages/files/{seen['pdf'].id}").status_code == 200


def test_a_client_never_opens_the_files_of_a_hidden_message(client, world, seen):
    login(client, world.a.cu1)
    before = _denials()
    assert client.get(f"/portal/messages/files/{seen['pdf'].id}").status_code == 404
    assert _denials() == before + 1
    page = client.get(f"/portal/messages/{seen['thread'].id}").get_data(as_text=True)
    assert "oops" not in page and "Sent by mistake" not in page
    assert "withdrawn by the practice" in page
    assert f"/portal/messages/files/{seen['pdf'].id}" not in page


def test_attachments_are_served_safely(client, world, seen):
    login(client, world.a.therapist)
    r = client.get(f"/provider/messages/files/{seen['pdf'].id}")
    assert r.mimetype == "application/pdf"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert r.headers["Cache-Control"] == "no-store, private"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in r.headers["Content-Security-Policy"]
    r = client.get(f"/provider/messages/files/{seen['photo'].id}")
    assert r.headers["Content-Disposition"].startswith("inline;")
    assert AuditLog.select().where(AuditLog.action == "message.attachment_view").count() == 2


def test_therapists_limited_to_their_clients_see_only_their_threads(app, client, world):
    with app.test_request_context():
        mine = h.thread(world.a, to="frontdesk")
        other = h.thread(world.a, client=world.a.c2, to="frontdesk")
        Practice.update(therapists_see_all_clients=False).where(
            Practice.id == world.a.practice.id
        ).execute()
        therapist = h.user(world.a.therapist)
        assert [t.id for t in queries.inbox(therapist).threads] == [mine.id]
        assert live.unread_count(therapist) == 1
        assert live.unread_count(h.user(world.a.frontdesk)) == 2
        other_file = msg.send_message(other, h.user(world.a.cu2), "", data=h.PDF_OK)
        file_id = MessageAttachment.get(MessageAttachment.message == other_file.id).id
    login(client, world.a.therapist)
    assert client.get(f"/provider/messages/{mine.id}").status_code == 200
    for url in (
        f"/provider/messages/{other.id}",
        f"/provider/messages/files/{file_id}",
        f"/provider/clients/{world.a.c2.id}/messages",
        f"/provider/clients/{world.a.c2.id}/messages/new",
    ):
        assert client.get(url).status_code == 404, url
    page = client.get("/provider/messages/").get_data(as_text=True)
    assert f"/provider/messages/{mine.id}" in page and f"/provider/messages/{other.id}" not in page


def test_the_front_desk_never_sees_a_linked_chart_note(app, client, world):
    with app.test_request_context():
        note = make_note(h.user(world.a.therapist), world.a.c1, world.a.provider.id)
        found = links.target("note", note.id, h.user(world.a.therapist))
        t = h.thread(world.a, sender=world.a.therapist, link=found, subject="Your home stretches")
    login(client, world.a.therapist)
    page = client.get(f"/provider/messages/{t.id}").get_data(as_text=True)
    assert f"/provider/notes/{note.id}" in page and "Chart note of" in page
    client.post("/logout")
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/messages/{t.id}").get_data(as_text=True)
    assert "Your home stretches" in page
    assert f"/provider/notes/{note.id}" not in page and "Chart note" not in page
    before = _denials()
    assert client.get(f"/provider/messages/new/note/{note.id}").status_code == 404
    assert client.post(f"/provider/messages/new/note/{note.id}", data={}).status_code == 404
    assert _denials() == before + 2
    client.post("/logout")
    login(client, world.a.cu1)
    page = client.get(f"/portal/messages/{t.id}").get_data(as_text=True)
    assert "Your home stretches" in page and "Chart note" not in page
    assert client.get(f"/portal/messages/new/note/{note.id}").status_code == 404


def test_linking_to_someone_elses_record_is_404(app, client, world):
    with app.test_request_context():
        theirs = h.appointment(world.a, client=world.a.c2)
        foreign = h.appointment(world.b)
        inv = h.invoice(world.b, issue=False)
    login(client, world.a.cu1)
    for url in (
        f"/portal/messages/new/appointment/{theirs.id}",
        f"/portal/messages/new/appointment/{foreign.id}",
        f"/portal/messages/new/invoice/{inv.id}",
        "/portal/messages/new/claim/1",
        "/portal/messages/new/1/1",
    ):
        assert client.get(url).status_code == 404, url
    client.post("/logout")
    login(client, world.a.owner)
    assert client.get(f"/provider/messages/new/appointment/{foreign.id}").status_code == 404
    assert client.get(f"/provider/clients/{world.b.c1.id}/messages/new").status_code == 404
    assert MessageThread.select().count() == 0


def test_the_live_poll_says_nothing_of_a_thread_it_may_not_see(app, client, world):
    with app.test_request_context():
        t = h.thread(world.a, client=world.a.c2)
    login(client, world.a.cu1)
    r = client.get(f"/portal/messages/live?v=0&s=0.0.0&t={t.id}", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "thread-changed" not in r.headers.get("HX-Trigger", "")


def test_ids_too_large_for_sqlite_are_404_not_500(client, world):
    big = "9" * 30
    login(client, world.a.owner)
    for url in (
        f"/provider/messages/{big}",
        f"/provider/messages/files/{big}",
        f"/provider/messages/new/appointment/{big}",
        f"/provider/clients/{big}/messages/new",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/provider/messages/message/{big}/hide", data={}).status_code == 404
    with client.application.test_request_context():
        t = h.thread(world.a)
    r = client.post(f"/provider/messages/{t.id}/reply", data={"body": "hi", "snippet": big})
    assert r.status_code == 303
    assert client.get(f"/provider/messages/?assigned={big}&page={big}").status_code == 200
    r = client.get(f"/provider/messages/live?v=1&s=0.0.0&t={big}", headers={"HX-Request": "1"})
    assert r.status_code == 200
