"""The words for payers' and clearinghouses' codes: every code DOMAIN.md names has words."""

import pytest

from portal.rules import edi_codes as codes

# DOMAIN.md "Remittance (835)": the common adjustment reason codes, in its words.
DOMAIN_CARC = {
    "1": "deductible", "2": "coinsurance", "3": "copay", "16": "lacks information",
    "18": "duplicate", "27": "after coverage ended", "29": "time limit for filing",
    "45": "fee schedule", "50": "not medically necessary", "96": "non-covered",
    "97": "included in the allowance for another service", "119": "benefit maximum",
    "197": "authorization", "204": "not covered under the patient's current benefit plan",
}  # fmt: skip


@pytest.mark.parametrize("reason, words", DOMAIN_CARC.items())
def test_every_domain_carc_has_its_words(reason, words):
    assert words in codes.carc_text(reason).lower()


@pytest.mark.parametrize(
    "group, reason, text",
    [
        ("CO", "45", "Contractual obligation: charge exceeds the fee schedule or the contracted "
         "amount (CO-45)"),
        ("PR", "1", "Patient responsibility: deductible (PR-1)"),
        ("PR", "3", "Patient responsibility: copay (PR-3)"),
        ("OA", "23", "Other adjustment: the prior payer's payment and adjustments (OA-23)"),
        ("PI", "206", "Payer-initiated reduction: NPI missing (PI-206)"),
        ("CO", "999", "Contractual obligation: reason 999 (CO-999)"),  # unknown: still readable
        ("ZZ", "45", "group ZZ: charge exceeds the fee schedule or the contracted amount (ZZ-45)"),
    ],
)  # fmt: skip
def test_adjustment_words(group, reason, text):
    assert codes.adjustment_text(group, reason) == text


@pytest.mark.parametrize(
    "category, code, entity, text",
    [
        ("A7", "21", "85", "Rejected for invalid information: missing or invalid information "
         "(billing provider) (A7:21:85)"),
        ("A2", "20", "", "Accepted into adjudication: accepted for processing (A2:20)"),
        ("A6", "562", "82", "Rejected for missing information: entity's National Provider "
         "Identifier (NPI) (rendering provider) (A6:562:82)"),
        ("A3", "116", "PR", "Returned as unprocessable: claim submitted to the wrong payer "
         "(payer) (A3:116:PR)"),
        ("A1", "19", "PR", "Received (not yet accepted for adjudication): claim received "
         "(payer) (A1:19:PR)"),
    ],
)  # fmt: skip
def test_277ca_status_words(category, code, entity, text):
    assert codes.stc_text(category, code, entity) == text


@pytest.mark.parametrize("category", ["A0", "A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8"])
def test_every_277ca_category_has_words(category):
    assert not codes.category_text(category).startswith("category")


def test_rejecting_categories_are_the_rule_books():
    assert codes.REJECTING_CATEGORIES == {"A3", "A6", "A7", "A8"}


@pytest.mark.parametrize(
    "fn, code, text",
    [
        (codes.segment_error_text, "8", "Segment has data element errors"),
        (codes.segment_error_text, "3", "Required segment missing"),
        (codes.segment_error_text, "I4", "A segment the guide marks 'not used' is present"),
        (codes.element_error_text, "7", "Invalid code value"),
        (codes.element_error_text, "1", "Required element missing"),
        (codes.element_error_text, "8", "Invalid date"),
        (codes.element_error_text, "I12", "Pattern match failure"),
        (codes.ack_text, "A", "Accepted"),
        (codes.ack_text, "E", "Accepted with errors noted"),
        (codes.ack_text, "R", "Rejected"),
        (codes.group_ack_text, "P", "Partially accepted: at least one transaction set was "
         "rejected"),
        (codes.transaction_error_text, "5", "One or more segments in error"),
        (codes.group_error_text, "5", "The number of transaction sets does not match"),
        (codes.rarc_text, "N130", "Consult the plan's benefit documents for restrictions on this "
         "service"),
        (codes.rarc_text, "ma130", "The claim is unprocessable (incomplete or invalid): submit a "
         "new claim"),
        (codes.rarc_text, "N9999", "remark N9999"),
        (codes.entity_text, "IL", "subscriber"),
        (codes.carc_text, "", "reason"),
    ],
)  # fmt: skip
def test_999_and_remark_words(fn, code, text):
    assert fn(code) == text
