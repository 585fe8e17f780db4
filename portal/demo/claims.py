"""Demo: insurance claims of every kind, made the way the portal makes them (a completed
visit with the therapist's signed note), then taken through their life by the front desk.

- Jordan Avery: self, Regence (a referral required), claims submitted, accepted and then
  corrected (frequency 7), rejected by the payer's 277CA, and new ones ready;
- Priya Natarajan: workers' compensation (SAIF), prior authorization in box 23; one
  denied and appealed;
- Marcus Bell: auto accident (State Farm PIP, accident state, claim number), per-code
  units; one voided and billed again;
- Lily Bell: a dependent (the subscriber is her father Marcus) on Aetna, which takes 97124
  with 97140 with modifier 59 on separate diagnoses; one denied and closed;
- Helen Okafor: held, a claim that cannot go out (no referral, no address on file).

Visits are spread over the last 100 days so the aging table fills every column; all of
them are Maya's (the demo therapist signs her notes). Dates of referrals and
authorizations are relative to today. Each claim's history is told relative to its visit
(_dated): made when the note is signed after the visit, sent the next business day,
acknowledged two days later, a payer's denial about two and a half weeks after sending;
never before the visit, never after now. Idempotent: nothing is added when the practice
has claims already. (Payments and the example 835 are the claims-money demo's.)
"""

import datetime as dt

from portal import clock
from portal.demo.foundation import at_day, opened
from portal.models import (
    Appointment,
    AppointmentMinutes,
    AppointmentType,
    Claim,
    Client,
    InsurancePolicy,
    Payer,
    PayerFee,
    PriorAuthorization,
    ProviderHours,
    Referral,
)
from portal.rules import appointments as appointment_rules
from portal.rules import claim_status as cs
from portal.rules import slots as slot_rules
from portal.services import charting
from portal.services.claims import build, history, life

NOTE = dict(
    subjective="Low back and neck pain; worse after long days at the desk.",
    objective="Hypertonic lumbar erectors and upper trapezius; trigger point left QL.",
    assessment="Tension reduced after treatment; lumbar flexion improved.",
    plan="Weekly for four weeks; heat and stretches at home.",
    pain_before=6,
    pain_after=3,
    techniques="Deep tissue\nTrigger point therapy",
)


def _payer(practice, name, fees, **kw):
    p = Payer.get_or_none((Payer.practice == practice) & (Payer.name == name))
    if p is None:
        with clock.told(opened(practice)):
            p = Payer.create(practice=practice, name=name, **kw)
            for code, cents in fees.items():
                PayerFee.create(practice=practice, payer=p, cpt_code=code, fee_cents=cents)
    return p


def _client(practice, email, **kw):
    c = Client.get_or_none((Client.practice == practice) & (Client.email == email))
    if c is None:
        with clock.told(opened(practice)):
            c = Client.create(practice=practice, email=email, **kw)
    return c


def _policy(practice, client, payer, **kw):
    p = InsurancePolicy.get_or_none(
        (InsurancePolicy.client == client) & (InsurancePolicy.payer == payer)
    )
    return p or InsurancePolicy.create(practice=practice, client=client, payer=payer, **kw)


# --- the history, told after the fact -------------------------------------------------------
# The services stamp each change with the clock's now; the demo takes a claim through weeks
# of its life in one moment, so each step is taken at its own time (clock.told), relative
# to its visit.


def _business_day(day, n=1):
    """The n-th weekday after `day` (payers and the post work Monday to Friday)."""
    while n:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def _moment(ctx, day, hour, minute=0):
    """`day` at this local time in the practice's zone, as stored (UTC); never after now."""
    local = dt.datetime.combine(day, dt.time(hour, minute))
    return min(slot_rules.to_utc(local, ctx["practice"].tz), ctx["now"])


def _day_of(ctx, when):
    return clock.local_date(when, ctx["practice"].tz)


def _dated(when):
    """What the block writes (the claims' history and problems, new claims, their audit
    rows) dated `when` instead of the moment the demo is loaded."""
    return clock.told(when)


