"""`make bench`: seed a large dataset, load the portal and a bare Flask app with wrk, print figures.

Steps:
1. Build (or reuse) bench/.data/bench.sqlite3: migrations, then each area's seed(ctx)
   in ORDER (bench/areas/*.py). The seeded file is kept (bench.seeded.sqlite3) and
   copied afresh for every run while the seed key (migration files, area modules and
   their SEED_VERSIONs) is unchanged.
2. Start gunicorn twice on gunicorn.conf.py (2 workers, gthread): the portal on the bench
   database and bench/hello.py, each on a free 127.0.0.1 port.
3. Log in per target user, check the page answers 200, then load each page with
   `wrk -t2 -c16 -d10s --latency` (warm-up first), bare hello included.
4. Stop the servers, run each area's in-process figures(ctx).
5. Print `name: value unit` lines, `ratio X/bare_hello: R` lines and `target ...: PASS|FAIL`.

Options: --duration 10s, --connections 16, --only area1,area2 (targets and figures of
those areas only; seeds always run in full), --no-http, --reseed, --warmup 2s,
--wait-quiet 10 (seconds to wait for an idle CPU before each load; the machine is shared),
--rounds 2 (each target is loaded in rounds of bare Flask then target; the best run of each
side gives the target's ratio: this machine slows down for seconds at a time).
Exit status: 0 when everything ran (targets may FAIL: read the lines), 1 on errors.

The database, BENCH_DB: sqlite (the default, as above), postgresql (the same run on a
throwaway PostgreSQL database copied from a seeded template: bench/pg.py; the servers and
the task consumer get PORTAL_DATABASE_URL), or both (a run on each, then one table of the
two side by side: bench/both.py). An area whose seed, attach, targets or figures fail on
one database is reported (ERROR lines, exit status 1) and the rest of the run goes on.
"""

import argparse
import contextlib
import contextvars
import hashlib
import http.client
import importlib
import inspect
import json
import os
import pkgutil
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import traceback
import urllib.parse

from flask.testing import FlaskClient

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, ROOT)
sys.path.insert(0, BENCH)

DATA = os.path.join(BENCH, ".data")
DB_PATH = os.path.join(DATA, "bench.sqlite3")
SEEDED_PATH = os.path.join(DATA, "bench.seeded.sqlite3")  # pristine copy, restored each run
KEY_PATH = os.path.join(DATA, "seed-key.json")
CONFIG_PATH = os.path.join(DATA, "config.json")
INSTANCE = os.path.join(DATA, "instance")
PASSWORD = "bench-password-2026-calm-hands"
SEED_FORMAT = 1  # bump when run.py changes what a seeded database holds
BASELINE = "bare_hello"
MAX_WORKER_RSS_MB = 150  # two workers and the system fit a 1 GB VPS
ERRORS = []
WARNINGS = []
SKIPPED = {}  # area -> why it was left out of this run (its seed failed)
# BENCH_DB: sqlite (the default), postgresql, or both (one run on each, side by side).
BENCH_DBS = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}
DB_KIND = "sqlite"
PG = None  # bench/pg.py's PgBench on PostgreSQL
LOCK_HELD = "_BENCH_LOCK_HELD"  # set for the two runs of BENCH_DB=both: their parent holds it


def log(msg):
    print(f"# {msg}", file=sys.stderr, flush=True)


def error(msg):
    ERRORS.append(msg)
    print(f"ERROR {msg}", flush=True)


def warn(msg):
    WARNINGS.append(msg)
    print(f"# WARNING {msg}", flush=True)


def skip(mod, why):
    SKIPPED[short(mod)] = why
    error(f"area {short(mod)} skipped on {DB_KIND}: {why}")


def _one_line(exc):
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}"


def bench_db_kind():
    raw = os.environ.get("BENCH_DB", "").strip().lower() or "sqlite"
    if raw == "both":
        return raw
    if raw not in BENCH_DBS:
        raise SystemExit(f"BENCH_DB={raw}: expected sqlite, postgresql or both")
    return BENCH_DBS[raw]


