"""Real browser (Debian's Chromium at 1024x768): a therapist writes a SOAP note, taps regions
on the body diagram, records minutes, adds diagnoses through the ICD-10 search, signs; an
edit of the signed note is refused and an addendum is added. Screenshots: test-artifacts/."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from portal.models import (
    Appointment,
    AppointmentType,
    ChartNote,
    NoteAddendum,
    NoteBodyRegion,
    NoteDiagnosis,
    NoteMinutes,
)
from tests import factories
from tests.browser.helpers import OPTIONS_THAT_DO_NOT_FIT, watch
from tests.browser.helpers import login as _login

pytestmark = pytest.mark.browser


def test_therapist_writes_signs_and_amends_a_note(app, live_server, page, screenshot):
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        provider = factories.provider(practice, first_name="Maya", last_name="Lindqvist")
        therapist = factories.user(practice, "therapist", provider=provider, name="Maya L")
        client = factories.client(
            practice, first_name="Jordan", last_name="Avery", therapist=provider
        )
    errors, failed = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on(
        "response",
        lambda r: failed.append((r.request.method, r.url, r.status)) if r.status >= 400 else None,
    )

    _login(page, live_server, therapist.email)
    page.goto(f"{live_server}/provider/clients/{client.id}/notes/new")
    expect(page.get_by_role("heading", name=re.compile("New chart note"))).to_be_visible()

    page.get_by_label("Subjective").fill("Low back ache after lifting boxes; worse in the morning.")
    page.get_by_label("Objective").fill("Hypertonic lumbar erectors, tender left QL.")
    page.get_by_label("Assessment").fill("Tension reduced; forward bend improved.")
    page.get_by_label("Plan").fill("Weekly for 3 weeks; cat-cow stretches daily.")
    page.get_by_label("Pain before treatment (0-10)").select_option("6")
    page.get_by_label("Pain after treatment (0-10)").select_option("3")
    page.get_by_label("Deep tissue").check()

    # Tap regions on the diagram: the checkboxes follow, and a second tap clears.
    low_back = page.locator('svg.body-svg [data-region="low-back"]')
    low_back.click()
    page.locator('svg.body-svg [data-region="glute-l"]').click()
    page.locator('svg.body-svg [data-region="shoulder-r"]').first.click()
    expect(page.locator("#region-low-back")).to_be_checked()
    expect(page.locator("#region-glute-l")).to_be_checked()
    expect(page.locator("#region-shoulder-r")).to_be_checked()
    assert "on" in (low_back.get_attribute("class") or "")
    # The right shoulder is drawn on both views; both shapes are marked.
    expect(page.locator('svg.body-svg [data-region="shoulder-r"].on')).to_have_count(2)
    page.locator('svg.body-svg [data-region="shoulder-r"]').last.click()
    expect(page.locator("#region-shoulder-r")).not_to_be_checked()
    # ... and ticking the list marks the diagram.
    page.locator("#region-hamstring-l").check()
    expect(page.locator('svg.body-svg [data-region="hamstring-l"].on')).to_have_count(1)

    page.get_by_label("97124").fill("38")
    page.get_by_label("97140").fill("15")

    # Diagnoses through the search: type words, pick M54.50.
    search = page.get_by_label("Add a diagnosis")
    search.fill("low back")
    pick = page.locator('#dx-suggestions .suggest-pick[data-code="M54.50"]')
    pick.wait_for()
    screenshot(page, "charting-dx-search")
    pick.click()
    expect(page.locator('#dx-list input[value="M54.50"]')).to_be_checked()
    search.fill("muscle spasm back")
    page.locator('#dx-suggestions .suggest-pick[data-code="M62.830"]').click()
    expect(page.locator("#dx-list input[name=dx]")).to_have_count(2)
    expect(search).to_have_value("")
    screenshot(page, "charting-note-form")

    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Save and sign").click()
    page.wait_for_url(re.compile(r"/provider/notes/\d+$"))
    expect(page.get_by_text("Note signed.")).to_be_visible()
    note_url = page.url
    with app.app_context():
        note = ChartNote.get()
        assert note.status == "signed" and note.pain_before == 6 and note.pain_after == 3
        assert {r.region for r in NoteBodyRegion.select()} == {"low-back", "glute-l", "hamstring-l"}
        assert {(m.cpt_code, m.minutes) for m in NoteMinutes.select()} == {
            ("97124", 38),
            ("97140", 15),
        }
        assert [d.code for d in NoteDiagnosis.select().order_by(NoteDiagnosis.position)] == [
            "M54.50",
            "M62.830",
        ]
    expect(page.get_by_text("Electronically signed by")).to_be_visible()
    expect(page.get_by_role("link", name="Edit draft")).to_have_count(0)
    screenshot(page, "charting-note-signed")

    # An edit of the signed note is refused with 409 and a way forward.
    resp = page.goto(note_url + "/edit")
    assert resp.status == 409
    assert page.get_by_role("heading", name="This note is signed and locked").is_visible()
    failed.clear()
    errors.clear()  # the console reports the expected 409

    page.goto(note_url)
    page.get_by_label("Addendum").fill("Client phoned next day: pain 2/10, sleeping better.")
    page.get_by_role("button", name="Add addendum").click()
    page.wait_for_url(re.compile(r"/provider/notes/\d+#addenda$"))
    expect(page.get_by_text("Client phoned next day")).to_be_visible()
    with app.app_context():
        assert NoteAddendum.select().count() == 1
    screenshot(page, "charting-note-addendum")

    # The client page shows the notes section (loaded by HTMX from provider.client_notes).
    if "provider.client_page" in app.view_functions:
        page.goto(f"{live_server}/provider/clients/{client.id}")
        page.locator("#client-notes").wait_for()
        expect(page.locator("#client-notes").get_by_text("M54.50, M62.830")).to_be_visible()
        screenshot(page, "charting-client-page")

    # The therapist's phone: the signed note reads well at 390 px.
    phone = page.context.browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    phone.add_cookies(page.context.cookies())
    mobile = phone.new_page()
    mobile.goto(note_url)
    expect(mobile.get_by_text("Electronically signed by")).to_be_visible()
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(mobile, "charting-note-phone")
    phone.close()

    # The PDF opens (served as application/pdf).
    resp = page.request.get(note_url + "/pdf")
    assert resp.status == 200 and resp.headers["content-type"] == "application/pdf"

    assert errors == [], errors
    assert failed == [], failed


def test_owner_settings_and_icd10_page(app, live_server, page, screenshot):
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        owner = factories.user(practice, "owner", name="Riley Owner")
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, live_server, owner.email)

    page.goto(live_server + "/provider/settings/charting/templates")
    page.get_by_role("button", name="Add the default massage template to edit").click()
    page.wait_for_url(re.compile(r"/templates/\d+$"))
    expect(page.get_by_label("Subjective")).to_have_value(re.compile("Chief complaint:"))
    screenshot(page, "charting-template-form")

    page.goto(live_server + "/provider/settings/charting/codes")
    page.get_by_label("Code").fill("97112")
    page.get_by_label("Description").fill("Neuromuscular re-education, each 15 minutes")
    page.get_by_role("button", name="Add code").click()
    expect(page.get_by_text("97112 is on the practice's list.")).to_be_visible()
    screenshot(page, "charting-cpt-codes")

    page.goto(live_server + "/provider/icd10")
    page.get_by_label("Search ICD-10-CM").fill("neck pain")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("cell", name="Cervicalgia")).to_be_visible()
    page.get_by_role("row", name=re.compile("M54.2")).get_by_role(
        "button", name="Add to favourites"
    ).click()
    expect(page.get_by_text("M54.2 added to the practice's favourites.")).to_be_visible()
    screenshot(page, "charting-icd10")
    assert errors == []


def test_a_draft_on_a_tablet_keeps_what_was_typed(app, live_server, page, screenshot):
    """1024x768 with touch: leaving the form with typed text asks first; Enter in the
    diagnosis box never sends the note; a long pasted link wraps; a second tab's save is
    refused with the text kept; a second tap on Save is ignored."""
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        provider = factories.provider(practice, first_name="Maya", last_name="Lindqvist")
        therapist = factories.user(practice, "therapist", provider=provider, name="Maya L")
        client = factories.client(practice, first_name="Jordan", last_name="Avery")
    problems = watch(page)
    _login(page, live_server, therapist.email)
    page.goto(f"{live_server}/provider/clients/{client.id}/notes/new")
    link = "https://example.com/referral/" + "abcdefghij" * 15
    page.get_by_label("Subjective").fill("Neck stiff since Monday. Letter: " + link)

    # Leaving with typed text: the browser asks; staying keeps the text.
    asked = []

    def stay(dialog):
        asked.append(dialog.type)
        dialog.dismiss()

    page.once("dialog", stay)
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"]
    assert "/notes/new" in page.url
    expect(page.get_by_label("Subjective")).to_have_value(re.compile(re.escape(link)))

    # Enter straight after typing words (no suggestion yet) searches; it does not save.
    search = page.get_by_label("Add a diagnosis")
    search.fill("neck pain")
    search.press("Enter")
    page.locator('#dx-suggestions .suggest-pick[data-code="M54.2"]').wait_for()
    with app.app_context():
        assert ChartNote.select().count() == 0
    search.press("Enter")  # now it picks the first suggestion
    expect(page.locator("#dx-list input[name=dx]")).to_have_count(1)
    page.get_by_label("97124").fill("30")
    page.get_by_role("button", name="Save draft").click()  # no question when saving
    page.wait_for_url(re.compile(r"/provider/notes/\d+$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    screenshot(page, "charting-draft-long-link")
    note_url = page.url

    # Two tabs on the draft: the later save is refused, its text kept on the page.
    other = page.context.new_page()
    other.goto(note_url + "/edit")
    page.goto(note_url + "/edit")
    page.get_by_label("Plan").fill("Weekly for a month.")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/provider/notes/\d+$"))
    other.get_by_label("Plan").fill("Every two weeks.")
    other.get_by_role("button", name="Save draft").click()
    other.get_by_text("Not saved: this draft was saved elsewhere").wait_for()
    expect(other.get_by_label("Plan")).to_have_value("Every two weeks.")
    # The saved plan is shown beside the typed one (only the field that differs), to merge.
    diff = other.locator(".conflict-diff")
    expect(diff.locator("h3")).to_have_text(["Plan"])
    saved, typed = diff.locator(".diff-saved .diff-text"), diff.locator(".diff-typed .diff-text")
    expect(saved).to_have_text("Weekly for a month.")
    expect(typed).to_have_text("Every two weeks.")
    left = diff.locator(".diff-saved").bounding_box()
    right = diff.locator(".diff-typed").bounding_box()
    assert left["x"] + left["width"] <= right["x"] and abs(left["y"] - right["y"]) < 2
    assert other.evaluate("document.documentElement.scrollWidth") <= 1024
    screenshot(other, "charting-draft-conflict")
    with app.app_context():
        assert ChartNote.get().plan == "Weekly for a month."
    # Leaving that page would lose the text it kept: it asks too.
    other.once("dialog", stay)
    other.get_by_role("link", name="Cancel").click()
    other.wait_for_timeout(300)
    assert asked == ["beforeunload", "beforeunload"]

    # A second tap on Save while the first is on its way is not sent.
    sent = other.evaluate(
        """() => {
        const form = document.querySelector("form.note-form");
        const taps = [1, 2].map(() => new Event("submit", {bubbles: true, cancelable: true}));
        taps.forEach((t) => form.dispatchEvent(t));
        return taps.map((t) => !t.defaultPrevented);
    }"""
    )
    assert sent == [True, False]
    other.close()
    assert problems == []


def test_the_note_forms_appointment_choice_reads_whole_at_1024(app, live_server, page, screenshot):
    """The appointment select of a note names each visit (day, time, type, status) whole
    on a 1024x768 tablet, with the practice's longest type name."""
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        provider = factories.provider(practice, first_name="Maya", last_name="Lindqvist")
        therapist = factories.user(practice, "therapist", provider=provider, name="Maya L")
        client = factories.client(practice, first_name="Jordan", last_name="Avery")
        kind = AppointmentType.create(
            practice=practice, name="Therapeutic massage (insurance)", duration_minutes=60
        )
        longest = AppointmentType.create(
            practice=practice,
            name="Medical massage after a motor-vehicle accident, with hot stones and cupping",
            duration_minutes=60,
        )
        # Wednesday 10:30 AM in Los Angeles, checked in; the weeks before, completed.
        for days, status, type_ in (
            (0, "checked_in", kind),
            (7, "completed", kind),
            (14, "completed", longest),
        ):
            start = dt.datetime(2026, 12, 2, 18, 30) - dt.timedelta(days=days)
            Appointment.create(
                practice=practice,
                client=client,
                provider=provider,
                appointment_type=type_,
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=60),
                blocked_until=start + dt.timedelta(minutes=75),
                status=status,
            )
    problems = watch(page)
    _login(page, live_server, therapist.email)
    page.goto(f"{live_server}/provider/clients/{client.id}/notes/new")
    select = page.get_by_label("Appointment")
    labels = select.locator("option").all_inner_texts()
    assert "Wed 02 Dec 2026, 10:30 AM · Therapeutic massage (insurance) · Checked in" in labels
    assert (
        "Wed 18 Nov 2026, 10:30 AM · Medical massage after a motor-vehicle accident… · "
        "Completed" in labels
    )  # a very long name is cut, the status still shown
    assert select.evaluate(OPTIONS_THAT_DO_NOT_FIT) == []
    select.select_option(label=labels[3])
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    screenshot(page, "charting-note-appointment-choice")
    assert problems == []
