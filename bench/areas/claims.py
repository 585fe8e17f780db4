"""Claims: the claims list with 20,000 claims in the dataset.

Seed: 6 payers, a primary policy for the first 2,000 bench clients, and 20,000 claims over
the last five years (most paid or closed, the last months' still open: submitted, accepted,
denied, partially paid, ready, held drafts), each with two lines and two diagnoses, bulk
inserted.
wrk targets: claims_list (the first page, as the front desk) and claims_list_filtered
(status and age filters); target >= 0.35 x bare Flask requests per second (the render
cache keeps no claims page). Figures: claims_list_median, claims_aging_median (the aging
table's request, loaded by HTMX under the list).
"""

import datetime as dt

from peewee import chunked

from portal import clock
from portal.models import Claim, ClaimDiagnosis, ClaimLine, InsurancePolicy, Payer

ORDER = 60
SEED_VERSION = 1
N_CLAIMS = 20_000
N_INSURED = 2_000
MIN_RATIO = 0.35
PAYERS = ["Regence", "Aetna", "Cigna", "SAIF Corporation", "State Farm PIP", "Moda Health"]


def _status(rng, age_days):
    if age_days > 120:
        return rng.choice(["paid"] * 8 + ["closed", "partially_paid"])
    if age_days > 30:
        return rng.choice(["paid", "paid", "accepted", "submitted", "denied", "partially_paid"])
    return rng.choice(["ready", "submitted", "submitted", "accepted", "draft"])


def seed(ctx):
    rng = ctx["rng"]
    practice = ctx["practice"]
    providers = ctx["providers"]
    now = clock.utcnow()
    today = now.date()
    Payer.insert_many(
        [
            {"practice": practice.id, "name": n, "payer_code": f"P{i:04d}", "created_at": now}
            for i, n in enumerate(PAYERS)
        ]  # fmt: skip
    ).execute()
    payers = list(Payer.select().where(Payer.practice == practice).order_by(Payer.id))
    clients = ctx["clients"][:N_INSURED]
    for batch in chunked(clients, 500):
        InsurancePolicy.insert_many(
            [
                {
                    "practice": practice.id,
                    "client": cid,
                    "payer": payers[cid % len(payers)].id,
                    "member_id": f"M{cid:08d}",
                    "created_at": now,
                }
                for cid in batch
            ]
        ).execute()
    policies = {
        p.client_id: (p.id, p.payer_id)
        for p in InsurancePolicy.select().where(InsurancePolicy.practice == practice)
    }
    rows = []
    for n in range(N_CLAIMS):
        cid = rng.choice(clients)
        policy_id, payer_id = policies[cid]
        age = int(rng.random() ** 2 * 5 * 365)  # more claims in recent months
        status = _status(rng, age)
        total = rng.choice([9000, 12500, 11000, 26500])
        paid = int(total * 0.7) if status in ("paid", "partially_paid") else 0
        rows.append(
            {
                "practice": practice.id,
                "client": cid,
                "policy": policy_id,
                "payer": payer_id,
                "provider": providers[n % len(providers)].id,
                "status": status,
                "patient_control_number": f"B{n + 1}P1",
                "service_date": today - dt.timedelta(days=age),
                "total_cents": total,
                "paid_cents": paid,
                "adjusted_cents": total - paid if status == "paid" else 0,
                "held": status == "draft",
                "created_at": now,
            }
        )
    for batch in chunked(rows, 500):
        Claim.insert_many(batch).execute()
    ids = [c.id for c in Claim.select(Claim.id).where(Claim.practice == practice)]
    for batch in chunked(ids, 250):
        ClaimDiagnosis.insert_many(
            [
                {"practice": practice.id, "claim": i, "position": p, "code": c}
                for i in batch
                for p, c in ((1, "M54.50"), (2, "M62.830"))
            ]  # fmt: skip
        ).execute()
        ClaimLine.insert_many(
            [
                {
                    "practice": practice.id,
                    "claim": i,
                    "position": p,
                    "service_date": today,
                    "cpt_code": code,
                    "units": u,
                    "pointers": "A",
                    "charge_cents": 3000 * u,
                }
                for i in batch
                for p, code, u in ((1, "97124", 3), (2, "97140", 1))
            ]  # fmt: skip
        ).execute()


def wrk_targets(ctx):
    limits = {"min_ratio": MIN_RATIO}
    return [
        ("claims_list", "/provider/claims", ctx["frontdesk_email"], limits),
        (
            "claims_list_filtered",
            "/provider/claims?status=submitted&age=0-30",
            ctx["frontdesk_email"],
            limits,
        ),
    ]


def figures(ctx):
    client = ctx["login_client"](ctx["frontdesk_email"])

    def get(url):
        def run():
            assert client.get(url).status_code == 200

        return run

    median = ctx["median_ms"]
    return [
        ("claims_list_median", median(get("/provider/claims")), "ms"),
        ("claims_aging_median", median(get("/provider/claims/aging"), n=10), "ms"),
    ]
