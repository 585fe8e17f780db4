"""Demo: appointment types (30/60/90-minute massage), hours for both providers, two rooms,
a booking policy, and a week of appointments around today. Idempotent."""

import datetime as dt

from portal import clock
from portal.demo.foundation import opened
from portal.models import (
    Appointment,
    AppointmentMinutes,
    AppointmentType,
    AppointmentTypeCode,
    AppointmentTypeProvider,
    BookingPolicy,
    Client,
    ProviderHours,
    Room,
)
from portal.rules import slots as slot_rules

TYPES = [
    # name, minutes, price, colour, buffer, codes, insurance
    ("30-minute massage", 30, 5500, "#2f6f8f", 10, [("97124", 30)], False),
    ("60-minute massage", 60, 9500, "#4a7c59", 15, [("97124", 60)], False),
    ("90-minute massage", 90, 13000, "#8a5a9e", 15, [("97124", 60), ("97140", 30)], False),
    (
        "Therapeutic massage (insurance)",
        60,
        11000,
        "#b5651d",
        15,
        [("97124", 60)],  # Regence, the demo's insurer, takes 97124 and 97140 not on one date
        True,
    ),
]
OTHER_CLIENTS = [
    ("Priya", "Natarajan"),
    ("Marcus", "Bell"),
    ("Elena", "Kowalski"),
    ("Tom", "Okoro"),
    ("Grace", "Lindgren"),
]


def load(ctx):
    practice = ctx["practice"]
    providers = ctx["providers"]
    with clock.told(opened(practice)):  # the practice's set-up, before its first visit
        types = ctx["appointment_types"] = _types(practice, providers)
        _hours(practice, providers)
        rooms = ctx["rooms"] = _rooms(practice)
        _booking_policy(practice)
        clients = _clients(practice, providers, ctx["client"])
    if Appointment.select().where(Appointment.practice == practice).exists():
        return
    _last_weeks_visit(practice, providers, types, rooms, clients[0])
    _appointments(practice, providers, types, rooms, clients)


def _types(practice, providers):
    """{minutes or "ins": AppointmentType}: the practice's appointment types."""
    types = {}
    for name, minutes, price, color, buffer, codes, insurance in TYPES:
        t = AppointmentType.get_or_none(
            (AppointmentType.practice == practice) & (AppointmentType.name == name)
        )
        if t is None:
            t = AppointmentType.create(
                practice=practice,
                name=name,
                duration_minutes=minutes,
                price_cents=price,
                color=color,
                buffer_after_minutes=buffer,
                bill_insurance=insurance,
                online_bookable=not insurance,
            )
            for code, m in codes:
                AppointmentTypeCode.create(
                    practice=practice, appointment_type=t, cpt_code=code, minutes=m
                )
            for p in providers:
                AppointmentTypeProvider.create(practice=practice, appointment_type=t, provider=p)
        types[minutes if not insurance else "ins"] = t
    return types


def _hours(practice, providers):
    """Weekly hours: the first provider Monday to Friday with a lunch break, the second
    Tuesday to Saturday."""
    hours = {
        0: [(0, 540, 720), (0, 780, 1020)],
        1: [(1, 600, 1080)],
    }
    for i, p in enumerate(providers):
        if not ProviderHours.select().where(ProviderHours.provider == p).exists():
            days = range(0, 5) if i == 0 else range(1, 6)
            for wd in days:
                for _, s, e in hours[i % 2]:
                    ProviderHours.create(
                        practice=practice, provider=p, weekday=wd, start_minute=s, end_minute=e
                    )


def _rooms(practice):
    rooms = []
    for name in ("Cedar room", "Willow room"):
        r = Room.get_or_none((Room.practice == practice) & (Room.name == name))
        rooms.append(r or Room.create(practice=practice, name=name))
    return rooms


def _booking_policy(practice):
    if not BookingPolicy.select().where(BookingPolicy.practice == practice).exists():
        BookingPolicy.create(
            practice=practice,
            min_lead_minutes=120,
            max_days_ahead=60,
            cancellation_window_hours=24,
            late_cancel_fee_cents=4000,
            no_show_fee_cents=9500,
        )


