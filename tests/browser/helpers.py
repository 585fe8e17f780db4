"""What several browser tests do the same way: log a test user in, watch a page for
script errors and server errors, measure a closed <select>'s options against its box, and
read an image's width once it has loaded."""

import re

from tests import factories

# The room a closed <select> keeps for its arrow, beside its padding (Chromium draws ~20 px).
SELECT_ARROW_PX = 24

# Every option's label against the room its closed <select> gives it: [label, text px, room px].
OPTIONS_THAT_DO_NOT_FIT = """(select) => {
  const arrow = ARROW;
  const cs = getComputedStyle(select);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = cs.font;
  const room = select.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight)
    - arrow;
  return [...select.options].map(o => [o.text, ctx.measureText(o.text).width, room])
    .filter(([, width, r]) => width > r);
}""".replace("ARROW", str(SELECT_ARROW_PX))


def login(page, base, email, password=factories.PASSWORD):
    """Log in through the real form as a staff user of the test factories."""
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/provider/$"))


def watch(page):
    """A list that collects the page's script errors and every 5xx answer it gets."""
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response",
        lambda r: problems.append((r.request.method, r.url, r.status)) if r.status >= 500 else None,
    )
    return problems


# An <img>'s natural width once it has loaded (0 if it fails): a page shown after a form
# post can be read before its images have come.
LOADED_WIDTH = """(img) => img.complete ? img.naturalWidth : new Promise((done) => {
  img.addEventListener('load', () => done(img.naturalWidth), {once: true});
  img.addEventListener('error', () => done(0), {once: true});
})"""


def loaded_width(image):
    """The natural width of the image `image` (a Locator), waiting for it to load."""
    return image.evaluate(LOADED_WIDTH)
