"""Reading a CMS-1500 PDF back: each printed word with its rectangle (`pdftotext -bbox`),
and the form's boxes as rectangles on its print grid, to check that values sit in their
boxes.

The grid of the CMS-1500 (02/12): 10 characters per inch, 6 lines per inch; column 1 starts
0.3 inch from the sheet's left edge and line 1 1/3 inch from its top (the NUCC's print
layout). A box here is (first line, last line, first column, last column) of the area its
value may use.
"""

import html
import re
import subprocess

LEFT, TOP, CHAR, LINE = 21.6, 24.0, 7.2, 12.0
MM = 72 / 25.4
DATA_HEIGHT = (
    13.92  # a word of the values' 11.96 pt DejaVu Sans Mono; the form's labels are smaller
)

BOXES = {
    "carrier": (2, 5, 41, 79),
    "1 MEDICARE": (8, 8, 1, 1),
    "1 GROUP": (8, 8, 31, 31),
    "1 OTHER": (8, 8, 45, 45),
    "1a": (8, 8, 50, 79),
    "2": (10, 10, 1, 29),
    "3 MM": (10, 10, 31, 32),
    "3 DD": (10, 10, 34, 35),
    "3 YY": (10, 10, 37, 40),
    "3 M": (10, 10, 42, 42),
    "3 F": (10, 10, 47, 47),
    "4": (10, 10, 50, 79),
    "5 street": (12, 12, 1, 29),
    "6 SELF": (12, 12, 33, 33),
    "6 SPOUSE": (12, 12, 38, 38),
    "6 CHILD": (12, 12, 42, 42),
    "6 OTHER": (12, 12, 47, 47),
    "7 street": (12, 12, 50, 79),
    "5 city": (14, 14, 1, 24),
    "5 state": (14, 14, 25, 29),
    "7 city": (14, 14, 50, 72),
    "7 state": (14, 14, 73, 79),
    "5 zip": (16, 16, 1, 13),
    "5 area": (16, 16, 15, 17),
    "5 phone": (16, 16, 18, 29),
    "7 zip": (16, 16, 50, 63),
    "7 area": (16, 16, 65, 67),
    "7 phone": (16, 16, 68, 79),
    "9": (18, 18, 1, 29),
    "11": (18, 18, 50, 79),
    "9a": (20, 20, 1, 29),
    "10a YES": (20, 20, 35, 35),
    "10a NO": (20, 20, 41, 41),
    "11a MM": (20, 20, 53, 54),
    "11a DD": (20, 20, 56, 57),
    "11a YY": (20, 20, 59, 62),
    "11a M": (20, 20, 68, 68),
    "11a F": (20, 20, 75, 75),
    "10b YES": (22, 22, 35, 35),
    "10b NO": (22, 22, 41, 41),
    "10b state": (22, 22, 44, 48),
    "11b qualifier": (22, 22, 50, 52),
    "11b": (22, 22, 53, 79),
    "10c YES": (24, 24, 35, 35),
    "10c NO": (24, 24, 41, 41),
    "11c": (24, 24, 50, 79),
    "9d": (26, 26, 1, 29),
    "10d": (26, 26, 30, 48),
    "11d YES": (26, 26, 52, 52),
    "11d NO": (26, 26, 57, 57),
    "12": (29, 29, 1, 48),
    "13": (29, 29, 50, 79),
    "14 MM": (32, 32, 2, 3),
    "14 DD": (32, 32, 5, 6),
    "14 YY": (32, 32, 8, 11),
    "14 qualifier": (32, 32, 15, 29),
    "17 qualifier": (34, 34, 1, 3),
    "17": (34, 34, 4, 28),
    "17b": (34, 34, 30, 48),
    "20 NO": (36, 36, 57, 57),
    "21 ICD Ind": (37, 37, 38, 48),
    "22 code": (38, 38, 50, 60),
    "22 original ref": (38, 38, 61, 79),
    "23": (40, 40, 50, 79),
    "25": (56, 56, 1, 15),
    "25 SSN": (56, 56, 17, 17),
    "25 EIN": (56, 56, 19, 19),
    "26": (56, 56, 22, 36),
    "27 YES": (56, 56, 38, 38),
    "27 NO": (56, 56, 43, 43),
    "28 dollars": (56, 56, 50, 57),
    "28 cents": (56, 56, 58, 60),
    "29 dollars": (56, 56, 61, 67),
    "29 cents": (56, 56, 68, 70),
    "33 area": (57, 57, 66, 68),
    "33 phone": (57, 57, 70, 79),
    "31": (58, 60, 1, 22),
    "31 date": (61, 61, 11, 22),
    "32": (58, 60, 23, 49),
    "32a": (61, 61, 23, 34),
    "33": (58, 60, 50, 79),
    "33a": (61, 61, 50, 61),
    "33b": (61, 61, 62, 79),
}
for _i, _letter in enumerate("ABCDEFGHIJKL"):  # 21: four a line, on lines 38-40
    _col = (3, 16, 29, 42)[_i % 4]
    BOXES[f"21 {_letter}"] = (38 + _i // 4, 38 + _i // 4, _col, _col + 10)
for _n in range(1, 7):  # 24: the service line, and the shaded half above it
    _row = 42 + 2 * _n
    BOXES.update(
        {
            f"24.{_n} shaded": (_row - 1, _row - 1, 1, 79),
            f"24.{_n} A from": (_row, _row, 1, 9),
            f"24.{_n} A to": (_row, _row, 10, 18),
            f"24.{_n} B": (_row, _row, 19, 20),
            f"24.{_n} C": (_row, _row, 21, 23),
            f"24.{_n} D": (_row, _row, 24, 31),
            f"24.{_n} D modifiers": (_row, _row, 32, 43),
            f"24.{_n} E": (_row, _row, 44, 48),
            f"24.{_n} F dollars": (_row, _row, 49, 55),
            f"24.{_n} F cents": (_row, _row, 56, 57),
            f"24.{_n} G": (_row, _row, 58, 61),
            f"24.{_n} H": (_row, _row, 62, 64),
            f"24.{_n} I": (_row, _row, 65, 67),
            f"24.{_n} J": (_row, _row, 68, 79),
        }
    )


def rect(box, shift=(0.0, 0.0)):
    """The box's rectangle in points (x0, y0, x1, y1), moved by `shift` (right, down)."""
    l0, l1, c0, c1 = BOXES[box]
    dx, dy = shift
    return (
        LEFT + (c0 - 1) * CHAR + dx,
        TOP + (l0 - 1) * LINE + dy,
        LEFT + c1 * CHAR + dx,
        TOP + l1 * LINE + dy,
    )


WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


def words(data, tmp_path, name="claim.pdf"):
    """Every word of page 1 as (x0, y0, x1, y1, text), in points from the top left."""
    path = tmp_path / name
    path.write_bytes(data)
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(path), "-"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return [
        (float(a), float(b), float(c), float(d), html.unescape(t))
        for a, b, c, d, t in WORD.findall(out)
    ]


def values(all_words):
    """The printed values only: the form's own labels are in smaller type."""
    return [w for w in all_words if abs((w[3] - w[1]) - DATA_HEIGHT) < 0.05]


def inside(word, r, slack=0.6):
    x0, y0, x1, y1, _ = word
    middle = (y0 + y1) / 2
    return x0 >= r[0] - slack and x1 <= r[2] + slack and r[1] <= middle <= r[3]


def read_box(value_words, box, shift=(0.0, 0.0)):
    """The words printed in `box`, in reading order, joined by single spaces."""
    r = rect(box, shift)
    found = [w for w in value_words if inside(w, r)]
    found.sort(key=lambda w: (round((w[1] + w[3]) / 2 / LINE), w[0]))
    return " ".join(w[4] for w in found)


def check_boxes(value_words, expected, shift=(0.0, 0.0)):
    """Assert every box in `expected` reads its value ('' = empty), and that no printed
    value lies outside every box of the form (nothing printed astray)."""
    got = {box: read_box(value_words, box, shift) for box in expected}
    wrong = {box: (got[box], want) for box, want in expected.items() if got[box] != want}
    assert not wrong, f"box: (printed, expected) {wrong}"
    astray = [w for w in value_words if not any(inside(w, rect(box, shift)) for box in BOXES)]
    assert not astray, f"printed outside every box: {astray}"
