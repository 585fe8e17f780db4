"""Coverage checks before a visit: verification, referral and authorization status, and
the flags a client's signed intake raised.

Stable API (the schedule calls these at check-in and on the day view):
- visit_warnings(client, on_date) -> list[str]
- intake_flags(client) -> list[str]
For claims (CMS-1500 box 17 and 23): current_referral / current_authorization(client,
on_date, policy=None) -> the valid row or None.

Visits used on a referral or an authorization are counted from completed visits of an
appointment type billed to insurance inside its date range, plus the visits used before
it was entered here (`visits_used_before`). A referral or authorization belongs to one
policy (or, with none named, to any): only the visits billed to that policy count, so a
client's new policy (another payer, a new member ID) does not use up the old one's, nor
the old one's visits the new one's. A visit is billed to the policies of its claims (void
ones left out); a visit with no claim yet to the policies its claims will go to: the
newest active primary and secondary in effect on its day (claims/data.active_policy). A
verification's visits a year count the same way, those billed to its policy.
"""

import datetime as dt
import json
from functools import cached_property

from peewee import JOIN

from portal import clock
from portal.db import database, q
from portal.models import (
    BenefitsVerification,
    CardImage,
    Claim,
    InsurancePolicy,
    IntakeSubmission,
    Payer,
    PriorAuthorization,
    Referral,
)
from portal.models.scheduling import STATUS_COMPLETED, Appointment, AppointmentType
from portal.rules import claim_status
from portal.rules import coverage as rules
from portal.rules.money import format_cents as _format_cents
from portal.services import reads

_d = rules.day


def _utc_midnight(day, tz):
    """Naive UTC for local midnight of `day`; at the calendar's ends, the end itself."""
    try:
        when = dt.datetime.combine(day, dt.time()).replace(tzinfo=tz).astimezone(dt.UTC)
    except OverflowError:
        return dt.datetime.min if day.year == dt.MINYEAR else dt.datetime.max
    return when.replace(tzinfo=None)


def _utc_bounds(practice, start, end):
    """Naive-UTC datetimes for local midnight of `start` and of the day after `end`. An end
    of 12/31/9999, what payers write for "no end", is open (None)."""
    tz = practice.tz
    hi = None
    if end is not None and end < dt.date.max:
        hi = _utc_midnight(end + dt.timedelta(days=1), tz)
    return _utc_midnight(start, tz), hi


