"""Every page without parameters, for each role: it renders (never a 500), has a title and
one h1, and every form control has a label. Pages added later are covered too."""

from html.parser import HTMLParser

import pytest

from portal import demo
from tests.conftest import login
from tests.routes import rules

SKIPPED_TYPES = {"hidden", "submit", "button", "image", "reset"}


class PageParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.label_for, self.controls, self.h1 = set(), [], 0
        self.title, self._in_title, self._label_depth, self.lang = "", False, 0, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "title":
            self._in_title = True
        elif tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag == "h1":
            self.h1 += 1
        elif tag in ("input", "select", "textarea"):
            if a.get("type", "text") in SKIPPED_TYPES:
                return
            named = bool(a.get("aria-label") or a.get("aria-labelledby"))
            self.controls.append((tag, a.get("id"), a.get("name"), named or self._label_depth > 0))

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_depth -= 1
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def unlabelled(self):
        return [c for c in self.controls if not (c[3] or c[1] in self.label_for)]


@pytest.mark.parametrize(
    "email",
    [
        "owner@demo.example",
        "therapist@demo.example",
        "frontdesk@demo.example",
        "client@demo.example",
    ],
)
def test_every_page_renders_with_labels_and_one_heading(app, email):
    with app.test_request_context():
        demo.load()
    c = app.test_client()
    assert login(c, email, password=demo.DEMO_PASSWORDS[email]).status_code == 302
    pages = 0
    for prefix in ("/provider", "/portal", "/account/password"):
        for rule, url in rules(app, "GET", prefix):
            if rule.arguments:
                continue
            r = c.get(url)
            assert r.status_code in (200, 302, 404), f"{email} {url}: {r.status_code}"
            if r.status_code != 200 or r.mimetype != "text/html":
                continue
            p = PageParser()
            p.feed(r.get_data(as_text=True))
            assert p.lang == "en", url
            assert p.title.strip(), f"{url} has no <title>"
            assert p.h1 == 1, f"{url} has {p.h1} <h1> elements"
            assert not p.unlabelled(), f"{url}: controls without a label: {p.unlabelled()}"
            pages += 1
    assert pages >= 3
