"""What staff type on the schedule's forms: hours, time off, type codes, check-out minutes."""

import datetime as dt

import pytest

from portal.rules import schedule_input as S
from portal.rules.appointments import BookingError


@pytest.mark.parametrize(
    "text, ranges",
    [
        ("", []),
        ("   ", []),
        ("09:00-12:00", [(540, 720)]),
        ("9:00-12:00, 13:00-17:30", [(540, 720), (780, 1050)]),
        ("9:00 - 12:00; 13:00-17:00", [(540, 720), (780, 1020)]),
        ("18:00-24:00", [(1080, 1440)]),
        ("18:00-24", [(1080, 1440)]),
        ("00:00-01:00", [(0, 60)]),
    ],
)
def test_hours_read(text, ranges):
    assert S.parse_ranges(text) == ranges


@pytest.mark.parametrize(
    "text, message",
    [
        ("9-12", "is not like 09:00-12:00"),
        ("09:00", "is not like 09:00-12:00"),
        ("09:00-10:00-11:00", "is not like 09:00-12:00"),
        ("24:00-24:00", "is not like 09:00-12:00"),
        ("25:00-26:00", "is not like 09:00-12:00"),
        ("17:00-09:00", "the end must come after the start"),
        ("09:00-09:00", "the end must come after the start"),
    ],
)
def test_hours_refused(text, message):
    with pytest.raises(BookingError, match=message):
        S.parse_ranges(text)


def test_hours_written_back_read_the_same():
    ranges = [(540, 720), (780, 1050), (1080, 1440)]
    assert S.format_ranges(ranges) == "09:00-12:00, 13:00-17:30, 18:00-24:00"
    assert S.parse_ranges(S.format_ranges(ranges)) == ranges


T = dt.time


@pytest.mark.parametrize(
    "kind, start, end, expected",
    [
        # kind     from          until         -> minutes or the message
        ("off", None, None, (None, None)),  # the whole day off
        ("off", T(12), T(13, 30), (720, 810)),
        ("extra", T(18), T(20), (1080, 1200)),
        ("extra", None, None, "Extra hours need a start and an end."),
        ("extra", T(18), None, "Extra hours need a start and an end."),
        ("off", T(12), None, "Give both times, or neither for the whole day."),
        ("off", None, T(12), "Give both times, or neither for the whole day."),
        ("off", T(13), T(12), "The end must come after the start."),
        ("extra", T(13), T(13), "The end must come after the start."),
    ],
)
def test_time_off_and_extra_hours(kind, start, end, expected):
    if isinstance(expected, str):
        with pytest.raises(BookingError, match=expected):
            S.exception_minutes(kind, start, end)
    else:
        assert S.exception_minutes(kind, start, end) == expected


@pytest.mark.parametrize(
    "text, rows",
    [
        ("", []),
        ("97124 60", [("97124", 60)]),
        ("97124 45\n97140 15", [("97124", 45), ("97140", 15)]),
        ("97124 x 60", [("97124", 60)]),
        ("97124, 60\n\n", [("97124", 60)]),
        ("g0283 15", [("G0283", 15)]),
    ],
)
def test_type_codes_read(text, rows):
    assert S.parse_codes(text) == rows
    assert S.parse_codes(S.format_codes(rows)) == rows


@pytest.mark.parametrize(
    "text, message",
    [
        ("bad", 'is not "CODE MINUTES"'),
        ("9712 60", 'is not "CODE MINUTES"'),
        ("97124 60 30", 'is not "CODE MINUTES"'),
        ("97124 sixty", 'is not "CODE MINUTES"'),  # the x of "sixty" reads as a separator
        ("97124 ten", "minutes must be a whole number"),
        ("97124 0", "minutes must be 1 to 720"),
        ("97124 721", "minutes must be 1 to 720"),
        ("97124 30\n97124 30", "List each code once."),
    ],
)
def test_type_codes_refused(text, message):
    with pytest.raises(BookingError, match=message):
        S.parse_codes(text)


@pytest.mark.parametrize(
    "codes, minutes, parsed, errors",
    [
        (["97124", "97140", ""], ["40", "20", ""], {"97124": 40, "97140": 20}, []),
        ([" 97124 ", "97124"], ["30", "30"], {"97124": 60}, []),
        (["97124", "97140"], ["40", "abc"], {"97124": 40}, ["Enter whole minutes for 97140."]),
        ([""], ["15"], {"": 15}, []),  # visit_minutes drops the empty code
        ([""], ["x"], {}, ["Enter whole minutes for each code."]),
        (["97124"], [], {}, []),  # a list cut short
    ],
)
def test_check_out_rows(codes, minutes, parsed, errors):
    rows, got, problems = S.checkout_rows(codes, minutes)
    assert (got, problems) == (parsed, errors)
    assert len(rows) == min(len(codes), len(minutes))


def test_check_out_starts_from_the_type_codes_or_the_booked_length():
    assert S.checkout_defaults([("97124", 45), ("97140", 15)], 60) == [
        ("97124", "45"),
        ("97140", "15"),
        ("", ""),
        ("", ""),
    ]
    assert S.checkout_defaults([], 90)[:2] == [("97124", "90"), ("", "")]
    assert len(S.pad_rows([("a", "1")] * 6)) == 6


TODAY = dt.date(2026, 6, 1)


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, TODAY),
        ("", TODAY),
        ("2026-06-03", dt.date(2026, 6, 3)),
        ("2026-02-30", TODAY),
        ("tomorrow", TODAY),
    ],
)
def test_a_date_in_a_link(value, expected):
    assert S.date_or(value, TODAY) == expected


@pytest.mark.parametrize(
    "value, expected",
    [(None, T(9)), ("10:30", T(10, 30)), ("25:00", T(9)), ("noon", T(9))],
)
def test_a_time_in_a_link(value, expected):
    assert S.time_or(value, T(9)) == expected
