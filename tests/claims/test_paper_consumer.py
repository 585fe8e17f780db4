"""A batch of CMS-1500 PDFs built by the real consumer (`flask --app wsgi tasks worker`, two
worker processes), while the job page is polled as the browser's progress bar polls it:
the batch is queued as two parts for the two processes, the count moves, the page keeps
working after the web app is made afresh (a restarted web server), and the merged PDF has
every claim in order. That the two processes render at once is a speed, measured by `make
bench` (claim_pdfs_100_cores): on a loaded machine one may run both parts in turn."""

import os
import re
import subprocess
import sys
import time

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


def test_the_consumer_builds_a_batch_in_two_parts_while_the_page_polls(app, world, tmp_path):
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
    # Two parts, one task each, for the consumer's two worker processes (that both cores
    # work at once is a speed: `make bench` measures it, claim_pdfs_100_cores).
    half = -(-N_CLAIMS // 2)
    parts = sorted(t.args for t in web.application.extensions["huey"].pending())
    assert parts == [(job_id, 1, half), (job_id, half + 1, N_CLAIMS)]

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
        proc.terminate()
        out = proc.communicate(timeout=30)[0].decode()
    job = Job.get_by_id(job_id)
    assert job.status == "done", (job.status, job.message, out)
    assert "2 process(s)" in out
    moving = [d for d in seen if 0 < d < N_CLAIMS]
    assert moving, f"the progress never showed a count between 0 and {N_CLAIMS}: {seen}"
    assert seen == sorted(seen), "the progress never goes back"
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
