"""Issue 9, defects 1, 7 and 8: the package form saves with eligible types, no redirect leaves
the portal, and a huge number in a query or a path is a page or a 4xx, never a 500."""

import pytest

from portal.models import AuditLog, PackageDefinition
from portal.services import invoicing
from tests.billing.conftest import appt_type
from tests.conftest import login

HUGE = "99999999999999999999999"


# --- 1: the package definition form ------------------------------------------------------


def test_package_definition_with_eligible_types_saves(app, client, world):
    with app.test_request_context():
        t60 = appt_type(world.a.practice)
        t90 = appt_type(world.a.practice, name="90-minute massage")
        foreign = appt_type(world.b.practice)
    login(client, world.a.owner)
    page = client.get("/provider/billing/packages").get_data(as_text=True)
    assert f'value="{t60.id}"' in page  # the types are offered on the form
    r = client.post(
        "/provider/billing/packages",
        data={"name": "5 x 60", "sessions": "5", "price": "425", "types": [str(t60.id)]},
    )
    assert r.status_code == 303, r.get_data(as_text=True)[:300]
    d = PackageDefinition.get(PackageDefinition.name == "5 x 60")
    assert d.practice_id == world.a.practice.id and d.price_cents == 42500
    eligible = [e.appointment_type_id for e in d.eligible]
    assert eligible == [t60.id]
    assert t90.id not in eligible

    # Another practice's appointment type is not a choice: 400, nothing saved.
    r = client.post(
        "/provider/billing/packages",
        data={"name": "Sneaky", "sessions": "5", "price": "425", "types": [str(foreign.id)]},
    )
    assert r.status_code == 400
    assert not PackageDefinition.select().where(PackageDefinition.name == "Sneaky").exists()


# --- 7: redirect targets from a request stay inside the portal ---------------------------


@pytest.fixture
def issued_invoice(app, world):
    with app.test_request_context():
        inv = invoicing.create_invoice(
            practice_id=world.a.practice.id,
            client_id=world.a.c1.id,
            lines=[{"kind": "visit", "description": "60-minute massage", "unit_cents": 10000}],
        )
    return inv


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example/phish",
        "\\\\evil.example/phish",
        "/\t/evil.example/phish",
        "https:/evil.example",
        "javascript:alert(1)",
    ],
)
def test_invoice_send_never_redirects_off_the_portal(client, world, issued_invoice, target):
    login(client, world.a.owner)
    r = client.post(
        f"/provider/billing/invoices/{issued_invoice.id}/send", data={"next_url": target}
    )
    assert r.status_code == 303
    assert r.headers["Location"] == f"/provider/billing/invoices/{issued_invoice.id}"


def test_invoice_send_keeps_a_local_return_path(client, world, issued_invoice):
    login(client, world.a.owner)
    r = client.post(
        f"/provider/billing/invoices/{issued_invoice.id}/send",
        data={"next_url": f"/provider/billing/clients/{world.a.c1.id}"},
    )
    assert r.status_code == 303
    assert r.headers["Location"] == f"/provider/billing/clients/{world.a.c1.id}"


# --- 8: huge numbers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"/provider/settings/audit?page={HUGE}",
        f"/provider/settings/audit?client={HUGE}",
        f"/provider/settings/audit?user={HUGE}",
        f"/provider/settings/audit?page=-{HUGE}",
        f"/provider/billing/?page={HUGE}",
        f"/provider/settings/outbox?page={HUGE}",
        f"/provider/clients/{HUGE}",
        f"/provider/notes/{HUGE}",
        f"/provider/billing/invoices/{HUGE}",
        f"/book/{HUGE}",
    ],
)
def test_huge_numbers_are_a_page_or_4xx(client, world, url):
    login(client, world.a.owner)
    r = client.get(url)
    assert r.status_code < 500, f"{url}: {r.status_code}"
    assert r.status_code in (200, 400, 404)


def test_a_huge_path_id_is_404_like_any_missing_id(client, world):
    login(client, world.a.owner)
    before = AuditLog.select().where(AuditLog.action == "access.denied").count()
    r = client.post(f"/provider/clients/{HUGE}/archive")
    assert r.status_code == 404
    assert AuditLog.select().where(AuditLog.action == "access.denied").count() >= before
