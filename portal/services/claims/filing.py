"""Claims running out of time to file: the payer's filing limit (Payer.filing_limit_days,
rules/filing_limit.py) against the claims the payer has not received.

    for claim, status in due(practice_id, today, tz): ...   # the work list's item
    status = standing(claim, events, today, tz)             # the claim page; None: say nothing
    status = for_claim(claim, events, today, tz, answers)   # with the primary's answers read

Not received: a claim not sent yet (draft, held or ready) or whose sends were all
rejected (999 or 277CA: they never entered the payer's system), and that the payer has not
numbered. A claim sent before and being corrected (frequency 7) was received: its
original's first submission counts, and it is not listed.

The clock starts on the date of service, or for a secondary claim on its primary claim's
first answer (rules clock_start): the day of each answer in the primary's history (a
payer's answer posted, from an 835 or by hand, leaving the claim paid, partly paid or
denied) is the 835's payment date (BPR16) when the answer came from an 835 that gave one,
or the payer's date typed with a payment posted by hand (claim_event.paid_on, 0035), else
the day it was posted in the practice's zone. No answer on record: the date of
service (the strict choice). The same days date the primary's payment on the secondary's
837P (batch837, DTP*573): there, the latest answer's (answers_by_claim), and on each line
(loop 2430) the latest answer's that adjudicated that line (batch837._postings_of).

due() is two statements whatever the number of claims: the claims (their clock's start
narrowed in SQL: see _start_sql), and the history deciding them (the sends of those sent
before, the answers of the primaries of the secondary ones).
"""

import datetime as dt

from peewee import JOIN, Case, fn

from portal import clock
from portal.db import day_before, plus_days
from portal.models.claims import Claim, ClaimEvent, Remittance
from portal.models.insurance import Payer
from portal.models.people import Client
from portal.rules import claim_status as cs
from portal.rules import filing_limit as rules

UNSENT = (cs.DRAFT, cs.READY, cs.REJECTED)
SENDS = (cs.SUBMITTED, cs.REJECTED)
ANSWERS = tuple(rules.ANSWERS)  # the primary's answers that start a secondary's clock
# The history rows that are a payer's answer: a posting (posting.post, from an 835 or by
# hand) or a status set to one by hand; not a write-off or an acknowledgment that leaves
# the claim paid or denied (the practice's act, or the clearinghouse's, not the payer's).
ANSWER_ACTIONS = ("posted", "status")
_IS_ANSWER = ClaimEvent.to_status.in_(ANSWERS) & ClaimEvent.action.in_(ANSWER_ACTIONS)
SECONDARY = "secondary"
LIMIT = 200


def _sends(claim, events, tz):
    """(local date, status) of the claim's sends and rejections, in order; a claim sent
    with no history of it (made before the history kept sends) counts its submitted_at."""
    out = [(clock.local_date(e.created_at, tz), e.to_status) for e in events]
    out = [(day, status) for day, status in out if status in SENDS]
    if not out and claim.submitted_at is not None:
        out = [(clock.local_date(claim.submitted_at, tz), cs.SUBMITTED)]
        if claim.status == cs.REJECTED:
            out.append((out[0][0], cs.REJECTED))
    return out


def is_secondary(claim):
    """A secondary claim that names its primary (whose answer may start its clock)."""
    return claim.rank == SECONDARY and claim.primary_claim_id is not None


def _answer_day(event, tz):
    """The day of a primary claim's answer: the 835's payment date, or the payer's date
    typed with a payment posted by hand, else the local day it was posted."""
    return event.payment_date or event.paid_on or clock.local_date(event.created_at, tz)


def answers_by_claim(primary_ids, tz):
    """{primary claim id: [(day, status), ...]}: the answers in the history of the claims
    `primary_ids`, oldest first, in one statement (a claim with none is left out). Each
    day is the payer's date of the answer: the 835's payment date (BPR16, the remittance's
    payment_date), or the date typed with a payment posted by hand (paid_on), else the day
    it was posted in the practice's zone `tz` (an 835 without one, or no date typed).

    The one source of a primary's answer dates, read two ways for its secondary claim:
    - the filing clock starts on the FIRST answer (rules.clock_start: the strict choice
      when the primary answered again after a reversal or an appeal);
    - the 837P tells the secondary payer the date of the LATEST answer (latest_day: its
      DTP*573 "date claim paid"), the one whose money the 837P reports (after any reversal
      and correction: the claim's paid_cents, its AMT*D, SVD and CAS)."""
    out = {}
    if not primary_ids:
        return out
    for e in (
        ClaimEvent.select(
            ClaimEvent.claim,
            ClaimEvent.to_status,
            ClaimEvent.created_at,
            ClaimEvent.paid_on,
            Remittance.payment_date,
        )
        .join(Remittance, JOIN.LEFT_OUTER, on=(ClaimEvent.remittance == Remittance.id))
        .where(ClaimEvent.claim.in_(list(primary_ids)) & _IS_ANSWER)
        .order_by(ClaimEvent.claim, ClaimEvent.id)
        .objects()
    ):
        out.setdefault(e.claim_id, []).append((_answer_day(e, tz), e.to_status))
    return out


