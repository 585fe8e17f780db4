"""A claim the clearinghouse (or the payer's front end) rejected is still money owed, but
the payer never received it: the aging table shows it on a line of its own, "Rejected,
not with the payer", not in the payer's buckets, and the totals add up. So does a
rejected claim being fixed (edited back to draft or ready, never numbered by the payer):
it goes out again as an original, not as a correction of a bill the payer has. The line's
cells list exactly those claims; the payer's cells what the payer has."""

import datetime as dt
import html
import re

import pytest

from portal import clock
from portal.models import ClaimEvent
from portal.services.claims import queries, reports, worklist
from tests.claims import factories as cf
from tests.conftest import login

TODAY = dt.date(2026, 12, 1)
NOW = dt.datetime(2026, 12, 1, 18, 0)
FIXING_ROW = '<td>Rejected, being fixed (not with the payer)</td><td class="num">1</td>'
SENT = dt.datetime(2026, 10, 25, 18, 0)


def _history(claim, *moves):
    """Rows of the claim's history: (from, to) status moves, an hour apart."""
    for n, (old, new) in enumerate(moves):
        ClaimEvent.create(practice=claim.practice_id, claim=claim.id, action="status",
                          from_status=old, to_status=new,
                          created_at=SENT + dt.timedelta(hours=n))  # fmt: skip


@pytest.fixture
def owed(app, ctx, world, monkeypatch):
    """Regence's claims, $125.00 each: what Regence has (submitted 5 days ago, accepted
    45; and a correction of an accepted claim 100, counted apart as being corrected:
    tests/claims/test_aging_correcting.py) and what it never received (rejected 10 days
    ago; rejected 40 days ago and being fixed, back to draft)."""
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    a = world.a
    payer = cf.payer(a.practice, name="Regence")
    pol = cf.policy(a.practice, a.c1, payer)

    def claim(days, status, **kw):
        return cf.claim(a.practice, a.c1, a.provider, policy_obj=pol, status=status,
                        appointment=False, day=TODAY - dt.timedelta(days=days),
                        submitted_at=SENT, **kw)  # fmt: skip

    has = [claim(5, "submitted"), claim(45, "accepted"),
           claim(100, "draft", payer_claim_number="RG77", frequency_code="7")]  # fmt: skip
    _history(has[2], ("ready", "submitted"), ("submitted", "accepted"), ("accepted", "draft"))
    rejected = claim(10, "rejected")
    _history(rejected, ("ready", "submitted"), ("submitted", "rejected"))
    fixing = claim(40, "draft")
    _history(fixing, ("ready", "submitted"), ("submitted", "rejected"), ("rejected", "draft"))
    # sent again since its rejection: the payer has it
    again = claim(20, "submitted")
    _history(again, ("ready", "submitted"), ("submitted", "rejected"), ("rejected", "draft"),
             ("draft", "ready"), ("ready", "submitted"))  # fmt: skip
    cf.claim(world.b.practice, world.b.c1, world.b.provider, status="rejected")
    return a, has + [again], [rejected, fixing]


def _row(page, label):
    found = re.search(rf"<tr[^>]*>\s*<th scope=\"row\">{label}</th>(.*?)</tr>", page, re.S)
    assert found, label
    return re.findall(r"<td class=\"num\">(.*?)</td>", found.group(1), re.S)


def test_rejected_claims_are_owed_on_a_line_apart_from_the_payers(app, client, owed):
    a, has, never = owed
    table = queries.aging(a.owner, TODAY)
    (regence,) = table.rows
    assert regence.buckets == {"0-30": 25000, "31-60": 12500, "61-90": 0, "90+": 0}
    assert table.correcting.buckets == {"0-30": 0, "31-60": 0, "61-90": 0, "90+": 12500}
    assert table.not_received.buckets == {"0-30": 12500, "31-60": 12500, "61-90": 0, "90+": 0}
    assert table.not_received.count == 2
    assert table.payers.total_cents == 37500 and table.payers.count == 3
    assert table.totals.total_cents == 75000 and table.totals.count == 6  # adds up

    login(client, a.frontdesk)
    page = html.unescape(client.get("/provider/claims/aging").get_data(as_text=True))
    assert "$375.00" in _row(page, "All payers")[4]
    assert "$125.00" in _row(page, "Being corrected, sent earlier")[4]
    rejected = _row(page, "Rejected, not with the payer")
    assert "$125.00" in rejected[0] and "1 claim" in rejected[0] and "—" in rejected[2]
    assert "$250.00" in rejected[4] and "2 claims" in rejected[4]
    assert "$750.00" in _row(page, "Total owed")[4]

    link = re.search(r'href="([^"]+)"', rejected[4]).group(1)
    assert "status=not_received" in link
    listed = client.get(link).get_data(as_text=True)
    assert all(c.patient_control_number in listed for c in never)
    assert not any(c.patient_control_number in listed for c in has)
    assert '<option value="not_received" selected>Rejected, not with the payer</option>' in listed
    cell = re.search(r'href="([^"]+)"', _row(page, "Regence")[0]).group(1)
    listed = client.get(cell).get_data(as_text=True)  # Regence's 0-30: the submitted ones
    assert [c.patient_control_number in listed for c in has] == [True, False, False, True]
    assert not any(c.patient_control_number in listed for c in never)


def test_the_report_and_the_work_list_say_who_has_the_claims(app, client, owed):
    a, has, never = owed
    report = reports.build(a.practice, TODAY - dt.timedelta(days=120), TODAY)
    assert report.receivable_cents == queries.aging(a.owner, TODAY).totals.total_cents
    assert (report.with_payers_cents, report.not_received_cents) == (37500, 25000)
    assert report.correcting_cents == 12500
    by_label = {s.label: (s.count, s.balance_cents) for s in report.statuses}
    assert by_label[reports.CORRECTING_LABEL] == (1, 12500)  # the numbered one only
    assert by_label[reports.FIXING_LABEL] == (1, 12500)

    # The rejected claim being fixed goes out as an original: not "send the correction".
    groups = {g.kind: g for g in worklist.work_list(a.practice.id, NOW)}
    correcting = [i.claim.id for i in groups["correcting"].items]
    assert correcting == [has[2].id]

    login(client, a.owner)
    start = TODAY - dt.timedelta(days=120)
    page = html.unescape(client.get(f"/provider/reports?start={start}&end={TODAY}").get_data(
        as_text=True))  # fmt: skip
    assert (
        "Owed by payers on these claims (billed, not settled): <strong>$375.00</strong>; "
        "being corrected, sent earlier (owed on the earlier sending, the correction to "
        "send): <strong>$125.00</strong>; "
        "rejected, not with the payer (owed once fixed and sent again): <strong>$250.00"
        "</strong>; in all <strong>$750.00</strong>."
    ) in page
    assert FIXING_ROW in page
