"""Timely filing as a table: the payer's limit of days after the date of service, the first
receipt of the claim (a rejected send never counts; a correction keeps its original's),
and what the desk reads (CARC 29)."""

import datetime as dt

import pytest

from portal.rules.filing_limit import (
    DUE_SOON,
    IN_TIME,
    LATE,
    OPEN,
    UNKNOWN,
    Start,
    clock_start,
    filing_deadline,
    filing_status,
    first_received,
)

DOS = dt.date(2026, 3, 2)


def day(n):
    """The date n days after the date of service."""
    return DOS + dt.timedelta(days=n)


# (limit, first sent (days after DOS, or None), today (days after DOS)) -> (state, days left)
CASES = [
    # no limit known: no warning, whatever the dates
    (None, None, 400, UNKNOWN, None),
    (None, 10, 400, UNKNOWN, None),
    # not sent yet
    (90, None, 10, OPEN, 80),
    (90, None, 75, OPEN, 15),
    (90, None, 76, DUE_SOON, 14),  # the window opens 14 days before the deadline
    (90, None, 80, DUE_SOON, 10),
    (90, None, 90, DUE_SOON, 0),  # the last day: received today is in time
    (90, None, 91, LATE, -1),
    (90, None, 95, LATE, -5),
    (180, None, 95, OPEN, 85),
    (365, None, 360, DUE_SOON, 5),
    (1, None, 0, DUE_SOON, 1),
    # sent: in time or not, whatever today is
    (90, 5, 200, IN_TIME, None),
    (90, 90, 91, IN_TIME, None),  # received on the last day
    (90, 91, 91, LATE, None),  # first sent after the deadline
    (365, 100, 500, IN_TIME, None),
]


@pytest.mark.parametrize("limit, sent, today, state, left", CASES)
def test_filing_status(limit, sent, today, state, left):
    s = filing_status(DOS, limit, None if sent is None else day(sent), day(today))
    assert (s.state, s.days_left) == (state, left)
    assert s.deadline == (None if limit is None else day(limit))
    assert s.warns == (state in (DUE_SOON, LATE))


def test_deadline_is_the_date_of_service_plus_the_limit():
    assert filing_deadline(dt.date(2026, 1, 31), 30) == dt.date(2026, 3, 2)
    assert filing_deadline(dt.date(2024, 2, 28), 1) == dt.date(2024, 2, 29)  # leap day
    assert filing_deadline(DOS, None) is None


# A claim's history, in order: (day, status) -> the day the payer first received it.
SUBMITTED, REJECTED, ACCEPTED, DRAFT = "submitted", "rejected", "accepted", "draft"
HISTORIES = [
    ("never sent", [], False, None),
    ("never sent, edited", [(1, DRAFT), (2, "ready")], False, None),
    ("sent once", [(5, SUBMITTED)], False, 5),
    ("sent, accepted", [(5, SUBMITTED), (6, ACCEPTED)], False, 5),
    ("sent, rejected: not received", [(5, SUBMITTED), (6, REJECTED)], False, None),
    (
        "rejected, fixed, sent again",
        [(5, SUBMITTED), (6, REJECTED), (7, DRAFT), (9, SUBMITTED)],
        False,
        9,
    ),
    (
        "rejected twice, then taken",
        [
            (5, SUBMITTED),
            (6, REJECTED),
            (9, SUBMITTED),
            (10, REJECTED),
            (20, SUBMITTED),
            (21, ACCEPTED),
        ],
        False,
        20,
    ),
    # a correction (frequency 7, the same claim row) keeps its original's first receipt
    (
        "paid, corrected, sent again",
        [(5, SUBMITTED), (6, ACCEPTED), (30, "paid"), (40, DRAFT), (120, SUBMITTED)],
        False,
        5,
    ),
    (
        "correction rejected",
        [(5, SUBMITTED), (6, ACCEPTED), (40, DRAFT), (120, SUBMITTED), (121, REJECTED)],
        False,
        5,
    ),
    # every send rejected, yet the payer numbered it (REF*1K): it has the claim
    ("numbered, then rejected", [(5, SUBMITTED), (6, REJECTED)], True, 5),
    ("never sent, numbered by hand", [], True, None),
]


@pytest.mark.parametrize(
    "history, numbered, received",
    [(h, n, r) for _, h, n, r in HISTORIES],
    ids=[name for name, *_ in HISTORIES],
)
def test_first_received(history, numbered, received):
    got = first_received([(day(n), status) for n, status in history], numbered=numbered)
    assert got == (None if received is None else day(received))


