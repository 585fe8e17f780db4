"""What staff type on the schedule's forms: hours, time off, type codes, check-out minutes."""

import datetime as dt

import pytest

from portal.rules import schedule_input as S
from portal.rules.appointments import BookingError


@pytest.mark.parametrize(
    "text, ranges",
    [
        # what a therapist types              -> minutes after midnight (540 = 9:00)
        ("", []),
        ("   ", []),
        ("09:00-12:00", [(540, 720)]),
        ("9:00-12:00, 13:00-17:30", [(540, 720), (780, 1050)]),
        ("9:00 - 12:00; 13:00-17:00", [(540, 720), (780, 1020)]),
        ("18:00-24:00", [(1080, 1440)]),
        ("18:00-24", [(1080, 1440)]),
        ("00:00-01:00", [(0, 60)]),
        # the short forms: the end not after the start reads as the afternoon
        ("9-5", [(540, 1020)]),
        ("9 - 5", [(540, 1020)]),
        ("9-12", [(540, 720)]),  # the end after the start: as typed (noon)
        ("10-2", [(600, 840)]),
        ("12-5", [(720, 1020)]),
        ("7-3", [(420, 900)]),
        ("9:30-5:30", [(570, 1050)]),
        ("9-9", [(540, 1260)]),
        ("9:30-17:00", [(570, 1020)]),
        ("09:00–17:00", [(540, 1020)]),  # en dash, as a phone or a word processor types it
        ("09:00—17:00", [(540, 1020)]),  # em dash
        ("9 to 5", [(540, 1020)]),
        ("9 TO 5", [(540, 1020)]),
        ("13-17", [(780, 1020)]),
        ("13:00-5", [(780, 1020)]),
        # am and pm, with or without dots and spaces; one side's is the other's hint
        ("9am-5pm", [(540, 1020)]),
        ("9 AM - 5 PM", [(540, 1020)]),
        ("9a.m.-5p.m.", [(540, 1020)]),
        ("9:30am-1:15pm", [(570, 795)]),
        ("9-5pm", [(540, 1020)]),
        ("9am-5", [(540, 1020)]),
        ("1-5pm", [(780, 1020)]),
        ("11-1pm", [(660, 780)]),
        ("12pm-3pm", [(720, 900)]),
        ("10am-12", [(600, 720)]),
        ("5pm-12am", [(1020, 1440)]),  # midnight as an end: the end of the day
        ("7pm-midnight", [(1140, 1440)]),
        ("noon-5", [(720, 1020)]),
        ("9-noon, 1pm-5pm", [(540, 720), (780, 1020)]),
        ("9am-12pm; 1 to 5pm", [(540, 720), (780, 1020)]),
    ],
)
def test_hours_read(text, ranges):
    assert S.parse_ranges(text) == ranges


FORM = "like 9-5, 9am-5pm or 09:00-17:00"


@pytest.mark.parametrize(
    "text, message",
    [
        # unreadable: the form to use
        ("9", f'"9" is not a range of hours: write it {FORM}.'),
        ("09:00", f'"09:00" is not a range of hours: write it {FORM}.'),
        ("09:00-10:00-11:00", f'"09:00-10:00-11:00" is not a range of hours: write it {FORM}.'),
        ("nine to five", f'"nine to five" is not a range of hours: write it {FORM}.'),
        ("9.30-5", f'"9.30-5" is not a range of hours: write it {FORM}.'),
        # impossible
        ("24:00-24:00", '"24:00-24:00": a day\'s hours start before 24:00.'),
        ("25:00-26:00", f'"25:00" is not a time of day: write it {FORM}.'),
        ("9:60-17:00", f'"9:60" is not a time of day: write it {FORM}.'),
        ("13pm-5pm", f'"13pm" is not a time of day: write it {FORM}.'),
        ("0am-5am", f'"0am" is not a time of day: write it {FORM}.'),
        ("17:00-09:00", '"17:00-09:00": the end must come after the start, like 09:00-17:00.'),
        ("09:00-09:00", '"09:00-09:00": the end must come after the start, like 09:00-17:00.'),
        ("5pm-9am", '"5pm-9am": the end must come after the start, like 09:00-17:00.'),
        ("noon-9am", '"noon-9am": the end must come after the start, like 09:00-17:00.'),
        # ambiguous: a start in the small hours without am or pm
        ("1-5", '"1-5": morning or afternoon? Write 1am-5am or 1pm-5pm.'),
        ("2:30-6", '"2:30-6": morning or afternoon? Write 2:30am-6am or 2:30pm-6pm.'),
        ("5-9", '"5-9": morning or afternoon? Write 5am-9am or 5pm-9pm.'),
        ("4-2", '"4-2": morning or afternoon? Write it with am and pm, like 9am-5pm.'),
    ],
)
def test_hours_refused(text, message):
    with pytest.raises(BookingError) as refused:
        S.parse_ranges(text)
    assert str(refused.value) == message


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
