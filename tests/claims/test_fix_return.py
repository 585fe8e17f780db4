"""The way back to a held claim: each problem's "Fix it on ..." link carries the claim
page's path; the fixing page shows "Back to claim ...", keeps the path through its form
(also a failed submit), and a successful save lands on the claim, checked again.

Through the real views and the test's SQLite file, as a browser would: the claim page's
link is followed, the fixing page's form is read back from its HTML and submitted with
the fix typed in.
"""

import datetime as dt
import html as htmllib
import re
from urllib.parse import urlsplit

import pytest

from portal.models import (
    AuditLog,
    Claim,
    ClaimProblem,
    Client,
    Payer,
    PayerFee,
    Practice,
    Provider,
    Referral,
)
from portal.rules import claim_status as cs
from portal.services.claims import build, life
from tests.claims import factories as cf
from tests.conftest import login
from tests.forms import Forms

GOOD_NPI = "1234567893"
BAD_NPI = "1234567890"


def _fix_form(page_html):
    """(action, fields) of the fixing page's main form: the first that carries `back`."""
    parser = Forms()
    parser.feed(page_html)
    for attrs, fields in parser.forms:
        if "back" in fields and (attrs.get("method") or "").lower() == "post":
            return attrs.get("action"), fields
    raise AssertionError("no form keeps the way back to the claim")


def _fix_link(client, claim, starts):
    """The claim page's "Fix it on ..." link that leads to a page starting with `starts`."""
    page = client.get(f"/provider/claims/{claim.id}").get_data(as_text=True)
    hrefs = [htmllib.unescape(h) for h in re.findall(r'href="([^"]*\?back=[^"]*)"', page)]
    found = [h for h in hrefs if h.startswith(starts)]
    assert found, (starts, hrefs)
    return found[0]


def _submit(client, page_url, changes):
    """Open the fixing page, type `changes` into its form and submit it. The form is
    posted to its action (or the page's path without the query), so the way back travels
    in the hidden field only."""
    r = client.get(page_url)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    action, fields = _fix_form(page)
    fields.update(changes)
    return page, client.post(action or urlsplit(page_url).path, data=fields)


def _claim(appt):
    """The visit's claim (made when the note was signed), checked after the changes that
    make it held."""
    [claim] = build.create_for_visit(appt)
    claim = life.recheck(claim)
    assert claim.held and claim.status == cs.DRAFT
    return claim


def _codes(claim):
    return {p.code for p in ClaimProblem.select().where(ClaimProblem.claim == claim.id)}


# --- one held claim per page where a problem is fixed ------------------------------------


def _client_address(world):
    appt, _ = cf.insured_visit(world.a)
    Client.update(address1="").where(Client.id == appt.client_id).execute()
    return _claim(appt), "patient_address_missing", "/provider/clients/", {"address1": "9 Oak St"}


def _policy_member_id(world):
    appt, _ = cf.insured_visit(world.a, policy_kw={"member_id": ""})
    return _claim(appt), "member_id_missing", "/provider/policies/", {"member_id": "W123456789"}


def _payer_id(world):
    appt, _ = cf.insured_visit(world.a, payer_kw={"payer_code": ""})
    cf.sendable(world.a)  # claims go out electronically: the payer ID is needed
    conn = cf.clearinghouse_ids(world.a.practice, host="sftp.example.test", username="desk")
    conn.private_key_enc = "sealed"  # the clearinghouse counts as set up; nothing is sent here
    conn.save()
    return _claim(appt), "payer_id_missing", "/provider/payers/", {"payer_code": "60054"}


def _practice_npi(world):
    appt, _ = cf.insured_visit(world.a)
    Practice.update(npi=BAD_NPI).where(Practice.id == world.a.practice.id).execute()
    claim = _claim(appt)
    return claim, "billing_npi_invalid", "/provider/settings/practice", {"npi": GOOD_NPI}


def _provider_npi(world):
    appt, _ = cf.insured_visit(world.a)
    Provider.update(npi=BAD_NPI).where(Provider.id == world.a.provider.id).execute()
    claim = _claim(appt)
    return claim, "rendering_npi_invalid", "/provider/settings/providers/", {"npi": GOOD_NPI}


REFERRAL = {
    "referring_name": "Dr. Ana Whitfield",
    "referring_npi": GOOD_NPI,
    "qualifier": "DN",
    "referral_date": "2026-10-01",
    "visits_allowed": "6",
    "diagnosis_codes": "M54.50",
}


def _referral_new(world):
    appt, _ = cf.insured_visit(world.a, payer_kw={"referral_required": True})
    where = f"/provider/clients/{appt.client_id}/referrals/new"
    return _claim(appt), "referral_missing", where, REFERRAL


