"""Coverage checks before a visit: verification, referral and authorization status, and
the flags a client's signed intake raised.

Stable API (the schedule calls these at check-in and on the day view):
- visit_warnings(client, on_date) -> list[str]
- intake_flags(client) -> list[str]
For claims (CMS-1500 box 17 and 23): current_referral / current_authorization(client,
on_date, policy=None) -> the valid row or None.

Visits used on a referral or an authorization are counted from completed visits of an
appointment type billed to insurance inside its date range, plus the visits used before
it was entered here (`visits_used_before`).
"""

import datetime as dt

from portal.models import (
    BenefitsVerification,
    InsurancePolicy,
    IntakeSubmission,
    PriorAuthorization,
    Referral,
)
from portal.rules import coverage as rules

_d = rules.day


def _utc_bounds(practice, start, end):
    """Naive-UTC datetimes for local midnight of `start` and of the day after `end`."""
    tz = practice.tz
    lo = dt.datetime.combine(start, dt.time()).replace(tzinfo=tz).astimezone(dt.UTC)
    hi = None
    if end is not None:
        hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time()).replace(tzinfo=tz)
        hi = hi.astimezone(dt.UTC).replace(tzinfo=None)
    return lo.replace(tzinfo=None), hi


def billed_visits(client, start, end=None):
    """Completed visits of insurance-billed types for `client` from `start` through `end`."""
    try:
        from portal.models.scheduling import STATUS_COMPLETED, Appointment, AppointmentType
    except ImportError:  # scheduling not installed
        return 0
    lo, hi = _utc_bounds(client.practice, start, end)
    q = (
        Appointment.select()
        .join(AppointmentType)
        .where(
            (Appointment.client == client.id)
            & (Appointment.status == STATUS_COMPLETED)
            & (AppointmentType.bill_insurance == True)  # noqa: E712
            & (Appointment.starts_at >= lo)
        )
    )
    if hi is not None:
        q = q.where(Appointment.starts_at < hi)
    return q.count()


def referral_used(ref):
    used = billed_visits(ref.client, ref.referral_date, ref.end_date)
    return (ref.visits_used_before or 0) + used


def authorization_used(auth):
    return (auth.visits_used_before or 0) + billed_visits(
        auth.client, auth.start_date, auth.end_date
    )


def referral_status(ref, on_date):
    """(state, used, text): state is ok | not_started | expired | used_up | last."""
    used = referral_used(ref)
    st, text = rules.state(ref.referral_date, ref.end_date, ref.visits_allowed, used, on_date)
    return st, used, text


def authorization_status(auth, on_date):
    used = authorization_used(auth)
    st, text = rules.state(auth.start_date, auth.end_date, auth.visits_allowed, used, on_date)
    return st, used, text


def active_policies(client):
    return list(
        InsurancePolicy.select()
        .where((InsurancePolicy.client == client.id) & InsurancePolicy.active)
        .order_by(InsurancePolicy.rank, InsurancePolicy.id)
    )


def latest_verification(policy):
    return (
        BenefitsVerification.select()
        .where(BenefitsVerification.policy == policy.id)
        .order_by(BenefitsVerification.verified_on.desc(), BenefitsVerification.id.desc())
        .first()
    )


def _for_policy(model, client, policy):
    return list(
        model.select()
        .where(
            (model.client == client.id)
            & model.active
            & ((model.policy == policy.id) | model.policy.is_null())
        )
        .order_by(model.id.desc())
    )


def verification_summary(v, today=None):
    """'Verified Nov 3: $40 copay, 12 of 20 visits left, referral needed'."""
    from portal.rules.money import format_cents as _fc

    def format_cents(c):
        text = _fc(c)
        return text[:-3] if text.endswith(".00") else text

    parts = []
    if not v.covered:
        parts.append("massage not covered")
    if v.copay_cents is not None:
        parts.append(f"{format_cents(v.copay_cents)} copay")
    if v.coinsurance_percent is not None:
        parts.append(f"{v.coinsurance_percent}% coinsurance")
    if v.deductible_cents:
        met = v.deductible_met_cents or 0
        parts.append(f"deductible {format_cents(met)} of {format_cents(v.deductible_cents)} met")
    if v.visits_per_year is not None:
        since = billed_visits(v.client, v.verified_on + dt.timedelta(days=1))
        left = rules.visits_left(v.visits_per_year, v.visits_used, since)
        parts.append(f"{left} of {v.visits_per_year} visits left")
    if v.referral_required:
        parts.append("referral needed")
    if v.authorization_required:
        parts.append("authorization needed")
    head = f"Verified {v.verified_on:%b} {v.verified_on.day}"
    return head + (": " + ", ".join(parts) if parts else "")


