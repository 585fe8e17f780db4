"""Coding rules as the rule book states them (DOMAIN.md "Codes")."""

import datetime as dt
from dataclasses import dataclass

import pytest

from portal.rules import coding
from portal.rules.coding import CMS8, PER_CODE

D1 = dt.date(2026, 11, 2)
D2 = dt.date(2026, 11, 9)


# 8-22 min = 1 unit, 23-37 = 2, 38-52 = 3, 53-67 = 4, 68-82 = 5, 83-97 = 6; under 8, none.
@pytest.mark.parametrize(
    "minutes, units",
    [
        (0, 0), (7, 0), (8, 1), (22, 1), (23, 2), (37, 2), (38, 3), (52, 3),
        (53, 4), (67, 4), (68, 5), (82, 5), (83, 6), (97, 6), (98, 7), (112, 7), (113, 8),
    ],
)  # fmt: skip
def test_eight_minute_rule_table(minutes, units):
    assert coding.units_for_minutes(minutes) == units


P = pytest.param


@pytest.mark.parametrize(
    "minutes, expected",
    [
        P({"97124": 60}, {"97124": 4}, id="one code, 60 minutes"),
        P({"97124": 7}, {}, id="under 8 minutes in the day: nothing to bill"),
        P({"97124": 5, "97140": 5}, {"97124": 1}, id="10 min make a unit; equal: code order"),
        P({"97124": 4, "97140": 6}, {"97140": 1}, id="the unit to the code with most minutes"),
        P({"97124": 24, "97140": 23}, {"97124": 2, "97140": 1}, id="47 min = 3, more to longer"),
        P({"97124": 33, "97140": 7}, {"97124": 2, "97140": 1}, id="CMS: 3 min left < 7 min"),
        P({"97124": 40, "97140": 10}, {"97124": 3}, id="50 min = 3; equal leftovers: longest"),
        P({"97124": 30, "97140": 23}, {"97124": 2, "97140": 2}, id="53 min = 4 units"),
        P({"97124": 30, "97140": 15}, {"97124": 2, "97140": 1}, id="45 min = 3, whole units"),
        P({"97124": 18, "97140": 13, "97112": 10, "97110": 7},
          {"97124": 1, "97140": 1, "97112": 1}, id="48 min = 3: the two longest leftovers"),
        P({"97124": 0, "97140": 30}, {"97140": 2}, id="a code with 0 minutes is not billed"),
    ],
)  # fmt: skip
def test_units_by_the_cms_eight_minute_rule(minutes, expected):
    got = coding.units_for_day(minutes, CMS8)
    assert got == expected
    assert list(got) == list(expected), "most minutes first (the order of the claim lines)"
    assert sum(got.values()) == coding.units_for_minutes(sum(minutes.values()))


@pytest.mark.parametrize(
    "minutes, expected",
    [
        ({"97124": 38, "97140": 7}, {"97124": 3}),  # 7 minutes of 97140 alone earn nothing
        ({"97124": 5, "97140": 5}, {}),  # 10 minutes in all, but neither code reaches 8
        ({"97124": 22, "97140": 8}, {"97124": 1, "97140": 1}),
        ({"97124": 23, "97140": 23}, {"97124": 2, "97140": 2}),  # CMS would give 3 for 46 min
    ],
)
def test_units_per_code_payer_setting(minutes, expected):
    assert coding.units_for_day(minutes, PER_CODE) == expected


def test_equal_minutes_are_broken_by_code_the_same_way_every_time():
    a = coding.units_for_day({"97140": 20, "97124": 20})
    b = coding.units_for_day({"97124": 20, "97140": 20})
    assert a == b == {"97124": 2, "97140": 1}
    assert list(a) == list(b) == ["97124", "97140"]


@pytest.mark.parametrize("bad", [{"97124": -1}, {"97124": 1.5}, {"97124": True}])
def test_units_refuse_minutes_that_are_not_whole_numbers(bad):
    with pytest.raises(ValueError, match="whole number"):
        coding.units_for_day(bad)


def test_unknown_unit_rule_is_refused():
    with pytest.raises(ValueError, match="unknown unit rule"):
        coding.units_for_day({"97124": 30}, "per_minute")


@dataclass
class L:
    code: str
    modifiers: tuple = ()
    pointers: tuple = (1,)
    service_date: dt.date = D1


