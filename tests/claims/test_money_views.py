"""The claims-money pages as the front desk and the owner use them: build and download an
837P file, upload an 835 (and again: refused with the reason next to the field), match
an unmatched payment, post an EOB by hand, write off, the work list and the reports."""

import datetime as dt
import io
import re

import pytest

from portal import clock
from portal.models import (
    AuditLog,
    Claim,
    ClaimBatch,
    ClaimEvent,
    ClaimPosting,
    ClaimProblem,
    ClearinghouseFile,
    Invoice,
    RemittanceClaim,
)
from portal.services.claims import batches
from tests.claims import factories as cf
from tests.claims.test_remittances import fixture
from tests.conftest import login


@pytest.fixture
def desk(app, client, world):
    with app.test_request_context():
        cf.sendable(world.a)
    login(client, world.a.frontdesk)
    return client


def _body(r):
    return r.get_data(as_text=True)


def test_build_and_download_an_837p_file(desk, world):
    a = world.a
    assert "No claim is ready to send" in _body(desk.get("/provider/claims/batches/new"))
    c1 = cf.claim(a.practice, a.c1, a.provider)
    c2 = cf.claim(a.practice, a.c2, a.provider, payer_obj=Claim.get_by_id(c1.id).payer)
    page = _body(desk.get("/provider/claims/batches/new"))
    assert c1.patient_control_number in page and 'name="claim"' in page
    r = desk.post("/provider/claims/batches/new", data={"claim": [str(c1.id)]})
    assert r.status_code == 302
    batch = ClaimBatch.get()
    assert r.headers["Location"].endswith(f"/provider/claims/batches/{batch.id}")
    page = _body(desk.get(r.headers["Location"]))
    assert "1 837P file built with 1 claim" in page and "837P file 000000001" in page
    assert c1.patient_control_number in page and c2.patient_control_number not in page
    assert "Download the file" in page
    assert "the owner sets up the SFTP connection" in page  # no SFTP yet: no Send button
    r = desk.get(f"/provider/claims/batches/{batch.id}/file")
    assert r.status_code == 200 and r.data == batches.file_bytes(batch)
    assert r.headers["Content-Disposition"] == 'attachment; filename="837P-000000001.x12"'
    assert AuditLog.select().where(AuditLog.action == "claim_batch.download").count() == 1
    # A claim sent meanwhile: a clear 409, nothing built.
    r = desk.post("/provider/claims/batches/new", data={"claim": [str(c1.id), str(c2.id)]})
    assert r.status_code == 409 and "1 of the chosen claims is no longer ready" in _body(r)
    assert ClaimBatch.select().count() == 1
    r = desk.post("/provider/claims/batches/new", data={})
    assert r.status_code == 400 and "Choose at least one ready claim" in _body(r)
    list_page = _body(desk.get("/provider/claims/batches"))
    assert "000000001" in list_page and "New 837P file (1 ready)" in list_page
    r = desk.post(f"/provider/claims/batches/{batch.id}/send", follow_redirects=True)
    assert (
        "Set up the SFTP connection to your clearinghouse under Settings → Clearinghouse"
        in _body(r)
    )


def test_missing_clearinghouse_ids_are_explained_on_the_page(app, client, world):
    with app.test_request_context():
        cf.billing_ready(world.a.practice)
        cf.claim(world.a.practice, world.a.c1, world.a.provider)
    login(client, world.a.owner)
    page = _body(client.get("/provider/claims/batches/new"))
    assert "enter the submitter and receiver ids under Settings → Clearinghouse" in page
    assert 'href="/provider/settings/clearinghouse"' in page


def _three(world):
    a = world.a
    payer = cf.payer(a.practice, name="Blue Harbor Health", payer_code="BHH01")
    for pcn, lines, day in (
        ("CLM0000101", (("97124", 60, 4, 12000),), dt.date(2026, 11, 2)),
        ("CLM0000102", (("97124", 45, 3, 9000), ("97140", 30, 2, 7000)), dt.date(2026, 11, 2)),
        ("CLM0000103", (("97124", 45, 3, 10000),), dt.date(2026, 11, 4)),
    ):
        cf.claim(a.practice, a.c1, a.provider, payer_obj=payer, status="submitted",
                 patient_control_number=pcn, lines=lines, day=day)  # fmt: skip


