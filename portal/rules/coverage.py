"""Whether a referral or a prior authorization can carry a visit: pure, no I/O.

state(start, end, allowed, used, on_date) -> (state, text) where state is one of
not_started | expired | used_up | last | ok. `end` and `allowed` may be None (open).
"""

import datetime as dt

OK_STATES = ("ok", "last")


def day(value: dt.date) -> str:
    return f"{value:%b} {value.day}, {value.year}"


def state(start, end, allowed, used, on_date):
    if start > on_date:
        return "not_started", f"starts {day(start)}"
    if end is not None and end < on_date:
        return "expired", f"expired {day(end)}"
    if allowed is not None and used >= allowed:
        return "used_up", f"used up ({used} of {allowed} visits)"
    if allowed is not None and allowed - used == 1:
        return "last", f"1 visit left of {allowed}"
    left = f"{allowed - used} of {allowed} visits left" if allowed is not None else "no visit limit"
    until = f", until {day(end)}" if end is not None else ""
    return "ok", left + until


WHERE = "on the client's insurance"
ADD_BUTTON = {"referral": "Add a referral", "prior authorization": "Add an authorization"}
_VERB = {"expired": "{text}", "used_up": "is {text}", "not_started": "only {text}"}


def _ask(noun, payer, referring):
    """Who gives a new referral (the referring provider, else the client's physician) or
    authorization (the payer)."""
    if noun == "referral":
        return referring or "the client's physician"
    return payer


def verified_head(verified_on, today):
    """'Verified Nov 3', with the year when the call was in an earlier year than `today`
    (an old verification must not read as this month's)."""
    year = f", {verified_on.year}" if verified_on.year != today.year else ""
    return f"Verified {verified_on:%b} {verified_on.day}{year}"


def stale_verification(payer, verified_on):
    """The warning for a visit in a later calendar year than the payer's last answer: the
    deductible and the visits a year have most likely started again."""
    return (
        f"Benefits were last verified {day(verified_on)}, before this plan year: call {payer} "
        f"to verify them again (the deductible and the visits a year usually start over), "
        f"and record what they say (Record a verification, {WHERE})."
    )


def no_visits_left(payer, per_year, verified_on):
    """The warning for a visit past the payer's visits a year."""
    return (
        f"No visits left this year: {payer} allows {per_year} a year and all are used "
        f"(verified {day(verified_on)}, visits billed since counted). {payer} will likely deny "
        "this visit: ask them whether more are allowed, or bill the visit as self-pay."
    )


def missing_document(noun, payer):
    """The warning for a referral or authorization the payer requires, none on file."""
    who = "the client's physician" if noun == "referral" else payer
    return (
        f"{payer} requires a {noun}; none is on file: ask {who} for one and add it "
        f"({ADD_BUTTON[noun]}, {WHERE}), or bill the visit as self-pay."
    )


def invalid_document(noun, payer, state_, text, referring=""):
    """The warning for a required referral or authorization that cannot carry the visit
    (expired, used up, not started yet), with what to do next."""
    short = "authorization" if noun != "referral" else noun
    how = _VERB.get(state_, "is {text}").format(text=text)
    return (
        f"The {noun} for {payer} {how}; {payer} requires a valid one: ask "
        f"{_ask(noun, payer, referring)} for a new {short} and add it ({ADD_BUTTON[noun]}, "
        f"{WHERE}), or bill the visit as self-pay."
    )


def last_document(noun, text, payer, referring=""):
    """The warning for a referral or authorization on its last visit."""
    short = "authorization" if noun != "referral" else noun
    return (
        f"Last visit on the {noun}: {text}. Ask {_ask(noun, payer, referring)} for a new "
        f"{short} before the next visit."
    )


def policy_dates(effective, end, on_date):
    """(order, text) of a policy's dates on a day: 0 in effect (no text), 1 not started yet
    ("Starts Dec 1, 2026"), 2 ended ("Ended Nov 30, 2026"); the order lists the ones in
    effect first."""
    if end is not None and end < on_date:
        return 2, f"Ended {day(end)}"
    if effective is not None and effective > on_date:
        return 1, f"Starts {day(effective)}"
    return 0, ""


def same_rank(rank, on_date, named):
    """The warning for two policies of one rank in effect on a day. `named`: (payer name,
    effective date or None) of each, oldest first; claims go to the last (the newest)."""
    since = [f"{name} (since {day(start)})" if start else name for name, start in named]
    others = [name for name, _start in named[:-1]]
    return (
        f"Two {rank} policies are in effect on {day(on_date)}: {', '.join(since[:-1])} and "
        f"{since[-1]}. Claims go to {named[-1][0]}, the newest: give {' and '.join(others)} "
        f"an end date, or make one of them {'secondary' if rank == 'primary' else 'primary'} "
        f"(Edit policy, {WHERE})."
    )


def visits_left(per_year, used_reported, used_since):
    """Visits left in the benefit year: never below zero; None when there is no limit."""
    if per_year is None:
        return None
    return max(0, per_year - (used_reported or 0) - used_since)
