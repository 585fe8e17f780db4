"""Building a claim from a visit, as the practice decided it: charges, default pointers and
modifiers, patient control numbers."""

import pytest

from portal.rules import claim_build as build


# units by code (most minutes first), fee schedule, visit price -> charges
@pytest.mark.parametrize(
    "units, fees, price, charges",
    [
        # the payer prices both codes: fee x units
        ({"97124": 3, "97140": 1}, {"97124": 3000, "97140": 3500}, 12000,
         {"97124": 9000, "97140": 3500}),
        # no fee schedule: the type's $120 spread over the 4 units, $30 each
        ({"97124": 3, "97140": 1}, {}, 12000, {"97124": 9000, "97140": 3000}),
        # $100 over 3 units: 33.34 + 33.33 + 33.33, the extra cent on the first unit
        ({"97124": 2, "97140": 1}, {}, 10000, {"97124": 6667, "97140": 3333}),
        # mixed: 97124 from the schedule, 97140 its share of the practice's price
        ({"97124": 3, "97140": 1}, {"97124": 2500}, 12000, {"97124": 7500, "97140": 3000}),
        # a code with no units gets no line
        ({"97124": 4, "97140": 0}, {}, 9500, {"97124": 9500}),
        ({}, {"97124": 2500}, 9500, {}),
        # a free visit type: the fee schedule still prices what it knows
        ({"97124": 2}, {}, 0, {"97124": 0}),
    ],
)  # fmt: skip
def test_line_charges(units, fees, price, charges):
    assert build.line_charges(units, fees, price) == charges
    assert list(build.line_charges(units, fees, price)) == list(charges)  # order kept


def test_a_visit_billed_at_the_practice_price_adds_up_to_it():
    for price in (0, 1, 9999, 12000, 13001):
        for units in ({"97124": 1}, {"97124": 2, "97140": 1}, {"97124": 5, "97140": 2, "97112": 1}):
            assert sum(build.line_charges(units, {}, price).values()) == price


def test_negative_price_is_refused():
    with pytest.raises(ValueError):
        build.line_charges({"97124": 1}, {}, -1)


@pytest.mark.parametrize(
    "units, fees, charges, allowed, unpriced",
    [
        ({"97124": 3}, {"97124": 3000}, {"97124": 12000}, 9000, ()),
        ({"97124": 3, "97140": 1}, {"97124": 3000}, {"97124": 9000, "97140": 3000}, 12000,
         ("97140",)),
        ({"97124": 2}, {}, {"97124": 9500}, 9500, ("97124",)),
    ],
)  # fmt: skip
def test_estimate_allowed_takes_the_charge_where_the_schedule_is_silent(
    units, fees, charges, allowed, unpriced
):
    assert build.estimate_allowed(units, fees, charges) == (allowed, unpriced)


# codes in line order, diagnoses, payer allows the pair -> {code: (modifiers, pointers)}
@pytest.mark.parametrize(
    "codes, n_dx, allow, expected",
    [
        (["97124"], 1, False, {"97124": ((), (1,))}),
        (["97124"], 3, False, {"97124": ((), (1, 2, 3))}),
        (["97124"], 6, False, {"97124": ((), (1, 2, 3, 4))}),  # at most 4 pointers
        # the payer refuses the pair: left as is, the code-pair check holds the claim
        (["97124", "97140"], 2, False, {"97124": ((), (1, 2)), "97140": ((), (1, 2))}),
        # allowed: separate regions (A for the first line, B for the second), 59 on 97140
        (["97124", "97140"], 2, True, {"97124": ((), (1,)), "97140": (("59",), (2,))}),
        (["97140", "97124"], 3, True, {"97140": (("59",), (1, 3)), "97124": ((), (2,))}),
        # one diagnosis: both point to A (held until separated)
        (["97124", "97140"], 1, True, {"97124": ((), (1,)), "97140": (("59",), (1,))}),
        (["97124", "97140"], 0, True, {"97124": ((), ()), "97140": (("59",), ())}),
        (["97124", "97112"], 2, True, {"97124": ((), (1, 2)), "97112": ((), (1, 2))}),
    ],
)  # fmt: skip
def test_default_coding(codes, n_dx, allow, expected):
    assert build.default_coding(codes, n_dx, allow) == expected


@pytest.mark.parametrize(
    "appt, rank, part, attempt, pcn",
    [
        (1234, "primary", 1, 1, "V1234P1"),
        (1234, "primary", 2, 1, "V1234P2"),
        (1234, "secondary", 1, 1, "V1234S1"),
        (1234, "primary", 1, 3, "V1234P1R3"),
        (9_999_999_999, "secondary", 12, 99, "V9999999999S12R99"),
    ],
)
def test_patient_control_number(appt, rank, part, attempt, pcn):
    assert build.patient_control_number(appt, rank, part, attempt) == pcn
    assert len(pcn) <= 20 and pcn.isalnum()


@pytest.mark.parametrize(
    "args",
    [(0, "primary", 1, 1), (1, "tertiary", 1, 1), (1, "primary", 0, 1), (10**18, "primary", 1, 1)],
)
def test_patient_control_number_refuses_what_cannot_be_clm01(args):
    with pytest.raises(ValueError):
        build.patient_control_number(*args)


@pytest.mark.parametrize(
    "text, first, last",
    [
        ("Dr. Ana Whitfield, MD", "Ana", "Whitfield"),
        ("Ana Whitfield", "Ana", "Whitfield"),
        ("Whitfield, Ana", "Ana", "Whitfield"),
        ("Whitfield, MD", "", "Whitfield"),
        ("Mary Ann  van Dyke", "Mary Ann van", "Dyke"),
        ("Whitfield", "", "Whitfield"),
        ("  ", "", ""),
        ("Dr.", "", ""),
    ],
)
def test_split_provider_name(text, first, last):
    assert build.split_provider_name(text) == (first, last)
