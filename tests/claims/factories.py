"""Claims test data written straight to the test's SQLite file: a payer with a fee
schedule, a policy, a completed visit and a claim with diagnoses and lines, in any status.

For tests of what comes after a claim exists (batches, 835 posting, PDFs, reports). Tests
of how a claim is built from a visit and its signed note go through the service instead.
"""

import datetime as dt
import itertools
import secrets

from portal.models import (
    Appointment,
    AppointmentMinutes,
    AppointmentType,
    ChartNote,
    Claim,
    ClaimDiagnosis,
    ClaimLine,
    ClearinghouseConnection,
    Client,
    InsurancePolicy,
    Payer,
    PayerFee,
    Practice,
)
from portal.services import charting

_seq = itertools.count(1)


def payer(practice, **kw):
    n = next(_seq)
    defaults = dict(
        practice=practice,
        name=f"Acme Health {n}",
        payer_code=f"ACME{n:03d}",
        address1="PO Box 1000",
        city="Portland",
        state="OR",
        postal_code="972010000",
    )
    defaults.update(kw)
    p = Payer.create(**defaults)
    for code, fee in (("97124", 3000), ("97140", 3500)):
        PayerFee.create(practice=practice, payer=p, cpt_code=code, fee_cents=fee)
    return p


def policy(practice, client, payer_obj=None, **kw):
    defaults = dict(
        practice=practice,
        client=client,
        payer=payer_obj or payer(practice),
        member_id=f"MBR{next(_seq):06d}",
        group_number="GRP100",
        effective_date=dt.date(2026, 1, 1),
    )
    defaults.update(kw)
    return InsurancePolicy.create(**defaults)


def visit(practice, client, provider, day=dt.date(2026, 11, 2), hour=17, status="completed"):
    """A completed 60-minute visit on `day` (UTC hour `hour`)."""
    atype = AppointmentType.get_or_none(
        (AppointmentType.practice == practice) & (AppointmentType.name == "Insurance massage")
    ) or AppointmentType.create(
        practice=practice,
        name="Insurance massage",
        duration_minutes=60,
        price_cents=12000,
        bill_insurance=True,
    )
    start = dt.datetime.combine(day, dt.time(hour, 0))
    end = start + dt.timedelta(hours=1)
    return Appointment.create(
        practice=practice,
        client=client,
        provider=provider,
        appointment_type=atype,
        starts_at=start,
        ends_at=end,
        blocked_until=end,
        status=status,
        completed_at=end if status == "completed" else None,
    )


def _free_visit(practice, client, provider, day):
    """A visit at 17:00 UTC, or the next free hour of the provider that day (several claims
    for one provider on one day)."""
    taken = {
        a.starts_at.hour
        for a in Appointment.select(Appointment.starts_at).where(
            (Appointment.provider == provider)
            & (Appointment.starts_at >= dt.datetime.combine(day, dt.time(0)))
            & (Appointment.starts_at < dt.datetime.combine(day, dt.time(23, 59)))
        )
    }
    hour = next(h for h in (17, 18, 19, 20, 21, 22, 16, 15, 14) if h not in taken)
    return visit(practice, client, provider, day=day, hour=hour)


def claim(
    practice,
    client,
    provider,
    *,
    status="ready",
    payer_obj=None,
    policy_obj=None,
    day=dt.date(2026, 11, 2),
    lines=(("97124", 45, 3, 9000), ("97140", 15, 1, 3500)),
    diagnoses=("M54.50", "M62.830"),
    appointment=True,
    **kw,
):
    """A claim with `lines` as (code, minutes, units, charge cents), pointer A on each."""
    policy_obj = policy_obj or policy(practice, client, payer_obj)
    appt = _free_visit(practice, client, provider, day) if appointment else None
    total = sum(charge for _, _, _, charge in lines)
    c = Claim.create(
        practice=practice,
        client=client,
        appointment=appt,
        policy=policy_obj,
        payer=policy_obj.payer_id,
        provider=provider,
        status=status,
        patient_control_number=kw.pop("patient_control_number", None)
        or secrets.token_hex(6).upper(),
        service_date=day,
        total_cents=total,
        **kw,
    )
    for i, code in enumerate(diagnoses, start=1):
        ClaimDiagnosis.create(practice=practice, claim=c, position=i, code=code)
    for i, (code, minutes, units, charge) in enumerate(lines, start=1):
        ClaimLine.create(
            practice=practice,
            claim=c,
            position=i,
            service_date=day,
            cpt_code=code,
            minutes=minutes,
            units=units,
            pointers="A",
            charge_cents=charge,
        )
    return c


