"""Demo: the practice, two therapists, four users and one client.

They are told at the practice's opening (`opened`), well before the oldest visit of the
demo (a year back, see demo.claims), so a client is not "client since" after their visits.
"""

import datetime as dt
import zoneinfo

from portal import clock
from portal.demo import DEMO_PASSWORDS
from portal.models import Client, Practice, Provider, User
from portal.rules import slots as slot_rules
from portal.sessions import hash_password

PRACTICE_NAME = "Riverside Massage Therapy (demo)"
ZONE = "America/Los_Angeles"
OPENED_DAYS_AGO = 400


def at_day(practice, day, hour=10):
    """`hour` o'clock on the local `day` as naive UTC, never after now: when a demo record
    dated by a day (a verification, a referral) was entered."""
    tz = practice.tz if practice is not None else zoneinfo.ZoneInfo(ZONE)
    local = dt.datetime.combine(day, dt.time(hour))
    return min(slot_rules.to_utc(local, tz), clock.utcnow())


def opened(practice=None):
    """The moment the demo practice opened: OPENED_DAYS_AGO days before the load day."""
    tz = practice.tz if practice is not None else zoneinfo.ZoneInfo(ZONE)
    return at_day(practice, clock.today(tz) - dt.timedelta(days=OPENED_DAYS_AGO), 9)


def load(ctx):
    with clock.told(opened()):
        _load(ctx)


def _load(ctx):
    practice = Practice.get_or_none(Practice.name == PRACTICE_NAME)
    if practice is None:
        practice = Practice.create(
            name=PRACTICE_NAME,
            address1="120 Willow Street",
            address2="Suite 4",
            city="Portland",
            state="OR",
            postal_code="97205",
            phone="503-555-0142",
            email="hello@demo.example",
            timezone=ZONE,
            ein="931234567",
            npi="1558598797",
            taxonomy="225700000X",
        )
    ctx["practice"] = practice

    def provider(first, last, npi, lic):
        p = Provider.get_or_none((Provider.practice == practice) & (Provider.npi == npi))
        return p or Provider.create(
            practice=practice,
            first_name=first,
            last_name=last,
            credentials="LMT",
            npi=npi,
            license_number=lic,
            license_state="OR",
            email=f"{first.lower()}@demo.example",
        )

    maya = provider("Maya", "Lindqvist", "1234567893", "LMT-21877")
    omar = provider("Omar", "Reyes", "1467560003", "LMT-19203")
    ctx["providers"] = [maya, omar]

    client = Client.get_or_none(
        (Client.practice == practice) & (Client.email == "client@demo.example")
    )
    if client is None:
        client = Client.create(
            practice=practice,
            first_name="Jordan",
            last_name="Avery",
            preferred_name="Jo",
            date_of_birth=dt.date(1986, 4, 12),
            email="client@demo.example",
            phone="503-555-0199",
            therapist=maya,
        )
    ctx["client"] = client

    def user(email, name, role, **kw):
        u = User.get_or_none(User.email == email)
        if u is None:
            u = User.create(
                practice=practice,
                email=email,
                name=name,
                role=role,
                password_hash=hash_password(DEMO_PASSWORDS[email]),
                **kw,
            )
        return u

    ctx["owner"] = user("owner@demo.example", "Riley Owner", "owner")
    ctx["therapist"] = user("therapist@demo.example", "Maya Lindqvist", "therapist", provider=maya)
    ctx["frontdesk"] = user("frontdesk@demo.example", "Sam Front", "frontdesk")
    ctx["client_user"] = user("client@demo.example", "Jordan Avery", "client", client=client)
