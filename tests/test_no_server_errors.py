"""No input gets a 5xx (issue 9): the whole URL map, as a browser uses it and as an attacker
does, with the demo practice's own data (tests/urlmap_world.py).

1. As a browser, for each identity (owner, therapist, front desk, client, tablet mode):
   every GET route it may reach (tests/access_matrix.py) with ids it can see, then the
   links on those pages (up to 4 pages per endpoint: other objects, other query strings),
   and every form met, submitted as rendered, each empty required field filled the way a
   person would (an e-mail address, a date, the field's minimum ...), files as a PNG.
2. As an attacker, once per route and per form (by the first identity that may reach it):
   - ids in the URL past what the database holds, and just inside it;
   - common and discovered query parameters set to a huge number, a negative one, a long
     string, a non-ASCII digit, an impossible date, "1e309";
   - each form field alone set to a huge number, a non-ASCII digit, or left out; all
     fields at once long, negative, repeated (each name twice), or left out; "next" and
     "next_url" pointing at another site (no redirect may go there).
3. As another practice: practice b's owner, front desk and client request every route
   (GET, and POST with a valid CSRF token) with practice a's ids.

Routes added later are covered by the same walk (they need a row in
tests/access_matrix.py, which the matrix test asks for). Any 5xx, or a redirect off the
site, fails the test with the request that caused it.
"""

import io
import os
from urllib.parse import urlencode

from werkzeug.routing import IntegerConverter

from portal.models import User
from tests.access_matrix import allowed
from tests.clients.helpers import png_bytes
from tests.urlmap_world import (
    Browser,
    UrlFiller,
    filled,
    local_target,
    model_for,
    open_app,
    parse_forms,
    routes,
    scoped_first,
)

HUGE = "9" * 25
VALUES = {
    "huge": HUGE,
    "negative": "-1",
    "long": "x" * 4000,
    "non-ascii digit": "²",
    "impossible date": "2026-02-30",
    "float overflow": "1e309",
}
QUERY_NAMES = (
    "page",
    "client",
    "client_id",
    "user",
    "provider",
    "type",
    "date",
    "start",
    "end",
    "week",
    "view",
    "status",
    "q",
    "appointment",
    "template",
    "time",
    "action",
    "date_from",
    "date_to",
)
OFFSITE = "https://evil.example/phish"
BROWSERS = ("owner", "frontdesk", "therapist", "client", "tablet")
NEVER_SUBMIT = {"auth.logout"}  # tested elsewhere; it would only end the walk's session
PAGES_PER_IDENTITY = 400
PAGES_PER_ENDPOINT = 4  # distinct URLs of one endpoint (other objects, other query strings)


class Guard:
    """Collects every request's verdict."""

    def __init__(self):
        self.failures = []
        self.requests = 0

    def check(self, who, method, url, resp, data=None):
        self.requests += 1
        if resp.status_code >= 500:
            error = resp.get_data(as_text=True)[:200] if resp.mimetype == "text/plain" else ""
            self.failures.append(
                f"{who}: {method} {url} {_short(data)} -> {resp.status_code} {error}"
            )
        location = resp.headers.get("Location", "")
        if "evil.example" in location:
            self.failures.append(f"{who}: {method} {url} redirects off the site to {location}")


def _short(data):
    if not data:
        return ""
    items = data.items(multi=True) if hasattr(data, "items") else data
    return "{" + ", ".join(f"{k}={str(v)[:30]!r}" for k, v in items if k != "csrf_token") + "}"


def _with_files(fields, file_fields, content=None):
    data = list(fields)
    for name in file_fields:
        data.append((name, (io.BytesIO(content or png_bytes()), "card.png")))
    return data


def _submit(guard, browser, form, data, who):
    target = local_target(browser.app, form.action)
    if target is None or target[0] in NEVER_SUBMIT:
        return None
    if form.method == "GET":
        url = target[1] + "?" + urlencode([(k, v) for k, v in data if isinstance(v, str)])
        resp, _ = browser.get(url)
        guard.check(who, "GET", url, resp)
    else:
        resp, _ = browser.post(form.action, data=data)
        guard.check(who, "POST", form.action, resp, data)
    return resp


