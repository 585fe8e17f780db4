"""Every route of clients/insurance/intake: logged out, another practice's ids, the wrong
role, another client's ids, and CSRF."""

import datetime as dt

import pytest

from portal.models import (
    AuditLog,
    CardImage,
    IntakeSubmission,
    PayerFee,
    PriorAuthorization,
    Referral,
)
from portal.services import uploads
from tests.clients import helpers as h
from tests.conftest import login


def _objects(app, side):
    """One of everything for one practice side (a or b); returns ids by name."""
    p = side.practice
    payer = h.payer(p)
    pol = h.policy(p, side.c1, payer)
    with app.test_request_context():
        info = uploads.store(h.png_bytes())
    card = CardImage.create(
        practice=p,
        client=side.c1,
        policy=pol,
        side="front",
        uploaded_at=dt.datetime(2026, 1, 1),
        **info,
    )
    fee = PayerFee.create(practice=p, payer=payer, cpt_code="97124", fee_cents=100)
    ref = Referral.create(
        practice=p, client=side.c1, referring_name="Dr X", referral_date=dt.date(2026, 1, 1)
    )
    auth = PriorAuthorization.create(
        practice=p,
        client=side.c1,
        number="A1",
        visits_allowed=3,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 6, 1),
    )
    form = h.intake_form(p)
    sub = IntakeSubmission.create(
        practice=p,
        client=side.c1,
        form=form,
        form_title="H",
        answers_json="[]",
        signature_name="x",
        signed_at=dt.datetime(2026, 1, 1),
        content_sha256="0",
    )
    return dict(
        client=side.c1.id,
        payer=payer.id,
        policy=pol.id,
        card=card.id,
        fee=fee.id,
        referral=ref.id,
        auth=auth.id,
        form=form.id,
        field=form.fields[0].id,
        sub=sub.id,
    )


# (method, url template, roles allowed among owner/therapist/frontdesk)
ALL = ("owner", "therapist", "frontdesk")
PROVIDER_ROUTES = [
    ("GET", "/provider/clients/{client}", ALL),
    ("GET", "/provider/clients/{client}/edit", ALL),
    ("POST", "/provider/clients/{client}/edit", ALL),
    ("POST", "/provider/clients/{client}/archive", ALL),
    ("GET", "/provider/clients/{client}/policies/new", ALL),
    ("POST", "/provider/clients/{client}/policies/new", ALL),
    ("GET", "/provider/policies/{policy}", ALL),
    ("GET", "/provider/policies/{policy}/edit", ALL),
    ("POST", "/provider/policies/{policy}/edit", ALL),
    ("POST", "/provider/policies/{policy}/cards", ALL),
    ("GET", "/provider/cards/{card}", ALL),
    ("POST", "/provider/cards/{card}/attach", ALL),
    ("GET", "/provider/policies/{policy}/verifications/new", ALL),
    ("POST", "/provider/policies/{policy}/verifications/new", ALL),
    ("GET", "/provider/clients/{client}/referrals/new", ALL),
    ("POST", "/provider/clients/{client}/referrals/new", ALL),
    ("GET", "/provider/referrals/{referral}/edit", ALL),
    ("POST", "/provider/referrals/{referral}/edit", ALL),
    ("GET", "/provider/clients/{client}/authorizations/new", ALL),
    ("POST", "/provider/clients/{client}/authorizations/new", ALL),
    ("GET", "/provider/authorizations/{auth}/edit", ALL),
    ("POST", "/provider/authorizations/{auth}/edit", ALL),
    ("POST", "/provider/clients/{client}/tablet", ALL),
    ("GET", "/provider/intake/submissions/{sub}", ("owner", "therapist")),
    ("GET", "/provider/intake/submissions/{sub}/pdf", ("owner", "therapist")),
    ("GET", "/provider/intake/forms/{form}", ("owner",)),
    ("POST", "/provider/intake/forms/{form}", ("owner",)),
    ("POST", "/provider/intake/forms/{form}/fields/new", ("owner",)),
    ("GET", "/provider/intake/fields/{field}/edit", ("owner",)),
    ("POST", "/provider/intake/fields/{field}/edit", ("owner",)),
    ("GET", "/provider/payers/{payer}", ("owner", "frontdesk")),
    ("POST", "/provider/payers/{payer}", ("owner", "frontdesk")),
    ("POST", "/provider/payers/{payer}/fees", ("owner", "frontdesk")),
    ("POST", "/provider/payers/{payer}/fees/{fee}/delete", ("owner", "frontdesk")),
]
PROVIDER_PLAIN = [
    ("GET", "/provider/clients", ALL),
    ("POST", "/provider/clients/search", ALL),
    ("GET", "/provider/clients/new", ALL),
    ("POST", "/provider/clients/new", ALL),
    ("GET", "/provider/intake/forms", ("owner",)),
    ("GET", "/provider/intake/forms/new", ("owner",)),
    ("POST", "/provider/intake/forms/new", ("owner",)),
    ("POST", "/provider/intake/forms/default", ("owner",)),
    ("GET", "/provider/payers", ("owner", "frontdesk")),
    ("GET", "/provider/payers/new", ("owner", "frontdesk")),
    ("POST", "/provider/payers/new", ("owner", "frontdesk")),
    ("GET", "/provider/tablet", ALL),
    ("GET", "/provider/tablet/return", ALL),
    ("POST", "/provider/tablet/return", ALL),
]
CLIENT_ROUTES = [
    ("GET", "/portal/insurance/cards/{card}"),
    ("GET", "/portal/intake/submissions/{sub}/pdf"),
]
CLIENT_PLAIN = [
    ("GET", "/portal/insurance"),
    ("POST", "/portal/insurance/cards"),
    ("GET", "/portal/intake"),
    ("GET", "/portal/intake/{form}"),
    ("POST", "/portal/intake/{form}"),
]