def _upload(client, data, name="era.835"):
    return client.post(
        "/provider/claims/remittances",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_upload_an_835_and_again(app, desk, world):
    with app.test_request_context():
        _three(world)
    data = fixture("835_paid_partial_denied.txt")
    r = _upload(desk, data)
    assert r.status_code == 302
    page = _body(desk.get(r.headers["Location"]))
    assert "Posted 3 claims; 1 client invoice for their share." in page
    assert "Payment EFT20261212001" in page and "$159.00" in page
    assert "CLM0000102" in page and "client's share $65.00" in page
    r = _upload(desk, data)
    assert r.status_code == 409
    m = re.search(r'<p class="error" id="file-error">([^<]*)</p>', _body(r))
    assert (
        m and "This file was imported on" in m.group(1) and "nothing was posted again" in m.group(1)
    )
    r = _upload(desk, data + b"\n")  # another file with the same payment: a repeat too
    assert r.status_code == 409 and "from another file: nothing was posted again" in _body(r)
    r = _upload(desk, b"not an 835 at all")
    assert r.status_code == 400 and "This is not a readable 835 remittance" in _body(r)
    r = desk.post("/provider/claims/remittances", data={})
    assert r.status_code == 400 and "Choose the 835 file" in _body(r)
    assert ClaimPosting.select().count() == 4


def test_match_an_unmatched_payment(app, desk, world):
    r = _upload(desk, fixture("835_unknown_claim.txt"))
    remit_url = r.headers["Location"]
    page = _body(desk.get(remit_url))
    # Said once (the page printed its own sentence and then the line's note, which said it
    # again), with what to do.
    line_html = page.split('class="work-item"', 1)[1].split('class="match-forms"', 1)[0]
    assert line_html.count("patient control number") == 1
    assert "nothing was posted. Enter the claim&#39;s number if the payer mistyped it" in line_html
    line = RemittanceClaim.get()
    listed = _body(desk.get("/provider/claims/remittances"))
    assert 'count-badge">1</span> payment waits for you: post each to its claim' in listed
    assert 'href="/provider/claims/worklist#work-unmatched">Open the work list</a>' in listed
    work = _body(desk.get("/provider/claims/worklist"))
    assert "Payments that matched no claim" in work and "CLM9999999" in work
    assert f"#line-{line.id}" in work
    r = desk.post(f"/provider/claims/remittances/lines/{line.id}/match", data={"pcn": "NOPE1"})
    assert r.status_code == 400 and "No claim of the practice has the number NOPE1" in _body(r)
    with app.test_request_context():
        target = cf.claim(world.a.practice, world.a.c1, world.a.provider, status="submitted",
                          lines=(("97124", 30, 2, 8000),))  # fmt: skip
    r = desk.post(f"/provider/claims/remittances/lines/{line.id}/match",
                  data={"pcn": target.patient_control_number.lower()})  # fmt: skip
    assert r.status_code == 302
    assert "The payment is posted to claim" in _body(desk.get(remit_url))
    assert Claim.get_by_id(target.id).paid_cents == 6400
    r = desk.post(f"/provider/claims/remittances/lines/{line.id}/dismiss", data={"note": "x"})
    assert r.status_code == 409 and "resolved already" in _body(r)


def test_post_an_eob_by_hand_and_write_off(app, desk, world):
    with app.test_request_context():
        claim = cf.claim(world.a.practice, world.a.c1, world.a.provider, status="submitted")
    massage, manual = sorted(claim.lines, key=lambda ln: ln.position)
    url = f"/provider/claims/{claim.id}/payments"
    page = _body(desk.get(url))
    assert "Nothing posted yet" in page and f'name="paid-{massage.id}"' in page
    bad = {f"paid-{massage.id}": "70", f"group-{massage.id}-0": "CO",
           f"reason-{massage.id}-0": "45", f"amount-{massage.id}-0": "15"}  # fmt: skip
    r = desk.post(url, data=bad)
    assert r.status_code == 400
    assert ("The charge $90.00 minus the payment $70.00 is $20.00, but the adjustments add up "
            "to $15.00") in _body(r)  # fmt: skip
    assert 'value="15"' in _body(r) and ClaimPosting.select().count() == 0
    r = desk.post(url, data={f"paid-{massage.id}": "seventy"})
    assert r.status_code == 400 and "Paid: Enter an amount like 85 or 85.50." in _body(r)
    good = {
        f"paid-{massage.id}": "50", f"group-{massage.id}-0": "CO", f"reason-{massage.id}-0": "45",
        f"amount-{massage.id}-0": "20", f"group-{massage.id}-1": "PR",
        f"reason-{massage.id}-1": "3", f"amount-{massage.id}-1": "20",
        f"paid-{manual.id}": "0", f"group-{manual.id}-0": "CO", f"reason-{manual.id}-0": "50",
        f"amount-{manual.id}-0": "35", "note": "Check 4417", "payer_claim_number": "PCN-9",
    }  # fmt: skip
    r = desk.post(url, data=good)
    assert r.status_code == 302
    page = _body(desk.get(url))
    assert "Posted $50.00; the claim is now partially paid." in page
    assert "The client is invoiced $20.00" in page
    assert "Contractual obligation: not medically necessary in the payer&#39;s view (CO-50)" in page
    claim = Claim.get_by_id(claim.id)
    assert (claim.paid_cents, claim.patient_resp_cents, claim.adjusted_cents) == (5000, 2000, 2000)
    assert claim.balance_cents == 3500 and claim.payer_claim_number == "PCN-9"
    assert Invoice.get(Invoice.reason == "insurance").total_cents == 2000
    work = _body(desk.get("/provider/claims/worklist"))
    assert "Denied or not paid in full" in work and "97140: $35.00 not paid" in work

    r = desk.post(f"/provider/claims/{claim.id}/write-off", data={"amount": "40", "reason": "x"})
    assert r.status_code == 409 and "Only $35.00 is open on this claim" in _body(r)
    r = desk.post(f"/provider/claims/{claim.id}/write-off", data={"amount": "35", "reason": ""})
    assert r.status_code == 400 and "Say why it is written off." in _body(r)
    r = desk.post(f"/provider/claims/{claim.id}/write-off",
                  data={"amount": "35", "reason": "Not appealed"})  # fmt: skip
    assert r.status_code == 302
    claim = Claim.get_by_id(claim.id)
    assert claim.status == "closed" and claim.balance_cents == 0
    assert "Denied or not paid in full" not in _body(desk.get("/provider/claims/worklist"))


def test_an_eob_posted_by_hand_keeps_the_date_paid(app, desk, world):
    """The EOB's date typed with a payment by hand (its check date) is kept with the
    posting and shown with it: revenue counts the money that day. A date after today, or
    before the visit, or no date at all is refused by the field, nothing posted; an 835's
    payment shows its BPR16."""
    with app.test_request_context():
        claim = cf.claim(world.a.practice, world.a.c1, world.a.provider, status="submitted")
        _three(world)
    massage = sorted(claim.lines, key=lambda ln: ln.position)[0]
    url = f"/provider/claims/{claim.id}/payments"
    paid = _line(massage, "90")
    with clock.told(dt.datetime(2026, 12, 3, 18)):
        login(desk, world.a.frontdesk)  # the session of the fixture's day would be over
        assert 'type="date" id="paid_on" name="paid_on"' in _body(desk.get(url))
        for typed, words in (
            ("2026-12-04", "Dec 4, 2026 is after today: enter the date on the EOB"),
            ("2026-11-01", "Nov 1, 2026 is before the visit (Nov 2, 2026): enter the date on"),
            ("11/28/2026", "Enter the date like 2026-01-30, or leave it empty."),
        ):
            r = desk.post(url, data=paid | {"paid_on": typed, "note": "Check 4417"})
            m = re.search(r'<p class="error" id="paid_on-error">([^<]*)</p>', _body(r))
            assert r.status_code == 400 and m and words in m.group(1), typed
            assert f'value="{typed}"' in _body(r) and 'aria-invalid="true"' in _body(r)
        assert ClaimPosting.select().count() == 0
        r = desk.post(url, data=paid | {"paid_on": "2026-11-28", "note": "Check 4417"})
        assert r.status_code == 302
        (row,) = ClaimPosting.select().where(ClaimPosting.claim == claim.id)
        assert row.paid_on == dt.date(2026, 11, 28)
        page = _body(desk.get(url))
        assert "Dec 03, 2026<br><small>paid Nov 28, 2026</small>" in page
        event = ClaimEvent.get((ClaimEvent.claim == claim.id) & (ClaimEvent.action == "posted"))
        assert event.reason.startswith("Posted by hand (Check 4417), paid Nov 28, 2026: paid")
        _upload(desk, fixture("835_paid_partial_denied.txt"))
        first = Claim.get(Claim.patient_control_number == "CLM0000101")
        assert "paid Dec 12, 2026" in _body(desk.get(f"/provider/claims/{first.id}/payments"))


def _line(line, paid, *adjustments):
    data = {f"paid-{line.id}": paid}
    for n, (group, reason, amount) in enumerate(adjustments):
        data |= {f"group-{line.id}-{n}": group, f"reason-{line.id}-{n}": reason,
                 f"amount-{line.id}-{n}": amount}  # fmt: skip
    return data


def test_money_taken_back_by_hand_is_a_reversal_not_a_denial(app, desk, world):
    """The payer took back what it paid on a line (its EOB shows the line negative): typed
    as a negative payment, it is posted as a reversal (CLP02 22), as an 835's would be: the
    claim goes back to accepted for the payer's new answer, not to denied."""
    with app.test_request_context():
        claim = cf.claim(world.a.practice, world.a.c1, world.a.provider, status="submitted")
    massage, manual = sorted(claim.lines, key=lambda ln: ln.position)
    url = f"/provider/claims/{claim.id}/payments"
    paid = _line(massage, "70", ("CO", "45", "20")) | _line(manual, "30", ("CO", "45", "5"))
    assert desk.post(url, data=paid).status_code == 302
    assert Claim.get_by_id(claim.id).status == "paid"
    mixed = _line(massage, "-70", ("CO", "45", "-20")) | _line(manual, "10", ("CO", "45", "25"))
    r = desk.post(url, data=mixed)
    assert r.status_code == 400 and "Post what the payer took back and what it paid" in _body(r)
    wrong = _line(massage, "-70", ("CO", "45", "20"))
    r = desk.post(url, data=wrong)
    assert r.status_code == 400
    assert ("The charge taken back -$90.00 minus the payment -$70.00 is -$20.00, but the "
            "adjustments add up to $20.00") in _body(r)  # fmt: skip
    assert ClaimPosting.select().count() == 2
    r = desk.post(url, data=_line(massage, "-70", ("CO", "45", "-20")))
    assert r.status_code == 302
    assert "Posted -$70.00; the claim is now accepted." in _body(desk.get(url))
    claim = Claim.get_by_id(claim.id)
    assert (claim.status, claim.paid_cents, claim.adjusted_cents) == ("accepted", 3000, 500)
    assert claim.balance_cents == 9000 and massage.__class__.get_by_id(massage.id).paid_cents == 0
    assert not ClaimProblem.select().where(ClaimProblem.claim == claim.id).exists()


def test_the_work_list(app, desk, world):
    a = world.a
    with app.test_request_context():
        rejected = cf.claim(a.practice, a.c1, a.provider, status="rejected")
        ClaimProblem.create(practice=a.practice, claim=rejected, code="277ca_A7_21",
                               message="Rejected for invalid information: NPI.", source="277ca",
                               created_at=dt.datetime(2026, 12, 1))  # fmt: skip
        held = cf.claim(a.practice, a.c2, a.provider, status="draft", held=True)
        ClaimProblem.create(practice=a.practice, claim=held, code="member_id_missing",
                               message="Enter the member ID from the insurance card.",
                               fix_where="policy", created_at=dt.datetime(2026, 12, 1))  # fmt: skip
        silent = cf.claim(a.practice, a.c1, a.provider, status="submitted",
                          submitted_at=dt.datetime(2026, 1, 5, 18))  # fmt: skip
        recent = cf.claim(a.practice, a.c1, a.provider, status="submitted",
                          submitted_at=dt.datetime.now())  # fmt: skip
        failed = cf.claim(a.practice, a.c2, a.provider)
        (batch,) = batches.build(a.practice.id)
        ClaimBatch.update(status="failed", last_error="The server refused the password.").execute()
    page = _body(desk.get("/provider/claims/worklist"))
    for words in (
        "Rejected: fix and send again", "Rejected for invalid information: NPI.",
        "Held by a check", "Enter the member ID from the insurance card.",
        "No answer from the payer", "Sent on Jan 05, 2026", "and no payment or denial in 30 days",
        "Files not sent", "The server refused the password.", "press Send again",
    ):  # fmt: skip
        assert words in page, words
    assert rejected.patient_control_number in page and silent.patient_control_number in page
    assert recent.patient_control_number not in page
    assert f"/provider/claims/batches/{batch.id}" in page
    assert failed.patient_control_number not in page  # its file is listed, not the claim


def test_an_empty_work_list_says_so(desk):
    page = _body(desk.get("/provider/claims/worklist"))
    assert "Nothing needs you" in page


def test_reports_and_their_csv(app, client, world):
    with app.test_request_context():
        _three(world)
    login(client, world.a.frontdesk)
    _upload(client, fixture("835_paid_partial_denied.txt"))
    assert client.get("/provider/reports").status_code == 404  # the owner's
    client.post("/logout")
    login(client, world.a.owner)
    # the payer's check is dated Dec 12, 2026 (BPR16): its money counts that day
    page = _body(client.get("/provider/reports?start=2026-01-01&end=2026-12-31"))
    assert "Revenue by payer" in page and "Blue Harbor Health" in page and "$159.00" in page
    r = client.get("/provider/reports/revenue-by-cpt.csv?start=2026-01-01&end=2026-12-31")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.get_data(as_text=True).splitlines() == [
        "cpt_code,amount,payments",
        "97124,103.00,2",
        "97140,56.00,1",
    ]
    statuses = client.get("/provider/reports/claims-by-status.csv?start=2026-11-01&end=2026-11-30")
    assert statuses.get_data(as_text=True).splitlines()[1:] == [
        "Paid,1,120.00,96.00,0.00",
        "Partially paid,1,160.00,63.00,0.00",
        "Denied,1,100.00,0.00,100.00",
    ]
    page = _body(client.get("/provider/reports?start=2026-11-01&end=2026-11-30"))
    assert "Owed by payers on these claims (billed, not settled): <strong>$100.00</strong>" in page
    assert client.get("/provider/reports/nope.csv").status_code == 404
    r = client.get("/provider/reports?start=2026-13-01")
    assert r.status_code == 200 and "Enter a date like 2026-01-31." in _body(r)
    # a period ending on the calendar's last day overflowed to a 500 (the day after it)
    for url in ("/provider/reports", "/provider/reports/revenue-by-month.csv"):
        r = client.get(f"{url}?start=9999-12-30&end=9999-12-31")
        assert r.status_code == 200, url
    r = client.get("/provider/reports?end=9999-12-31")
    assert r.status_code == 200 and "Enter a date between 1900 and 9998." in _body(r)


def test_the_claim_page_loads_its_payments_section(app, desk, world):
    with app.test_request_context():
        claim = cf.claim(world.a.practice, world.a.c1, world.a.provider, status="submitted")
    page = _body(desk.get(f"/provider/claims/{claim.id}"))
    assert f'hx-get="/provider/claims/{claim.id}/payments"' in page
    assert "Payments, post an EOB by hand, write off" in page  # the link without JavaScript
    r = desk.get(f"/provider/claims/{claim.id}/payments", headers={"HX-Request": "true"})
    block = _body(r)
    assert block.lstrip().startswith('<div id="payments_block">') and "<html" not in block
    assert 'name="back" value="claim"' in block
    line = sorted(claim.lines, key=lambda ln: ln.position)[0]
    r = desk.post(
        f"/provider/claims/{claim.id}/payments",
        data={f"paid-{line.id}": "90", "back": "claim"},
    )
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"/provider/claims/{claim.id}#payments")


