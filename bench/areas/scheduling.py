"""Scheduling: 100,000 appointments over 5 years for the 10 bench therapists and 5,000
clients, and a small practice (10 therapists, 1,000 appointments) to compare with.

Figures (in-process):
- slot_search_28d_median: free start times for one provider and a 60-minute type over
  28 days (hours, exceptions, bookings, buffers); target <= 20 ms.
- day_view_1k_median / day_view_100k_median: the owner's day view of all providers on the
  same busy day, in a practice with 1,000 vs 100,000 appointments; the day query uses the
  (provider_id, starts_at) index, so the ratio must stay <= 1.2. Measured with the render
  cache off (every request renders); *_cached_median: the same views served from it.
wrk targets: schedule_day (the therapist's day view, logged in, from the render cache)
>= 0.5 x bare Flask; schedule_day_uncached and schedule_week_uncached (rendered on every
request) >= 0.35.
"""

import datetime as dt

from peewee import chunked, fn

from portal import clock
from portal.models import (
    Appointment,
    AppointmentType,
    AppointmentTypeCode,
    AppointmentTypeProvider,
    BookingPolicy,
    Client,
    Practice,
    Provider,
    ProviderHours,
    User,
)
from portal.rules import slots as slot_rules

ORDER = 30
SEED_VERSION = 1
N_APPOINTMENTS = 100_000
N_SMALL = 1_000
YEARS_BACK, YEARS_AHEAD = 4, 1
SLOT_TARGET_MS = 20.0
DAY_RATIO_MAX = 1.2
MIN_RATIO = 0.5  # the therapist's day view from the render cache
MIN_RATIO_UNCACHED = 0.35  # day and week views rendered on every request
SMALL_NAME = "Bench Small Studio"
SMALL_OWNER = "owner@bench-small.example.com"
# a grid of starts every 75 minutes from 08:00: a 60-minute visit and its 15-minute
# buffer fit, so seeded appointments never overlap per provider
GRID = [8 * 60 + 75 * i for i in range(9)]


def _types(practice, providers):
    out = {}
    for minutes, price in ((30, 5500), (60, 9500), (90, 13000)):
        t = AppointmentType.create(
            practice=practice,
            name=f"{minutes}-minute massage",
            duration_minutes=minutes,
            price_cents=price,
            buffer_after_minutes=15,
        )
        AppointmentTypeCode.create(
            practice=practice, appointment_type=t, cpt_code="97124", minutes=minutes
        )
        AppointmentTypeProvider.insert_many(
            [
                {"practice": practice.id, "appointment_type": t.id, "provider": p.id}
                for p in providers
            ]
        ).execute()
        out[minutes] = t
    rows = [
        {
            "practice": practice.id,
            "provider": p.id,
            "weekday": wd,
            "start_minute": 8 * 60,
            "end_minute": 20 * 60,
        }
        for p in providers
        for wd in range(6)
    ]
    ProviderHours.insert_many(rows).execute()
    BookingPolicy.create(practice=practice, min_lead_minutes=0, max_days_ahead=400)
    return out


def _appointments(rng, practice, providers, clients, types, days, target, now):
    """Rows on a grid per provider and day until `target` rows, spread evenly."""
    tz = practice.tz
    cells = [(d, p, m) for d in days if d.weekday() < 6 for p in providers for m in GRID]
    keep = min(1.0, target / len(cells))
    rows = []
    for d, p, m in cells:
        if len(rows) >= target:
            break
        if rng.random() > keep:
            continue
        minutes = 60 if rng.random() < 0.7 else 30
        t = types[minutes]
        start = slot_rules.to_utc(dt.datetime.combine(d, dt.time()) + dt.timedelta(minutes=m), tz)
        end = start + dt.timedelta(minutes=minutes)
        status = "booked"
        if end < now:
            r = rng.random()
            status = "completed" if r < 0.9 else ("no_show" if r < 0.95 else "cancelled")
        rows.append(
            {
                "practice": practice.id,
                "client": rng.choice(clients),
                "provider": p.id,
                "appointment_type": t.id,
                "starts_at": start,
                "ends_at": end,
                "blocked_until": end + dt.timedelta(minutes=15),
                "status": status,
                "created_at": now,
                "completed_at": end if status == "completed" else None,
            }
        )
    for batch in chunked(rows, 500):
        Appointment.insert_many(batch).execute()
    return len(rows)


def seed(ctx):
    rng = ctx["rng"]
    now = clock.utcnow()
    practice = ctx["practice"]
    providers = ctx["providers"]
    types = _types(practice, providers)
    today = slot_rules.to_local(now, practice.tz).date()
    start = today - dt.timedelta(days=365 * YEARS_BACK)
    days = [start + dt.timedelta(days=i) for i in range(365 * (YEARS_BACK + YEARS_AHEAD) + 1)]
    _appointments(rng, practice, providers, ctx["clients"], types, days, N_APPOINTMENTS, now)

    # The small practice: same shape, 1,000 appointments around the same days.
    small = Practice.create(name=SMALL_NAME, timezone=practice.timezone, city="Portland")
    Provider.insert_many(
        [
            {
                "practice": small.id,
                "first_name": f"Small{n}",
                "last_name": "Therapist",
                "created_at": now,
            }
            for n in range(10)
        ]
    ).execute()
    small_providers = list(Provider.select().where(Provider.practice == small))
    Client.insert_many(
        [
            {"practice": small.id, "first_name": f"C{n}", "last_name": "Small", "created_at": now}
            for n in range(100)
        ]
    ).execute()
    small_clients = [c.id for c in Client.select(Client.id).where(Client.practice == small)]
    User.create(
        practice=small,
        email=SMALL_OWNER,
        name="Small Owner",
        role="owner",
        password_hash=ctx["password_hash"],
    )
    small_types = _types(small, small_providers)
    around = [today + dt.timedelta(days=i) for i in range(-9, 10)]
    _appointments(rng, small, small_providers, small_clients, small_types, around, N_SMALL, now)


