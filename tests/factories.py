"""Test data builders. All writes go to the test's real SQLite file."""

import datetime as dt
import itertools

from portal.models import Client, Practice, Provider, User
from portal.sessions import hash_password

PASSWORD = "correct horse battery staple 42"
_seq = itertools.count(1)


def practice(**kw):
    n = next(_seq)
    defaults = dict(
        name=f"Practice {n}",
        city="Portland",
        state="OR",
        postal_code="97205",
        timezone="America/Los_Angeles",
        ein="931234567",
        npi="1558598797",
    )
    defaults.update(kw)
    return Practice.create(**defaults)


def provider(practice, **kw):
    n = next(_seq)
    defaults = dict(
        practice=practice,
        first_name=f"Thera{n}",
        last_name="Pist",
        credentials="LMT",
        npi="1234567893",
        license_number=f"LMT-{n}",
        license_state="OR",
    )
    defaults.update(kw)
    return Provider.create(**defaults)


def client(practice, **kw):
    n = next(_seq)
    defaults = dict(
        practice=practice,
        first_name=f"Client{n}",
        last_name="Person",
        date_of_birth=dt.date(1980, 1, 1 + n % 28),
        email=f"client{n}@example.com",
        phone="503-555-0100",
    )
    defaults.update(kw)
    return Client.create(**defaults)


def user(practice, role, password=PASSWORD, **kw):
    n = next(_seq)
    defaults = dict(
        practice=practice,
        email=f"{role}{n}@example.com",
        name=f"{role.title()} {n}",
        role=role,
        password_hash=hash_password(password),
    )
    defaults.update(kw)
    return User.create(**defaults)


def client_user(practice, client_obj=None, **kw):
    client_obj = client_obj or client(practice)
    return user(practice, "client", client=client_obj, email=client_obj.email, **kw)


class World:
    """Two practices (a and b), each: owner, therapist (with provider), front desk,
    two clients (c1, c2) with portal users (cu1, cu2)."""


def world():
    w = World()
    for key in ("a", "b"):
        p = practice()
        prov = provider(p)
        prov2 = provider(p)
        c1 = client(p, therapist=prov)
        c2 = client(p, therapist=prov2)
        side = World()
        side.practice = p
        side.provider = prov
        side.provider2 = prov2
        side.owner = user(p, "owner")
        side.therapist = user(p, "therapist", provider=prov)
        side.frontdesk = user(p, "frontdesk")
        side.c1, side.c2 = c1, c2
        side.cu1 = client_user(p, c1)
        side.cu2 = client_user(p, c2)
        setattr(w, key, side)
    return w
