"""Where each box of the CMS-1500 (02/12) is printed: the form's print grid.

The form is made for printing at 10 characters per inch and 6 lines per inch: on a US
letter sheet, column c (1 to 80) starts (c + 2) / 10 inch from the left edge and line l
(1 to 64) starts (l + 1) / 6 inch from the top; every value is written from the cell of
its box (the NUCC's instructions place boxes by line and column the same way). `grid(form)`
writes a Cms1500 into those cells and gives the 64 lines of text the PDF prints in a 10-pitch
monospaced font, so a value lands in its box on the red form and in the drawn one alike.

Pure: values in (portal/services/claims/cms1500.py), text out; no I/O.
"""

from dataclasses import dataclass

from portal.services.claims.cms1500 import Cms1500, Date, Money, Phone

COLUMNS = 80
LINES = 64
LEFT_PT = 21.6  # column 1: 0.3 inch from the left edge
TOP_PT = 24.0  # line 1: 1/3 inch from the top
CHAR_PT = 7.2  # 10 characters per inch
LINE_PT = 12.0  # 6 lines per inch
PAGE_PT = (612.0, 792.0)  # US letter

# Box 1, 6, 10 and 11d check boxes: the column of the X for each choice.
INSURANCE_COLUMNS = {
    "MEDICARE": 1,
    "MEDICAID": 8,
    "TRICARE": 15,
    "CHAMPVA": 24,
    "GROUP": 31,
    "FECA": 39,
    "OTHER": 45,
}
RELATIONSHIP_COLUMNS = {"SELF": 33, "SPOUSE": 38, "CHILD": 42, "OTHER": 47}
YES_NO_10 = (35, 41)  # 10a-c
SEX_3 = {"M": 42, "F": 47}
SEX_11A = {"M": 68, "F": 75}
DIAGNOSIS_COLUMNS = (3, 16, 29, 42)  # 21: A-D on line 38, E-H on 39, I-L on 40
MODIFIER_COLUMNS = (33, 36, 39, 42)  # 24D


def service_row(n: int) -> int:
    """The printed line of service line n (1-6); its shaded half is the line above."""
    return 42 + 2 * n


def cell(line: int, col: int) -> tuple[float, float]:
    """The top-left corner of a grid cell, in points from the sheet's top-left corner."""
    return LEFT_PT + (col - 1) * CHAR_PT, TOP_PT + (line - 1) * LINE_PT


@dataclass(frozen=True)
class Geometry:
    """Grid positions in points, for drawing the form itself (templates/pdf/cms1500_form.html)."""

    def x(self, col: float) -> float:
        return round(LEFT_PT + (col - 1) * CHAR_PT, 2)

    def y(self, line: float) -> float:
        return round(TOP_PT + (line - 1) * LINE_PT, 2)

    def edge(self, col: float) -> float:
        """A box's border just left of column `col` (half a character from the value)."""
        return round(self.x(col) - CHAR_PT / 2, 2)

    def base(self, line: float, drop: float = 6.0) -> float:
        """A baseline `drop` points below the top of `line` (small print sits near the top)."""
        return round(self.y(line) + drop, 2)


class Grid:
    """80 columns by 64 lines of text. Writing over another box's characters is a layout
    error: boxes never share a cell."""

    def __init__(self):
        self._rows = [[" "] * COLUMNS for _ in range(LINES)]

    def put(self, line: int, col: int, width: int, value: str) -> None:
        value = (value or "")[:width]
        for i, ch in enumerate(value):
            self._set(line, col + i, ch)

    def put_right(self, line: int, last_col: int, width: int, value: str) -> None:
        """Right-aligned so its last character is in `last_col` (dollar amounts)."""
        value = (value or "")[-width:]
        self.put(line, last_col - len(value) + 1, len(value), value)

    def check(self, line: int, col: int, checked: bool = True) -> None:
        if checked:
            self._set(line, col, "X")

    def _set(self, line, col, ch):
        if not (1 <= line <= LINES and 1 <= col <= COLUMNS):
            raise ValueError(f"line {line}, column {col} is outside the form")
        row = self._rows[line - 1]
        if ch != " " and row[col - 1] != " ":
            raise ValueError(f"line {line}, column {col} is already written")
        if ch != " ":
            row[col - 1] = ch

    def lines(self) -> list[str]:
        return ["".join(row).rstrip() for row in self._rows]

    def text(self) -> str:
        return "\n".join(self.lines()).rstrip("\n")


