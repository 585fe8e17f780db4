"""The 837P writer (portal/x12/write837.py) on a batch of 1,000 claims, in-process.

No seed: the writer is pure (dataclasses in, text out). The claims vary as a practice's
do: self and dependent subscribers, referrals, prior authorizations, auto accidents,
97124 with 97140 and modifier 59, one to three visits. Figures:
- x12_837p_1000_claims_median: wall time to write the file, median of 7 runs (ms);
- x12_837p_1000_claims_cpu: CPU time of one run (process_time, ms), which other load on
  this shared machine disturbs less;
- x12_837p_1000_claims_bytes: the file's size.
Target (issue 10): 837P for 1,000 claims <= 1 s.
"""

import datetime as dt
import statistics
import time

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
TARGET_MS = 1000.0
N_CLAIMS = 1000

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
    return [
        ("x12_837p_1000_claims_median", round(statistics.median(walls), 1), "ms"),
        ("x12_837p_1000_claims_cpu", round(cpu_ms, 1), "ms"),
        ("x12_837p_1000_claims_bytes", len(text.encode()), "bytes"),
    ]


def checks(ctx, values):
    v = values.get("x12_837p_1000_claims_median")
    if v is None:
        return []
    return [(f"x12_837p_1000_claims_median <= {TARGET_MS:.0f} ms", v <= TARGET_MS)]
