"""Demo: clients with demographics, payers (incl. workers' comp and auto), policies, a
verification, a referral, a prior authorization and intake forms. Idempotent.

Dates are counted back from the day the demo is loaded, so the demo never ages: the
verification is a month old, the referral and the authorization are running, each injury
precedes its visits. Payers, clients and forms are told at the practice's opening
(`foundation.opened`); each insurance record at its own day.
"""

import datetime as dt

from portal import clock
from portal.demo.foundation import at_day, opened
from portal.models import (
    BenefitsVerification,
    Client,
    InsurancePolicy,
    IntakeField,
    IntakeForm,
    Payer,
    PayerFee,
    PriorAuthorization,
    Referral,
)
from portal.services.intake import default_fields


def _payer(practice, name, **kw):
    p = Payer.get_or_none((Payer.practice == practice) & (Payer.name == name))
    return p or Payer.create(practice=practice, name=name, **kw)


def _client(practice, email, **kw):
    c = Client.get_or_none((Client.practice == practice) & (Client.email == email))
    if c is None:
        digits = "".join(ch for ch in kw.get("phone", "") if ch.isdigit())
        c = Client.create(practice=practice, email=email, phone_digits=digits, **kw)
    return c


def _policy(practice, client, payer, **kw):
    p = InsurancePolicy.get_or_none(
        (InsurancePolicy.client == client) & (InsurancePolicy.payer == payer)
    )
    return p or InsurancePolicy.create(practice=practice, client=client, payer=payer, **kw)


def load(ctx):
    practice = ctx["practice"]
    with clock.told(opened(practice)):
        ctx["payers"] = _payers(practice)
        ctx["clients"] = _clients(ctx)
        ctx["intake_forms"] = _intake_forms(practice)
    _insurance(ctx)


def _payers(practice):
    """A commercial payer (with a fee schedule), a workers' comp carrier and an auto insurer."""
    regence = _payer(
        practice,
        "Regence BlueCross BlueShield of Oregon",
        payer_code="00851",
        address1="PO Box 1271",
        city="Portland",
        state="OR",
        postal_code="97207",
        phone="888-675-6570",
        referral_required=True,
        affiliated=True,
        filing_limit_days=365,
    )
    for code, cents in (("97124", 7000), ("97140", 7500)):
        if not PayerFee.get_or_none((PayerFee.payer == regence) & (PayerFee.cpt_code == code)):
            PayerFee.create(practice=practice, payer=regence, cpt_code=code, fee_cents=cents)
    saif = _payer(
        practice,
        "SAIF Corporation",
        kind="workers_comp",
        payer_code="SAIF1",
        address1="400 High St SE",
        city="Salem",
        state="OR",
        postal_code="97312",
        phone="800-285-8525",
        authorization_required=True,
        filing_limit_days=180,
    )
    auto = _payer(
        practice,
        "State Farm Auto (PIP)",
        kind="auto",
        payer_code="31059",
        address1="PO Box 106169",
        city="Atlanta",
        state="GA",
        postal_code="30348",
        phone="800-732-5246",
        unit_rule="per_code",
        filing_limit_days=365,
    )
    return [regence, saif, auto]


def _clients(ctx):
    """The demo client with an address, and three more with their therapists."""
    practice = ctx["practice"]
    maya, omar = ctx["providers"]
    jordan = ctx["client"]
    if not jordan.address1:
        jordan.sex = "F"
        jordan.address1 = "88 Alder Street"
        jordan.city = "Portland"
        jordan.state = "OR"
        jordan.postal_code = "97204"
        jordan.phone_digits = "5035550199"
        jordan.emergency_name = "Casey Avery"
        jordan.emergency_relationship = "Sibling"
        jordan.emergency_phone = "503-555-0188"
        jordan.save()
    priya = _client(
        practice,
        "priya@demo.example",
        first_name="Priya",
        last_name="Natarajan",
        date_of_birth=dt.date(1979, 9, 23),
        sex="F",
        phone="503-555-0131",
        address1="2210 NE Glisan St",
        city="Portland",
        state="OR",
        postal_code="97232",
        therapist=omar,
    )
    marcus = _client(
        practice,
        "marcus@demo.example",
        first_name="Marcus",
        last_name="Bell",
        preferred_name="Marc",
        date_of_birth=dt.date(1991, 2, 14),
        sex="M",
        phone="503-555-0162",
        address1="15 SW Oak St",
        city="Portland",
        state="OR",
        postal_code="97204",
        therapist=maya,
    )
    helen = _client(
        practice,
        "helen@demo.example",
        first_name="Helen",
        last_name="Okafor",
        date_of_birth=dt.date(1958, 6, 2),
        sex="F",
        phone="503-555-0175",
        therapist=maya,
    )
    return [jordan, priya, marcus, helen]


