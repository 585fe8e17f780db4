"""Paper claims marked as mailed, through the routes (real SQLite file; the print job's
tasks run in-process): a finished print job's claims still ready become submitted at once,
leave the ready lists (paper and 837P), enter the aging table and take a hand posting; a
claim edited meanwhile is named and left; one ready claim from its own page; and who may."""

import re

import pytest

from portal.models import AuditLog, Claim, ClaimEvent, Job
from portal.services.claims import batches, life
from tests import factories
from tests.claims import factories as cf
from tests.conftest import login


@pytest.fixture
def paper(app, world):
    with app.test_request_context():
        a, b = world.a, world.b
        return {
            "a1": cf.paper_claim(a.practice, a.c1, a.provider),
            "a2": cf.paper_claim(a.practice, a.c2, a.provider, n_lines=3),
            "a3": cf.paper_claim(a.practice, a.c1, a.provider),
            "b1": cf.paper_claim(b.practice, b.c1, b.provider),
        }


def _body(resp):
    return resp.get_data(as_text=True)


def _print(client, claims):
    resp = client.post(
        "/provider/claims/paper/batch",
        data={"claim_id": [str(c.id) for c in claims], "mode": "full"},
    )
    assert resp.status_code == 303, resp.status_code
    job = Job.get_by_id(int(resp.headers["Location"].rsplit("/", 1)[1]))
    assert job.status == "done"
    return job


def _fresh(claim):
    return Claim.get_by_id(claim.id)


def _paid_in_full(claim):
    return {f"paid-{line.id}": f"{line.charge_cents / 100:.2f}" for line in claim.lines}


def test_a_print_jobs_claims_are_marked_mailed_at_once(app, client, world, paper):
    a1, a2, a3 = paper["a1"], paper["a2"], paper["a3"]
    login(client, world.a.frontdesk)
    # not sent yet: the payer's answer cannot be posted by hand
    refused = client.post(f"/provider/claims/{a1.id}/payments", data=_paid_in_full(a1))
    assert refused.status_code == 409 and "has not been sent to the payer yet" in _body(refused)
    job = _print(client, [a1, a2])
    page = _body(client.get(f"/provider/jobs/{job.id}"))
    assert "Mark these 2 claims as mailed" in page
    assert f'action="/provider/jobs/{job.id}/mailed"' in page
    assert 'href="/provider/claims/paper"' in page and 'href="/provider/claims"' in page
    # the page polls its progress fragment: the finished job's fragment brings the next step
    fragment = _body(client.get(f"/provider/jobs/{job.id}", headers={"HX-Request": "true"}))
    assert "<html" not in fragment and "Mark these 2 claims as mailed" in fragment
    assert 'name="csrf_token"' in fragment

    resp = client.post(f"/provider/jobs/{job.id}/mailed")
    assert resp.status_code == 303 and resp.headers["Location"] == f"/provider/jobs/{job.id}"
    page = _body(client.get(resp.headers["Location"]))
    assert "2 claims marked as mailed: they are submitted now." in page
    assert "No claim of this batch is ready to send any more" in page
    assert "Mark these" not in page
    for c in (a1, a2):
        c = _fresh(c)
        assert c.status == "submitted" and c.submitted_at is not None and c.batch_id is None
        event = ClaimEvent.select().where(ClaimEvent.claim == c.id).order_by(ClaimEvent.id.desc())
        event = event.first()
        assert (event.from_status, event.to_status, event.reason) == (
            "ready",
            "submitted",
            "Mailed on paper",
        )
        assert event.user_id == world.a.frontdesk.id and event.created_at is not None
        history = _body(client.get(f"/provider/claims/{c.id}"))
        assert "Mailed on paper" in history
    assert _fresh(a3).status == "ready"  # not in the batch: untouched
    assert (
        AuditLog.select()
        .where((AuditLog.action == "claim.mailed") & (AuditLog.object_id == job.id))
        .count()
        == 1
    )

    # out of the ready lists: the paper page's and the 837P builder's
    paper_page = _body(client.get("/provider/claims/paper"))
    assert a1.patient_control_number not in paper_page
    assert a2.patient_control_number not in paper_page
    assert a3.patient_control_number in paper_page
    sendable = {c.id for _, claims in batches.ready_by_payer(world.a.practice.id) for c in claims}
    assert sendable == {a3.id}
    # in the aging table: the payer owes them now
    aging = _body(client.get("/provider/claims/aging"))
    total = (_fresh(a1).total_cents + _fresh(a2).total_cents) / 100
    footer = re.search(r"<tfoot>(.*?)</tfoot>", aging, re.S).group(1)
    assert f"${total:,.2f}" in footer  # every receivable is one of the two mailed
    owed = _body(client.get("/provider/claims?status=owed"))
    assert a1.patient_control_number in owed and a3.patient_control_number not in owed
    # the payer's EOB posted by hand, without a payer claim number
    resp = client.post(f"/provider/claims/{a1.id}/payments", data=_paid_in_full(_fresh(a1)))
    assert resp.status_code == 302
    assert _fresh(a1).status == "paid"

    # the same POST again changes nothing
    before = ClaimEvent.select().count()
    again = client.post(f"/provider/jobs/{job.id}/mailed")
    assert again.status_code == 303
    assert "nothing was marked" in _body(client.get(again.headers["Location"]))
    assert ClaimEvent.select().count() == before
    assert _fresh(a1).status == "paid" and _fresh(a2).status == "submitted"


