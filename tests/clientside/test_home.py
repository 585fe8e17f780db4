"""The client home (issue 12, item 4): what needs doing, useful empty states, the profile
and the e-mail choices; served from the render cache while nothing changed."""

import datetime as dt

from portal import clock, pagecache
from portal.models import (
    CardImage,
    ClientPreference,
    InsurancePolicy,
    IntakeForm,
    IntakeSubmission,
    Payer,
    SavedPaymentMethod,
)
from portal.services import intake as intake_svc
from tests import factories
from tests.clientside.helpers import scene
from tests.conftest import form_version, login


def test_a_new_client_sees_useful_empty_states(app, client):
    with app.test_request_context():
        practice = factories.practice()
        cu = factories.client_user(practice)
    login(client, cu.email)
    page = client.get("/portal/").get_data(as_text=True)
    for text in (
        "No visit booked",
        "Book a visit",
        "None.",
        "Nothing owed",
        "after your first visit",
        "No insurance on file",
    ):
        assert text in page, text


def test_what_needs_doing(app, client):
    with app.test_request_context():
        s = scene(other=False)
        intake_svc.create_default_form(s.practice.id)
        payer = Payer.create(practice=s.practice, name="Blue Ridge Health")
        InsurancePolicy.create(practice=s.practice, client=s.client, payer=payer, member_id="X1")
        SavedPaymentMethod.create(
            practice=s.practice,
            client=s.client,
            stripe_payment_method_id="pm_x",
            brand="visa",
            last4="4242",
            exp_month=1,
            exp_year=2020,
        )
        form = IntakeForm.get(IntakeForm.practice == s.practice.id)
    login(client, s.client_user.email)
    page = client.get("/portal/").get_data(as_text=True)
    assert f"Fill in and sign “{form.title}”" in page
    assert "Visa ending 4242 has expired" in page
    assert "Send a photo of your Blue Ridge Health card" in page
    assert "4</strong> of 5 left" in page
    # served again from the render cache; a change anywhere shows at once
    client.get("/portal/")  # stored (the first had no CSRF secret in its session yet)
    before = pagecache.stats(app)["hits"]
    client.get("/portal/")
    assert pagecache.stats(app)["hits"] == before + 1


def test_profile_and_choices(app, client):
    with app.test_request_context():
        s = scene(other=False)
    login(client, s.client_user.email)
    r = client.post("/portal/profile", data={"phone": "call me", "preferred_name": "Jo"})
    assert r.status_code == 400 and "Enter a phone number" in r.get_data(as_text=True)
    r = client.post(
        "/portal/profile",
        data={
            "phone": "503-555-0111",
            "preferred_name": "Jo",
            "city": "Portland",
            "state": "OR",
            "version": form_version(client, "/portal/profile"),
        },
    )
    assert r.status_code == 303
    assert "Hello, Jo" in client.get("/portal/").get_data(as_text=True)
    r = client.post("/portal/preferences", data={"monthly_superbill": "y"})
    assert r.status_code == 303
    with app.app_context():
        pref = ClientPreference.get(ClientPreference.client == s.client.id)
        assert pref.monthly_superbill and not pref.document_emails
    page = client.get("/portal/").get_data(as_text=True)  # the home shows the saved choices
    assert '<input checked id="monthly_superbill" name="monthly_superbill"' in page
    assert '<input id="document_emails" name="document_emails"' in page


def _card(s, policy, side, replaced=False):
    CardImage.create(
        practice=s.practice,
        client=s.client,
        policy=policy,
        side=side,
        stored_name=f"{policy.id}-{side}-{replaced}.png",
        content_type="image/png",
        size_bytes=10,
        sha256="0" * 64,
        uploaded_at=clock.utcnow(),
        replaced_at=clock.utcnow() if replaced else None,
    )


def test_cards_and_forms_on_file(app, client):
    # A policy with a current front photo (its back was replaced, so none is current), one
    # with both sides, one with none; a form signed, one not; a card expiring next month.
    with app.test_request_context():
        s = scene(other=False)
        signed = intake_svc.create_default_form(s.practice.id)
        IntakeForm.create(practice=s.practice, title="Consent to treatment", kind="consent")
        IntakeSubmission.create(
            practice=s.practice,
            client=s.client,
            form=signed,
            form_title=signed.title,
            answers_json="[]",
            signature_name="Jordan Avery",
            signed_at=clock.utcnow(),
            content_sha256="0" * 64,
        )
        policies = []
        for name in ("Front Only Health", "Both Sides Health", "No Photo Health"):
            payer = Payer.create(practice=s.practice, name=name)
            policies.append(
                InsurancePolicy.create(
                    practice=s.practice, client=s.client, payer=payer, member_id="X"
                )
            )
        _card(s, policies[0], "front")
        _card(s, policies[0], "back", replaced=True)
        _card(s, policies[1], "front")
        _card(s, policies[1], "back")
        soon = clock.utcnow().date() + dt.timedelta(days=31)
        SavedPaymentMethod.create(
            practice=s.practice,
            client=s.client,
            stripe_payment_method_id="pm_y",
            brand="mastercard",
            last4="5454",
            exp_month=soon.month,
            exp_year=soon.year,
        )
    login(client, s.client_user.email)
    page = client.get("/portal/").get_data(as_text=True)
    assert "Front Only Health: front on file, back missing" in page
    assert "Both Sides Health: front and back on file" in page
    assert "No Photo Health: no card photo yet" in page
    assert "Send a photo of your No Photo Health card" in page
    assert "Send a photo of your Front Only Health card" not in page
    assert "Send a photo of your Both Sides Health card" not in page
    assert "Fill in and sign “Consent to treatment”" in page
    assert "Fill in and sign “Health history”" not in page
    assert "Mastercard ending 5454 expires soon" in page


def test_without_online_payments_the_home_does_not_offer_pay(app, client):
    """Stripe not set up: the home's balance leads to the invoices and says to pay at the
    next visit, instead of a Pay button that only answered "not available yet"."""
    from portal.models import Invoice
    from portal.services import scheduling
    from tests.clientside.helpers import past_visit

    app.config["STRIPE_SECRET_KEY"] = ""
    with app.test_request_context():
        s = scene(other=False)
        visit = past_visit(s.practice, s.client, s.provider, s.thirty, days_ago=5)
        scheduling.check_out(visit, {"97124": 30})
        invoice = Invoice.get(Invoice.appointment == visit.id)
    login(client, s.client_user.email)
    page = client.get("/portal/").get_data(as_text=True)
    due = page.split('id="due-h"', 1)[1].split("</section>", 1)[0]
    assert "$55.00" in due
    assert f"/portal/invoices/{invoice.id}/pay" not in page
    assert 'href="/portal/invoices">Invoices</a>' in due
    assert "Pay at your next visit" in due
