"""What walking the insurance pages at the desk and on the phone found, one test a find.

Each test goes through the pages (the test client) on the test's real database file."""

import datetime as dt

from portal.models import BenefitsVerification, PriorAuthorization, Referral
from tests.clients import helpers as h
from tests.conftest import login


def _referral(w, **kw):
    data = dict(
        practice=w.a.practice,
        client=w.a.c1,
        referring_name="Dr Ada Lane",
        referring_npi="1234567893",
        diagnosis_codes="M54.50",
        referral_date=dt.date(2026, 1, 1),
    )
    data.update(kw)
    return Referral.create(**data)


def test_an_end_date_of_12_31_9999_reads_as_open_not_as_an_error(app, client, world):
    """Payers write 12/31/9999 for "no end": the client page and the check-in warnings
    counted visits up to the day after it, past the calendar's end, and answered 500."""
    pol = h.policy(world.a.practice, world.a.c1)
    _referral(world, policy=pol, visits_allowed=6, end_date=dt.date(9999, 12, 31))
    PriorAuthorization.create(
        practice=world.a.practice,
        client=world.a.c1,
        number="PA-1",
        visits_allowed=4,
        start_date=dt.date(1, 1, 1),
        end_date=dt.date(9999, 12, 31),
    )
    login(client, world.a.frontdesk)
    r = client.get(f"/provider/clients/{world.a.c1.id}")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert "6 of 6 visits left, until Dec 31, 9999" in text
    assert "4 of 4 visits left, until Dec 31, 9999" in text


def test_a_verification_dated_in_the_future_is_refused(app, client, world):
    """The call has happened: a date after today (a slip of the year) is refused next to the
    field, instead of being saved and breaking the visit count (a 500 at 12/31/9999)."""
    pol = h.policy(world.a.practice, world.a.c1)
    login(client, world.a.frontdesk)
    url = f"/provider/policies/{pol.id}/verifications/new"
    r = client.post(url, data={"verified_on": "9999-12-31", "visits_per_year": "20"})
    assert r.status_code == 400
    assert "The call cannot be in the future" in r.get_data(as_text=True)
    assert BenefitsVerification.select().count() == 0
    assert client.get(f"/provider/clients/{world.a.c1.id}").status_code == 200


def _billed_visit(w, local_day, hour, minute=0):
    """A completed visit of an insurance-billed type at a local time of the practice."""
    from tests.claims import factories as cf

    start = dt.datetime.combine(local_day, dt.time(hour, minute)).replace(tzinfo=w.a.practice.tz)
    start = start.astimezone(dt.UTC).replace(tzinfo=None)
    appt = cf.visit(w.a.practice, w.a.c1, w.a.provider, day=start.date(), hour=start.hour)
    appt.starts_at, appt.ends_at = start, start + dt.timedelta(hours=1)
    appt.blocked_until = appt.completed_at = appt.ends_at
    appt.save()
    return appt


def test_visits_left_counts_the_visit_on_the_day_of_the_call(app, client, world):
    """The desk calls in the morning (8 of 20 used) and the client comes that afternoon:
    that visit's claim cannot be in the payer's count yet, so it is one more used. It was
    left out (visits were counted from the day after the call): 12 left instead of 11."""
    pol = h.policy(world.a.practice, world.a.c1)
    BenefitsVerification.create(
        practice=world.a.practice,
        client=world.a.c1,
        policy=pol,
        verified_on=dt.date(2026, 11, 30),
        visits_per_year=20,
        visits_used=8,
    )
    _billed_visit(world, dt.date(2026, 11, 27), 10)  # before the call: in the payer's 8
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/clients/{world.a.c1.id}").get_data(as_text=True)
    assert "12 of 20 visits left" in page
    _billed_visit(world, dt.date(2026, 11, 30), 15)  # the afternoon of the call
    page = client.get(f"/provider/clients/{world.a.c1.id}").get_data(as_text=True)
    assert "11 of 20 visits left" in page
    _billed_visit(world, dt.date(2026, 12, 1), 16, 30)  # 00:30 UTC on Dec 2
    page = client.get(f"/provider/policies/{pol.id}").get_data(as_text=True)
    assert "10 of 20 visits left" in page


def _errors(html):
    """The messages next to fields, in order."""
    import re

    return re.findall(r'<p class="error" id="[^"]+">([^<]+)</p>', html)