def test_a_claim_edited_back_to_draft_after_printing_is_named_and_left(app, client, world, paper):
    a1, a2 = paper["a1"], paper["a2"]
    login(client, world.a.owner)
    job = _print(client, [a1, a2])
    with app.test_request_context():
        life.set_place_of_service(a2, "12", user=world.a.owner)
    assert _fresh(a2).status == "draft"
    page = _body(client.get(f"/provider/jobs/{job.id}"))
    assert "Mark this claim as mailed" in page
    resp = client.post(f"/provider/jobs/{job.id}/mailed")
    page = _body(client.get(resp.headers["Location"]))
    assert "1 claim marked as mailed" in page
    assert f"Not marked, 1 claim (claim {a2.patient_control_number}: it was edited back" in page
    assert _fresh(a1).status == "submitted"
    a2 = _fresh(a2)
    assert a2.status == "draft" and a2.submitted_at is None
    assert (
        not ClaimEvent.select()
        .where((ClaimEvent.claim == a2.id) & (ClaimEvent.reason == "Mailed on paper"))
        .exists()
    )


def test_one_ready_claim_is_marked_mailed_from_its_page(app, client, world, paper):
    a1 = paper["a1"]
    login(client, world.a.frontdesk)
    page = _body(client.get(f"/provider/claims/{a1.id}"))
    assert f'action="/provider/claims/{a1.id}/mailed"' in page and "Mark as mailed" in page
    assert "Mark as mailed" in _body(client.get(f"/provider/claims/{a1.id}/cms1500"))
    resp = client.post(f"/provider/claims/{a1.id}/mailed")
    assert resp.status_code == 303
    page = _body(client.get(resp.headers["Location"]))
    assert "Marked as mailed" in page and "Mailed on paper" in page
    assert f'action="/provider/claims/{a1.id}/mailed"' not in page  # submitted: no button
    c = _fresh(a1)
    assert c.status == "submitted" and c.submitted_at is not None
    assert (
        AuditLog.select()
        .where((AuditLog.action == "claim.mailed") & (AuditLog.object_id == a1.id))
        .exists()
    )
    before = ClaimEvent.select().count()
    again = client.post(f"/provider/claims/{a1.id}/mailed")
    assert again.status_code == 409 and "it is already submitted" in _body(again)
    assert ClaimEvent.select().count() == before
    # a draft claim is not mailed
    with app.test_request_context():
        draft = cf.paper_claim(world.a.practice, world.a.c2, world.a.provider, status="draft")
    r = client.post(f"/provider/claims/{draft.id}/mailed")
    assert r.status_code == 409 and "edited back to draft" in _body(r)
    assert _fresh(draft).status == "draft"


def test_mailing_refuses_others_and_needs_the_token(app, client, world, paper):
    a1, b1 = paper["a1"], paper["b1"]
    login(client, world.b.frontdesk)
    foreign_job = _print(client, [b1])
    client.post("/logout")
    login(client, world.a.frontdesk)
    own_job = _print(client, [a1])
    denied = AuditLog.select().where(AuditLog.action == "access.denied").count()
    assert client.post(f"/provider/jobs/{foreign_job.id}/mailed").status_code == 404
    assert client.post(f"/provider/claims/{b1.id}/mailed").status_code == 404
    assert client.get(f"/provider/jobs/{foreign_job.id}").status_code == 404
    assert AuditLog.select().where(AuditLog.action == "access.denied").count() >= denied + 3
    assert _fresh(b1).status == "ready"
    # no CSRF token: nothing moves
    assert client.post(f"/provider/jobs/{own_job.id}/mailed", csrf=False).status_code == 400
    assert client.post(f"/provider/claims/{a1.id}/mailed", csrf=False).status_code == 400
    assert _fresh(a1).status == "ready"
    # a therapist and a client (the claim's own) get 404; logged out goes to login
    for user in (world.a.therapist, world.a.cu1):
        client.post("/logout")
        login(client, user)
        assert client.post(f"/provider/jobs/{own_job.id}/mailed").status_code == 404
        assert client.post(f"/provider/claims/{a1.id}/mailed").status_code == 404
    client.post("/logout")
    for url in (f"/provider/jobs/{own_job.id}/mailed", f"/provider/claims/{a1.id}/mailed"):
        r = client.post(url)
        assert r.status_code in (302, 303) and r.headers["Location"].startswith("/login")
    assert _fresh(a1).status == "ready" and _fresh(b1).status == "ready"