def test_the_claim_page_states_its_money_once_in_the_payments_section(app, desk, world):
    """The figures live in the Payments section alone (they were also in a "Money" card);
    a secondary claim's primary payment moves there with them."""
    with app.test_request_context():
        claim = cf.claim(world.a.practice, world.a.c1, world.a.provider, status="submitted")
        Claim.update(rank="secondary", primary_paid_cents=8123, paid_cents=1500).where(
            Claim.id == claim.id
        ).execute()
    page = _body(desk.get(f"/provider/claims/{claim.id}"))
    block = _body(desk.get(f"/provider/claims/{claim.id}/payments", headers={"HX-Request": "true"}))
    shown = page + block  # what the browser shows once HTMX has loaded the section
    for label in ("Allowed", "Client's share", "Written off", "Still open"):
        assert shown.count(f"<dt>{label}</dt>") == 1, label
    assert "<h2>Money</h2>" not in page
    assert "<dt>Paid by the primary payer</dt><dd>$81.23</dd>" in block
    # Before HTMX (or without JavaScript) the section says the sum in one line.
    assert "Charged $125.00 · paid by the payer $15.00 · still open" in page


def test_files_not_read_are_on_the_work_list(app, desk, world):
    ClearinghouseFile.create(
        practice=world.a.practice, sha256="a" * 64, size_bytes=3, data=b"abc",
        remote_name="mystery.999", kind="unknown", status="error",
        error="This is not an X12 file: it does not begin with an ISA segment.",
    )  # fmt: skip
    page = _body(desk.get("/provider/claims/worklist"))
    assert "Files from the clearinghouse not read" in page
    assert "mystery.999: This is not an X12 file" in page and "Nothing was posted from it" in page
    assert "Received files" not in page  # the settings page is the owner's


