"""Every main page runs a fixed number of SQL statements, however much it shows.

Each page is requested twice over a practice with a little data (the second request is
counted: the first fills per-process memos such as the 10-minute view audit), then again
after much more data was added (more clients, notes, appointments, invoices, addenda,
payments, referrals). The count must be the same both times (no statement per row: joins
or one query per kind of row instead) and at most the page's bound below. The bounds are
today's counts; raise one only with a reason in the commit message.

Pages are reached by URL, as a browser reaches them, so the test survives code moving
between modules. The render cache is off: these are the statements of a render.
"""

import datetime as dt
import itertools

import pytest

from portal import clock
from portal.models import (
    Appointment,
    AppointmentType,
    BenefitsVerification,
    ChartNote,
    ClaimEvent,
    Client,
    Invoice,
    InvoiceLine,
    NoteAddendum,
    NoteBodyRegion,
    NoteDiagnosis,
    NoteMinutes,
    Payer,
    Payment,
    PriorAuthorization,
    Referral,
)
from portal.models.insurance import InsurancePolicy
from tests import factories
from tests.claims import factories as claim_factories
from tests.conftest import login
from tests.statements import Statements

NOW = dt.datetime(2026, 6, 1, 18, 0)  # Monday 11:00 in Los Angeles
TODAY = dt.date(2026, 6, 1)

# page: (who, method, path pattern, bound). {c} is the busy client, {note} its signed note,
# {inv} its invoice. What the statements are: the session (with user and practice), the
# data version (read before the view: the render cache and the messages' poller use it),
# the object the page is about (with what it names, joined), then one statement per kind of
# row shown; view audits are written once per user and 10 minutes (audit.record_view).
# Pages about a client read the records merged into it (one statement, client_merge), and
# the client page says whether it was merged or has merged records (two). An open invoice
# shown to the desk reads the client's account credit: the record holding it (a merge moves
# it), then its balance.
PAGES = {
    "client_list": ("frontdesk", "GET", "/provider/clients", 4),
    "client_search": ("frontdesk", "POST", "/provider/clients/search", 4),
    "client_page": ("owner", "GET", "/provider/clients/{c}", 12),
    "notes_list": ("therapist", "GET", "/provider/clients/{c}/notes", 6),
    "note": ("therapist", "GET", "/provider/notes/{note}", 7),
    "invoice": ("owner", "GET", "/provider/billing/invoices/{inv}", 6),
    "billing_overview": ("owner", "GET", "/provider/billing/", 5),
    "client_billing": ("owner", "GET", "/provider/billing/clients/{c}", 8),
    "day_sheet": ("frontdesk", "GET", "/provider/billing/day?day=2026-06-01", 7),
    "day_view": ("therapist", "GET", "/provider/schedule/?date=2026-06-01", 6),
    "day_view_all": ("owner", "GET", "/provider/schedule/?date=2026-06-01&provider=all", 6),
    "week_view": ("therapist", "GET", "/provider/schedule/?date=2026-06-01&view=week", 5),
    "provider_home": ("therapist", "GET", "/provider/", 5),
    "client_home": ("cu1", "GET", "/portal/", 11),
    "claims_list": ("owner", "GET", "/provider/claims", 4),
    "claims_worklist": ("frontdesk", "GET", "/provider/claims/worklist", 16),
}


def _count(fn):
    with Statements() as seen:
        fn()
    return seen.sql


_n = itertools.count(1)


def _grow(side, types, busy, n):
    """n more clients of the practice, each with a signed note, an appointment today and an
    invoice; and for the busy client: notes, appointments, invoices, addenda, a referral,
    an authorization, a policy with a verification, payments."""
    practice = side.practice
    for _ in range(n):
        k = next(_n)
        c = factories.client(practice, therapist=side.provider, last_name=f"Person{k:03d}")
        for who in (c, busy):
            _note(side, who, k)
            _appointment(side, types, who, k)
            _invoice(side, who)
        sent = NOW - dt.timedelta(days=1) if k % 2 else None  # rejected: sent, refused
        claim_factories.claim(
            practice,
            c,
            side.provider,
            day=TODAY - dt.timedelta(days=k),
            appointment=False,
            status="rejected" if sent else "ready",
            submitted_at=sent,
        )
        # a secondary claim, its clock from its primary's payment 10 + k days ago: the
        # work list's filing item, its 20 days ending within 14
        day = TODAY - dt.timedelta(days=60 + k)
        primary = claim_factories.claim(
            practice, c, side.provider, day=day, appointment=False, status="paid"
        )
        ClaimEvent.create(practice=practice, claim=primary, action="posted", to_status="paid",
                          created_at=NOW - dt.timedelta(days=10 + k))  # fmt: skip
        claim_factories.claim(practice, c, side.provider, day=primary.service_date,
                              appointment=False, status="draft", rank="secondary",
                              primary_claim=primary, primary_paid_cents=100)  # fmt: skip
    # Payers that refuse claims 20 days after the visit: the work list's filing item
    Payer.update(filing_limit_days=20).where(Payer.practice == practice).execute()
    first = Invoice.select().where(Invoice.client == busy.id).order_by(Invoice.id).first()
    Payment.create(practice=practice, client=busy, invoice=first, method="cash", amount_cents=100)
    Invoice.update(paid_cents=Invoice.paid_cents + 100).where(Invoice.id == first.id).execute()
    note = ChartNote.get((ChartNote.client == busy.id) & (ChartNote.status == "signed"))
    NoteAddendum.create(
        practice=practice,
        client=busy,
        note=note,
        author=side.therapist,
        author_name="T",
        body=f"Addendum {k}",
    )
    payer = Payer.create(practice=practice, name=f"Payer {k}", referral_required=True)
    policy = InsurancePolicy.create(
        practice=practice,
        client=busy,
        payer=payer,
        member_id=f"M{k}",
        effective_date=dt.date(2026, 1, 1),
        rank="secondary"
        if InsurancePolicy.get_or_none(InsurancePolicy.client == busy.id)
        else "primary",
    )
    BenefitsVerification.create(
        practice=practice,
        client=busy,
        policy=policy,
        verified_on=dt.date(2026, 5, 1),
        visits_per_year=20,
        visits_used=2,
        copay_cents=4000,
    )
    Referral.create(
        practice=practice,
        client=busy,
        policy=policy,
        referring_name=f"Dr {k}",
        referral_date=dt.date(2026, 1, 1),
        visits_allowed=10,
    )
    PriorAuthorization.create(
        practice=practice,
        client=busy,
        policy=policy,
        number=f"A{k}",
        visits_allowed=10,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
    )


