"""One visit flow (issue 11 item 1): the appointment page leads to its chart note (started
linked to the visit, or opened), signing leads to check-out, and check-out without a signed
note says so and offers the note first; cash visits may skip the note when the practice
allows it; check-out codes come from the practice's CPT list."""

import datetime as dt
import html
import re

import pytest

from portal.models import Appointment, AuditLog, ChartNote, ClaimSettings
from portal.rules import charting as rules
from portal.services import charting as charting_svc
from portal.services import scheduling as svc
from tests.charting.helpers import form_data, make_note, sign_from_page
from tests.conftest import login
from tests.desk.conftest import DAY, book


def _on_the_day(app, client, now, appt, user):
    now["now"] = appt.starts_at - dt.timedelta(minutes=10)
    client.post("/logout")
    login(client, user)


def test_appointment_page_leads_to_a_new_note_linked_to_the_visit(app, client, desk, now):
    a = desk.a
    with app.test_request_context():
        appt = book(a, 10, appt_type=a.tins)
    _on_the_day(app, client, now, appt, a.therapist)
    page = client.get(f"/provider/appointments/{appt.id}").get_data(as_text=True)
    assert "Write the chart note" in page and "Not written yet" in page
    assert f"/provider/appointments/{appt.id}/note" in page
    r = client.get(f"/provider/appointments/{appt.id}/note")
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"/clients/{a.c1.id}/notes/new?appointment={appt.id}")
    form = client.get(r.headers["Location"]).get_data(as_text=True)
    # linked to the visit, dated and attributed from it, the type's minutes to correct
    assert f'<option selected value="{appt.id}">' in form or f'value="{appt.id}" selected' in form
    assert 'name="minutes-97124" value="45"' in form.replace("\n", " ") or "45" in form
    data = form_data(
        a.provider.id,
        visit_date=DAY.isoformat(),
        appointment=str(appt.id),
        **{"minutes-97124": "45", "minutes-97140": "15"},
        action="sign",
    )
    r = client.post(f"/provider/clients/{a.c1.id}/notes/new", data=data)
    # signed: on to the visit's check-out
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"/provider/appointments/{appt.id}/check-out")
    note = ChartNote.get()
    assert (note.status, note.appointment_id) == ("signed", appt.id)
    # the appointment page now opens that note
    r = client.get(f"/provider/appointments/{appt.id}/note")
    assert r.headers["Location"].endswith(f"/provider/notes/{note.id}")
    check_out = client.get(f"/provider/appointments/{appt.id}/check-out")
    assert check_out.status_code == 200 and "Complete visit" in check_out.get_data(as_text=True)


def test_a_draft_opens_for_its_writer_and_signing_it_leads_to_check_out(app, client, desk, now):
    a = desk.a
    with app.test_request_context():
        appt = book(a, 10, appt_type=a.tins)
        note = make_note(a.therapist, a.c1, a.provider.id, appointment_id=appt.id)
    _on_the_day(app, client, now, appt, a.therapist)
    assert "Finish the chart note" in client.get(f"/provider/appointments/{appt.id}").get_data(
        as_text=True
    )
    r = client.get(f"/provider/appointments/{appt.id}/note")
    assert r.headers["Location"].endswith(f"/provider/notes/{note.id}/edit")
    r = sign_from_page(client, note.id)
    assert r.headers["Location"].endswith(f"/provider/appointments/{appt.id}/check-out")
    # a note of a visit already checked out (or not linked) stays on the note
    with app.test_request_context():
        other = make_note(a.therapist, a.c1, a.provider.id)
    r = sign_from_page(client, other.id)
    assert r.headers["Location"].endswith(f"/provider/notes/{other.id}")


