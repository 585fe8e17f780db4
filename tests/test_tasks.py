"""The task queue (portal/tasks) and job progress (portal/services/jobs.py).

Most tests run tasks in-process (TASKS_IMMEDIATE); one starts the real consumer,
`flask --app wsgi tasks worker`, as a separate process on the same SQLite file and waits
for a task it picked up from the queue file to do its work.
"""

import datetime as dt
import os
import subprocess
import sys
import time

import pytest

from portal import clock, tasks
from portal.models import Appointment, AppointmentType, OutboxMessage, StoredDocument
from portal.models.jobs import Job
from portal.services import jobs
from portal.tasks import routine
from tests.conftest import database_env, login, make_app, same_database

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_routine_tasks_are_registered_and_periodic(app):
    registered = app.extensions["huey_tasks"]
    for func in (
        routine.send_reminders,
        routine.expire_packages,
        routine.retry_mail,
        routine.refresh_statistics,
    ):
        assert f"portal.tasks.routine.{func.__name__}" in registered
    huey = app.extensions["huey"]

    def due(hour, minute):
        at = dt.datetime(2026, 1, 5, hour, minute)
        return {t.name.rsplit(".", 1)[1] for t in huey.read_periodic(at)}

    assert due(3, 10) == {"expire_packages"}  # daily at 03:10
    every_15 = {"send_reminders", "fetch_clearinghouse_files"}
    assert due(3, 30) == every_15 | {"retry_mail"}  # every 15 and 30 minutes
    assert due(3, 45) == every_15
    assert due(3, 50) == {"refresh_statistics"}  # daily at 03:50


def test_enqueue_refuses_an_undeclared_function(ctx):
    with pytest.raises(LookupError, match="not a declared task"):
        tasks.enqueue(print, "x")


def _appointment_soon(side, now, email="soon@example.com"):
    side.c1.email = email
    side.c1.save()
    atype = AppointmentType.create(
        practice=side.practice, name="60-minute massage", duration_minutes=60, price_cents=9500
    )
    start = now + dt.timedelta(hours=2)
    return Appointment.create(
        practice=side.practice,
        client=side.c1,
        provider=side.provider,
        appointment_type=atype,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        blocked_until=start + dt.timedelta(hours=1),
    )


def _reminders():
    return OutboxMessage.select().where(OutboxMessage.kind == "appointment.reminder").count()


def test_immediate_mode_runs_the_task_in_process(ctx, world):
    _appointment_soon(world.a, clock.utcnow())
    tasks.enqueue(routine.send_reminders)  # a periodic task: Huey keeps no result
    assert _reminders() == 1


def test_the_real_consumer_runs_a_queued_task(tmp_path, world, app):
    """The web side only stores the call (TASKS_IMMEDIATE off); a consumer process started
    as an operator would start it finds it in the queue file and runs it."""
    with app.test_request_context():
        _appointment_soon(world.a, clock.utcnow())
    queued = make_app(tmp_path, TASKS_IMMEDIATE=False, **same_database(app))
    with queued.test_request_context():
        tasks.enqueue(routine.send_reminders)
    assert _reminders() == 0  # only queued
    env = dict(
        os.environ,
        PORTAL_INSTANCE_PATH=queued.instance_path,
        **database_env(app),
        PORTAL_SECRET_KEY="consumer-test",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "tasks", "worker", "-w", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while _reminders() == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0].decode()
    assert _reminders() == 1, out
    assert "SqliteStorage" in out


# --- jobs --------------------------------------------------------------------------------


@pytest.fixture
def job(ctx, world):
    j = jobs.create(world.a.practice.id, world.a.frontdesk.id, "claim_pdfs", "Claim PDFs", 4)
    return j


def test_job_moves_through_its_states(job):
    assert job.status == "queued" and job.percent == 0
    jobs.start(job.id)
    jobs.advance(job.id, 3)
    j = jobs.get(job.id)
    assert (j.status, j.done, j.total, j.percent) == ("running", 3, 4, 75)
    jobs.fail(job.id, "The PDF engine stopped")
    j = jobs.get(job.id)
    assert j.finished and j.status_label == "Failed" and j.message == "The PDF engine stopped"
    jobs.start(job.id)  # picked up again after a restart: counts from zero
    j = jobs.get(job.id)
    assert (j.status, j.done) == ("running", 0)


def test_job_page_polls_until_done_then_offers_the_result(client, world, job):
    jobs.start(job.id)
    jobs.advance(job.id, 1)
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/jobs/{job.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "1 of 4" in html and 'hx-trigger="every 1s"' in html and "<progress" in html
    fragment = client.get(f"/provider/jobs/{job.id}", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert 'id="job_progress"' in body and "<html" not in body

    doc = StoredDocument.create(
        practice=world.a.practice,
        kind="claim",
        filename="claims.pdf",
        data=b"%PDF-1.4 test",
        sha256="a" * 64,
        size_bytes=13,
    )
    jobs.finish(job.id, document_id=doc.id)
    html = client.get(f"/provider/jobs/{job.id}").get_data(as_text=True)
    assert "every 1s" not in html and "Download the result" in html
    got = client.get(f"/provider/jobs/{job.id}/result")
    assert got.status_code == 200 and got.data == b"%PDF-1.4 test"
    assert got.headers["Cache-Control"] == "no-store"


def test_job_pages_refuse_others(client, world, job):
    url = f"/provider/jobs/{job.id}"
    assert client.get(url).headers["Location"].startswith("/login")  # logged out
    for user in (world.b.owner, world.a.therapist, world.a.cu1):
        client.post("/logout")
        login(client, user)
        assert client.get(url).status_code in (403, 404), user.role
        assert client.get(url + "/result").status_code in (403, 404), user.role
    client.post("/logout")
    login(client, world.a.owner)  # the owner sees every job of the practice
    assert client.get(url).status_code == 200
    assert Job.get_by_id(job.id).practice_id == world.a.practice.id