def test_only_a_finished_print_job_marks_claims(app, client, world, paper):
    """An export job, or a print job still running, marks nothing."""
    a1 = paper["a1"]
    login(client, world.a.frontdesk)
    job = _print(client, [a1])
    Job.update(status="running").where(Job.id == job.id).execute()
    page = _body(client.get(f"/provider/jobs/{job.id}"))
    assert "as mailed" not in page
    r = client.post(f"/provider/jobs/{job.id}/mailed")
    assert "print them first" in _body(client.get(r.headers["Location"]))
    assert _fresh(a1).status == "ready"
    Job.update(status="done", kind="export_csv").where(Job.id == job.id).execute()
    assert client.post(f"/provider/jobs/{job.id}/mailed").status_code == 404
    assert not re.search(r"Mark (this|these)", _body(client.get(f"/provider/jobs/{job.id}")))


def test_whoever_works_claims_marks_a_job_someone_else_printed(app, client, world, paper):
    """The one who puts the envelopes in the post is often not the one who printed: any
    front desk (or the owner) of the practice follows a print job, downloads its PDF and
    marks its claims as mailed; a therapist, who does not work claims, gets 404."""
    a1, a2, a3, b1 = paper["a1"], paper["a2"], paper["a3"], paper["b1"]
    with app.test_request_context():
        printer = factories.user(world.a.practice, "frontdesk")
    login(client, printer)
    job = _print(client, [a1, a2])
    one = _print(client, [a3])
    client.post("/logout")
    # the practice's paper page lists the batch for the other desk, and its link works
    login(client, world.a.frontdesk)
    assert f'href="/provider/jobs/{job.id}"' in _body(client.get("/provider/claims/paper"))
    page = client.get(f"/provider/jobs/{job.id}")
    assert page.status_code == 200 and "Mark these 2 claims as mailed" in _body(page)
    assert client.get(f"/provider/jobs/{job.id}/result").status_code == 200
    resp = client.post(f"/provider/jobs/{job.id}/mailed")
    assert resp.status_code == 303 and resp.headers["Location"] == f"/provider/jobs/{job.id}"
    assert "2 claims marked as mailed" in _body(client.get(resp.headers["Location"]))
    for c in (a1, a2):
        assert _fresh(c).status == "submitted"
        event = ClaimEvent.select().where(
            (ClaimEvent.claim == c.id) & (ClaimEvent.reason == "Mailed on paper")
        )
        assert event.get().user_id == world.a.frontdesk.id
    client.post("/logout")
    # the owner, too, for a job neither started
    login(client, world.a.owner)
    assert client.post(f"/provider/jobs/{one.id}/mailed").status_code == 303
    assert _fresh(a3).status == "submitted"
    client.post("/logout")
    # another practice's desk: 404 on the job, its PDF and its marking
    login(client, world.b.frontdesk)
    denied = AuditLog.select().where(AuditLog.action == "access.denied").count()
    for url in (f"/provider/jobs/{job.id}", f"/provider/jobs/{job.id}/result"):
        assert client.get(url).status_code == 404
    assert client.post(f"/provider/jobs/{job.id}/mailed").status_code == 404
    assert client.post(f"/provider/claims/{a1.id}/mailed").status_code == 404
    assert AuditLog.select().where(AuditLog.action == "access.denied").count() >= denied + 4
    client.post("/logout")
    # the therapist does not work claims: 404, nothing moves
    login(client, world.a.therapist)
    assert client.get(f"/provider/jobs/{job.id}").status_code == 404
    assert client.get(f"/provider/jobs/{job.id}/result").status_code == 404
    with app.test_request_context():
        a4 = cf.paper_claim(world.a.practice, world.a.c2, world.a.provider)
    assert client.post(f"/provider/claims/{a4.id}/mailed").status_code == 404
    assert _fresh(a4).status == "ready" and _fresh(b1).status == "ready"
    client.post("/logout")
    r = client.get(f"/provider/jobs/{job.id}")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_an_export_job_stays_its_starters(app, client, world):
    """Not a print job (a practice export, say): only its starter and the owner."""
    with app.test_request_context():
        other = factories.user(world.a.practice, "frontdesk")
        job = Job.create(
            practice=world.a.practice, created_by=other, kind="practice_export",
            title="Practice export", status="done",
        )  # fmt: skip
    login(client, world.a.frontdesk)
    assert client.get(f"/provider/jobs/{job.id}").status_code == 404
    client.post("/logout")
    login(client, other)
    assert client.get(f"/provider/jobs/{job.id}").status_code == 200