class Walk:
    """One identity's browser walk; remembers the forms and query names it met."""

    def __init__(self, guard, browser, filler):
        self.guard, self.browser, self.filler = guard, browser, filler
        self.forms = {}  # (method, endpoint, field names) -> (form, file fields)
        self.query_names = {}  # endpoint -> {name: a value seen}
        self.files = set()  # endpoints that answered a file (PDF, calendar, image), not a page

    def run(self):
        role = self.browser.role
        queue, seen = [], set()
        for rule, method in routes(self.browser.app):
            may = allowed(rule.endpoint, method)
            if method == "GET" and may and role in may:
                url, _ids = self.filler.url(rule)
                queue.append(url)
        per_endpoint = {}
        pages = 0
        while queue and pages < PAGES_PER_IDENTITY:
            url = queue.pop(0)
            target = local_target(self.browser.app, url)
            if target is None:
                continue
            endpoint, _path, query = target
            limit = 1 if endpoint in self.files else PAGES_PER_ENDPOINT  # a PDF costs ~0.2 s
            if url in seen or per_endpoint.get(endpoint, 0) >= limit:
                continue
            seen.add(url)
            per_endpoint[endpoint] = per_endpoint.get(endpoint, 0) + 1
            for name, value in query:
                self.query_names.setdefault(endpoint, {})[name] = value
            resp, _ = self.browser.get(url)
            pages += 1
            self.guard.check(role, "GET", url, resp)
            if resp.status_code == 200 and resp.mimetype != "text/html":
                self.files.add(endpoint)
            if resp.status_code != 200 or "html" not in (resp.mimetype or ""):
                continue
            forms, links = parse_forms(resp.get_data(as_text=True), url)
            queue.extend(links)
            for form, file_fields in forms:
                form_target = local_target(self.browser.app, form.action)
                if form_target is None:
                    continue
                names = tuple(sorted({n for n, _v in form.fields}))
                self.forms.setdefault((form.method, form_target[0], names), (form, file_fields))
                if form.method == "GET":
                    for name, value in form.fields:
                        self.query_names.setdefault(form_target[0], {})[name] = value
        for (_method, endpoint, _names), (form, file_fields) in sorted(self.forms.items()):
            if endpoint in NEVER_SUBMIT:
                continue
            _submit(self.guard, self.browser, form, _with_files(filled(form), file_fields), role)


def _attack_urls(guard, browser, filler, walk, done):
    """Ids in URLs and query strings, once per route (the first identity that may reach it)."""
    app, role = browser.app, browser.role
    for rule, method in routes(app):
        may = allowed(rule.endpoint, method)
        if not may or role not in may or (rule.endpoint, method) in done:
            continue
        done.add((rule.endpoint, method))
        url, _ids = filler.url(rule)
        ints = [n for n in rule.arguments if isinstance(rule._converters[n], IntegerConverter)]
        for number in (2**63, 2**63 - 1, 0) if ints else ():
            values = {n: filler.value(rule, n) for n in rule.arguments}
            values.update({n: number for n in ints})
            odd = rule.build(values, append_unknown=False)[1]
            resp, _ = browser.request(method, odd) if method == "GET" else browser.post(odd)
            guard.check(role, method, odd, resp)
        if method == "POST":
            resp, _ = browser.post(url, data={"next": OFFSITE, "next_url": OFFSITE})
            guard.check(role, "POST", url, resp)
            continue
        found = walk.query_names.get(rule.endpoint, {})
        names = list(dict.fromkeys([*QUERY_NAMES, *found, "next", "next_url"]))
        values = [HUGE, "²"] if rule.endpoint in walk.files else VALUES.values()
        for value in values:
            query = urlencode({n: OFFSITE if n.startswith("next") else value for n in names})
            resp, _ = browser.get(f"{url}?{query}")
            guard.check(role, "GET", f"{url}?{query[:120]}", resp)
        for name in found:
            for value in (HUGE, "²"):
                query = urlencode({**found, name: value})
                resp, _ = browser.get(f"{url}?{query}")
                guard.check(role, "GET", f"{url}?{query[:120]}", resp)


def _foreign_id(app, world, name):
    """An id of practice b's object of the model a field's name suggests, or None."""
    try:
        model = model_for("", name if name.endswith("_id") else f"{name}_id")
    except AssertionError:
        return None
    if model is None:
        return None
    with app.app_context():
        user = User.get(User.email == world.logins[("b", "owner")][0])
        return scoped_first(app, user, model)