def use_database(kind):
    """Point this process at the bench database of `kind`: it must run before `portal` is
    imported, which picks SQLite or PostgreSQL once (PORTAL_DATABASE_URL). The gunicorn
    servers and the task consumer inherit the choice through the environment."""
    global DB_KIND, PG
    if "portal.db" in sys.modules:
        raise RuntimeError("use_database() after portal was imported")
    DB_KIND = kind
    if kind == "postgresql":
        import pg

        PG = pg.PgBench(ROOT, DATA, log)
        PG.start()
        os.environ["PORTAL_DATABASE_URL"] = PG.url
    elif os.environ.pop("PORTAL_DATABASE_URL", None):
        log("PORTAL_DATABASE_URL ignored: the bench runs on its own SQLite file (BENCH_DB)")


def release_database():
    """Drop the run's PostgreSQL database and stop the bench's own cluster."""
    if PG is not None:
        from portal.db import database

        database.close_all()
        PG.stop()


# --- areas ------------------------------------------------------------------------------


def discover():
    import areas

    mods = []
    for info in pkgutil.iter_modules(areas.__path__):
        if info.name.startswith("_"):
            continue
        mods.append(importlib.import_module(f"areas.{info.name}"))
    mods.sort(key=lambda m: (getattr(m, "ORDER", 1000), m.__name__))
    return mods


def short(mod):
    return mod.__name__.rsplit(".", 1)[-1]


def seed_key(mods):
    parts = [f"format={SEED_FORMAT}"]
    parts += sorted(os.listdir(os.path.join(ROOT, "migrations")))
    for m in mods:
        version = getattr(m, "SEED_VERSION", None)
        if version is None:
            version = hashlib.sha256(inspect.getsource(m).encode()).hexdigest()[:16]
        parts.append(f"{short(m)}={version}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def bench_config():
    config = {
        "DATABASE": DB_PATH,
        "INSTANCE_PATH": INSTANCE,
        "DEV": True,  # plain http on 127.0.0.1: cookies without the Secure flag
        "BASE_URL": "http://127.0.0.1",
    }
    if PG is not None:
        config["DATABASE_URL"] = PG.url
    return config


def take_lock(max_wait=900):
    """One bench run at a time: a second run would reseed the file under the first one's
    servers (and two loads at once halve each other's figures). Waits for the other run."""
    import fcntl

    if os.environ.get(LOCK_HELD) == str(os.getppid()):
        return None  # one of BENCH_DB=both's two runs: the parent holds the lock

    fh = open(os.path.join(DATA, "run.lock"), "w")  # noqa: SIM115 kept open while running
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fh
    except BlockingIOError:
        log("another bench run holds bench/.data/run.lock; waiting for it to finish")
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fh
        except BlockingIOError:
            time.sleep(1)
    raise SystemExit(f"another bench run kept bench/.data/run.lock for {max_wait} s")


# --- timing helpers for figures -------------------------------------------------------


def median_ms(fn, n=30, warmup=3):
    """Median wall time of fn() in milliseconds over n calls (after warm-up calls)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def _csrf_from(html):
    m = CSRF_RE.search(html)
    if not m:
        raise RuntimeError("no csrf_token field on the login page")
    return m.group(1) or m.group(2)


class FreshContextClient(FlaskClient):
    """A test client whose requests run in an empty contextvars context.

    Figures run inside an app context; Flask would reuse that app context (and its `g`,
    where flask-login caches current_user) for every request, hiding per-request work.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_login_client(app):
    def login_client(email, password=PASSWORD):
        """A Flask test client logged in as `email` through the real login form."""
        client = FreshContextClient(app, app.response_class, use_cookies=True)
        token = _csrf_from(client.get("/login").get_data(as_text=True))
        resp = client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )
        if resp.status_code not in (302, 303):
            raise RuntimeError(f"in-process login as {email} answered {resp.status_code}")
        return client

    return login_client


# --- seeding ------------------------------------------------------------------------------


def _remove_db(path):
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path + suffix)