@pytest.fixture
def objs(app, world):
    return {"a": _objects(app, world.a), "b": _objects(app, world.b)}


def _call(client, method, url, **kw):
    return client.get(url) if method == "GET" else client.post(url, data={}, **kw)


def test_logged_out_goes_to_login(app, client, objs):
    routes = (
        PROVIDER_ROUTES + PROVIDER_PLAIN + [(m, u, ()) for m, u in CLIENT_ROUTES + CLIENT_PLAIN]
    )
    for method, url, _roles in routes:
        r = _call(client, method, url.format(**objs["a"]))
        assert r.status_code == 302 and "/login" in r.headers["Location"], (method, url)


@pytest.mark.parametrize("role", ["owner", "therapist", "frontdesk"])
def test_another_practices_ids_are_404_and_audited(app, client, world, objs, role):
    login(client, getattr(world.a, role))
    # The prober's practice gets one row per refusal (the owning practice may get one too).
    own = AuditLog.select().where(
        (AuditLog.action == "access.denied") & (AuditLog.practice_id == world.a.practice.id)
    )
    for method, url, _roles in PROVIDER_ROUTES:
        before = own.count()
        r = _call(client, method, url.format(**objs["b"]))
        assert r.status_code == 404, (role, method, url, r.status_code)
        assert own.count() == before + 1, (role, method, url)


@pytest.mark.parametrize("role", ["owner", "therapist", "frontdesk"])
def test_wrong_role_is_404_and_right_role_is_not(app, client, world, objs, role):
    login(client, getattr(world.a, role))
    for method, url, roles in PROVIDER_ROUTES + PROVIDER_PLAIN:
        if "tablet" in url:
            continue
        r = _call(client, method, url.format(**objs["a"]))
        if role in roles:  # 409: an edit form posted without the version it was opened on
            assert r.status_code in (200, 302, 400, 409), (role, method, url, r.status_code)
        else:
            assert r.status_code == 404, (role, method, url, r.status_code)


def test_clients_cannot_open_provider_routes(app, client, world, objs):
    login(client, world.a.cu1)
    for method, url, _roles in PROVIDER_ROUTES + PROVIDER_PLAIN:
        assert _call(client, method, url.format(**objs["a"])).status_code == 404, url


def test_staff_cannot_open_client_routes(app, client, world, objs):
    login(client, world.a.owner)
    for method, url in CLIENT_ROUTES + CLIENT_PLAIN:
        assert _call(client, method, url.format(**objs["a"])).status_code == 404, url