def _note(side, client, k):
    note = ChartNote.create(
        practice=side.practice,
        client=client,
        provider=side.provider,
        visit_date=TODAY - dt.timedelta(days=k),
        subjective="Low back tightness.",
        techniques="Swedish massage",
        created_by=side.therapist,
        created_at=NOW - dt.timedelta(days=k),
        updated_at=NOW - dt.timedelta(days=k),
    )
    base = {"practice": side.practice, "client": client, "note": note}
    NoteMinutes.create(**base, cpt_code="97124", minutes=30 + k % 60)
    NoteDiagnosis.create(**base, position=1, code="M54.50", description="Low back pain")
    NoteBodyRegion.create(**base, region="low-back")
    ChartNote.update(status="signed", signed_at=NOW, signed_by=side.therapist, signature="T").where(
        ChartNote.id == note.id
    ).execute()


def _appointment(side, types, client, k):
    # Today from 09:00 local (16:00 UTC), one after another, 5 minutes each (no overlaps).
    for provider in (side.provider, side.provider2):
        taken = Appointment.select().where(Appointment.provider == provider.id).count()
        start = dt.datetime(2026, 6, 1, 16, 0) + dt.timedelta(minutes=6 * taken)
        Appointment.create(
            practice=side.practice,
            client=client,
            provider=provider,
            appointment_type=types,
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=5),
            blocked_until=start + dt.timedelta(minutes=5),
            status="completed" if k % 2 else "booked",
        )


def _invoice(side, client):
    inv = Invoice.create(practice=side.practice, client=client, total_cents=13000)
    for pos, cents in ((1, 9500), (2, 3500)):
        InvoiceLine.create(
            practice=side.practice,
            invoice=inv,
            position=pos,
            kind="visit",
            description="Massage",
            unit_cents=cents,
            amount_cents=cents,
            provider=side.provider,
        )
    Invoice.update(number=f"INV-{inv.id:06d}", status="partially_paid", issued_at=NOW).where(
        Invoice.id == inv.id
    ).execute()
    Payment.create(
        practice=side.practice,
        client=client,
        invoice=inv,
        method="cash",
        amount_cents=5000,
        received_at=NOW,
    )
    Invoice.update(paid_cents=5000).where(Invoice.id == inv.id).execute()
    return inv


@pytest.fixture
def setting(app, world, monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    app.config["PAGE_CACHE"] = False
    side = world.a
    types = AppointmentType.create(
        practice=side.practice, name="Massage", duration_minutes=5, bill_insurance=True
    )
    busy = side.c1
    _grow(side, types, busy, 2)
    # world b: the same, so every page also proves it does not read the other practice's
    _grow(
        world.b,
        AppointmentType.create(practice=world.b.practice, name="M", duration_minutes=5),
        world.b.c1,
        2,
    )
    return side, types, busy


def _request(client, method, path):
    if method == "POST":
        return client.post(path, data={"q": "Person"})
    return client.get(path)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_each_main_page_runs_a_bounded_number_of_statements(app, setting, page):
    side, types, busy = setting
    who, method, pattern, bound = PAGES[page]
    note = ChartNote.get((ChartNote.client == busy.id) & (ChartNote.status == "signed"))
    inv = Invoice.select().where(Invoice.client == busy.id).order_by(Invoice.id).first()
    path = pattern.format(c=busy.id, note=note.id, inv=inv.id)
    web = app.test_client()
    login(web, getattr(side, who))

    def measure():
        first = _request(web, method, path)
        assert first.status_code == 200, (page, first.status_code)
        return _count(lambda: _request(web, method, path))

    small = measure()
    _grow(side, types, busy, 12)
    large = measure()
    assert len(large) == len(small), (page, "grows with the data", small, large)
    assert len(large) <= bound, (page, len(large), large)
    assert Client.select().where(Client.practice == side.practice).count() >= 16