def test_collect_needs_a_connection(desk):
    r = desk.post("/provider/claims/collect", follow_redirects=True)
    assert "Set up the connection under Settings → Clearinghouse first." in _body(r)
    assert "Check the clearinghouse now" not in _body(r)


def test_the_claims_list_links_the_desks_pages(desk):
    page = _body(desk.get("/provider/claims"))
    for link in ("/provider/claims/worklist", "/provider/claims/batches",
                 "/provider/claims/remittances"):  # fmt: skip
        assert f'href="{link}"' in page
    assert 'href="/provider/reports"' not in page  # the owner's


def test_amounts_past_any_claim_are_refused_not_stored(app, desk, world):
    with app.test_request_context():
        claim = cf.claim(world.a.practice, world.a.c1, world.a.provider, status="submitted")
    line = sorted(claim.lines, key=lambda ln: ln.position)[0]
    huge = "9" * 25
    r = desk.post(
        f"/provider/claims/{claim.id}/payments",
        data={f"paid-{line.id}": "-" + huge, f"allowed-{line.id}": huge,
              f"group-{line.id}-0": "CO", f"reason-{line.id}-0": "45",
              f"amount-{line.id}-0": huge},
    )  # fmt: skip
    assert r.status_code == 400 and "Enter at most $999,999.99." in _body(r)
    assert ClaimPosting.select().count() == 0
    assert desk.get("/provider/claims/batches?page=" + huge).status_code == 200