def test_another_clients_and_practices_ids_in_the_portal(app, client, world, objs):
    login(client, world.a.cu2)  # objects of side a belong to c1
    for method, url in CLIENT_ROUTES:
        assert _call(client, method, url.format(**objs["a"])).status_code == 404, url
    assert client.get(f"/portal/intake/{objs['b']['form']}").status_code == 404
    assert (
        client.post(
            "/portal/insurance/cards", data={"policy": str(objs["a"]["policy"]), "side": "front"}
        ).status_code
        == 400
    )
    client.post("/logout")
    login(client, world.a.cu1)
    for method, url in CLIENT_ROUTES:
        assert _call(client, method, url.format(**objs["a"])).status_code == 200, url
        assert _call(client, method, url.format(**objs["b"])).status_code == 404, url


def test_every_post_needs_csrf(app, client, world, objs):
    login(client, world.a.owner)
    for method, url, _roles in PROVIDER_ROUTES + PROVIDER_PLAIN:
        if method == "POST":
            r = client.post(url.format(**objs["a"]), data={}, csrf=False)
            assert r.status_code == 400, url
    client.post("/logout")
    login(client, world.a.cu1)
    for method, url in CLIENT_PLAIN:
        if method == "POST":
            assert client.post(url.format(**objs["a"]), data={}, csrf=False).status_code == 400


def test_client_uploads_a_card_for_their_policy_or_new_insurance(app, client, world, objs):
    import io

    login(client, world.a.cu1)
    r = client.post(
        "/portal/insurance/cards",
        data={
            "policy": str(objs["a"]["policy"]),
            "side": "back",
            "file": (io.BytesIO(h.jpeg_bytes(exif=h.gps_exif())), "IMG_0001.JPG"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    card = CardImage.get(CardImage.side == "back")
    assert (card.client_id, card.policy_id, card.uploaded_by_id) == (
        world.a.c1.id,
        objs["a"]["policy"],
        world.a.cu1.id,
    )
    r = client.post(
        "/portal/insurance/cards",
        data={"policy": "0", "side": "front", "file": (io.BytesIO(b"<svg/>"), "x.jpg")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and "not one of those" in r.get_data(as_text=True)
    r = client.post(
        "/portal/insurance/cards",
        data={"policy": "0", "side": "front", "file": (io.BytesIO(h.png_bytes()), "x.png")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    loose = CardImage.get(CardImage.policy.is_null())
    client.post("/logout")
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/clients/{world.a.c1.id}").get_data(as_text=True)
    assert "not yet attached" in page
    r = client.post(f"/provider/cards/{loose.id}/attach", data={"policy": str(objs["a"]["policy"])})
    assert r.status_code == 302
    assert CardImage.get_by_id(loose.id).policy_id == objs["a"]["policy"]
    # a policy of another client cannot take the card
    other = h.policy(world.a.practice, world.a.c2)
    loose2 = CardImage.create(
        practice=world.a.practice,
        client=world.a.c1,
        side="front",
        stored_name="0" * 32 + ".png",
        content_type="image/png",
        size_bytes=1,
        sha256="0",
        uploaded_at=dt.datetime(2026, 1, 1),
    )
    r = client.post(f"/provider/cards/{loose2.id}/attach", data={"policy": str(other.id)})
    assert CardImage.get_by_id(loose2.id).policy_id is None


def test_therapist_limited_to_own_clients_cannot_open_their_insurance(app, client, world, objs):
    world.a.practice.therapists_see_all_clients = False
    world.a.practice.save()
    # objects of side a belong to c1, assigned to world.a.provider; provider2's therapist:
    from tests import factories

    with app.test_request_context():
        other = factories.user(world.a.practice, "therapist", provider=world.a.provider2)
    login(client, other)
    for method, url, roles in PROVIDER_ROUTES:
        client_data = any(
            k in url for k in ("{client}", "{policy}", "{card}", "{referral}", "{auth}", "{sub}")
        )
        if client_data and "therapist" in roles:
            assert _call(client, method, url.format(**objs["a"])).status_code == 404, url
    client.post("/logout")
    login(client, world.a.therapist)
    assert client.get(f"/provider/policies/{objs['a']['policy']}").status_code == 200
    assert client.get(f"/provider/cards/{objs['a']['card']}").status_code == 200
