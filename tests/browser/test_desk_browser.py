"""Issue 11's acceptance, in Chromium at 1024x768: a therapist opens today's appointment,
checks in, writes and signs the chart note from the appointment page, lands on check-out
(the minutes entered there as in the note: reading them from the note into check-out is
claims-core's part), completes the visit, chooses the card terminal over the package credit
the client holds, adds a tip, books the next visit and e-mails the receipt; the front desk
finds the client by typing part of a phone number. Screenshots in test-artifacts/desk-*."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from portal import clock, demo
from portal.models import Appointment, ChartNote, Invoice, OutboxMessage, Payment, Practice, Tip
from portal.rules import slots as slot_rules
from portal.services import packages
from tests.a11y import small_targets
from tests.browser.helpers import login, tablet_page
from tests.browser.helpers import watch as _watch

pytestmark = pytest.mark.browser


def _wednesday_0845_local(tz):
    """08:45 on a Wednesday in the practice's time zone, this week (Maya works Mon-Fri)."""
    today = slot_rules.to_local(dt.datetime.now(dt.UTC).replace(tzinfo=None), tz).date()
    wednesday = today + dt.timedelta(days=(2 - today.weekday()))
    return slot_rules.to_utc(dt.datetime.combine(wednesday, dt.time(8, 45)), tz)


def _login(page, base, email):
    login(page, base, email, demo.DEMO_PASSWORDS[email])


