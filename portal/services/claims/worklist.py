"""The front desk's work list: what needs someone's attention on the claims side, each with
what to do next, oldest first within its kind.

    for group in work_list(practice_id, now, tz):  # [Group(kind, title, items)]
        for item in group.items: item.claim / item.batch / item.line, item.reason, item.next

Kinds, in the order the list shows them: the clearinghouse connection while it fails
(nothing is sent or collected then), claims the payer has not received whose filing
limit (Payer.filing_limit_days) ends within 14 days or has passed, soonest deadline first
(services/claims/filing.py; a held or rejected one is listed there only, with what holds
it or why it was rejected: fixing that is how it gets out in time), claims rejected
(999, 277CA, or a TA1 refusing their file), denied (in whole or in part, with a balance
left), held by a rule, billed claims edited back for a correction and not sent again (held
or not: listed once, there), payments that matched no claim, 837P files that could not be
sent, and claims with no answer after the practice's ClaimSettings.no_response_days. Each
claim is listed once. A handful of queries whatever the practice's size.
"""

import dataclasses
import datetime as dt

from peewee import JOIN

from portal import clock
from portal.models.claims import Claim, ClaimBatch
from portal.models.clearinghouse import FILE_ERROR, ClearinghouseFile
from portal.models.insurance import Payer
from portal.models.people import Client
from portal.rules import claim_status, filing_limit
from portal.rules.money import format_cents
from portal.services import clearinghouse_sftp
from portal.services.claims import filing, history, queries, unmatched
from portal.services.claims.data import settings_for

LIMIT = 200  # items per kind: a list longer than this is worked from the claims list


@dataclasses.dataclass
class Item:
    kind: str
    since: dt.datetime | dt.date | None
    reason: str
    next: str
    claim: Claim | None = None
    batch: ClaimBatch | None = None
    line: object = None  # a RemittanceClaim
    settings: bool = False  # fixed in the clearinghouse settings (the owner's page)


@dataclasses.dataclass
class Group:
    kind: str
    title: str
    items: list


TITLES = {
    "connection": "The portal cannot reach the clearinghouse",
    "filing": "Running out of time to file",
    "rejected": "Rejected: fix and send again",
    "denied": "Denied or not paid in full",
    "held": "Held by a check",
    "correcting": "Billed, being corrected: send it again",
    "unmatched": "Payments that matched no claim",
    "not_sent": "Files not sent",
    "not_read": "Files from the clearinghouse not read",
    "no_response": "No answer from the payer",
}
NEXT = {
    "connection": "Until it works, no file is sent and no acknowledgment or payment is "
    "collected. The owner finds what is wrong under Settings → Clearinghouse (“Test the "
    "connection” says it in words); then press “Check the clearinghouse now”.",
    "filing": "Fix what keeps it back, check it and send it in the next 837P file before the "
    "date: the payer must receive it by then.",
    "filing_late": "Send it anyway with proof of timely filing if you have it (an earlier "
    "send's acceptance report), or write it off with a reason.",
    "rejected": "Correct what the message says on the claim, check it, and send it again "
    "(it goes in the next 837P file).",
    "rejected_ta1": "Nothing in the claim is wrong: the clearinghouse refused its whole file "
    "at the envelope (TA1). Once the owner has seen to what the note says (Settings → "
    "Clearinghouse), check the claim again, and it goes in the next 837P file.",
    "denied": "Appeal it with the payer, or write the rest off with a reason.",
    "held": "Fix what holds it; the claim is ready to send once its checks pass.",
    "correcting": "Finish the correction and send it: it goes as a corrected claim "
    "(frequency 7, with the payer's claim number) in the next 837P file. Until then the "
    "payer works on the original, and the balance ages from the visit.",
    # sent, not numbered by the payer yet: sent again now, it would be a second original
    "correcting_unnumbered": "The payer has the earlier sending but gave no claim number "
    "for it yet: sent now, the correction would go as a new original, which the payer may "
    "deny as a duplicate (CARC 18). Wait for the payer's answer to the earlier sending (its "
    "277CA or payment gives the claim number; enter a number the payer gives by phone on "
    "the claim), then send it: it goes as a corrected claim (frequency 7). Until then the "
    "balance ages from the visit.",
    "unmatched": "Find the claim this payment belongs to and match it, or set it aside with "
    "a note.",
    "not_sent": "Fix what stopped it, then press Send again (or download the file and upload "
    "it yourself).",
    "not_read": "Nothing was posted from it. Ask the clearinghouse about it if it should have "
    "been an acknowledgment or a payment; the owner finds it under Settings → Clearinghouse.",
}


