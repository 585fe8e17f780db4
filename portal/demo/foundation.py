"""Demo: the practice, two therapists, four users and one client."""

import datetime as dt

from portal.demo import DEMO_PASSWORDS
from portal.models import Client, Practice, Provider, User
from portal.sessions import hash_password

PRACTICE_NAME = "Riverside Massage Therapy (demo)"


def load(ctx):
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
            timezone="America/Los_Angeles",
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
