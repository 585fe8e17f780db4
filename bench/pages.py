"""In-process figures for every bench page: CPU time per request and SQL statements.

`python bench/pages.py` measures each page the areas load with wrk (their wrk_targets),
plus the client search POST, through Flask's test client on the bench database (seeded by
`bench/run.py` if needed), without any server: the CPU time this process spends per request
(time.process_time, so other programs on a shared machine disturb it far less than
requests per second) and the SQL statements one request runs. A bare Flask "Hello, World!"
through the same test client is the yardstick.

Options: -n 300 (requests per page), --only a,b (pages), --profile NAME (cProfile of that
page, top functions by own time), --sql (print the statements), --speedups 0|1 (the app's
SPEEDUPS setting; default: the configuration's), --ab (each page with and without the
speed-ups, in turn in one process: what each side costs on the same machine). Pages
marked {"page_cache": True} are measured with the render cache on, the others with it
off, as `make bench` serves them.
"""

import argparse
import cProfile
import io
import logging
import os
import pstats
import random
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(BENCH))
sys.path.insert(0, BENCH)

import run  # noqa: E402  bench/run.py: seeding, areas, logged-in test clients


class QueryCounter(logging.Handler):
    """Counts (and keeps) the SQL statements peewee logs (at DEBUG) while it is attached."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.statements = []

    def emit(self, record):
        if record.name == "peewee":  # not peewee.pool's check-out lines
            self.statements.append(record.getMessage())


def run_counting(fn):
    """The SQL statements fn() runs."""
    logger = logging.getLogger("peewee")
    counter = QueryCounter()
    level = logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        fn()
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
    return counter.statements


def cpu_ms(fn, n):
    """CPU milliseconds this process spends per call of fn (best of three runs of n)."""
    best = None
    for _ in range(3):
        t0 = time.process_time()
        for _ in range(n):
            fn()
        ms = (time.process_time() - t0) * 1000 / n
        best = ms if best is None else min(best, ms)
    return best


def cpu_ms_ab(fn, set_state, n, rounds=5):
    """(ms with the speed-ups, ms without): rounds of n calls, on and off in turn, so a
    machine whose speed drifts affects both alike; each side keeps its best round."""
    best = {True: None, False: None}
    for _ in range(rounds):
        for on in (True, False):
            set_state(on)
            for _ in range(10):
                fn()
            t0 = time.process_time()
            for _ in range(n):
                fn()
            ms = (time.process_time() - t0) * 1000 / n
            best[on] = ms if best[on] is None else min(best[on], ms)
    set_state(True)
    return best[True], best[False]


def _getter(client, method, path, data=None, status=200):
    def go():
        if method == "POST":
            resp = client.post(path, data=dict(data or {}))
        else:
            resp = client.get(path)
        if resp.status_code != status:
            raise RuntimeError(f"{method} {path} answered {resp.status_code}")
        return resp

    return go


def _csrf_poster(client):
    """A post() adding the CSRF token of the client's session (from a page's form)."""
    html = client.get("/provider/clients").get_data(as_text=True)
    token = run._csrf_from(html)
    plain = client.post

    def post(path, data):
        return plain(path, data={**data, "csrf_token": token})

    return post


def pages(ctx, mods):
    """(name, method, path, email, data, page_cache) for every page measured."""
    out = []
    for m in mods:
        if hasattr(m, "wrk_targets"):
            for t in m.wrk_targets(ctx):
                opts = t[3] if len(t) > 3 else {}
                out.append((t[0], "GET", t[1], t[2], None, bool(opts.get("page_cache"))))
    # Client search as the front desk types it (POSTed, so terms stay out of URLs).
    out.append(
        ("client_search", "POST", "/provider/clients/search", ctx["frontdesk_email"], None, False)
    )
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=300, help="requests per page and run")
    ap.add_argument("--only", default="", help="comma-separated page names")
    ap.add_argument("--profile", default="", help="cProfile this page")
    ap.add_argument("--speedups", choices=("0", "1"), default=None)
    ap.add_argument("--sql", action="store_true", help="print each page's SQL statements")
    ap.add_argument(
        "--ab", action="store_true", help="CPU with and without the speed-ups, interleaved"
    )
    args = ap.parse_args(argv)

    os.makedirs(run.INSTANCE, exist_ok=True)
    lock = run.take_lock()  # noqa: F841 held until the process ends
    config = run.bench_config()
    if args.speedups is not None or args.ab:
        config["SPEEDUPS"] = args.ab or args.speedups == "1"

    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    from portal import create_app, speedups
    from portal.db import database

    app = create_app(config)
    mods = run.discover()
    ctx = {
        "app": app,
        "password": run.PASSWORD,
        "rng": random.Random(42),
        "data_dir": run.DATA,
        "median_ms": run.median_ms,
        "login_client": run.make_login_client(app),
    }
    run.prepare_database(app, mods, ctx, reseed=False)
    ctx.pop("password_hash", None)
    with app.app_context(), database.connection_context():
        for m in mods:
            if hasattr(m, "attach"):
                m.attach(ctx)
        todo = pages(ctx, mods)
    only = {p.strip() for p in args.only.split(",") if p.strip()}
    if only:
        todo = [p for p in todo if p[0] in only]

    hello = Flask("hello")
    hello.add_url_rule("/", "hello", lambda: "Hello, World!")
    bare = hello.test_client()
    bare_ms = cpu_ms(lambda: bare.get("/"), args.n)
    print(f"bare_hello: {bare_ms:.3f} ms CPU/request", flush=True)
    if args.ab:
        print(f"{'page':28s} {'on ms':>8s} {'off ms':>8s} {'off/on':>7s} {'queries':>8s}")
    else:
        print(f"{'page':28s} {'cpu ms':>8s} {'x bare':>7s} {'queries':>8s} {'kB':>6s}")

    def set_speedups(on):
        app.config["SPEEDUPS"] = on
        app.session_interface = (
            speedups.CookieSessionInterface() if on else SecureCookieSessionInterface()
        )

    clients = {}
    with app.app_context():
        for name, method, path, email, data, page_cache in todo:
            app.config["PAGE_CACHE"] = page_cache
            client = clients.get(email)
            if client is None:
                client = clients[email] = ctx["login_client"](email)
            if method == "POST":
                post = _csrf_poster(client)
                terms = ["garcia", "ava", "503-555-01", "Patel Ro", "zz-nobody"]
                i = {"n": 0}

                def go(post=post, terms=terms, i=i, path=path):
                    i["n"] += 1
                    resp = post(path, {"q": terms[i["n"] % len(terms)]})
                    if resp.status_code != 200:
                        raise RuntimeError(f"POST {path} answered {resp.status_code}")
                    return resp
            else:
                go = _getter(client, method, path, data)
            size = len(go().get_data())
            for _ in range(20):
                go()
            statements = run_counting(go)
            queries = len(statements)
            if args.ab:
                on, off = cpu_ms_ab(go, set_speedups, args.n)
                print(f"{name:28s} {on:8.3f} {off:8.3f} {off / on:7.2f} {queries:8d}", flush=True)
                continue
            ms = cpu_ms(go, args.n)
            print(
                f"{name:28s} {ms:8.3f} {ms / bare_ms:7.1f} {queries:8d} {size / 1024:6.1f}",
                flush=True,
            )
            if args.sql:
                for sql in statements:
                    print("    " + sql[:400])
            if args.profile == name:
                prof = cProfile.Profile()
                prof.enable()
                for _ in range(args.n):
                    go()
                prof.disable()
                out = io.StringIO()
                pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(35)
                print(out.getvalue())
                out = io.StringIO()
                pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(45)
                print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
