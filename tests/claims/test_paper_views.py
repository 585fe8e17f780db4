"""Paper claims in the browser's terms: a claim's PDF issued by a POST and downloaded, a batch
made as a Job (tasks in-process here; tests/claims/test_paper_consumer.py runs the real
consumer), the owner's calibration; and who may do what."""

import io
import re

import pikepdf
import pytest
from flask import render_template

from portal.models import (
    AuditLog,
    ClaimDocument,
    ClaimPrintItem,
    ClaimSettings,
    Job,
    StoredDocument,
)
from portal.services.claims import cms1500_pdf
from tests.claims import factories as cf
from tests.claims.cms1500_boxes import MM, read_box, values, words
from tests.conftest import login


@pytest.fixture
def paper(app, world):
    with app.test_request_context():
        a = world.a
        return {
            "a1": cf.paper_claim(a.practice, a.c1, a.provider),
            "a2": cf.paper_claim(a.practice, a.c2, a.provider, n_lines=3),
            "held": cf.paper_claim(a.practice, a.c1, a.provider, held=True),
            "draft": cf.paper_claim(a.practice, a.c2, a.provider, status="draft"),
            "b1": cf.paper_claim(world.b.practice, world.b.c1, world.b.provider),
        }


def _pdf_response(resp):
    assert resp.status_code == 200, resp.status_code
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.data.startswith(b"%PDF")
    return resp.data


def test_a_claims_pdf_is_issued_by_post_then_downloaded(client, world, paper, tmp_path):
    c = paper["a1"]
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/claims/{c.id}/cms1500")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "PDF on plain paper" in html and "PDF for red forms" in html
    resp = client.post(f"/provider/claims/{c.id}/cms1500", data={"mode": "full"})
    assert resp.status_code == 303
    url = resp.headers["Location"]
    assert re.fullmatch(rf"/provider/claims/{c.id}/cms1500/\d+", url)
    data = _pdf_response(client.get(url))
    assert read_box(values(words(data, tmp_path)), "26") == c.patient_control_number
    assert client.get(url).data == data  # the stored bytes, every time
    again = client.post(f"/provider/claims/{c.id}/cms1500", data={"mode": "full"})
    assert again.headers["Location"] == url  # unchanged claim: the same document
    data_only = client.post(f"/provider/claims/{c.id}/cms1500", data={"mode": "data"})
    assert data_only.headers["Location"] != url
    page = client.get(f"/provider/claims/{c.id}/cms1500").get_data(as_text=True)
    assert "-data-only.pdf" in page and "Issued" in page
    actions = {row.action for row in AuditLog.select().where(AuditLog.object_id == c.id)}
    assert {"claim.pdf_issue", "claim.pdf_reuse", "claim.pdf_download"} <= actions


def test_a_bad_mode_or_a_missing_token_changes_nothing(client, world, paper):
    c = paper["a1"]
    login(client, world.a.owner)
    resp = client.post(f"/provider/claims/{c.id}/cms1500", data={"mode": "poster"})
    assert resp.status_code == 303
    assert "Choose the full form or data only" in client.get(resp.headers["Location"]).get_data(
        as_text=True
    )
    assert client.post(f"/provider/claims/{c.id}/cms1500", data={}, csrf=False).status_code == 400
    assert ClaimDocument.select().count() == 0


def test_claim_pdf_routes_refuse_others(client, world, paper):
    own, foreign = paper["a1"], paper["b1"]
    login(client, world.b.frontdesk)
    resp = client.post(f"/provider/claims/{foreign.id}/cms1500", data={"mode": "full"})
    foreign_doc = resp.headers["Location"]
    client.post("/logout")
    login(client, world.a.frontdesk)
    own_doc = client.post(f"/provider/claims/{own.id}/cms1500", data={"mode": "full"}).headers[
        "Location"
    ]
    own_doc_id = own_doc.rsplit("/", 1)[1]
    # another practice's claim, and a document of another claim under this one
    assert client.get(f"/provider/claims/{foreign.id}/cms1500").status_code == 404
    assert (
        client.post(f"/provider/claims/{foreign.id}/cms1500", data={"mode": "full"}).status_code
        == 404
    )
    assert client.get(foreign_doc).status_code == 404
    other = paper["a2"]
    assert client.get(f"/provider/claims/{other.id}/cms1500/{own_doc_id}").status_code == 404
    assert AuditLog.select().where(AuditLog.action == "access.denied").count() >= 3
    for user in (world.a.therapist, world.a.cu1):  # the wrong role, the claim's own client
        client.post("/logout")
        login(client, user)
        assert client.get(f"/provider/claims/{own.id}/cms1500").status_code == 404, user.role
        assert client.get(own_doc).status_code == 404, user.role
        assert (
            client.post(f"/provider/claims/{own.id}/cms1500", data={"mode": "full"}).status_code
            == 404
        )
    client.post("/logout")
    for url in (f"/provider/claims/{own.id}/cms1500", own_doc, "/provider/claims/paper"):
        assert client.get(url).headers["Location"].startswith("/login")
    assert client.post("/provider/claims/paper/batch", data={"mode": "full"}).status_code in (
        302,
        303,
    )
    assert Job.select().count() == 0