def visit_warnings(client, on_date):
    """Warnings before a visit on `on_date` (a local date): [] when nothing is wrong.

    Self-pay clients (no active policy) get no warnings.
    """
    policies = active_policies(client)
    if not policies:
        return []
    covering = [p for p in policies if p.covers(on_date)]
    if not covering:
        return [f"No insurance policy is in effect on {_d(on_date)}."]
    policy = covering[0]
    payer = policy.payer
    warnings = []
    v = latest_verification(policy)
    if v is None:
        warnings.append(f"Benefits not verified for {payer.name}.")
    elif not v.covered:
        warnings.append(f"{payer.name} said massage is not covered (verified {_d(v.verified_on)}).")
    need_ref = payer.referral_required or bool(v and v.referral_required)
    need_auth = payer.authorization_required or bool(v and v.authorization_required)
    if need_ref:
        warnings.extend(_check_documents(client, policy, on_date, Referral, "referral"))
    if need_auth:
        warnings.extend(
            _check_documents(client, policy, on_date, PriorAuthorization, "prior authorization")
        )
    return warnings


def _check_documents(client, policy, on_date, model, noun):
    rows = _for_policy(model, client, policy)
    status_fn = referral_status if model is Referral else authorization_status
    payer = policy.payer.name
    if not rows:
        return [f"{payer} requires a {noun}; none is on file."]
    statuses = [(row, *status_fn(row, on_date)) for row in rows]
    for _row, state, _used, _text in statuses:
        if state == "ok":
            return []
    for _row, state, _used, text in statuses:
        if state == "last":
            return [f"Last visit on the {noun}: {text}."]
    _row, state, _used, text = statuses[0]
    return [f"The {noun} for {payer} is {text}; {payer} requires a valid one."]


def document_warnings(client, on_date, skip=()):
    """Expired, used-up or last-visit referrals and authorizations (for the client page).
    `skip` ('referral', 'authorization') leaves out a kind visit_warnings already spoke of."""
    out = []
    refs = (
        []
        if "referral" in skip
        else Referral.select().where((Referral.client == client.id) & Referral.active)
    )
    for ref in refs:
        state, _used, text = referral_status(ref, on_date)
        if state in ("expired", "used_up", "last"):
            out.append(f"Referral from {ref.referring_name}: {text}.")
    auths = (
        []
        if "authorization" in skip
        else PriorAuthorization.select().where(
            (PriorAuthorization.client == client.id) & PriorAuthorization.active
        )
    )
    for auth in auths:
        state, _used, text = authorization_status(auth, on_date)
        if state in ("expired", "used_up", "last"):
            out.append(f"Authorization {auth.number}: {text}.")
    return out


def latest_submissions(client):
    """The latest signed submission of each form for `client` (newest first)."""
    seen = set()
    out = []
    rows = (
        IntakeSubmission.select()
        .where(IntakeSubmission.client == client.id)
        .order_by(IntakeSubmission.signed_at.desc(), IntakeSubmission.id.desc())
    )
    for s in rows:
        key = s.form_id or s.form_title
        if key in seen:
            continue
        seen.add(key)
        out.append(s)
    return out


def intake_flags(client):
    """Flags (contraindications and the like) from the latest signed submission of each form."""
    flags = []
    for s in latest_submissions(client):
        for f in s.flags:
            if f not in flags:
                flags.append(f)
    return flags


def flagged_client_ids(practice_id, client_ids):
    """Of these clients, those whose latest signed submission of some form raised a flag.

    One query for a whole day or week of the schedule (intake_flags() is per client)."""
    import json

    from portal.db import database

    ids = sorted({int(c) for c in client_ids})
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    rows = database.execute_sql(
        "SELECT client_id, form_id, form_title, flags_json FROM intake_submission "
        f"WHERE practice_id = ? AND client_id IN ({marks}) ORDER BY signed_at DESC, id DESC",
        [int(practice_id), *ids],
    )
    seen, flagged = set(), set()
    for cid, form_id, title, flags_json in rows:
        key = (cid, form_id or title)
        if key in seen:
            continue
        seen.add(key)
        if json.loads(flags_json or "[]"):
            flagged.add(cid)
    return flagged


def _current(model, status_fn, client, on_date, policy=None):
    q = model.select().where((model.client == client.id) & model.active)
    if policy is not None:
        q = q.where((model.policy == policy.id) | model.policy.is_null())
    for row in q.order_by(model.id.desc()):
        if status_fn(row, on_date)[0] in ("ok", "last"):
            return row
    return None


def current_referral(client, on_date, policy=None):
    """The referral valid on `on_date` (in its dates, visits left), newest first, or None."""
    return _current(Referral, referral_status, client, on_date, policy)


def current_authorization(client, on_date, policy=None):
    """The prior authorization valid on `on_date`, newest first, or None."""
    return _current(PriorAuthorization, authorization_status, client, on_date, policy)
