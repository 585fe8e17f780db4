"""Data export (issue 12, item 6): the client's ZIP of their own records, and the owner's
whole-practice ZIP built by the task queue with progress, downloadable by that owner
alone, deleted when it expires; both audited."""

import csv
import datetime as dt
import io
import os
import zipfile

from portal import clock
from portal.models import AppointmentType, AuditLog, DataExport, Job
from portal.services import practice_export
from tests import factories
from tests.clientside.helpers import scene
from tests.conftest import login


def test_a_client_downloads_all_their_records(app, client):
    with app.test_request_context():
        s = scene()
    login(client, s.client_user.email)
    r = client.get("/portal/documents/export")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/zip"
    assert r.headers["Cache-Control"] == "no-store"
    zf = zipfile.ZipFile(io.BytesIO(r.data))
    names = zf.namelist()
    for expected in (
        "README.txt",
        "profile.json",
        "appointments.csv",
        "messages.json",
        "signed_forms/forms.json",
        "consents.json",
    ):
        assert expected in names
    docs = [n for n in names if n.startswith("documents/")]
    assert len(docs) >= 4  # two invoices' PDFs, their receipts, the package visit receipt
    assert all(zf.read(n)[:5] == b"%PDF-" for n in docs)
    rows = list(csv.reader(io.StringIO(zf.read("appointments.csv").decode("utf-8-sig"))))
    assert rows[0][:3] == ["date", "time", "service"] and len(rows) == 3
    assert b"Jordan" in zf.read("profile.json")
    with app.app_context():
        assert AuditLog.select().where(AuditLog.action == "client.export").count() == 1
    # nobody else's records: another client's ZIP holds none of Jordan's documents
    other = app.test_client()
    login(other, s.same_practice_client_user.email)
    zo = zipfile.ZipFile(io.BytesIO(other.get("/portal/documents/export").data))
    assert not [n for n in zo.namelist() if n.startswith("documents/")]
    assert app.test_client().get("/portal/documents/export").status_code == 302


def test_the_clients_appointments_csv_shows_a_formula_like_name_as_text(app, client):
    """A service named like a spreadsheet formula (staff typed it) reaches the client's
    spreadsheet as text, not as a formula to run."""
    with app.test_request_context():
        s = scene()
        AppointmentType.update(name='=HYPERLINK("http://x")').where(
            AppointmentType.name == "30-minute massage"
        ).execute()
    login(client, s.client_user.email)
    zf = zipfile.ZipFile(io.BytesIO(client.get("/portal/documents/export").data))
    rows = list(csv.reader(io.StringIO(zf.read("appointments.csv").decode("utf-8-sig"))))
    services = [r[2] for r in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in services
    assert not [v for r in rows[1:] for v in r if v[:1] in ("=", "+", "@")]


def test_the_owner_exports_the_practice_through_the_task_queue(app, client):
    with app.test_request_context():
        s = scene()
        second_owner = factories.user(s.practice, "owner")
    login(client, s.owner.email)
    assert client.get("/provider/settings/export").status_code == 200
    r = client.post("/provider/settings/export")
    assert r.status_code == 303
    status_url = r.headers["Location"]
    page = client.get(status_url)
    assert page.status_code == 200 and b"Download the export" in page.data
    with app.app_context():
        export = DataExport.get()
        job = Job.get_by_id(export.job_id)
        assert (export.status, job.status, job.done) == ("ready", "done", job.total)
        path = practice_export.file_path(export)
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
        assert path.startswith(os.path.join(app.instance_path, "exports"))
    r = client.get(f"{status_url}/download")
    assert r.status_code == 200
    zf = zipfile.ZipFile(io.BytesIO(r.data))
    names = zf.namelist()
    assert "README.txt" in names and "tables/client.csv" in names
    readme = zf.read("README.txt").decode()
    assert "tables/appointment.csv" in readme and "deleted there 24 hours" in readme
    assert "exactly as stored" in readme and "formulas off" in readme  # values not altered
    clients = zf.read("tables/client.csv").decode("utf-8-sig")
    assert "Jordan" in clients and s.other_client.first_name not in clients  # this practice only
    users = zf.read("tables/user.csv").decode("utf-8-sig")
    assert "password_hash" not in users and "totp_secret" not in users
    assert any(n.startswith("documents/") and n.endswith(".pdf") for n in names)
    # the front desk, another owner and another practice cannot have it
    for who in (s.desk, second_owner, s.other_owner):
        c = app.test_client()
        login(c, who.email)
        assert c.get(f"{status_url}/download").status_code == 404
    # deleted when it expires
    with app.app_context():
        assert practice_export.delete_expired(now=clock.utcnow() + dt.timedelta(hours=25)) == 1
        assert not os.path.exists(path)
        assert DataExport.get_by_id(export.id).status == "deleted"
        actions = {a.action for a in AuditLog.select(AuditLog.action)}
        assert {
            "export.practice.start",
            "export.practice.build",
            "export.practice.download",
            "export.practice.delete",
        } <= actions
    r = client.get(f"{status_url}/download")
    assert r.status_code == 303
