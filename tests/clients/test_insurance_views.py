"""Payers, policies, verifications, referrals and authorizations through the pages."""

import datetime as dt
import re

from portal.models import (
    AuditLog,
    BenefitsVerification,
    InsurancePolicy,
    Payer,
    PayerFee,
    PriorAuthorization,
    Referral,
)
from tests.clients import helpers as h
from tests.conftest import login


def _policy_form(payer_id, **kw):
    data = {
        "payer": str(payer_id),
        "rank": "primary",
        "member_id": "W123456789",
        "group_number": "G-77",
        "effective_date": "2026-01-01",
        "relationship": "self",
        "subscriber_sex": "",
        "claim_type": "commercial",
    }
    data.update(kw)
    return data


def test_payer_settings_and_fee_schedule(app, client, world):
    login(client, world.a.frontdesk)
    r = client.post(
        "/provider/payers/new",
        data={
            "name": "Aetna",
            "kind": "commercial",
            "payer_code": "60054",
            "unit_rule": "per_code",
            "referral_required": "y",
            "allow_97124_97140": "y",
            "affiliated": "y",
            "active": "y",
            "state": "ct",
        },
    )
    assert r.status_code == 302
    p = Payer.get(Payer.name == "Aetna")
    assert (
        p.unit_rule,
        p.referral_required,
        p.authorization_required,
        p.allow_97124_97140,
        p.state,
        p.practice_id,
    ) == ("per_code", True, False, True, "CT", world.a.practice.id)
    assert (
        client.post(
            f"/provider/payers/{p.id}/fees", data={"cpt_code": "97124", "fee": "72.50"}
        ).status_code
        == 302
    )
    assert p.fee_for("97124") == 7250
    client.post(f"/provider/payers/{p.id}/fees", data={"cpt_code": "97124", "fee": "70"})
    assert p.fee_for("97124") == 7000 and PayerFee.select().count() == 1
    r = client.post(f"/provider/payers/{p.id}/fees", data={"cpt_code": "97", "fee": "-1"})
    assert r.status_code == 400
    text = r.get_data(as_text=True)
    assert "A CPT code has 5 characters" in text and "cannot be negative" in text
    fee = PayerFee.get()
    assert client.post(f"/provider/payers/{p.id}/fees/{fee.id}/delete").status_code == 302
    assert PayerFee.select().count() == 0
    assert AuditLog.select().where(AuditLog.action.startswith("payer.")).count() == 4


def test_therapist_cannot_manage_payers(app, client, world):
    login(client, world.a.therapist)
    assert client.get("/provider/payers").status_code == 404
    assert client.post("/provider/payers/new", data={"name": "X"}).status_code == 404


def test_policy_create_edit_and_claim_type_rules(app, client, world):
    payer = h.payer(world.a.practice, kind="workers_comp", name="State Fund")
    login(client, world.a.frontdesk)
    c = world.a.c1
    r = client.post(
        f"/provider/clients/{c.id}/policies/new",
        data=_policy_form(
            payer.id, claim_type="workers_comp", relationship="spouse", end_date="2025-01-01"
        ),
    )
    assert r.status_code == 400
    text = r.get_data(as_text=True)
    for msg in (
        "Enter the claim number.",
        "Enter the date of the injury or accident.",
        "Enter the employer for a workers",
        "Enter the subscriber",
        "before the effective",
    ):
        assert msg in text, msg
    assert InsurancePolicy.select().count() == 0
    r = client.post(
        f"/provider/clients/{c.id}/policies/new",
        data=_policy_form(
            payer.id,
            claim_type="workers_comp",
            claim_number="WC-9",
            injury_date="2026-10-02",
            employer_name="Acme Mill",
        ),
    )
    assert r.status_code == 302
    pol = InsurancePolicy.get()
    assert pol.active  # a new policy is active without the box (shown when editing only)
    assert (pol.client_id, pol.payer_id, pol.claim_number, pol.employer_name) == (
        c.id,
        payer.id,
        "WC-9",
        "Acme Mill",
    )
    r = client.post(
        f"/provider/policies/{pol.id}/edit",
        data=_policy_form(
            payer.id,
            claim_type="auto",
            claim_number="AU-1",
            injury_date="2026-10-02",
            accident_state="wa",
            rank="secondary",
        ),
    )
    assert r.status_code == 302
    pol = InsurancePolicy.get()
    assert (pol.claim_type, pol.accident_state, pol.rank) == ("auto", "WA", "secondary")
    assert AuditLog.get(AuditLog.action == "policy.update").detail.count("accident_state") == 1
    assert client.get(f"/provider/policies/{pol.id}").status_code == 200
    assert AuditLog.select().where(AuditLog.action == "policy.view").count() >= 1