def _referral_edit(world):
    appt, policy = cf.insured_visit(world.a, payer_kw={"referral_required": True})
    Referral.create(practice=world.a.practice, client=appt.client_id, policy=policy,
                    referring_name="Dr. Ana Whitfield", referring_npi=BAD_NPI,
                    referral_date=dt.date(2026, 10, 1), diagnosis_codes="M54.50")  # fmt: skip
    claim = _claim(appt)
    return claim, "referring_npi_invalid", "/provider/referrals/", {"referring_npi": GOOD_NPI}


def _authorization_new(world):
    appt, _ = cf.insured_visit(world.a, payer_kw={"authorization_required": True})
    fix = {"number": "PA-77", "visits_allowed": "10", "start_date": "2026-10-01",
           "end_date": "2027-03-31"}  # fmt: skip
    where = f"/provider/clients/{appt.client_id}/authorizations/new"
    return _claim(appt), "authorization_missing", where, fix


TARGETS = {
    "client": (_client_address, "frontdesk"),
    "policy": (_policy_member_id, "frontdesk"),
    "payer": (_payer_id, "frontdesk"),
    "practice_settings": (_practice_npi, "owner"),
    "provider": (_provider_npi, "owner"),
    "referral_new": (_referral_new, "frontdesk"),
    "referral_edit": (_referral_edit, "frontdesk"),
    "authorization_new": (_authorization_new, "frontdesk"),
}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_fix_it_and_land_back_on_the_claim_checked_again(app, client, world, target):
    make, role = TARGETS[target]
    with app.test_request_context():
        claim, code, starts, fix = make(world)
    assert code in _codes(claim)
    login(client, getattr(world.a, role))
    url = _fix_link(client, claim, starts)
    assert f"back=%2Fprovider%2Fclaims%2F{claim.id}" in url
    page, r = _submit(client, url, fix)
    assert f"Back to claim {claim.patient_control_number}" in page
    assert f'href="/provider/claims/{claim.id}#problems"' in page
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    assert r.headers["Location"] == f"/provider/claims/{claim.id}"
    assert code not in _codes(claim)
    after = Claim.get_by_id(claim.id)
    assert (after.status, after.held) == (cs.READY, False), _codes(claim)
    landed = client.get(r.headers["Location"]).get_data(as_text=True)
    assert f"Claim {claim.patient_control_number} checked again: nothing holds it" in landed
    assert "hold this claim" not in landed and "holds this claim" not in landed


def test_a_failed_submit_keeps_the_way_back(app, client, world):
    with app.test_request_context():
        claim, code, starts, fix = _referral_new(world)
    login(client, world.a.frontdesk)
    url = _fix_link(client, claim, starts)
    _, r = _submit(client, url, dict(fix, referring_npi=BAD_NPI))
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "valid check digit" in page
    assert f"Back to claim {claim.patient_control_number}" in page
    action, fields = _fix_form(page)
    assert fields["back"] == f"/provider/claims/{claim.id}"
    assert fields["referring_npi"] == BAD_NPI  # what was typed is kept
    r = client.post(action or urlsplit(url).path, data=dict(fields, referring_npi=GOOD_NPI))
    assert (r.status_code, r.headers["Location"]) == (303, f"/provider/claims/{claim.id}")
    assert Claim.get_by_id(claim.id).status == cs.READY


def test_another_problem_still_holds_the_claim_and_shows(app, client, world):
    with app.test_request_context():
        appt, _ = cf.insured_visit(world.a, policy_kw={"member_id": ""})
        Client.update(address1="").where(Client.id == appt.client_id).execute()
        claim = _claim(appt)
    login(client, world.a.frontdesk)
    _, r = _submit(client, _fix_link(client, claim, "/provider/policies/"), {"member_id": "W1"})
    assert r.headers["Location"] == f"/provider/claims/{claim.id}"
    assert _codes(claim) == {"patient_address_missing"}
    landed = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "problems still hold it" in landed and "full address" in landed
    assert Claim.get_by_id(claim.id).held


EVIL = (
    "//evil.example/provider/claims/{id}",
    "https://evil.example/provider/claims/{id}",
    "javascript:alert(1)//provider/claims/{id}",
    "/\\evil.example/provider/claims/{id}",
    "/provider/clients/{client}",  # on this site, but not a claim page
    "/provider/claims/{id}/edit",
)