def prepare_database(app, mods, ctx, reseed):
    """The run's database, seeded: a fresh copy of the kept seeded database while the seed
    key is unchanged, else migrations and every area's seed. Returns whether it seeded now.
    An area whose seed fails is left out of the run (`SKIPPED`) and nothing is kept."""
    from portal.db import database

    key = seed_key(mods)
    database.close_all()
    if PG is not None:
        key = pg_seed_key(key)
        stored = None if reseed else PG.seeded_key()
        PG.drop(PG.run_name)
        if stored == key:
            PG.create_run(from_seeded=True)
            log(f"reusing the seeded PostgreSQL database {PG.seeded_name} (seed key unchanged)")
            return False
        PG.forget_seeded()
        PG.create_run(from_seeded=False)
        t0 = time.perf_counter()
        seed_all(app, mods, ctx)
        database.close_all()
        PG.vacuum_analyze()
        if not SKIPPED:
            PG.keep_as_seeded(key)
        log(f"seeded PostgreSQL database {PG.run_name} in {time.perf_counter() - t0:.1f} s")
        return True

    stored = None
    if os.path.exists(KEY_PATH) and os.path.exists(SEEDED_PATH):
        with open(KEY_PATH) as fh:
            stored = json.load(fh).get("key")
    _remove_db(DB_PATH)
    if stored == key and not reseed:
        # Every run starts from the same pristine copy: the loads write sessions and audit
        # rows, which would otherwise pile up from run to run.
        shutil.copyfile(SEEDED_PATH, DB_PATH)
        _analyze(app)
        log(f"reusing the seeded {os.path.relpath(SEEDED_PATH, ROOT)} (seed key unchanged)")
        return False
    _remove_db(SEEDED_PATH)
    with contextlib.suppress(FileNotFoundError):
        os.remove(KEY_PATH)
    t0 = time.perf_counter()
    seed_all(app, mods, ctx)
    _analyze(app)
    database.close_all()
    if not SKIPPED:
        shutil.copyfile(DB_PATH, SEEDED_PATH + ".tmp")
        os.replace(SEEDED_PATH + ".tmp", SEEDED_PATH)
        with open(KEY_PATH, "w") as fh:
            json.dump({"key": key, "seeded_at": time.strftime("%Y-%m-%d %H:%M:%S")}, fh)
    log(f"seeded {os.path.relpath(DB_PATH, ROOT)} in {time.perf_counter() - t0:.1f} s")
    return True


def _analyze(app):
    """The planner's statistics, as a live server's daily task keeps them (the PostgreSQL
    bench database gets VACUUM ANALYZE likewise), and the WAL folded into the file."""
    from portal.db import database, refresh_statistics

    with app.app_context(), database.connection_context():
        refresh_statistics()
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close_all()


def seed_all(app, mods, ctx):
    """Migrations, then each area's seed in ORDER, one transaction per area."""
    from portal.db import database, upgrade
    from portal.sessions import hash_password

    with app.app_context():
        upgrade()
        ctx["password_hash"] = hash_password(PASSWORD)  # one hash for every bench user
        with database.connection_context():
            for m in mods:
                if not hasattr(m, "seed"):
                    continue
                t1 = time.perf_counter()
                try:
                    with database.atomic():
                        m.seed(ctx)
                except Exception as e:
                    traceback.print_exc()
                    if short(m) == "foundation":  # every other area builds on it
                        raise SystemExit(
                            "ERROR seed of area foundation failed (see above)"
                        ) from None
                    skip(m, f"seed failed: {_one_line(e)}")
                    continue
                log(f"seeded {short(m)} in {time.perf_counter() - t1:.1f} s")
                if short(m) == "foundation":
                    m.attach(ctx)  # later seeds need practice, providers, clients


def pg_seed_key(key):
    """On PostgreSQL the seeded database also depends on the migrations' text and their
    translation (portal/ddl.py), which are still changing there."""
    h = hashlib.sha256(key.encode())
    folder = os.path.join(ROOT, "migrations")
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            with open(os.path.join(folder, name), "rb") as fh:
                h.update(name.encode() + fh.read())
    with open(os.path.join(ROOT, "portal", "ddl.py"), "rb") as fh:
        h.update(fh.read())
    return "postgresql:" + h.hexdigest()