def test_a_verification_that_does_not_add_up_is_refused_field_by_field(app, client, world):
    """$600 met of a $500 deductible, 25 of 20 visits used: a typo the summary showed as
    "deductible $600 of $500 met, 0 of 20 visits left". Each is refused next to its field,
    the typed values kept; a visit count that is no whole number gets one message, not two
    ("Not a valid integer value. 0 to 999.")."""
    pol = h.policy(world.a.practice, world.a.c1)
    login(client, world.a.frontdesk)
    url = f"/provider/policies/{pol.id}/verifications/new"
    form = {
        "verified_on": "2026-11-03",
        "covered": "y",
        "representative": "Dana",
        "deductible": "500",
        "deductible_met": "600",
        "oop_max": "3000",
        "oop_met": "3000.01",
        "visits_per_year": "20",
        "visits_used": "25",
    }
    r = client.post(url, data=form)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert _errors(html) == [
        "More than the deductible ($500.00): check the amount met so far.",
        "More than the out-of-pocket maximum ($3,000.00): check the amount met so far.",
        "More than the visits per year (20): check the visits used.",
    ]
    assert 'value="Dana"' in html and 'value="600"' in html
    r = client.post(url, data=dict(form, deductible_met="", oop_met="", visits_used="1e9"))
    assert _errors(r.get_data(as_text=True)) == ["Enter a whole number of visits, 0 to 999."]
    r = client.post(url, data=dict(form, deductible_met="", oop_met="", visits_per_year="-3"))
    assert _errors(r.get_data(as_text=True)) == ["Enter a whole number of visits, 0 to 999."]
    assert BenefitsVerification.select().count() == 0
    r = client.post(url, data=dict(form, deductible_met="500", oop_met="", visits_used="20"))
    assert r.status_code == 302
    v = BenefitsVerification.get()
    assert (v.deductible_met_cents, v.visits_used) == (50000, 20)


def test_referral_and_authorization_visit_counts_are_checked(app, client, world):
    """0 visits authorized read "Enter the number of visits." (as if left empty), and more
    visits used before than allowed was saved ("used up (5 of 4 visits)")."""
    login(client, world.a.frontdesk)
    c = world.a.c1.id
    auth = {
        "policy": "0",
        "number": "PA-7",
        "visits_allowed": "0",
        "visits_used_before": "0",
        "start_date": "2026-11-01",
        "end_date": "2027-01-31",
    }
    r = client.post(f"/provider/clients/{c}/authorizations/new", data=auth)
    assert _errors(r.get_data(as_text=True)) == ["Enter a whole number of visits, 1 to 999."]
    r = client.post(f"/provider/clients/{c}/authorizations/new", data=dict(auth, visits_allowed=""))
    assert _errors(r.get_data(as_text=True)) == ["Enter the number of visits authorized."]
    r = client.post(
        f"/provider/clients/{c}/authorizations/new",
        data=dict(auth, visits_allowed="4", visits_used_before="5"),
    )
    assert _errors(r.get_data(as_text=True)) == [
        "More than the visits authorized (4): check the visits already used."
    ]
    assert PriorAuthorization.select().count() == 0
    ref = {
        "policy": "0",
        "referring_name": "Dr Ada Lane",
        "referring_npi": "1234567893",
        "qualifier": "DN",
        "diagnosis_codes": "M54.50",
        "referral_date": "2026-11-01",
        "visits_allowed": "0",
    }
    r = client.post(f"/provider/clients/{c}/referrals/new", data=ref)
    assert _errors(r.get_data(as_text=True)) == ["Enter a whole number of visits, 1 to 999."]
    r = client.post(
        f"/provider/clients/{c}/referrals/new",
        data=dict(ref, visits_allowed="6", visits_used_before="7"),
    )
    assert _errors(r.get_data(as_text=True)) == [
        "More than the visits allowed (6): check the visits already used."
    ]
    assert Referral.select().count() == 0
    r = client.post(
        f"/provider/clients/{c}/referrals/new",
        data=dict(ref, visits_allowed="", visits_used_before="7"),
    )
    assert r.status_code == 302 and Referral.get().visits_allowed is None  # no limit