def _appointments(practice, providers, types, rooms, clients):
    """Eight days of visits around today: completed ones (with their minutes) before now,
    one checked in when it is under way, booked ones after."""
    tz = practice.tz
    now = clock.utcnow()
    today = clock.today(tz)
    plan = [
        # provider index, local hour, minute, type key, client index
        (0, 9, 0, 60, 0),
        (0, 10, 30, 30, 1),
        (0, 13, 0, 90, 2),
        (0, 15, 0, "ins", 0),  # Jordan: a verified Regence policy (clinical_a)
        (1, 10, 0, 60, 4),
        (1, 12, 0, 90, 5),
        (1, 15, 30, 60, 1),
    ]
    for offset in range(-3, 5):
        day = today + dt.timedelta(days=offset)
        for n, (pi, hour, minute, key, ci) in enumerate(plan):
            if (offset + n) % 3 == 2 and offset != 0:
                continue  # leave gaps on other days
            works = range(0, 5) if pi == 0 else range(1, 6)
            if day.weekday() not in works:
                continue
            t = types[key]
            start = slot_rules.to_utc(dt.datetime.combine(day, dt.time(hour, minute)), tz)
            client = clients[ci if offset != 1 else 0] if n == 0 else clients[ci]
            _visit(practice, providers[pi], t, rooms[pi % len(rooms)], client, start, now)


def _last_weeks_visit(practice, providers, types, rooms, client):
    """The demo client's 60-minute visit on a working day before the eight days above
    (always completed, whatever the weekday and hour the demo is loaded): a paid visit
    for the client's superbill and receipts."""
    day = clock.today(practice.tz) - dt.timedelta(days=4)
    while day.weekday() > 4:  # the first provider works Monday to Friday
        day -= dt.timedelta(days=1)
    start = slot_rules.to_utc(dt.datetime.combine(day, dt.time(9, 0)), practice.tz)
    _visit(practice, providers[0], types[60], rooms[0], client, start, clock.utcnow())


def _visit(practice, provider, t, room, client, start, now):
    """One visit: completed (with its minutes) when it ended before now, checked in when it
    is under way, booked after."""
    end = start + dt.timedelta(minutes=t.duration_minutes)
    status = "booked"
    if end < now:
        status = "completed"
    elif start <= now:
        status = "checked_in"
    appt = Appointment.create(
        practice=practice,
        client=client,
        provider=provider,
        appointment_type=t,
        room=room,
        starts_at=start,
        ends_at=end,
        blocked_until=end + dt.timedelta(minutes=t.buffer_after_minutes),
        status=status,
        checked_in_at=start if status != "booked" else None,
        completed_at=end if status == "completed" else None,
    )
    if status == "completed":
        for code in AppointmentTypeCode.select().where(AppointmentTypeCode.appointment_type == t):
            AppointmentMinutes.create(
                practice=practice,
                client=client,
                appointment=appt,
                cpt_code=code.cpt_code,
                minutes=code.minutes,
            )


def _clients(practice, providers, first_client):
    """The demo client first, then the other clients (each person once)."""
    clients = [first_client]
    for first, last in OTHER_CLIENTS:
        email = f"{first.lower()}.{last.lower()}@demo.example"
        # the person clinical_a already added (Priya Natarajan, Marcus Bell) is the same
        # person: never a second record of them
        c = (
            Client.select()
            .where(
                (Client.practice == practice)
                & (Client.first_name == first)
                & (Client.last_name == last)
                & (Client.active == True)  # noqa: E712
            )
            .order_by(Client.id)
            .first()
        )
        if c is None:
            c = Client.create(
                practice=practice,
                first_name=first,
                last_name=last,
                email=email,
                date_of_birth=dt.date(1970 + len(first) * 3, 1 + len(last) % 12, 10),
                therapist=providers[len(clients) % len(providers)],
            )
        clients.append(c)
    return clients