def _date(g, line, cols, d: Date, year_width=2):
    g.put(line, cols[0], 2, d.mm)
    g.put(line, cols[1], 2, d.dd)
    g.put(line, cols[2], year_width, d.yy)


def _money(g, line, dollars_last_col, m: Money, dollar_width):
    """Dollars end at `dollars_last_col`, cents start two columns later (past the form's
    dollar | cents divider)."""
    g.put_right(line, dollars_last_col, dollar_width, m.dollars)
    g.put(line, dollars_last_col + 2, 2, m.cents)


def _phone(g, line, area_col, p: Phone):
    g.put(line, area_col, 3, p.area)
    g.put(line, area_col + 4, 7, p.number)


def grid(form: Cms1500) -> Grid:
    g = Grid()
    _top(g, form)
    _patient_and_insured(g, form)
    _condition_and_other(g, form)
    _physician(g, form)
    for n, line in enumerate(form.lines, start=1):
        _service(g, service_row(n), line)
    _totals_and_providers(g, form)
    return g


def _top(g, f):
    # the carrier block, top right above the form
    g.put(2, 41, 31, f.payer_name)
    g.put(3, 41, 31, f.payer_street)
    g.put(4, 41, 31, f.payer_street2)
    g.put(5, 41, 31, f.payer_city_state_zip)
    g.check(8, INSURANCE_COLUMNS.get(f.insurance_type, INSURANCE_COLUMNS["OTHER"]))  # 1
    g.put(8, 50, 29, f.insured_id)  # 1a
    g.put(10, 1, 28, f.patient_name)  # 2
    _date(g, 10, (31, 34, 37), f.patient_dob, 4)  # 3
    if f.patient_sex in SEX_3:
        g.check(10, SEX_3[f.patient_sex])
    g.put(10, 50, 29, f.insured_name)  # 4


def _patient_and_insured(g, f):
    p, i = f.patient_address, f.insured_address
    g.put(12, 1, 28, p.street)  # 5
    g.check(12, RELATIONSHIP_COLUMNS.get(f.relationship, RELATIONSHIP_COLUMNS["OTHER"]))  # 6
    g.put(12, 50, 29, i.street)  # 7
    g.put(14, 1, 23, p.city)
    g.put(14, 26, 3, p.state)
    g.put(14, 50, 22, i.city)
    g.put(14, 74, 3, i.state)
    g.put(16, 1, 12, p.zip)
    _phone(g, 16, 15, p.phone)
    g.put(16, 50, 13, i.zip)
    _phone(g, 16, 65, i.phone)


def _condition_and_other(g, f):
    g.put(18, 1, 28, f.other_insured_name)  # 9
    g.put(18, 50, 29, f.group_number)  # 11
    g.put(20, 1, 28, f.other_insured_policy)  # 9a
    g.check(20, YES_NO_10[0] if f.employment else YES_NO_10[1])  # 10a
    _date(g, 20, (53, 56, 59), f.insured_dob, 4)  # 11a
    if f.insured_sex in SEX_11A:
        g.check(20, SEX_11A[f.insured_sex])
    g.check(22, YES_NO_10[0] if f.auto_accident else YES_NO_10[1])  # 10b
    g.put(22, 45, 2, f.accident_state)
    g.put(22, 50, 2, f.other_claim_qualifier)  # 11b, left of the dotted line
    g.put(22, 54, 25, f.other_claim_id)
    g.check(24, YES_NO_10[0] if f.other_accident else YES_NO_10[1])  # 10c
    g.put(24, 50, 29, f.plan_name)  # 11c
    g.put(26, 1, 28, f.other_plan_name)  # 9d
    g.put(26, 31, 17, f.claim_codes)  # 10d
    g.check(26, 52 if f.another_plan else 57)  # 11d
    g.put(29, 7, 24, f.patient_signature)  # 12
    g.put(29, 56, 23, f.insured_signature)  # 13


