"""Superbills (issue 12, item 1): issued from paid visits by the client or staff, stored
PDFs that never change, corrections as new versions beside the old, the monthly run, and
every document URL refusing another client, the wrong role and a logged-out request."""

import datetime as dt

import pytest
from peewee import IntegrityError

from portal import clock
from portal.models import AuditLog, OutboxMessage, StoredDocument, Superbill
from portal.services import client_account, invoicing, packages, scheduling, superbills
from tests.billing.conftest import package
from tests.clientside.helpers import past_visit, pdf_text, scene
from tests.conftest import login


def _range(s):
    today = clock.local_date(clock.utcnow(), s.practice.tz)
    return today - dt.timedelta(days=10), today


def test_issue_lists_codes_diagnoses_and_the_per_visit_package_price(ctx, tmp_path):
    s = scene(other=False)
    start, end = _range(s)
    ids = [s.pkg_visit.id, s.cash_visit.id]
    bill = superbills.issue(s.client, ids, start, end, user=s.desk)
    text = pdf_text(StoredDocument.get_by_id(bill.document_id).data, tmp_path)
    for expected in (
        "SB-000001",
        "NPI",
        "1234567893",  # the rendering provider
        "93-1234567",  # the practice's tax ID
        "225700000X",
        "97124",
        "97140",
        "M54.50",
        "M62.830",
        "M54.2",
        "$85.00",  # the visit paid from the 5-for-$425 package
        "$55.00",
        "$140.00",  # totals
        "Paid in full",
        "typed signature",
    ):
        assert expected in text, expected
    assert bill.total_paid_cents == 14000 and bill.visit_count == 2


def test_only_paid_completed_visits_of_the_client_go_on_a_superbill(ctx):
    s = scene()
    start, end = _range(s)
    with pytest.raises(superbills.SuperbillError):
        superbills.issue(s.client, [], start, end)
    with pytest.raises(superbills.SuperbillError):  # another client's visit id
        superbills.issue(s.other_client, [s.pkg_visit.id], start, end)
    with pytest.raises(superbills.SuperbillError):
        superbills.issue(s.client, [s.pkg_visit.id], end, start)


def test_a_correction_is_a_new_version_beside_the_old_one(ctx):
    s = scene(other=False)
    start, end = _range(s)
    first = superbills.issue(s.client, [s.pkg_visit.id], start, end, user=s.desk)
    old_bytes = StoredDocument.get_by_id(first.document_id).data
    second = superbills.correct(
        first, "Added the second visit", s.owner, [s.pkg_visit.id, s.cash_visit.id]
    )
    assert (second.number, second.version, second.replaces_id) == (first.number, 2, first.id)
    assert StoredDocument.get_by_id(first.document_id).data == old_bytes
    with pytest.raises(superbills.SuperbillError):  # only the latest is corrected
        superbills.correct(first, "again", s.owner)
    rows = superbills.for_client(s.client.id)
    assert [(r.version, r.replaced) for r in rows] == [(2, False), (1, True)]
    with pytest.raises(IntegrityError):  # the database refuses a change
        Superbill.update(total_paid_cents=1).where(Superbill.id == first.id).execute()


def test_monthly_superbills_for_clients_who_opted_in(ctx):
    s = scene(other=False)
    client_account.save_preferences(s.client, monthly_superbill=True, document_emails=True)
    # Run as if it were the 1st of next month: last month holds the two visits (or part).
    now = clock.utcnow() + dt.timedelta(days=40)
    start, end = superbills.month_before(clock.local_date(now, s.practice.tz))
    visits = [v for v in superbills.candidates(s.client, start, end) if v.eligible]
    count = superbills.issue_monthly(now=now)
    assert count == (1 if visits else 0)
    assert superbills.issue_monthly(now=now) == 0  # a month done is not done again
    if visits:
        mail = OutboxMessage.select().where(OutboxMessage.kind == "document").get()
        assert "/portal/documents" in mail.body and "$" not in mail.body


