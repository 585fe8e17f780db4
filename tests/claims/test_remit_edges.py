"""835 files as real payers and clearinghouses send them, posted through the import service
on the test's SQLite file: claim-level adjustments and claims with no service line, PLB
provider adjustments, the same claim twice (reversal and correction), split claims and
patient control numbers as payers echo them, several transaction sets and other
separators, notices, line take-backs, multi-reason CAS, and files that are not 835s.
Every file meant to be a valid 835 passes pyx12 before the portal reads it; every import
is one transaction, and the same file again changes nothing."""

import datetime as dt

import pytest

from portal.models import (
    Claim,
    ClaimAdjustment,
    ClaimEvent,
    ClaimLine,
    ClaimPosting,
    ClaimProblem,
    Invoice,
    InvoiceLine,
    Remittance,
    RemittanceClaim,
    StoredDocument,
)
from portal.services.claims import remittances
from portal.services.claims.remittances import RemittanceError
from tests.claims import factories as cf
from tests.claims.era import interchange, transaction
from tests.x12.helpers import assert_valid

MODELS = (Remittance, RemittanceClaim, ClaimPosting, ClaimAdjustment, ClaimEvent, Invoice,
          InvoiceLine, StoredDocument, ClaimProblem)  # fmt: skip


def counts():
    return {m.__name__: m.select().count() for m in MODELS}


def claim_money_of(claim):
    c = Claim.get_by_id(claim.id)
    return c.status, c.paid_cents, c.patient_resp_cents, c.adjusted_cents, c.balance_cents


def imported(practice_id, text, valid=True, **kw):
    """Import `text` (pyx12-checked first when it is meant to be valid), then check that the
    same bytes again are refused and change nothing."""
    if valid:
        assert_valid(text)
    data = text.encode("ascii")
    result = remittances.import_835(practice_id, data, **kw)
    before = counts()
    with pytest.raises(RemittanceError, match="nothing was posted again"):
        remittances.import_835(practice_id, data)
    assert counts() == before
    return result


def refused(practice_id, text, words):
    before = counts()
    with pytest.raises(RemittanceError, match=words) as err:
        remittances.import_835(practice_id, text.encode("ascii"))
    assert counts() == before
    return str(err.value)


@pytest.fixture
def side(ctx, world):
    a = world.a
    a.payer = cf.payer(a.practice, name="Blue Harbor Health", payer_code="BHH01")
    a.pol = cf.policy(a.practice, a.c1, a.payer)
    return a


def submitted(a, pcn, lines=(("97124", 45, 3, 9000), ("97140", 30, 2, 7000)), **kw):
    return cf.claim(a.practice, a.c1, a.provider, policy_obj=a.pol, status="submitted",
                    patient_control_number=pcn, lines=lines, **kw)  # fmt: skip


# --- 1. claim-level CAS, claims with no SVC loop ------------------------------------------


def test_a_claim_answered_without_service_lines(side):
    c = submitted(side, "V11P1", lines=(("97124", 45, 3, 12000),))
    body = ["CLP*V11P1*1*120*86*10*12*BHH1001*11*1", "CAS*CO*45*24", "CAS*PR*3*10",
            "NM1*QC*1*REYES*DANA****MI*XJH123456789", "DTM*232*20261102"]  # fmt: skip
    result = imported(side.practice.id, interchange([transaction(body, payment="86",
                                                                 trace="EFT11")]))  # fmt: skip
    (p,) = result.posted
    assert p.problems == []
    assert claim_money_of(c) == ("partially_paid", 8600, 1000, 2400, 0)
    assert Claim.get_by_id(c.id).allowed_cents == 9600
    (posting,) = ClaimPosting.select().where(ClaimPosting.claim == c.id)
    assert posting.claim_line_id is None and posting.paid_cents == 8600
    assert sorted((x.group_code, x.reason_code, x.amount_cents) for x in posting.adjustments) == [
        ("CO", "45", 2400), ("PR", "3", 1000)]  # fmt: skip
    (inv,) = result.invoices
    assert [(ln.description.split(":")[0], ln.amount_cents) for ln in inv.lines] == [
        ("Copay", 1000)]  # fmt: skip


def test_claim_level_cas_with_service_lines_balances(side):
    """The guide's balance: CLP04 = the lines' SVC03 less the claim-level adjustments (a
    deductible taken at claim level, as some payers report it)."""
    c = submitted(side, "V12P1")
    body = ["CLP*V12P1*1*160*88*40*12*BHH1002*11*1", "CAS*PR*1*40",
            "NM1*QC*1*REYES*DANA****MI*XJH123456789",
            "SVC*HC:97124*90*72**3", "DTM*472*20261102", "CAS*CO*45*18",
            "SVC*HC:97140*70*56**2", "DTM*472*20261102", "CAS*CO*45*14"]  # fmt: skip
    result = imported(side.practice.id, interchange([transaction(body, payment="88",
                                                                 trace="EFT12")]))  # fmt: skip
    (p,) = result.posted
    assert p.problems == []
    assert not ClaimProblem.select().where(ClaimProblem.claim == c.id).exists()
    assert claim_money_of(c) == ("partially_paid", 8800, 4000, 3200, 0)
    lines = list(ClaimLine.select().where(ClaimLine.claim == c.id).order_by(ClaimLine.position))
    assert [(ln.paid_cents, ln.adjusted_cents) for ln in lines] == [(7200, 1800), (5600, 1400)]
    assert sum(x.paid_cents for x in ClaimPosting.select().where(ClaimPosting.claim == c.id)) == (
        8800
    )
    (inv,) = result.invoices
    assert inv.total_cents == 4000 and inv.lines.get().description.startswith("Deductible")
