"""The client's invoices in words a client reads on a phone: an insurance visit's copay
says once which visit it is for and what a share of an insurance visit is (no staff
jargon left unexplained), an estimate says it is one; dates are written out without a
leading zero, in the practice's time zone."""

import datetime as dt

import pytest

from portal import clock
from portal.rules.claim_money import Adj
from portal.services import invoicing
from portal.services.claims import posting
from tests.claims import factories as cf
from tests.clientside.helpers import scene
from tests.conftest import login


@pytest.fixture
def copay(app, monkeypatch):
    """scene() and an insurance visit of Nov 2, 2026 paid by its payer with a $40 copay
    (PR 3) invoiced to the client; issued at 9 PM in Los Angeles on Dec 1 (Dec 2 in UTC)."""
    with app.test_request_context():
        s = scene(other=False)
        payer = cf.payer(s.practice, name="Regence BlueCross BlueShield of Oregon")
        claim = cf.claim(
            s.practice, s.client, s.provider, status="submitted", payer_obj=payer,
            day=dt.date(2026, 11, 2), lines=(("97124", 60, 4, 12000),),
        )  # fmt: skip
        adjustments = (Adj("CO", "45", 2000), Adj("PR", "3", 4000))
        answer = posting.PayerAnswer(
            "1", 12000, 6000, 4000,
            (posting.PaidLine(claim.lines.get(), 10000, 6000, adjustments, charge_cents=12000),),
        )  # fmt: skip
        evening = dt.datetime(2026, 12, 2, 5, 0)  # Dec 1, 9 PM in Los Angeles
        with monkeypatch.context() as m:
            m.setattr(clock, "utcnow", lambda: evening)
            s.invoice = posting.post(claim, answer).invoice
    return s


def test_a_copay_says_its_visit_once_and_what_it_is(client, copay):
    login(client, copay.client_user.email)
    page = client.get("/portal/invoices").get_data(as_text=True)
    assert "Copay: visit of Nov 02, 2026 (Regence BlueCross BlueShield of Oregon)" in page
    assert page.count("Nov 02, 2026") + page.count("Nov 2, 2026") == 1  # not "... on Nov 2"
    assert "your share of an insurance visit" in page
    assert "paid its part" in page
    assert f"{copay.invoice.number} · issued Dec 1, 2026 · due Dec 15, 2026" in page
    assert "Dec 01" not in page and "Dec 02" not in page


def test_an_estimated_share_says_it_is_an_estimate(app, client):
    with app.test_request_context():
        s = scene(other=False)
        invoicing.create_invoice(
            practice_id=s.practice.id, client_id=s.client.id, reason="insurance_share",
            lines=[{"kind": "patient_responsibility", "unit_cents": 4000,
                    "description": "60-minute massage: your estimated share (copay $40.00)"}],
        )  # fmt: skip
    login(client, s.client_user.email)
    page = client.get("/portal/invoices").get_data(as_text=True)
    assert "an estimate of your share" in page
    assert "corrected once your insurance answers" in page
