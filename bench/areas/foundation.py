"""Foundation: the bench practice, 10 therapists, an owner, front desk, 5,000 clients with users.

Targets: the logged-in provider home (/provider/) as a therapist, from the render cache
and rendered; the client portal's home as the first bench client.
"""

import datetime as dt
import logging

from peewee import chunked

from portal import clock
from portal.models import Client, Practice, Provider, User
from portal.rules.npi import is_valid_npi

ORDER = 10
SEED_VERSION = 1

PRACTICE_NAME = "Bench Massage Collective"
N_THERAPISTS = 10
N_CLIENTS = 5000
OWNER_EMAIL = "owner@bench.example.com"
FRONTDESK_EMAIL = "frontdesk@bench.example.com"


def therapist_email(n):
    return f"therapist{n:02d}@bench.example.com"


def client_email(n):
    return f"client{n:05d}@bench.example.com"


FIRST = (
    "Ava Ben Cara Dev Eli Fay Gus Hana Ivan Jade Kai Lena Milo Nora Owen Pia Quinn Rosa Sam "
    "Tara Uma Vic Wren Xena Yara Zane Amir Bea Cole Dina Ezra Flor Gia Hugo Iris Joel Kira Luis"
).split()
LAST = (
    "Abbott Baker Chen Diaz Evans Fischer Garcia Haddad Ito Jensen Kowalski Lopez Moreau "
    "Nakamura Okafor Patel Quint Rossi Silva Tanaka Ueda Varga Weber Xu Young Zeller"
).split()


def _npi(rng):
    while True:
        candidate = str(rng.randrange(1_000_000_000, 2_000_000_000))
        if is_valid_npi(candidate):
            return candidate


def seed(ctx):
    rng = ctx["rng"]
    now = clock.utcnow()
    practice = Practice.create(
        name=PRACTICE_NAME,
        address1="1 Benchmark Way",
        city="Portland",
        state="OR",
        postal_code="97205",
        phone="503-555-0100",
        timezone="America/Los_Angeles",
        ein="931234567",
        npi=_npi(rng),
    )
    Provider.insert_many(
        [
            {
                "practice": practice.id,
                "first_name": rng.choice(FIRST),
                "last_name": rng.choice(LAST),
                "credentials": "LMT",
                "npi": _npi(rng),
                "license_number": f"LMT-{20000 + n}",
                "license_state": "OR",
                "email": therapist_email(n),
                "created_at": now,
            }
            for n in range(1, N_THERAPISTS + 1)
        ]
    ).execute()
    providers = list(Provider.select().where(Provider.practice == practice).order_by(Provider.id))
    pw = ctx["password_hash"]
    staff = [
        {"email": OWNER_EMAIL, "name": "Bench Owner", "role": "owner", "provider": None},
        {"email": FRONTDESK_EMAIL, "name": "Bench Desk", "role": "frontdesk", "provider": None},
    ] + [
        {
            "email": therapist_email(n),
            "name": f"{p.first_name} {p.last_name}",
            "role": "therapist",
            "provider": p.id,
        }
        for n, p in enumerate(providers, start=1)
    ]
    User.insert_many(
        [dict(row, practice=practice.id, password_hash=pw, created_at=now) for row in staff]
    ).execute()

    born = dt.date(1950, 1, 1)
    clients = [
        {
            "practice": practice.id,
            "first_name": rng.choice(FIRST),
            "last_name": rng.choice(LAST),
            "date_of_birth": born + dt.timedelta(days=rng.randrange(0, 365 * 55)),
            "email": client_email(n),
            "phone": f"503-555-{n % 10000:04d}",
            "therapist": providers[n % N_THERAPISTS].id,
            "created_at": now,
        }
        for n in range(1, N_CLIENTS + 1)
    ]
    for batch in chunked(clients, 500):
        Client.insert_many(batch).execute()
    rows = Client.select(Client.id, Client.email, Client.first_name, Client.last_name).where(
        Client.practice == practice
    )
    users = [
        {
            "practice": practice.id,
            "email": c.email,
            "name": f"{c.first_name} {c.last_name}",
            "role": "client",
            "client": c.id,
            "password_hash": pw,
            "created_at": now,
        }
        for c in rows
    ]
    for batch in chunked(users, 500):
        User.insert_many(batch).execute()


def attach(ctx):
    practice = Practice.get(Practice.name == PRACTICE_NAME)
    ctx["practice"] = practice
    ctx["providers"] = list(
        Provider.select().where(Provider.practice == practice).order_by(Provider.id)
    )
    ctx["clients"] = [
        c.id
        for c in Client.select(Client.id).where(Client.practice == practice).order_by(Client.id)
    ]
    ctx["therapist_email"] = therapist_email(1)
    ctx["owner_email"] = OWNER_EMAIL
    ctx["frontdesk_email"] = FRONTDESK_EMAIL


def wrk_targets(ctx):
    cached = {"min_ratio": 0.5, "max_p99_ms": 100, "page_cache": True}
    return [
        ("provider_home", "/provider/", ctx["therapist_email"], cached),
        ("provider_home_uncached", "/provider/", ctx["therapist_email"], {"min_ratio": 0.35}),
        # the first bench client: insurance, chart notes, appointments and invoices
        ("client_home", "/portal/", client_email(1), {"min_ratio": 0.35}),
    ]


class _QueryCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record):
        if record.name == "peewee":  # not peewee.pool's check-out/check-in lines
            self.count += 1


def _count_queries(fn):
    """SQL statements fn() runs (peewee logs each at DEBUG)."""
    logger = logging.getLogger("peewee")
    counter = _QueryCounter()
    old_level = logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        fn()
    finally:
        logger.removeHandler(counter)
        logger.setLevel(old_level)
    return counter.count


def figures(ctx):
    app = ctx["app"]
    client = ctx["login_client"](ctx["therapist_email"])

    def get_home():
        resp = client.get("/provider/")
        assert resp.status_code == 200, resp.status_code

    # With the render cache (portal/pagecache.py, on by default): after the first request
    # the page is served from it until data changes or the minute turns.
    out = [("provider_home_inprocess_median", ctx["median_ms"](get_home, n=200), "ms")]
    out.append(("provider_home_queries", _count_queries(get_home), "queries"))
    # The same page rendered every time (the cache switched off around the measurement).
    was = app.config.get("PAGE_CACHE", True)
    app.config["PAGE_CACHE"] = False
    try:
        uncached = ctx["median_ms"](get_home, n=200)
        uncached_queries = _count_queries(get_home)
    finally:
        app.config["PAGE_CACHE"] = was
    out.append(("provider_home_uncached_inprocess_median", uncached, "ms"))
    out.append(("provider_home_uncached_queries", uncached_queries, "queries"))
    seeded = Client.select().where(Client.practice == ctx["practice"]).count()
    out.append(("clients_seeded", seeded, "rows"))
    return out
