"""`flask send-reminders`: queues each reminder once."""

import datetime as dt

from portal.models import OutboxMessage
from portal.services import scheduling as svc
from tests.scheduling.conftest import local_utc


def test_send_reminders_command_is_idempotent(app, sched, now):
    a = sched.a
    with app.test_request_context():
        appt = svc.book(
            practice=a.practice,
            client=a.c1,
            appt_type=a.t60,
            provider=a.provider,
            starts_at=local_utc(dt.date(2026, 6, 2), 10),
        )
    now["now"] = appt.starts_at - dt.timedelta(hours=20)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "Reminders queued: 1" in result.output
    result = runner.invoke(args=["send-reminders", "--hours", "48"])
    assert "Reminders queued: 0" in result.output
    msgs = OutboxMessage.select().where(OutboxMessage.kind == "appointment.reminder")
    assert msgs.count() == 1
    body = msgs.get().body
    assert "Tuesday 02 June 2026 at 10:00 AM" in body and a.c1.last_name not in body
