"""Issue 12's acceptance in a real browser (Debian's Chromium) at a phone's 390x844:
a client logs in, sees today's visit and their package credits above the fold, pays an
invoice (Stripe Checkout: the documented stub of tests/billing/conftest.py in front of a
real localstripe), books a visit, makes a superbill and downloads it, and it reads back
with pdftotext: NPI, tax ID, CPT and ICD-10 codes, dates and amounts paid, $85.00 for the
visit paid from a 5-for-$425 package. axe-core (tests/a11y.py, injected with
page.evaluate) finds no critical or serious violation on any client-facing page.
Screenshots: test-artifacts/client-phone-*.png."""

import datetime as dt
import math
import re

import pytest
from playwright.sync_api import expect

from portal import clock
from portal.models import (
    Appointment,
    AppointmentTypeProvider,
    InsurancePolicy,
    Invoice,
    Payer,
    ProviderHours,
    Superbill,
)
from portal.services import scheduling
from tests import factories
from tests.a11y import axe_violations, small_targets
from tests.billing import conftest as billing
from tests.browser.helpers import watch
from tests.clientside.helpers import past_visit, pdf_text, scene

localstripe_url = billing.localstripe_url
checkout_stub = billing.checkout_stub
app = billing.app

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _world(app):
    with app.test_request_context():
        s = scene(other=False)
        for t in (s.sixty, s.thirty):
            AppointmentTypeProvider.create(
                practice=s.practice, appointment_type=t, provider=s.provider
            )
        for wd in range(7):
            ProviderHours.create(
                practice=s.practice,
                provider=s.provider,
                weekday=wd,
                start_minute=0,
                end_minute=1440,
            )
        # Today's visit, a few minutes from now, and an unpaid one from last week.
        start = clock.utcnow().replace(second=0, microsecond=0) + dt.timedelta(minutes=5)
        Appointment.create(
            practice=s.practice,
            client=s.client,
            provider=s.provider,
            appointment_type=s.sixty,
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=60),
            blocked_until=start + dt.timedelta(minutes=60),
            status="booked",
        )
        unpaid = past_visit(s.practice, s.client, s.provider, s.thirty, days_ago=5)
        scheduling.check_out(unpaid, {"97124": 30})
        s.open_invoice = Invoice.get(Invoice.appointment == unpaid.id)
        factories.user(s.practice, "owner")
        # A policy without a card photo: the home's to-do list asks for one.
        payer = Payer.create(practice=s.practice, name="Regence BlueCross BlueShield of Oregon")
        InsurancePolicy.create(
            practice=s.practice,
            client=s.client,
            payer=payer,
            member_id="RGA918273645",
            effective_date=dt.date(2026, 1, 1),
        )
    return s


def _on_screen(page, locator):
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def _axe(page, where, found):
    for v in axe_violations(page):
        found.append((where, v["id"], v["impact"], v["nodes"]))