def test_a_batch_of_a_payers_claims_becomes_one_pdf(client, world, paper, tmp_path):
    login(client, world.a.frontdesk)
    page = client.get("/provider/claims/paper").get_data(as_text=True)
    payer_id = paper["a1"].payer_id
    assert f'name="payer_id" value="{payer_id}"' in page
    assert paper["held"].patient_control_number not in page  # held and draft claims wait
    assert paper["draft"].patient_control_number not in page
    assert paper["b1"].patient_control_number not in page
    resp = client.post("/provider/claims/paper/batch", data={"payer_id": payer_id, "mode": "full"})
    assert resp.status_code == 303
    job_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    job = Job.get_by_id(job_id)
    assert (job.status, job.done, job.total, job.kind) == ("done", 1, 1, "cms1500_full")
    job_page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Download the result" in job_page
    merged = _pdf_response(client.get(f"/provider/jobs/{job_id}/result"))
    assert cms1500_pdf.pdf.page_count(merged) == 1
    assert read_box(values(words(merged, tmp_path)), "26") == paper["a1"].patient_control_number


def test_a_batch_of_chosen_claims_keeps_print_order_across_both_parts(
    client, world, paper, tmp_path
):
    a = world.a
    extra = [cf.paper_claim(a.practice, a.c1, a.provider) for _ in range(3)]
    chosen = [paper["a1"], paper["a2"], *extra]
    login(client, world.a.owner)
    resp = client.post(
        "/provider/claims/paper/batch",
        data={"claim_id": [str(c.id) for c in chosen], "mode": "data"},
    )
    assert resp.status_code == 303
    job = Job.get_by_id(int(resp.headers["Location"].rsplit("/", 1)[1]))
    assert (job.status, job.done, job.total) == ("done", 5, 5)
    items = list(
        ClaimPrintItem.select()
        .where(ClaimPrintItem.job == job.id)
        .order_by(ClaimPrintItem.position)
    )
    assert all(i.document_id for i in items)
    doc = StoredDocument.get_by_id(job.document_id)
    assert doc.kind == "claim" and doc.client_id is None and doc.filename.endswith("-data-only.pdf")
    assert cms1500_pdf.pdf.page_count(doc.data) == 5
    # each page is its claim's own issued PDF, in the batch's order
    for n, item in enumerate(items, start=1):
        account = read_box(values(words(_page(doc.data, n), tmp_path, f"p{n}.pdf")), "26")
        assert account == item.claim.patient_control_number
    # printing the same claims again re-uses every claim's PDF
    before = ClaimDocument.select().count()
    client.post(
        "/provider/claims/paper/batch",
        data={"claim_id": [str(c.id) for c in chosen], "mode": "data"},
    )
    assert ClaimDocument.select().count() == before


def _page(data, n):
    """Page n alone, as a PDF."""
    with pikepdf.open(io.BytesIO(data)) as src, pikepdf.new() as out:
        out.pages.append(src.pages[n - 1])
        buf = io.BytesIO()
        out.save(buf)
        return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mode": "full"}, "Choose at least one claim"),
        ({"mode": "poster", "claim_id": "1"}, "Choose the full form or data only"),
        ({"mode": "full", "claim_id": "abc"}, "was not understood"),
        ({"mode": "full", "payer_id": "999999"}, "no claims ready"),
    ],
)
def test_a_batch_with_bad_input_says_what_to_do(client, world, paper, data, message):
    login(client, world.a.frontdesk)
    resp = client.post("/provider/claims/paper/batch", data=data)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert Job.select().count() == 0


def test_a_batch_refuses_held_draft_and_foreign_claims(client, world, paper):
    login(client, world.a.frontdesk)
    for key, message in (
        ("held", "is held by a problem"),
        ("draft", "is draft"),
        ("b1", "were not found"),
    ):
        ids = [str(paper["a1"].id), str(paper[key].id)]
        resp = client.post("/provider/claims/paper/batch", data={"claim_id": ids, "mode": "full"})
        assert resp.status_code == 400, key
        assert message in resp.get_data(as_text=True), key
    assert Job.select().count() == 0 and ClaimDocument.select().count() == 0


def test_batch_routes_refuse_the_wrong_roles(client, world, paper):
    for user in (world.a.therapist, world.a.cu1):
        login(client, user)
        assert client.get("/provider/claims/paper").status_code == 404
        resp = client.post(
            "/provider/claims/paper/batch",
            data={"claim_id": [str(paper["a1"].id)], "mode": "full"},
        )
        assert resp.status_code == 404
        client.post("/logout")
    assert Job.select().count() == 0


# --- calibration -----------------------------------------------------------------------------