def _billed_visits_query(client_id):
    """The client's completed visits of insurance-billed types, a row per claim billing
    each (its policy; None for a visit with no claim but void ones)."""
    return (
        Appointment.select(Appointment.id, Appointment.starts_at, Claim.policy)
        .join(AppointmentType)
        .switch(Appointment)
        .join(
            Claim,
            JOIN.LEFT_OUTER,
            on=(Claim.appointment == Appointment.id) & (Claim.status != claim_status.VOID),
        )
        .where(
            (Appointment.client == client_id)
            & (Appointment.status == STATUS_COMPLETED)
            & (AppointmentType.bill_insurance == True)  # noqa: E712
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )


def billed_visits(client, start, end=None, policy=None):
    """Completed visits of insurance-billed types for `client` from `start` through `end`,
    billed to `policy` (a policy or its id; None: any)."""
    return ClientInsurance(client).billed_visits(start, end, policy)


def visits_before(appointment, start_date, policy=None):
    """The client's billed visits from `start_date` (local) up to `appointment`, this one
    left out, billed to `policy` (None: any): what a referral or authorization had used
    before the visit (the claim build's count)."""
    ins = ClientInsurance(appointment.client, appointment.practice)
    return ins.billed_visits(start_date, policy=policy, before=appointment)


def _policies_query(client_id):
    return (
        InsurancePolicy.select(InsurancePolicy, Payer)
        .join(Payer)
        .where(InsurancePolicy.client == client_id)
        .order_by(InsurancePolicy.active.desc(), InsurancePolicy.rank, InsurancePolicy.id)
    )


def _verifications_query(client_id):
    return (
        BenefitsVerification.select()
        .where(BenefitsVerification.client == client_id)
        .order_by(BenefitsVerification.verified_on.desc(), BenefitsVerification.id.desc())
    )


def _cards_query(client_id):
    return (
        CardImage.select(
            CardImage.id,
            CardImage.policy,
            CardImage.side,
            CardImage.content_type,
            CardImage.uploaded_at,
        )
        .where((CardImage.client == client_id) & CardImage.replaced_at.is_null())
        .order_by(CardImage.uploaded_at)
    )


def _referrals_query(client_id):
    return (
        Referral.select()
        .where(Referral.client == client_id)
        .order_by(Referral.active.desc(), Referral.referral_date.desc())
    )


def _authorizations_query(client_id):
    return (
        PriorAuthorization.select()
        .where(PriorAuthorization.client == client_id)
        .order_by(PriorAuthorization.active.desc(), PriorAuthorization.start_date.desc())
    )


class ClientInsurance:
    """A client's policies (with payers), latest verifications, current cards, referrals,
    authorizations and billed visits, each read once, in one query, when first needed:
    the client page shows all of them and the warnings are computed from the same rows."""

    def __init__(self, client, practice=None):
        """`practice`: the client's, when the caller has it (its time zone dates visits)."""
        self.client = client
        self.practice = practice
        self._values = {"client_id": client.id}

    @cached_property
    def policies(self):
        """All policies, active first, then by rank, each with its payer."""
        return reads.instances(
            "coverage.policies", _policies_query, self._values, InsurancePolicy, ((Payer, "payer"),)
        )

    @cached_property
    def _verifications(self):
        latest = {}
        found = reads.instances(
            "coverage.verifications", _verifications_query, self._values, BenefitsVerification
        )
        for v in found:
            latest.setdefault(v.policy_id, v)
        return latest

    def latest_verification(self, policy):
        return self._verifications.get(policy.id)

    @cached_property
    def _cards(self):
        by_policy, loose = {}, []
        for c in reads.instances("coverage.cards", _cards_query, self._values, CardImage):
            if c.policy_id is None:
                loose.append(c)
            else:
                by_policy.setdefault(c.policy_id, {"front": None, "back": None})[c.side] = c
        return by_policy, loose[::-1]

    def cards(self, policy):
        """{'front': CardImage|None, 'back': CardImage|None} for a policy (id, side, type and
        upload time of each)."""
        return self._cards[0].get(policy.id, {"front": None, "back": None})

    @property
    def unattached_cards(self):
        """Card images not attached to a policy, newest first."""
        return self._cards[1]

    @cached_property
    def referrals(self):
        """All referrals, active first, newest first."""
        return reads.instances("coverage.referrals", _referrals_query, self._values, Referral)

    @cached_property
    def authorizations(self):
        """All prior authorizations, active first, newest first."""
        return reads.instances(
            "coverage.authorizations", _authorizations_query, self._values, PriorAuthorization
        )

    @cached_property
    def _visits(self):
        """[(visit id, start, frozenset of the policy ids its claims went to)]."""
        found = {}
        for visit_id, starts_at, policy_id in reads.rows(
            "coverage.billed_visits", _billed_visits_query, self._values
        ):
            _, _, ids = found.setdefault(visit_id, (visit_id, starts_at, set()))
            if policy_id is not None:
                ids.add(policy_id)
        return [(i, t, frozenset(ids)) for i, t, ids in found.values()]

    @property
    def _tz(self):
        return (self.practice or self.client.practice).tz

    def billed_to(self, starts_at, claimed=frozenset()):
        """The policy ids a visit is billed to: those of its claims, or with none yet, the
        newest active primary and secondary in effect on its day (as claims pick them)."""
        if claimed:
            return claimed
        day = clock.local_date(starts_at, self._tz)
        out = set()
        for rank in ("primary", "secondary"):
            found = [p for p in self.policies if p.active and p.rank == rank and p.covers(day)]
            if found:
                out.add(max(found, key=_id).id)
        return frozenset(out)

    def billed_visits(self, start, end=None, policy=None, before=None):
        """Visits from `start` through `end` (local dates), billed to `policy` (a policy or
        its id; None: any), and before the visit `before` (not counting it) when given."""
        lo, hi = _utc_bounds(self.practice or self.client.practice, start, end)
        policy_id = getattr(policy, "id", policy)
        n = 0
        for visit_id, t, claimed in self._visits:
            if t < lo or (hi is not None and t >= hi):
                continue
            if before is not None and (visit_id == before.id or t >= before.starts_at):
                continue
            if policy_id is None or policy_id in self.billed_to(t, claimed):
                n += 1
        return n


def _billed(doc, start, end, ins):
    """The visits billed to the document's policy (any, for one naming none) in its dates."""
    if ins is not None:
        return ins.billed_visits(start, end, doc.policy_id)
    return billed_visits(doc.client, start, end, doc.policy_id)


def referral_used(ref, ins=None):
    return (ref.visits_used_before or 0) + _billed(ref, ref.referral_date, ref.end_date, ins)


def authorization_used(auth, ins=None):
    return (auth.visits_used_before or 0) + _billed(auth, auth.start_date, auth.end_date, ins)


def referral_status(ref, on_date, ins=None):
    """(state, used, text): state is ok | not_started | expired | used_up | last.
    `ins`: the client's ClientInsurance, when the caller has one (no query then)."""
    used = referral_used(ref, ins)
    st, text = rules.state(ref.referral_date, ref.end_date, ref.visits_allowed, used, on_date)
    return st, used, text


def authorization_status(auth, on_date, ins=None):
    used = authorization_used(auth, ins)
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


def verification_summary(v, ins=None):
    """'Verified Nov 3: $40 copay, 12 of 20 visits left, referral needed'."""

    def format_cents(c):
        text = _format_cents(c)
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
        # From the day of the call on: a visit that day (the call is made before it) cannot
        # be in the payer's count of visits used yet.
        if ins is not None:
            since = ins.billed_visits(v.verified_on, policy=v.policy_id)
        else:
            since = billed_visits(v.client, v.verified_on, policy=v.policy_id)
        left = rules.visits_left(v.visits_per_year, v.visits_used, since)
        parts.append(f"{left} of {v.visits_per_year} visits left")
    if v.referral_required:
        parts.append("referral needed")
    if v.authorization_required:
        parts.append("authorization needed")
    practice = (ins.practice or ins.client.practice) if ins is not None else v.practice
    head = rules.verified_head(v.verified_on, clock.today(practice.tz))
    return head + (": " + ", ".join(parts) if parts else "")


def visit_warnings(client, on_date, ins=None):
    """Warnings before a visit on `on_date` (a local date): [] when nothing is wrong.

    Self-pay clients (no active policy) get no warnings. `ins`: the client's
    ClientInsurance when the caller already has one.
    """
    ins = ins or ClientInsurance(client)
    policies = [p for p in ins.policies if p.active]
    if not policies:
        return []
    covering = [p for p in policies if p.covers(on_date)]
    if not covering:
        return [
            f"No insurance policy is in effect on {_d(on_date)}: correct the policy's dates, "
            f"or add the client's current policy (Add a policy, {rules.WHERE})."
        ]
    policy = billed_policy(covering)
    payer = policy.payer
    warnings = _same_rank(covering, on_date)
    v = ins.latest_verification(policy)
    if v is None:
        warnings.append(
            f"Benefits not verified for {payer.name}: call {payer.name} and record what they "
            f"say (Record a verification, {rules.WHERE})."
        )
    elif not v.covered:
        warnings.append(
            f"{payer.name} said massage is not covered (verified {_d(v.verified_on)}): bill "
            "the visit as self-pay, or record a new verification if the plan changed."
        )
    elif rules.later_plan_year(v.verified_on, on_date, v.plan_year_month):
        warnings.append(
            rules.stale_verification(payer.name, v.verified_on, on_date, v.plan_year_month)
        )
    elif v.visits_per_year is not None:
        # the visits billed to this policy: a replaced policy's are not this payer's count
        used = ins.billed_visits(v.verified_on, on_date - dt.timedelta(days=1), policy.id)
        if rules.visits_left(v.visits_per_year, v.visits_used, used) == 0:
            warnings.append(rules.no_visits_left(payer.name, v.visits_per_year, v.verified_on))
    need_ref = payer.referral_required or bool(v and v.referral_required)
    need_auth = payer.authorization_required or bool(v and v.authorization_required)
    if need_ref:
        warnings.extend(_check_documents(ins, policy, on_date, "referral"))
    if need_auth:
        warnings.extend(_check_documents(ins, policy, on_date, "prior authorization"))
    return warnings


def billed_policy(covering):
    """Of the active policies in effect on a day, the one a visit is billed to: the newest
    primary, as a claim picks it (claims/data.active_policy); else the first of them."""
    primaries = [p for p in covering if p.rank == "primary"]
    return max(primaries, key=_id) if primaries else covering[0]


def _same_rank(covering, on_date):
    """A warning per rank held by two policies or more on the day (a new policy added
    before the old one was given its end date)."""
    out = []
    for rank in ("primary", "secondary"):
        same = sorted((p for p in covering if p.rank == rank), key=_id)
        if len(same) > 1:
            named = [(p.payer.name, p.effective_date) for p in same]
            out.append(rules.same_rank(rank, on_date, named))
    return out


def _check_documents(ins, policy, on_date, noun):
    if noun == "referral":
        docs, status_fn = ins.referrals, referral_status
    else:
        docs, status_fn = ins.authorizations, authorization_status
    # active, for this policy or for any, newest entered first
    rows = sorted(
        (d for d in docs if d.active and d.policy_id in (policy.id, None)),
        key=lambda d: -_id(d),
    )
    payer = policy.payer.name
    if not rows:
        return [rules.missing_document(noun, payer)]
    statuses = [(row, *status_fn(row, on_date, ins)) for row in rows]
    for _row, state, _used, _text in statuses:
        if state == "ok":
            return []
    for row, state, _used, text in statuses:
        if state == "last":
            return [rules.last_document(noun, text, payer, _referring(row))]
    row, state, _used, text = statuses[0]
    return [rules.invalid_document(noun, payer, state, text, _referring(row))]


def _referring(row):
    return getattr(row, "referring_name", "") or ""


def _id(row):
    return row.id


def document_warnings(client, on_date, skip=(), ins=None):
    """Expired, used-up or last-visit referrals and authorizations (for the client page).
    `skip` ('referral', 'authorization') leaves out a kind visit_warnings already spoke of."""
    ins = ins or ClientInsurance(client)
    out = []
    refs = [] if "referral" in skip else sorted((r for r in ins.referrals if r.active), key=_id)
    for ref in refs:
        state, _used, text = referral_status(ref, on_date, ins)
        if state in ("expired", "used_up", "last"):
            out.append(f"Referral from {ref.referring_name}: {text}.")
    auths = (
        []
        if "authorization" in skip
        else sorted((a for a in ins.authorizations if a.active), key=_id)
    )
    for auth in auths:
        state, _used, text = authorization_status(auth, on_date, ins)
        if state in ("expired", "used_up", "last"):
            out.append(f"Authorization {auth.number}: {text}.")
    return out


def latest_submissions(client, submissions=None):
    """The latest signed submission of each form for `client` (newest first). `submissions`:
    all of the client's, newest first, when the caller has them already."""
    seen = set()
    out = []
    if submissions is None:
        submissions = (
            IntakeSubmission.select()
            .where(IntakeSubmission.client == client.id)
            .order_by(IntakeSubmission.signed_at.desc(), IntakeSubmission.id.desc())
        )
    for s in submissions:
        key = s.form_id or s.form_title
        if key in seen:
            continue
        seen.add(key)
        out.append(s)
    return out


def intake_flags(client, submissions=None):
    """Flags (contraindications and the like) from the latest signed submission of each form."""
    flags = []
    for s in latest_submissions(client, submissions):
        for f in s.flags:
            if f not in flags:
                flags.append(f)
    return flags


def flagged_client_ids(practice_id, client_ids):
    """Of these clients, those whose latest signed submission of some form raised a flag.

    One query for a whole day or week of the schedule (intake_flags() is per client)."""
    ids = sorted({int(c) for c in client_ids})
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    rows = database.execute_sql(
        q(
            "SELECT client_id, form_id, form_title, flags_json FROM intake_submission "
            f"WHERE practice_id = ? AND client_id IN ({marks}) ORDER BY signed_at DESC, id DESC"
        ),
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
    ins = ClientInsurance(client)
    for row in q.order_by(model.id.desc()):
        if status_fn(row, on_date, ins)[0] in ("ok", "last"):
            return row
    return None


def current_referral(client, on_date, policy=None):
    """The referral valid on `on_date` (in its dates, visits left), newest first, or None."""
    return _current(Referral, referral_status, client, on_date, policy)


def current_authorization(client, on_date, policy=None):
    """The prior authorization valid on `on_date`, newest first, or None."""
    return _current(PriorAuthorization, authorization_status, client, on_date, policy)
