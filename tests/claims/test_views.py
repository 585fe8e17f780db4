"""The claims pages through the real routes: the list and its filters, the aging table,
the claim page with its problems and where to fix them, the actions and edits, the
settings; and who may open what (another practice, a client, a therapist, logged out)."""

import datetime as dt
import re

import pytest

from portal import clock
from portal.models import AuditLog, Claim, ClaimLine, ClaimSettings, Referral
from portal.rules import claim_status as cs
from portal.rules.money import format_cents
from portal.services.claims import build, life
from tests.claims import factories as cf
from tests.claims.sql_counter import count_queries
from tests.conftest import login

TODAY = dt.date(2026, 12, 1)


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: dt.datetime(2026, 12, 1, 18, 0))


def _held_claim(world):
    """A claim held because the payer needs a referral and none is on file."""
    appt, policy = cf.insured_visit(world.a, payer_kw={"referral_required": True})
    [claim] = build.create_for_visit(appt)
    assert claim.held
    return claim, policy


def test_list_shows_claims_filters_and_pages(app, client, world, frozen):
    a = world.a
    with app.test_request_context():
        rows = [
            cf.claim(
                a.practice, a.c1, a.provider, status="submitted", day=TODAY - dt.timedelta(days=d)
            )
            for d in (5, 45, 75, 120)
        ]
        paid = cf.claim(
            a.practice, a.c2, a.provider, status="paid", day=TODAY - dt.timedelta(days=3)
        )
        foreign = cf.claim(world.b.practice, world.b.c1, world.b.provider)
    login(client, a.frontdesk)
    r = client.get("/provider/claims")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for c in rows + [paid]:
        assert f"/provider/claims/{c.id}" in html and c.patient_control_number in html
    assert foreign.patient_control_number not in html
    assert a.c1.last_name in html
    # by status
    html = client.get("/provider/claims?status=paid").get_data(as_text=True)
    assert paid.patient_control_number in html and rows[0].patient_control_number not in html
    # by age: 31-60 days holds the 45-day-old claim only
    html = client.get("/provider/claims?age=31-60").get_data(as_text=True)
    assert rows[1].patient_control_number in html
    assert rows[0].patient_control_number not in html and rows[2].patient_control_number not in html
    html = client.get("/provider/claims?age=90%2B").get_data(as_text=True)
    assert rows[3].patient_control_number in html and rows[2].patient_control_number not in html
    # by payer
    html = client.get(f"/provider/claims?payer={paid.payer_id}").get_data(as_text=True)
    assert paid.patient_control_number in html and rows[0].patient_control_number not in html
    # nonsense filters are ignored, never an error
    for q in ("status=nope", "age=7", "payer=abc", "page=-4", "page=99999999999",
              "payer=99999999999999999999999999", "page=1e9"):  # fmt: skip
        assert client.get("/provider/claims?" + q).status_code == 200
    assert "No claims match" in client.get("/provider/claims?status=appealed").get_data(
        as_text=True
    )


def test_list_pages_by_fifty(app, client, world):
    a = world.a
    with app.test_request_context():
        for n in range(52):
            cf.claim(
                a.practice,
                a.c1,
                a.provider,
                appointment=False,
                day=dt.date(2026, 1, 1) + dt.timedelta(days=n),
            )
    login(client, a.owner)
    first = client.get("/provider/claims").get_data(as_text=True)
    assert first.count('class="row-link"') == 50 and "page=2" in first
    second = client.get("/provider/claims?page=2").get_data(as_text=True)
    assert second.count('class="row-link"') == 2 and "Newer" in second


