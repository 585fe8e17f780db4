"""rules/ack_match: which sending of a claim a 277CA status answers, as a table."""

import datetime as dt

import pytest

from portal.rules.ack_match import Sending, Status, answered, day_of

D = dt.date
FIRST = Sending(42, D(2026, 11, 30), "42", frozenset({"HC1"}), 12500, D(2026, 11, 3),
                D(2026, 11, 3))  # fmt: skip
AGAIN = Sending(43, D(2026, 12, 2), "43", frozenset(), 13500, D(2026, 11, 3), D(2026, 11, 3))
SAME = Sending(43, D(2026, 12, 2), "43", frozenset(), 12500, D(2026, 11, 3), D(2026, 11, 3))
FIXED = Sending(43, D(2026, 12, 2), "43", replaces="RG-1")
TODAY = D(2026, 12, 2)


@pytest.mark.parametrize(
    ("sendings", "status", "index", "why"),
    [
        # sent once: whatever it says, it answers that sending
        ([FIRST], Status(batch_trace="99", day=D(2026, 1, 1)), 0, ""),
        ([], Status(), -1, ""),
        # the file it names, whatever else it says
        ([FIRST, SAME], Status(batch_trace="42", day=TODAY), 0, "It names file 000000042."),
        ([FIRST, SAME], Status(batch_trace="43", day=D(2026, 11, 30)), 1,
         "It names file 000000043."),
        # a trace an earlier answer gave that sending
        ([FIRST, SAME], Status(batch_trace="CH9", trace="HC1", day=TODAY), 0,
         "Its clearinghouse trace HC1 answered file 000000042 before."),
        ([FIRST, SAME], Status(trace="HC2", day=TODAY), 1, ""),  # a new trace: no word
        # the payer's number a corrected claim replaces
        ([FIRST, FIXED], Status(payer_claim_number="RG-1", day=TODAY), 0,
         "It gives the payer's number RG-1, which file 000000043 replaces (a corrected claim)."),
        ([FIRST, FIXED], Status(payer_claim_number="RG-2", day=TODAY), 1, ""),
        # the claim as each file sent it
        ([FIRST, AGAIN], Status(charge_cents=12500, first_day=D(2026, 11, 3), day=TODAY), 0,
         "Its charge and dates of service ($125.00, Nov 03, 2026) are the claim's as file "
         "000000042 sent it."),
        ([FIRST, AGAIN], Status(charge_cents=13500, first_day=D(2026, 11, 3), day=TODAY), 1, ""),
        ([FIRST, AGAIN], Status(charge_cents=99, day=TODAY), 1, ""),  # neither: no word
        # dated before the latest sending
        ([FIRST, SAME], Status(day=D(2026, 12, 1)), 0,
         "Dated Dec 01, 2026, before the claim was sent again on Dec 02, 2026."),
        ([FIRST, SAME], Status(day=TODAY), 1, ""),
        ([FIRST, SAME], Status(), 1, ""),
    ],
)  # fmt: skip
def test_which_sending_a_status_answers(sendings, status, index, why):
    assert answered(sendings, status) == (index, why)


@pytest.mark.parametrize(
    ("utc", "day"),
    [
        (dt.datetime(2026, 12, 2, 11, 59), D(2026, 12, 1)),  # still Dec 1 in UTC-12
        (dt.datetime(2026, 12, 2, 12, 0), D(2026, 12, 2)),
    ],
)
def test_a_sending_day_is_the_earliest_date_anywhere(utc, day):
    assert day_of(utc) == day