# --- servers ------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name, app_spec, env=None):
        self.name = name
        self.port = free_port()
        self.log_path = os.path.join(DATA, f"{name}.log")
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        cmd = [
            gunicorn,
            "-c",
            os.path.join(ROOT, "gunicorn.conf.py"),
            "-b",
            f"127.0.0.1:{self.port}",
            "--pythonpath",
            BENCH,
            app_spec,
        ]
        self.logfile = open(self.log_path, "w")  # noqa: SIM115 closed in stop()
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends master and workers
        )

    def wait_ready(self, path, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            try:
                status, _, _ = request(self.port, "GET", path)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer on port {self.port}; see {self.log_path}")

    def wait_warm(self, timeout=300, in_a_row=20):
        """Wait until /healthz says "warm" `in_a_row` times running (each on a new
        connection, so both workers answer): a worker opening the ICD-10 index (or, on a
        fresh bench folder, waiting for its build: ~10-50 s) would otherwise be loaded, and
        measured, while it works."""
        deadline = time.time() + timeout
        streak = 0
        while time.time() < deadline:
            status, _, body = request(self.port, "GET", "/healthz")
            warm = status == 200 and json.loads(body).get("warm") is True
            streak = streak + 1 if warm else 0
            if streak >= in_a_row:
                return
            time.sleep(0.05 if warm else 0.5)
        raise RuntimeError(f"{self.name} workers not warm after {timeout} s; see {self.log_path}")

    def worker_rss_mb(self):
        """Resident memory of each gunicorn worker (the master's children), in MB."""
        out = []
        for pid in sorted(_children(self.proc.pid)):
            try:
                with open(f"/proc/{pid}/status") as fh:
                    for line in fh:
                        if line.startswith("VmRSS:"):
                            out.append(round(int(line.split()[1]) / 1024, 1))
            except OSError:
                continue
        return out

    def stop(self):
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        # workers left behind by a killed master
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.logfile.close()


def _children(ppid):
    """Process ids whose parent is ppid (from /proc)."""
    kids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == ppid:
            kids.append(int(pid))
    return kids


# --- HTTP with cookies ---------------------------------------------------------------------


def request(port, method, path, cookies=None, form=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {}
    body = None
    if cookies:
        headers["Cookie"] = cookie_header(cookies)
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read().decode("utf-8", "replace")
        if cookies is not None:
            for raw in resp.headers.get_all("Set-Cookie") or []:
                name, _, value = raw.split(";", 1)[0].partition("=")
                if value and "max-age=0" not in raw.lower():
                    cookies[name.strip()] = value.strip()
                else:
                    cookies.pop(name.strip(), None)
        return resp.status, resp.headers, data
    finally:
        conn.close()


def cookie_header(cookies):
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def login_http(port, email, check_path):
    """Log in through the form; return a Cookie header that gets check_path with 200."""
    cookies = {}
    status, _, html = request(port, "GET", "/login", cookies)
    if status != 200:
        raise RuntimeError(f"GET /login answered {status}")
    form = {"email": email, "password": PASSWORD, "csrf_token": _csrf_from(html)}
    status, headers, _ = request(port, "POST", "/login", cookies, form)
    if status not in (302, 303):
        raise RuntimeError(f"login as {email} answered {status} instead of a redirect")
    # The first page after login stores a fresh CSRF token in the session cookie; take the
    # cookie after it, so the loaded requests do not each write a new one.
    for _ in range(2):
        status, headers, html = request(port, "GET", check_path, cookies)
        if status != 200 or 'name="password"' in html:
            where = headers.get("Location", "")
            raise RuntimeError(f"{check_path} as {email} answered {status} {where}".strip())
    return cookie_header(cookies)


# --- wrk ---------------------------------------------------------------------------------

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(out):
    result = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["rps"] = float(m.group(1)) if m else None
    for pct, num, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M):
        result[f"p{pct}"] = float(num) * UNIT_MS[unit]
    m = re.search(r"(\d+) requests in", out)
    result["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Not-200 responses:\s+(\d+)", out)
    result["not_200"] = int(m.group(1)) if m else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(map(int, m.groups())) if m else 0
    return result


def _busy_ticks():
    """CPU ticks the whole machine spent busy (all cores), from /proc/stat."""
    with open("/proc/stat") as fh:
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, fh.readline().split()[1:9])
    return user + nice + system + irq + softirq + steal


