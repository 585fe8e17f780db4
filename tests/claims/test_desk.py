"""Claims at the desk, through the real routes: check-in warns about insurance, check-out
takes the signed note's minutes, makes the claim and shows the client's estimated share,
which is collected like any other payment."""

import datetime as dt

import pytest

from portal.models import (
    AppointmentMinutes,
    BenefitsVerification,
    Claim,
    ClaimSettings,
    CreditLedger,
    Invoice,
    Payment,
    Referral,
)
from portal.rules import claim_status as cs
from portal.services import billing_events, invoicing, packages
from portal.services.claims import build, desk
from tests.billing.conftest import package
from tests.claims import factories as cf
from tests.conftest import login


def _verify(policy, **kw):
    return BenefitsVerification.create(
        practice=policy.practice_id,
        client=policy.client_id,
        policy=policy,
        verified_on=dt.date(dt.date.today().year, 1, 1),  # this year's: an older one is stale
        **kw,
    )


@pytest.fixture
def booked(app, world):
    """An insurance visit checked in, its note signed (before check-out), a verified $40
    copay; the payer's fee schedule allows $30 (97124) and $35 (97140) a unit."""
    with app.test_request_context():
        appt, policy = cf.insured_visit(world.a, status="checked_in", checkout=False)
        _verify(policy, copay_cents=4000, deductible_cents=50000, deductible_met_cents=50000)
    return appt, policy


def test_check_in_warns_about_an_insurance_visit_without_a_policy(app, client, world):
    a = world.a
    with app.test_request_context():
        appt = cf.visit(a.practice, a.c1, a.provider, status="booked")  # billed to insurance
    login(client, a.frontdesk)
    body = client.get(f"/provider/appointments/{appt.id}/check-in").get_data(as_text=True)
    assert "This visit is billed to insurance, but no active insurance policy is on file" in body
    assert "No insurance warnings" not in body
    # each warning is something to fix on the client's insurance: the page leads there
    assert f'href="/provider/clients/{a.c1.id}#insurance"' in body
    with app.test_request_context():
        policy = cf.policy(a.practice, a.c1, payer_obj=cf.payer(a.practice, referral_required=True))
    body = client.get(f"/provider/appointments/{appt.id}/check-in").get_data(as_text=True)
    assert "Benefits not verified for" in body
    assert "requires a referral; none is on file" in body
    _verify(policy, copay_cents=4000)
    with app.test_request_context():
        Referral.create(
            practice=a.practice,
            client=a.c1,
            policy=policy,
            referring_name="Ana Whitfield",
            referring_npi="1790000008",
            referral_date=dt.date(2026, 10, 1),
            visits_allowed=5,
        )
    body = client.get(f"/provider/appointments/{appt.id}/check-in").get_data(as_text=True)
    # all clear: the desk is told what is on file (the payer, the verification, the copay)
    assert (
        f"Ready to bill {policy.payer.name}: benefits verified Jan 1, "
        f"{dt.date.today().year} (copay $40.00), nothing to fix before the visit." in body
    )
    assert "#insurance" not in body


def test_a_self_pay_visit_of_a_client_without_insurance_says_so(app, client, world):
    """Never "No insurance warnings" for a client with no insurance on file."""
    a = world.a
    with app.test_request_context():
        appt = cf.visit(a.practice, a.c1, a.provider, status="booked")
        appt.appointment_type.bill_insurance = False
        appt.appointment_type.save()
    login(client, a.frontdesk)
    body = client.get(f"/provider/appointments/{appt.id}/check-in").get_data(as_text=True)
    assert "No insurance warnings" not in body
    assert "Self-pay visit: no insurance is on file for this client." in body
    with app.test_request_context():
        policy = cf.policy(a.practice, a.c1)
        _verify(policy, copay_cents=4000)
    body = client.get(f"/provider/appointments/{appt.id}/check-in").get_data(as_text=True)
    assert f"Self-pay visit: not billed to {policy.payer.name}." in body


def test_a_self_pay_visit_is_not_held_up_by_the_clients_insurance(app, client, world):
    """The client's policy is unverified and its payer wants a referral none is on file
    for: a visit the client pays for is not billed there, so check-in does not warn."""
    a = world.a
    with app.test_request_context():
        appt = cf.visit(a.practice, a.c1, a.provider, status="booked")
        appt.appointment_type.bill_insurance = False
        appt.appointment_type.save()
        policy = cf.policy(a.practice, a.c1, payer_obj=cf.payer(a.practice, referral_required=True))
    login(client, a.frontdesk)
    body = client.get(f"/provider/appointments/{appt.id}/check-in").get_data(as_text=True)
    assert "Benefits not verified" not in body and "requires a referral" not in body
    assert f"Self-pay visit: not billed to {policy.payer.name}." in body
    assert desk.checkin_warnings(appt, appt.starts_at.date()) == []


