"""What several browser tests do the same way: log a user in, watch a page for script and
console errors and failed answers, open a watched tablet page, measure a closed <select>'s
options against its box, and read an image's width once it has loaded."""

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


def login(page, base, email, password=factories.PASSWORD, landing=r"/provider/$"):
    """Log in through the real form (a test factories' user by default), then wait for the
    page it lands on (`landing`, a URL pattern; None: no wait, as for a refused login)."""
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    if landing:
        page.wait_for_url(re.compile(landing))


def _error(message):
    """A console error of the page's own (a failed answer is the response watch's, which
    knows which statuses are expected)."""
    return message.type == "error" and not message.text.startswith("Failed to load resource")


def watch(page, worst=500, name="", into=None):
    """A list that collects the page's script errors, its console's errors (a CSP refusal
    ...) and every answer of status `worst` or above (5xx; 400 where no 4xx is expected
    either). `name` starts each entry: two pages watched into one test tell theirs apart.
    `into`: a list to collect into instead (`problems += watch(...)` would copy the new
    list while it is empty, and miss everything after)."""
    problems = [] if into is None else into
    said = f"{name} " if name else ""
    page.on("pageerror", lambda e: problems.append(f"{said}page error: {e}"))
    page.on("console", lambda m: problems.append(f"{said}console: {m.text}") if _error(m) else None)
    page.on(
        "response",
        lambda r: (
            problems.append((said + r.request.method, r.url, r.status))
            if r.status >= worst
            else None
        ),
    )
    return problems


TABLET = {"width": 1024, "height": 768}


def tablet_page(browser, worst=500, name="", asked=None, touch=True, accept=True):
    """(context, page, problems): a new tablet-sized (1024x768, touch) context and page,
    watched (`watch`). Its confirm dialogs are accepted, their messages appended to
    `asked` when a list is given; accept=False leaves them to Playwright, which dismisses
    them (`asked` is then not used)."""
    context = browser.new_context(viewport=TABLET, has_touch=touch)
    page = context.new_page()
    problems = watch(page, worst, name)
    if accept and asked is None:
        page.on("dialog", lambda d: d.accept())
    elif accept:
        page.on("dialog", lambda d: (asked.append(d.message), d.accept()))
    return context, page, problems


# An <img>'s natural width once it has loaded (0 if it fails): a page shown after a form
# post can be read before its images have come.
LOADED_WIDTH = """(img) => img.complete ? img.naturalWidth : new Promise((done) => {
  img.addEventListener('load', () => done(img.naturalWidth), {once: true});
  img.addEventListener('error', () => done(0), {once: true});
})"""


def loaded_width(image):
    """The natural width of the image `image` (a Locator), waiting for it to load."""
    return image.evaluate(LOADED_WIDTH)