def _group_ticks(pgids):
    """CPU ticks used so far by the live processes of these process groups."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in pgids:
            total += int(fields[9 + 2]) + int(fields[10 + 2])  # utime, stime
    return total


def _backend_ticks(dbname):
    """CPU ticks used so far by the PostgreSQL backends connected to database `dbname` (their
    process title reads "postgres: USER DBNAME HOST(PORT) STATE")."""
    if not dbname:
        return 0
    mark = f" {dbname} ".encode()
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                title = fh.read(200)
            if not title.startswith(b"postgres: ") or mark not in title:
                continue
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[9 + 2]) + int(fields[10 + 2])  # utime, stime
    return total


class CpuWatch:
    """Share of the machine's CPU taken by OTHER processes (not our servers, not wrk).

    The bench shares its 2 cores with whatever else runs; a busy machine lowers the
    figures, so each load reports how much of the CPU others took meanwhile.

    On PostgreSQL the database's work runs in its server's backends, not in the portal's
    workers (SQLite's runs inside them): the backends connected to the run's database
    (`dbname`) count as ours, and their share is `db_seconds`.
    """

    def __init__(self, pgids, dbname=None):
        self.pgids = set(pgids)
        self.dbname = dbname

    def __enter__(self):
        self.t0 = time.monotonic()
        self.busy0 = _busy_ticks()
        self.ours0 = _group_ticks(self.pgids)
        self.db0 = _backend_ticks(self.dbname)
        self.kids0 = _children_seconds()
        return self

    def __exit__(self, *exc):
        hz = os.sysconf("SC_CLK_TCK")
        elapsed = (time.monotonic() - self.t0) * hz * (os.cpu_count() or 1)
        self.db_seconds = (_backend_ticks(self.dbname) - self.db0) / hz
        self.server_seconds = (_group_ticks(self.pgids) - self.ours0) / hz + self.db_seconds
        ours = self.server_seconds * hz + (_children_seconds() - self.kids0) * hz
        other = max(0.0, _busy_ticks() - self.busy0 - ours)
        self.other_share = other / elapsed if elapsed else 0.0
        return False


def wait_quiet(max_wait, share=0.10):
    """Wait (up to max_wait seconds) for a second in which others use < share of the CPU."""
    hz = os.sysconf("SC_CLK_TCK") * (os.cpu_count() or 1)
    deadline = time.monotonic() + max_wait
    while True:
        b0 = _busy_ticks()
        time.sleep(1)
        used = (_busy_ticks() - b0) / hz
        if used < share:
            return True
        if time.monotonic() >= deadline:
            log(f"the machine stayed busy ({used:.0%} of the CPU); loading anyway")
            return False


def _children_seconds():
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_wrk(port, path, cookie, duration, connections):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}", "--latency"]
    cmd += ["-s", os.path.join(BENCH, "count_status.lua")]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return parse_wrk(proc.stdout), proc.stdout


# --- output ------------------------------------------------------------------------------


def fmt(value):
    if isinstance(value, bool) or isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 100 else f"{value:.2f}"
    return str(value)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", default="10s", help="wrk -d per target (default 10s)")
    ap.add_argument("--warmup", default="2s", help="wrk warm-up per target (default 2s; 0 = none)")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="rounds of (bare Flask, target) per target; each side keeps its best (default 2)",
    )
    ap.add_argument(
        "--wait-quiet",
        type=float,
        default=10,
        help="before each load, wait up to this many seconds for an idle CPU (default 10; 0 = no)",
    )
    ap.add_argument("--only", default="", help="comma-separated areas for targets and figures")
    ap.add_argument("--no-http", action="store_true", help="skip gunicorn and wrk")
    ap.add_argument("--reseed", action="store_true", help="rebuild the bench database")
    # BENCH_DB=both: where each of its two runs writes its figures for the side-by-side table
    ap.add_argument("--results", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    kind = bench_db_kind()
    if not args.no_http and shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `make bench` (it installs Debian's wrk)")
    os.makedirs(INSTANCE, exist_ok=True)
    lock = take_lock()  # noqa: F841 held until the process ends
    if kind == "both":
        import both

        argv = sys.argv[1:] if argv is None else argv
        return both.run(os.path.abspath(__file__), argv, DATA, LOCK_HELD)
    use_database(kind)
    try:
        return bench(args)
    finally:
        release_database()


def bench(args):
    """One run on the database use_database() chose: seed, load, measure, print."""
    config = bench_config()
    with open(CONFIG_PATH, "w") as fh:
        json.dump(config, fh, indent=2)

    from portal import create_app
    from portal.db import database

    app = create_app(config)
    mods = discover()
    only = {a.strip() for a in args.only.split(",") if a.strip()}
    unknown = only - {short(m) for m in mods}
    if unknown:
        raise SystemExit(f"unknown areas: {', '.join(sorted(unknown))}")
    selected = [m for m in mods if not only or short(m) in only]
    log("areas: " + ", ".join(f"{short(m)}({getattr(m, 'ORDER', 1000)})" for m in mods))

    ctx = {
        "app": app,
        "password": PASSWORD,
        "rng": random.Random(42),
        "data_dir": DATA,
        "median_ms": median_ms,
        "login_client": make_login_client(app),
        "http_login": login_http,  # (port, email, check_path) -> Cookie header, on a server
    }
    ctx["seeded_now"] = prepare_database(app, mods, ctx, args.reseed)
    ctx.pop("password_hash", None)
    selected = [m for m in selected if short(m) not in SKIPPED]
    for m in mods:
        if short(m) in SKIPPED:
            continue
        if hasattr(m, "attach"):
            try:
                with app.app_context(), database.connection_context():
                    m.attach(ctx)
            except Exception as e:
                traceback.print_exc()
                error(f"attach of area {short(m)}: {_one_line(e)}")
                if short(m) == "foundation":
                    raise SystemExit(1) from None
                selected = [x for x in selected if x is not m]

    figures = {}  # name -> (value, unit)
    baseline = {}  # target name -> the best bare Flask run of its rounds (result, cpu ms)
    checks = []  # (label, passed)
    limits = {}  # target name -> options

    def figure(name, value, unit):
        figures[name] = (value, unit)
        print(f"{name}: {fmt(value)} {unit}".rstrip(), flush=True)

    # --- HTTP loads ---
    targets = []
    for m in selected:
        if not hasattr(m, "wrk_targets"):
            continue
        try:
            with app.app_context(), database.connection_context():
                for t in m.wrk_targets(ctx):
                    targets.append(t[:3])
                    limits[t[0]] = t[3] if len(t) > 3 else {}
        except Exception as e:
            traceback.print_exc()
            error(f"wrk_targets of area {short(m)}: {_one_line(e)}")
    if any(short(m) == "foundation" for m in selected):
        # The yardstick between bare Flask and the portal: a plain Flask + Peewee page of
        # 25 clients (bench/plain.py), loaded like the pages; it has no goal of its own.
        targets.append(("plain_peewee_page", "/", None))
        limits["plain_peewee_page"] = {"server": "plain"}

    if not args.no_http:
        portal = cached = hello = plain = None
        try:
            # Pages are loaded without the render cache (PORTAL_PAGE_CACHE=0), as most pages
            # are served; targets marked {"page_cache": True} (the pages it keeps) go to a
            # second portal with the cache on.
            env = {"PORTAL_BENCH_CONFIG": CONFIG_PATH}
            portal = Server("portal", "wsgi_bench:app", {**env, "PORTAL_PAGE_CACHE": "0"})
            if any((limits.get(t[0]) or {}).get("page_cache") for t in targets):
                cached = Server("portal_cached", "wsgi_bench:app", env)
            hello = Server("hello", "hello:app")
            if any((limits.get(t[0]) or {}).get("server") == "plain" for t in targets):
                plain = Server("plain", "plain:app", env)
            servers = [s for s in (portal, cached) if s is not None]
            for server in servers:
                server.wait_ready("/healthz")
            hello.wait_ready("/")
            if plain is not None:
                plain.wait_ready("/")
            for server in servers:
                server.wait_warm()
                for n, rss in enumerate(server.worker_rss_mb(), start=1):
                    figure(f"{server.name}_worker{n}_rss", rss, "MB")
            log(f"gunicorn up: portal :{portal.port}, hello :{hello.port}")
            yardsticks = [s for s in (hello, plain) if s is not None]
            logs = {s.port: os.path.relpath(s.log_path, ROOT) for s in (*servers, *yardsticks)}
            loads = []
            busy = []
            cookies = {}
            for name, path, email in targets:
                opts = limits.get(name) or {}
                server = cached if opts.get("page_cache") else portal
                if opts.get("server") == "plain":
                    server = plain
                try:
                    key = (server.name, email)
                    if email and key not in cookies:
                        cookies[key] = login_http(server.port, email, path)
                    if not email:
                        status, _, _ = request(server.port, "GET", path)
                        if status != 200:
                            raise RuntimeError(f"{path} answered {status}")
                    loads.append((name, server.port, path, cookies.get(key)))
                except Exception as e:
                    error(f"target {name}: {e} (see {logs[server.port]})")

            def load(name, port, path, cookie, warmup, during=None):
                """One wrk load: (wrk result, server CPU ms per request), or None. `during`
                (a target's option): fn(port) -> a context manager kept open around the
                warm-up and the load (e.g. 50 open tabs polling), not around bare Flask."""
                if during is not None:
                    try:
                        with during(port):
                            return load(name, port, path, cookie, warmup)
                    except Exception as e:  # the background itself failed
                        traceback.print_exc()
                        error(f"target {name}: {e}")
                        return None
                if cookie:
                    status, _, _ = request(port, "GET", path, _parse_cookie(cookie))
                    if status != 200:
                        error(
                            f"target {name}: {path} answered {status} before the load "
                            f"(see {logs[port]})"
                        )
                        return None
                try:
                    if warmup:
                        run_wrk(port, path, cookie, args.warmup, args.connections)
                    if args.wait_quiet:
                        wait_quiet(args.wait_quiet)
                    log(f"wrk {name} {path} for {args.duration} at {args.connections} connections")
                    pgids = [s.proc.pid for s in (*servers, *yardsticks)]
                    with CpuWatch(pgids, PG and PG.run_name) as watch:
                        res, raw = run_wrk(port, path, cookie, args.duration, args.connections)
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    error(f"target {name}: {e}")
                    return None
                if watch.other_share > 0.05:
                    busy.append(f"{name} {watch.other_share:.0%}")
                bad = res["non_2xx"] or res["not_200"] or res["rps"] is None
                if bad or res["not_200"] is None:
                    print(raw, file=sys.stderr)
                    error(
                        f"target {name}: wrk saw {res['not_200']} responses other than 200 "
                        f"({res['non_2xx']} >= 400) of {res['requests']} (see {logs[port]})"
                    )
                    return None
                if res["socket_errors"]:
                    log(f"{name}: {res['socket_errors']} socket errors (see wrk output)")
                    print(raw, file=sys.stderr)
                # Server CPU per request: steadier than req/s when others share the CPU.
                n = res["requests"]
                cpu_ms = watch.server_seconds * 1000 / n if n else None
                db_ms = watch.db_seconds * 1000 / n if n and PG is not None else None
                return res, cpu_ms, db_ms

            def report(name, measured):
                res, cpu_ms, db_ms = measured
                figure(f"{name}_rps", res["rps"], "req/s")
                figure(f"{name}_p50", res.get("p50"), "ms")
                figure(f"{name}_p99", res.get("p99"), "ms")
                if cpu_ms is not None:
                    figure(f"{name}_server_cpu", cpu_ms, "ms/req")
                if db_ms is not None and name != BASELINE:
                    # the PostgreSQL backends' part of server_cpu
                    figure(f"{name}_db_cpu", db_ms, "ms/req")

            # Each target is loaded in rounds of (bare Flask, target), and its ratio compares
            # the best run of each side. This machine slows down for seconds at a time (other
            # virtual machines on the host: bare Flask was seen at 2,300 instead of 8,500
            # req/s between two normal runs); a slow spell only ever lowers a figure, so the
            # best of a few adjacent runs on both sides measures the code, not the spell.
            warm = args.warmup not in ("0", "0s", "")
            rounds = max(1, args.rounds)
            bare_runs = []

            def best(runs):
                return max(runs, key=lambda m: m[0]["rps"]) if runs else None

            for i, (name, port, path, cookie) in enumerate(loads):
                mine, theirs = [], []
                for r in range(rounds):
                    bare = load(BASELINE, hello.port, "/", None, warmup=warm and i == r == 0)
                    if bare is not None:
                        theirs.append(bare)
                    during = (limits.get(name) or {}).get("during")
                    measured = load(name, port, path, cookie, warm and r == 0, during)
                    if measured is not None:
                        mine.append(measured)
                if theirs:
                    if not bare_runs:
                        report(BASELINE, best(theirs))
                    bare_runs += theirs
                    baseline[name] = best(theirs)
                if mine:
                    report(name, best(mine))
            if not loads:
                bare = load(BASELINE, hello.port, "/", None, warmup=warm)
                if bare is not None:
                    report(BASELINE, bare)
                    bare_runs.append(bare)
            if bare_runs:
                rps = sorted(r["rps"] for r, *_ in bare_runs)
                if rps[-1] > 1.25 * rps[0]:
                    warn(
                        f"bare Flask ran at {rps[0]:.0f} to {rps[-1]:.0f} req/s in "
                        "this run: the machine's speed changed (each side keeps its best run)"
                    )
            if busy:
                warn(
                    "other processes took CPU during the loads ("
                    + ", ".join(busy)
                    + " of the machine): the figures are low; run again on a quiet machine"
                )
        except Exception as e:
            traceback.print_exc()
            error(f"HTTP load: {e}")
        finally:
            for server in (portal, cached, hello, plain):
                if server is not None:
                    server.stop()

    # --- in-process figures (servers stopped) ---
    for m in selected:
        if not hasattr(m, "figures"):
            continue
        try:
            # No connection_context here: in-process requests close the connection at
            # teardown; queries outside a request reconnect on their own.
            with app.app_context():
                for name, value, unit in m.figures(ctx):
                    figure(name, value, unit)
        except Exception as e:
            traceback.print_exc()
            error(f"figures of area {short(m)}: {_one_line(e)}")
        finally:
            if not database.is_closed():
                database.close()

    # --- ratios and targets ---
    values = {k: v for k, (v, _) in figures.items()}
    ratios = []
    for name, _, _ in targets:
        rps = values.get(f"{name}_rps")
        bare = baseline.get(name)  # the best bare run of this target's rounds
        base = bare[0]["rps"] if bare else None
        if base and rps is not None:
            ratio = rps / base
            values[f"ratio {name}/{BASELINE}"] = ratio
            ratios.append((name, ratio))
            print(f"ratio {name}/{BASELINE}: {ratio:.2f}  (bare: {base:.0f} req/s)", flush=True)
    for name, _, _ in targets:
        cpu = values.get(f"{name}_server_cpu")
        base_cpu = baseline[name][1] if name in baseline else None
        if cpu and base_cpu:
            # The same ratio from server CPU per request (what a quiet machine would show,
            # minus wrk's own share): read it when the WARNING line says others took CPU.
            values[f"cpu_ratio {name}/{BASELINE}"] = base_cpu / cpu
            print(f"cpu_ratio {name}/{BASELINE}: {base_cpu / cpu:.2f}", flush=True)
    for name, _, _ in targets:
        opts = limits.get(name) or {}
        if "min_ratio" in opts and not args.no_http:
            r = values.get(f"ratio {name}/{BASELINE}")
            ok = r is not None and r >= opts["min_ratio"]
            checks.append((f"{name}/{BASELINE} >= {opts['min_ratio']}", ok))
        if "max_p99_ms" in opts and not args.no_http:
            p = values.get(f"{name}_p99")
            ok = p is not None and p <= opts["max_p99_ms"]
            checks.append((f"{name}_p99 <= {opts['max_p99_ms']} ms", ok))
    for name, value in list(values.items()):
        if name.endswith("_rss") and not args.no_http:
            checks.append((f"{name} <= {MAX_WORKER_RSS_MB} MB", value <= MAX_WORKER_RSS_MB))
    for m in selected:
        if not hasattr(m, "checks"):
            continue
        try:
            checks += list(m.checks(ctx, values))
        except Exception as e:
            traceback.print_exc()
            error(f"checks of area {short(m)}: {_one_line(e)}")
    for label, passed in checks:
        print(f"target {label}: {'PASS' if passed else 'FAIL'}", flush=True)
    if args.results:
        write_results(args.results, figures, values, checks)
    failed = [label for label, passed in checks if not passed]
    if failed:
        print(f"# {len(failed)} target(s) FAILED: " + "; ".join(failed), flush=True)
    if ERRORS:
        print(f"# {len(ERRORS)} error(s): " + "; ".join(ERRORS), flush=True)
        return 1
    return 0


def write_results(path, figures, values, checks):
    """This run's figures, ratios and targets as JSON, for BENCH_DB=both's table."""
    out = {
        "database": DB_KIND,
        "figures": [[name, value, unit] for name, (value, unit) in figures.items()],
        "ratios": [[k, v] for k, v in values.items() if k.startswith(("ratio ", "cpu_ratio "))],
        "checks": [[label, passed] for label, passed in checks],
        "errors": ERRORS,
        "warnings": WARNINGS,
        "skipped": SKIPPED,
    }
    with open(path, "w") as fh:
        json.dump(out, fh)


def _parse_cookie(header):
    out = {}
    for part in header.split(";"):
        k, _, v = part.strip().partition("=")
        if k:
            out[k] = v
    return out


if __name__ == "__main__":
    sys.exit(main())