def _physician(g, f):
    _date(g, 32, (2, 5, 8), f.illness_date, 4)  # 14
    g.put(32, 16, 3, f.illness_qualifier)
    g.put(34, 1, 2, f.referring_qualifier)  # 17
    g.put(34, 4, 24, f.referring_name)
    g.put(34, 33, 15, f.referring_npi)  # 17b
    g.check(36, 57)  # 20: no outside lab
    g.put(37, 42, 1, f.icd_indicator if f.diagnoses else "")  # 21 ICD Ind.
    for i, code in enumerate(f.diagnoses):
        g.put(38 + i // 4, DIAGNOSIS_COLUMNS[i % 4], 8, code)
    g.put(38, 50, 11, f.resubmission_code)  # 22
    g.put(38, 62, 18, f.original_ref)
    g.put(40, 50, 29, f.prior_authorization)  # 23


def _service(g, row, line):
    _date(g, row, (1, 4, 7), line.date_from)  # 24A
    _date(g, row, (10, 13, 16), line.date_to)
    g.put(row, 19, 2, line.place)  # 24B
    g.put(row, 25, 6, line.cpt)  # 24D
    for col, modifier in zip(MODIFIER_COLUMNS, line.modifiers, strict=False):
        g.put(row, col, 2, modifier)
    g.put(row, 45, 4, line.pointers)  # 24E
    _money(g, row, 54, line.charge, 5)  # 24F
    g.put(row, 59, 3, line.units)  # 24G
    g.put(row, 68, 10, line.npi)  # 24J


def _totals_and_providers(g, f):
    g.put(56, 1, 15, f.tax_id)  # 25
    if f.tax_id:
        g.check(56, 17 if f.tax_id_type == "SSN" else 19)
    g.put(56, 23, 14, f.account_number)  # 26
    g.check(56, 38 if f.accept_assignment else 43)  # 27
    _money(g, 56, 56, f.total_charge, 5)  # 28
    _money(g, 56, 66, f.amount_paid, 5)  # 29
    _phone(g, 57, 66, f.billing.phone)  # 33 PH #
    g.put(58, 23, 26, f.facility_name)  # 32
    g.put(58, 50, 29, f.billing_name)  # 33
    g.put(59, 23, 26, f.facility.street)
    g.put(59, 50, 29, f.billing.street)
    g.put(60, 1, 21, f.physician_signature)  # 31
    fac, bil = f.facility, f.billing
    g.put(60, 23, 26, " ".join(p for p in (fac.city, fac.state, fac.zip) if p))
    g.put(60, 50, 29, " ".join(p for p in (bil.city, bil.state, bil.zip) if p))
    _date(g, 61, (14, 17, 20), f.physician_date)
    g.put(61, 23, 10, f.facility_npi)  # 32a
    g.put(61, 50, 10, f.billing_npi)  # 33a
    g.put(61, 63, 17, f.billing_other_id)  # 33b


# --- the calibration page ---------------------------------------------------------------------

CALIBRATION_MARKS = (  # (line, column, what the owner sees it in)
    (8, INSURANCE_COLUMNS["OTHER"], "1 OTHER"),
    (10, SEX_3["F"], "3 SEX F"),
    (12, RELATIONSHIP_COLUMNS["SELF"], "6 SELF"),
    (20, SEX_11A["F"], "11a SEX F"),
    (26, 57, "11d NO"),
    (56, 19, "25 EIN"),
    (56, 38, "27 YES"),
)


def calibration(offset_x_mm: float, offset_y_mm: float) -> Grid:
    """A test page for pre-printed forms: an X in seven check boxes spread over the sheet,
    marks in the first and last columns of boxes 1a and 2, sample dates and amounts, and
    the offsets it was printed with."""
    g = Grid()
    for line, col, _ in CALIBRATION_MARKS:
        g.check(line, col)
    g.put(2, 41, 31, "ALIGNMENT TEST PAGE")
    g.put(3, 41, 31, f"MOVED RIGHT {offset_x_mm:+.1f} DOWN {offset_y_mm:+.1f} MM")
    g.put(4, 41, 31, "EACH MARK CENTRED IN ITS SQUARE")
    g.put(8, 50, 29, "<1A" + " " * 23 + "1A>")  # the box's first and last columns
    g.put(10, 1, 28, "<2" + " " * 24 + "2>")
    g.put(32, 2, 2, "MM")
    g.put(32, 5, 2, "DD")
    g.put(32, 8, 4, "YYYY")
    _money(g, 44, 54, Money("12345", "67"), 5)  # 24F, line 1
    g.put(44, 68, 10, "1234567890")  # 24J, line 1
    g.put(54, 1, 18, "MM DD YY MM DD YY")  # 24A, line 6 (the dates' own spacing)
    g.put(61, 50, 10, "33A NPI")
    g.put(61, 63, 17, "33B ZZ")
    return g
