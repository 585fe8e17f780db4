"""A claim edited back to draft after it was sent (a correction): the payer still has the
earlier sending, so it is still owed, but what is owed on it waits on the practice (the
correction to send), not on the payer's answer to the bill as it stands. The aging table
counts it on a line of its own, "Being corrected, sent earlier", by its date of service
(a correction does not make the debt younger), apart from the payers' rows and from the
rejected claims no payer has; "Total owed" adds the three. The claims list says which
claims are being corrected and when they were sent; the work list says how the
correction goes out (an original while the payer gave no number: a duplicate risk). The
filing limit still counts from the first receipt, and an 835 answering the earlier
sending still posts to the claim, whose correction then goes out as a replacement."""

import datetime as dt
import html
import re

import pytest

from portal import clock
from portal.models import Claim, ClaimEvent, ClaimLine
from portal.rules import claim_status as cs
from portal.rules import filing_limit
from portal.services.claims import filing, life, queries, reports, worklist
from tests.claims import factories as cf
from tests.claims.era import interchange, transaction
from tests.claims.test_remit_edges import imported
from tests.conftest import login

TODAY = dt.date(2026, 12, 1)
NOW = dt.datetime(2026, 12, 1, 18, 0)
SENT = dt.datetime(2026, 10, 25, 18, 0)
CORRECTING_ROW = "Being corrected, sent earlier"


def _sent(a, days, status, pcn, **kw):
    """A claim of Blue Harbor Health's for a visit `days` ago, sent on SENT ($125.00)."""
    c = cf.claim(a.practice, a.c1, a.provider, policy_obj=a.pol, status=status,
                 appointment=False, day=TODAY - dt.timedelta(days=days), submitted_at=SENT,
                 patient_control_number=pcn, lines=(("97124", 45, 3, 12500),), **kw)  # fmt: skip
    moves = [("ready", "submitted")] + ([("submitted", status)] if status != "submitted" else [])
    for old, new in moves:
        ClaimEvent.create(practice=a.practice, claim=c, action="status", from_status=old,
                          to_status=new, created_at=SENT)  # fmt: skip
    return c


def _edit(claim, user):
    """Edit the claim's line on the claim page's service: it goes back to draft."""
    line = ClaimLine.get(ClaimLine.claim == claim.id)
    return life.edit_line(claim, line.id, units=3, modifiers="", pointers="A",
                          charge_cents=12500, user=user)  # fmt: skip


@pytest.fixture
def owed(side, monkeypatch):
    """With the payer: a claim sent 5 days ago. Being corrected: one submitted and edited
    back before any answer (no payer number: 40 days ago), one accepted with the payer's
    number RG77 and edited back (100 days ago). Rejected, not with the payer: one (10
    days ago). A draft never sent owes nothing."""
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    a = side
    a.with_payer = _sent(a, 5, "submitted", "V1P1")
    a.unnumbered = _edit(_sent(a, 40, "submitted", "V2P1"), a.frontdesk)
    a.numbered = _edit(_sent(a, 100, "accepted", "V3P1", payer_claim_number="RG77"), a.frontdesk)
    a.rejected = _sent(a, 10, "rejected", "V4P1")
    a.never_sent = cf.claim(a.practice, a.c1, a.provider, policy_obj=a.pol, status="draft",
                            appointment=False, day=TODAY - dt.timedelta(days=3),
                            patient_control_number="V5P1")  # fmt: skip
    assert (a.unnumbered.status, a.unnumbered.frequency_code) == ("draft", "1")
    assert (a.numbered.status, a.numbered.frequency_code) == ("draft", "7")
    return a


def _row(page, label):
    found = re.search(rf"<tr[^>]*>\s*<th scope=\"row\">{label}</th>(.*?)</tr>", page, re.S)
    assert found, label
    return re.findall(r"<td class=\"num\">(.*?)</td>", found.group(1), re.S)


def test_a_claim_being_corrected_is_owed_on_a_line_of_its_own(client, owed):
    a = owed
    table = queries.aging(a.owner, TODAY)
    (payer,) = table.rows  # what the payer has as it was sent, and nothing else
    assert payer.buckets == {"0-30": 12500, "31-60": 0, "61-90": 0, "90+": 0}
    assert table.correcting.buckets == {"0-30": 0, "31-60": 12500, "61-90": 0, "90+": 12500}
    assert table.not_received.buckets == {"0-30": 12500, "31-60": 0, "61-90": 0, "90+": 0}
    assert table.payers.total_cents == 12500 and table.payers.count == 1
    parts = table.payers.total_cents + table.correcting.total_cents
    assert table.totals.total_cents == parts + table.not_received.total_cents == 50000
    assert table.totals.count == 4  # the draft never sent is no receivable

    login(client, a.frontdesk)
    page = html.unescape(client.get("/provider/claims/aging").get_data(as_text=True))
    assert "$125.00" in _row(page, "All payers")[4]
    correcting = _row(page, CORRECTING_ROW)
    assert "$125.00" in correcting[1] and "1 claim" in correcting[1] and "—" in correcting[0]
    assert "$250.00" in correcting[4] and "2 claims" in correcting[4]
    assert "$500.00" in _row(page, "Total owed")[4]
    link = re.search(r'href="([^"]+)"', correcting[4]).group(1)
    assert "status=correcting" in link
    listed = client.get(link).get_data(as_text=True)
    assert "V2P1" in listed and "V3P1" in listed
    assert not any(pcn in listed for pcn in ("V1P1", "V4P1", "V5P1"))
    assert '<option value="correcting" selected>Being corrected, sent earlier</option>' in listed
    cell = re.search(r'href="([^"]+)"', _row(page, "Blue Harbor Health")[0]).group(1)
    listed = client.get(cell).get_data(as_text=True)  # what the payer has: V1P1 only
    assert "V1P1" in listed and not any(p in listed for p in ("V2P1", "V3P1", "V4P1"))


