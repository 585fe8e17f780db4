"""835 import and posting (issue 10, acceptance): a paid, a partially paid (deductible and
copay under PR) and a denied claim post correctly, the client is invoiced the PR amounts,
importing again changes nothing, and a CLP for an unknown claim is listed as unmatched
with nothing posted; then matched by hand or set aside. Every fixture fed to the portal
is validated with pyx12 first."""

import datetime as dt
import pathlib

import pytest

from portal import clock
from portal.models import (
    AuditLog,
    Claim,
    ClaimAdjustment,
    ClaimEvent,
    ClaimPosting,
    ClaimProblem,
    ClaimWriteOff,
    InsurancePolicy,
    Invoice,
    InvoiceLine,
    Remittance,
    RemittanceClaim,
    StoredDocument,
)
from portal.services import invoicing
from portal.services.claims import life, posting, remittances, unmatched
from portal.services.claims.remittances import RemittanceError
from tests.claims import factories as cf
from tests.x12.helpers import assert_valid

FIXTURES = pathlib.Path(__file__).parent.parent / "x12" / "fixtures"


def fixture(name):
    text = (FIXTURES / name).read_text()
    assert_valid(text)
    return text.encode("ascii")


@pytest.fixture
def three(ctx, world):
    """The fixture 835's three claims (tests/x12/fixtures/837_batch.txt), submitted."""
    a = world.a
    payer = cf.payer(a.practice, name="Blue Harbor Health", payer_code="BHH01")
    pol = cf.policy(a.practice, a.c1, payer)
    kid_pol = cf.policy(a.practice, a.c2, payer)
    claims = {
        "paid": cf.claim(a.practice, a.c1, a.provider, policy_obj=pol, status="submitted",
                         patient_control_number="CLM0000101",
                         lines=(("97124", 60, 4, 12000),)),
        "partial": cf.claim(a.practice, a.c2, a.provider, policy_obj=kid_pol,
                            status="submitted", patient_control_number="CLM0000102",
                            lines=(("97124", 45, 3, 9000), ("97140", 30, 2, 7000))),
        "denied": cf.claim(a.practice, a.c1, a.provider, policy_obj=pol, status="submitted",
                           patient_control_number="CLM0000103", day=dt.date(2026, 11, 4),
                           lines=(("97124", 45, 3, 10000),)),
    }  # fmt: skip
    return a, payer, claims


def _counts():
    return {
        m.__name__: m.select().count()
        for m in (Remittance, RemittanceClaim, ClaimPosting, ClaimAdjustment, ClaimEvent,
                  Invoice, InvoiceLine, StoredDocument, ClaimProblem)
    }  # fmt: skip