def _visit_time(ctx, days_ago):
    """(day, start, end, blocked until) of a visit about `days_ago` days ago, in Maya's
    working hours (scheduling's ProviderHours) and clear of her other visits (the scheduling
    demo's days overlap the latest claims): the working day on or before that day, the first
    free half hour."""
    practice, provider_id = ctx["practice"], ctx["therapist"].provider_id
    kind = ctx["claims_type"]
    day = ctx["today"] - dt.timedelta(days=days_ago)
    for _ in range(7):
        windows = (
            ProviderHours.select()
            .where(
                (ProviderHours.provider == provider_id) & (ProviderHours.weekday == day.weekday())
            )
            .order_by(ProviderHours.start_minute)
        )
        for w in windows:
            for minute in range(w.start_minute, w.end_minute - kind.duration_minutes + 1, 30):
                local = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
                start = slot_rules.to_utc(local, practice.tz)
                end = start + dt.timedelta(minutes=kind.duration_minutes)
                blocked = end + dt.timedelta(minutes=kind.buffer_after_minutes)
                taken = Appointment.select().where(
                    (Appointment.provider == provider_id)
                    & Appointment.status.not_in(appointment_rules.CANCELLED_STATUSES)
                    & (Appointment.starts_at < blocked)
                    & (Appointment.blocked_until > start)
                )
                if not taken.exists():
                    return day, start, end, blocked
        day -= dt.timedelta(days=1)
    raise RuntimeError(f"demo: no free hour for a claims visit near {days_ago} days ago")


def _visit(ctx, client, days_ago, minutes, diagnoses):
    """A completed 60-minute insurance visit about `days_ago` days ago (in Maya's hours, see
    _visit_time), its check-out minutes, and Maya's signed note (signing it makes the claim)."""
    practice, therapist = ctx["practice"], ctx["therapist"]
    kind = ctx["claims_type"]
    day, start, end, blocked = _visit_time(ctx, days_ago)
    appt = Appointment.create(
        practice=practice,
        client=client,
        provider=therapist.provider_id,
        appointment_type=kind,
        starts_at=start,
        ends_at=end,
        blocked_until=blocked,
        status="completed",
        checked_in_at=start,
        completed_at=end,
    )
    for code, m in minutes.items():
        AppointmentMinutes.create(
            practice=practice, client=client, appointment=appt, cpt_code=code, minutes=m
        )
    with _dated(min(end + dt.timedelta(minutes=5), ctx["now"])):  # written after the visit
        note = charting.save_note(
            therapist,
            client,
            charting.NoteInput(
                visit_date=day,
                provider_id=therapist.provider_id,
                appointment_id=appt.id,
                regions=["low-back", "neck"],
                minutes=dict(minutes),
                diagnoses=list(diagnoses),
                **NOTE,
            ),
        )
    with _dated(min(end + dt.timedelta(minutes=10), ctx["now"])):  # signed after the visit
        charting.sign_note(therapist, note)
    return build.visit_claims(appt.id)[0]


def _documents(ctx, jordan, jp, priya, pp):
    practice, today = ctx["practice"], ctx["today"]
    if not Referral.get_or_none((Referral.client == jordan) & (Referral.notes == "demo: claims")):
        # an older referral for the older visits, and the current one
        for first, last, visits in ((130, 31, 6), (30, -150, 12)):
            with clock.told(at_day(practice, today - dt.timedelta(days=first))):
                Referral.create(
                    practice=practice,
                    client=jordan,
                    policy=jp,
                    referring_name="Dr. Ana Whitfield, MD",
                    referring_npi="1790000008",
                    diagnosis_codes="M54.50,M54.2",
                    referral_date=today - dt.timedelta(days=first),
                    end_date=today - dt.timedelta(days=last),
                    visits_allowed=visits,
                    notes="demo: claims",
                )
    if not PriorAuthorization.get_or_none(PriorAuthorization.number == "SAIF-PA-41277"):
        with clock.told(at_day(practice, today - dt.timedelta(days=60))):
            PriorAuthorization.create(
                practice=practice,
                client=priya,
                policy=pp,
                number="SAIF-PA-41277",
                visits_allowed=12,
                start_date=today - dt.timedelta(days=60),
                end_date=today + dt.timedelta(days=60),
                body_regions="Right shoulder, cervical spine",
            )


