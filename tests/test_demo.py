"""The demo practice: loading it twice keeps the data and adds no rows (every area's loader)."""

import contextlib
import datetime as dt
import zoneinfo

import pytest

from portal import clock, demo
from portal.db import database
from portal.models import (
    Appointment,
    AppointmentType,
    AuditLog,
    ChartNote,
    Claim,
    ClaimEvent,
    Client,
    CreditLedger,
    MessageThread,
    NoteAddendum,
    PackageDefinition,
    PackagePurchase,
    Practice,
    ProviderHours,
    User,
)
from portal.models.billing import Invoice, Payment
from portal.models.messaging import Message
from portal.rules import claim_status as cs
from portal.rules.appointments import CANCELLED_STATUSES
from portal.services import charting, coverage, packages, superbills
from portal.services.claims import queries
from tests.conftest import login


def _counts():
    skip = {"schema_migration", "audit_log", "login_attempt", "user_session"}
    tables = [t for t in database.get_tables() if t not in skip and not t.startswith("sqlite_")]
    return {t: database.execute_sql(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_demo_loads_twice_without_duplicates(ctx):
    demo.load()
    first = _counts()
    assert first["practice"] == 1 and first["user"] >= 4 and first["provider"] >= 2
    demo.load()
    second = _counts()
    assert second == first, {t: (first[t], second[t]) for t in first if first[t] != second[t]}


def test_demo_logins_work(app):
    # Not under the `ctx` fixture: its app context (and flask-login's g) would be shared
    # by every test-client request.
    with app.test_request_context():
        demo.load()
    for email, password in demo.DEMO_PASSWORDS.items():
        c = app.test_client()
        r = login(c, email, password=password)
        assert r.status_code == 302, email
        home = "/portal/" if email.startswith("client") else "/provider/"
        assert r.headers["Location"] == home
        assert c.get(home).status_code == 200, email


def test_demo_command_prints_the_logins(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    for email, password in demo.DEMO_PASSWORDS.items():
        assert email in result.output and password in result.output
    again = app.test_cli_runner().invoke(args=["demo"])
    assert again.exit_code == 0


def test_every_demo_visit_billed_to_insurance_has_a_policy_to_bill(ctx):
    """The desk's demo day: an insurance visit of a client with no policy on file would
    only ever warn at check-in and make no claim."""
    demo.load()
    visits = (
        Appointment.select().join(AppointmentType).where(AppointmentType.bill_insurance == True)  # noqa: E712
    )
    assert visits.count() > 0
    for visit in visits:
        day = clock.local_date(visit.starts_at, visit.practice.tz)
        policies = coverage.active_policies(visit.client)
        assert any(p.covers(day) for p in policies), (visit.client.legal_name, day)


def test_every_demo_visit_is_in_its_therapists_hours_and_none_overlap(ctx):
    """The claims demo's visits were at 7:00 AM, before the practice opens, and some on
    Maya's days off: every visit of the demo now sits in its therapist's working hours
    (ProviderHours), and no two of one therapist overlap (buffer included)."""
    demo.load()
    hours = {}
    for h in ProviderHours.select():
        hours.setdefault((h.provider_id, h.weekday), []).append((h.start_minute, h.end_minute))
    visits = list(
        Appointment.select()
        .where(Appointment.status.not_in(CANCELLED_STATUSES))
        .order_by(Appointment.provider, Appointment.starts_at)
    )
    claimed = {c.appointment_id for c in Claim.select(Claim.appointment)}
    assert len(claimed) >= 10 and claimed <= {v.id for v in visits}
    for v in visits:
        start = clock.to_local(v.starts_at, v.practice.tz)
        end = clock.to_local(v.ends_at, v.practice.tz)
        first = start.hour * 60 + start.minute
        last = first + int((end - start).total_seconds() // 60)
        windows = hours.get((v.provider_id, start.weekday()), [])
        assert any(s <= first and last <= e for s, e in windows), (v.id, start, windows)
    for before, after in zip(visits, visits[1:], strict=False):
        if before.provider_id == after.provider_id:
            assert before.blocked_until <= after.starts_at, (before.id, after.id)


@pytest.mark.parametrize("day", [dt.date(2026, 12, 1), dt.date(2026, 12, 5), dt.date(2026, 12, 7)])
def test_the_demo_client_has_a_paid_visit_for_a_superbill_whatever_the_day_and_hour(
    ctx, monkeypatch, day
):
    """Loaded on a Tuesday just after midnight in the practice's zone, the demo client had
    no completed visit paid in full (the eight days around today held none for them before
    that morning), so no superbill could be made: the URL-map world then had none and the
    access matrix failed on those mornings. Tuesday, Saturday and Monday, at 00:30."""
    tz = zoneinfo.ZoneInfo("America/Los_Angeles")  # the demo practice's (checked below)
    local = dt.datetime.combine(day, dt.time(0, 30), tzinfo=tz)
    now = local.astimezone(dt.UTC).replace(tzinfo=None)
    monkeypatch.setattr(clock, "utcnow", lambda: now)
    demo.load()
    client = Client.get(Client.email == "client@demo.example")
    assert clock.today(Practice.get().tz) == day
    visits = superbills.candidates(client, day - dt.timedelta(days=30), day)
    assert any(v.eligible for v in visits), [(v.appointment_id, v.paid_in_full) for v in visits]


def _local_day(when, tz):
    return clock.local_date(when, tz)


def test_the_demo_claims_history_follows_its_visits(ctx):
    """A claim's history is told relative to its visit: made that day, sent the next
    business day, answered days or weeks later; never before the visit, never in the
    future, not every step stamped at the moment the demo was loaded."""
    demo.load()
    practice = Practice.get()
    tz, now = practice.tz, clock.utcnow()
    today = clock.today(tz)
    claims = list(Claim.select().where(Claim.practice == practice))
    assert len(claims) >= 10
    later = 0
    for c in claims:
        visit = Appointment.get_by_id(c.appointment_id)
        events = list(ClaimEvent.select().where(ClaimEvent.claim == c.id).order_by(ClaimEvent.id))
        assert events, c.patient_control_number
        stamps = [c.created_at, c.updated_at, c.submitted_at, *(e.created_at for e in events)]
        for when in filter(None, stamps):
            assert visit.starts_at <= when <= now, (c.patient_control_number, when, visit.starts_at)
        if "R" not in c.patient_control_number:  # made when the note was signed (not rebilled)
            assert _local_day(c.created_at, tz) == c.service_date
        times = [e.created_at for e in events]
        assert times == sorted(times), c.patient_control_number  # told in order
        if c.submitted_at is not None:
            sent = _local_day(c.submitted_at, tz)
            assert sent > c.service_date and sent.weekday() < 5, (c.patient_control_number, sent)
            (sent_event,) = [e for e in events if e.to_status == cs.SUBMITTED]
            assert sent_event.created_at == c.submitted_at
        if (today - c.service_date).days > 21:
            # a visit weeks ago: its history does not all happen today
            assert max(_local_day(t, tz) for t in times) < today, c.patient_control_number
            later += 1
    assert later >= 5
    answered = [e for e in ClaimEvent.select().where(ClaimEvent.to_status == cs.DENIED)]
    for e in answered:  # the payer's answer comes days after the claim was sent
        assert (e.created_at - Claim.get_by_id(e.claim_id).submitted_at).days >= 7


def test_the_demo_aging_table_spreads_over_its_buckets(ctx):
    demo.load()
    desk = User.get(User.email == "frontdesk@demo.example")
    today = clock.today(desk.practice.tz)
    table = queries.aging(desk, today)
    used = [b for b, n in table.totals.counts.items() if n]
    assert len(used) >= 3, table.totals.counts
    # and each open claim is in the bucket of its date of service
    assert sum(table.totals.counts.values()) >= 5


# --- the history of the demo's notes, invoices, packages and messages -----------------------
# Loaded in one moment, the demo tells each record at its own time: a note just after its
# visit, an invoice at check-out, a package when it was sold, a thread over days. Checked at
# the moment the tests run and at fixed moments (a Tuesday morning, when the demo client has
# the fewest visits behind them; a Saturday; a Monday afternoon), each the demo's "now".

LA = zoneinfo.ZoneInfo("America/Los_Angeles")  # the demo practice's zone
MOMENTS = [
    None,  # now
    dt.datetime(2026, 12, 1, 0, 30),  # a Tuesday just after midnight
    dt.datetime(2026, 12, 1, 9, 30),  # a Tuesday morning
    dt.datetime(2026, 12, 5, 14, 0),  # a Saturday
    dt.datetime(2026, 12, 7, 16, 30),  # a Monday afternoon
]


@contextlib.contextmanager
def _loaded_at(local):
    """The demo loaded with `local` (the practice's wall clock) as now; the block runs then."""
    if local is None:
        demo.load()
        yield clock.utcnow()
        return
    now = local.replace(tzinfo=LA).astimezone(dt.UTC).replace(tzinfo=None)
    with clock.told(now):
        demo.load()
        yield now


def _audit_at(action, obj_id):
    return [
        a.at
        for a in AuditLog.select().where(
            (AuditLog.action == action) & (AuditLog.object_id == obj_id)
        )
    ]


def _day(when):
    return clock.local_date(when, LA)


@pytest.mark.parametrize("local", MOMENTS, ids=["now", "tue-0030", "tue-0930", "sat", "mon"])
def test_the_demo_notes_are_written_just_after_their_visits(ctx, local):
    """No note signed before its visit or in the future; signed the day of the visit; the
    unsigned draft stays unsigned and shows in the therapist's list (older than a day)."""
    with _loaded_at(local) as now:
        today = clock.today(LA)
        notes = list(ChartNote.select().where(ChartNote.appointment.is_null(False)))
        assert len(notes) >= 10
        old = 0
        for n in notes:
            visit = Appointment.get_by_id(n.appointment_id)
            assert visit.starts_at <= n.created_at <= now, (n.id, visit.starts_at, n.created_at)
            assert _audit_at("note.create", n.id) == [n.created_at]
            if n.status == "signed":
                assert n.created_at <= n.signed_at <= now, (n.id, n.signed_at)
                assert _day(n.signed_at) == _day(visit.starts_at), n.id  # the same day
                assert _audit_at("note.sign", n.id) == [n.signed_at]
                if (today - _day(visit.starts_at)).days > 7:
                    assert _day(n.signed_at) < today and _day(n.created_at) < today
                    old += 1
            for add in NoteAddendum.select().where(NoteAddendum.note == n.id):
                assert n.signed_at <= add.created_at <= now
        assert old >= 5
        signed, draft = [ChartNote.get_by_id(n.id) for n in _charting_notes()]
        assert (signed.status, draft.status) == ("signed", "draft")
        therapist = User.get(User.email == "therapist@demo.example")
        unsigned = charting.unsigned_query(ChartNote.select(), therapist)
        assert draft.id in {n.id for n in unsigned}
        # the demo client's signed note (with its addendum) is of their paid visit of last
        # week, the one their superbill lists: its diagnoses are the superbill's
        assert signed.appointment_id is not None and _day(signed.signed_at) < today


def _charting_notes():
    client = Client.get(Client.email == "client@demo.example")
    notes = ChartNote.select().where(ChartNote.client == client.id).order_by(ChartNote.id)
    return list(notes)[:2]


@pytest.mark.parametrize("local", MOMENTS, ids=["now", "tue-0030", "tue-0930", "sat", "mon"])
def test_the_demo_invoices_and_packages_follow_their_visits(ctx, local):
    """Invoices issued at check-out, paid then; a package sold before the visit it paid
    for, expiring a year after; nothing in the future; the open invoice stays open."""
    with _loaded_at(local) as now:
        today = clock.today(LA)
        invoices = list(
            Invoice.select()
            .where(Invoice.reason.in_(["visit", "manual", "package"]))
            .order_by(Invoice.id)
        )
        owner = User.get(User.email == "owner@demo.example")
        billing = [i for i in invoices if i.created_by_id == owner.id]  # the billing loader's
        assert len(billing) == 3
        assert [i.issued_at for i in billing] == sorted(i.issued_at for i in billing)
        for inv in invoices:
            assert inv.issued_at <= now
            assert _audit_at("invoice.issue", inv.id) == [inv.issued_at]
            if inv.appointment_id:
                visit = Appointment.get_by_id(inv.appointment_id)
                assert visit.ends_at <= inv.issued_at  # at check-out
                if (today - _day(visit.starts_at)).days > 7:
                    assert _day(inv.issued_at) < today
            for p in Payment.select().where(Payment.invoice == inv.id):
                assert inv.issued_at <= p.received_at <= now, (inv.number, p.received_at)
                assert p.created_at == p.received_at
                assert _audit_at("payment.record", p.id) == [p.received_at]
        assert any(i.status == "open" for i in billing)  # the client portal's open invoice
        # The desk's takings: every completed self-pay visit was invoiced at its check-out
        # (or paid by a package credit), and paid then on the days before today.
        desk = User.get(User.email == "frontdesk@demo.example")
        taken = {i.appointment_id: i for i in invoices if i.created_by_id == desk.id}
        assert taken
        for visit in (
            Appointment.select()
            .join(AppointmentType)
            .where(
                (Appointment.status == "completed") & (AppointmentType.bill_insurance == False)  # noqa: E712
            )
        ):
            inv = Invoice.get_or_none(Invoice.appointment == visit.id)
            assert inv is not None or packages.redeemed_entry(visit.id) is not None, visit.id
            if visit.id in taken:
                paid = taken[visit.id].status == "paid"
                assert paid == (_day(visit.starts_at) < today), (visit.id, inv.status)
        (purchase,) = PackagePurchase.select()
        definition = PackageDefinition.get_by_id(purchase.definition_id)
        sale = Invoice.get_by_id(purchase.invoice_id)
        assert purchase.created_at == sale.issued_at <= purchase.activated_at <= now
        assert purchase.expires_at == packages.expiry_after(
            purchase.activated_at, definition.expiry_days, purchase.practice.tz
        )
        assert purchase.expires_at > now and purchase.status == "active"
        (used,) = CreditLedger.select().where(CreditLedger.kind == "redeem")
        visit = Appointment.get_by_id(used.appointment_id)
        # sold the day of the first visit it paid for (last week), the credit used at check-out
        assert _day(purchase.created_at) == _day(visit.starts_at) < today
        assert purchase.activated_at <= visit.starts_at and visit.ends_at <= used.created_at <= now
        assert _audit_at("package.redeem", used.id) == [used.created_at]
        fee = next(i for i in invoices if i.reason == "manual" and i.status == "paid")
        assert _day(fee.issued_at) < today  # a late cancellation of a visit days ago


@pytest.mark.parametrize("local", MOMENTS, ids=["now", "tue-0030", "tue-0930", "sat", "mon"])
def test_the_demo_messages_are_a_thread_over_days(ctx, local):
    """Not all sent in the minute the demo was loaded; in order; a thread about a visit
    starts after it."""
    with _loaded_at(local) as now:
        messages = list(Message.select().order_by(Message.id))
        assert len(messages) >= 3
        times = [m.created_at for m in messages]
        # not all in one minute: the morning after a visit, its answer at lunch, yesterday
        assert max(times) - min(times) >= dt.timedelta(hours=6)
        assert len(set(times)) == len(times)
        for m in messages:
            assert m.created_at <= now
            assert _audit_at("message.send", m.id) == [m.created_at]
        for t in MessageThread.select():
            in_thread = [m for m in messages if m.thread_id == t.id]
            assert [m.created_at for m in in_thread] == sorted(m.created_at for m in in_thread)
            assert t.created_at == in_thread[0].created_at
            assert t.last_message_at == in_thread[-1].created_at
            if t.link_kind == "appointment":  # it speaks of a visit behind it
                assert Appointment.get_by_id(t.link_id).ends_at <= t.created_at


def test_the_demo_loaded_again_a_day_later_adds_nothing(ctx):
    now = clock.utcnow()
    with clock.told(now - dt.timedelta(days=1)):
        demo.load()
    first = _counts()
    demo.load()
    assert _counts() == first


# --- the demo never ages ---------------------------------------------------------------------
# Its insurance records were dated by hand for November 2026: loaded next summer, the
# verification read ten months old, the first referral had run out and Marcus's visits fell
# before his accident. Set-up records (practice, clients, payers, types) carried the load
# moment, so a client was "client since" after their own visits.


@pytest.mark.parametrize(
    "local", [dt.datetime(2027, 8, 16, 10, 0), dt.datetime(2026, 3, 10, 15, 0)], ids=str
)
def test_the_demo_loaded_months_away_keeps_its_insurance_current(ctx, local):
    from portal.models import BenefitsVerification, InsurancePolicy, PriorAuthorization, Referral

    with _loaded_at(local) as now:
        today = clock.today(LA)
        jordan = Client.get(Client.email == "client@demo.example")
        verification = BenefitsVerification.get(BenefitsVerification.client == jordan.id)
        assert 0 < (today - verification.verified_on).days <= 31
        referrals = Referral.select().where(Referral.client == jordan.id)
        assert any(r.referral_date <= today <= r.end_date for r in referrals)
        auths = PriorAuthorization.select()
        assert auths.count() >= 2
        assert all(a.start_date <= today <= a.end_date for a in auths)
        for policy in InsurancePolicy.select():
            for visit in Appointment.select().where(Appointment.client == policy.client_id):
                if policy.injury_date is not None and visit.status == "completed":
                    assert policy.injury_date <= _day(visit.starts_at), (policy.id, visit.id)
        for model in (Client, Practice, User, PackageDefinition, AppointmentType):
            for row in model.select():
                assert row.created_at <= now, (model.__name__, row.id)
        for client in Client.select():
            first = (
                Appointment.select(Appointment.starts_at)
                .where(Appointment.client == client.id)
                .order_by(Appointment.starts_at)
                .first()
            )
            if first is not None:
                assert client.created_at < first.starts_at, client.legal_name
        for table in (InsurancePolicy, BenefitsVerification, Referral, PriorAuthorization):
            for row in table.select():
                assert row.created_at <= now, (table.__name__, row.id)
        for r in referrals:
            assert _day(Referral.get_by_id(r.id).created_at) == r.referral_date


def test_every_demo_visit_billed_to_insurance_has_a_policy_to_bill_next_summer(ctx):
    insured = AppointmentType.bill_insurance == True  # noqa: E712
    with _loaded_at(dt.datetime(2027, 8, 16, 10, 0)):
        visits = Appointment.select().join(AppointmentType).where(insured)
        assert visits.count() > 0
        for visit in visits:
            day = clock.local_date(visit.starts_at, LA)
            assert any(p.covers(day) for p in coverage.active_policies(visit.client)), visit.id