def test_long_text_on_a_policy_or_referral_is_refused_not_cut_or_failed(app, client, world):
    """The subscriber's name, address, employer and claim number, and the referring
    provider's name had no length limit: 5,000 characters were saved here (SQLite) and
    failed the 255-character column on PostgreSQL (a 500)."""
    pol = h.policy(world.a.practice, world.a.c1)
    login(client, world.a.frontdesk)
    c = world.a.c1.id
    form = {
        "payer": str(pol.payer_id),
        "rank": "secondary",
        "member_id": "W1",
        "relationship": "child",
        "subscriber_first_name": "A" * 5000,
        "subscriber_last_name": "Person",
        "subscriber_address1": "1 Main St " * 500,
        "subscriber_city": "C" * 300,
        "subscriber_sex": "",
        "claim_type": "workers_comp",
        "employer_name": "E" * 300,
        "claim_number": "9" * 300,
        "injury_date": "2026-10-01",
    }
    r = client.post(f"/provider/clients/{c}/policies/new", data=form)
    assert r.status_code == 400
    errors = _errors(r.get_data(as_text=True))
    assert len(errors) == 5 and all(e.startswith("Use at most ") for e in errors)
    r = client.post(
        f"/provider/clients/{c}/referrals/new",
        data={
            "policy": "0",
            "referring_name": "Dr " + "X" * 300,
            "referring_npi": "1234567893",
            "qualifier": "DN",
            "diagnosis_codes": "M54.50",
            "referral_date": "2026-11-01",
        },
    )
    assert _errors(r.get_data(as_text=True)) == ["Use at most 200 characters."]
    assert Referral.select().count() == 0


def test_a_new_primary_added_before_the_old_one_ends_is_named_and_used(app, client, world):
    """A client changes insurer; the desk adds the new primary and leaves the old one open.
    Both are primary on the visit's day: check-in spoke of the old one (verified, "nothing
    to check") while the estimate and the claim went to the new one. Now the page and
    check-in say what to fix, and speak of the policy the claim goes to."""
    from portal.services import coverage
    from portal.services.claims import data as claim_data

    old = h.policy(world.a.practice, world.a.c1, h.payer(world.a.practice, name="Regence"))
    BenefitsVerification.create(
        practice=world.a.practice,
        client=world.a.c1,
        policy=old,
        verified_on=dt.date(2026, 3, 1),
        copay_cents=4000,
    )
    new = h.policy(
        world.a.practice,
        world.a.c1,
        h.payer(world.a.practice, name="Aetna", payer_code="AE1"),
        effective_date=dt.date(2026, 12, 1),
    )
    day = dt.date(2026, 12, 2)
    assert claim_data.active_policy(world.a.c1.id, "primary", day) == new
    warnings = coverage.visit_warnings(world.a.c1, day)
    assert warnings == [
        "Two primary policies are in effect on Dec 2, 2026: Regence (since Jan 1, 2026) and "
        "Aetna (since Dec 1, 2026). Claims go to Aetna, the newest: give Regence an end "
        "date, or make one of them secondary (Edit policy, on the client's insurance).",
        "Benefits not verified for Aetna: call Aetna and record what they say (Record a "
        "verification, on the client's insurance).",
    ]
    old.end_date = dt.date(2026, 11, 30)
    old.save()
    assert coverage.visit_warnings(world.a.c1, day) == warnings[1:]
    assert coverage.visit_warnings(world.a.c1, dt.date(2026, 11, 30)) == []  # Regence's day


def test_an_ended_policy_says_so_and_comes_after_the_current_one(app, client, world):
    """A policy that ended and the one that replaced it were both shown as "Primary",
    the ended one first, at the desk and in the client's portal: which one is on file?"""
    from portal import clock

    today = clock.today(world.a.practice.tz)
    old = h.policy(
        world.a.practice,
        world.a.c1,
        h.payer(world.a.practice, name="Regence"),
        effective_date=today - dt.timedelta(days=400),
        end_date=today - dt.timedelta(days=1),
    )
    h.policy(
        world.a.practice,
        world.a.c1,
        h.payer(world.a.practice, name="Aetna", payer_code="AE1"),
        effective_date=today,
    )
    h.policy(
        world.a.practice,
        world.a.c1,
        h.payer(world.a.practice, name="Moda", payer_code="MO1"),
        rank="secondary",
        effective_date=today + dt.timedelta(days=1),
    )
    ended = f"Ended {old.end_date:%b} {old.end_date.day}, {old.end_date.year}"
    starts_on = today + dt.timedelta(days=1)
    starts = f"Starts {starts_on:%b} {starts_on.day}, {starts_on.year}"
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/clients/{world.a.c1.id}").get_data(as_text=True)
    section = page[page.index('id="insurance"') : page.index("<h3>Referrals</h3>")]
    assert section.index(">Aetna<") < section.index(">Moda<") < section.index(">Regence<")
    assert ended in section and starts in section
    client.post("/logout")
    login(client, world.a.cu1)
    page = client.get("/portal/insurance").get_data(as_text=True)
    assert page.index("Aetna") < page.index("Moda") < page.index("Regence")
    assert ended in page and starts in page
    home = client.get("/portal/").get_data(as_text=True)  # no photo of any card on file
    assert "Send a photo of your Aetna card." in home
    assert "Send a photo of your Regence card." not in home  # it ended: no card to send


