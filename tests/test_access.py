"""Who may open what: logged out -> login; a client -> 404 on the dashboard; only the owner
opens owner settings. The URL map is enumerated at run time so later pages are covered."""

import pytest

from portal.models import AuditLog
from tests.conftest import login
from tests.routes import rules

# Pages under /provider/settings/ that every staff member may open (not owner-only).
STAFF_VISIBLE_SETTINGS = {"provider.practice_logo"}


def _is_login_redirect(resp):
    return resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_logged_out_every_dashboard_and_portal_page_redirects_to_login(app, client):
    checked = 0
    for prefix in ("/provider", "/portal", "/account/password", "/account/totp"):
        for rule, url in rules(app, "GET", prefix):
            r = client.get(url)
            assert _is_login_redirect(r), f"{rule.rule} answered {r.status_code} when logged out"
            checked += 1
    assert checked >= 10


def test_logged_out_redirect_keeps_the_page_to_return_to(app, client, world):
    r = client.get("/provider/settings/practice")
    assert r.headers["Location"] == "/login?next=/provider/settings/practice"
    r = client.post(
        r.headers["Location"],
        data={"email": world.a.owner.email, "password": "correct horse battery staple 42"},
    )
    assert r.headers["Location"] == "/provider/settings/practice"


def test_next_parameter_cannot_send_anyone_elsewhere(client, world):
    for bad in ("https://evil.example.com/", "//evil.example.com/x", "/portal/", "javascript:x"):
        client.post("/logout")
        r = client.post(
            "/login?next=" + bad,
            data={"email": world.a.owner.email, "password": "correct horse battery staple 42"},
        )
        assert r.headers["Location"] == "/provider/", bad


def test_htmx_request_logged_out_gets_hx_redirect(client):
    r = client.get("/provider/", headers={"HX-Request": "true"})
    assert r.status_code == 401
    assert r.headers["HX-Redirect"].startswith("/login")


def test_client_gets_404_on_every_provider_page(app, client, world):
    login(client, world.a.cu1)
    before = AuditLog.select().where(AuditLog.action == "access.denied").count()
    pages = rules(app, "GET", "/provider")
    for rule, url in pages:
        r = client.get(url)
        assert r.status_code == 404, f"a client opened {rule.rule}: {r.status_code}"
    after = AuditLog.select().where(AuditLog.action == "access.denied").count()
    assert after - before == len(pages)
    row = AuditLog.select().where(AuditLog.action == "access.denied").order_by(AuditLog.id).get()
    assert row.user_id == world.a.cu1.id and row.practice_id == world.a.practice.id


def test_staff_get_404_on_the_client_portal(app, client, world):
    login(client, world.a.therapist)
    for rule, url in rules(app, "GET", "/portal"):
        assert client.get(url).status_code == 404, rule.rule


@pytest.mark.parametrize("role", ["therapist", "frontdesk"])
def test_therapist_and_front_desk_get_404_on_every_owner_settings_page(app, client, world, role):
    user = getattr(world.a, role)
    login(client, user)
    pages = [
        (rule, url)
        for rule, url in rules(app, "GET", "/provider/settings/")
        if rule.endpoint not in STAFF_VISIBLE_SETTINGS
    ]
    assert len(pages) >= 6
    for rule, url in pages:
        before = AuditLog.select().where(AuditLog.action == "access.denied").count()
        r = client.get(url)
        assert r.status_code == 404, f"{role} opened {rule.rule}: {r.status_code}"
        denied = (
            AuditLog.select()
            .where(AuditLog.action == "access.denied")
            .order_by(AuditLog.id.desc())
            .first()
        )
        assert AuditLog.select().where(AuditLog.action == "access.denied").count() == before + 1
        assert denied.user_id == user.id and rule.endpoint in denied.detail
    # Their writes are refused too.
    for rule, url in rules(app, "POST", "/provider/settings/"):
        assert client.post(url, data={}).status_code == 404, rule.rule


def test_owner_opens_every_settings_page(app, client, world):
    login(client, world.a.owner)
    for rule, url in rules(app, "GET", "/provider/settings/"):
        if rule.arguments or rule.endpoint in STAFF_VISIBLE_SETTINGS:
            continue
        r = client.get(url, follow_redirects=True)
        assert r.status_code == 200, f"{rule.rule}: {r.status_code}"


def test_owner_of_another_practice_gets_404_on_foreign_ids(client, world):
    login(client, world.b.owner)
    r = client.get(f"/provider/settings/providers/{world.a.provider.id}")
    assert r.status_code == 404
    r = client.post(f"/provider/settings/staff/{world.a.therapist.id}/toggle")
    assert r.status_code == 404
    from portal.models import User

    assert User.get_by_id(world.a.therapist.id).active
    row = (
        AuditLog.select()
        .where(AuditLog.practice_id == world.b.practice.id)
        .order_by(AuditLog.id.desc())
        .first()
    )
    assert row.action == "access.denied" and row.object_type == "user"
    assert row.object_id == world.a.therapist.id and row.user_id == world.b.owner.id


def test_disabled_user_cannot_log_in(client, world):
    from portal.models import User

    User.update(active=False).where(User.id == world.a.therapist.id).execute()
    r = login(client, world.a.therapist)
    assert r.status_code == 401
