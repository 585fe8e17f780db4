"""ICD-10-CM code shapes: typed forms, code-or-words, code lists, claim pointers."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.rules import icd10


@pytest.mark.parametrize(
    "typed, written",
    [
        ("m545", "M54.5"),
        ("M54.5", "M54.5"),
        (" m54.50 ", "M54.50"),
        ("M5450", "M54.50"),
        ("s134xxa", "S13.4XXA"),
        ("S13.4XXA", "S13.4XXA"),
        ("R51.9", "R51.9"),
        ("m79.7", "M79.7"),
        ("M54", "M54"),
        ("c4a", "C4A"),  # a letter in third place (Merkel cell carcinoma)
        ("M5", ""),  # too short
        ("M54.50123", ""),  # too long
        ("5450", ""),  # no letter first
        ("MM4.5", ""),  # a letter where a digit belongs
        ("low back", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_code(typed, written):
    assert icd10.normalize_code(typed) == written


@pytest.mark.parametrize(
    "query, is_code",
    [
        ("M54", True),
        ("m5", True),
        ("m545", True),
        ("M54.5", True),
        ("M54.", True),
        ("S13.4XXA", True),
        ("low", False),
        ("low back", False),
        ("M", False),  # one letter reads as a word
        ("M54 5", False),
        ("", False),
        ("pain", False),
        ("a1", True),
    ],
)
def test_looks_like_code(query, is_code):
    assert icd10.looks_like_code(query) is is_code


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Low back-pain, L4", ["low", "back", "pain", "l4"]),
        ("  ", []),
        ("Myalgia (other site)", ["myalgia", "other", "site"]),
    ],
)
def test_words(text, expected):
    assert icd10.words(text) == expected


@pytest.mark.parametrize(
    "text, codes, bad",
    [
        ("M54.50, m6283 0", ["M54.50", "M62.83"], ["0"]),
        ("m5450; M54.50 r519", ["M54.50", "R51.9"], []),
        ("", [], []),
        ("low back", [], ["low", "back"]),
    ],
)
def test_split_codes(text, codes, bad):
    assert icd10.split_codes(text) == (codes, bad)


@pytest.mark.parametrize("position, letter", [(1, "A"), (2, "B"), (12, "L")])
def test_pointer_letter(position, letter):
    assert icd10.pointer_letter(position) == letter


@pytest.mark.parametrize("position", [0, 13, -1])
def test_pointer_letter_out_of_range(position):
    with pytest.raises(ValueError):
        icd10.pointer_letter(position)


def test_lay_terms_name_written_codes():
    for code in icd10.LAY_TERMS:
        assert icd10.normalize_code(code) == code


@given(st.text(alphabet="abcmsz0123456789. XA", max_size=12))
def test_normalize_is_idempotent_and_keeps_the_characters(text):
    code = icd10.normalize_code(text)
    if code:
        assert icd10.normalize_code(code) == code
        assert icd10.compact(code) == icd10.compact(text)
        assert icd10.looks_like_code(icd10.compact(code))