def no_response_days(practice_id):
    return settings_for(practice_id).no_response_days


def _claims(practice_id, where):
    return list(
        Claim.select(Claim, Client, Payer)
        .join_from(Claim, Client, on=(Claim.client == Client.id))
        .join_from(Claim, Payer, on=(Claim.payer == Payer.id))
        .where((Claim.practice == practice_id) & where)
        .order_by(Claim.updated_at.asc(nulls="first"), Claim.service_date, Claim.id)
        .limit(LIMIT)
    )


def _balance_open():
    settled = Claim.paid_cents + Claim.adjusted_cents + Claim.patient_resp_cents
    return (Claim.total_cents - settled - Claim.written_off_cents) > 0


def _claim_items(practice_id, due, tz):
    """The claims' kinds (filing, rejected, denied, held, correcting); `due`: filing.due's
    answer. A claim running out of time is listed there, not again as rejected or held."""
    rejected = _claims(practice_id, Claim.status == claim_status.REJECTED)
    denied = _claims(
        practice_id,
        Claim.status.in_([claim_status.DENIED, claim_status.PARTIALLY_PAID]) & _balance_open(),
    )
    correcting = _claims(practice_id, queries.being_corrected_sql())
    held = _claims(
        practice_id,
        (Claim.held == True)  # noqa: E712
        & Claim.status.in_([claim_status.DRAFT, claim_status.READY])
        & ~queries.being_corrected_sql(),  # listed once, as a correction
    )
    due_ids = {c.id for c, _ in due}
    rejected = [c for c in rejected if c.id not in due_ids]
    held = [c for c in held if c.id not in due_ids]
    problems = history.problems_by_claim(
        list(due_ids) + [c.id for c in rejected + denied + held + correcting]
    )

    def reason(claim, default):
        words = [p.message for p in problems.get(claim.id, [])]
        return " ".join(words) if words else default

    def refused(claim):  # its file's envelope refused (TA1): nothing in the claim is wrong
        return any(p.source == "ta1" for p in problems.get(claim.id, []))

    out = {
        "filing": [_filing_item(c, status, reason, refused(c)) for c, status in due],
        "rejected": [
            Item(
                "rejected",
                c.updated_at,
                reason(c, "Rejected."),
                NEXT["rejected_ta1" if refused(c) else "rejected"],
                claim=c,
                settings=refused(c),
            )  # fmt: skip
            for c in rejected
        ],
        "denied": [
            Item(
                "denied",
                c.adjudicated_at or c.updated_at,
                reason(c, f"{format_cents(c.balance_cents)} not paid."),
                NEXT["denied"],
                claim=c,
            )
            for c in denied
        ],
        "held": [
            Item("held", c.updated_at or c.created_at, reason(c, "Held."), NEXT["held"], claim=c)
            for c in held
        ],
        "correcting": [
            Item(
                "correcting",
                c.submitted_at,
                _correcting_reason(c, reason, tz),
                NEXT[_correcting_next(c)],
                claim=c,
            )  # fmt: skip
            for c in correcting
        ],
    }
    return out


def _day(when, tz):
    """A stored UTC time as the practice's date, as the desk reads it: "Jan 05, 2026"."""
    return f"{clock.local_date(when, tz):%b %d, %Y}"


def _correcting_reason(claim, reason, tz):
    """What the desk reads of a billed claim edited back for a correction."""
    sent = f"sent {_day(claim.submitted_at, tz)}" if claim.submitted_at else "billed"
    number = f", the payer's number {claim.payer_claim_number}" if claim.payer_claim_number else ""
    state = claim_status.label(claim.status).lower()
    default = f"{format_cents(claim.balance_cents)} open."
    return f"First {sent}{number}; edited back to {state} and not sent again. " + reason(
        claim, default
    )


def _correcting_next(claim):
    """How a correction goes out: as a corrected claim replacing the one the payer
    numbered, or, with no number yet, as an original the payer may take for a duplicate."""
    if claim.frequency_code == claim_status.CORRECTED:
        return "correcting"
    return "correcting_unnumbered"


