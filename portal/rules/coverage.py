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


MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def plan_year_start(on_date, month=1):
    """The first day of the benefit year that holds `on_date`, for a plan whose year starts
    on the 1st of `month` (1: the calendar year; many employer plans start in July)."""
    year = on_date.year if on_date.month >= month else on_date.year - 1
    return dt.date(year, month, 1)


def later_plan_year(verified_on, on_date, month=1):
    """Whether `on_date` is in a benefit year after the one of the call on `verified_on`:
    the deductible, the out-of-pocket and the visits a year have started again since."""
    return plan_year_start(on_date, month) > verified_on


def stale_verification(payer, verified_on, on_date=None, month=1):
    """The warning for a visit in a later benefit year than the payer's last answer: the
    deductible and the visits a year have most likely started again. A plan year that does
    not start in January is named with its first day."""
    began = ""
    if on_date is not None and month != 1:
        began = f" (it began {day(plan_year_start(on_date, month))})"
    return (
        f"Benefits were last verified {day(verified_on)}, before this plan year{began}: call "
        f"{payer} to verify them again (the deductible and the visits a year usually start "
        f"over), and record what they say (Record a verification, {WHERE})."
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