def test_the_client_makes_one_and_downloads_the_same_bytes_again(app, client):
    with app.test_request_context():
        s = scene()
        start, end = _range(s)
    login(client, s.client_user.email)
    r = client.get(f"/portal/documents/superbill?start={start}&end={end}")
    assert r.status_code == 200 and b"Make my superbill" in r.data
    r = client.post(
        "/portal/documents/superbill",
        data={"start": str(start), "end": str(end), "visit": [str(s.pkg_visit.id)]},
    )
    assert r.status_code == 303
    with app.app_context():
        bill = Superbill.get(Superbill.client == s.client.id)
    url = f"/portal/documents/{bill.document_id}"
    first, second = client.get(url), client.get(url)
    assert first.status_code == 200 and first.data[:5] == b"%PDF-"
    assert first.data == second.data
    assert first.headers["Cache-Control"] == "no-store"
    page = client.get("/portal/documents")
    assert bill.number.encode() in page.data


def test_document_urls_refuse_another_client_the_wrong_role_and_anonymous(app):
    with app.test_request_context():
        s = scene()
        start, end = _range(s)
        bill = superbills.issue(s.client, [s.pkg_visit.id], start, end)
    url = f"/portal/documents/{bill.document_id}"
    anon = app.test_client()
    assert anon.get(url).status_code == 302  # to the login page
    for other in (s.same_practice_client_user, s.other_client_user):
        c = app.test_client()
        login(c, other.email)
        assert c.get(url).status_code == 404
    staff = app.test_client()
    login(staff, s.desk.email)
    assert staff.get(url).status_code == 404  # staff use their own URL, not the client's
    assert staff.get(f"/provider/billing/documents/{bill.document_id}").status_code == 200
    outsider = app.test_client()
    login(outsider, s.other_owner.email)
    assert outsider.get(f"/provider/billing/documents/{bill.document_id}").status_code == 404
    with app.app_context():
        assert AuditLog.select().where(AuditLog.action == "access.denied").count() >= 3


def test_staff_issue_correct_and_email_from_the_client_record(app, client):
    with app.test_request_context():
        s = scene(other=False)
        start, end = _range(s)
    login(client, s.desk.email)
    assert client.get(f"/provider/clients/{s.client.id}/superbills").status_code == 200
    r = client.get(f"/provider/clients/{s.client.id}/superbills/new?start={start}&end={end}")
    assert r.status_code == 200 and b"Issue the superbill" in r.data
    r = client.post(
        f"/provider/clients/{s.client.id}/superbills/new",
        data={"start": str(start), "end": str(end), "visit": [str(s.cash_visit.id)]},
    )
    assert r.status_code == 303
    with app.app_context():
        bill = Superbill.get(Superbill.client == s.client.id)
    r = client.post(
        f"/provider/superbills/{bill.id}/correct",
        data={"reason": "Diagnosis added", "visit": [str(s.cash_visit.id)]},
    )
    assert r.status_code == 303
    r = client.post(f"/provider/documents/{bill.document_id}/send")
    assert r.status_code == 303
    with app.app_context():
        assert Superbill.select().where(Superbill.client == s.client.id).count() == 2
        mail = OutboxMessage.select().where(OutboxMessage.kind == "document").get()
        assert "M54" not in mail.body and "superbill" not in mail.body.lower()
    # bad input: a page with the message, never a 5xx
    r = client.post(
        f"/provider/clients/{s.client.id}/superbills/new",
        data={"start": "2026-02-30", "end": str(end), "visit": ["99999999999999999999"]},
    )
    assert r.status_code == 400


