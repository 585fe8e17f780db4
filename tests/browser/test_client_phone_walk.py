"""A client of a massage practice walks the portal on a phone (390x844): an insurance visit
whose claim was paid with a $40 copay invoiced to them, a self-pay visit paid, a package
with credits left, two visits booked (one inside the cancellation window), a superbill and
an unread message. Every page keeps to the screen's width and its controls are 44 px
targets; the copay invoice is paid (Checkout stub in front of localstripe); the superbill
and receipt PDFs read back (pdftotext) with the amounts and dates the pages showed; the
cancellation fee rule is shown before the client confirms, inside and outside the window.
Screenshots: test-artifacts/client-walk-*.png."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from portal import clock
from portal.models import (
    Appointment,
    AppointmentTypeProvider,
    BookingPolicy,
    Invoice,
    ProviderHours,
)
from portal.rules.claim_money import Adj
from portal.services import superbills
from portal.services.claims import posting
from portal.services.messaging import threads
from tests import factories
from tests.a11y import small_targets
from tests.billing import conftest as billing
from tests.claims import factories as cf
from tests.clientside.helpers import pdf_text, scene

localstripe_url = billing.localstripe_url
checkout_stub = billing.checkout_stub
app = billing.app

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}

# Elements of <main> that reach past the screen's edges (and the page's own width).
OVERFLOW_JS = """() => {
  const doc = document.documentElement, w = doc.clientWidth, out = [];
  if (doc.scrollWidth > w) out.push('page ' + doc.scrollWidth);
  for (const el of document.querySelectorAll('header *, main *')) {
    const r = el.getBoundingClientRect();
    if (r.width && (r.right > w + 0.5 || r.left < -0.5))
      out.push(`${el.tagName.toLowerCase()}.${el.className} ${r.left | 0}..${r.right | 0}`);
  }
  return out.slice(0, 10);
}"""


def _visit(s, start, atype):
    return Appointment.create(
        practice=s.practice,
        client=s.client,
        provider=s.provider,
        appointment_type=atype,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=atype.duration_minutes),
        blocked_until=start + dt.timedelta(minutes=atype.duration_minutes),
        status="booked",
    )


def _world(app):
    with app.test_request_context():
        s = scene(other=False)
        for t in (s.sixty, s.thirty):
            AppointmentTypeProvider.create(
                practice=s.practice, appointment_type=t, provider=s.provider
            )
        for wd in range(7):
            ProviderHours.create(
                practice=s.practice, provider=s.provider, weekday=wd,
                start_minute=0, end_minute=1440,
            )  # fmt: skip
        BookingPolicy.create(practice=s.practice, late_cancel_fee_cents=4500)
        now = clock.utcnow().replace(minute=0, second=0, microsecond=0)
        s.soon = _visit(s, now + dt.timedelta(hours=5), s.sixty)  # inside the 24 hours
        s.later = _visit(s, now + dt.timedelta(days=4), s.thirty)  # outside
        # An insurance visit: its claim paid, $40 copay (PR 3) invoiced to the client.
        day = clock.local_date(now - dt.timedelta(days=6), s.practice.tz)
        payer = cf.payer(s.practice, name="Regence BlueCross BlueShield of Oregon")
        claim = cf.claim(
            s.practice, s.client, s.provider, status="submitted", payer_obj=payer,
            day=day, lines=(("97124", 60, 4, 12000),), diagnoses=("M54.50",),
        )  # fmt: skip
        line = claim.lines.get()
        adjustments = (Adj("CO", "45", 2000), Adj("PR", "3", 4000))
        answer = posting.PayerAnswer(
            "1", 12000, 6000, 4000,
            (posting.PaidLine(line, 10000, 6000, adjustments, charge_cents=12000),),
        )  # fmt: skip
        s.copay = posting.post(claim, answer).invoice
        s.claim = claim
        # A superbill of the self-pay and package visits.
        start = clock.local_date(now, s.practice.tz) - dt.timedelta(days=10)
        end = clock.local_date(now, s.practice.tz)
        ids = [f.appointment_id for f in superbills.candidates(s.client, start, end) if f.eligible]
        s.superbill = superbills.issue(s.client, ids, start, end, user=s.owner)
        # An unread message from the therapist.
        threads.start_thread(
            s.client, s.therapist, "Stretches for your back", "Here are the stretches.", "therapist"
        )
        factories.user(s.practice, "owner")
    return s


def _check(page, name, screenshot, problems):
    over = page.evaluate(OVERFLOW_JS)
    problems += [(name, "overflow", o) for o in over]
    problems += [(name, "small target", t) for t in small_targets(page)]
    return screenshot(page, f"client-walk-{name}")


def test_walk_the_portal_on_a_phone(app, live_server, browser, screenshot, tmp_path):
    s = _world(app)
    context = browser.new_context(viewport=PHONE, accept_downloads=True)
    page = context.new_page()
    errors, problems = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append((r.url, r.status)) if r.status >= 500 else None)
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(s.client_user.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/portal/$"))
    for name, path in (
        ("home", "/portal/"),
        ("invoices", "/portal/invoices"),
        ("documents", "/portal/documents"),
        ("appointments", "/portal/appointments"),
        ("cancel-late", f"/portal/appointments/{s.soon.id}/cancel"),
        ("cancel-early", f"/portal/appointments/{s.later.id}/cancel"),
        ("book", f"/portal/book?type={s.thirty.id}"),
        ("insurance", "/portal/insurance"),
        ("intake", "/portal/intake"),
        ("messages", "/portal/messages/"),
        ("message-new", "/portal/messages/new"),
        ("profile", "/portal/profile"),
        ("notices", "/portal/messages/notices"),
    ):
        page.goto(live_server + path)
        _check(page, name, screenshot, problems)
        if name == "cancel-late":
            expect(page.locator("main")).to_contain_text(
                "a late-cancellation fee of $45.00 applies", use_inner_text=True
            )
        if name == "cancel-early":
            expect(page.locator("main")).to_contain_text("No fee", use_inner_text=True)
            expect(page.locator("main")).to_contain_text("costs $45.00", use_inner_text=True)
    _money(page, live_server, s, app, screenshot, problems, tmp_path)
    context.close()
    assert not problems, problems
    assert not errors, errors


def _download(page, link, tmp_path, name):
    with page.expect_download() as dl:
        link.click()
    return pdf_text(open(dl.value.path(), "rb").read(), tmp_path, name)


def _money(page, live_server, s, app, screenshot, problems, tmp_path):
    """The copay invoice: its PDF, paying it, its receipt; the superbill's PDF. What each
    PDF says (amounts, dates of service) is what the page said."""
    page.goto(live_server + "/portal/invoices")
    card = page.locator(".invoice-card").first
    expect(card).to_contain_text("$40.00", use_inner_text=True)
    expect(card).to_contain_text("your insurance paid its part", use_inner_text=True)
    shown = card.inner_text()  # (read once the card is there, to count a date in it)
    day = s.claim.service_date
    said = len(re.findall(f"{day:%b} 0?{day.day}, {day:%Y}", shown))
    assert said == 1, shown  # the visit's date once
    text = _download(page, card.get_by_role("link", name="Invoice PDF"), tmp_path, "inv.pdf")
    assert day.strftime("%m/%d/%Y") in text and re.search(r"Total\s+\$40\.00", text), text
    card.get_by_role("button", name="Pay $40.00 by card").click()
    page.wait_for_url(re.compile(r"/portal/checkout/\d+/done"))
    expect(page.locator("main")).to_contain_text("Your payment of $40.00", use_inner_text=True)
    _check(page, "paid", screenshot, problems)
    with app.app_context():
        assert Invoice.get_by_id(s.copay.id).status == "paid"
    link = page.get_by_role("link", name=re.compile("receipt"))
    text = _download(page, link, tmp_path, "receipt.pdf")
    assert re.search(r"Amount paid\s+\$40\.00", text) and day.strftime("%m/%d/%Y") in text
    page.goto(live_server + "/portal/documents")
    bill = page.get_by_role("link", name=re.compile(r"Superbill SB-"))
    item = bill.locator("xpath=..")  # "Nov 21 to Dec 1, 2026 · 2 visits · paid $140.00"
    expect(item).to_contain_text(re.compile(r"paid \$[\d,.]+"), use_inner_text=True)
    line = item.inner_text()
    paid = re.search(r"paid (\$[\d,.]+)", line).group(1)
    first, last = s.superbill.period_start, s.superbill.period_end
    assert f"{first:%b} {first.day}" in line and f"to {last:%b} {last.day}, {last:%Y}" in line
    text = _download(page, bill, tmp_path, "superbill.pdf")
    assert f"{first:%m/%d/%Y} to {last:%m/%d/%Y}" in text
    assert re.search(r"Totals\s+\$140\.00\s+" + re.escape(paid), text), text
    page.goto(live_server + "/portal/invoices")
    _check(page, "invoices-paid", screenshot, problems)