def test_check_out_reads_the_signed_note_makes_the_claim_and_collects_the_copay(
    app, client, world, booked
):
    appt, policy = booked
    login(client, world.a.frontdesk)
    body = client.get(f"/provider/appointments/{appt.id}/check-out").get_data(as_text=True)
    assert "signed chart note" in body and 'name="minutes"' not in body  # not typed again
    assert (
        "<code>97124</code></td><td>45</td>" in body
        and "<code>97140</code></td><td>15</td>" in body
    )
    # whatever is posted, the note's minutes are recorded
    r = client.post(
        f"/provider/appointments/{appt.id}/check-out",
        data={"cpt_code": ["97124"], "minutes": ["60"]},
    )
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/billing/checkout/{appt.id}")
    rows = {m.cpt_code: m.minutes for m in AppointmentMinutes.select().where(
        AppointmentMinutes.appointment == appt.id)}  # fmt: skip
    assert rows == {"97124": 45, "97140": 15}
    [claim] = Claim.select().where(Claim.appointment == appt.id)
    assert claim.status == cs.READY and claim.created_by_id == world.a.frontdesk.id
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Nothing to pay for this visit" not in page
    assert "Estimated client share: <strong>$40.00</strong>" in page
    assert "Copay $40.00 of" in page and "allowed $125.00" in page
    assert claim.patient_control_number in page
    inv = Invoice.get((Invoice.appointment == appt.id) & (Invoice.reason == desk.SHARE_REASON))
    assert inv.total_cents == 4000 and inv.status == "open"
    r = client.post(
        f"/provider/billing/checkout/{appt.id}/pay", data={"invoice_id": inv.id, "method": "cash"}
    )
    assert r.status_code == 303
    assert Invoice.get_by_id(inv.id).status == "paid"
    assert Payment.get(Payment.invoice == inv.id).amount_cents == 4000


def test_an_insurance_visit_waits_for_its_signed_note_then_bills_it(app, client, world):
    """Issue 11: check-out of an insurance visit offers the chart note first; once the note
    is signed, check-out takes its minutes and the claim is made at the same moment."""
    a = world.a
    with app.test_request_context():
        appt, policy = cf.insured_visit(a, status="checked_in", checkout=False, sign=False)
        _verify(policy, coinsurance_percent=20)
    login(client, a.frontdesk)
    body = client.get(f"/provider/appointments/{appt.id}/check-out").get_data(as_text=True)
    assert 'name="minutes"' not in body and "chart note" in body
    r = client.post(
        f"/provider/appointments/{appt.id}/check-out",
        data={"cpt_code": ["97124", "97140"], "minutes": ["45", "15"]},
    )
    assert r.status_code == 409
    assert not Claim.select().exists()
    with app.test_request_context():
        cf.sign_draft(a.therapist, appt)
    r = client.post(f"/provider/appointments/{appt.id}/check-out", data={})
    assert r.status_code == 302
    assert Claim.get(Claim.appointment == appt.id).status == cs.READY
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    # 20% of the allowed $125 (3 x $30 + $35), from the note's minutes
    assert "Estimated client share: <strong>$25.00</strong>" in page


def test_no_verification_no_estimate_and_it_says_so(app, client, world):
    a = world.a
    with app.test_request_context():
        appt, _ = cf.insured_visit(a, status="checked_in", checkout=False)
    login(client, a.frontdesk)
    r = client.post(f"/provider/appointments/{appt.id}/check-out", data={})
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Benefits are not verified with" in page
    assert "Nothing to collect now" in page
    assert not Invoice.select().where(Invoice.appointment == appt.id).exists()


@pytest.mark.parametrize(
    "verification, share",
    [
        (dict(copay_cents=4000), 4000),
        (dict(coinsurance_percent=20), 2500),
        (dict(deductible_cents=50000, deductible_met_cents=49000, coinsurance_percent=20), 3300),
        (dict(deductible_cents=50000, deductible_met_cents=0, copay_cents=4000), 12500),
        (dict(copay_cents=4000, oop_max_cents=100000, oop_met_cents=99000), 1000),
        (dict(covered=False, copay_cents=4000), 0),
    ],
)
def test_estimate_from_the_latest_verification(ctx, world, verification, share):
    appt, policy = cf.insured_visit(world.a, status="checked_in", checkout=False)
    _verify(policy, **verification)
    assert desk.estimate(appt).total_cents == share


def test_an_estimate_in_a_new_benefit_year_counts_the_whole_deductible(ctx, world):
    """The deductible met at the call has started over once a new benefit year began (in
    the plan's own month): the estimate takes the whole deductible, and says why."""
    from portal import clock

    appt, policy = cf.insured_visit(world.a, status="checked_in", checkout=False)
    day = clock.local_date(appt.starts_at, world.a.practice.tz)
    called = dt.date(day.year, day.month, 1) - dt.timedelta(days=1)  # the month before
    v = _verify(policy, deductible_cents=50000, deductible_met_cents=50000, copay_cents=4000)
    v.verified_on, v.plan_year_month = called, day.month  # a plan year from this month on
    v.save()
    quote = desk.estimate(appt)
    assert quote.new_year and quote.total_cents == quote.estimate.allowed_cents > 4000
    assert quote.description.startswith("deductible ")
    assert quote.description.endswith(
        "(a new benefit year began after the last verification: nothing counted as met yet)"
    )
    v.plan_year_month = day.month % 12 + 1  # the plan year began eleven months ago
    v.save()
    quote = desk.estimate(appt)
    assert not quote.new_year and quote.total_cents == 4000  # the deductible was met


