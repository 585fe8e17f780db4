"""Every POST route refuses a request without a CSRF token (400). The URL map is read at run
time: a POST route added later without protection makes this fail. The one exemption is the
webhooks blueprint (Stripe signs its requests instead)."""

from portal import csrf
from tests.conftest import login
from tests.routes import rules

EXEMPT_BLUEPRINTS = {"webhooks"}


def _post_routes(app):
    out = []
    for rule, url in rules(app, "POST"):
        blueprint = rule.endpoint.rpartition(".")[0]
        if blueprint in EXEMPT_BLUEPRINTS:
            continue
        out.append((rule, url))
    return out


def test_other_writing_methods_are_protected_too(app, client):
    for method in ("PUT", "PATCH", "DELETE"):
        for rule, url in rules(app, method):
            if rule.endpoint.rpartition(".")[0] in EXEMPT_BLUEPRINTS:
                continue
            r = client.open(url, method=method, data={"x": "1"})
            assert r.status_code == 400, f"{method} {rule.rule} without CSRF: {r.status_code}"
    assert set(app.config.get("WTF_CSRF_METHODS", ["POST", "PUT", "PATCH", "DELETE"])) >= {
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
    }


def test_only_the_webhooks_blueprint_is_exempt(app):
    assert {getattr(b, "name", b) for b in csrf._exempt_blueprints} == EXEMPT_BLUEPRINTS
    assert not csrf._exempt_views, f"CSRF-exempt views: {csrf._exempt_views}"
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    # Flask-WTF's own hook is switched off (WTF_CSRF_CHECK_DEFAULT) only because the
    # portal's runs the same csrf.protect() for the writing methods (portal._csrf_on_writes).
    assert app.extensions["csrf_on_writes"] is True
    assert "_csrf_protect" in [f.__name__ for f in app.before_request_funcs[None]]


def test_every_post_route_without_token_answers_400_logged_out(app, client):
    routes = _post_routes(app)
    assert len(routes) >= 10
    for rule, url in routes:
        r = client.post(url, data={"x": "1"}, csrf=False)
        assert r.status_code == 400, f"POST {rule.rule} without CSRF answered {r.status_code}"
        assert "security token" in r.get_data(as_text=True)


def test_every_post_route_without_token_answers_400_as_owner(app, client, world):
    login(client, world.a.owner)
    for rule, url in _post_routes(app):
        r = client.post(url, data={"x": "1"}, csrf=False)
        assert r.status_code == 400, f"POST {rule.rule} without CSRF answered {r.status_code}"
    # ... and the owner is still logged in: nothing above changed state.
    assert client.get("/provider/").status_code == 200


def test_a_wrong_token_is_refused_too(client, world):
    login(client, world.a.owner)
    r = client.post(
        "/provider/settings/staff",
        data={"csrf_token": "forged", "name": "X", "email": "x@example.com", "role": "frontdesk"},
        headers={"X-CSRFToken": "forged"},
        csrf=False,
    )
    assert r.status_code == 400


def test_htmx_sends_the_token_in_a_header(client, world):
    """HTMX posts carry the token from hx-headers on <body>; the form field is not needed."""
    login(client, world.a.owner)
    page = client.get("/provider/").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    assert '<meta name="csrf-token"' in page
    token = client.csrf_token()
    r = client.post("/logout", headers={"X-CSRFToken": token, "HX-Request": "true"}, csrf=False)
    assert r.status_code == 302
    assert client.get("/provider/").status_code == 302
