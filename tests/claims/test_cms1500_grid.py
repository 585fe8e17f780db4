"""The CMS-1500 print grid (pure): boxes never share a cell, even with every value at its
longest, and nothing is written off the form."""

import dataclasses

import pytest

from portal.services.claims import cms1500, cms1500_grid
from portal.services.claims.cms1500 import Address, Cms1500, Date, Money, Phone, ServiceLine

LONG = "W" * 60


def _longest():
    date = Date("12", "31", "2099")
    line = ServiceLine(
        date_from=Date("12", "31", "99"),
        date_to=Date("12", "31", "99"),
        place="99",
        cpt="97124Z",
        modifiers=("59", "GP", "XS", "KX", "ZZ"),
        pointers="ABCDL",
        charge=Money("99999", "99"),
        units="9999",
        npi="12345678901",
    )
    addr = Address(LONG, LONG, LONG, LONG, Phone("999", "99999999"))
    values = {}
    for f in dataclasses.fields(Cms1500):
        if f.type is str or f.type == "str":
            values[f.name] = LONG
    values.update(
        insurance_type="OTHER",
        relationship="CHILD",
        patient_sex="F",
        insured_sex="M",
        patient_dob=date,
        insured_dob=date,
        illness_date=date,
        physician_date=Date("12", "31", "99"),
        patient_address=addr,
        insured_address=addr,
        facility=addr,
        billing=addr,
        diagnoses=("S134XXAZ",) * 12,
        lines=(line,) * 6,
        total_charge=Money("99999", "99"),
        amount_paid=Money("99999999", "99"),
        employment=True,
        auto_accident=True,
        other_accident=True,
        another_plan=True,
        tax_id_type="SSN",
    )
    return Cms1500(**values)


def test_every_value_at_its_longest_stays_in_its_own_cells():
    lines = cms1500_grid.grid(_longest()).lines()
    assert len(lines) == cms1500_grid.LINES
    assert max(len(line) for line in lines) <= cms1500_grid.COLUMNS
    row = lines[cms1500_grid.service_row(6) - 1]
    assert row.startswith("12 31 99 12 31 99 99")
    assert "99999 99" in row  # five digits of dollars, the cents after the divider


def test_amounts_the_boxes_cannot_hold_are_refused():
    assert cms1500.money(9_999_999) == Money("99999", "99")
    assert cms1500.money(5) == Money("0", "05")
    with pytest.raises(cms1500.Cms1500Error, match="does not fit"):
        cms1500.money(10_000_000)
    with pytest.raises(cms1500.Cms1500Error, match="negative"):
        cms1500.money(-1)


def test_boxes_never_share_a_cell():
    g = cms1500_grid.Grid()
    g.put(10, 1, 28, "PERSON, ANN")
    with pytest.raises(ValueError, match="already written"):
        g.put(10, 5, 3, "XYZ")
    with pytest.raises(ValueError, match="outside the form"):
        g.put(65, 1, 2, "AB")
    with pytest.raises(ValueError, match="outside the form"):
        g.put(1, 80, 2, "AB")


def test_the_grid_sits_on_ten_characters_and_six_lines_an_inch():
    assert cms1500_grid.cell(1, 1) == (21.6, 24.0)  # 0.3 in, 1/3 in
    assert cms1500_grid.cell(8, 50) == pytest.approx((21.6 + 49 * 7.2, 24 + 7 * 12))
    assert cms1500_grid.service_row(1) == 44 and cms1500_grid.service_row(6) == 54


def test_calibration_marks_are_check_boxes_of_the_form():
    lines = cms1500_grid.calibration(1.5, -0.5).lines()
    for line, col, _ in cms1500_grid.CALIBRATION_MARKS:
        assert lines[line - 1][col - 1] == "X"
    assert "MOVED RIGHT +1.5 DOWN -0.5 MM" in lines[2]
    assert sum(line.count("X") for line in lines) == len(cms1500_grid.CALIBRATION_MARKS)