@pytest.mark.parametrize(
    "lines, allow, codes",
    [
        ([L("97124"), L("97140")], False, ["code_pair_refused"]),
        ([L("97124"), L("97140", ("59",), (2,))], False, ["code_pair_refused"]),
        ([L("97124", (), (1,)), L("97140", ("59",), (2,))], True, []),
        ([L("97124", (), (1,)), L("97140", ("XS",), (2,))], True, []),
        ([L("97124", ("XS",), (1, 3)), L("97140", (), (2,))], True, []),  # on either line
        ([L("97124", (), (1,)), L("97140", (), (2,))], True, ["code_pair_needs_modifier"]),
        ([L("97124", (), (1,)), L("97140", ("GP",), (2,))], True, ["code_pair_needs_modifier"]),
        ([L("97124", (), (1, 2)), L("97140", ("59",), (2,))], True, ["code_pair_same_region"]),
        ([L("97124", (), (1,)), L("97140", (), (1,))], True,
         ["code_pair_needs_modifier", "code_pair_same_region"]),
        ([L("97124"), L("97140", service_date=D2)], False, []),  # different dates
        ([L("97124"), L("97124", service_date=D2)], False, []),
        ([L("97124"), L("97112")], False, []),
        ([L("97124"), L("97140"), L("97124", service_date=D2), L("97140", service_date=D2)], False,
         ["code_pair_refused", "code_pair_refused"]),
    ],
)  # fmt: skip
def test_97124_with_97140_on_one_date(lines, allow, codes):
    problems = coding.check_code_pair(lines, allow_pair=allow)
    assert [p.code for p in problems] == codes
    assert all(p.where == "claim" and p.message.endswith(".") for p in problems)


def test_code_pair_messages_say_what_to_do():
    refused = coding.check_code_pair([L("97124"), L("97140")], allow_pair=False)[0]
    assert "Nov 2, 2026" in refused.message and "bill the time under one code" in refused.message
    shared = coding.check_code_pair([L("97124", (), (1, 2)), L("97140", ("59",), (2, 3))], True)
    assert "diagnosis B" in shared[0].message


@pytest.mark.parametrize(
    "text, pointers",
    [("A", (1,)), ("A, C", (1, 3)), ("ac", (1, 3)), ("C A", (3, 1)), ("1,3", (1, 3)),
     ("L", (12,)), ("ABCD", (1, 2, 3, 4)), ("", ())],
)  # fmt: skip
def test_parse_pointers_primary_first(text, pointers):
    assert coding.parse_pointers(text) == pointers
    assert coding.pointer_letters(pointers) == "".join("ABCDEFGHIJKL"[p - 1] for p in pointers)


@pytest.mark.parametrize(
    "text, message",
    [("M", "not a diagnosis letter"), ("13", "not a diagnosis letter"), ("A,A", "once"),
     ("ABCDE", "At most 4"), ("A-B", "not a diagnosis letter")],
)  # fmt: skip
def test_parse_pointers_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        coding.parse_pointers(text)


@pytest.mark.parametrize("n, pointers", [(0, ()), (1, (1,)), (3, (1, 2, 3)), (12, (1, 2, 3, 4))])
def test_default_pointers(n, pointers):
    assert coding.default_pointers(n) == pointers


@pytest.mark.parametrize(
    "pointers, n_dx, codes",
    [
        ((1,), 1, []),
        ((2, 1), 2, []),
        ((), 2, ["pointer_missing"]),
        ((1, 2, 3, 4, 5), 6, ["too_many_pointers"]),
        ((1, 1), 2, ["pointer_repeated"]),
        ((3,), 2, ["pointer_out_of_range"]),
        ((1, 2, 3, 4), 12, []),
    ],
)
def test_line_pointers(pointers, n_dx, codes):
    problems = coding.check_line_pointers(pointers, n_dx, line=2)
    assert [p.code for p in problems] == codes
    assert all(p.field == "2" and p.message.startswith("Line 2") for p in problems)


@pytest.mark.parametrize(
    "text, modifiers, codes",
    [
        ("59", ("59",), []),
        ("xs gp", ("XS", "GP"), []),
        (["59", " xs "], ("59", "XS"), []),
        ("5", ("5",), ["modifier_invalid"]),
        ("59X", ("59X",), ["modifier_invalid"]),
        ("59 59", ("59", "59"), ["modifier_repeated"]),
        ("59 XS GP GO 25", ("59", "XS", "GP", "GO", "25"), ["too_many_modifiers"]),
        ("", (), []),
    ],
)
def test_modifiers(text, modifiers, codes):
    assert coding.parse_modifiers(text) == modifiers
    assert [p.code for p in coding.check_modifiers(modifiers, line=1)] == codes


@pytest.mark.parametrize(
    "code, label",
    [("11", "Office"), ("12", "Home"),
     ("02", "Telehealth provided other than in the patient's home"),
     ("10", "Telehealth provided in the patient's home"), ("22", ""), ("", "")],
)  # fmt: skip
def test_places_of_service(code, label):
    assert coding.place_of_service_label(code) == label