def test_a_return_path_off_site_or_not_a_claim_is_ignored(app, client, world):
    with app.test_request_context():
        claim, _, _, _ = _policy_member_id(world)
    login(client, world.a.frontdesk)
    edit = f"/provider/policies/{claim.policy_id}/edit"
    _, fields = _fix_form_or_none(client.get(edit + f"?back=/provider/claims/{claim.id}"))
    fields["member_id"] = "W123456789"
    for pattern in EVIL:
        back = pattern.format(id=claim.id, client=claim.client_id)
        page = client.get(edit, query_string={"back": back}).get_data(as_text=True)
        assert "Back to claim" not in page and 'name="back"' not in page
        r = client.post(edit, data=dict(fields, back=back))
        assert r.status_code == 302  # the page's usual redirect, unchanged
        assert r.headers["Location"] == f"/provider/policies/{claim.policy_id}"
    r = client.post(edit, data={k: v for k, v in fields.items() if k != "back"})
    assert (r.status_code, r.headers["Location"]) == (302, f"/provider/policies/{claim.policy_id}")


def _fix_form_or_none(r):
    assert r.status_code == 200
    return _fix_form(r.get_data(as_text=True))


def test_another_practice_claim_in_the_return_path_leaks_nothing(app, client, world):
    with app.test_request_context():
        claim, _, _, _ = _policy_member_id(world)
        appt_b, _ = cf.insured_visit(world.b, policy_kw={"member_id": ""})
        theirs = _claim(appt_b)
    login(client, world.a.frontdesk)
    edit = f"/provider/policies/{claim.policy_id}/edit"
    back = f"/provider/claims/{theirs.id}"
    page = client.get(edit, query_string={"back": back}).get_data(as_text=True)
    assert theirs.patient_control_number not in page and "Back to claim" not in page
    assert (
        AuditLog.select()
        .where((AuditLog.action == "access.denied") & (AuditLog.object_id == theirs.id))
        .exists()
    )
    _, fields = _fix_form_or_none(client.get(edit + f"?back=/provider/claims/{claim.id}"))
    r = client.post(edit, data=dict(fields, member_id="W1", back=back))
    assert r.headers["Location"] == f"/provider/policies/{claim.policy_id}"
    assert Claim.get_by_id(theirs.id).held  # not checked by someone of another practice
    assert client.get(back).status_code == 404  # the claim page itself, as always


def test_a_therapist_is_brought_back_without_checking_the_claim(app, client, world):
    """A therapist may fix the client's details but does not work claims: back to the
    claim, which the front desk checks again."""
    with app.test_request_context():
        claim, code, starts, fix = _client_address(world)
    login(client, world.a.therapist)
    _, r = _submit(client, _fix_link(client, claim, starts), fix)
    assert (r.status_code, r.headers["Location"]) == (303, f"/provider/claims/{claim.id}")
    assert code in _codes(claim) and Claim.get_by_id(claim.id).held


def test_logged_out_goes_to_login(app, client, world):
    with app.test_request_context():
        claim, _, _, _ = _policy_member_id(world)
    r = client.get(f"/provider/policies/{claim.policy_id}/edit?back=/provider/claims/{claim.id}")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    r = client.post(f"/provider/policies/{claim.policy_id}/edit",
                    data={"back": f"/provider/claims/{claim.id}", "member_id": "X"})  # fmt: skip
    assert r.status_code in (302, 400) and Claim.get_by_id(claim.id).held


def test_the_providers_list_shows_the_way_back(app, client, world):
    with app.test_request_context():
        claim, _, _, _ = _provider_npi(world)
    login(client, world.a.owner)
    page = client.get(f"/provider/settings/providers?back=/provider/claims/{claim.id}")
    assert f"Back to claim {claim.patient_control_number}" in page.get_data(as_text=True)


# --- Cancel, the fee schedule's Remove, the providers list: the way back is kept ---------

CANCEL = re.compile(r'<a class="button secondary" href="([^"]*)">Cancel</a>')
# the fixing pages with a Cancel link, and where it leads when not opened from a claim
USUAL_CANCEL = {
    "client": "/provider/clients/{client}",
    "policy": "/provider/clients/{client}#insurance",
    "provider": "/provider/settings/providers",
    "referral_new": "/provider/clients/{client}#insurance",
    "referral_edit": "/provider/clients/{client}#insurance",
    "authorization_new": "/provider/clients/{client}#insurance",
}


