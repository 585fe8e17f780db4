"""The payer's filing limit where the desk sees it: the work list's claims running out of
time (not received by the payer, the deadline within 14 days or past, soonest first), and
the deadline next to the date of service on the claim page."""

import datetime as dt

import pytest

from portal import clock
from portal.models import ClaimEvent, ClaimProblem, Remittance
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


# --- a secondary claim counts from the primary's answer -----------------------------------


def answered(primary, status, *, posted, paid_on=None):
    """The primary's answer in its history: from an 835 paying on `paid_on`, or posted by
    hand (`paid_on` None); `posted`: when, in UTC."""
    remittance = None
    if paid_on is not None:
        remittance = Remittance.create(
            practice=primary.practice_id,
            sha256=f"{primary.id:064d}",
            trace_number=f"T{primary.id}",
            payment_date=paid_on,
        )
    ClaimEvent.create(practice=primary.practice_id, claim=primary, action="posted",
                      from_status="accepted", to_status=status, remittance=remittance,
                      created_at=posted)  # fmt: skip


@pytest.fixture
def secondaries(app, world, monkeypatch):
    """Secondary claims to a 90-day payer, made long after their visits, and their primaries
    (to a payer with no limit known)."""
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    a = world.a
    first = cf.payer(a.practice, name="First Health")
    second = cf.payer(a.practice, name="Second Health", filing_limit_days=90)

    def pair(days_ago):
        primary = cf.claim(
            a.practice,
            a.c1,
            a.provider,
            payer_obj=first,
            day=ago(days_ago),
            appointment=False,
            status="paid",
            submitted_at=dt.datetime.combine(ago(days_ago - 2), dt.time(18)),
        )
        secondary = cf.claim(a.practice, a.c1, a.provider, payer_obj=second, day=ago(days_ago),
                             appointment=False, status="draft", rank="secondary",
                             primary_claim=primary, primary_paid_cents=8000)  # fmt: skip
        sent(primary, "submitted", "accepted", on=ago(days_ago - 2))
        return primary, secondary

    out = {}
    # The visit 100 days ago, the primary's 835 paid 7 days ago (posted 5 days ago): 83 days
    # left from the payment, where the date of service would make it 10 days late.
    primary, out["paid_week_ago"] = pair(100)
    answered(primary, "paid", posted=dt.datetime.combine(ago(5), dt.time(18)), paid_on=ago(7))
    # The same with no answer of the primary on record: from the date of service, late.
    _, out["not_known"] = pair(100)
    # Paid by hand at 05:00 UTC, 22:00 the day before in Los Angeles: the local day counts
    # (11 days left; the UTC day would leave 12).
    primary, out["by_hand_due"] = pair(150)
    answered(primary, "paid", posted=dt.datetime.combine(ago(78), dt.time(5)))
    # Denied, then paid on appeal: the first answer starts the clock (13 days left).
    primary, out["denied_first"] = pair(150)
    answered(primary, "denied", posted=dt.datetime.combine(ago(77), dt.time(18)))
    answered(primary, "paid", posted=dt.datetime.combine(ago(20), dt.time(18)))
    # Paid by hand 75 days ago at 13:00 in Los Angeles: 15 days left, not yet listed.
    primary, out["window_edge"] = pair(150)
    answered(primary, "paid", posted=dt.datetime.combine(ago(75), dt.time(20)))
    return out


def test_a_secondary_claim_counts_its_limit_from_the_primarys_payment(client, world, secondaries):
    login(client, world.a.frontdesk)
    page = _body(client.get("/provider/claims/worklist"))
    group = page[page.index('id="work-filing"') :]
    group = group[: group.index("</section>")]
    listed = [k for k, c in secondaries.items() if c.patient_control_number in group]
    assert sorted(listed) == ["by_hand_due", "denied_first", "not_known"]
    at = {k: group.index(secondaries[k].patient_control_number) for k in listed}
    assert at["not_known"] < at["by_hand_due"] < at["denied_first"]  # May 21, Jun 11, Jun 13
    for words in (
        "Past the filing limit on May 21, 2026: the payer will deny it (CARC 29)",
        "File by Jun 11, 2026 (11 days left of the payer&#39;s 90-day filing limit after the "
        "primary&#39;s payment on Mar 13, 2026).",
        "File by Jun 13, 2026 (13 days left of the payer&#39;s 90-day filing limit after the "
        "primary&#39;s denial on Mar 15, 2026).",
    ):
        assert words in group, words
    assert "write it off" not in group.split(secondaries["by_hand_due"].patient_control_number)[1]

    def deadline(key):
        facts = _body(client.get(f"/provider/claims/{secondaries[key].id}"))
        facts = facts[facts.index("<dt>Date of service</dt>") :]
        return facts[: facts.index("</dd>")]

    facts = deadline("paid_week_ago")
    assert "Feb 20, 2026" in facts  # the date of service, 100 days ago
    assert (
        "File by Aug 22, 2026 (83 days left of the payer&#39;s 90-day filing limit after the "
        "primary&#39;s payment on May 24, 2026)." in facts
    )
    assert "filing-warn" not in facts
    facts = deadline("not_known")
    assert "Past the filing limit on May 21, 2026: the payer will deny it" in facts
    assert "primary" not in facts
    assert "(15 days left" in deadline("window_edge")
    assert "(11 days left" in deadline("by_hand_due")


def test_a_held_or_rejected_claim_running_out_of_time_is_listed_once_with_what_to_fix(
    client, world, claims
):
    a = world.a
    problems = {
        "late": "Enter the member ID from the insurance card.",
        "rejected": "Rejected for invalid information: NPI.",
    }
    for key, message in problems.items():
        ClaimProblem.create(practice=a.practice, claim=claims[key], code="x", message=message)
    # held too, with a year to go: it stays with the held claims
    payer = claims["open"].payer
    later = cf.claim(a.practice, a.c2, a.provider, payer_obj=payer, day=ago(3), held=True,
                     appointment=False, status="draft")  # fmt: skip
    ClaimProblem.create(practice=a.practice, claim=later, code="y", message="Add the referral.")
    login(client, a.frontdesk)
    page = _body(client.get("/provider/claims/worklist"))
    groups = {}
    for section in page.split('<section class="card work-group" id="work-')[1:]:
        kind, rest = section.split('"', 1)
        groups[kind] = rest[: rest.index("</section>")]
    for key in ("late", "rejected"):
        pcn = claims[key].patient_control_number
        assert page.count(pcn) == 1, key
        assert pcn in groups["filing"]
        item = groups["filing"].split(pcn)[1].split("</article>")[0]
        assert problems[key] in item
    late = groups["filing"].split(claims["late"].patient_control_number)[1]
    assert "Past the filing limit on May 26, 2026" in late.split("</article>")[0]
    assert "Held: Enter the member ID from the insurance card." in late
    assert "Rejected: Rejected for invalid information: NPI." in groups["filing"]
    assert "rejected" not in groups  # its only rejected claim is running out of time
    assert later.patient_control_number in groups["held"] and "Add the referral." in groups["held"]
    assert later.patient_control_number not in groups["filing"]
