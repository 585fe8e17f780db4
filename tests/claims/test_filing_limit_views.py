"""The payer's filing limit where the desk sees it: the work list's claims running out of
time (not received by the payer, the deadline within 14 days or past, soonest first), and
the deadline next to the date of service on the claim page."""

import datetime as dt

import pytest

from portal import clock
from portal.models import ClaimEvent
from tests.claims import factories as cf
from tests.conftest import login

# 05:00 UTC on Jun 01 is 22:00 on May 31 in Los Angeles: the practice's today is May 31.
NOW = dt.datetime(2026, 6, 1, 5, 0)
TODAY = dt.date(2026, 5, 31)
GROUP = "Running out of time to file"


def ago(days):
    return TODAY - dt.timedelta(days=days)


def sent(claim, *statuses, on):
    """The claim's history: sends and their answers, from `on` a day apart."""
    when = dt.datetime.combine(on, dt.time(18, 0))
    for n, status in enumerate(statuses):
        ClaimEvent.create(practice=claim.practice_id, claim=claim, action="status",
                          to_status=status, created_at=when + dt.timedelta(days=n))  # fmt: skip


@pytest.fixture
def claims(app, world, monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    a, b = world.a, world.b
    payer = cf.payer(a.practice, name="Ninety Day Health", filing_limit_days=90)
    unknown = cf.payer(a.practice, name="No Limit Known")
    theirs = cf.payer(b.practice, name="Their Payer", filing_limit_days=90)

    def claim(side, day, payer_obj, **kw):
        return cf.claim(side.practice, side.c1, side.provider, payer_obj=payer_obj, day=day,
                        appointment=False, **kw)  # fmt: skip

    out = {
        "due": claim(a, ago(80), payer, status="draft"),
        "late": claim(a, ago(95), payer, status="ready", held=True),
        "rejected": claim(a, ago(85), payer, status="rejected",
                          submitted_at=dt.datetime.combine(ago(10), dt.time(18))),
        "in_time": claim(a, ago(95), payer, status="submitted",
                         submitted_at=dt.datetime.combine(ago(85), dt.time(18))),
        "correcting": claim(a, ago(95), payer, status="draft", frequency_code="7",
                            submitted_at=dt.datetime.combine(ago(85), dt.time(18))),
        "fixing": claim(a, ago(88), payer, status="draft",
                        submitted_at=dt.datetime.combine(ago(12), dt.time(18))),
        "open": claim(a, ago(30), payer, status="draft"),
        "unknown": claim(a, ago(200), unknown, status="draft"),
        "void": claim(a, ago(95), payer, status="void"),
        "theirs": claim(b, ago(95), theirs, status="draft"),
    }  # fmt: skip
    sent(out["rejected"], "submitted", "rejected", on=ago(10))
    sent(out["in_time"], "submitted", "accepted", on=ago(85))
    # rejected, then edited back to draft to fix it: the payer never had it
    sent(out["fixing"], "submitted", "rejected", "draft", on=ago(12))
    sent(out["correcting"], "submitted", "accepted", "paid", "draft", on=ago(85))
    return out


def _body(r):
    return r.get_data(as_text=True)


def test_the_work_list_lists_claims_running_out_of_time_soonest_first(client, world, claims):
    login(client, world.a.frontdesk)
    r = client.get("/provider/claims/worklist")
    assert r.status_code == 200
    page = _body(r)
    assert GROUP in page
    group = page[page.index('id="work-filing"') :]
    group = group[: group.index("</section>")]
    listed = [k for k, c in claims.items() if c.patient_control_number in group]
    assert sorted(listed) == ["due", "fixing", "late", "rejected"]
    at = {k: group.index(claims[k].patient_control_number) for k in listed}
    assert at["late"] < at["rejected"] < at["due"]  # by deadline: May 26, Jun 05, Jun 10
    for words in (
        "Past the filing limit on May 26, 2026: the payer will deny it (CARC 29); appeal with "
        "proof of timely filing or write it off.",
        "File by Jun 05, 2026 (5 days left of the payer&#39;s 90-day filing limit).",
        "File by Jun 10, 2026 (10 days left of the payer&#39;s 90-day filing limit).",
    ):
        assert words in group, words
    assert claims["theirs"].patient_control_number not in page


def test_the_claim_page_shows_the_deadline_next_to_the_date_of_service(client, world, claims):
    login(client, world.a.frontdesk)
    page = _body(client.get(f"/provider/claims/{claims['due'].id}"))
    facts = page[page.index("<dt>Date of service</dt>") :]
    facts = facts[: facts.index("</dd>")]
    assert "Mar 12, 2026" in facts and "File by Jun 10, 2026 (10 days left" in facts
    page = _body(client.get(f"/provider/claims/{claims['late'].id}"))
    assert "Past the filing limit on May 26, 2026" in page
    for sent_in_time in ("in_time", "correcting", "unknown"):
        page = _body(client.get(f"/provider/claims/{claims[sent_in_time].id}"))
        assert "File by" not in page and "Past the filing limit" not in page, sent_in_time
    assert client.get(f"/provider/claims/{claims['theirs'].id}").status_code == 404


def test_the_therapist_sees_no_work_list_and_the_logged_out_go_to_login(client, world, claims):
    r = client.get("/provider/claims/worklist")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    login(client, world.a.therapist)
    assert client.get("/provider/claims/worklist").status_code == 404
    client.post("/logout")
    login(client, world.a.owner)
    assert GROUP in _body(client.get("/provider/claims/worklist"))