def test_another_practices_claim_in_the_build_form_is_refused(app, desk, world):
    with app.test_request_context():
        mine = cf.claim(world.a.practice, world.a.c1, world.a.provider)
        theirs = cf.claim(world.b.practice, world.b.c1, world.b.provider)
    before = AuditLog.select().where(AuditLog.action == "access.denied").count()
    r = desk.post("/provider/claims/batches/new", data={"claim": [str(mine.id), str(theirs.id)]})
    assert r.status_code == 404 and ClaimBatch.select().count() == 0
    assert AuditLog.select().where(AuditLog.action == "access.denied").count() > before
    assert Claim.get_by_id(mine.id).status == "ready"


def test_a_payment_for_a_void_claim_waits_to_be_matched(app, desk, world):
    with app.test_request_context():
        _three(world)
        Claim.update(status="void").where(Claim.patient_control_number == "CLM0000103").execute()
    r = _upload(desk, fixture("835_paid_partial_denied.txt"))
    page = _body(desk.get(r.headers["Location"]))
    assert "Posted 2 claims" in page and "1 payment matched no claim" in page
    assert "Claim CLM0000103 is void: match the payment to the claim that replaced it" in page
    # The claim exists (void): the page does not say that no claim has its number.
    assert "No claim of the practice has this patient control number" not in page


