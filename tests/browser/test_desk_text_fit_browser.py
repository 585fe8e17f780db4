"""The desk's tablet (1024x768) reads its texts whole: the demo practice in Chromium, each
page measured (a label's text width against its box, a block's scrollWidth against its
clientWidth). Screenshots in test-artifacts/fit-*.png."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from portal import clock, demo
from portal.models import Appointment, User
from portal.rules import slots as slot_rules
from portal.services import charting
from tests.browser.helpers import OPTIONS_THAT_DO_NOT_FIT, login

pytestmark = pytest.mark.browser

# Elements whose text is clipped (wider or taller than their box): [text, scroll w/h, client w/h].
CLIPPED = """(els) => els
  .filter(e => e.scrollWidth > e.clientWidth || e.scrollHeight > e.clientHeight + 1)
  .map(e => [e.textContent.trim(), e.scrollWidth, e.clientWidth, e.scrollHeight, e.clientHeight])"""

# Words of an element's text that a line break splits ("60-" | "minute"): one client rect each,
# else the word sits on two lines.
WORDS_SPLIT = """(root) => {
  const split = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const rects = [...range.getClientRects()].filter(r => r.width > 0);
      if (rects.length > 1) split.push(m[0]);
    }
  }
  return split;
}"""


def _wednesday_0845_utc():
    """08:45 on this week's Wednesday in the demo's time zone (Maya works Mon-Fri)."""
    tz = ZoneInfo("America/Los_Angeles")
    today = slot_rules.to_local(dt.datetime.now(dt.UTC).replace(tzinfo=None), tz).date()
    wednesday = today + dt.timedelta(days=(2 - today.weekday()))
    return slot_rules.to_utc(dt.datetime.combine(wednesday, dt.time(8, 45)), tz)


def _login_desk(page, base):
    login(page, base, "frontdesk@demo.example", demo.DEMO_PASSWORDS["frontdesk@demo.example"])


def test_desk_texts_fit_the_tablet(app, live_server, page, screenshot, monkeypatch):
    now = _wednesday_0845_utc()
    monkeypatch.setattr(clock, "utcnow", lambda: now)  # the live server's clock too
    with app.test_request_context():
        demo.load()
        # A practice's own code with a long description: shortened in the closed select.
        charting.add_cpt_code(
            User.get(User.email == "owner@demo.example"), "97112",
            "Neuromuscular re-education of movement, balance, coordination, kinesthetic sense, "
            "posture and proprioception for sitting and standing activities, each 15 minutes",
        )  # fmt: skip
        booked = (
            Appointment.select()
            .where((Appointment.status == "booked") & (Appointment.starts_at > now))
            .order_by(Appointment.starts_at)
            .first()
        )
    assert page.viewport_size == {"width": 1024, "height": 768}
    _login_desk(page, live_server)

    # The home's visits of the day wrap between words, never inside one.
    visits = page.locator(".today-list li")
    assert visits.count() >= 3
    assert visits.filter(has_text="60-minute massage").count() >= 1
    assert page.locator(".today-list").evaluate(WORDS_SPLIT) == []
    screenshot(page, "fit-home-today")

    # Check-out: each CPT code's whole label ("..., each 15 minutes") shows in the closed select.
    page.goto(f"{live_server}/provider/appointments/{booked.id}/check-out")
    selects = page.locator("select[name=cpt_code]")
    assert selects.count() >= 1
    labels = selects.first.evaluate("(s) => [...s.options].map(o => o.text)")
    assert any("each 15 minutes" in label for label in labels), labels
    assert any(label.startswith("97112 · Neuromuscular") for label in labels), labels
    for i in range(selects.count()):
        assert selects.nth(i).evaluate(OPTIONS_THAT_DO_NOT_FIT) == [], f"row {i + 1}"
    screenshot(page, "fit-checkout-codes")

    # The week view: each visit block names its client whole (wrapping onto a second line).
    page.goto(f"{live_server}/provider/schedule/?view=week")
    names = page.locator(".week-appt strong")
    assert names.count() >= 10
    assert "Priya Natarajan" in names.all_text_contents()
    assert names.evaluate_all(CLIPPED) == []
    assert page.locator(".week-grid").evaluate("(g) => g.scrollWidth <= g.clientWidth")
    screenshot(page, "fit-week")