@pytest.mark.parametrize("target", sorted(USUAL_CANCEL))
def test_cancel_leads_back_to_the_claim(app, client, world, target):
    make, role = TARGETS[target]
    with app.test_request_context():
        claim, _code, starts, _fix = make(world)
        appt_b, _ = cf.insured_visit(world.b, policy_kw={"member_id": ""})
        theirs = _claim(appt_b)
    login(client, getattr(world.a, role))
    url = _fix_link(client, claim, starts)
    page = client.get(url).get_data(as_text=True)
    assert CANCEL.findall(page) == [f"/provider/claims/{claim.id}#problems"]
    # opened without the way back, or with one that is off site or another practice's
    # claim: Cancel goes where it always went
    usual = USUAL_CANCEL[target].format(client=claim.client_id)
    bare = urlsplit(url).path
    for back in (None, "//evil.example/provider/claims/1", f"/provider/claims/{theirs.id}"):
        query = {"back": back} if back else {}
        page = client.get(bare, query_string=query).get_data(as_text=True)
        assert CANCEL.findall(page) == [usual], back
        assert theirs.patient_control_number not in page
    # a failed submit keeps Cancel on the claim
    action, fields = _fix_form(client.get(url).get_data(as_text=True))
    if target == "client":
        fields["first_name"] = ""
    else:
        fields[next(k for k in ("referring_npi", "npi", "visits_allowed", "member_id")
                    if k in fields)] = "x" * 300  # fmt: skip
    r = client.post(action or bare, data=fields)
    assert r.status_code == 400
    assert CANCEL.findall(r.get_data(as_text=True)) == [f"/provider/claims/{claim.id}#problems"]


def test_removing_a_fee_keeps_the_way_back(app, client, world):
    with app.test_request_context():
        claim, _code, starts, _fix = _payer_id(world)
        appt_b, _ = cf.insured_visit(world.b, policy_kw={"member_id": ""})
        theirs = _claim(appt_b)
    fee = PayerFee.create(practice=world.a.practice, payer=claim.payer_id, cpt_code="97110",
                          fee_cents=7000)  # fmt: skip
    login(client, world.a.frontdesk)
    url = _fix_link(client, claim, starts)
    page = client.get(url).get_data(as_text=True)
    parser = Forms()
    parser.feed(page)
    remove = [
        (a, f) for a, f in parser.forms if f"/fees/{fee.id}/delete" in htmllib.unescape(a["action"])
    ]
    assert len(remove) == 1
    action, fields = htmllib.unescape(remove[0][0]["action"]), remove[0][1]
    r = client.post(action, data=fields)
    assert r.status_code == 302
    back = f"back=%2Fprovider%2Fclaims%2F{claim.id}"
    assert r.headers["Location"] == f"/provider/payers/{claim.payer_id}?{back}#fees"
    assert not PayerFee.select().where(PayerFee.id == fee.id).exists()
    landed = client.get(r.headers["Location"]).get_data(as_text=True)
    assert f"Back to claim {claim.patient_control_number}" in landed
    # without a way back, or another practice's claim as one: the usual redirect
    for back_path in (None, f"/provider/claims/{theirs.id}"):
        again = PayerFee.create(practice=world.a.practice, payer=claim.payer_id,
                                cpt_code="97112", fee_cents=6000)  # fmt: skip
        data = {"back": back_path} if back_path else {}
        r = client.post(f"/provider/payers/{claim.payer_id}/fees/{again.id}/delete", data=data)
        assert r.headers["Location"] == f"/provider/payers/{claim.payer_id}#fees"
    # another practice's payer or fee: 404
    b_payer = Payer.get(Payer.practice == world.b.practice)
    assert client.post(f"/provider/payers/{b_payer.id}/fees/{fee.id}/delete").status_code == 404


def test_the_providers_list_keeps_the_way_back_in_its_links(app, client, world):
    with app.test_request_context():
        claim, _code, _starts, fix = _provider_npi(world)
    login(client, world.a.owner)
    back = f"back=%2Fprovider%2Fclaims%2F{claim.id}"
    page = client.get(f"/provider/settings/providers?{back}").get_data(as_text=True)
    hrefs = [
        htmllib.unescape(h) for h in re.findall(r'href="(/provider/settings/provider[^"]*)"', page)
    ]
    edit = f"/provider/settings/providers/{world.a.provider.id}?{back}"
    assert edit in hrefs and f"/provider/settings/providers/new?{back}" in hrefs
    assert all(back in h for h in hrefs if h.startswith("/provider/settings/providers/")), hrefs
    page, r = _submit(client, edit, fix)
    assert (r.status_code, r.headers["Location"]) == (303, f"/provider/claims/{claim.id}")
    assert Claim.get_by_id(claim.id).status == cs.READY
    # not opened from a claim: the links are plain
    page = client.get("/provider/settings/providers").get_data(as_text=True)
    assert f'href="/provider/settings/providers/{world.a.provider.id}"' in page
    assert "back=" not in page