def latest_day(answers):
    """The day of the latest of `answers` (answers_by_claim's list): the primary's payment
    date a secondary's 837P reports. None when there is none."""
    return answers[-1][0] if answers else None


def primary_answers(claim, tz):
    """(day, status) of the answers in the history of a secondary claim's primary; () for
    a primary claim (one statement for a secondary, none otherwise)."""
    if not is_secondary(claim):
        return ()
    return answers_by_claim([claim.primary_claim_id], tz).get(claim.primary_claim_id, [])


def for_claim(claim, events, today, tz, answers=()):
    """The claim's standing against its payer's limit (a FilingStatus), or None when the
    limit is not known or the claim is void (a void claim withdraws one: no limit).
    `events`: the claim's history; `answers`: primary_answers(claim, tz)."""
    limit = claim.payer.filing_limit_days
    if limit is None or claim.status == cs.VOID:
        return None
    received = rules.first_received(
        _sends(claim, events, tz), numbered=bool(claim.payer_claim_number.strip())
    )
    start = rules.clock_start(claim.service_date, is_secondary(claim), answers)
    return rules.filing_status(claim.service_date, limit, received, today, start=start)


def standing(claim, events, today, tz):
    """for_claim for one claim, its primary's answers read here (the claim page)."""
    return for_claim(claim, events, today, tz, primary_answers(claim, tz))


def _start_sql():
    """The day the claim's clock starts, in SQL: the date of service, or for a secondary
    claim its primary's first answer. Each answer counts as the 835's payment date, or
    else the day before the UTC day it was posted (never after the local day in any
    zone): a day early at most, so the SQL takes every claim due, and a few a day from
    it that the rules (with the local day) leave out."""
    day = fn.COALESCE(
        Remittance.payment_date, ClaimEvent.paid_on, day_before(ClaimEvent.created_at)
    )
    first_answer = (
        ClaimEvent.select(fn.MIN(day))
        .join(Remittance, JOIN.LEFT_OUTER, on=(ClaimEvent.remittance == Remittance.id))
        .where((ClaimEvent.claim == Claim.primary_claim) & _IS_ANSWER)
    )
    secondary = (Claim.rank == SECONDARY) & Claim.primary_claim.is_null(False)
    return Case(
        None, [(secondary, fn.COALESCE(first_answer, Claim.service_date))], Claim.service_date
    )


def _history(claims, tz):
    """({claim id: [its sends]}, {primary id: [(day, status) of its answers]}) of
    `claims`: one statement."""
    sent_before = [c.id for c in claims if c.submitted_at is not None]
    primaries = [c.primary_claim_id for c in claims if is_secondary(c)]
    sends, answers = {}, {}
    for e in (
        ClaimEvent.select(
            ClaimEvent.claim,
            ClaimEvent.to_status,
            ClaimEvent.created_at,
            ClaimEvent.paid_on,
            Remittance.payment_date,
        )
        .join(Remittance, JOIN.LEFT_OUTER, on=(ClaimEvent.remittance == Remittance.id))
        .where(
            (ClaimEvent.claim.in_(sent_before) & ClaimEvent.to_status.in_(SENDS))
            | (ClaimEvent.claim.in_(primaries) & _IS_ANSWER)
        )
        .order_by(ClaimEvent.claim, ClaimEvent.id)
        .objects()
    ):
        if e.to_status in SENDS:
            sends.setdefault(e.claim_id, []).append(e)
        else:
            answers.setdefault(e.claim_id, []).append((_answer_day(e, tz), e.to_status))
    return sends, answers


def due(practice_id, today, tz):
    """[(claim, FilingStatus)] of the practice's claims the payer has not received, whose
    deadline is WARN_DAYS away or nearer, or past: the soonest deadline first."""
    deadline = plus_days(_start_sql(), Payer.filing_limit_days)
    where = (
        (Claim.practice == practice_id)
        & Claim.status.in_(UNSENT)
        & (Claim.payer_claim_number == "")
        & Payer.filing_limit_days.is_null(False)
        & (deadline <= today + dt.timedelta(days=rules.WARN_DAYS))
    )
    claims = list(
        Claim.select(Claim, Client, Payer)
        .join_from(Claim, Client, on=(Claim.client == Client.id))
        .join_from(Claim, Payer, on=(Claim.payer == Payer.id))
        .where(where)
        .order_by(deadline, Claim.id)
        .limit(LIMIT)
    )
    sends, answers = _history(claims, tz)
    out = []
    for claim in claims:
        primary = answers.get(claim.primary_claim_id, ()) if is_secondary(claim) else ()
        status = for_claim(claim, sends.get(claim.id, ()), today, tz, primary)
        if status.first_sent is None and status.warns:
            out.append((claim, status))
    return sorted(out, key=lambda pair: (pair[1].deadline, pair[0].id))
