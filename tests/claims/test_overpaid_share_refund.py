"""A refund of the client's overpaid insurance share (refund.overpaid_share, migration
0037) counts for the visit's claim: the client paid a $25.00 estimate at check-out, the
payer set their share at $20.00, the claim said to refund $5.00 and the desk did. When the
payer then reverses its answer and answers the same again, the claim tells of nothing more
to refund (before 0037 it said "refund $5.00" a second time). A goodwill refund does not
count: a larger share from the payer is still the client's to pay. The form offers the
choice on an invoice that bills a share only, and the server holds to it."""

import pytest

from portal.models import AuditLog, Claim, ClaimEvent, ClaimProblem, Invoice, Refund
from portal.rules import billing as billing_rules
from portal.rules.claim_money import Adj
from portal.services import invoicing
from portal.services.claims import posting
from tests.billing.test_services import pdftext
from tests.claims import factories as cf
from tests.claims.test_posting import _answer, _estimate
from tests.conftest import login

PAID_SHARE_20 = [Adj("CO", "45", 1500), Adj("PR", "3", 2000)]
REVERSAL_20 = [Adj("CO", "45", -1500), Adj("PR", "3", -2000)]


@pytest.fixture
def answered(ctx, world):
    """c1's claim answered with a $20.00 share on a $25.00 estimate paid at check-out."""
    a = world.a
    claim = cf.claim(a.practice, a.c1, a.provider, status="submitted",
                     lines=(("97124", 45, 3, 9000),))  # fmt: skip
    estimate = _estimate(claim, 2500, paid=True)
    result = posting.post(claim, _answer(claim, "1", 5500, PAID_SHARE_20))
    assert result.invoice is None and "refund $5.00" in _overpaid(claim).message
    return claim, estimate


def _overpaid(claim):
    return ClaimProblem.get_or_none(
        (ClaimProblem.claim == claim.id) & (ClaimProblem.code == "client_overpaid")
    )


def _payment(invoice):
    return invoice.payments.get()


def _client_invoices(claim):
    return list(
        Invoice.select().where((Invoice.client == claim.client_id) & (Invoice.status != "void"))
    )


def _reverse_and_answer(claim, paid, adjustments):
    posting.post(claim, _answer(claim, "22", -5500, REVERSAL_20))
    return posting.post(claim, _answer(claim, "1", paid, adjustments))


def test_the_same_answer_again_tells_of_no_second_refund(answered):
    claim, estimate = answered
    invoicing.refund_payment(_payment(estimate), 500, "share", settles=True, overpaid_share=True)
    result = _reverse_and_answer(claim, 5500, PAID_SHARE_20)
    assert result.invoice is None and _overpaid(claim) is None
    assert [i.id for i in _client_invoices(claim)] == [estimate.id]
    assert Invoice.get_by_id(estimate.id).balance_cents == 0


def test_the_refund_answers_the_claims_note(answered, world):
    """$2.00 of the $5.00 refunded as the share: the note says $3.00 is left; the rest
    refunded: the note is gone, the claim no longer held, and its history says why. A
    goodwill refund in between leaves the note as it was."""
    claim, estimate = answered
    before = Claim.get_by_id(claim.id)
    assert before.held
    pay = _payment(estimate)
    user = world.a.frontdesk
    invoicing.refund_payment(pay, 200, "share", user, settles=True, overpaid_share=True)
    assert "but owes $20.00: refund $3.00" in _overpaid(claim).message
    invoicing.refund_payment(pay, 100, "sorry", user, settles=True)
    assert "refund $3.00" in _overpaid(claim).message and Claim.get_by_id(claim.id).held
    invoicing.refund_payment(pay, 300, "share", user, settles=True, overpaid_share=True)
    assert _overpaid(claim) is None and not Claim.get_by_id(claim.id).held
    event = (
        ClaimEvent.select().where(ClaimEvent.claim == claim.id).order_by(ClaimEvent.id.desc()).get()
    )
    assert (event.action, event.amount_cents, event.user_id) == ("client_refund", 300, user.id)
    assert "nothing more to give back" in event.reason
    assert Claim.get_by_id(claim.id).status == before.status  # the refund changes no status
    assert event.from_status == event.to_status == before.status


def test_a_larger_share_after_the_refund_is_billed(answered):
    """Refunded $5.00 of the $25.00; the payer now says $25.00 after all: $5.00 is billed."""
    claim, estimate = answered
    invoicing.refund_payment(_payment(estimate), 500, "share", settles=True, overpaid_share=True)
    result = _reverse_and_answer(claim, 5000, [Adj("CO", "45", 1500), Adj("PR", "3", 2500)])
    assert result.invoice is not None and result.invoice.total_cents == 500
    assert _overpaid(claim) is None


def test_a_goodwill_refund_is_not_taken_for_the_share(answered):
    """$5.00 given back as goodwill (it settles, not as the share): the claim still says to
    refund the $5.00 the client overpaid, on the same answer again."""
    claim, estimate = answered
    invoicing.refund_payment(_payment(estimate), 500, "sorry", settles=True)
    _reverse_and_answer(claim, 5500, PAID_SHARE_20)
    assert "refund $5.00" in _overpaid(claim).message


