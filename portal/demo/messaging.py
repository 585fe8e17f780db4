"""Demo: two conversations of the demo client (one answered by the therapist, one waiting
for the front desk) and two quick replies.

The conversations are told over days (clock.told): the client writes the morning after a
visit and the therapist answers at lunch; the receipt request came in yesterday evening
and waits. Never after now. Idempotent.
"""

import datetime as dt

from portal import clock
from portal.models import Appointment
from portal.models.messaging import MessageSnippet, MessageThread
from portal.rules import slots as slot_rules
from portal.services.messaging import snippets
from portal.services.messaging import threads as msg
from portal.services.messaging.links import KINDS


def load(ctx):
    practice = ctx["practice"]
    client = ctx["client"]
    if not MessageSnippet.select().where(MessageSnippet.practice == practice).exists():
        snippets.add(
            ctx["frontdesk"],
            "Parking",
            "Park in the lot behind the building; the entrance is the green door.",
        )
        snippets.add(
            ctx["frontdesk"],
            "Cancellation policy",
            "You can cancel or move a visit free of charge up to 24 hours before it.",
        )
    if MessageThread.select().where(MessageThread.client == client.id).exists():
        return
    now = clock.utcnow()
    visit, wrote, answered = _after_a_visit(practice, client, now)
    with clock.told(wrote):
        t = msg.start_thread(
            client,
            ctx["client_user"],
            "Pressure on my left shoulder",
            "Hi Maya, the deep work on my left shoulder helped. Can we keep the same pressure?",
            msg.TO_THERAPIST,
            link=(KINDS["appointment"], visit) if visit is not None else None,
        )
    with clock.told(answered):
        msg.send_message(
            t,
            ctx["therapist"],
            "Glad it helped! I'll note it for next time. Keep up the doorway stretch.",
        )
    with clock.told(min(_local(practice, clock.today(practice.tz), -1, 19, 30), now)):
        msg.start_thread(
            client,
            ctx["client_user"],
            "Receipt for my HSA",
            "Could you send me a receipt for last month's visit? My HSA asks for the CPT code.",
            msg.TO_FRONT_DESK,
        )


def _local(practice, day, days, hour, minute):
    """`days` after `day` at this local time, as stored (UTC)."""
    local = dt.datetime.combine(day + dt.timedelta(days=days), dt.time(hour, minute))
    return slot_rules.to_utc(local, practice.tz)


def _after_a_visit(practice, client, now):
    """(visit, the client's message, the therapist's answer): the latest completed visit of
    the client's whose next day's lunch is behind us; the client writes at 8:15 that next
    morning, the answer comes at 12:40. Without one: three days ago and that afternoon."""
    for visit in (
        Appointment.select()
        .where((Appointment.client == client.id) & (Appointment.status == "completed"))
        .order_by(Appointment.starts_at.desc())
    ):
        day = clock.local_date(visit.starts_at, practice.tz)
        answered = _local(practice, day, 1, 12, 40)
        if answered <= now:
            return visit, _local(practice, day, 1, 8, 15), answered
    wrote = now - dt.timedelta(days=3)
    return None, wrote, wrote + dt.timedelta(hours=4)