def _attack_forms(guard, browser, walk, done, world):
    """Each form once: field by field, then all fields at once."""
    role = browser.role
    for key, (form, file_fields) in sorted(walk.forms.items()):
        if key in done or key[1] in NEVER_SUBMIT:
            continue
        done.add(key)
        base = filled(form)
        names = list(dict.fromkeys(n for n, _v in base if n != "csrf_token"))
        variants = []
        for name in names:
            others = [(n, v) for n, v in base if n != name]
            variants.append(others + [(name, HUGE)])
            variants.append(others + [(name, "²")])
            variants.append(others)  # the field left out
            foreign = _foreign_id(browser.app, world, name)
            if foreign is not None:
                variants.append(others + [(name, str(foreign))])
        csrf = [(n, v) for n, v in base if n == "csrf_token"]
        keep = [(n, v) for n, v in base if n != "csrf_token"]
        variants.append(csrf + [(n, VALUES["long"]) for n, _v in keep])
        variants.append(csrf + [(n, "-1") for n, _v in keep])
        variants.append(base + [(n, HUGE) for n, _v in keep])  # every name twice
        variants.append(csrf)  # every field left out
        variants.append(base + [("next", OFFSITE), ("next_url", OFFSITE)])
        for data in variants:
            _submit(guard, browser, form, _with_files(data, file_fields), role)
        if file_fields:
            junk = b"%PDF-1.4\n" + b"\x00junk" * 100
            _submit(guard, browser, form, _with_files(base, file_fields, junk), role)


def test_no_route_answers_5xx_to_a_browser_or_an_attacker(url_world, tmp_path):
    guard = Guard()
    done_routes, done_forms = set(), set()
    forms_seen = 0
    for role in BROWSERS:
        app = open_app(url_world, os.path.join(str(tmp_path), role))
        with app.app_context():
            owner = User.get(User.email == url_world.logins[("a", "owner")][0])
        browser = Browser(app, url_world, role)
        filler = UrlFiller(app, url_world, browser, owner)
        walk = Walk(guard, browser, filler)
        walk.run()
        forms_seen += len(walk.forms)
        _attack_urls(guard, browser, filler, walk, done_routes)
        _attack_forms(guard, browser, walk, done_forms, url_world)
    # Logged out: every route, ids and query strings as above (public pages get the forms).
    app = open_app(url_world, os.path.join(str(tmp_path), "anon"))
    with app.app_context():
        owner = User.get(User.email == url_world.logins[("a", "owner")][0])
    anon = Browser(app, url_world, "anon")
    filler = UrlFiller(app, url_world, anon, owner)
    walk = Walk(guard, anon, filler)
    walk.run()
    forms_seen += len(walk.forms)
    _attack_urls(guard, anon, filler, walk, done_routes)
    _attack_forms(guard, anon, walk, done_forms, url_world)
    _other_practice(guard, url_world, tmp_path, owner)

    assert guard.requests > 3000 and forms_seen > 60, (guard.requests, forms_seen)
    untested = [
        f"{m} {r.endpoint}"
        for r, m in routes(app)
        if (r.endpoint, m) not in done_routes and allowed(r.endpoint, m)
    ]
    assert not untested, f"routes no identity reached in the walk: {untested}"
    assert not guard.failures, f"{len(guard.failures)} failures:\n" + "\n".join(guard.failures)


def _other_practice(guard, world, tmp_path, owner_a):
    """Practice b's users on every route with practice a's ids."""
    app = open_app(world, os.path.join(str(tmp_path), "other"))
    with app.app_context():
        client_a = User.get(User.email == world.logins[("a", "client")][0])
    for role, ids_of in (("owner", owner_a), ("frontdesk", owner_a), ("client", client_a)):
        browser = Browser(app, world, role, side="b")
        proxy = Browser.__new__(Browser)  # fills URLs as practice a's user sees them
        proxy.user = ids_of
        filler = UrlFiller(app, world, proxy, owner_a)
        for rule, method in routes(app):
            if rule.endpoint in NEVER_SUBMIT:
                continue
            url, _ids = filler.url(rule)
            resp, _ = browser.get(url) if method == "GET" else browser.post(url)
            guard.check(f"{role} of practice b", method, url, resp)