def test_a_share_refund_settles_and_stays_within_the_share(ctx, world):
    a = world.a
    claim = cf.claim(a.practice, a.c1, a.provider, status="submitted",
                     lines=(("97124", 45, 3, 9000),))  # fmt: skip
    estimate = _estimate(claim, 2500, paid=True)
    pay = _payment(estimate)
    with pytest.raises(invoicing.InvoiceError, match="settles it"):
        invoicing.refund_payment(pay, 500, settles=False, overpaid_share=True)
    invoicing.refund_payment(pay, 2000, settles=True, overpaid_share=True)
    assert invoicing.share_refunded(estimate.id) == (2500, 2000)
    refund = Refund.get()
    assert (refund.amount_cents, refund.settles, refund.overpaid_share) == (2000, True, True)
    assert AuditLog.get(AuditLog.action == "refund.create").detail == "cash, overpaid share"


@pytest.mark.parametrize(
    "share, given, amount, error",
    [
        (2500, 0, 2500, None),
        (2500, 2000, 500, None),
        (2500, 2000, 501, r"has \$5.00 left to give back"),
        (2500, 2600, 1, r"has \$0.00 left"),
        (0, 0, 100, "bills no insurance share"),
    ],
)
def test_the_share_refund_rule(share, given, amount, error):
    if error is None:
        assert billing_rules.check_share_refund(share, given, amount) is None
    else:
        with pytest.raises(billing_rules.BillingError, match=error):
            billing_rules.check_share_refund(share, given, amount)


# --- the staff form --------------------------------------------------------------------------


def _url(payment):
    return f"/provider/billing/payments/{payment.id}/refund"


def test_the_form_offers_the_share_only_where_one_is_billed(app, client, world):
    a = world.a
    with app.test_request_context():
        visit = invoicing.create_invoice(
            practice_id=a.practice.id, client_id=a.c1.id,
            lines=[{"kind": "visit", "description": "Massage", "unit_cents": 10000}],
        )  # fmt: skip
        pay = invoicing.record_payment(visit, method="cash", amount_cents=10000, receipt=False)
    login(client, a.frontdesk)
    page = client.get(f"/provider/billing/invoices/{visit.id}").get_data(as_text=True)
    assert 'value="overpaid_share"' not in page and page.count('name="settles"') == 2
    # Posted anyway (an old page, a hand-made request): refused next to the choice.
    r = client.post(_url(pay), data={"amount": "10.00", "settles": "overpaid_share"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert f'id="refund-meaning-error-{pay.id}">This invoice bills no insurance share' in html
    assert not Refund.select().exists()
    assert not AuditLog.select().where(AuditLog.action == "refund.create").exists()
    assert Invoice.get_by_id(visit.id).status == "paid"


def test_the_form_refuses_more_than_the_share_next_to_the_amount(app, client, world, tmp_path):
    """An invoice with a $50.00 fee and a $25.00 share, paid $75.00: $25.01 is within the
    payment but above the share."""
    a = world.a
    with app.test_request_context():
        inv = invoicing.create_invoice(
            practice_id=a.practice.id, client_id=a.c1.id,
            lines=[{"kind": "fee", "description": "Hot stones", "unit_cents": 5000},
                   {"kind": "patient_responsibility", "description": "Copay",
                    "unit_cents": 2500}],
        )  # fmt: skip
        pay = invoicing.record_payment(inv, method="cash", amount_cents=7500, receipt=False)
    login(client, a.frontdesk)
    page = client.get(f"/provider/billing/invoices/{inv.id}").get_data(as_text=True)
    assert 'value="overpaid_share"' in page
    r = client.post(_url(pay), data={"amount": "25.01", "settles": "overpaid_share"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert f'id="refund-error-{pay.id}">The client&#39;s share on this invoice has $25.00' in html
    assert not Refund.select().exists()
    r = client.post(_url(pay), data={"amount": "25.00", "settles": "overpaid_share"})
    assert r.status_code == 303
    assert Invoice.get_by_id(inv.id).settled_cents == 2500
    note = pdftext(Refund.get().document.data, tmp_path, "note.pdf")
    assert "Your insurer paid more than estimated" in " ".join(note.split())


def test_another_practice_and_logged_out(app, client, world):
    b = world.b
    with app.test_request_context():
        claim = cf.claim(b.practice, b.c1, b.provider, status="submitted",
                         lines=(("97124", 45, 3, 9000),))  # fmt: skip
        theirs = _estimate(claim, 2500, paid=True)
    pay = _payment(theirs)
    data = {"amount": "5.00", "settles": "overpaid_share"}
    r = client.post(_url(pay), data=data)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    login(client, world.a.frontdesk)
    assert client.post(_url(pay), data=data).status_code == 404
    assert not Refund.select().exists()