def _filing_item(claim, status, reason, settings=False):
    """A claim running out of time: the deadline, then what keeps it back (its problems,
    when it is held or was rejected: the fix before it can go; `settings`: in the
    clearinghouse settings)."""
    words = status.words
    if claim.held or claim.status == claim_status.REJECTED:
        label = "Rejected" if claim.status == claim_status.REJECTED else "Held"
        problems = reason(claim, "")
        words += f" {label}: {problems}" if problems else f" {label}."
    return Item(
        "filing",
        status.deadline,
        words,
        NEXT["filing_late" if status.state == filing_limit.LATE else "filing"],
        claim=claim,
        settings=settings,
    )


def _no_response(practice_id, now, tz):
    days = no_response_days(practice_id)
    cutoff = now - dt.timedelta(days=days)
    claims = _claims(
        practice_id,
        Claim.status.in_([claim_status.SUBMITTED, claim_status.ACCEPTED])
        & (Claim.submitted_at < cutoff),
    )
    items = []
    for c in claims:
        sent = _day(c.submitted_at, tz)
        phone = f" ({c.payer.phone})" if c.payer.phone else ""
        items.append(
            Item(
                "no_response",
                c.submitted_at,
                f"Sent on {sent}, {claim_status.label(c.status).lower()}, and no payment "
                f"or denial in {days} days.",
                f"Call {c.payer.name}{phone} about it; if they never got it, send it again.",
                claim=c,
            )
        )
    return items


def _not_sent(practice_id):
    rows = (
        ClaimBatch.select(ClaimBatch, Payer)
        .join(Payer, JOIN.LEFT_OUTER, on=(ClaimBatch.payer == Payer.id))
        .where((ClaimBatch.practice == practice_id) & (ClaimBatch.status == "failed"))
        .order_by(ClaimBatch.id)
        .limit(LIMIT)
    )
    return [
        Item("not_sent", b.created_at, b.last_error or "Not sent.", NEXT["not_sent"], batch=b)
        for b in rows
    ]


def _not_read(practice_id):
    """Files received in the last 60 days that could not be read or applied (no PHI in
    their error: the transport and the claims code write it for the owner)."""
    since = clock.utcnow() - dt.timedelta(days=60)
    rows = (
        ClearinghouseFile.select(
            ClearinghouseFile.id,
            ClearinghouseFile.remote_name,
            ClearinghouseFile.kind,
            ClearinghouseFile.error,
            ClearinghouseFile.received_at,
        )  # fmt: skip
        .where(
            (ClearinghouseFile.practice == practice_id)
            & (ClearinghouseFile.status == FILE_ERROR)
            & (ClearinghouseFile.received_at >= since)
        )
        .order_by(ClearinghouseFile.id)
        .limit(LIMIT)
    )
    return [
        Item("not_read", f.received_at, f"{f.remote_name}: {f.error}", NEXT["not_read"])
        for f in rows
    ]


def _unmatched(practice_id):
    return [
        Item(
            "unmatched",
            line.created_at,
            f"{line.remittance.payer_name or 'A payer'} paid {format_cents(line.paid_cents)} "
            f"for patient control number {line.patient_control_number}, which is no claim of "
            "the practice.",
            NEXT["unmatched"],
            line=line,
        )
        for line in unmatched.unmatched_lines(practice_id)[:LIMIT]
    ]


def _connection(conn):
    """The clearinghouse connection, while its last try failed: the periodic fetch and the
    desk's "Check the clearinghouse now" fail out of sight otherwise."""
    if not clearinghouse_sftp.failing(conn):
        return []
    return [Item("connection", conn.last_error_at, conn.last_error, NEXT["connection"])]


def work_list(practice_id, now, tz=dt.UTC, connection=None):
    """[Group] with at least one item, in the order the desk works them (tz: the
    practice's time zone, whose date the filing limits count in; connection: the
    practice's clearinghouse connection, if it has one)."""
    due = filing.due(practice_id, clock.to_local(now, tz).date(), tz)
    found = _claim_items(practice_id, due, tz)
    found["connection"] = _connection(connection)
    found["unmatched"] = _unmatched(practice_id)
    found["not_sent"] = _not_sent(practice_id)
    found["not_read"] = _not_read(practice_id)
    found["no_response"] = _no_response(practice_id, now, tz)
    return [Group(kind, TITLES[kind], found[kind]) for kind in TITLES if found[kind]]
