"""Chart-note rules: minutes per code, pain scale, regions, CPT code shapes, signing."""

import pytest

from portal.rules import charting as rules

CODES = ["97124", "97140", "97112"]


@pytest.mark.parametrize(
    "raw, minutes, errors",
    [
        ({"97124": "30", "97140": "15"}, {"97124": 30, "97140": 15}, {}),
        ({"97124": "", "97140": "0"}, {}, {}),
        ({"97124": " 240 "}, {"97124": 240}, {}),
        ({"97124": "241"}, {}, {"97124": "At most 240 minutes per code."}),
        ({"97124": "-1"}, {}, {"97124": "Enter whole minutes, from 0 to 240."}),
        ({"97124": "7.5"}, {}, {"97124": "Enter whole minutes, from 0 to 240."}),
        ({"97124": "1e2"}, {}, {"97124": "Enter whole minutes, from 0 to 240."}),
        ({"97124": "٣٠"}, {}, {"97124": "Enter whole minutes, from 0 to 240."}),  # not ASCII
        ({"99999": "15"}, {}, {"99999": "99999 is not on the practice's list of codes."}),
        ({"99999": ""}, {}, {}),  # an empty unknown box is ignored
        ({"97112": "8"}, {"97112": 8}, {}),
    ],
)
def test_parse_minutes(raw, minutes, errors):
    assert rules.parse_minutes(raw, CODES) == (minutes, errors)


@pytest.mark.parametrize(
    "text, value, ok",
    [
        ("", None, True),
        ("0", 0, True),
        ("10", 10, True),
        ("11", None, False),
        ("-1", None, False),
        ("5.5", None, False),
        ("x", None, False),
    ],
)
def test_parse_pain(text, value, ok):
    got, error = rules.parse_pain(text)
    assert got == value and (error == "") is ok


@pytest.mark.parametrize(
    "text, code",
    [
        ("97124", "97124"),
        (" 97140 ", "97140"),
        ("g0283", "G0283"),
        ("0001t", "0001T"),
        ("9712", ""),
        ("971245", ""),
        ("ABCDE", ""),
        ("", ""),
    ],
)
def test_normalize_cpt(text, code):
    assert rules.normalize_cpt(text) == code


def test_clean_regions_orders_and_reports_unknown():
    known, unknown = rules.clean_regions(["glute-l", "neck", "tail", "neck"])
    assert known == ["neck", "glute-l"]
    assert unknown == ["tail"]


def test_regions_are_unique_and_grouped():
    ids = [r for r, _, _ in rules.REGIONS]
    assert len(ids) == len(set(ids))
    groups = rules.region_groups()
    assert [g for g, _ in groups] == ["Head and neck", "Trunk", "Arms", "Hips and legs"]
    assert sum(len(items) for _, items in groups) == len(ids)


def test_join_techniques():
    assert rules.join_techniques(["Deep tissue"], "cupping, Deep tissue,\nGua sha") == (
        "Deep tissue\ncupping\nGua sha"
    )
    assert rules.join_techniques([], "") == ""


@pytest.mark.parametrize(
    "fields, minutes, dx, problems",
    [
        ({"subjective": "x"}, {"97124": 30}, ["M54.50"], 0),
        ({"subjective": "x"}, {}, [], 0),  # no billable minutes: no diagnosis needed
        ({"subjective": "  "}, {}, [], 1),
        ({"plan": "x"}, {"97124": 30}, [], 1),
        ({}, {"97124": 30}, [], 2),
        # a template's prompts with nothing after them are not a note
        ({"subjective": "Chief complaint:\n  Pain (0-10):  \n", "plan": "Plan:"}, {}, [], 1),
        ({"subjective": "Chief complaint: stiff neck\nPain:"}, {}, [], 0),
    ],
)
def test_signing_problems(fields, minutes, dx, problems):
    assert len(rules.signing_problems(fields, minutes, dx)) == problems


def test_defaults_are_the_two_massage_codes():
    assert [c for c, _ in rules.DEFAULT_CPT_CODES] == ["97124", "97140"]