def _people(ctx):
    practice = ctx["practice"]
    regence, saif, state_farm = ctx["payers"]
    jordan, priya, marcus, helen = ctx["clients"]
    aetna = _payer(
        practice,
        "Aetna",
        {"97124": 6500, "97140": 7000},
        payer_code="60054",
        address1="PO Box 981106",
        city="El Paso",
        state="TX",
        postal_code="79998",
        allow_97124_97140=True,
        affiliated=True,
        filing_limit_days=90,
    )
    lily = _client(
        practice,
        "lily.bell@demo.example",
        first_name="Lily",
        last_name="Bell",
        date_of_birth=dt.date(2011, 5, 9),
        sex="F",
        address1=marcus.address1,
        city=marcus.city,
        state=marcus.state,
        postal_code=marcus.postal_code,
        therapist=marcus.therapist_id,
    )
    start = ctx["today"] - dt.timedelta(days=365)
    with clock.told(at_day(practice, start)):
        lp = _policy(
            practice,
            lily,
            aetna,
            member_id="W221-8841-03",
            group_number="AET-55120",
            plan_name="Aetna Open Access",
            effective_date=start,
            relationship="child",
            subscriber_first_name="Marcus",
            subscriber_last_name="Bell",
            subscriber_dob=marcus.date_of_birth,
            subscriber_sex="M",
        )
        hp = _policy(practice, helen, regence, member_id="RGA55120877", effective_date=start)
    jp = InsurancePolicy.get(
        (InsurancePolicy.client == jordan) & (InsurancePolicy.payer == regence)
    )
    pp = InsurancePolicy.get((InsurancePolicy.client == priya) & (InsurancePolicy.payer == saif))
    _documents(ctx, jordan, jp, priya, pp)
    return jordan, priya, marcus, lily, helen, (jp, pp, lp, hp, state_farm)


def _submit(ctx, claim):
    """Sent the next business day after the visit, in the morning."""
    sent = _moment(ctx, _business_day(claim.service_date), 9, 30)
    with _dated(sent):
        return life.change_status(
            claim,
            cs.SUBMITTED,
            user=ctx["frontdesk"],
            reason="Sent to the payer (demo).",
            submitted_at=sent,
        )


def _after(ctx, claim, days, hour=7):
    """`days` after the claim was sent (an answer comes in overnight: 7 AM)."""
    return _moment(ctx, _day_of(ctx, claim.submitted_at) + dt.timedelta(days=days), hour)


def _later(ctx, when, business_days, hour=10):
    """`business_days` after `when`, at the desk."""
    return _moment(ctx, _business_day(_day_of(ctx, when), business_days), hour)


def _jordan(ctx, jordan):
    """Self, Regence, referral required: accepted then corrected, rejected, sent, ready."""
    desk, massage = ctx["frontdesk"], {"97124": 53}
    _submit(ctx, _visit(ctx, jordan, 100, massage, ["M54.50"]))
    accepted = _submit(ctx, _visit(ctx, jordan, 70, massage, ["M54.50", "M54.2"]))
    acked = _after(ctx, accepted, 2)
    with _dated(acked):
        accepted = life.change_status(
            accepted, cs.ACCEPTED, reason="277CA: accepted into adjudication (A2).",
            payer_claim_number="RG2609210447",
        )  # fmt: skip
    with _dated(_later(ctx, acked, 8)):  # the desk finds the units wrong: a corrected claim
        line = accepted.lines.get()
        life.edit_line(accepted, line.id, units=4, modifiers="", pointers="A,B",
                       charge_cents=28000, user=desk)  # fmt: skip
        life.recheck(accepted, user=desk)  # a corrected claim (7), ready to go again
    rejected = _submit(ctx, _visit(ctx, jordan, 45, massage, ["M54.50"]))
    with _dated(_after(ctx, rejected, 2)):
        history.add_problem(
            rejected,
            "277ca_A7_562",
            "The payer rejected the claim (277CA A7:562, entity's identification number): "
            "check the member ID on the client's policy, then check the claim again.",
            fix_where="policy",
            source="277ca",
        )
        life.change_status(rejected, cs.REJECTED, reason="277CA: A7:562 member ID not found.")
    _submit(ctx, _visit(ctx, jordan, 12, massage, ["M54.50", "M54.2"]))
    _visit(ctx, jordan, 5, massage, ["M54.50"])  # ready