def _insurance(ctx):
    """A verified commercial policy with a referral; then the injury claims."""
    practice = ctx["practice"]
    regence = ctx["payers"][0]
    jordan = ctx["clients"][0]
    today = clock.today(practice.tz)
    # the plan year that holds the demo's oldest referral (130 days back, see demo.claims)
    effective = dt.date((today - dt.timedelta(days=130)).year, 1, 1)
    with clock.told(at_day(practice, effective)):
        jp = _policy(
            practice,
            jordan,
            regence,
            member_id="RGA918273645",
            group_number="10045",
            plan_name="Regence Preferred",
            effective_date=effective,
        )
    verified = today - dt.timedelta(days=29)
    if not BenefitsVerification.get_or_none(BenefitsVerification.policy == jp):
        with clock.told(at_day(practice, verified)):
            _verification(ctx, jordan, jp, verified)
    referred = today - dt.timedelta(days=43)
    if not Referral.get_or_none(Referral.client == jordan):
        with clock.told(at_day(practice, referred)):
            _referral(practice, jordan, jp, referred)
    _injury_claims(ctx)


def _verification(ctx, jordan, jp, verified):
    BenefitsVerification.create(
        practice=ctx["practice"],
        client=jordan,
        policy=jp,
        verified_on=verified,
        verified_by=ctx["frontdesk"],
        verified_by_name=ctx["frontdesk"].name,
        conditions="Medically necessary massage with a physician's referral.",
        deductible_cents=50000,
        deductible_met_cents=50000,
        copay_cents=4000,
        oop_max_cents=300000,
        max_per_visit_cents=9000,
        visits_per_year=20,
        visits_used=8,
        body_regions="Neck, upper back, lower back",
        massage_types="Therapeutic (97124), manual therapy (97140)",
        referral_required=True,
        representative="Dana M.",
        reference_number=f"RG-{verified:%Y%m%d}-4471",
    )


def _referral(practice, jordan, jp, referred):
    Referral.create(
        practice=practice,
        client=jordan,
        policy=jp,
        referring_name="Dr. Ana Whitfield, MD",
        referring_npi="1790000008",
        diagnosis_codes="M54.50,M62.830",
        referral_date=referred,
        visits_allowed=12,
        end_date=referred + dt.timedelta(days=182),
    )


def _injury_claims(ctx):
    """A workers' comp claim with a prior authorization, and an auto (PIP) claim."""
    practice = ctx["practice"]
    _regence, saif, auto = ctx["payers"]
    _jordan, priya, marcus, _helen = ctx["clients"]
    today = clock.today(practice.tz)
    injured = today - dt.timedelta(days=79)  # before Priya's visits (40 days back and later)
    with clock.told(at_day(practice, injured + dt.timedelta(days=3))):
        pp = _policy(
            practice,
            priya,
            saif,
            member_id="SAIF-WC-558812",
            claim_type="workers_comp",
            employer_name="Willamette Print Works",
            claim_number="7741209",
            injury_date=injured,
            effective_date=injured,
        )
    authorized = today - dt.timedelta(days=62)
    if not PriorAuthorization.get_or_none(PriorAuthorization.client == priya):
        with clock.told(at_day(practice, authorized)):
            PriorAuthorization.create(
                practice=practice,
                client=priya,
                policy=pp,
                number="SAIF-PA-30991",
                visits_allowed=8,
                start_date=authorized,
                end_date=authorized + dt.timedelta(days=91),
                body_regions="Right shoulder, cervical spine",
            )
    crashed = today - dt.timedelta(days=44)  # before Marcus's visits (about 30 days back)
    with clock.told(at_day(practice, crashed + dt.timedelta(days=1))):
        _policy(
            practice,
            marcus,
            auto,
            member_id="SF-22-7781-AB",
            claim_type="auto",
            claim_number="37-8Q21-994",
            injury_date=crashed,
            accident_state="OR",
        )


def _intake_forms(practice):
    """The health history (the default fields) and a consent form."""
    form = IntakeForm.get_or_none(
        (IntakeForm.practice == practice) & (IntakeForm.title == "Health history")
    )
    if form is None:
        form = IntakeForm.create(
            practice=practice,
            title="Health history",
            kind="health_history",
            description="Please answer before your first visit. Your answers are kept private.",
            position=1,
        )
        for i, (label, kind, opts, flag, flag_label) in enumerate(default_fields(), start=1):
            IntakeField.create(
                practice=practice,
                form=form,
                position=i * 10,
                label=label,
                field_type=kind,
                choices=opts,
                flag=flag,
                flag_label=flag_label,
            )
    consent = IntakeForm.get_or_none(
        (IntakeForm.practice == practice) & (IntakeForm.title == "Consent to treatment")
    )
    if consent is None:
        consent = IntakeForm.create(
            practice=practice,
            title="Consent to treatment",
            kind="consent",
            description="Massage therapy is not a substitute for medical care.",
            position=2,
        )
        IntakeField.create(
            practice=practice,
            form=consent,
            position=10,
            label="I consent to massage therapy and will tell my therapist about any discomfort.",
            field_type="checkbox",
            required=True,
        )
    return [form, consent]