def test_the_day_at_the_desk_end_to_end(app, live_server, page, browser, screenshot, monkeypatch):
    from zoneinfo import ZoneInfo

    now = {"at": _wednesday_0845_local(ZoneInfo("America/Los_Angeles"))}
    monkeypatch.setattr(clock, "utcnow", lambda: now["at"])  # the live server's clock too
    with app.test_request_context():
        demo.load()
        practice = Practice.get()
        appt = (
            Appointment.select()
            .where(
                (Appointment.status == "booked")
                & (Appointment.starts_at > now["at"])
                & (Appointment.starts_at < now["at"] + dt.timedelta(hours=1))
            )
            .get()
        )
        jordan = appt.client
        credit = packages.active_purchases(jordan.id, appt.appointment_type_id)[0]
        credits_before = packages.balance(credit.id)
    assert jordan.email == "client@demo.example" and credits_before > 0
    problems = _watch(page)
    page.on("dialog", lambda d: d.accept())

    # The therapist: Today -> today's 9:00 visit
    _login(page, live_server, "therapist@demo.example")
    page.get_by_role("link", name=re.compile(r"9:00 AM · Jo Avery")).click()
    page.wait_for_url(f"**/provider/appointments/{appt.id}")
    expect(page.get_by_text("Not written yet")).to_be_visible()
    screenshot(page, "desk-1-appointment")
    page.get_by_role("link", name="Check in").click()
    page.get_by_role("button", name="Check in").click()
    page.wait_for_url(f"**/provider/appointments/{appt.id}")
    expect(page.locator(".status-badge")).to_have_text("Checked in")

    # ... writes and signs the chart note from the appointment page
    now["at"] += dt.timedelta(minutes=10)  # (the staff idle limit is 15 minutes)
    page.get_by_role("link", name="Write the chart note").click()
    page.wait_for_url(re.compile(r"/clients/\d+/notes/new\?appointment="))
    page.get_by_label("Subjective").fill("Low back tight after a long drive; no new injury.")
    page.get_by_label("97124").fill("45")
    page.get_by_label("97140").fill("15")
    page.get_by_label("Add a diagnosis").fill("M54.50")
    screenshot(page, "desk-2-note")
    page.get_by_role("button", name="Save and sign").click()
    # signed: straight on to the visit's check-out
    page.wait_for_url(f"**/provider/appointments/{appt.id}/check-out")
    note = ChartNote.get(ChartNote.appointment == appt.id)
    assert note.status == "signed"
    # check-out shows the signed note's minutes rather than asking for them again
    minutes = page.locator("table.minutes-table")
    expect(minutes.get_by_role("row", name=re.compile(r"97124\s+45"))).to_be_visible()
    expect(minutes.get_by_role("row", name=re.compile(r"97140\s+15"))).to_be_visible()
    screenshot(page, "desk-3-check-out")
    page.get_by_role("button", name="Complete visit").click()
    page.wait_for_url(f"**/provider/billing/checkout/{appt.id}")
    assert {m.cpt_code: m.minutes for m in appt.minutes} == {"97124": 45, "97140": 15}

    # ... chooses the card terminal over the credit, adds a tip
    credit_choice = page.get_by_label(re.compile("Package credit"))
    expect(credit_choice).to_be_checked()  # offered first, not taken
    page.get_by_label(re.compile("Card terminal")).check()
    page.get_by_label(re.compile(r"^\$14\.00")).check()  # 15% of $95
    screenshot(page, "desk-4-payment-choice")
    page.get_by_role("button", name="Take payment").click()
    page.wait_for_url(f"**/provider/billing/checkout/{appt.id}")
    assert page.get_by_text(re.compile(r"paid \(Card terminal\), and a \$14\.00 tip")).is_visible()
    inv = Invoice.get(Invoice.appointment == appt.id)
    assert inv.status == "paid" and Payment.get(Payment.invoice == inv.id).method == (
        "external_terminal"
    )
    tip = Tip.get(Tip.appointment == appt.id)  # (the demo's earlier days have tips of theirs)
    assert tip.amount_cents == 1400 and packages.balance(credit.id) == credits_before

    # ... books the next visit, e-mails the receipt
    page.get_by_role("button", name=re.compile("Book (the next|another) visit")).click()
    page.wait_for_url(f"**/provider/billing/checkout/{appt.id}")
    expect(page.get_by_text(re.compile("Next visit booked"))).to_be_visible()
    nxt = Appointment.select().where(Appointment.id > appt.id).order_by(Appointment.id.desc()).get()
    assert (nxt.client_id, nxt.provider_id, nxt.appointment_type_id) == (
        jordan.id,
        appt.provider_id,
        appt.appointment_type_id,
    )
    page.get_by_role("button", name="E-mail the receipt").click()
    page.wait_for_url(f"**/provider/billing/checkout/{appt.id}")
    expect(page.get_by_text(re.compile("e-mailed a link to the receipt"))).to_be_visible()
    mail = OutboxMessage.get(OutboxMessage.kind == "receipt")
    assert "/portal/documents/" in mail.body and "Avery" not in mail.body
    screenshot(page, "desk-5-visit-closed")

    # The front desk finds the client by typing part of a phone number
    context, desk, desk_problems = tablet_page(browser, touch=False, accept=False)
    _login(desk, live_server, "frontdesk@demo.example")
    desk.goto(live_server + "/provider/schedule/new")
    desk.get_by_label("Find by name, phone, e-mail or date of birth").fill("0199")
    choice = desk.get_by_label(re.compile(r"Avery, Jordan"))
    choice.wait_for()
    expect(desk.locator("#client_id-choices")).to_contain_text("04/12/1986", use_inner_text=True)
    choice.check()
    screenshot(desk, "desk-6-finder-by-phone")

    # ... and reads the day sheet: the visit's terminal payment and its tip are on it
    # (the clock is held still here, so the demo's earlier takings read as today's too)
    desk.get_by_role("link", name="Billing").click()
    desk.get_by_role("link", name="Day sheet").click()
    entries = desk.locator("#day-entries tbody tr")
    expect(entries.filter(has_text="Tip for Maya Lindqvist").last).to_contain_text("$14.00")
    expect(entries.filter(has_text=inv.number)).to_contain_text("Card terminal")
    assert small_targets(desk) == []
    screenshot(desk, "desk-7-day-sheet")
    context.close()
    assert problems == [] and desk_problems == [], (problems, desk_problems)
    assert practice.id == appt.practice_id