def attach(ctx):
    small = Practice.get(Practice.name == SMALL_NAME)
    ctx["small_practice"] = small
    # the busiest day of the small practice: both practices are dense there (the earliest
    # of equals, so SQLite and PostgreSQL pick alike)
    row = (
        Appointment.select(fn.date(Appointment.starts_at).alias("d"), fn.COUNT(Appointment.id))
        .where(Appointment.practice == small)
        .group_by(fn.date(Appointment.starts_at))
        .order_by(fn.COUNT(Appointment.id).desc(), fn.date(Appointment.starts_at))
        .tuples()
        .first()
    )
    day = dt.date.fromisoformat(str(row[0])[:10])
    ctx["schedule_day"] = day
    ctx["t60"] = AppointmentType.get(
        (AppointmentType.practice == ctx["practice"]) & (AppointmentType.duration_minutes == 60)
    )


def wrk_targets(ctx):
    day = ctx["schedule_day"].isoformat()
    path = f"/provider/schedule/?date={day}"
    email = ctx["therapist_email"]
    uncached = {"min_ratio": MIN_RATIO_UNCACHED}
    return [
        ("schedule_day", path, email, {"min_ratio": MIN_RATIO, "page_cache": True}),
        ("schedule_day_uncached", path, email, uncached),
        ("schedule_week_uncached", f"/provider/schedule/?date={day}&view=week", email, uncached),
    ]


def figures(ctx):
    from portal.services import scheduling as svc

    practice = ctx["practice"]
    provider = ctx["providers"][0]
    t60 = ctx["t60"]
    first = ctx["schedule_day"]
    last = first + dt.timedelta(days=27)
    counts = {}

    def search():
        counts["slots"] = len(
            svc.free_slots(provider, t60, first, last, practice=practice, for_client=True)
        )

    out = [("slot_search_28d_median", ctx["median_ms"](search, n=50), "ms")]
    out.append(("slot_search_28d_slots", counts["slots"], "slots"))

    path = f"/provider/schedule/?date={first.isoformat()}&provider=all"
    big = ctx["login_client"](ctx["owner_email"])
    small = ctx["login_client"](SMALL_OWNER)
    shown = {}

    def view(client, key):
        def go():
            resp = client.get(path)
            assert resp.status_code == 200, resp.status_code
            shown[key] = resp.get_data(as_text=True).count('class="appt ')

        return go

    # alternate to spread any machine noise over both
    t_small, t_big = [], []
    for _ in range(5):
        t_small.append(ctx["median_ms"](view(small, "small"), n=10, warmup=1))
        t_big.append(ctx["median_ms"](view(big, "big"), n=10, warmup=1))
    m_small, m_big = sorted(t_small)[2], sorted(t_big)[2]
    # The same views rendered every time (the render cache switched off around them); the
    # figures just above were served from the cache after their first request.
    app = ctx["app"]
    was = app.config.get("PAGE_CACHE", True)
    app.config["PAGE_CACHE"] = False
    try:
        u_small, u_big = [], []
        for _ in range(5):
            u_small.append(ctx["median_ms"](view(small, "small"), n=10, warmup=1))
            u_big.append(ctx["median_ms"](view(big, "big"), n=10, warmup=1))
    finally:
        app.config["PAGE_CACHE"] = was
    um_small, um_big = sorted(u_small)[2], sorted(u_big)[2]
    # The target compares rendered views (the "day-view time" with 1,000 vs 100,000
    # appointments): the cached figures say nothing about how the day query scales.
    out += [
        ("day_view_1k_median", um_small, "ms"),
        ("day_view_100k_median", um_big, "ms"),
        ("day_view_100k_vs_1k_ratio", um_big / um_small if um_small else None, "x"),
        ("day_view_1k_cached_median", m_small, "ms"),
        ("day_view_100k_cached_median", m_big, "ms"),
        ("day_view_appointments_shown_1k", shown.get("small"), "appointments"),
        ("day_view_appointments_shown_100k", shown.get("big"), "appointments"),
        (
            "appointments_seeded",
            Appointment.select().where(Appointment.practice == practice).count(),
            "rows",
        ),
    ]
    return out


def checks(ctx, values):
    out = []
    s = values.get("slot_search_28d_median")
    if s is not None:
        out.append((f"slot_search_28d_median <= {SLOT_TARGET_MS} ms", s <= SLOT_TARGET_MS))
    r = values.get("day_view_100k_vs_1k_ratio")
    if r is not None:
        out.append((f"day_view_100k_vs_1k_ratio <= {DAY_RATIO_MAX}", r <= DAY_RATIO_MAX))
    return out