WORDS = [
    (None, None, 10, ""),
    (90, None, 80, "File by May 31, 2026 (10 days left of the payer's 90-day filing limit)."),
    (90, None, 89, "File by May 31, 2026 (1 day left of the payer's 90-day filing limit)."),
    (90, None, 90, "File by May 31, 2026: today is the last day of the payer's 90-day filing "
     "limit."),
    (90, None, 95, "Past the filing limit on May 31, 2026: the payer will deny it (CARC 29); "
     "appeal with proof of timely filing or write it off."),
    (90, 10, 95, "First sent Mar 12, 2026, within the payer's 90-day filing limit (May 31, "
     "2026)."),
    (90, 92, 95, "First sent Jun 02, 2026, after the payer's 90-day filing limit (May 31, "
     "2026): the payer will deny it (CARC 29); appeal with proof of timely filing or write it "
     "off."),
]  # fmt: skip


@pytest.mark.parametrize("limit, sent, today, words", WORDS)
def test_what_the_desk_reads(limit, sent, today, words):
    s = filing_status(DOS, limit, None if sent is None else day(sent), day(today))
    assert s.words == words


# A secondary claim's clock: (secondary, the primary's history as (days after DOS, status))
# -> (where the clock starts, in days after DOS, and what it counts from).
PAID, PARTLY, DENIED = "paid", "partially_paid", "denied"
STARTS = [
    ("a primary claim: the date of service", False, [(7, PAID)], 0, ""),
    ("a secondary after the primary's payment", True, [(93, PAID)], 93, "payment"),
    ("partly paid is a payment", True, [(93, PARTLY)], 93, "payment"),
    ("after a denial", True, [(40, DENIED)], 40, "denial"),
    ("sends and acceptance do not start it", True, [(5, SUBMITTED), (6, ACCEPTED)], 0, ""),
    ("the primary's answer not known: the date of service", True, [], 0, ""),
    ("denied, appealed, then paid: the first answer", True,
     [(40, DENIED), (45, "appealed"), (80, PAID)], 40, "denial"),
    ("paid, reversed, paid again: the first", True, [(30, PAID), (50, ACCEPTED), (60, PAID)],
     30, "payment"),
    ("in any order", True, [(60, PAID), (30, PARTLY)], 30, "payment"),
]  # fmt: skip


@pytest.mark.parametrize(
    "secondary, answers, start, after",
    [s[1:] for s in STARTS],
    ids=[s[0] for s in STARTS],
)
def test_clock_start(secondary, answers, start, after):
    got = clock_start(DOS, secondary, [(day(n), status) for n, status in answers])
    assert got == Start(day(start), after)


# A secondary claim made 100 days after the visit, the primary paid on day 93 (90-day
# limit): (today, first sent) -> (state, days left, words); None: not sent yet.
SECONDARY = [
    (100, None, OPEN, 83,
     "File by Sep 01, 2026 (83 days left of the payer's 90-day filing limit after the "
     "primary's payment on Jun 03, 2026)."),
    (170, None, DUE_SOON, 13,
     "File by Sep 01, 2026 (13 days left of the payer's 90-day filing limit after the "
     "primary's payment on Jun 03, 2026)."),
    (183, None, DUE_SOON, 0,
     "File by Sep 01, 2026: today is the last day of the payer's 90-day filing limit after "
     "the primary's payment on Jun 03, 2026."),
    (184, None, LATE, -1,
     "Past the filing limit on Sep 01, 2026 (90 days after the primary's payment on Jun 03, "
     "2026): the payer will deny it (CARC 29); appeal with proof of timely filing or write it "
     "off."),
    (200, 150, IN_TIME, None,
     "First sent Jul 30, 2026, within the payer's 90-day filing limit after the primary's "
     "payment on Jun 03, 2026 (Sep 01, 2026)."),
]  # fmt: skip


@pytest.mark.parametrize("today, sent, state, left, words", SECONDARY)
def test_a_secondary_claim_counts_from_the_primarys_payment(today, sent, state, left, words):
    start = clock_start(DOS, True, [(day(93), PAID)])
    s = filing_status(DOS, 90, None if sent is None else day(sent), day(today), start=start)
    assert (s.state, s.days_left, s.deadline) == (state, left, day(183))
    assert s.words == words
    # counted from the date of service, the same claim would be past its limit since day 90
    dos = filing_status(DOS, 90, None if sent is None else day(sent), day(today))
    assert (dos.deadline, dos.state) == (day(90), LATE)


def test_a_start_on_the_date_of_service_says_nothing_more():
    start = clock_start(DOS, True, [])
    assert filing_status(DOS, 90, None, day(80), start=start) == filing_status(
        DOS, 90, None, day(80)
    )