def test_policy_with_another_practices_payer_is_refused(app, client, world):
    other = h.payer(world.b.practice)
    login(client, world.a.frontdesk)
    r = client.post(f"/provider/clients/{world.a.c1.id}/policies/new", data=_policy_form(other.id))
    assert r.status_code == 400 and InsurancePolicy.select().count() == 0


def test_verification_records_the_checklist(app, client, world):
    pol = h.policy(world.a.practice, world.a.c1)
    login(client, world.a.frontdesk)
    r = client.post(
        f"/provider/policies/{pol.id}/verifications/new",
        data={
            "verified_on": f"{dt.date.today().year}-01-01",  # this year's (no year is shown)
            "covered": "y",
            "conditions": "Medically necessary only",
            "deductible": "500",
            "deductible_met": "125.50",
            "copay": "40",
            "coinsurance_percent": "",
            "oop_max": "3000",
            "max_per_visit": "90",
            "max_per_term": "1800",
            "visits_per_year": "20",
            "visits_used": "8",
            "body_regions": "neck, back",
            "massage_types": "therapeutic",
            "referral_required": "y",
            "representative": "Dana",
            "reference_number": "REF-123",
        },
    )
    assert r.status_code == 302
    v = BenefitsVerification.get()
    assert (
        v.deductible_cents,
        v.deductible_met_cents,
        v.copay_cents,
        v.coinsurance_percent,
        v.oop_max_cents,
        v.max_per_visit_cents,
        v.max_per_term_cents,
    ) == (50000, 12550, 4000, None, 300000, 9000, 180000)
    assert (v.verified_by_id, v.client_id, v.reference_number) == (
        world.a.frontdesk.id,
        world.a.c1.id,
        "REF-123",
    )
    page = client.get(f"/provider/clients/{world.a.c1.id}").get_data(as_text=True)
    assert "Verified Jan 1: $40 copay, deductible $125.50 of $500 met, 12 of 20 visits left" in page
    r = client.post(
        f"/provider/policies/{pol.id}/verifications/new",
        data={"verified_on": "", "copay": "forty", "coinsurance_percent": "120"},
    )
    assert r.status_code == 400
    text = r.get_data(as_text=True)
    assert (
        "Enter the date." in text and "Enter an amount like" in text and "Between 0 and 100" in text
    )


def test_referral_npi_and_icd10_checks(app, client, world):
    pol = h.policy(world.a.practice, world.a.c1)
    login(client, world.a.frontdesk)
    url = f"/provider/clients/{world.a.c1.id}/referrals/new"
    base = {
        "policy": str(pol.id),
        "referring_name": "Dr Ada Lane",
        "qualifier": "DN",
        "referral_date": "2026-11-01",
        "visits_allowed": "6",
        "end_date": "2027-01-31",
    }
    r = client.post(url, data=dict(base, referring_npi="1234567890", diagnosis_codes="M54.50"))
    assert r.status_code == 400 and "valid check digit" in r.get_data(as_text=True)
    r = client.post(url, data=dict(base, referring_npi="1234567893", diagnosis_codes="M54.5"))
    text = r.get_data(as_text=True)
    assert r.status_code == 400 and "not a billable code" in text and "M54.50" in text
    r = client.post(url, data=dict(base, referring_npi="1234567893", diagnosis_codes="Q99.999"))
    assert r.status_code == 400
    assert Referral.select().count() == 0
    r = client.post(
        url, data=dict(base, referring_npi="1234567893", diagnosis_codes="m54.50, M62.830")
    )
    assert r.status_code == 302
    ref = Referral.get()
    assert ref.active
    assert (ref.codes, ref.referring_npi, ref.policy_id, ref.visits_allowed) == (
        ["M54.50", "M62.830"],
        "1234567893",
        pol.id,
        6,
    )
    page = client.get(f"/provider/clients/{world.a.c1.id}").get_data(as_text=True)
    assert "Dr Ada Lane" in page and "M54.50, M62.830" in page
    r = client.post(
        f"/provider/referrals/{ref.id}/edit",
        data=dict(
            base, referring_npi="1234567893", diagnosis_codes="M54.50", end_date="2026-10-01"
        ),
    )
    assert r.status_code == 400 and "before the referral date" in r.get_data(as_text=True)


