"""Real browser: a client on a phone (390x844) sends a message with a photo; the therapist
on a tablet (1024x768) sees the unread count change without reloading, opens the thread
and replies; the client sees the reply without reloading. Then long words, a file too
large on the phone and the tablet's Handling buttons. Screenshots: test-artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from portal.services.messaging import threads
from tests import factories
from tests.a11y import short_targets
from tests.browser.helpers import loaded_width, tablet_page, watch
from tests.browser.helpers import login as _login
from tests.messaging import helpers as h

pytestmark = pytest.mark.browser

TARGETS = (
    "button, .button, .nav-link, input:not([type=hidden]):not([type=checkbox]), "
    "select, .field-check, .thread-row a, summary"
)


def _small_targets(page):
    return short_targets(page, TARGETS)


def _mark(page):
    """A flag that only survives while the page is not reloaded."""
    page.evaluate("window.__notReloaded = true")


def _not_reloaded(page):
    return page.evaluate("window.__notReloaded === true")


def test_phone_client_and_tablet_therapist_talk_live(
    app, live_server, browser, screenshot, tmp_path
):
    app.config["MESSAGES_POLL_SECONDS"] = 1
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        maya = factories.provider(practice, first_name="Maya", last_name="Lindqvist")
        therapist = factories.user(practice, "therapist", name="Maya Lindqvist", provider=maya)
        jo = factories.client(practice, first_name="Jo", last_name="Avery", therapist=maya)
        jo_user = factories.client_user(practice, jo)
    photo_path = tmp_path / "shoulder.jpg"
    photo_path.write_bytes(h.photo(1600, 1200))

    tablet_ctx, tablet, problems_t = tablet_page(browser, 400, "tablet", accept=False)
    phone_ctx = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    phone = phone_ctx.new_page()
    problems = []
    problems_p = watch(phone, 400, "phone")
    try:
        # The therapist keeps the inbox open on the tablet: nothing unread yet.
        _login(tablet, live_server, therapist.email)
        tablet.get_by_role("link", name=re.compile("^Messages")).first.click()
        tablet.wait_for_url(re.compile(r"/provider/messages/$"))
        expect(tablet.locator("#messages-badge")).to_be_hidden()
        expect(tablet.locator("#thread-list")).to_contain_text("No open conversations")
        _mark(tablet)

        # The client writes from the phone, with a photo.
        _login(phone, live_server, jo_user.email, landing=r"/portal/$")
        phone.get_by_role("button", name="Menu").click()  # the phone's one-row header
        phone.get_by_role("link", name=re.compile("^Messages")).click()
        phone.get_by_role("link", name="New message", exact=True).click()
        phone.get_by_label("Subject").fill("Sore shoulder after Tuesday")
        phone.get_by_label("To", exact=True).select_option("therapist")
        phone.get_by_label("Message", exact=True).fill("Is this bruise normal? Photo attached.")
        phone.get_by_label("Photo or PDF (optional)").set_input_files(str(photo_path))
        assert _small_targets(phone) == []
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.get_by_role("button", name="Send").click()
        phone.wait_for_url(re.compile(r"/portal/messages/\d+$"))
        expect(phone.locator("#message-list")).to_contain_text("Is this bruise normal?")
        sent_photo = phone.locator("#message-list img")
        expect(sent_photo).to_be_visible()
        assert loaded_width(sent_photo) > 0
        _mark(phone)

        # The tablet's badge and list change by themselves.
        expect(tablet.locator("#messages-badge")).to_have_text("1 unread", timeout=10_000)
        expect(tablet.locator("#thread-list")).to_contain_text("Sore shoulder after Tuesday")
        assert _not_reloaded(tablet), "the inbox was reloaded"
        # a conversation's line reads from the left of its row (it was centred)
        row = tablet.locator(".thread-row a").first.bounding_box()
        subject = tablet.locator(".thread-row .thread-subject").first.bounding_box()
        assert subject["x"] - row["x"] < 20, (row, subject)
        screenshot(tablet, "messaging-tablet-unread")

        tablet.get_by_role("link", name=re.compile("Sore shoulder after Tuesday")).click()
        tablet.wait_for_url(re.compile(r"/provider/messages/\d+$"))
        shown = tablet.locator("#message-list img")
        expect(shown).to_be_visible()
        assert loaded_width(shown) > 0
        assert _small_targets(tablet) == []
        tablet.get_by_label("Message", exact=True).fill(
            "A bruise can appear after deep work. Ice it tonight."
        )
        tablet.get_by_role("button", name="Send").click()
        tablet.wait_for_url(re.compile(r"/provider/messages/\d+(#m\d+)?$"))
        expect(tablet.locator("#message-list")).to_contain_text("Ice it tonight.")
        expect(tablet.locator("#messages-badge")).to_be_hidden(timeout=10_000)
        screenshot(tablet, "messaging-tablet-thread")

        # The phone shows the reply and its badge, without a reload.
        expect(phone.locator("#message-list")).to_contain_text("Ice it tonight.", timeout=10_000)
        assert _not_reloaded(phone), "the phone's thread was reloaded"
        phone.locator("#message-list .message").last.scroll_into_view_if_needed()
        screenshot(phone, "messaging-phone-thread")
        problems = problems_t + problems_p
    finally:
        tablet_ctx.close()
        phone_ctx.close()
    assert problems == []


# The page, and any element of it, wider than the screen (a word that does not wrap).
OVERFLOW = """() => {
  const w = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth > w) out.push('page');
  for (const el of document.querySelectorAll('main *')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > w + 0.5) out.push(el.tagName + '.' + el.className);
  }
  return out.slice(0, 5);
}"""


def test_long_words_a_file_too_large_and_the_handling_buttons(
    app, live_server, browser, screenshot, tmp_path
):
    """A reference number pasted as a subject wraps on a phone and a tablet; a file over
    10 MB is refused by its field before the phone sends it, the text kept (another file
    then goes); on the tablet
    "Mark done" is not flush against "Save assignment" (a slip would close the thread)."""
    word = "INV" + "7" * 70
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        maya = factories.provider(practice, first_name="Maya", last_name="Lindqvist")
        therapist = factories.user(practice, "therapist", name="Maya Lindqvist", provider=maya)
        jo = factories.client(practice, first_name="Jo", last_name="Avery", therapist=maya)
        jo_user = factories.client_user(practice, jo)
        t = threads.start_thread(jo, h.user(jo_user), f"Receipt {word}", word, "therapist")
    app.config["MESSAGES_POLL_SECONDS"] = 1
    big = tmp_path / "scan.jpg"
    big.write_bytes(b"\xff\xd8\xff" + bytes(11 * 1024 * 1024))

    phone_ctx = browser.new_context(
        viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True
    )
    phone = phone_ctx.new_page()
    problems_p = watch(phone, 400, "phone")
    tablet_ctx, tablet, problems_t = tablet_page(browser, 400, "tablet", accept=False)
    posts = []
    phone.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    try:
        _login(phone, live_server, jo_user.email, landing=r"/portal/$")
        for path in ("/portal/messages/", f"/portal/messages/{t.id}"):
            phone.goto(live_server + path)
            assert phone.evaluate(OVERFLOW) == [], path
        screenshot(phone, "messaging-phone-long-word")

        phone.goto(live_server + f"/portal/messages/{t.id}")
        posts.clear()
        box = phone.get_by_label("Message", exact=True)
        box.fill("Here is the scan you asked for.")
        phone.get_by_label("Photo or PDF (optional)").set_input_files(str(big))
        error = phone.locator("#file-error")
        expect(error).to_have_text(re.compile(r"^That file is 11\.0 MB; the limit is 10 MB\."))
        assert phone.locator("#file").evaluate("(el) => el.files.length") == 0
        assert "file-error" in phone.locator("#file").get_attribute("aria-describedby")
        expect(box).to_have_value("Here is the scan you asked for.")
        assert posts == []
        assert phone.evaluate(OVERFLOW) == []
        screenshot(phone, "messaging-phone-file-too-large")
        small = tmp_path / "scan-small.jpg"
        small.write_bytes(h.photo())
        phone.get_by_label("Photo or PDF (optional)").set_input_files(str(small))
        expect(error).to_have_count(0)
        phone.get_by_role("button", name="Send").click()
        phone.wait_for_url(re.compile(r"/portal/messages/\d+(#m\d+)?$"))
        expect(phone.locator("#message-list")).to_contain_text("Here is the scan you asked for.")
        expect(phone.locator("#message-list img")).to_be_visible()

        # The client is writing again when a long answer arrives: the box stays in view.
        box = phone.get_by_label("Message", exact=True)
        box.scroll_into_view_if_needed()
        box.click()
        box.type("Also, about Tuesday")
        with app.test_request_context():
            threads.send_message(t, h.user(therapist), "Thank you. " + "More details. " * 150)
        expect(phone.locator("#message-list")).to_contain_text("More details.", timeout=10_000)
        bottom = box.evaluate("(el) => el.getBoundingClientRect().bottom")
        assert 0 < bottom <= phone.viewport_size["height"], bottom
        assert box.evaluate("(el) => el === document.activeElement")
        expect(box).to_have_value("Also, about Tuesday")

        _login(tablet, live_server, therapist.email)
        tablet.goto(live_server + f"/provider/messages/{t.id}")
        assert tablet.evaluate(OVERFLOW) == []
        save = tablet.get_by_role("button", name="Save assignment").bounding_box()
        done = tablet.get_by_role("button", name="Mark done").bounding_box()
        assert done["y"] - (save["y"] + save["height"]) >= 8, (save, done)
        screenshot(tablet, "messaging-tablet-long-word")
    finally:
        phone_ctx.close()
        tablet_ctx.close()
    assert problems_p + problems_t == []


def _card_thread(app):
    """The front desk (Sam Front) and a client, Jo, whose thread to the desk holds a card
    number: (desk user, Jo's user, thread)."""
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        desk = factories.user(practice, "frontdesk", name="Sam Front")
        jo = factories.client(practice, first_name="Jo", last_name="Avery")
        jo_user = factories.client_user(practice, jo)
        t = threads.start_thread(jo, h.user(jo_user), "Card", "My card is 4242 4242", "frontdesk")
    return desk, jo_user, t


def test_a_message_hidden_on_the_tablet_keeps_why_and_is_shown_again(
    app, live_server, browser, screenshot
):
    """The front desk hides a message with a reason on a tablet (1024x768): after a reload
    the thread says who hid it, when and why; "Show it to the client again" asks first,
    then the text is back for the client, the hiding still said above it."""
    desk, jo_user, t = _card_thread(app)
    asked = []
    tablet_ctx, tablet, problems = tablet_page(browser, 400, "tablet", asked=asked)
    try:
        _login(tablet, live_server, desk.email)
        tablet.goto(live_server + f"/provider/messages/{t.id}")
        tablet.get_by_text("Hide this message").click()
        tablet.get_by_label("Why hide it?").fill("Card number sent by mistake")
        tablet.get_by_role("button", name="Hide it").click()
        tablet.wait_for_load_state()
        tablet.reload()
        note = tablet.locator(".hidden-note")
        expect(note).to_contain_text(re.compile(r"^Hidden by Sam Front on .+, \d+:\d\d [AP]M: "))
        expect(note).to_contain_text("Card number sent by mistake.")
        assert _small_targets(tablet) == []
        screenshot(tablet, "messaging-tablet-hidden-reason")

        tablet.get_by_role("button", name="Show it to the client again").click()
        tablet.wait_for_load_state()
        assert asked == ["Show this message to the client again?"]
        expect(tablet.locator(".message-body").first).to_have_text("My card is 4242 4242")
        expect(note).to_contain_text("Card number sent by mistake. Shown again by Sam Front on")
        screenshot(tablet, "messaging-tablet-shown-again")
    finally:
        tablet_ctx.close()
    assert problems == []


def test_a_hide_reason_being_typed_survives_a_new_message(app, live_server, browser, screenshot):
    """The front desk opens "Hide this message" and types a reason; the client writes again
    meanwhile. The conversation does not reload over the typed reason: the box says new
    messages came in, and they show once the box is closed (without a page reload)."""
    app.config["MESSAGES_POLL_SECONDS"] = 1
    desk, jo_user, t = _card_thread(app)
    tablet_ctx, tablet, problems = tablet_page(browser, 400, "tablet")
    try:
        _login(tablet, live_server, desk.email)
        tablet.goto(live_server + f"/provider/messages/{t.id}")
        _mark(tablet)
        tablet.get_by_text("Hide this message").click()
        reason = tablet.get_by_label("Why hide it?")
        reason.fill("Card number sent by mistake")
        with app.test_request_context():
            threads.send_message(t, h.user(jo_user), "Sorry, ignore that")
        waiting = tablet.locator(".hide-message .reload-waiting")
        expect(waiting).to_have_text(
            "New messages came in: they show when you hide this one or close this box.",
            timeout=10_000,
        )
        expect(reason).to_have_value("Card number sent by mistake")
        expect(tablet.locator("#message-list")).not_to_contain_text("Sorry, ignore that")
        screenshot(tablet, "messaging-tablet-hide-reason-kept")

        tablet.get_by_text("Hide this message").click()  # closes the box
        expect(tablet.locator("#message-list")).to_contain_text(
            "Sorry, ignore that", timeout=10_000
        )
        assert _not_reloaded(tablet), "the thread page was reloaded"
    finally:
        tablet_ctx.close()
    assert problems == []