def test_paid_partial_and_denied_post_and_the_client_is_invoiced(three):
    a, payer, claims = three
    data = fixture("835_paid_partial_denied.txt")

    result = remittances.import_835(a.practice.id, data, source="upload", user=a.frontdesk)

    (remit,) = result.remittances
    assert (remit.trace_number, remit.payer_identifier) == ("EFT20261212001", "1131234567")
    assert (remit.payment_cents, remit.payment_method) == (15900, "ACH")
    assert remit.payment_date == dt.date(2026, 12, 12) and remit.payer_id == payer.id
    assert (remit.claim_count, remit.unmatched_count) == (3, 0) and not result.unmatched
    doc = StoredDocument.get_by_id(remit.document_id)
    assert bytes(doc.data) == data and doc.kind == "other" and doc.client_id is None

    paid = Claim.get_by_id(claims["paid"].id)
    assert paid.status == "paid"
    assert (paid.paid_cents, paid.allowed_cents, paid.adjusted_cents) == (9600, 9600, 2400)
    assert paid.patient_resp_cents == 0 and paid.balance_cents == 0
    assert paid.payer_claim_number == "BHH26340000101"
    (p,) = ClaimPosting.select().where(ClaimPosting.claim == paid.id)
    assert p.claim_line_id == paid.lines.get().id and p.invoice_id is None
    assert [(x.group_code, x.reason_code, x.amount_cents) for x in p.adjustments] == [
        ("CO", "45", 2400)
    ]
    assert paid.lines.get().paid_cents == 9600

    partial = Claim.get_by_id(claims["partial"].id)
    assert partial.status == "partially_paid"
    assert (partial.paid_cents, partial.patient_resp_cents, partial.adjusted_cents) == (
        6300,
        6500,
        3200,
    )
    assert partial.allowed_cents == 12800 and partial.balance_cents == 0
    (inv,) = result.invoices
    assert inv.client_id == partial.client_id and inv.reason == "insurance"
    assert inv.appointment_id == partial.appointment_id
    assert inv.status == "open" and inv.number.startswith("INV-") and inv.total_cents == 6500
    assert [(ln.description.split(":")[0], ln.amount_cents, ln.kind) for ln in
            inv.lines.order_by(InvoiceLine.position)] == [
        ("Deductible", 4000, "patient_responsibility"),
        ("Copay", 2500, "patient_responsibility"),
    ]  # fmt: skip
    assert "Blue Harbor Health" in inv.lines.first().description
    assert {
        x.invoice_id for x in ClaimPosting.select().where(ClaimPosting.claim == partial.id)
    } == {inv.id}

    denied = Claim.get_by_id(claims["denied"].id)
    assert denied.status == "denied" and denied.paid_cents == 0
    assert denied.adjusted_cents == 0 and denied.balance_cents == 10000  # to appeal or write off
    (problem,) = ClaimProblem.select().where(ClaimProblem.claim == denied.id)
    assert problem.source == "835" and problem.code == "denied"
    assert problem.message.startswith(
        "97124: $100.00 not paid — Contractual obligation: not "
        "medically necessary in the payer's view (CO-50)."
    )
    assert "Appeal it, or write it off" in problem.message

    events = {e.claim_id: e for e in ClaimEvent.select().where(ClaimEvent.action == "posted")}
    e = events[partial.id]
    assert (e.from_status, e.to_status, e.amount_cents) == ("submitted", "partially_paid", 6300)
    assert e.remittance_id == remit.id and e.user_id == a.frontdesk.id
    assert "835 from BLUE HARBOR HEALTH, EFT EFT20261212001: paid $63.00" in e.reason
    assert f"invoiced as {inv.number}" in e.reason
    assert AuditLog.select().where(AuditLog.action == "remittance.import").count() == 1

    # The same file again: refused, nothing changes.
    before = _counts()
    with pytest.raises(RemittanceError, match="This file was imported on .*nothing was posted"):
        remittances.import_835(a.practice.id, data, source="upload")
    # The same payment (payer and trace number) in another file: refused too.
    other = data.replace(b"DTM*405*20261210", b"DTM*405*20261211")
    with pytest.raises(RemittanceError, match="payment EFT20261212001 was posted on"):
        remittances.import_835(a.practice.id, other, source="cli")
    assert _counts() == before
    assert Claim.get_by_id(partial.id).paid_cents == 6300


def test_an_unknown_claim_is_listed_unmatched_then_matched_by_hand(three, world):
    a, payer, claims = three
    before = _counts()
    result = remittances.import_835(a.practice.id, fixture("835_unknown_claim.txt"))
    assert not result.posted and len(result.unmatched) == 1
    (remit,) = result.remittances
    assert remit.unmatched_count == 1 and remit.provider_adjustment_cents == -42
    (line,) = unmatched.unmatched_lines(a.practice.id)
    assert line.claim_id is None and line.outcome == "unmatched"
    assert (line.patient_control_number, line.paid_cents) == ("CLM9999999", 6400)
    after = _counts()
    assert after["ClaimPosting"] == before["ClaimPosting"] == 0
    assert after["ClaimEvent"] == before["ClaimEvent"] and after["Invoice"] == before["Invoice"]
    assert unmatched.unmatched_lines(world.b.practice.id) == []

    # The desk finds the claim (the payer had a typo in our number) and posts it there.
    target = cf.claim(a.practice, a.c1, a.provider, payer_obj=payer, status="submitted",
                      lines=(("97124", 30, 2, 8000),), day=dt.date(2026, 12, 1))  # fmt: skip
    with pytest.raises(RemittanceError, match="practice's claims"):
        unmatched.match_line(line, cf.claim(world.b.practice, world.b.c1, world.b.provider))
    out = unmatched.match_line(line, target, user=a.frontdesk)
    assert out.status == "paid" and Claim.get_by_id(target.id).paid_cents == 6400
    line = RemittanceClaim.get_by_id(line.id)
    assert line.outcome == "resolved" and line.claim_id == target.id
    assert Remittance.get_by_id(remit.id).unmatched_count == 0
    assert "(matched by hand)" in ClaimEvent.get(ClaimEvent.claim == target.id).reason
    with pytest.raises(RemittanceError, match="resolved already"):
        unmatched.match_line(line, target)