# --- claims-core: visits with signed notes, made through the services ------------------------
# A claim is built from a completed visit and its signed chart note: these make the visit and
# sign the note through the charting service, so what a claim reads is what a therapist wrote.

BILLING_ADDRESS = dict(address1="120 Willow Street", city="Portland", state="OR")
CLIENT_ADDRESS = dict(
    sex="F", address1="88 Alder Street", city="Portland", state="OR", postal_code="97204"
)


def billable_practice(practice, zip9=False):
    """Give the practice the billing address a claim needs (ZIP+4 for 837P when asked)."""
    Practice.update(**BILLING_ADDRESS, postal_code="972051234" if zip9 else "97205").where(
        Practice.id == practice.id
    ).execute()
    return Practice.get_by_id(practice.id)


def billable_client(client):
    """Sex and address, as the insurance card has them."""
    Client.update(**CLIENT_ADDRESS).where(Client.id == client.id).execute()
    return Client.get_by_id(client.id)


def checkout_minutes(appointment, minutes):
    for code, m in minutes.items():
        AppointmentMinutes.create(
            practice=appointment.practice_id,
            client=appointment.client_id,
            appointment=appointment,
            cpt_code=code,
            minutes=m,
        )


def sign_note(therapist_user, appointment, minutes, diagnoses, sign=True):
    """A chart note for the visit, written and signed by the visit's therapist."""
    client = appointment.client
    note = charting.save_note(
        therapist_user,
        client,
        charting.NoteInput(
            visit_date=appointment.starts_at.date(),
            provider_id=appointment.provider_id,
            appointment_id=appointment.id,
            subjective="Low back pain after lifting at work.",
            objective="Hypertonic lumbar erectors; trigger point left QL.",
            assessment="Tension reduced; flexion improved.",
            plan="Weekly for four weeks.",
            pain_before=6,
            pain_after=3,
            techniques="Deep tissue",
            regions=["low-back"],
            minutes=dict(minutes),
            diagnoses=list(diagnoses),
        ),
    )
    if sign:
        charting.sign_note(therapist_user, note)
    return note


def sign_draft(therapist_user, appointment):
    """Sign the visit's draft note (a completed visit's claim is made as it is signed)."""
    charting.sign_note(therapist_user, ChartNote.get(ChartNote.appointment == appointment.id))


def insured_visit(
    side,
    *,
    client=None,
    payer_kw=None,
    policy_kw=None,
    minutes=None,
    diagnoses=("M54.50", "M62.830"),
    checkout=True,
    sign=True,
    day=dt.date(2026, 11, 2),
    hour=17,
    status="completed",
):
    """A completed insurance visit of `side` (a tests.factories.world() side) with its
    check-out minutes and the therapist's signed note. Returns (appointment, policy).

    The payer takes 97124 with 97140 (59 and separate pointers) unless payer_kw says not."""
    minutes = minutes or {"97124": 45, "97140": 15}
    billable_practice(side.practice)
    client = billable_client(client or side.c1)
    payer_obj = payer(side.practice, **{"allow_97124_97140": True, **(payer_kw or {})})
    pol = policy(side.practice, client, payer_obj, **(policy_kw or {}))
    appt = visit(side.practice, client, side.provider, day=day, hour=hour, status=status)
    if checkout:
        checkout_minutes(appt, minutes if checkout is True else checkout)
    if sign is not None:
        sign_note(side.therapist, appt, minutes, diagnoses, sign=sign)
    return appt, pol