def _priya(ctx, priya):
    """Workers' compensation with a prior authorization: denied and appealed, sent, ready."""
    desk = ctx["frontdesk"]
    denied = _submit(ctx, _visit(ctx, priya, 40, {"97124": 45}, ["S46.011A", "S13.4XXA"]))
    answered = _after(ctx, denied, 17)
    with _dated(answered):
        life.change_status(denied, cs.DENIED, reason="835: denied, CARC 197 (authorization).")
    with _dated(_later(ctx, answered, 2)):
        life.appeal(
            denied, "The authorization SAIF-PA-41277 covered the visit: copy sent.", user=desk
        )
    _submit(ctx, _visit(ctx, priya, 25, {"97124": 45}, ["S46.011A"]))
    _visit(ctx, priya, 18, {"97124": 45}, ["S46.011A"])  # ready


def _marcus(ctx, marcus):
    """Auto accident, per-code units: accepted; one voided and billed again."""
    desk = ctx["frontdesk"]
    auto = _submit(ctx, _visit(ctx, marcus, 30, {"97124": 45}, ["S13.4XXA"]))
    with _dated(_after(ctx, auto, 2)):
        life.change_status(auto, cs.ACCEPTED, payer_claim_number="SF378Q21994A")
    wrong = _visit(ctx, marcus, 8, {"97124": 45}, ["S13.4XXA"])
    voided = _moment(ctx, _business_day(wrong.service_date), 11)
    with _dated(voided):
        life.void(wrong, "Made before the adjuster confirmed the visit; billed again.", user=desk)
    with _dated(min(voided + dt.timedelta(minutes=5), ctx["now"])):
        build.create_for_visit(wrong.appointment, user=desk)


def _lily(ctx, lily):
    """A dependent on her father's Aetna plan; 97124 with 97140, 59 on 97140: denied and
    closed, sent, ready."""
    desk, pair = ctx["frontdesk"], {"97124": 38, "97140": 22}
    closed = _submit(ctx, _visit(ctx, lily, 95, pair, ["M54.2", "M54.50"]))
    answered = _after(ctx, closed, 18)
    with _dated(answered):
        life.change_status(
            closed, cs.DENIED, reason="835: denied, CARC 50 (not medically necessary)."
        )
    with _dated(_later(ctx, answered, 4)):
        life.close(closed, "Not medically necessary per the plan; the family was told.", user=desk)
    _submit(ctx, _visit(ctx, lily, 20, pair, ["M54.2", "M54.50"]))
    _visit(ctx, lily, 3, pair, ["M54.2", "M54.50"])  # ready


def load(ctx):
    practice = ctx["practice"]
    if Claim.select().where(Claim.practice == practice).exists():
        return
    ctx["now"] = clock.utcnow()
    ctx["today"] = slot_rules.to_local(ctx["now"], practice.tz).date()
    ctx["claims_type"] = AppointmentType.get(
        (AppointmentType.practice == practice) & AppointmentType.bill_insurance
    )
    jordan, priya, marcus, lily, helen, _ = _people(ctx)
    _jordan(ctx, jordan)
    _priya(ctx, priya)
    _marcus(ctx, marcus)
    _lily(ctx, lily)
    # Helen: held (Regence needs a referral; no address on file).
    _visit(ctx, helen, 10, {"97124": 53}, ["M54.50"])
