"""A batch of CMS-1500 PDFs built by the real consumer (`flask --app wsgi tasks worker`, two
worker processes), while the job page is polled as the browser's progress bar polls it:
the count moves, both halves of the batch are rendered at the same time, the page keeps
working after the web app is made afresh (a restarted web server), and the merged PDF has
every claim in order."""

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time

from portal.db import IS_POSTGRES
from portal.models import ClaimPrintItem, Job
from portal.services.claims import cms1500_pdf
from tests.claims import factories as cf
from tests.claims.cms1500_boxes import read_box, values, words
from tests.conftest import database_env, login, make_app, same_database

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
N_CLAIMS = 24
PROGRESS = re.compile(r"(\d+) of (\d+)")


def _web(tmp_path, app, user):
    """A web app on the same database that only queues tasks (as gunicorn would), logged in."""
    app = make_app(tmp_path, TASKS_IMMEDIATE=False, **same_database(app))
    client = app.test_client()
    login(client, user)
    return client


def _poll(client, job_id):
    fragment = client.get(f"/provider/jobs/{job_id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    found = PROGRESS.search(fragment.get_data(as_text=True))
    return int(found.group(1)) if found else 0


def _filled_positions_sql(job_id):
    """The SQL (and its parameters) listing the positions of the job's rendered items."""
    return (
        ClaimPrintItem.select(ClaimPrintItem.position)
        .where((ClaimPrintItem.job == job_id) & ClaimPrintItem.document.is_null(False))
        .sql()
    )


def _halves_in_progress(filled, half):
    first = sum(1 for p in filled if p <= half)
    second = len(filled) - first
    # Both halves part-done at once: the two worker processes overlapped. (One process
    # running through a whole half before the other began would never show it.)
    return 0 < first < half and 0 < second < N_CLAIMS - half


def _connect(app):
    """A DB-API connection of its own to the app's database, untouched when a second app
    re-initialises the shared database object (the web server's restart)."""
    if IS_POSTGRES:
        import psycopg

        return psycopg.connect(app.config["DATABASE_URL"], autocommit=True)
    return sqlite3.connect(app.config["DATABASE"], isolation_level=None)


class _OverlapWatch(threading.Thread):
    """Reads the batch's items every few milliseconds, apart from the page polls and the web
    app's restart (which take long on a loaded machine and would miss a short overlap):
    `seen` once both halves were caught under way together."""

    def __init__(self, app, job_id, half):
        super().__init__(daemon=True)
        self.app = app
        self.query = _filled_positions_sql(job_id)
        self.half = half
        self.seen = False
        self.stop = threading.Event()

    def run(self):
        connection = _connect(self.app)
        try:
            while not self.stop.is_set() and not self.seen:
                cursor = connection.execute(*self.query)
                self.seen = _halves_in_progress([row[0] for row in cursor], self.half)
                time.sleep(0.005)
        finally:
            connection.close()


def test_the_consumer_builds_a_batch_on_both_cores_while_the_page_polls(app, world, tmp_path):
    with app.test_request_context():
        a = world.a
        claims = [
            cf.paper_claim(a.practice, (a.c1, a.c2)[n % 2], a.provider, n_lines=1 + n % 3)
            for n in range(N_CLAIMS)
        ]
    web = _web(tmp_path, app, world.a.frontdesk)
    resp = web.post(
        "/provider/claims/paper/batch",
        data={"claim_id": [str(c.id) for c in claims], "mode": "full"},
    )
    assert resp.status_code == 303
    job_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    assert Job.get_by_id(job_id).status == "queued"  # only queued: no consumer yet
    assert _poll(web, job_id) == 0

    env = dict(
        os.environ,
        PORTAL_INSTANCE_PATH=str(tmp_path / "instance"),
        **database_env(app),
        PORTAL_SECRET_KEY="consumer-test",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "tasks", "worker", "-w", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    seen, restarted = [], False
    watch = _OverlapWatch(app, job_id, -(-N_CLAIMS // 2))
    watch.start()
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            done = _poll(web, job_id)
            seen.append(done)
            if done and not restarted:
                # the web server restarts mid-batch: a new app, a new login, the same job
                web = _web(tmp_path, app, world.a.frontdesk)
                restarted = True
            if Job.get_by_id(job_id).finished:
                break
            time.sleep(0.03)
    finally:
        watch.stop.set()
        watch.join(timeout=10)
        proc.terminate()
        out = proc.communicate(timeout=30)[0].decode()
    job = Job.get_by_id(job_id)
    assert job.status == "done", (job.status, job.message, out)
    assert "2 process(s)" in out
    moving = [d for d in seen if 0 < d < N_CLAIMS]
    assert moving, f"the progress never showed a count between 0 and {N_CLAIMS}: {seen}"
    assert seen == sorted(seen), "the progress never goes back"
    assert watch.seen, "the two halves were never rendered at the same time"
    assert restarted
    page = web.get(f"/provider/jobs/{job_id}").get_data(as_text=True)
    assert "Download the result" in page and "every 1s" not in page
    merged = web.get(f"/provider/jobs/{job_id}/result")
    assert merged.status_code == 200
    assert cms1500_pdf.pdf.page_count(merged.data) == N_CLAIMS
    # the first page is the first claim in print order (payer, date of service, id)
    first = (
        ClaimPrintItem.select()
        .where((ClaimPrintItem.job == job_id) & (ClaimPrintItem.position == 1))
        .get()
    )
    page_one = values(words(merged.data, tmp_path, "merged.pdf"))
    assert read_box(page_one, "26") == first.claim.patient_control_number