# --- claims-money: what an 837P needs besides the claim ------------------------------------


def billing_ready(practice_obj, **kw):
    """The practice's billing details complete (address with ZIP+4, phone, NPI, EIN)."""
    values = dict(
        address1="120 Willow Street",
        city="Portland",
        state="OR",
        postal_code="972051234",
        phone="503-555-0142",
    )
    values.update(kw)
    for name, value in values.items():
        setattr(practice_obj, name, value)
    practice_obj.save()
    return practice_obj


def clearinghouse_ids(practice_obj, **kw):
    """The practice's clearinghouse connection with the ids an 837P carries (no SFTP)."""
    values = dict(
        practice=practice_obj,
        isa_sender_id="ISASENDER01",
        isa_receiver_id="ISARECEIVER",
        gs_sender_code="GSSENDER",
        gs_receiver_code="GSRECEIVER",
        submitter_id="SUBMITTER01",
        receiver_name="TEST CLEARINGHOUSE",
        receiver_id="CLEARHOUSE",
        usage_indicator="T",
    )
    values.update(kw)
    existing = ClearinghouseConnection.get_or_none(
        ClearinghouseConnection.practice == practice_obj.id
    )
    if existing is not None:
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save()
        return existing
    return ClearinghouseConnection.create(**values)


def with_address(client_obj, sex="F"):
    """A client with the address and sex an 837P needs."""
    client_obj.address1 = "12 Elm St"
    client_obj.city = "Portland"
    client_obj.state = "OR"
    client_obj.postal_code = "97205"
    client_obj.sex = sex
    client_obj.save()
    return client_obj


def sendable(side, **kw):
    """Practice `side` (a tests.factories world side) ready to build 837P files."""
    billing_ready(side.practice)
    clearinghouse_ids(side.practice)
    with_address(side.c1)
    with_address(side.c2, sex="M")
    return side


# --- claims-paper: a claim with every box of the CMS-1500 filled ----------------------------

_DX12 = (
    "M54.50", "M62.830", "M54.2", "M54.6", "M25.511", "M25.512",
    "M79.18", "M62.81", "G44.209", "M53.3", "S13.4XXA", "M99.01",
)  # fmt: skip


def paper_claim(practice, client, provider, *, n_lines=2, n_diagnoses=2, **kw):
    """A claim whose parties have addresses, phones and the rest a paper form prints:
    `n_lines` service lines (97124 and 97140 alternately, pointers A then B...) and
    `n_diagnoses` diagnoses (up to 12). Extra keywords go to Claim. No visit behind it
    (the form needs none; many claims a day would overlap the therapist's calendar)."""
    client.address1 = "12 N. Elm St."
    client.city = "Portland"
    client.state = "OR"
    client.postal_code = "97205"
    client.phone = "(503) 555-0147"
    client.sex = "F"
    client.save()
    practice.address1 = "400 SW Oak St, Suite 2"
    practice.city = "Portland"
    practice.state = "OR"
    practice.postal_code = "972041234"
    practice.phone = "503-555-0100"
    practice.save()
    policy_obj = kw.pop("policy_obj", None) or policy(
        practice, client, kw.pop("payer_obj", None), plan_name="Acme Choice PPO"
    )
    lines = []
    for i in range(n_lines):
        code, minutes, units, charge = (("97124", 30, 2, 6000), ("97140", 15, 1, 3500))[i % 2]
        lines.append((code, minutes, units, charge + i * 100))
    return claim(
        practice,
        client,
        provider,
        policy_obj=policy_obj,
        lines=tuple(lines),
        diagnoses=_DX12[:n_diagnoses],
        appointment=kw.pop("appointment", False),
        **kw,
    )
