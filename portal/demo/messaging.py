"""Demo: two conversations of the demo client (one answered by the therapist, one waiting
for the front desk) and two quick replies. Idempotent."""

from portal.models import Appointment
from portal.models.messaging import MessageSnippet, MessageThread
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
    visit = (
        Appointment.select()
        .where(Appointment.client == client.id)
        .order_by(Appointment.starts_at.desc())
        .first()
    )
    link = (KINDS["appointment"], visit) if visit is not None else None
    t = msg.start_thread(
        client,
        ctx["client_user"],
        "Pressure on my left shoulder",
        "Hi Maya, the deep work on my left shoulder helped. Can we keep the same pressure?",
        msg.TO_THERAPIST,
        link=link,
    )
    msg.send_message(
        t,
        ctx["therapist"],
        "Glad it helped! I'll note it for next time. Keep up the doorway stretch.",
    )
    msg.start_thread(
        client,
        ctx["client_user"],
        "Receipt for my HSA",
        "Could you send me a receipt for last month's visit? My HSA asks for the CPT code.",
        msg.TO_FRONT_DESK,
    )