def _post_photo(client, url, megabytes, **fields):
    import io

    data = b"\xff\xd8\xff" + b"\0" * int(megabytes * 1024 * 1024)
    return client.post(
        url,
        data=dict(fields, file=(io.BytesIO(data), "IMG_2041.JPG")),
        content_type="multipart/form-data",
    )


def test_a_20_mb_card_photo_answers_with_the_form_and_the_limit(app, client, world):
    """A phone's 20 MB photo was over the request limit: the desk and the client got a bare
    "Too large / That upload is too large." page, the form gone. Now the upload is read and
    the page comes back with the size and the limit next to the file field, and what to
    do."""
    from portal.models import CardImage

    pol = h.policy(world.a.practice, world.a.c1, h.payer(world.a.practice, name="Regence"))
    said = "That file is 20.0 MB; the limit is 10 MB."
    login(client, world.a.frontdesk)
    r = _post_photo(client, f"/provider/policies/{pol.id}/cards", 20, side="back")
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "<h2>Card images</h2>" in html and "Regence" in html
    [error] = _errors(html)
    assert error.startswith(said) and "lower resolution" in error
    client.post("/logout")
    login(client, world.a.cu1)
    r = _post_photo(client, "/portal/insurance/cards", 20, side="front", policy=str(pol.id))
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "Send a photo of your card" in html
    [error] = _errors(html)
    assert error.startswith(said)
    assert CardImage.select().count() == 0
    other = h.policy(world.b.practice, world.b.c1)
    r = _post_photo(client, f"/provider/policies/{other.id}/cards", 20, side="back")
    assert r.status_code == 404  # a client on the desk's route, another practice's policy
    r = _post_photo(client, "/portal/insurance/cards", 41, side="front", policy="0")
    assert r.status_code == 413  # past what any phone takes: the error page says what to do
    assert "Go back and choose a smaller file" in r.get_data(as_text=True)


def test_empty_insurance_lists_say_what_to_do(app, client, world):
    """ "No referrals.", "No authorizations.", "Benefits not verified yet.": true, but the
    desk is left to guess when one is needed and where to add it."""
    pol = h.policy(world.a.practice, world.a.c1, h.payer(world.a.practice, phone="800-555-0199"))
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/clients/{world.a.c2.id}").get_data(as_text=True)
    assert (
        "No insurance on file: the client pays for their visits. If they have insurance, "
        "add it with Add a policy." in page
    )
    page = client.get(f"/provider/clients/{world.a.c1.id}").get_data(as_text=True)
    assert (
        "No referrals. When the payer requires a physician's referral, add it with "
        "Add a referral." in page
    )
    assert (
        "No prior authorizations. When the payer requires one, add its number with Add "
        "an authorization." in page
    )
    page = client.get(f"/provider/policies/{pol.id}").get_data(as_text=True)
    assert (
        "Benefits not verified yet: call Blue Shield at 800-555-0199 and record what they "
        "say with Record a verification." in page
    )


def test_a_card_photo_on_the_phone_opens_full_size(app, client, world):
    """The portal showed a card photo only as a thumbnail, with nothing to tap: a member ID
    could not be read on a phone. Each photo now links to its full-size image (the phone
    zooms it), and only the client's own photo opens."""
    import io

    from portal.models import CardImage
    from tests.clients.helpers import jpeg_bytes

    pol = h.policy(world.a.practice, world.a.c1, h.payer(world.a.practice, name="Regence"))
    login(client, world.a.cu1)
    photo = jpeg_bytes()
    r = client.post(
        "/portal/insurance/cards",
        data={"policy": str(pol.id), "side": "front", "file": (io.BytesIO(photo), "card.jpg")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    card = CardImage.get(CardImage.policy == pol)
    page = client.get("/portal/insurance").get_data(as_text=True)
    url = f"/portal/insurance/cards/{card.id}"
    assert f'<a class="card-photo-link" href="{url}"><img src="{url}"' in page
    assert "Front · tap to enlarge" in page and "Back · tap to enlarge" not in page
    r = client.get(url)
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert r.headers["Content-Disposition"].startswith("inline")
    client.post("/logout")
    login(client, world.a.cu2)  # another client of the same practice
    assert client.get(url).status_code == 404
    client.post("/logout")
    assert client.get(url).status_code in (302, 401)
