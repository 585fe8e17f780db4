"""The 837P for 1,000 claims, in-process: the pure writer (portal/x12/write837.py), and the
whole service from the database (services/claims/batches.build: claims, diagnoses and
lines read in bulk, turned into the writer's dataclasses, numbered, written, stored, the
claims submitted with a history row each).

The pure claims vary as a practice's do: self and dependent subscribers, referrals, prior
authorizations, auto accidents, 97124 with 97140 and modifier 59, one to three visits.
The seed adds a practice of its own (so no other area's figures move) with 1,000 clients,
one payer and 1,000 ready claims of one or two lines. Figures:
- x12_837p_1000_claims_median: wall time to write the file, median of 7 runs (ms);
- x12_837p_1000_claims_cpu: CPU time of one run (process_time, ms), which other load on
  this shared machine disturbs less;
- x12_837p_1000_claims_bytes: the file's size;
- x12_837p_service_1000_claims_median / _cpu: batches.build on the 1,000 seeded claims,
  median of 5 runs, each rolled back (so every run finds them ready).
Target (issue 10): 837P for 1,000 claims <= 1 s (both).
"""

import datetime as dt
import statistics
import time

from peewee import chunked

from portal import clock
from portal import models as m
from portal.db import database
from portal.services.claims import batches
from portal.x12.claim837 import (
    Accident,
    Address,
    Batch,
    BillingProvider,
    Claim,
    Payer,
    Person,
    Provider,
    Receiver,
    ServiceLine,
    Submitter,
    Subscriber,
)
from portal.x12.write837 import write_837p

ORDER = 60
SEED_VERSION = 1
TARGET_MS = 1000.0
N_CLAIMS = 1000
PRACTICE_NAME = "Bench 837P Practice"

_HOME = Address("12 Elm St", "Albany", "NY", "12207")
_BILLING = BillingProvider(
    "Calm Hands Massage",
    "1234567893",
    "12-3456789",
    Address("1 Main St", "Albany", "NY", "122071234"),
)
_PAYER = Payer("Blue Harbor Health", "BHH01")
_REFERRING = Provider("Ortiz", "Ann", "1558598797")
_RENDERING = Provider("Lee", "Sam", "1558123455", taxonomy="225700000X")
_DX = ("M54.50", "M62.830", "M54.2", "M54.6")


def _claim(n: int) -> Claim:
    day = dt.date(2026, 1, 1) + dt.timedelta(days=n % 300)
    holder = Person(f"Client{n}", "Pat", dob=dt.date(1970 + n % 40, 1 + n % 12, 1 + n % 28),
                    sex="FM"[n % 2], address=_HOME)  # fmt: skip
    subscriber = Subscriber(holder, f"MBR{n:08d}", group_number="G-100")
    lines = []
    for visit in range(1 + n % 3):
        when = day + dt.timedelta(days=7 * visit)
        lines.append(ServiceLine("97124", 9000, 3, (1, 2), when))
        if n % 4 == 0:
            lines.append(ServiceLine("97140", 5000, 1, (3,), when, modifiers=("59",)))
    extra = {}
    if n % 5 == 1:
        extra = {"patient": Person(f"Client{n}", "Kid", dob=dt.date(2015, 5, 5), sex="U",
                                   address=_HOME), "relationship": "child"}  # fmt: skip
    if n % 7 == 2:
        extra["accident"] = Accident("AA", day - dt.timedelta(days=30), "NY")
    return Claim(
        f"C{n:09d}",
        subscriber,
        _PAYER,
        _DX,
        tuple(lines),
        referring=_REFERRING if n % 3 == 0 else None,
        rendering=_RENDERING,
        prior_authorization=f"PA-{n}" if n % 6 == 0 else "",
        **extra,
    )


def batch(n_claims: int = N_CLAIMS) -> Batch:
    return Batch(
        Submitter("Calm Hands Massage", "CHM0001", "Front Desk", phone="5185550100"),
        Receiver("Harbor Clearing", "HCLR"),
        _BILLING,
        tuple(_claim(n) for n in range(n_claims)),
        interchange_control_number=1,
        group_control_number=1,
        created=dt.datetime(2026, 12, 1, 9, 30),
    )


