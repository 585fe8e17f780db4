"""The desk: the client finder (type-ahead) over the bench's 5,000 clients.

No seed of its own: the foundation's clients, with the clients area's phone digits.
Figures: client_finder_median - the finder's HTMX request (POST /provider/clients/find as
the front desk: session, CSRF, audit row, query and fragment), over varied partial words
(name starts, two words, 4-digit phone fragments, e-mails, dates of birth);
client_finder_service_median - the query alone. Target: the request's median <= 20 ms.
"""

import re

from portal.models import Client, User

ORDER = 60
TARGET_MS = 20.0
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def _terms(ctx):
    sample = list(
        Client.select().where(Client.practice == ctx["practice"]).order_by(Client.id).limit(5000)
    )
    out = []
    for c in ctx["rng"].sample(sample, 12):
        out += [
            c.last_name[:3].lower(),
            c.last_name,
            f"{c.first_name[:3]} {c.last_name[:2]}",
            (c.phone_digits or c.phone)[-4:],
        ]
        if c.email:
            out.append(c.email[:6])
        if c.date_of_birth:
            out.append(c.date_of_birth.strftime("%m/%d/%Y"))
    return out


def figures(ctx):
    from portal.services import client_finder

    terms = _terms(ctx)
    web = ctx["login_client"](ctx["frontdesk_email"])
    token = CSRF.search(web.get("/provider/clients").get_data(as_text=True)).group(1)
    i = {"n": 0}

    def next_term():
        q = terms[i["n"] % len(terms)]
        i["n"] += 1
        return q

    def request_once():
        resp = web.post(
            "/provider/clients/find",
            data={"field": "client_id", "client_id_q": next_term(), "purpose": "book"},
            headers={"HX-Request": "true", "X-CSRFToken": token},
        )
        assert resp.status_code == 200, resp.status_code

    median = ctx["median_ms"](request_once, n=len(terms) * 2, warmup=10)
    user = User.get(User.email == ctx["frontdesk_email"])
    with ctx["app"].test_request_context():
        service = ctx["median_ms"](
            lambda: client_finder.find(next_term(), user=user), n=len(terms) * 2, warmup=10
        )
        matched = sum(1 for q in terms if client_finder.find(q, user=user)[0])
    return [
        ("client_finder_median", median, "ms"),
        ("client_finder_service_median", service, "ms"),
        ("client_finder_queries", len(terms), "queries"),
        ("client_finder_queries_with_matches", matched, "queries"),
    ]


def checks(ctx, values):
    v = values.get("client_finder_median")
    if v is None:
        return []
    return [(f"client_finder_median <= {TARGET_MS:.0f} ms", v <= TARGET_MS)]
