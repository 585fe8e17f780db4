"""Demo: the default massage note template, ICD-10 favourites, and for the demo client a
signed note (with an addendum) and a draft started two days ago (so it shows as unsigned).

Idempotent: the template and favourites are looked up first; the notes are written only
when the demo client has none.
"""

import datetime as dt

from portal import clock
from portal.models import Appointment, ChartNote
from portal.services import charting as svc

FAVOURITES = ["M54.50", "M54.2", "M54.6", "M62.830", "M79.18", "G44.209", "S13.4XXA"]


def load(ctx):
    practice = ctx["practice"]
    owner = ctx["owner"]
    therapist = ctx["therapist"]
    client = ctx["client"]
    provider = therapist.provider

    template = svc.ensure_default_template(practice.id, user=owner)
    ctx["note_template"] = template
    for code in FAVOURITES:
        svc.add_favourite(owner, code)

    if ChartNote.select().where(ChartNote.client == client.id).exists():
        ctx["notes"] = list(ChartNote.select().where(ChartNote.client == client.id))
        return

    now = clock.utcnow()
    past = list(
        Appointment.select()
        .where(
            (Appointment.client == client.id)
            & (Appointment.provider == provider.id)
            & (Appointment.status == "completed")
        )
        .order_by(Appointment.starts_at.desc())
        .limit(2)
    )
    first_appt = past[-1] if past else None
    second_appt = past[0] if len(past) > 1 else None

    def local_day(appt, days_ago):
        at = appt.starts_at if appt else now - dt.timedelta(days=days_ago)
        return clock.local_date(at, practice.tz)

    first_day = local_day(first_appt, 9)
    second_day = local_day(second_appt, 2)

    signed = svc.save_note(
        therapist, client, _first_note(provider, template, first_day, first_appt)
    )
    svc.sign_note(therapist, signed)
    svc.add_addendum(
        therapist,
        signed,
        "Client phoned two days later: pain 2/10, sleeping through the night. "
        "Keep the weekly plan.",
    )

    draft = svc.save_note(
        therapist,
        client,
        svc.NoteInput(
            visit_date=second_day,
            provider_id=provider.id,
            appointment_id=second_appt.id if second_appt else None,
            template_id=template.id,
            subjective="Chief complaint: neck and upper back tension from desk work.",
            objective="Palpation: tight upper trapezius, bilateral; levator scapulae tender.",
            pain_before=5,
            techniques="Swedish massage",
            regions=["neck", "upper-back", "shoulder-r", "shoulder-l"],
            minutes={"97124": 45},
            diagnoses=["M54.2"],
        ),
    )
    # Started two days ago: it shows in the therapist's unsigned notes.
    ChartNote.update(created_at=now - dt.timedelta(days=2)).where(
        ChartNote.id == draft.id
    ).execute()
    ctx["notes"] = [signed, draft]


def _first_note(provider, template, day, appt):
    """The signed demo note: a low back visit written with the default template."""
    return svc.NoteInput(
        visit_date=day,
        provider_id=provider.id,
        appointment_id=appt.id if appt else None,
        template_id=template.id,
        subjective=(
            "Chief complaint: low back pain and stiffness after a weekend of gardening.\n"
            "Location and quality of pain or tension: dull ache across the lumbar area, "
            "worse on the left.\n"
            "Effect on sleep, work and daily activities: trouble getting out of bed; "
            "sitting at work over 30 minutes hurts.\n"
            "Client's goal for today: bend to tie shoes without pain."
        ),
        objective=(
            "Posture and gait: slight antalgic lean to the right.\n"
            "Palpation: hypertonic lumbar erectors, active trigger point in left "
            "quadratus lumborum, tender left gluteus medius.\n"
            "Range of motion: lumbar flexion limited to about 60%.\n"
            "Pressure used and client's response: moderate, well tolerated."
        ),
        assessment=(
            "Response to treatment: tension reduced in lumbar erectors and left QL.\n"
            "Functional change: forward bend to mid-shin without pain after treatment."
        ),
        plan=(
            "Frequency and duration: once a week for 4 weeks.\n"
            "Home care: heat 15 minutes twice a day; knee-to-chest and cat-cow stretches.\n"
            "Focus for the next session: left QL and gluteals."
        ),
        pain_before=6,
        pain_after=3,
        techniques="Deep tissue\nTrigger point therapy\nMyofascial release",
        regions=["low-back", "mid-back", "glute-l", "glute-r"],
        minutes={"97124": 30, "97140": 23},
        diagnoses=["M54.50", "M62.830"],
    )
