"""The desk's rules for one visit, as plain functions: when check-out needs the signed
chart note, which date to suggest for the next visit, a tip, and which sales ask for a
confirmation first. Imports nothing from flask, peewee or stripe."""

import datetime as dt

NOTE_NONE = "none"
NOTE_DRAFT = "draft"
NOTE_SIGNED = "signed"

NEEDS_NOTE_INSURANCE = (
    "This visit is billed to insurance: sign its chart note before check-out "
    "(the claim is built from the note's minutes and diagnoses)."
)
NEEDS_NOTE_PRACTICE = "The practice checks out a visit only once its chart note is signed."


def checkout_note_refusal(note_state, *, billed_to_insurance, cash_without_note):
    """Why check-out must wait for the chart note, or None. A signed note always lets the
    visit be checked out; without one, only a cash visit, and only when the practice
    allows it (Settings: claims)."""
    if note_state == NOTE_SIGNED:
        return None
    if billed_to_insurance:
        return NEEDS_NOTE_INSURANCE
    if not cash_without_note:
        return NEEDS_NOTE_PRACTICE
    return None


def suggested_next_date(visit_date, previous_dates, *, default_weeks=2, max_weeks=8):
    """The date to suggest for the next visit: the client's own rhythm (the gap between
    their last two visits, in whole weeks, 1-8), else `default_weeks` after this one.
    Always a week-multiple after `visit_date`, so the weekday stays the same."""
    earlier = sorted(d for d in previous_dates if d < visit_date)
    weeks = default_weeks
    if earlier:
        gap_days = (visit_date - earlier[-1]).days
        weeks = min(max_weeks, max(1, round(gap_days / 7)))
    return visit_date + dt.timedelta(weeks=weeks)


MAX_TIP_CENTS = 100_000


def check_tip(tip_cents, visit_cents):
    """A tip is optional, positive, and at most $1,000 (a typo guard): returns the cents, or
    raises ValueError with a message for the person."""
    if tip_cents is None or tip_cents == 0:
        return 0
    if tip_cents < 0:
        raise ValueError("A tip cannot be negative.")
    if tip_cents > MAX_TIP_CENTS:
        raise ValueError("That tip is over $1,000: check the amount.")
    return tip_cents


def tip_suggestions(visit_cents, percents=(15, 18, 20)):
    """[(percent, cents)] rounded to whole dollars, half a dollar up (15% of $110 is $16.50:
    $17, as 15% of $130, $19.50, is $20; Python's round() takes halves to the even dollar),
    for one-tap tips."""
    return [(p, (visit_cents * p + 5000) // 10000 * 100) for p in percents if visit_cents > 0]


def needs_confirmation(amount_cents, threshold_cents):
    """A sale or payment at the desk above the practice's threshold asks "are you sure?"
    first (a $425 package is not sold by one stray tap). A threshold of 0 confirms all."""
    return amount_cents > max(0, threshold_cents)