def test_list_runs_a_fixed_number_of_queries(app, client, world):
    """No N+1: one query for the rows, whether the page holds one claim or fifty."""
    a = world.a

    def claims(n, client_obj, start):
        with app.test_request_context():
            for i in range(n):
                cf.claim(
                    a.practice,
                    client_obj,
                    a.provider,
                    appointment=False,
                    day=start + dt.timedelta(days=i),
                )

    claims(1, a.c1, dt.date(2026, 1, 1))
    login(client, a.owner)
    client.get("/provider/claims")  # the session is checked again after a write: warm it
    with count_queries() as one:
        assert client.get("/provider/claims?status=ready").status_code == 200
    claims(59, a.c2, dt.date(2025, 1, 1))
    client.get("/provider/claims")
    with count_queries() as fifty:
        html = client.get("/provider/claims?status=ready").get_data(as_text=True)
    assert html.count('class="row-link"') == 50
    assert fifty.count == one.count <= 4, (one.statements, fifty.statements)


def test_aging_table_per_payer(app, client, world, frozen):
    a = world.a
    with app.test_request_context():
        payer = cf.payer(a.practice, name="Regence")
        pol = cf.policy(a.practice, a.c1, payer)
        for days, status in ((5, "submitted"), (45, "accepted"), (100, "denied"), (10, "ready")):
            cf.claim(a.practice, a.c1, a.provider, policy_obj=pol, status=status,
                     appointment=False, day=TODAY - dt.timedelta(days=days))  # fmt: skip
        cf.claim(a.practice, a.c1, a.provider, policy_obj=pol, status="paid", appointment=False,
                 day=TODAY - dt.timedelta(days=20), paid_cents=12500)  # fmt: skip
        cf.claim(world.b.practice, world.b.c1, world.b.provider, status="submitted")
    login(client, a.frontdesk)
    r = client.get("/provider/claims/aging")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    row = re.search(r"<tr>\s*<th scope=\"row\">Regence</th>(.*?)</tr>", html, re.S).group(1)
    cells = re.findall(r"<td class=\"num\">(.*?)</td>", row, re.S)
    assert "$125.00" in cells[0] and "age=0-30" in cells[0]  # the submitted one (not the ready)
    assert "$125.00" in cells[1]
    assert "—" in cells[2]
    assert "$125.00" in cells[3]
    assert "$375.00" in cells[4] and "3 claims" in cells[4]
    assert world.b.practice.name not in html
    # the list page loads the table by HTMX, and links to it without JavaScript
    lst = client.get("/provider/claims").get_data(as_text=True)
    assert 'hx-get="/provider/claims/aging"' in lst and 'href="/provider/claims/aging"' in lst
    frag = client.get("/provider/claims/aging", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert frag.lstrip().startswith('<section id="aging"') and "<html" not in frag


def test_an_aging_cell_links_to_the_claims_it_counts(app, client, world, frozen):
    """The aging table's '0-30 days: $125.00, 1 claim' opened a list of every claim of the
    payer in that age, the ready one not yet sent and the paid one too (3 rows for '1
    claim'): the cell's link now lists what the payer owes ('Owed by the payer')."""
    a = world.a
    with app.test_request_context():
        payer = cf.payer(a.practice, name="Regence")
        pol = cf.policy(a.practice, a.c1, payer)
        owed = cf.claim(a.practice, a.c1, a.provider, policy_obj=pol, status="submitted",
                        appointment=False, day=TODAY - dt.timedelta(days=5))  # fmt: skip
        others = [
            cf.claim(
                a.practice,
                a.c1,
                a.provider,
                policy_obj=pol,
                status=status,
                appointment=False,
                day=TODAY - dt.timedelta(days=days),
                **kw,
            )  # fmt: skip
            for days, status, kw in (
                (10, "ready", {}),
                (20, "paid", {"paid_cents": 25000}),
                (12, "draft", {}),
            )
        ]
    login(client, a.frontdesk)
    html = client.get("/provider/claims/aging").get_data(as_text=True)
    row = re.search(r"<tr>\s*<th scope=\"row\">Regence</th>(.*?)</tr>", html, re.S).group(1)
    link = re.search(r'href="([^"]+)"', row).group(1).replace("&amp;", "&")
    assert "1 claim" in row and "status=owed" in link
    listed = client.get(link).get_data(as_text=True)
    assert owed.patient_control_number in listed
    for c in others:
        assert c.patient_control_number not in listed
    assert '<option value="owed" selected>Owed by the payer</option>' in listed


def test_claim_page_shows_the_claim_and_where_to_fix_its_problems(app, client, world):
    with app.test_request_context():
        claim, policy = _held_claim(world)
    login(client, world.a.frontdesk)
    r = client.get(f"/provider/claims/{claim.id}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert claim.patient_control_number in html and "Held" in html
    assert "requires a physician&#39;s referral" in html
    back = f"?back=%2Fprovider%2Fclaims%2F{claim.id}"  # the way back (test_fix_return.py)
    assert f'href="/provider/clients/{claim.client_id}/referrals/new{back}"' in html
    assert "97124" in html and "97140" in html and "M54.50" in html and "M62.830" in html
    assert "Check again and mark ready" in html
    assert "History" in html and "The claim was made from the visit" in html
    assert (
        AuditLog.select()
        .where((AuditLog.action == "claim.view") & (AuditLog.object_id == claim.id))
        .exists()
    )


def test_front_desk_adds_the_referral_and_the_claim_becomes_ready(app, client, world):
    with app.test_request_context():
        claim, policy = _held_claim(world)
    login(client, world.a.frontdesk)
    r = client.post(f"/provider/claims/{claim.id}/check")
    assert r.status_code == 303
    assert Claim.get_by_id(claim.id).status == cs.DRAFT
    Referral.create(
        practice=world.a.practice,
        client=claim.client_id,
        policy=policy,
        referring_name="Dr. Ana Whitfield, MD",
        referring_npi="1790000008",
        referral_date=dt.date(2026, 10, 1),
    )
    r = client.post(f"/provider/claims/{claim.id}/check", follow_redirects=True)
    assert "It is ready to send" in r.get_data(as_text=True)
    c = Claim.get_by_id(claim.id)
    assert c.status == cs.READY and not c.held and c.referral_id is not None


def test_edit_a_line_with_errors_next_to_the_field(app, client, world):
    with app.test_request_context():
        appt, _ = cf.insured_visit(world.a)
        [claim] = build.create_for_visit(appt)
    line = ClaimLine.get((ClaimLine.claim == claim.id) & (ClaimLine.position == 1))
    login(client, world.a.frontdesk)
    assert client.get(f"/provider/claims/{claim.id}/edit").status_code == 200
    p = f"line-{line.id}-"
    bad = {p + "units": "0", p + "modifiers": "", p + "pointers": "Q", p + "charge": "ninety"}
    r = client.post(f"/provider/claims/{claim.id}/lines/{line.id}", data=bad)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "Units are 1 to 99." in html
    ok = {p + "units": "3", p + "modifiers": "", p + "pointers": "A", p + "charge": "ninety"}
    r = client.post(f"/provider/claims/{claim.id}/lines/{line.id}", data=ok)
    assert r.status_code == 400 and "Enter an amount like 85" in r.get_data(as_text=True)
    ok[p + "charge"] = "95.00"
    ok[p + "pointers"] = "Z"
    r = client.post(f"/provider/claims/{claim.id}/lines/{line.id}", data=ok)
    assert r.status_code == 400 and "not a diagnosis letter" in r.get_data(as_text=True)
    assert ClaimLine.get_by_id(line.id).charge_cents == 9000  # nothing half-written
    ok[p + "pointers"] = "A"
    r = client.post(f"/provider/claims/{claim.id}/lines/{line.id}", data=ok)
    assert r.status_code == 303
    assert ClaimLine.get_by_id(line.id).charge_cents == 9500
    c = Claim.get_by_id(claim.id)
    assert c.status == cs.DRAFT and c.total_cents == 9500 + 3500


def test_edit_diagnoses_and_details(app, client, world):
    with app.test_request_context():
        appt, policy = cf.insured_visit(world.a)
        [claim] = build.create_for_visit(appt)
        ref = Referral.create(
            practice=world.a.practice,
            client=claim.client_id,
            referring_name="Ana Whitfield",
            referring_npi="1790000008",
            referral_date=dt.date(2026, 10, 1),
        )
        foreign = Referral.create(
            practice=world.b.practice,
            client=world.b.c1,
            referring_name="X Y",
            referral_date=dt.date(2026, 10, 1),
        )
    login(client, world.a.frontdesk)
    r = client.post(f"/provider/claims/{claim.id}/diagnoses", data={"dx-codes": "M54.5"})
    assert r.status_code == 400 and "category, not a billable code" in r.get_data(as_text=True)
    r = client.post(f"/provider/claims/{claim.id}/diagnoses", data={"dx-codes": "M54.50, M54.2"})
    assert r.status_code == 303
    d = {
        "details-place_of_service": "12",
        "details-referral": str(ref.id),
        "details-authorization": "0",
    }
    assert client.post(f"/provider/claims/{claim.id}/details", data=d).status_code == 303
    c = Claim.get_by_id(claim.id)
    assert (c.place_of_service, c.referral_id) == ("12", ref.id)
    d["details-referral"] = str(foreign.id)  # another practice's referral: not a choice
    r = client.post(f"/provider/claims/{claim.id}/details", data=d)
    assert r.status_code == 400 and Claim.get_by_id(claim.id).referral_id == ref.id
    d = {"details-place_of_service": "99", "details-referral": "0", "details-authorization": "0"}
    assert client.post(f"/provider/claims/{claim.id}/details", data=d).status_code == 400


def test_void_close_appeal_from_the_page(app, client, world):
    with app.test_request_context():
        appt, _ = cf.insured_visit(world.a)
        [claim] = build.create_for_visit(appt)
        life.change_status(claim, cs.SUBMITTED)
        life.change_status(claim, cs.DENIED)
    login(client, world.a.owner)
    html = client.get(f"/provider/claims/{claim.id}").get_data(as_text=True)
    assert "Appeal" in html and "Close" in html and "enter it</a>" in html  # void needs the number
    r = client.post(f"/provider/claims/{claim.id}/void", data={"void-reason": "Wrong payer."})
    assert r.status_code == 409 and "payer&#39;s claim number" in r.get_data(as_text=True)
    r = client.post(
        f"/provider/claims/{claim.id}/payer-claim-number",
        data={"number-payer_claim_number": "PX9"},
    )
    assert r.status_code == 303
    r = client.post(f"/provider/claims/{claim.id}/void", data={"void-reason": "Wrong payer."})
    assert r.status_code == 303
    c = Claim.get_by_id(claim.id)
    assert (c.status, c.frequency_code) == (cs.VOID, "8")
    html = client.get(f"/provider/claims/{claim.id}").get_data(as_text=True)
    assert "Bill the visit again" in html and "Void the claim" not in html
    r = client.post(f"/provider/claims/{claim.id}/rebill")
    assert r.status_code == 303
    assert Claim.select().where(Claim.appointment == appt.id).count() == 2


def test_appeal_and_close_from_the_page(app, client, world):
    with app.test_request_context():
        claim = cf.claim(world.a.practice, world.a.c1, world.a.provider, status="denied")
    login(client, world.a.frontdesk)
    r = client.post(f"/provider/claims/{claim.id}/appeal", data={"appeal-reason": ""})
    assert r.status_code == 400 and "Say why." in r.get_data(as_text=True)
    r = client.post(f"/provider/claims/{claim.id}/appeal", data={"appeal-reason": "Letter sent."})
    assert r.status_code == 303 and Claim.get_by_id(claim.id).status == cs.APPEALED
    html = client.get(f"/provider/claims/{claim.id}").get_data(as_text=True)
    assert "Letter sent." in html and "Void the claim" not in html
    c = Claim.get_by_id(claim.id)
    assert f"Close (writes off the {format_cents(c.balance_cents)} still open)" in html
    r = client.post(f"/provider/claims/{claim.id}/close", data={"close-reason": "Appeal lost."})
    c = Claim.get_by_id(claim.id)
    assert r.status_code == 303 and (c.status, c.balance_cents) == (cs.CLOSED, 0)
    html = client.get(f"/provider/claims/{claim.id}").get_data(as_text=True)
    assert "Wrote off" in html and "Appeal lost." in html
    r = client.post(f"/provider/claims/{claim.id}/void", data={"void-reason": "x"})
    assert r.status_code == 409 and "cannot go from Closed to Void" in r.get_data(as_text=True)


def test_use_note_minutes_from_the_page(app, client, world):
    with app.test_request_context():
        appt, _ = cf.insured_visit(world.a, checkout={"97124": 60})
        [claim] = build.create_for_visit(appt)
    login(client, world.a.frontdesk)
    html = client.get(f"/provider/claims/{claim.id}").get_data(as_text=True)
    assert 'href="#use-note-minutes"' in html and 'id="use-note-minutes"' in html
    r = client.post(f"/provider/claims/{claim.id}/use-note-minutes", follow_redirects=True)
    assert "The claim is ready now" in r.get_data(as_text=True)


def test_settings_page_is_the_owners(app, client, world):
    login(client, world.a.owner)
    assert client.get("/provider/settings/claims").status_code == 200
    r = client.post(
        "/provider/settings/claims",
        data={"bill_as": "provider", "default_place_of_service": "12", "no_response_days": "45",
              "signature_on_file": "y"},
    )  # fmt: skip
    assert r.status_code == 303
    s = ClaimSettings.get(ClaimSettings.practice == world.a.practice.id)
    assert (s.bill_as, s.default_place_of_service, s.no_response_days) == ("provider", "12", 45)
    assert s.signature_on_file and not s.cash_checkout_without_note
    assert (s.print_offset_x_mm, s.print_offset_y_mm) == (0, 0)  # claims-paper's fields
    r = client.post(
        "/provider/settings/claims",
        data={"bill_as": "nobody", "default_place_of_service": "12", "no_response_days": "1"},
    )
    assert r.status_code == 400
    assert AuditLog.select().where(AuditLog.action == "claim_settings.update").count() == 1
    for who in (world.a.frontdesk, world.a.therapist):
        client.post("/logout")
        login(client, who)
        assert client.get("/provider/settings/claims").status_code == 404


# --- who may open what ---------------------------------------------------------------------

GETS = ["/provider/claims/{id}", "/provider/claims/{id}/edit"]
POSTS = [
    "/provider/claims/{id}/check",
    "/provider/claims/{id}/hold",
    "/provider/claims/{id}/void",
    "/provider/claims/{id}/close",
    "/provider/claims/{id}/appeal",
    "/provider/claims/{id}/use-note-minutes",
    "/provider/claims/{id}/secondary",
    "/provider/claims/{id}/rebill",
    "/provider/claims/{id}/lines/{line}",
    "/provider/claims/{id}/lines/{line}/remove",
    "/provider/claims/{id}/diagnoses",
    "/provider/claims/{id}/details",
    "/provider/claims/{id}/payer-claim-number",
]


@pytest.fixture
def foreign_claim(app, world):
    with app.test_request_context():
        claim = cf.claim(world.b.practice, world.b.c1, world.b.provider, status="draft")
    line = ClaimLine.get(ClaimLine.claim == claim.id)
    return claim, line


def _urls(paths, claim, line):
    return [p.format(id=claim.id, line=line.id) for p in paths]


def _unchanged(claim):
    c = Claim.get_by_id(claim.id)
    return (c.status, c.total_cents, c.place_of_service) == ("draft", claim.total_cents, "11")


def test_another_practice_gets_404_and_an_audit_row(app, client, world, foreign_claim):
    claim, line = foreign_claim
    login(client, world.a.owner)
    denied = AuditLog.select().where(
        (AuditLog.action == "access.denied") & (AuditLog.user_id == world.a.owner.id)
    )
    before = denied.count()
    urls_get, urls_post = _urls(GETS, claim, line), _urls(POSTS, claim, line)
    for url in urls_get:
        assert client.get(url).status_code == 404, url
    for url in urls_post:
        assert (
            client.post(url, data={"void-reason": "x", "dx-codes": "M54.50"}).status_code == 404
        ), url
    # one row in the prober's log per request (hardening adds the owning practice's copy)
    assert denied.count() - before == len(urls_get) + len(urls_post)
    assert _unchanged(claim)
    html = client.get("/provider/claims").get_data(as_text=True)
    assert claim.patient_control_number not in html


def test_clients_and_logged_out_never_reach_claims(app, client, world, foreign_claim):
    claim, line = foreign_claim
    own = world.b.cu1  # the client of the claim, in its own practice
    urls = ["/provider/claims", "/provider/claims/aging", "/provider/settings/claims"]
    urls += _urls(GETS, claim, line)
    for url in urls:
        r = client.get(url)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login"), url
    for url in _urls(POSTS, claim, line):
        r = client.post(url, data={"void-reason": "x"})
        assert r.status_code == 302 and r.headers["Location"].startswith("/login"), url
    login(client, own)
    for url in urls:
        assert client.get(url).status_code == 404, url
    for url in _urls(POSTS, claim, line):
        assert client.post(url, data={"void-reason": "x"}).status_code == 404, url
    assert _unchanged(claim)


def test_therapists_read_their_clients_claims_and_change_nothing(app, client, world):
    a = world.a
    with app.test_request_context():
        a.practice.therapists_see_all_clients = False
        a.practice.save()
        mine = cf.claim(a.practice, a.c1, a.provider, status="draft")  # c1 is a.provider's
        theirs = cf.claim(a.practice, a.c2, a.provider2, status="draft", day=dt.date(2026, 11, 3))
    line = ClaimLine.get(ClaimLine.claim == mine.id)
    login(client, a.therapist)
    html = client.get("/provider/claims").get_data(as_text=True)
    assert mine.patient_control_number in html and theirs.patient_control_number not in html
    page = client.get(f"/provider/claims/{mine.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert (
        "Check again" not in text and "Void the claim" not in text and "Edit the claim" not in text
    )
    assert client.get(f"/provider/claims/{theirs.id}").status_code == 404
    assert client.get(f"/provider/claims/{mine.id}/edit").status_code == 404
    for url in _urls(POSTS, mine, line):
        assert client.post(url, data={"void-reason": "x"}).status_code == 404, url
    assert _unchanged(mine)


def test_a_void_claim_shows_no_open_balance_in_the_list_or_the_report(app, client, world, frozen):
    """A void claim has nothing to collect: the list shows its charge and "—" for the
    balance, the "Claims by status" report counts 0 open for it (as the aging table)."""
    a = world.a
    day = TODAY - dt.timedelta(days=5)
    with app.test_request_context():
        void = cf.claim(a.practice, a.c1, a.provider, status="void", day=day,
                        lines=(("97124", 60, 4, 11000),))  # fmt: skip
        live = cf.claim(a.practice, a.c2, a.provider, status="submitted", day=day,
                        lines=(("97124", 60, 4, 9500),))  # fmt: skip
    assert void.balance_cents == 0 and Claim.get_by_id(live.id).balance_cents == 9500
    login(client, a.owner)
    html = client.get("/provider/claims").get_data(as_text=True)
    row = re.search(rf"<tr>(?:(?!</tr>).)*{void.patient_control_number}.*?</tr>", html, re.S)
    cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(0))
    assert cells == ["$110.00", "—"]
    row = re.search(rf"<tr>(?:(?!</tr>).)*{live.patient_control_number}.*?</tr>", html, re.S)
    assert re.findall(r'<td class="num">([^<]*)</td>', row.group(0)) == ["$95.00", "$95.00"]
    html = client.get(f"/provider/reports?start={day}&end={TODAY}").get_data(as_text=True)
    rows = dict(re.findall(r"<tr><td>([^<]+)</td>((?:<td class=\"num\">[^<]*</td>)+)</tr>", html))
    assert re.findall(r">([^<]*)</td>", rows["Void"]) == ["1", "$110.00", "$0.00", "$0.00"]
    assert re.findall(r">([^<]*)</td>", rows["Submitted"])[-1] == "$95.00"
