"""Scheduling: appointment types (+ default CPT minutes, providers), weekly hours,
exceptions, rooms, booking policy, appointments, minutes per CPT code, calendar feeds.

Frozen as SQL: a migration never imports portal.models. Depends only on 0001's tables.
Double-booking is refused here too: triggers abort an INSERT/UPDATE that makes an
active appointment overlap another one of the same provider (or the same room),
buffers included (blocked_until = ends_at + buffer). On PostgreSQL, exclusion
constraints refuse it instead (see PG below).
"""

from portal import ddl

ACTIVE = "NEW.status NOT IN ('cancelled', 'late_cancelled')"


def _overlap(column, exclude_self):
    self_clause = "AND a.id != NEW.id" if exclude_self else ""
    return f"""
        SELECT RAISE(ABORT, 'appointment overlaps another appointment ({column})')
        WHERE EXISTS (
            SELECT 1 FROM appointment a
            WHERE a.{column} = NEW.{column} {self_clause}
              AND a.status NOT IN ('cancelled', 'late_cancelled')
              AND a.starts_at > datetime(NEW.starts_at, '-1 day')
              AND a.starts_at < NEW.blocked_until
              AND a.blocked_until > NEW.starts_at
        );"""


LENGTH_GUARD = """
        SELECT RAISE(ABORT, 'appointment longer than a day')
        WHERE NEW.blocked_until > datetime(NEW.starts_at, '+1 day');"""