def seed(ctx):
    """A practice of its own: 1,000 clients, each with a policy and a ready claim."""
    now = clock.utcnow()
    practice = m.Practice.create(
        name=PRACTICE_NAME, address1="1 Benchmark Way", city="Portland", state="OR",
        postal_code="972051234", phone="503-555-0199", timezone="America/Los_Angeles",
        ein="931234567", npi="1558598797",
    )  # fmt: skip
    provider = m.Provider.create(practice=practice, first_name="Sam", last_name="Lee",
                               credentials="LMT", npi="1558123455")  # fmt: skip
    payer = m.Payer.create(practice=practice, name="Blue Harbor Health", payer_code="BHH01")
    m.ClearinghouseConnection.create(
        practice=practice, isa_sender_id="BENCH01", isa_receiver_id="CLEARHOUSE",
        submitter_id="BENCH01", receiver_name="BENCH CLEARINGHOUSE", receiver_id="CLEARHOUSE",
    )  # fmt: skip
    rows = [
        dict(
            practice=practice.id,
            first_name=f"Pat{n}",
            last_name=f"Client{n}",
            date_of_birth=dt.date(1960 + n % 40, 1 + n % 12, 1 + n % 28),
            sex="FM"[n % 2],
            address1=f"{n} Elm St",
            city="Portland",
            state="OR",
            postal_code="97205",
            created_at=now,
        )  # fmt: skip
        for n in range(N_CLAIMS)
    ]
    for chunk in chunked(rows, 200):
        m.Client.insert_many(chunk).execute()
    clients = [c.id for c in m.Client.select(m.Client.id).where(m.Client.practice == practice)]
    for chunk in chunked(clients, 200):
        m.InsurancePolicy.insert_many(
            [
                dict(
                    practice=practice.id,
                    client=c,
                    payer=payer.id,
                    member_id=f"MBR{c:08d}",
                    group_number="G-100",
                    created_at=now,
                )
                for c in chunk
            ]  # fmt: skip
        ).execute()
    policies = dict(
        m.InsurancePolicy.select(m.InsurancePolicy.client, m.InsurancePolicy.id)
        .where(m.InsurancePolicy.practice == practice)
        .tuples()
    )
    day0 = dt.date(2026, 1, 5)
    claims = [
        dict(
            practice=practice.id,
            client=c,
            policy=policies[c],
            payer=payer.id,
            provider=provider.id,
            status="ready",
            patient_control_number=f"B{n:08d}",
            service_date=day0 + dt.timedelta(days=n % 300),
            total_cents=9000 + (3500 if n % 3 == 0 else 0),
            created_at=now,
        )  # fmt: skip
        for n, c in enumerate(clients)
    ]
    for chunk in chunked(claims, 200):
        m.Claim.insert_many(chunk).execute()
    made = list(m.Claim.select().where(m.Claim.practice == practice).order_by(m.Claim.id))
    dx, lines = [], []
    for n, c in enumerate(made):
        dx += [dict(practice=practice.id, claim=c.id, position=1, code="M54.50"),
               dict(practice=practice.id, claim=c.id, position=2, code="M62.830")]  # fmt: skip
        lines.append(dict(practice=practice.id, claim=c.id, position=1,
                          service_date=c.service_date, cpt_code="97124", minutes=45, units=3,
                          pointers="A", charge_cents=9000))  # fmt: skip
        if n % 3 == 0:
            lines.append(dict(practice=practice.id, claim=c.id, position=2,
                              service_date=c.service_date, cpt_code="97140", modifiers="59",
                              minutes=15, units=1, pointers="B", charge_cents=3500))  # fmt: skip
    for chunk in chunked(dx, 500):
        m.ClaimDiagnosis.insert_many(chunk).execute()
    for chunk in chunked(lines, 500):
        m.ClaimLine.insert_many(chunk).execute()


def _service_run(practice_id):
    """(wall ms, cpu ms, bytes) of one build of the 1,000 claims, then rolled back."""
    with database.atomic() as txn:
        t0, c0 = time.perf_counter(), time.process_time()
        (batch,) = batches.build(practice_id)
        wall, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        size = batch.document.size_bytes
        txn.rollback()
    return wall, cpu, size


def service_figures(practice_id, runs=5):
    results = [_service_run(practice_id) for _ in range(runs)]
    walls = [w for w, _, _ in results]
    return [
        ("x12_837p_service_1000_claims_median", round(statistics.median(walls), 1), "ms"),
        ("x12_837p_service_1000_claims_cpu", round(min(c for _, c, _ in results), 1), "ms"),
        ("x12_837p_service_1000_claims_bytes", results[0][2], "bytes"),
    ]


def figures(ctx):
    data = batch()
    write_837p(data)  # warm-up
    walls = []
    for _ in range(7):
        t0 = time.perf_counter()
        text = write_837p(data)
        walls.append((time.perf_counter() - t0) * 1000)
    c0 = time.process_time()
    write_837p(data)
    cpu_ms = (time.process_time() - c0) * 1000
    out = [
        ("x12_837p_1000_claims_median", round(statistics.median(walls), 1), "ms"),
        ("x12_837p_1000_claims_cpu", round(cpu_ms, 1), "ms"),
        ("x12_837p_1000_claims_bytes", len(text.encode()), "bytes"),
    ]
    practice = m.Practice.get_or_none(m.Practice.name == PRACTICE_NAME)
    if practice is not None:
        out += service_figures(practice.id)
    return out


def checks(ctx, values):
    out = []
    for name in ("x12_837p_1000_claims_median", "x12_837p_service_1000_claims_median"):
        v = values.get(name)
        if v is not None:
            out.append((f"{name} <= {TARGET_MS:.0f} ms", v <= TARGET_MS))
    return out