def test_three_visits_of_a_100_dollar_package_of_3_add_up_to_100(ctx, tmp_path):
    """$100 for 3 sessions: the visits are $33.34, $33.33 and $33.33 (largest remainder),
    and a superbill of the three says $100.00, also when a visit's credit was given back
    and used again at a different per-visit price (its price is the one it holds now)."""
    s = scene(other=False)
    start, end = _range(s)
    d = package(s.practice, types=[s.sixty], sessions=3, price_cents=10000, name="3 for $100")
    purchase, inv = packages.sell(d, s.client.id, user=s.desk)
    invoicing.record_payment(inv, method="cash", amount_cents=10000, user=s.desk)
    a, b, c = (past_visit(s.practice, s.client, s.provider, s.sixty, days_ago=4) for _ in "abc")
    assert packages.redeem(a, purchase=purchase).unit_price_cents == 3334
    packages.return_credit(a, note="refund")  # its credit given back ...
    assert packages.redeem(b, purchase=purchase).unit_price_cents == 3334
    assert packages.redeem(a, purchase=purchase).unit_price_cents == 3333  # ... and used again
    assert packages.redeem(c, purchase=purchase).unit_price_cents == 3333
    for visit in (a, b, c):
        scheduling.check_out(visit, {"97124": 60})
    facts = {f.appointment_id: f for f in superbills.candidates(s.client, start, end)}
    assert [facts[v.id].paid_cents for v in (a, b, c)] == [3333, 3334, 3333]
    bill = superbills.issue(s.client, [a.id, b.id, c.id], start, end, user=s.desk)
    assert (bill.total_fee_cents, bill.total_paid_cents) == (10000, 10000)
    text = pdf_text(StoredDocument.get_by_id(bill.document_id).data, tmp_path)
    assert text.count("$33.34") == 2 and text.count("$33.33") == 4  # fee and paid per visit
    assert "$100.00" in text


def test_a_bad_range_is_refused_by_its_field_and_lists_no_visits(app, client):
    """On the phone: a last day before the first is said by the last day's field (400), and
    no "Visits from Nov 30 to Nov 1: none, try a wider range" card contradicts it; a missing
    day by its own field; a superbill with no visit ticked says so in the list of visits."""
    with app.test_request_context():
        s = scene(other=False)
        start, end = _range(s)
    login(client, s.client_user.email)
    r = client.get(f"/portal/documents/superbill?start={end}&end={start}")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert '<p class="error" id="end-error">The last day comes before the first.</p>' in html
    assert 'aria-describedby="end-error"' in html
    assert "No visits in these dates" not in html and "Make my superbill" not in html
    r = client.get(f"/portal/documents/superbill?start={start}&end=")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert '<p class="error" id="end-error">Choose the last day.</p>' in html
    assert 'id="start-error"' not in html
    r = client.post("/portal/documents/superbill", data={"start": str(start), "end": str(end)})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and 'id="end-error"' not in html
    visits = html[html.index("<legend>Visits from") :]
    assert "Choose at least one paid visit." in visits  # by the visits, not the dates


def test_a_nine_digit_zip_code_reads_as_zip_plus_4_on_the_superbill(ctx, tmp_path):
    """The practice keeps all 9 digits for the 837P; a document shows them as 97205-1234."""
    s = scene(other=False)
    s.practice.postal_code = "972051234"
    s.practice.save()
    s.client.postal_code, s.client.city, s.client.state = "972041111", "Portland", "OR"
    s.client.address1 = "88 Alder Street"
    s.client.save()
    start, end = _range(s)
    bill = superbills.issue(s.client, [s.pkg_visit.id], start, end)
    text = pdf_text(StoredDocument.get_by_id(bill.document_id).data, tmp_path)
    assert "972051234" not in text and text.count("97205-1234") == 2  # heading and table
    assert "97204-1111" in text


@pytest.mark.parametrize("settles", [True, False], ids=["settles", "due-again"])
def test_a_refund_that_settles_is_off_the_fee_and_the_visit_stays_paid(ctx, tmp_path, settles):
    """The $55.00 visit paid by card, $15.00 given back: settling (a goodwill refund), the
    superbill states a $40.00 fee paid in full, not $15.00 owed; due again, the fee stays
    $55.00 with $40.00 paid, and the visit is no longer paid in full (none to issue)."""
    s = scene(other=False)
    start, end = _range(s)
    cash = s.visit_invoice.payments.get()
    invoicing.refund_payment(cash, 1500, reason="short visit", settles=settles)
    if not settles:
        with pytest.raises(superbills.SuperbillError):
            superbills.issue(s.client, [s.cash_visit.id], start, end, user=s.desk)
        return
    bill = superbills.issue(s.client, [s.cash_visit.id], start, end, user=s.desk)
    assert (bill.total_fee_cents, bill.total_paid_cents) == (4000, 4000)
    text = pdf_text(StoredDocument.get_by_id(bill.document_id).data, tmp_path)
    assert "Paid in full" in text and "Balance due" not in text
