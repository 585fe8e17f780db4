"""The role-access matrix (issue 9): every route of the URL map, requested by every
identity (owner, therapist, front desk, client, tablet mode, logged out), against ONE table,
tests/access_matrix.py. A route without a row there fails here, with where to add it.

Each identity works on its own copy of the demo world (tests/urlmap_world.py): GETs first,
then POSTs (with a valid CSRF token and no other fields), logout last. What counts as
reaching or not is in tests/access_matrix.py's docstring.
"""

import os

from portal.models import User
from tests.access_matrix import ACCESS, ANON, TABLET, allowed
from tests.urlmap_world import ROLES, Browser, UrlFiller, open_app, outcome, routes

REFUSED = {ANON: "login", TABLET: "tablet"}  # every other identity: "denied"


def _order(rule_method):
    rule, method = rule_method
    return (method != "GET", rule.endpoint == "auth.logout", rule.rule)


def test_every_route_has_a_row(url_world, tmp_path):
    app = open_app(url_world, str(tmp_path))
    endpoints = {rule.endpoint for rule, _m in routes(app)}
    missing = sorted(e for e in endpoints if allowed(e, "GET") is None)
    assert not missing, (
        "Routes without an access decision: add a row for each to ACCESS in "
        "tests/access_matrix.py (see its docstring): " + ", ".join(missing)
    )
    known = endpoints | {f"{m} {r.endpoint}" for r, m in routes(app)}
    stale = sorted(k for k in ACCESS if k not in known)
    assert not stale, f"Rows in tests/access_matrix.py for routes that no longer exist: {stale}"


def test_each_identity_reaches_exactly_what_the_matrix_says(url_world, tmp_path):
    mismatches = []
    checked = 0
    for role in ROLES:
        app = open_app(url_world, os.path.join(str(tmp_path), role))
        with app.app_context():
            owner = User.get(User.email == url_world.logins[("a", "owner")][0])
        browser = Browser(app, url_world, role)
        filler = UrlFiller(app, url_world, browser, owner)
        for rule, method in sorted(routes(app), key=_order):
            may = allowed(rule.endpoint, method)
            if may is None:
                continue  # reported by test_every_route_has_a_row
            url, ids = filler.url(rule)
            resp, denied = browser.get(url) if method == "GET" else browser.post(url)
            got = outcome(browser, resp, denied, ids)
            want = "reached" if role in may else REFUSED.get(role, "denied")
            checked += 1
            if got != want:
                mismatches.append(
                    f"{role:9s} {method:4s} {rule.rule} ({rule.endpoint}): "
                    f"{got} ({resp.status_code}), the matrix says {want}"
                )
    assert checked >= len(ROLES) * 100
    assert not mismatches, (
        "Access differs from tests/access_matrix.py (fix the route, or the row if the "
        "decision changed):\n" + "\n".join(mismatches)
    )