def test_the_owner_calibrates_and_the_test_page_moves(client, world, tmp_path):
    login(client, world.a.owner)
    page = client.get("/provider/settings/claims/printing")
    assert page.status_code == 200 and "Move right by (mm)" in page.get_data(as_text=True)
    plain = values(
        words(
            _pdf_response(client.get("/provider/settings/claims/printing/test-page")),
            tmp_path,
            "t0.pdf",
        )
    )
    resp = client.post("/provider/settings/claims/printing", data={"right": "2,5", "down": "-1"})
    assert resp.status_code == 303
    s = ClaimSettings.get(ClaimSettings.practice == world.a.practice.id)
    assert (s.print_offset_x_mm, s.print_offset_y_mm) == (2.5, -1.0)
    assert (
        AuditLog.get(AuditLog.action == "claim_settings.print_offsets").user_id == world.a.owner.id
    )
    moved = values(
        words(
            _pdf_response(client.get("/provider/settings/claims/printing/test-page")),
            tmp_path,
            "t1.pdf",
        )
    )
    x_marks = lambda ws: sorted((w for w in ws if w[4] == "X"), key=lambda w: (w[1], w[0]))  # noqa: E731
    assert len(x_marks(moved)) == 7
    for m, p in zip(x_marks(moved), x_marks(plain), strict=True):
        assert m[0] - p[0] == pytest.approx(2.5 * MM, abs=0.02)
        assert m[1] - p[1] == pytest.approx(-1.0 * MM, abs=0.02)
    assert read_box(moved, "1 OTHER", shift=(2.5 * MM, -1.0 * MM)) == "X"
    assert read_box(moved, "27 YES", shift=(2.5 * MM, -1.0 * MM)) == "X"
    drawn = _pdf_response(client.get("/provider/settings/claims/printing/test-page?form=drawn"))
    assert "HEALTH INSURANCE CLAIM FORM" in " ".join(w[4] for w in words(drawn, tmp_path, "d.pdf"))


@pytest.mark.parametrize(
    ("right", "down", "message"),
    [
        ("abc", "0", "Enter millimetres as a number"),
        ("nan", "0", "Enter millimetres as a number"),
        ("inf", "0", "Enter millimetres as a number"),
        ("25", "0", "Between -20 and 20 mm."),
        ("0", "", "Enter a number, 0 for no move."),
    ],
)
def test_offsets_that_make_no_sense_are_refused_next_to_the_field(
    client, world, right, down, message
):
    login(client, world.a.owner)
    resp = client.post("/provider/settings/claims/printing", data={"right": right, "down": down})
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert ClaimSettings.select().count() == 0


def test_calibration_is_the_owners(client, world):
    for user in (world.a.frontdesk, world.a.therapist, world.a.cu1):
        login(client, user)
        assert client.get("/provider/settings/claims/printing").status_code == 404
        assert client.get("/provider/settings/claims/printing/test-page").status_code == 404
        resp = client.post("/provider/settings/claims/printing", data={"right": "1", "down": "1"})
        assert resp.status_code == 404
        client.post("/logout")
    assert client.get("/provider/settings/claims/printing").headers["Location"].startswith("/login")
    assert ClaimSettings.select().count() == 0


def test_the_claim_pages_include_needs_only_the_claim(app, paper):
    """claims-core's claim page includes the partial with `claim` in its context only."""
    with app.test_request_context():
        html = render_template("provider/claims/_paper.html", claim=paper["held"])
    claim_id = paper["held"].id
    assert f'action="/provider/claims/{claim_id}/cms1500"' in html
    assert 'value="full"' in html and 'value="data"' in html and 'name="csrf_token"' in html
    assert "held by a problem" in html
    assert f'href="/provider/claims/{claim_id}/cms1500">PDFs issued' in html


def test_a_claim_that_cannot_print_fails_the_batch_in_words(client, world, paper):
    a = world.a
    with client.application.test_request_context():
        huge = cf.paper_claim(a.practice, a.c2, a.provider, n_lines=1)
    line = huge.lines.get()
    line.charge_cents = 10_000_000  # $100,000.00: more than the form's boxes hold
    line.save()
    login(client, world.a.frontdesk)
    ids = [str(paper["a1"].id), str(paper["a2"].id), str(huge.id)]
    resp = client.post("/provider/claims/paper/batch", data={"claim_id": ids, "mode": "full"})
    assert resp.status_code == 303
    job = Job.get_by_id(int(resp.headers["Location"].rsplit("/", 1)[1]))
    position = ClaimPrintItem.get(
        (ClaimPrintItem.job == job.id) & (ClaimPrintItem.claim == huge.id)
    ).position
    assert job.status == "failed" and job.document_id is None
    assert job.message == (
        f"Claim {position} of 3 cannot be printed: "
        "An amount over $99,999.99 does not fit the form's boxes."
    )
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "does not fit the form" in page and "Download the result" not in page