def test_a_practice_may_ask_for_the_signed_note_before_a_self_pay_check_out(app, client, world):
    a = world.a
    with app.test_request_context():
        appt = cf.visit(a.practice, a.c1, a.provider, status="checked_in")
        appt.appointment_type.bill_insurance = False
        appt.appointment_type.save()
        ClaimSettings.create(practice=a.practice, cash_checkout_without_note=False)
    login(client, a.frontdesk)
    body = client.get(f"/provider/appointments/{appt.id}/check-out").get_data(as_text=True)
    assert "chart note" in body and 'name="minutes"' not in body
    r = client.post(
        f"/provider/appointments/{appt.id}/check-out",
        data={"cpt_code": ["97124"], "minutes": ["60"]},
    )
    assert r.status_code == 409
    with app.test_request_context():
        cf.sign_note(a.therapist, appt, {"97124": 60}, ["M54.50"])
    r = client.post(f"/provider/appointments/{appt.id}/check-out", data={})
    assert r.status_code == 302


# --- a client holding a package, at an insurance visit -----------------------------------------


def _package_for(side, appt_type):
    """An active 5-session package of `side`'s client c1 covering `appt_type`."""
    purchase, inv = packages.sell(package(side.practice, types=[appt_type]), side.c1.id)
    invoicing.record_payment(inv, method="cash", amount_cents=inv.total_cents)
    return purchase


def test_an_insurance_visit_takes_no_package_credit_the_payer_is_billed(app, client, world, booked):
    appt, _ = booked
    with app.test_request_context():
        purchase = _package_for(world.a, appt.appointment_type)
    login(client, world.a.frontdesk)
    r = client.post(f"/provider/appointments/{appt.id}/check-out", data={})
    assert r.status_code == 302
    assert packages.balance(purchase.id) == 5 and packages.redeemed_entry(appt.id) is None
    assert Claim.select().where(Claim.appointment == appt.id).count() == 1  # the payer pays
    share = Invoice.get((Invoice.appointment == appt.id) & (Invoice.reason == desk.SHARE_REASON))
    page = client.get(f"/provider/billing/checkout/{appt.id}").get_data(as_text=True)
    assert f'value="package_credit:{purchase.id}"' not in page  # a copay is not a visit
    assert 'value="external_terminal"' in page
    before = CreditLedger.select().count()
    r = client.post(
        f"/provider/billing/checkout/{appt.id}/take",
        data={"invoice_id": share.id, "pay": f"package_credit:{purchase.id}"},
    )
    assert r.status_code == 400
    assert "A package credit pays for a whole visit" in r.get_data(as_text=True)
    assert CreditLedger.select().count() == before and packages.balance(purchase.id) == 5
    assert Invoice.get_by_id(share.id).status == "open"


def test_a_practice_redeeming_at_booking_leaves_insurance_visits_to_the_payer(ctx, world):
    a = world.a
    settings = invoicing.settings_for(a.practice.id)
    settings.redeem_at = "booking"
    settings.save()
    appt, _ = cf.insured_visit(a, status="booked", checkout=False)
    purchase = _package_for(a, appt.appointment_type)
    billing_events.on_booked(appt)
    assert packages.balance(purchase.id) == 5
    # a visit paid from a package some other way is not billed to the payer as well
    packages.redeem(appt, purchase=purchase)
    appt.status = "completed"
    appt.save()
    with pytest.raises(build.NotBillable, match="paid with a package credit"):
        build.create_for_visit(appt)
    assert not Claim.select().where(Claim.appointment == appt.id).exists()
    packages.return_credit(appt)
    assert build.create_for_visit(appt)[0].appointment_id == appt.id


def test_a_held_claim_says_at_check_out_what_holds_it(app, client, world):
    """The desk (and a therapist, who cannot open the claim) reads what to correct on the
    check-out page itself, not only "a problem holds it"."""
    a = world.a
    with app.test_request_context():
        appt, policy = cf.insured_visit(
            a, status="checked_in", checkout=False, payer_kw={"allow_97124_97140": False}
        )
        _verify(policy, copay_cents=4000)
    login(client, a.therapist)
    r = client.post(f"/provider/appointments/{appt.id}/check-out", data={})
    assert r.status_code == 302
    claim = Claim.get(Claim.appointment == appt.id)
    assert claim.held
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "97124 (massage) and 97140 (manual therapy) are both billed on" in page
    assert "open the claim to fix it" not in page  # a therapist cannot open it