TABLES = [
    """CREATE TABLE appointment_type (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        name VARCHAR(255) NOT NULL,
        description VARCHAR(255) NOT NULL DEFAULT '',
        duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0 AND duration_minutes <= 720),
        price_cents INTEGER NOT NULL DEFAULT 0 CHECK (price_cents >= 0),
        color VARCHAR(255) NOT NULL DEFAULT '#4a7c59',
        buffer_after_minutes INTEGER NOT NULL DEFAULT 0
            CHECK (buffer_after_minutes >= 0 AND buffer_after_minutes <= 240),
        online_bookable INTEGER NOT NULL DEFAULT 1,
        bill_insurance INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX appointment_type_practice_id ON appointment_type (practice_id)",
    """CREATE TABLE appointment_type_code (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        appointment_type_id INTEGER NOT NULL REFERENCES appointment_type (id) ON DELETE CASCADE,
        cpt_code VARCHAR(255) NOT NULL,
        minutes INTEGER NOT NULL CHECK (minutes > 0)
    )""",
    """CREATE UNIQUE INDEX appointment_type_code_type_code
        ON appointment_type_code (appointment_type_id, cpt_code)""",
    "CREATE INDEX appointment_type_code_practice_id ON appointment_type_code (practice_id)",
    """CREATE TABLE appointment_type_provider (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        appointment_type_id INTEGER NOT NULL REFERENCES appointment_type (id) ON DELETE CASCADE,
        provider_id INTEGER NOT NULL REFERENCES provider (id) ON DELETE CASCADE
    )""",
    """CREATE UNIQUE INDEX appointment_type_provider_type_provider
        ON appointment_type_provider (appointment_type_id, provider_id)""",
    "CREATE INDEX appointment_type_provider_provider ON appointment_type_provider (provider_id)",
    """CREATE TABLE provider_hours (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        provider_id INTEGER NOT NULL REFERENCES provider (id) ON DELETE CASCADE,
        weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
        start_minute INTEGER NOT NULL CHECK (start_minute >= 0),
        end_minute INTEGER NOT NULL CHECK (end_minute <= 1440),
        CHECK (end_minute > start_minute)
    )""",
    "CREATE INDEX provider_hours_provider ON provider_hours (provider_id, weekday)",
    "CREATE INDEX provider_hours_practice_id ON provider_hours (practice_id)",
    """CREATE TABLE availability_exception (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        provider_id INTEGER NOT NULL REFERENCES provider (id) ON DELETE CASCADE,
        on_date DATE NOT NULL,
        kind VARCHAR(255) NOT NULL DEFAULT 'off' CHECK (kind IN ('off', 'extra')),
        start_minute INTEGER CHECK (start_minute IS NULL OR start_minute >= 0),
        end_minute INTEGER CHECK (end_minute IS NULL OR end_minute <= 1440),
        note VARCHAR(255) NOT NULL DEFAULT '',
        CHECK ((start_minute IS NULL AND end_minute IS NULL AND kind = 'off')
               OR (start_minute IS NOT NULL AND end_minute IS NOT NULL
                   AND end_minute > start_minute))
    )""",
    "CREATE INDEX availability_exception_provider ON availability_exception (provider_id, on_date)",
    "CREATE INDEX availability_exception_practice_id ON availability_exception (practice_id)",
    """CREATE TABLE room (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        name VARCHAR(255) NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX room_practice_id ON room (practice_id)",
    """CREATE TABLE booking_policy (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL UNIQUE REFERENCES practice (id) ON DELETE CASCADE,
        min_lead_minutes INTEGER NOT NULL DEFAULT 120 CHECK (min_lead_minutes >= 0),
        max_days_ahead INTEGER NOT NULL DEFAULT 60 CHECK (max_days_ahead >= 1),
        cancellation_window_hours INTEGER NOT NULL DEFAULT 24
            CHECK (cancellation_window_hours >= 0),
        late_cancel_fee_cents INTEGER NOT NULL DEFAULT 0 CHECK (late_cancel_fee_cents >= 0),
        no_show_fee_cents INTEGER NOT NULL DEFAULT 0 CHECK (no_show_fee_cents >= 0),
        slot_step_minutes INTEGER NOT NULL DEFAULT 15
            CHECK (slot_step_minutes >= 5 AND slot_step_minutes <= 120),
        reminder_hours INTEGER NOT NULL DEFAULT 24 CHECK (reminder_hours >= 1),
        online_booking_enabled INTEGER NOT NULL DEFAULT 1
    )""",
    """CREATE TABLE appointment (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        provider_id INTEGER NOT NULL REFERENCES provider (id) ON DELETE RESTRICT,
        appointment_type_id INTEGER NOT NULL REFERENCES appointment_type (id) ON DELETE RESTRICT,
        room_id INTEGER REFERENCES room (id) ON DELETE SET NULL,
        starts_at DATETIME NOT NULL,
        ends_at DATETIME NOT NULL,
        blocked_until DATETIME NOT NULL,
        status VARCHAR(255) NOT NULL DEFAULT 'booked' CHECK (status IN
            ('booked', 'checked_in', 'completed', 'cancelled', 'late_cancelled', 'no_show')),
        fee_due_cents INTEGER NOT NULL DEFAULT 0 CHECK (fee_due_cents >= 0),
        notes TEXT NOT NULL DEFAULT '',
        series_id VARCHAR(255),
        booked_online INTEGER NOT NULL DEFAULT 0,
        booked_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL,
        cancelled_at DATETIME,
        checked_in_at DATETIME,
        completed_at DATETIME,
        CHECK (ends_at > starts_at),
        CHECK (blocked_until >= ends_at)
    )""",
    "CREATE INDEX appointment_provider_starts ON appointment (provider_id, starts_at)",
    "CREATE INDEX appointment_practice_starts ON appointment (practice_id, starts_at)",
    "CREATE INDEX appointment_client_starts ON appointment (client_id, starts_at)",
    "CREATE INDEX appointment_room_starts ON appointment (room_id, starts_at)",
    "CREATE INDEX appointment_series ON appointment (series_id)",
    "CREATE INDEX appointment_type_id ON appointment (appointment_type_id)",
    "CREATE INDEX appointment_booked_by ON appointment (booked_by_id)",
    f"""CREATE TRIGGER appointment_no_overlap_insert BEFORE INSERT ON appointment
        WHEN {ACTIVE}
        BEGIN {LENGTH_GUARD} {_overlap("provider_id", False)} END""",
    f"""CREATE TRIGGER appointment_no_overlap_update
        BEFORE UPDATE OF starts_at, ends_at, blocked_until, provider_id, status ON appointment
        WHEN {ACTIVE}
        BEGIN {LENGTH_GUARD} {_overlap("provider_id", True)} END""",
    f"""CREATE TRIGGER appointment_room_no_overlap_insert BEFORE INSERT ON appointment
        WHEN {ACTIVE} AND NEW.room_id IS NOT NULL
        BEGIN {_overlap("room_id", False)} END""",
    f"""CREATE TRIGGER appointment_room_no_overlap_update
        BEFORE UPDATE OF starts_at, ends_at, blocked_until, room_id, status ON appointment
        WHEN {ACTIVE} AND NEW.room_id IS NOT NULL
        BEGIN {_overlap("room_id", True)} END""",
    """CREATE TABLE appointment_minutes (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        appointment_id INTEGER NOT NULL REFERENCES appointment (id) ON DELETE CASCADE,
        cpt_code VARCHAR(255) NOT NULL,
        minutes INTEGER NOT NULL CHECK (minutes > 0 AND minutes <= 720)
    )""",
    """CREATE UNIQUE INDEX appointment_minutes_appt_code
        ON appointment_minutes (appointment_id, cpt_code)""",
    "CREATE INDEX appointment_minutes_client ON appointment_minutes (client_id)",
    "CREATE INDEX appointment_minutes_practice ON appointment_minutes (practice_id)",
    """CREATE TABLE calendar_feed_token (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        provider_id INTEGER NOT NULL REFERENCES provider (id) ON DELETE CASCADE,
        token_hash VARCHAR(255) NOT NULL UNIQUE,
        created_at DATETIME NOT NULL,
        revoked_at DATETIME
    )""",
    "CREATE INDEX calendar_feed_token_provider ON calendar_feed_token (provider_id)",
    "CREATE INDEX calendar_feed_token_practice ON calendar_feed_token (practice_id)",
]

# PostgreSQL: the overlap triggers above become exclusion constraints (GiST, btree_gist for
# the `=` part), which also hold between two concurrent transactions; their names hold
# "overlaps", as the trigger messages do (services.scheduling.booking reads it). The
# length guard stays a trigger, under the SQLite trigger's name.
_PG_ACTIVE = "status NOT IN ('cancelled', 'late_cancelled')"
_PG_TOO_LONG = f"{ACTIVE} AND NEW.blocked_until > NEW.starts_at + interval '1 day'"
PG = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""ALTER TABLE appointment ADD CONSTRAINT appointment_overlaps_provider_id
        EXCLUDE USING gist (provider_id WITH =, tsrange(starts_at, blocked_until) WITH &&)
        WHERE ({_PG_ACTIVE})""",
    f"""ALTER TABLE appointment ADD CONSTRAINT appointment_overlaps_room_id
        EXCLUDE USING gist (room_id WITH =, tsrange(starts_at, blocked_until) WITH &&)
        WHERE ({_PG_ACTIVE} AND room_id IS NOT NULL)""",
    ddl.refuse(
        "appointment_no_overlap_insert",
        "BEFORE INSERT",
        "appointment",
        "appointment longer than a day",
        when=_PG_TOO_LONG,
    ),
    ddl.refuse(
        "appointment_no_overlap_update",
        "BEFORE UPDATE OF starts_at, ends_at, blocked_until, provider_id, status",
        "appointment",
        "appointment longer than a day",
        when=_PG_TOO_LONG,
    ),
]

DROP = [
    "calendar_feed_token",
    "appointment_minutes",
    "appointment",
    "booking_policy",
    "room",
    "availability_exception",
    "provider_hours",
    "appointment_type_provider",
    "appointment_type_code",
    "appointment_type",
]


def up(migrator, db):
    for sql in TABLES:
        ddl.run(db, sql)
    ddl.pg(db, PG)


def down(migrator, db):
    # btree_gist stays: an extension belongs to the database (up creates it if missing).
    for table in DROP:
        ddl.run(db, f'DROP TABLE IF EXISTS "{table}"')
