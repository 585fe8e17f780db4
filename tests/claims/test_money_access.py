"""Who may open the claims-money pages: every route tried logged out (login), as a client
(404), as another practice's owner with this practice's ids (404 and an audit row, no
data), and by role (the desk's pages refuse therapists; reports are the owner's)."""

import io

import pytest

from portal.models import AuditLog, ClaimBatch, Remittance, RemittanceClaim
from portal.services.claims import batches, remittances
from tests.claims import factories as cf
from tests.claims.test_remittances import fixture
from tests.conftest import login


@pytest.fixture
def ids(app, world):
    """Practice a's claim, 837P file, remittance and unmatched line."""
    with app.test_request_context():
        a = cf.sendable(world.a)
        claim = cf.claim(a.practice, a.c1, a.provider)
        (batch,) = batches.build(a.practice.id)
        result = remittances.import_835(a.practice.id, fixture("835_unknown_claim.txt"))
    return {
        "claim": claim.id,
        "batch": batch.id,
        "remit": result.remittances[0].id,
        "line": result.unmatched[0].id,
        "pcn": claim.patient_control_number,
    }


def routes(i):
    """(method, url, data, who may, names an object of practice a): every route."""
    desk, owner, readers = {"owner", "frontdesk"}, {"owner"}, {"owner", "frontdesk", "therapist"}
    return [
        ("GET", "/provider/claims/batches", None, desk, False),
        ("GET", "/provider/claims/batches/new", None, desk, False),
        ("POST", "/provider/claims/batches/new", {"claim": "1"}, desk, False),
        ("GET", f"/provider/claims/batches/{i['batch']}", None, desk, True),
        ("GET", f"/provider/claims/batches/{i['batch']}/file", None, desk, True),
        ("POST", f"/provider/claims/batches/{i['batch']}/send", {}, desk, True),
        ("GET", "/provider/claims/remittances", None, desk, False),
        ("POST", "/provider/claims/remittances", {}, desk, False),
        ("POST", "/provider/claims/remittances/example", {}, desk, False),
        ("GET", f"/provider/claims/remittances/{i['remit']}", None, desk, True),
        ("GET", f"/provider/claims/remittances/{i['remit']}/file", None, desk, True),
        (
            "POST",
            f"/provider/claims/remittances/lines/{i['line']}/match",
            {"pcn": i["pcn"]},
            desk,
            True,
        ),
        (
            "POST",
            f"/provider/claims/remittances/lines/{i['line']}/dismiss",
            {"note": "x"},
            desk,
            True,
        ),
        ("GET", f"/provider/claims/{i['claim']}/payments", None, readers, True),
        ("POST", f"/provider/claims/{i['claim']}/payments", {}, desk, True),
        (
            "POST",
            f"/provider/claims/{i['claim']}/write-off",
            {"amount": "1", "reason": "x"},
            desk,
            True,
        ),
        ("GET", "/provider/claims/worklist", None, desk, False),
        ("POST", "/provider/claims/collect", {}, desk, False),
        ("GET", "/provider/reports", None, owner, False),
        ("GET", "/provider/reports/revenue-by-month.csv", None, owner, False),
    ]


def _call(client, method, url, data):
    if method == "GET":
        return client.get(url)
    return client.post(url, data=data)


MODULES = ("batches", "remittances", "payments", "worklist", "reports")


def test_every_route_is_listed_here(app, ids):
    """Each route of the claims-money view modules (endpoint and method) is tried below."""
    ours = set()
    for rule in app.url_map.iter_rules():
        module = app.view_functions[rule.endpoint].__module__
        if module.rsplit(".", 1)[-1] in MODULES and ".claims." in module:
            ours |= {(rule.endpoint, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    adapter = app.url_map.bind("localhost")
    listed = {
        (adapter.match(url.split("?")[0], method=method)[0], method)
        for method, url, *_ in routes(ids)
    }
    assert len(ours) == 20 and listed == ours


def test_logged_out_goes_to_login(client, ids):
    for method, url, data, *_ in routes(ids):
        r = _call(client, method, url, data)
        assert r.status_code == 302 and "/login" in r.headers["Location"], (method, url)


def test_a_client_gets_404(client, world, ids):
    login(client, world.a.cu1)
    for method, url, data, *_ in routes(ids):
        assert _call(client, method, url, data).status_code == 404, (method, url)


def test_another_practice_gets_404_and_an_audit_row(client, world, ids):
    login(client, world.b.owner)
    before = AuditLog.select().where(AuditLog.action == "access.denied").count()
    for method, url, data, _, obj in routes(ids):
        r = _call(client, method, url, data)
        if obj:
            assert r.status_code == 404, (method, url, r.status_code)
            assert ids["pcn"] not in r.get_data(as_text=True)
    denied = AuditLog.select().where(AuditLog.action == "access.denied").count() - before
    assert denied >= 9
    # Practice b's own pages show nothing of practice a's.
    for url in ("/provider/claims/batches", "/provider/claims/remittances",
                "/provider/claims/worklist", "/provider/reports"):  # fmt: skip
        body = client.get(url).get_data(as_text=True)
        assert "000000001" not in body and "CHK0049911" not in body and "CLM9999999" not in body
    assert ClaimBatch.get_by_id(ids["batch"]).status == "built"
    assert RemittanceClaim.get_by_id(ids["line"]).outcome == "unmatched"


@pytest.mark.parametrize("role", ["therapist", "frontdesk", "owner"])
def test_roles(client, world, ids, role):
    login(client, getattr(world.a, role))
    for method, url, data, who, _ in routes(ids):
        if method == "POST" and role in who:
            continue  # what the allowed roles' POSTs do is tested with the pages
        r = _call(client, method, url, data)
        if role in who:
            assert r.status_code == 200, (role, url, r.status_code)
        else:
            assert r.status_code == 404, (role, method, url, r.status_code)


def test_uploads_are_practice_scoped(client, world, ids):
    """Practice b uploading the same file posts in practice b only (its own unmatched line)."""
    login(client, world.b.owner)
    r = client.post(
        "/provider/claims/remittances",
        data={"file": (io.BytesIO(fixture("835_unknown_claim.txt")), "era.835")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    assert Remittance.select().where(Remittance.practice == world.b.practice.id).count() == 1
    assert Remittance.select().where(Remittance.practice == world.a.practice.id).count() == 1
