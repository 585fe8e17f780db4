"""Demo: the default massage note template, ICD-10 favourites, and for the demo client a
signed note (with an addendum) and an unsigned draft.

Each note is told at its own time (clock.told), relative to its visit: written just after
the visit, signed the same day; never before the visit, never after now.
- The signed note is of the client's paid visit of last week (scheduling's, the package
  credit's: billing), the one the client's superbill lists, so its diagnoses are on it; the
  client phoned two days later (the addendum).
- The draft is of the latest other visit that ended over a day ago, so it shows in the
  therapist's unsigned notes; when there is none (loaded on a Tuesday, the demo client's
  only visit behind them is last week's) it is a note of no booked visit, started two days
  ago at 5:30 PM.

Idempotent: the template and favourites are looked up first; the notes are written only
when the demo client has none.
"""

import datetime as dt

from portal import clock
from portal.models import Appointment, AppointmentType, ChartNote
from portal.rules import slots as slot_rules
from portal.services import charting as svc
from portal.services import note_templates

FAVOURITES = ["M54.50", "M54.2", "M54.6", "M62.830", "M79.18", "G44.209", "S13.4XXA"]


def load(ctx):
    practice = ctx["practice"]
    owner = ctx["owner"]
    therapist = ctx["therapist"]
    client = ctx["client"]
    provider = therapist.provider

    template = note_templates.ensure_default_template(practice.id, user=owner)
    ctx["note_template"] = template
    for code in FAVOURITES:
        svc.add_favourite(owner, code)

    if ChartNote.select().where(ChartNote.client == client.id).exists():
        ctx["notes"] = list(ChartNote.select().where(ChartNote.client == client.id))
        return

    now = clock.utcnow()
    visits = list(
        Appointment.select(Appointment, AppointmentType)
        .join(AppointmentType)
        .where(
            (Appointment.client == client.id)
            & (Appointment.provider == provider.id)
            & (Appointment.status == "completed")
        )
        .order_by(Appointment.starts_at)
    )
    # the paid visit of last week: the first self-pay one (signing an insurance visit's
    # note would make its claim)
    paid = next((a for a in visits if not a.appointment_type.bill_insurance), None)
    older = [a for a in visits if a.ends_at < now - svc.UNSIGNED_AFTER - dt.timedelta(minutes=15)]
    drafted = next((a for a in reversed(older) if paid is None or a.id != paid.id), None)
    ctx["notes"] = [
        _signed(ctx, template, paid, now),
        _draft(ctx, template, drafted, now),
    ]


def _after(end, now, minutes):
    """`minutes` after a visit's end, never after now."""
    return min(end + dt.timedelta(minutes=minutes), now)


def _signed(ctx, template, visit, now):
    """The signed note: written 5 minutes after the visit, signed 10 minutes later; the
    client phoned two days later at 11 AM (the addendum)."""
    practice, therapist, client = ctx["practice"], ctx["therapist"], ctx["client"]
    end = visit.ends_at if visit else now - dt.timedelta(days=9)
    day = clock.local_date(end, practice.tz)
    with clock.told(_after(end, now, 5)):
        note = svc.save_note(
            therapist, client, _first_note(therapist.provider, template, day, visit)
        )
    with clock.told(_after(end, now, 15)) as signed_at:
        svc.sign_note(therapist, note)
    phoned = dt.datetime.combine(day + dt.timedelta(days=2), dt.time(11, 0))
    with clock.told(max(min(slot_rules.to_utc(phoned, practice.tz), now), signed_at)):
        svc.add_addendum(
            therapist,
            note,
            "Client phoned two days later: pain 2/10, sleeping through the night. "
            "Keep the weekly plan.",
        )
    return note


def _draft(ctx, template, visit, now):
    """The unsigned draft, started 10 minutes after its visit (without one, at 5:30 PM two
    days ago: over a day ago whatever the hour)."""
    practice, therapist, client = ctx["practice"], ctx["therapist"], ctx["client"]
    if visit is not None:
        started = _after(visit.ends_at, now, 10)
    else:
        day = clock.today(practice.tz) - dt.timedelta(days=2)
        started = slot_rules.to_utc(dt.datetime.combine(day, dt.time(17, 30)), practice.tz)
    with clock.told(started):
        return svc.save_note(
            therapist,
            client,
            svc.NoteInput(
                visit_date=clock.local_date(visit.starts_at if visit else started, practice.tz),
                provider_id=therapist.provider_id,
                appointment_id=visit.id if visit else None,
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