def test_client_on_a_phone(app, live_server, browser, screenshot, tmp_path):
    s = _world(app)
    context = browser.new_context(viewport=PHONE, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append((r.url, r.status)) if r.status >= 500 else None)
    problems = []

    # The login page, and the public booking page it leads to.
    page.goto(live_server + "/login")
    _axe(page, "login", problems)
    page.get_by_role("link", name=re.compile("Book online")).click()
    page.wait_for_url(re.compile(r"/book/\d+"))
    _axe(page, "public booking", problems)

    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(s.client_user.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/portal/$"))

    # Above the fold: today's visit and the package credits; a compact header.
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] <= 70, header
    today = page.locator(".next-visit h2")
    expect(today).to_have_text(re.compile(r"^Today"), use_inner_text=True)
    assert _on_screen(page, today)
    credits = page.locator("#credits-h + p")
    expect(credits).to_contain_text("4 of 5 left", use_inner_text=True)
    assert _on_screen(page, credits)
    assert _on_screen(page, page.get_by_role("button", name="Pay"))
    screenshot(page, "client-phone-home")
    _axe(page, "home", problems)
    # The to-do buttons keep their words on one line ("Fill / in" wrapped before).
    todo = page.locator(".todo-list .button")
    assert todo.count() > 0
    lines = todo.evaluate_all(
        "els => els.map(el => { const r = document.createRange(); r.selectNodeContents(el);"
        " return [el.textContent.trim(), new Set(Array.from(r.getClientRects(),"
        " q => Math.round(q.top))).size]; })"
    )
    assert all(n == 1 for _, n in lines), lines
    # a button whose label wraps keeps room above and below its words (they touched the edges)
    cramped = page.evaluate(
        "() => Array.from(document.querySelectorAll('main .button')).filter(b => b.offsetParent)"
        ".map(b => { const r = document.createRange(); r.selectNodeContents(b);"
        " const t = r.getBoundingClientRect(), o = b.getBoundingClientRect();"
        " return [b.textContent.trim(), Math.round(t.top - o.top),"
        " Math.round(o.bottom - t.bottom)]; })"
        ".filter(([_, above, below]) => above < 4 || below < 4)"
    )
    assert cramped == [], cramped
    # The menu opens from its button and lists every section.
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("link", name="Documents", exact=True)).to_be_visible()
    _axe(page, "home with the menu open", problems)
    page.get_by_role("button", name="Menu").click()

    # Pay the open invoice from the home (Checkout stub -> success page).
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(re.compile(r"/portal/checkout/\d+/done"))
    expect(page.get_by_text("Thank you").first).to_be_visible()
    with app.app_context():
        assert Invoice.get_by_id(s.open_invoice.id).status == "paid"
    _axe(page, "payment done", problems)

    # Book: "Book again" leads to the type and therapist already chosen.
    page.goto(live_server + "/portal/")
    page.locator("a.book-again").click()
    page.wait_for_url(re.compile(r"/portal/book"))
    _axe(page, "book", problems)
    page.locator("a.slot").first.click()
    page.wait_for_url(re.compile(r"/portal/book/confirm"))
    _axe(page, "confirm booking", problems)
    page.get_by_role("button", name="Confirm booking").click()
    page.wait_for_url(re.compile(r"/portal/(appointments|intake)"))
    _axe(page, "after booking", problems)

    # A superbill of the last ten days, then its PDF.
    page.goto(live_server + "/portal/documents")
    page.get_by_role("link", name="Make a superbill").click()
    day = clock.utcnow().date()
    page.get_by_label("First day").fill((day - dt.timedelta(days=10)).isoformat())
    page.get_by_label("Last day").fill((day + dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Show the visits in these dates").click()
    page.wait_for_url(re.compile(r"start="))
    _axe(page, "make a superbill", problems)
    page.get_by_role("button", name="Make my superbill").click()
    page.wait_for_url(re.compile(r"/portal/documents$"))
    screenshot(page, "client-phone-documents")
    _axe(page, "documents", problems)
    # each document's link is tapped on the phone: 44 px, not a line of text's 26
    problems += [("documents", "small target", t) for t in small_targets(page)]
    with page.expect_download() as dl:
        page.get_by_role("link", name=re.compile(r"Superbill SB-")).click()
    data = open(dl.value.path(), "rb").read()
    text = pdf_text(data, tmp_path)
    for expected in (
        "1234567893",
        "1558598797",
        "93-1234567",
        "97124",
        "97140",
        "M54.50",
        "M62.830",
        "M54.2",
        "$85.00",
        "$55.00",
        "Paid in full",
    ):
        assert expected in text, expected
    assert re.search(r"\d\d/\d\d/\d{4}", text)
    with app.app_context():
        bill = Superbill.get()
        assert bill.total_paid_cents == 8500 + 5500 + 5500

    # Every other client-facing page.
    for path in (
        "/portal/appointments",
        "/portal/invoices",
        "/portal/insurance",
        "/portal/intake",
        "/portal/messages/",
        "/portal/messages/new",
        "/portal/profile",
        "/portal/messages/notices",
        "/portal/",
    ):
        page.goto(live_server + path)
        _axe(page, path, problems)
        problems += [(path, "small target", t) for t in small_targets(page)]
    # The invoice list says what each is for and keeps its column names on a phone.
    page.goto(live_server + "/portal/invoices")
    expect(page.get_by_text(re.compile(r"30-minute massage on \w{3} \d+")).first).to_be_visible()
    label = page.evaluate(
        "() => getComputedStyle("
        "document.querySelector('td[data-label=Status]'), '::before').content"
    )
    assert label == '"Status"'
    screenshot(page, "client-phone-invoices")
    context.close()
    assert not problems, problems
    assert not errors, errors


SMALL_PHONE = {"width": 375, "height": 812}
# The insurance select at a small phone's width: its box; the chosen option's text, its
# width on one line in the select's font; the room for it on a line and the height of the
# select's content (a select cuts a name off unless it wraps it onto more lines).
SELECT_JS = """el => {
  const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
  const text = el.options[el.selectedIndex].text;
  return {left: r.left, right: r.right, width: r.width, text: text,
          textWidth: ctx.measureText(text).width, fontSize: parseFloat(cs.fontSize),
          room: el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 16,
          height: el.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom),
          viewport: document.documentElement.clientWidth};
}"""


def test_insurance_select_fits_a_small_phone(app, live_server, browser, screenshot):
    """The card-photo form's insurance select at 375 px: inside the screen, the full width
    of its card, and each insurer's long name readable once chosen."""
    s = _world(app)
    with app.test_request_context():
        payer = Payer.create(
            practice=s.practice, name="Anthem Blue Cross and Blue Shield of Colorado"
        )
        InsurancePolicy.create(
            practice=s.practice, client=s.client, payer=payer, rank="secondary",
            member_id="ABC123456789", effective_date=dt.date(2026, 1, 1),
        )  # fmt: skip
    context = browser.new_context(viewport=SMALL_PHONE)
    page = context.new_page()
    problems = watch(page)
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(s.client_user.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/portal/$"))
    page.goto(live_server + "/portal/insurance")
    select = page.get_by_label("Insurance", exact=True)
    card = page.locator("form", has=select)
    names = select.locator("option").all_inner_texts()
    assert names == [  # the insurers' names alone: a rank only to tell two of one name apart
        "Regence BlueCross BlueShield of Oregon",
        "Anthem Blue Cross and Blue Shield of Colorado",
        "New insurance, not on file yet",
    ]
    for i, name in enumerate(names):
        select.select_option(index=i)
        got = select.evaluate(SELECT_JS)
        assert got["text"] == name
        screenshot(page, f"client-phone-insurance-select-{i}")
        assert 0 <= got["left"] and got["right"] <= got["viewport"] == SMALL_PHONE["width"], got
        assert got["width"] >= card.bounding_box()["width"] - 1, got  # the card's full width
        # the chosen name is not cut off: it fits on a line or the select wraps it
        lines = math.ceil(got["textWidth"] / got["room"])
        assert got["height"] >= lines * got["fontSize"], got
    context.close()
    assert not problems, problems