def test_an_unmatched_line_set_aside_needs_a_reason(three):
    a, _, _ = three
    remittances.import_835(a.practice.id, fixture("835_unknown_claim.txt"))
    (line,) = unmatched.unmatched_lines(a.practice.id)
    with pytest.raises(RemittanceError, match="Say why"):
        unmatched.dismiss_line(line, "  ")
    unmatched.dismiss_line(line, "Not our patient", user=a.owner)
    line = RemittanceClaim.get_by_id(line.id)
    assert line.outcome == "resolved" and line.note == "Set aside: Not our patient"
    assert unmatched.unmatched_lines(a.practice.id) == []


def test_unreadable_files_say_why_and_post_nothing(three):
    a, _, _ = three
    for data, words in [
        (b"", "empty"),
        (b"hello, this is not X12", "not a readable 835"),
        (fixture("999_rejected.txt"), "not a readable 835 remittance: This is a 999 file"),
        (fixture("835_unknown_claim.txt").replace(b"TRN*1*CHK0049911*", b"TRN*1**"),
         "no check or EFT trace number"),
    ]:  # fmt: skip
        with pytest.raises(RemittanceError, match=words):
            remittances.import_835(a.practice.id, data)
    assert not Remittance.select().exists() and not StoredDocument.select().exists()


def test_what_was_billed_at_check_out_is_taken_off_the_invoice(three):
    a, _, claims = three
    partial = claims["partial"]
    checkout = invoicing.create_invoice(
        practice_id=a.practice.id,
        client_id=partial.client_id,
        appointment_id=partial.appointment_id,
        reason="insurance",
        lines=[{"kind": "patient_responsibility", "description": "Estimated copay",
                "unit_cents": 2500}],
    )  # fmt: skip
    result = remittances.import_835(a.practice.id, fixture("835_paid_partial_denied.txt"))
    (inv,) = result.invoices
    assert inv.id != checkout.id and inv.total_cents == 4000  # $65 owed, $25 billed before
    assert [ln.description for ln in inv.lines] == [
        "Your share: visit of Nov 02, 2026 (Blue Harbor Health)"
    ]


def test_a_client_billed_more_than_owed_gets_a_refund_note(three):
    a, _, claims = three
    partial = claims["partial"]
    estimate = invoicing.create_invoice(
        practice_id=a.practice.id,
        client_id=partial.client_id,
        appointment_id=partial.appointment_id,
        reason="insurance",
        lines=[{"kind": "patient_responsibility", "description": "Estimate", "unit_cents": 9000}],
    )
    invoicing.record_payment(estimate, method="cash", amount_cents=9000, receipt=False)
    result = remittances.import_835(a.practice.id, fixture("835_paid_partial_denied.txt"))
    assert result.invoices == []
    problem = ClaimProblem.get(
        (ClaimProblem.claim == partial.id) & (ClaimProblem.code == "client_overpaid")
    )
    assert "billed $90.00" in problem.message and "refund $25.00" in problem.message


def test_a_primary_claims_client_share_waits_for_the_secondary(three):
    a, _, claims = three
    second = cf.payer(a.practice, name="Second Mutual")
    InsurancePolicy.create(practice=a.practice, client=claims["partial"].client_id,
                           payer=second, member_id="S-1", rank="secondary")  # fmt: skip
    result = remittances.import_835(a.practice.id, fixture("835_paid_partial_denied.txt"))
    assert result.invoices == []
    event = ClaimEvent.get(
        (ClaimEvent.claim == claims["partial"].id) & (ClaimEvent.action == "posted")
    )
    assert "waits for the secondary payer" in event.reason


