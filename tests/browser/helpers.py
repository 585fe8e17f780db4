"""What several browser tests do the same way: log a test user in, and watch a page for
script errors and server errors."""

import re

from tests import factories


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