def test_check_out_of_an_insurance_visit_waits_for_the_signed_note(app, client, desk, now):
    a = desk.a
    with app.test_request_context():
        appt = book(a, 10, appt_type=a.tins)
        svc.check_in(appt, now=appt.starts_at)
    _on_the_day(app, client, now, appt, a.therapist)
    r = client.get(f"/provider/appointments/{appt.id}/check-out")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "The chart note comes first" in body
    assert "Write the chart note" in body and "billed to insurance" in body
    r = client.post(
        f"/provider/appointments/{appt.id}/check-out",
        data={"cpt_code": ["97124"], "minutes": ["60"]},
    )
    assert r.status_code == 409
    assert Appointment.get_by_id(appt.id).status == "checked_in"
    # the service refuses it as well, whoever calls it
    with app.test_request_context(), pytest.raises(svc.BookingError, match="chart note"):
        svc.check_out(appt, {"97124": 60})
    assert Appointment.get_by_id(appt.id).status == "checked_in"
    # a draft is not enough
    with app.test_request_context():
        note = make_note(a.therapist, a.c1, a.provider.id, appointment_id=appt.id)
    assert "The chart note comes first" in client.get(
        f"/provider/appointments/{appt.id}/check-out"
    ).get_data(as_text=True)
    # the front desk is told to ask the therapist; the note stays out of its reach
    client.post("/logout")
    login(client, a.frontdesk)
    body = client.get(f"/provider/appointments/{appt.id}/check-out").get_data(as_text=True)
    assert "Ask " in body, body[-1500:]
    assert f"/notes/{note.id}" not in body
    assert client.get(f"/provider/appointments/{appt.id}/note").status_code == 404
    # signed: check-out goes ahead
    with app.test_request_context():
        from portal.services import charting

        charting.sign_note(a.therapist, note)
        done = svc.check_out(appt, {"97124": 45, "97140": 15})
    assert done.status == "completed"


def test_cash_visits_may_skip_the_note_when_the_practice_allows_it(app, client, desk, now):
    a = desk.a
    with app.test_request_context():
        cash = book(a, 10)
        cash2 = book(a, 13)
        assert svc.check_out(cash, {"97124": 60}).status == "completed"  # default: allowed
        ClaimSettings.create(practice=a.practice, cash_checkout_without_note=False)
        with pytest.raises(svc.BookingError, match="only once its chart note is signed"):
            svc.check_out(cash2, {"97124": 60})


def test_check_out_codes_come_from_the_practice_list(app, client, desk, now):
    a = desk.a
    with app.test_request_context():
        appt = book(a, 10)
    _on_the_day(app, client, now, appt, a.frontdesk)
    page = client.get(f"/provider/appointments/{appt.id}/check-out").get_data(as_text=True)
    assert '<select name="cpt_code"' in page and 'name="cpt_code" value=' not in page
    r = client.post(
        f"/provider/appointments/{appt.id}/check-out",
        data={"cpt_code": ["97999"], "minutes": ["60"]},
    )
    assert r.status_code == 400 and "not on the practice" in r.get_data(as_text=True)
    assert Appointment.get_by_id(appt.id).status == "booked"


def test_the_note_route_is_scoped_and_needs_a_login(app, client, desk, now):
    a, b = desk.a, desk.b
    with app.test_request_context():
        theirs = book(b, 10)
    login(client, a.therapist)
    assert client.get(f"/provider/appointments/{theirs.id}/note").status_code == 404
    assert client.get(f"/provider/appointments/{theirs.id}/check-out").status_code == 404
    assert AuditLog.select().where(AuditLog.action == "access.denied").count() >= 2
    client.post("/logout")
    r = client.get(f"/provider/appointments/{theirs.id}/note")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_check_out_shortens_a_long_code_description_and_lists_it_whole(app, client, desk, now):
    """A practice's own CPT description of 200 characters was cut off in check-out's closed
    select (the code first, then as much of the text as the box held): the option now ends
    with an ellipsis after 80 characters, its title and the list under the table carry the
    whole text; the defaults (79 characters at most) stay whole."""
    a = desk.a
    long_text = (
        "Neuromuscular re-education of movement, balance, coordination, kinesthetic "
        "sense, posture and proprioception for sitting and standing activities, each 15 "
        "minutes, with the client's home program reviewed"
    )
    with app.test_request_context():
        charting_svc.add_cpt_code(a.owner, "97112", long_text)
        appt = book(a, 10)
    _on_the_day(app, client, now, appt, a.frontdesk)
    page = client.get(f"/provider/appointments/{appt.id}/check-out").get_data(as_text=True)
    options = re.findall(r'<option value="97112" title="([^"]*)"[^>]*>([^<]*)</option>', page)
    assert options, page
    title, label = options[0]
    shown = label.split(" · ", 1)[1]
    assert label.startswith("97112 · ") and shown.endswith("…") and len(shown) <= 80
    assert html.unescape(title) == "97112 · " + long_text
    listed = page.split('<details class="code-list">', 1)[1].split("</details>", 1)[0]
    assert html.unescape(listed).count(long_text) == 1 and "<code>97124</code>" in listed
    default = rules.DEFAULT_CPT_CODES[1][1]  # 79 characters: whole
    assert f"97140 · {default}</option>" in html.unescape(page)
