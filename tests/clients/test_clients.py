"""Clients: search (POST only, scoped), create/edit/archive with audit, the client page."""

import datetime as dt
import json

from portal.models import AuditLog, BenefitsVerification, Client, IntakeSubmission
from portal.services import clients as svc
from tests import factories
from tests.clients import helpers as h
from tests.conftest import form_version, login


def _names(rows):
    return {c.last_name for c in rows}


def test_search_by_name_phone_email_and_birth_date(ctx, world):
    p = world.a.practice
    factories.client(
        p,
        first_name="Ada",
        last_name="Lovelace",
        phone="(503) 555-0123",
        email="ada@example.com",
        date_of_birth=dt.date(1985, 12, 10),
    )
    svc.create(
        p,
        dict(
            first_name="Grace",
            last_name="Hopper",
            phone="503.555.0777",
            email="grace@example.com",
            date_of_birth=dt.date(1990, 3, 4),
        ),
    )
    factories.client(world.b.practice, first_name="Ada", last_name="Lovelace")
    with ctx.test_request_context():
        from flask_login import login_user

        login_user(world.a.owner)
        assert _names(svc.search("love")[0]) == {"Lovelace"}
        assert _names(svc.search("ada love")[0]) == {"Lovelace"}
        assert _names(svc.search("hopper grace")[0]) == {"Hopper"}
        assert _names(svc.search("555-0777")[0]) == {"Hopper"}
        assert _names(svc.search("5550777")[0]) == {"Hopper"}
        assert _names(svc.search("grace@example")[0]) == {"Hopper"}
        assert _names(svc.search("03/04/1990")[0]) == {"Hopper"}
        assert _names(svc.search("1990-03-04")[0]) == {"Hopper"}
        assert svc.search("nobody-like-this")[1] == 0


def test_name_searches_of_one_shape_each_find_their_own_words(ctx, world):
    """A name search's SQL is built once per number of words (the words' patterns are its
    values): each later search of that shape finds its own clients, wildcards literally."""
    p = world.a.practice
    for first, last in (("Ada", "Lovelace"), ("Grace", "Hopper"), ("Al", "100%_Real")):
        factories.client(p, first_name=first, last_name=last)
    with ctx.test_request_context():
        from flask_login import login_user

        login_user(world.a.owner)
        assert _names(svc.search("ada")[0]) == {"Lovelace"}
        assert _names(svc.search("grace")[0]) == {"Hopper"}
        assert _names(svc.search("100%_")[0]) == {"100%_Real"}
        assert svc.search("1_0%")[1] == 0
        assert _names(svc.search("ada lovelace")[0]) == {"Lovelace"}
        assert _names(svc.search("hopper, grace")[0]) == {"Hopper"}
        assert svc.search("grace lovelace")[1] == 0
        assert _names(svc.search("grace", include_archived=True)[0]) == {"Hopper"}


def test_search_pages_and_archived(ctx, world):
    p = world.a.practice
    for i in range(30):
        factories.client(p, first_name=f"F{i:02d}", last_name="Zed")
    with ctx.test_request_context():
        from flask_login import login_user

        login_user(world.a.owner)
        rows, total, page, pages = svc.search("zed", page=2)
        assert (total, page, pages, len(rows)) == (30, 2, 2, 5)
        svc.set_archived(Client.get_by_id(rows[0].id), True)
        assert svc.search("zed")[1] == 29
        assert svc.search("zed", include_archived=True)[1] == 30


def test_therapist_sees_only_own_clients_when_the_owner_says_so(app, client, world):
    world.a.practice.therapists_see_all_clients = False
    world.a.practice.save()
    login(client, world.a.therapist)
    page = client.post("/provider/clients/search", data={"q": ""}).get_data(as_text=True)
    assert world.a.c1.last_name in page  # c1 is assigned to the therapist's provider
    assert f'/provider/clients/{world.a.c2.id}"' not in page
    assert f'/provider/clients/{world.a.c1.id}"' in page
    assert client.get(f"/provider/clients/{world.a.c2.id}").status_code == 404
    assert client.get(f"/provider/clients/{world.a.c1.id}").status_code == 200