def test_the_claims_list_says_which_drafts_are_being_corrected(client, owed):
    login(client, owed.frontdesk)
    page = client.get("/provider/claims").get_data(as_text=True)
    rows = {pcn: row for row in re.findall(r"<tr>(.*?)</tr>", page, re.S)
            for pcn in re.findall(r"<code>(V\dP1)</code>", row)}  # fmt: skip
    for pcn in ("V2P1", "V3P1"):
        assert "Being corrected" in rows[pcn] and "sent Oct 25, 2026" in rows[pcn]
    for pcn in ("V1P1", "V4P1", "V5P1"):  # sent as it is, rejected, never sent
        assert "Being corrected" not in rows[pcn]
    assert ">Draft<" in rows["V5P1"]


def test_the_report_says_the_three_amounts_apart(client, owed):
    a = owed
    report = reports.build(a.practice, TODAY - dt.timedelta(days=120), TODAY)
    assert report.receivable_cents == queries.aging(a.owner, TODAY).totals.total_cents
    assert (report.with_payers_cents, report.correcting_cents, report.not_received_cents) == (
        12500, 25000, 12500)  # fmt: skip
    login(client, a.owner)
    start = TODAY - dt.timedelta(days=120)
    page = html.unescape(client.get(f"/provider/reports?start={start}&end={TODAY}").get_data(
        as_text=True))  # fmt: skip
    assert (
        "Owed by payers on these claims (billed, not settled): <strong>$125.00</strong>; "
        "being corrected, sent earlier (owed on the earlier sending, the correction to send): "
        "<strong>$250.00</strong>; rejected, not with the payer (owed once fixed and sent "
        "again): <strong>$125.00</strong>; in all <strong>$500.00</strong>."
    ) in page


def test_the_work_list_says_how_each_correction_goes_out(owed):
    a = owed
    groups = {g.kind: g for g in worklist.work_list(a.practice.id, NOW)}
    items = {i.claim.id: i for i in groups["correcting"].items}
    assert set(items) == {a.unnumbered.id, a.numbered.id}
    assert "frequency 7" in items[a.numbered.id].next
    unnumbered = items[a.unnumbered.id]
    assert "First sent Oct 25, 2026" in unnumbered.reason
    assert unnumbered.next.startswith("The payer has the earlier sending but gave no claim")
    assert "would go as a new original" in unnumbered.next and "duplicate" in unnumbered.next


def test_the_filing_limit_still_counts_from_the_first_receipt(owed):
    a = owed
    a.pol.payer.filing_limit_days = 90
    a.pol.payer.save()
    claim = Claim.get_by_id(a.unnumbered.id)
    events = ClaimEvent.select().where(ClaimEvent.claim == claim.id).order_by(ClaimEvent.id)
    status = filing.standing(claim, list(events), TODAY, a.practice.tz)
    assert status.state == filing_limit.IN_TIME and status.first_sent == SENT.date()
    assert not [c for c, _ in filing.due(a.practice.id, TODAY, a.practice.tz)]


def test_an_835_answering_the_earlier_sending_still_posts(owed):
    """The payer pays the sending it has (by the patient control number): the money is
    posted to the claim being corrected, which keeps its status (the desk's correction is
    pending), and, now that the payer numbered it, the correction goes out as a
    replacement of that claim (frequency 7), not as a second original (a duplicate)."""
    a = owed
    body = ["CLP*V2P1*1*125*100*0*12*BHH555*11*1", "CAS*CO*45*25"]
    result = imported(a.practice.id, interchange([transaction(body, payment="100",
                                                              trace="EFT55")]))  # fmt: skip
    (posted,) = result.posted
    assert posted.status == cs.DRAFT and not result.unmatched
    claim = Claim.get_by_id(a.unnumbered.id)
    assert (claim.paid_cents, claim.adjusted_cents, claim.balance_cents) == (10000, 2500, 0)
    assert (claim.payer_claim_number, claim.frequency_code) == ("BHH555", cs.CORRECTED)
    table = queries.aging(a.owner, TODAY)
    assert table.correcting.count == 1  # settled: the numbered one is left


def test_a_payer_number_typed_in_makes_the_correction_a_replacement(owed):
    a = owed
    claim = life.set_payer_claim_number(a.unnumbered, "BHH556", user=a.frontdesk)
    assert claim.frequency_code == cs.CORRECTED
    never = life.set_payer_claim_number(a.never_sent, "BHH557", user=a.frontdesk)
    assert never.frequency_code == cs.ORIGINAL  # never sent: nothing to replace