def test_authorization_and_expired_warning(app, client, world):
    pol = h.policy(world.a.practice, world.a.c1)
    login(client, world.a.frontdesk)
    r = client.post(
        f"/provider/clients/{world.a.c1.id}/authorizations/new",
        data={
            "policy": str(pol.id),
            "number": "PA-2026-1",
            "visits_allowed": "4",
            "visits_used_before": "0",
            "start_date": "2025-01-01",
            "end_date": "2025-03-31",
            "body_regions": "lumbar",
        },
    )
    assert r.status_code == 302
    a = PriorAuthorization.get()
    assert (a.number, a.visits_allowed, a.body_regions, a.active) == (
        "PA-2026-1",
        4,
        "lumbar",
        True,
    )
    page = client.get(f"/provider/clients/{world.a.c1.id}").get_data(as_text=True)
    assert "Authorization PA-2026-1: expired Mar 31, 2025." in page
    r = client.post(
        f"/provider/authorizations/{a.id}/edit",
        data={
            "policy": "0",
            "number": "PA-2026-1",
            "visits_allowed": "4",
            "start_date": "2025-05-01",
            "end_date": "2025-03-31",
        },
    )
    assert r.status_code == 400 and "before the start date" in r.get_data(as_text=True)


def test_payer_filing_limit_is_set_checked_and_cleared(app, client, world):
    """The payer's filing limit (days after the date of service): 1 to 730, or empty for
    not known; a bad value is refused next to the field with a 400, nothing saved."""
    login(client, world.a.frontdesk)
    base = {"name": "Regence", "kind": "commercial", "unit_rule": "cms8", "active": "y"}
    r = client.post("/provider/payers/new", data=base | {"filing_limit_days": "90"})
    assert r.status_code == 302
    p = Payer.get(Payer.name == "Regence")
    assert p.filing_limit_days == 90
    page = client.get(f"/provider/payers/{p.id}").get_data(as_text=True)
    assert "Filing limit (days after the date of service)" in page and 'value="90"' in page
    for bad in ("0", "731", "-5", "ninety", "90.5"):
        r = client.post(f"/provider/payers/{p.id}", data=base | {"filing_limit_days": bad})
        assert r.status_code == 400, bad
        text = r.get_data(as_text=True)
        assert "Enter the number of days, 1 to 730 (leave it empty if you do not know)." in text
        assert Payer.get_by_id(p.id).filing_limit_days == 90
    r = client.post(f"/provider/payers/{p.id}", data=base | {"filing_limit_days": " 365 "})
    assert r.status_code == 302 and Payer.get_by_id(p.id).filing_limit_days == 365
    r = client.post(f"/provider/payers/{p.id}", data=base | {"filing_limit_days": ""})
    assert r.status_code == 302 and Payer.get_by_id(p.id).filing_limit_days is None
    changes = AuditLog.select().where(AuditLog.action == "payer.update")
    assert [a.detail for a in changes.order_by(AuditLog.id)] == [
        "filing_limit_days",
        "filing_limit_days",
    ]
    other = Payer.create(practice=world.b.practice, name="Theirs")
    r = client.post(f"/provider/payers/{other.id}", data=base | {"filing_limit_days": "30"})
    assert r.status_code == 404 and Payer.get_by_id(other.id).filing_limit_days is None


def _options(client):
    body = client.get("/portal/insurance").get_data(as_text=True)
    select = body[body.index('<select id="policy"') : body.index("</select>")]
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def test_the_portals_insurance_choices_are_the_insurers_names(app, client, world):
    """Short enough for a phone's select: the insurer's name; with the rank only when two
    policies have one insurer's name, with the member ID when the rank is the same too."""
    a = world.a
    with app.test_request_context():
        regence = Payer.create(practice=a.practice, name="Regence BlueCross BlueShield of Oregon")
        aetna = Payer.create(practice=a.practice, name="Aetna")
        aetna_too = Payer.create(practice=a.practice, name="AETNA", payer_code="60054")
        policy = InsurancePolicy.create(
            practice=a.practice, client=a.c1, payer=regence, member_id="RGA1"
        )
    login(client, a.cu1)
    assert _options(client) == [
        "Regence BlueCross BlueShield of Oregon", "New insurance, not on file yet",
    ]  # fmt: skip
    with app.test_request_context():
        InsurancePolicy.create(
            practice=a.practice, client=a.c1, payer=aetna, member_id="W1", rank="primary"
        )
        InsurancePolicy.create(
            practice=a.practice, client=a.c1, payer=aetna_too, member_id="W2", rank="secondary"
        )
        InsurancePolicy.update(rank="secondary").where(InsurancePolicy.id == policy.id).execute()
    assert _options(client) == [
        "Aetna (Primary)", "Regence BlueCross BlueShield of Oregon", "AETNA (Secondary)",
        "New insurance, not on file yet",
    ]  # fmt: skip
    with app.test_request_context():
        InsurancePolicy.update(rank="primary").where(InsurancePolicy.payer == aetna_too).execute()
    assert _options(client)[:2] == ["Aetna (member ID W1)", "AETNA (member ID W2)"]