def test_a_claim_never_sent_takes_no_payment_and_no_write_off(app, desk, world):
    with app.test_request_context():
        claim = cf.claim(world.a.practice, world.a.c1, world.a.provider)  # ready, not sent
        theirs = cf.claim(world.b.practice, world.b.c1, world.b.provider)
    line = sorted(claim.lines, key=lambda ln: ln.position)[0]
    url = f"/provider/claims/{claim.id}/payments"
    page = _body(desk.get(url))
    assert "Payments are posted here once the claim is sent to the payer." in page
    assert f'name="paid-{line.id}"' not in page and 'id="write-off"' not in page
    r = desk.post(url, data={f"paid-{line.id}": "90"})
    assert r.status_code == 409 and "has not been sent to the payer yet" in _body(r)
    r = desk.post(f"/provider/claims/{claim.id}/write-off", data={"amount": "10", "reason": "x"})
    assert r.status_code == 409 and "has not been sent to the payer yet" in _body(r)
    fresh = Claim.get_by_id(claim.id)
    assert (fresh.paid_cents, fresh.written_off_cents, fresh.status) == (0, 0, "ready")
    assert ClaimPosting.select().count() == 0
    assert desk.post(f"/provider/claims/{theirs.id}/payments", data={}).status_code == 404
    # sent once, then edited back to draft for a correction: the payer's money still posts
    Claim.update(status="draft", submitted_at=dt.datetime(2026, 11, 3, 9)).where(
        Claim.id == claim.id
    ).execute()
    page = _body(desk.get(url))
    assert f'name="paid-{line.id}"' in page and 'id="write-off"' in page
    r = desk.post(url, data={f"paid-{line.id}": "90"})
    assert r.status_code == 302 and Claim.get_by_id(claim.id).paid_cents == 9000
    desk.post("/logout")
    r = desk.post(url, data={f"paid-{line.id}": "90"})
    assert r.status_code in (302, 401) and Claim.get_by_id(claim.id).paid_cents == 9000


def test_the_claims_menu_marks_the_page_shown(desk):
    """Each claims page marks its own entry of the claims menu (aria-current, which the CSS
    highlights): the menu used an unstyled class, so no entry ever looked current."""
    pages = {
        "/provider/claims": "All claims",
        "/provider/claims/worklist": "Work list",
        "/provider/claims/batches": "837P files",
        "/provider/claims/remittances": "Payments (835)",
        "/provider/claims/paper": "Paper claims",
    }
    for url, label in pages.items():
        page = _body(desk.get(url))
        nav = page.split('aria-label="Claims work"', 1)[1].split("</nav>", 1)[0]
        current = re.findall(r'aria-current="page">([^<]+)</a>', nav)
        assert current == [label], (url, current)