def test_search_is_a_post_and_htmx_gets_only_the_results(app, client, world):
    login(client, world.a.frontdesk)
    assert client.get("/provider/clients/search").status_code == 405
    r = client.post(
        "/provider/clients/search",
        data={"q": world.a.c1.first_name},
        headers={"HX-Request": "true"},
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and body.lstrip().startswith('<section id="client-results"')
    assert world.a.c1.first_name in body and "<html" not in body
    assert "HX-Request" in r.headers["Vary"]
    # nothing typed into the search ends up in the audit log
    rows = AuditLog.select().where(AuditLog.action == "client.search")
    assert rows.count() == 1 and world.a.c1.first_name not in rows.get().detail


def test_create_client_validates_and_audits(app, client, world):
    login(client, world.a.frontdesk)
    r = client.post(
        "/provider/clients/new",
        data={"first_name": "", "last_name": "X", "postal_code": "9", "therapist": "0"},
    )
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "Enter a first name." in page and "Use a 5 or 9 digit ZIP code." in page
    n = Client.select().count()
    r = client.post(
        "/provider/clients/new",
        data={
            "first_name": "Maria",
            "last_name": "Santos",
            "preferred_name": "Mari",
            "date_of_birth": "1979-05-06",
            "sex": "F",
            "email": "Maria@Example.com",
            "phone": "(503) 555-0199",
            "address1": "1 Main St",
            "city": "Portland",
            "state": "or",
            "postal_code": "97201",
            "emergency_name": "Luis Santos",
            "emergency_relationship": "Husband",
            "emergency_phone": "503-555-0111",
            "therapist": str(world.a.provider.id),
        },
    )
    assert r.status_code == 302
    c = Client.get(Client.last_name == "Santos")
    assert Client.select().count() == n + 1
    assert (c.email, c.state, c.phone_digits, c.therapist_id) == (
        "maria@example.com",
        "OR",
        "5035550199",
        world.a.provider.id,
    )
    assert c.practice_id == world.a.practice.id
    assert AuditLog.get(AuditLog.action == "client.create").client_id == c.id


def test_therapist_of_another_practice_cannot_be_assigned(app, client, world):
    login(client, world.a.owner)
    r = client.post(
        "/provider/clients/new",
        data={"first_name": "A", "last_name": "B", "therapist": str(world.b.provider.id)},
    )
    assert r.status_code == 400  # not a valid choice


def test_edit_and_archive_audit_field_names_only(app, client, world):
    login(client, world.a.frontdesk)
    c = world.a.c1
    url = f"/provider/clients/{c.id}/edit"
    r = client.post(
        url,
        data={
            "version": form_version(client, url),
            "first_name": c.first_name,
            "last_name": "Newname",
            "phone": "503 555 0000",
            "therapist": str(c.therapist_id),
        },
    )
    assert r.status_code == 302
    row = AuditLog.get(AuditLog.action == "client.update")
    assert set(row.detail.split(",")) >= {"last_name", "phone"}
    assert "Newname" not in row.detail
    assert client.post(f"/provider/clients/{c.id}/archive").status_code == 302
    assert not Client.get_by_id(c.id).active
    assert AuditLog.select().where(AuditLog.action == "client.archive").count() == 1


def test_client_page_summary_warnings_and_flags(app, client, world):
    pol = h.policy(world.a.practice, world.a.c1, h.payer(world.a.practice, referral_required=True))
    BenefitsVerification.create(
        practice=world.a.practice,
        client=world.a.c1,
        policy=pol,
        verified_on=dt.date(dt.date.today().year, 1, 3),  # this year's (no year is shown)
        copay_cents=4000,
        visits_per_year=20,
        visits_used=8,
        referral_required=True,
    )
    IntakeSubmission.create(
        practice=world.a.practice,
        client=world.a.c1,
        form_title="Health history",
        answers_json="[]",
        flags_json=json.dumps(["Contraindication: blood clots"]),
        signature_name="x",
        signed_at=dt.datetime(2026, 11, 1),
        content_sha256="0",
    )
    login(client, world.a.therapist)
    page = client.get(f"/provider/clients/{world.a.c1.id}").get_data(as_text=True)
    assert "Verified Jan 3: $40 copay, 12 of 20 visits left, referral needed" in page
    assert "requires a referral; none is on file" in page
    assert "Contraindication: blood clots" in page
    assert 'id="notes"' in page
    assert (
        AuditLog.select()
        .where((AuditLog.action == "client.view") & (AuditLog.client_id == world.a.c1.id))
        .count()
        == 1
    )
    client.post("/logout")
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/clients/{world.a.c1.id}").get_data(as_text=True)
    assert "Verified Jan 3" in page
    assert "Contraindication: blood clots" not in page  # clinical: not for the front desk
    assert 'id="notes"' not in page and "client_notes" not in page


def test_sections_of_other_areas_load_by_htmx_or_say_coming_soon(app, client, world):
    login(client, world.a.owner)
    page = client.get(f"/provider/clients/{world.a.c1.id}").get_data(as_text=True)
    for key, endpoint in (
        ("appointments", "provider.client_appointments"),
        ("billing", "provider.client_billing"),
        ("documents", "provider.client_documents"),
        ("messages", "provider.client_messages"),
    ):
        assert f'id="{key}"' in page
        if endpoint in app.view_functions:
            assert f'id="{key}-section" hx-get=' in page
        else:
            section = page.split(f'id="{key}"', 1)[1].split("</section>", 1)[0]
            assert "Coming soon." in section


def test_home_panel_search_works_without_javascript(app, client, world):
    login(client, world.a.frontdesk)
    home = client.get("/provider/").get_data(as_text=True)
    assert 'id="home-client-q"' in home and 'action="/provider/clients/search"' in home
    # what to type is said under the field, not in a placeholder (cut to "Name, phone,
    # e-mail or bir" in the tablet's three-column home, and gone once typing starts)
    field = home.split('id="home-client-q"', 1)[1].split(">", 1)[0]
    assert "placeholder" not in field and 'aria-describedby="home-client-q-help"' in field
    assert '<p class="help" id="home-client-q-help">Name, phone, e-mail or date of birth.' in home
    r = client.post("/provider/clients/search", data={"q": world.a.c2.first_name})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" in page and world.a.c2.first_name in page
    assert world.a.c1.first_name + "<" not in page


def test_client_page_says_each_coverage_problem_once(app, client, world):
    pol = h.policy(world.a.practice, world.a.c1, h.payer(world.a.practice, referral_required=True))
    BenefitsVerification.create(
        practice=world.a.practice, client=world.a.c1, policy=pol, verified_on=dt.date(2026, 1, 3)
    )
    from portal.models import PriorAuthorization, Referral

    Referral.create(
        practice=world.a.practice,
        client=world.a.c1,
        policy=pol,
        referring_name="Dr Lane",
        referral_date=dt.date(2026, 1, 1),
        visits_allowed=3,
        visits_used_before=2,
    )
    PriorAuthorization.create(
        practice=world.a.practice,
        client=world.a.c1,
        number="PA-9",
        visits_allowed=2,
        start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2025, 2, 1),
    )
    login(client, world.a.owner)
    page = client.get(f"/provider/clients/{world.a.c1.id}").get_data(as_text=True)
    alerts = page.split('<div class="alerts">', 1)[1].split("</div>", 1)[0]
    assert alerts.count("Coverage:") == 2
    assert "Last visit on the referral: 1 visit left of 3." in alerts
    assert "Authorization PA-9: expired Feb 1, 2025." in alerts


def test_client_of_an_inactive_therapist_can_still_be_saved(app, client, world):
    world.a.provider.active = False
    world.a.provider.save()
    login(client, world.a.frontdesk)
    c = world.a.c1
    url = f"/provider/clients/{c.id}/edit"
    data = {"first_name": "Renamed", "last_name": c.last_name, "therapist": str(c.therapist_id)}
    r = client.post(url, data=dict(data, version=form_version(client, url)))
    assert r.status_code == 302 and Client.get_by_id(c.id).first_name == "Renamed"
