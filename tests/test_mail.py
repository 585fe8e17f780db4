"""E-mail: the outbox always, SMTP when configured, sent only after the transaction commits
(never while holding the database's write lock, never for a rolled-back write)."""

import socketserver
import sqlite3
import threading

import pytest

from portal import mail
from portal.db import database
from portal.models import OutboxMessage
from tests.conftest import login, make_app


class SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: records each message and checks the database lock."""

    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        server = self.server
        self.reply("220 test ESMTP")
        while True:
            line = self.rfile.readline().decode().strip()
            if not line:
                return
            verb = line.split()[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 test")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                data = []
                while (chunk := self.rfile.readline().decode()) not in (".\r\n", ""):
                    data.append(chunk)
                server.messages.append("".join(data))
                server.db_free.append(_db_is_free(server.db_path))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 no")


def _db_is_free(path):
    """Can another connection start a write right now, without waiting?"""
    con = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        con.close()


@pytest.fixture
def smtp(tmp_path):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SMTPHandler)
    server.daemon_threads = True
    server.messages, server.db_free = [], []
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_app(tmp_path, smtp):
    app = make_app(
        tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.server_address[1], MAIL_USE_TLS=False
    )
    smtp.db_path = app.config["DATABASE"]
    database.connect(reuse_if_open=True)
    yield app
    database.close()


def test_invitation_is_sent_after_the_commit(smtp_app, smtp):
    from tests import factories

    with smtp_app.test_request_context():
        owner = factories.user(factories.practice(), "owner")
    database.close()  # the test holds no connection: the lock check sees only the app
    c = smtp_app.test_client()
    login(c, owner)
    r = c.post(
        "/provider/settings/staff",
        data={"name": "Desk", "email": "desk@example.com", "role": "frontdesk", "provider": "0"},
    )
    assert r.status_code == 302
    assert len(smtp.messages) == 1 and "/account/set-password/" in smtp.messages[0]
    assert smtp.db_free == [True]  # the write lock was released before talking to SMTP
    msg = OutboxMessage.get(OutboxMessage.to_addr == "desk@example.com")
    assert msg.sent_at is not None and msg.error == ""


def test_nothing_is_sent_for_a_rolled_back_write(smtp_app, smtp):
    with smtp_app.test_request_context():
        with pytest.raises(RuntimeError):
            with database.atomic("IMMEDIATE"):
                mail.queue("x@example.com", "Hello", "Body")
                raise RuntimeError("the write fails after queueing")
        assert mail.flush() == 0
        # Outside a transaction, a message goes at once.
        mail.queue("y@example.com", "Hello", "Body")
    assert len(smtp.messages) == 1 and "y@example.com" in smtp.messages[0]
    assert not OutboxMessage.select().where(OutboxMessage.to_addr == "x@example.com").exists()


def test_cli_create_owner_sends_its_link(smtp_app, smtp):
    r = smtp_app.test_cli_runner().invoke(
        args=["create-owner", "--practice", "P", "--email", "own@example.com"]
    )
    assert r.exit_code == 0, r.output
    assert len(smtp.messages) == 1 and smtp.db_free == [True]


def test_failed_delivery_is_recorded_and_retried(tmp_path, smtp):
    app = make_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_USE_TLS=False)
    smtp.db_path = app.config["DATABASE"]
    try:
        with app.test_request_context():
            msg = mail.queue("z@example.com", "Hello", "Body")
        msg = OutboxMessage.get_by_id(msg.id)
        assert msg.sent_at is None and msg.error  # e.g. ConnectionRefusedError
        app.config["MAIL_PORT"] = smtp.server_address[1]
        r = app.test_cli_runner().invoke(args=["mail-retry"])
        assert r.exit_code == 0 and "Sent 1 message(s)." in r.output
        assert OutboxMessage.get_by_id(msg.id).sent_at is not None
        assert len(smtp.messages) == 1
    finally:
        database.close()


def test_without_smtp_mail_waits_in_the_outbox(client, world):
    login(client, world.a.owner)
    client.post(
        "/provider/settings/staff",
        data={"name": "Desk", "email": "desk@example.com", "role": "frontdesk", "provider": "0"},
    )
    msg = OutboxMessage.get(OutboxMessage.to_addr == "desk@example.com")
    assert msg.sent_at is None and msg.error == ""
    assert "desk@example.com" in client.get("/provider/settings/outbox").get_data(as_text=True)


def test_the_forgot_page_does_not_wait_for_the_mail_server(tmp_path, smtp):
    """ "Forgot your password?" answers alike for known and unknown addresses; a reply that
    waited for the SMTP server only when the address has an account would tell by its time
    that it has one. The reset e-mail is stored, and sent by the task consumer."""
    from tests import factories

    app = make_app(
        tmp_path,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp.server_address[1],
        MAIL_USE_TLS=False,
        TASKS_IMMEDIATE=False,
    )
    smtp.db_path = app.config["DATABASE"]
    try:
        with app.test_request_context():
            user = factories.user(factories.practice(), "therapist")
        c = app.test_client()
        r = c.post("/login/forgot", data={"email": user.email})
        assert r.status_code == 302
        assert smtp.messages == []  # the reply did not wait for the mail server
        msg = OutboxMessage.get(OutboxMessage.kind == "reset")
        assert msg.sent_at is None and msg.error == ""
        huey = app.extensions["huey"]
        assert huey.pending_count() == 1
        huey.execute(huey.dequeue())  # what the consumer does
        assert len(smtp.messages) == 1 and "/account/set-password/" in smtp.messages[0]
        assert OutboxMessage.get_by_id(msg.id).sent_at is not None
        # An unknown address: the same reply, nothing stored, nothing queued.
        r = c.post("/login/forgot", data={"email": "nobody@example.com"})
        assert r.status_code == 302 and huey.pending_count() == 0
    finally:
        database.close()
