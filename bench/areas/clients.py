"""Clients and insurance: client search over the bench's 5,000 clients.

Seed (a little): phone digits for search (the foundation inserts clients in bulk, past the
service that fills them), three payers and a policy for every fifth client.
Figure: client_search_median over 58 varied search terms (names, name prefixes, two words,
phone fragments, e-mails, dates of birth), timed in-process on the search service as the
front desk would run it; target: median <= 30 ms.
"""

import datetime as dt

from peewee import chunked, fn

from portal import clock
from portal.models import Client, InsurancePolicy, Payer, User

ORDER = 20
SEED_VERSION = 1
TARGET_MS = 30.0


def seed(ctx):
    practice = ctx["practice"]
    digits = fn.REPLACE(
        fn.REPLACE(fn.REPLACE(fn.REPLACE(Client.phone, "-", ""), " ", ""), "(", ""), ")", ""
    )
    Client.update(phone_digits=digits).where(Client.practice == practice).execute()
    now = clock.utcnow()
    payers = [
        Payer.create(practice=practice, name="Blue Cross (bench)", payer_code="BC001"),
        Payer.create(practice=practice, name="State Fund WC (bench)", kind="workers_comp"),
        Payer.create(practice=practice, name="Allstate Auto (bench)", kind="auto"),
    ]
    ids = ctx["clients"][::5]
    rows = [
        {
            "practice": practice.id,
            "client": cid,
            "payer": payers[0].id,
            "member_id": f"BC{cid:08d}",
            "effective_date": dt.date(2026, 1, 1),
            "created_at": now,
        }
        for cid in ids
    ]
    for batch in chunked(rows, 500):
        InsurancePolicy.insert_many(batch).execute()


def queries(ctx):
    """58 varied search terms drawn from the seeded clients."""
    sample = list(
        Client.select().where(Client.practice == ctx["practice"]).order_by(Client.id).limit(5000)
    )
    rng = ctx["rng"]
    picks = rng.sample(sample, 12)
    out = []
    for c in picks:
        out += [
            c.last_name,
            c.last_name[:3].lower(),
            f"{c.first_name} {c.last_name[:2]}",
            c.phone[-4:],
        ]
    out += [c.email for c in picks[:4]]
    out += [c.date_of_birth.strftime("%m/%d/%Y") for c in picks[:4]]
    out += ["", "zz-nobody"]
    return out


def figures(ctx):
    from portal.services import clients as svc

    user = User.get(User.email == ctx["frontdesk_email"])
    terms = queries(ctx)
    app = ctx["app"]
    times = []
    with app.test_request_context():
        i = {"n": 0}

        def one():
            q = terms[i["n"] % len(terms)]
            i["n"] += 1
            rows, total, page, pages = svc.search(q, user=user)
            return total

        median = ctx["median_ms"](one, n=len(terms) * 3, warmup=len(terms))
        times.append(median)
        matches = sum(1 for q in terms if svc.search(q, user=user)[1] > 0)
    web = ctx["login_client"](ctx["frontdesk_email"])

    def get_list():
        resp = web.get("/provider/clients")
        assert resp.status_code == 200, resp.status_code

    list_median = ctx["median_ms"](get_list, n=50)
    return [
        ("client_list_inprocess_median", list_median, "ms"),
        ("client_search_median", median, "ms"),
        # search terms (not SQL statements: a search runs 3, see bench/pages.py --sql)
        ("client_search_terms", len(terms), "terms"),
        ("client_search_terms_with_matches", matches, "terms"),
    ]


def checks(ctx, values):
    v = values.get("client_search_median")
    if v is None:
        return []
    return [(f"client_search_median <= {TARGET_MS:.0f} ms", v <= TARGET_MS)]


def wrk_targets(ctx):
    limits = {"min_ratio": 0.35, "max_p99_ms": 250}
    # the first bench client has a policy, chart notes, appointments and invoices
    page = f"/provider/clients/{ctx['clients'][0]}"
    return [
        ("client_list", "/provider/clients", ctx["frontdesk_email"], limits),
        ("client_page", page, ctx["therapist_email"], limits),
    ]