def test_write_off_the_denied_balance_closes_the_claim(three):
    a, _, claims = three
    remittances.import_835(a.practice.id, fixture("835_paid_partial_denied.txt"))
    denied = Claim.get_by_id(claims["denied"].id)
    with pytest.raises(posting.PostingError, match="Say why"):
        posting.write_off(denied, 10000, "")
    with pytest.raises(posting.PostingError, match=r"Only \$100.00 is open"):
        posting.write_off(denied, 10001, "Not appealed")
    posting.write_off(denied, 4000, "Partly appealed", user=a.owner)
    assert Claim.get_by_id(denied.id).status == "denied"
    claim = posting.write_off(denied, 6000, "Not appealed", user=a.owner)
    assert claim.status == "closed" and claim.balance_cents == 0
    assert claim.written_off_cents == 10000
    assert [w.amount_cents for w in ClaimWriteOff.select().order_by(ClaimWriteOff.id)] == [
        4000,
        6000,
    ]
    assert not ClaimProblem.select().where(ClaimProblem.claim == denied.id).exists()
    last = ClaimEvent.select().where(ClaimEvent.claim == denied.id).order_by(ClaimEvent.id.desc())
    assert last.first().reason == "Wrote off $60.00: Not appealed"


def _reversal_of_101():
    """The payer takes back its payment of claim CLM0000101 (CLP02 22), as it does when it
    processes the void claim: a notice with no money (BPR H), another trace number, and
    the $96 it is owed carried to a later payment (PLB FB, so that BPR02 = CLP04 - PLB)."""
    text = fixture("835_paid_partial_denied.txt").decode("ascii")
    segs = [s.strip() for s in text.split("~") if s.strip()]
    head = segs[: segs.index("LX*1") + 1]
    head = [
        "BPR*H*0*C*NON************20261220" if s.startswith("BPR") else
        "TRN*1*REV20261220001*1131234567" if s.startswith("TRN") else s
        for s in head
    ]  # fmt: skip
    body = ["CLP*CLM0000101*22*-120*-96*0*12*BHH26340000101*11*1",
            "NM1*QC*1*REYES*DANA****MI*XJH123456789", "DTM*050*20261220",
            "SVC*HC:97124*-120*-96**-4", "DTM*472*20261102", "CAS*CO*45*-24",
            "PLB*1234567893*20261231*FB:BHH26340000101*-96"]  # fmt: skip
    st = next(i for i, s in enumerate(head) if s.startswith("ST*"))
    count = len(head) - st + len(body) + 1
    tail = [f"SE*{count}*0001", "GE*1*88001", "IEA*1*000088001"]
    out = "~".join(head + body + tail) + "~"
    assert_valid(out)
    return out.encode("ascii")


def test_the_payers_reversal_of_a_voided_claim_is_posted(three, world):
    a, _, claims = three
    remittances.import_835(a.practice.id, fixture("835_paid_partial_denied.txt"))
    paid = Claim.get_by_id(claims["paid"].id)
    assert paid.paid_cents == 9600
    life.void(paid, "Billed to the wrong payer", user=a.owner)
    result = remittances.import_835(a.practice.id, _reversal_of_101())
    assert result.unmatched == []
    c = Claim.get_by_id(paid.id)
    assert c.status == "void" and (c.paid_cents, c.adjusted_cents) == (0, 0)
    assert sorted(p.paid_cents for p in ClaimPosting.select().where(
        ClaimPosting.claim == c.id)) == [-9600, 9600]  # fmt: skip


def test_a_repeat_names_the_day_of_the_first_import_in_the_practice_zone(three, monkeypatch):
    """Imported at 7:30 PM in Los Angeles (03:30 UTC the next day), the same file again said
    'This file was imported on Dec 13' while the list of remittances showed Dec 12: the
    message now names the practice's day too."""
    a, payer, claims = three
    data = fixture("835_paid_partial_denied.txt")
    monkeypatch.setattr(clock, "utcnow", lambda: dt.datetime(2026, 12, 13, 3, 30))
    remittances.import_835(a.practice.id, data, source="upload")
    with pytest.raises(RemittanceError) as refused:
        remittances.import_835(a.practice.id, data, source="upload")
    assert "This file was imported on Dec 12, 2026 " in str(refused.value)
    other = data.replace(b"DTM*405*20261210", b"DTM*405*20261211")
    with pytest.raises(RemittanceError) as refused:
        remittances.import_835(a.practice.id, other, source="cli")
    assert "payment EFT20261212001 was posted on Dec 12, 2026 from" in str(refused.value)
