"""Open portal tabs for the benchmark: each one polls the messages' live URL the way the
page's HTMX poller does, on its own keep-alive connection.

A tab opens the inbox once (as a browser loads the page), takes the poller's URL from it,
then every `interval` seconds asks that URL with HTMX's headers: 204 means nothing changed;
200 brings a new poller, whose URL it uses from then on. Started before a load and stopped
after it (`with LiveTabs(...)`), so the portal serves its pages with the tabs open.
"""

import contextlib
import http.client
import random
import re
import statistics
import threading
import time

POLL_RE = re.compile(r'id="messages-live"[^>]*hx-get="([^"]+)"')
HEADERS = {
    "HX-Request": "true",
    "HX-Current-URL": "/provider/messages/",
    "X-Portal-Background": "1",
    "Accept": "*/*",
}


def poll_url(html):
    m = POLL_RE.search(html)
    return m.group(1).replace("&amp;", "&") if m else None


class Tab(threading.Thread):
    def __init__(self, port, cookie, interval, stop, stats, page="/provider/messages/", rng=None):
        super().__init__(daemon=True)
        self.port, self.cookie, self.interval, self.page = port, cookie, interval, page
        self.stop, self.stats = stop, stats
        self.rng = rng or random.Random()
        self.conn = None

    def _get(self, path, headers=None):
        for attempt in (1, 2):  # the server closes idle keep-alive connections: reconnect once
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                self.conn.request("GET", path, headers={"Cookie": self.cookie, **(headers or {})})
                resp = self.conn.getresponse()
                return resp.status, resp.read().decode("utf-8", "replace")
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def run(self):
        try:
            status, html = self._get(self.page)
            url = poll_url(html) if status == 200 else None
            if url is None:
                self.stats.error(f"opening {self.page} answered {status} without a poller")
                return
            self.stats.opened()
            # Tabs are opened at different moments: spread the first polls over the interval.
            if self.stop.wait(self.rng.uniform(0, self.interval)):
                return
            while not self.stop.is_set():
                t0 = time.perf_counter()
                status, body = self._get(url, HEADERS)
                self.stats.poll(status, (time.perf_counter() - t0) * 1000)
                if status == 200:
                    url = poll_url(body) or url
                elif status != 204:
                    self.stats.error(f"poll answered {status}")
                    return
                self.stop.wait(self.interval)
        except (http.client.HTTPException, OSError) as e:
            self.stats.error(f"{type(e).__name__}: {e}")
        finally:
            if self.conn is not None:
                self.conn.close()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.open = 0
        self.by_status = {}
        self.ms = []
        self.errors = []

    def opened(self):
        with self.lock:
            self.open += 1

    def poll(self, status, ms):
        with self.lock:
            self.by_status[status] = self.by_status.get(status, 0) + 1
            self.ms.append(ms)

    def error(self, text):
        with self.lock:
            self.errors.append(text)

    @property
    def polls(self):
        return sum(self.by_status.values())

    def summary(self):
        with self.lock:
            ms = sorted(self.ms)
            return {
                "tabs_open": self.open,
                "polls": sum(self.by_status.values()),
                "polls_204": self.by_status.get(204, 0),
                "poll_p50_ms": statistics.median(ms) if ms else None,
                "poll_max_ms": ms[-1] if ms else None,
                "errors": list(self.errors),
            }


class LiveTabs(contextlib.AbstractContextManager):
    """`n` tabs over the given session cookies (round robin), polling every `interval` s."""

    def __init__(self, port, cookies, n=50, interval=5.0, page="/provider/messages/", seed=42):
        self.stop = threading.Event()
        self.stats = Stats()
        rng = random.Random(seed)
        self.tabs = [
            Tab(port, cookies[i % len(cookies)], interval, self.stop, self.stats, page, rng)
            for i in range(n)
        ]

    def __enter__(self):
        for tab in self.tabs:
            tab.start()
        deadline = time.monotonic() + 30
        while self.stats.open + len(self.stats.errors) < len(self.tabs):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for tab in self.tabs:
            tab.join(timeout=35)
        return False


def main(argv=None):
    """A dry check without wrk: serve the seeded bench database with gunicorn (as `make
    bench` does), open the tabs for a few seconds, fetch the home page now and then, print
    what the tabs saw. Run `bench/run.py --no-http` once first to seed."""
    import argparse
    import json
    import os

    import run

    ap = argparse.ArgumentParser(description=main.__doc__.split("\n")[0])
    ap.add_argument("--tabs", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--interval", type=float, default=5)
    args = ap.parse_args(argv)
    if not os.path.exists(run.CONFIG_PATH) or not os.path.exists(run.DB_PATH):
        raise SystemExit("seed first: bench/run.py --no-http")
    with open(run.CONFIG_PATH) as fh:
        config = json.load(fh)
    portal = run.Server("portal", "wsgi_bench:app", {"PORTAL_BENCH_CONFIG": run.CONFIG_PATH})
    try:
        portal.wait_ready("/healthz")
        portal.wait_warm()
        from portal import create_app
        from portal.models import STAFF_ROLES, User

        app = create_app(config)
        with app.app_context():
            emails = [
                u.email
                for u in User.select(User.email).where(User.role.in_(STAFF_ROLES)).order_by(User.id)
            ]
        cookies = [run.login_http(portal.port, e, "/provider/messages/") for e in emails]
        home = []
        with LiveTabs(portal.port, cookies, n=args.tabs, interval=args.interval) as tabs:
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                t0 = time.perf_counter()
                status, _, _ = run.request(
                    portal.port, "GET", "/provider/", run._parse_cookie(cookies[2])
                )
                home.append((status, (time.perf_counter() - t0) * 1000))
                time.sleep(0.5)
        print(json.dumps(tabs.stats.summary(), indent=2))
        ok = [ms for status, ms in home if status == 200]
        print(
            f"home page while the tabs were open: {len(ok)} of {len(home)} answered 200, "
            f"median {statistics.median(ok):.1f} ms"
            if ok
            else "home page: no 200 answers"
        )
    finally:
        portal.stop()


if __name__ == "__main__":
    main()
