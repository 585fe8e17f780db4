"""The same payment again, or another plan's: an 835 is refused when its payer identifier
(TRN03) and check/EFT trace number (TRN02) were posted before, unless the files tell two
plans or divisions of one tax ID apart (TRN04, or the payer's REF*2U) and those differ.
Every file passes pyx12 first; imported() checks that the same file again is refused."""

import pytest

from portal.db import runner
from portal.models import Claim, Remittance
from portal.services.claims import remittances
from tests.claims.era import interchange, transaction
from tests.claims.test_remit_edges import claim_money_of, imported, refused, submitted


def _paid(pcn, payer_claim):
    return [f"CLP*{pcn}*1*90*72*0*12*{payer_claim}*11*1", "SVC*HC:97124*90*72**3",
            "CAS*CO*45*18"]  # fmt: skip


def _file(pcn, control, **kw):
    return interchange([transaction(_paid(pcn, f"B{control}"), payment="72", trace="CHK7001",
                                    **kw)], control=control)  # fmt: skip


@pytest.mark.parametrize(
    "plan_a, plan_b",
    [({"trace_supplement": "PLANA"}, {"trace_supplement": "PLANB"}),
     ({"payer_id": "BHH01"}, {"payer_id": "BHH02"})],
    ids=["TRN04", "REF*2U"],
)  # fmt: skip
def test_two_plans_of_one_tax_id_may_use_the_same_check_number(side, plan_a, plan_b):
    a = submitted(side, "V81P1", lines=(("97124", 45, 3, 9000),))
    b = submitted(side, "V82P1", lines=(("97124", 45, 3, 9000),))
    imported(side.practice.id, _file("V81P1", 89001, **plan_a))
    imported(side.practice.id, _file("V82P1", 89002, **plan_b))
    assert claim_money_of(a)[:2] == claim_money_of(b)[:2] == ("paid", 7200)
    rows = list(Remittance.select().order_by(Remittance.id))
    assert {(r.payer_identifier, r.trace_number) for r in rows} == {("1131234567", "CHK7001")}
    assert len({(r.trace_supplement, r.payer_code) for r in rows}) == 2
    # Plan A's payment again in another file (made again, a new control number): refused.
    again = _file("V81P1", 89003, **plan_a)
    refused(side.practice.id, again, "payment CHK7001 was posted on .* from another file")
    assert Claim.get_by_id(a.id).paid_cents == 7200


def test_a_file_that_names_no_plan_is_taken_for_the_payment_posted_before(side):
    """TRN04 and REF*2U tell plans apart only when both files name them: the same payer
    and check number in a file naming no plan is the same payment."""
    submitted(side, "V83P1", lines=(("97124", 45, 3, 9000),))
    imported(side.practice.id, _file("V83P1", 89011, trace_supplement="PLANA"))
    bare = _file("V83P1", 89012, payer_id="")
    refused(side.practice.id, bare, "payment CHK7001 was posted on")
    same_plan = _file("V83P1", 89013, trace_supplement="PLANA", payer_id="")
    refused(side.practice.id, same_plan, "payment CHK7001 was posted on")


def test_one_file_with_two_plans_payments_of_one_check_number(side):
    a = submitted(side, "V84P1", lines=(("97124", 45, 3, 9000),))
    b = submitted(side, "V85P1", lines=(("97124", 45, 3, 9000),))
    one = transaction(_paid("V84P1", "B841"), payment="72", trace="CHK7002",
                      trace_supplement="PLANA")  # fmt: skip
    two = transaction(_paid("V85P1", "B851"), payment="72", trace="CHK7002", control="0002",
                      trace_supplement="PLANB")  # fmt: skip
    result = imported(side.practice.id, interchange([one, two], control=89021))
    assert len(result.remittances) == 2
    assert claim_money_of(a)[:2] == claim_money_of(b)[:2] == ("paid", 7200)
    same = transaction(_paid("V85P1", "B851"), payment="72", trace="CHK7002", control="0002")
    refused(
        side.practice.id, interchange([one, same], control=89022), "holds payment CHK7002 twice"
    )


def test_migration_0022_reads_the_plan_of_payments_imported_before(side):
    """The rows imported before 0022 get their plan from their stored file, so that
    another plan's payment with the same check number is not refused for them."""
    submitted(side, "V86P1", lines=(("97124", 45, 3, 9000),))
    imported(side.practice.id, _file("V86P1", 89031, trace_supplement="PLANA"))
    r = runner()
    later = [m.name for m in r.status() if m.name > "0022_remittance_plan"]  # 0023 on
    assert r.down("0022_remittance_plan") == [*reversed(later), "0022_remittance_plan"]
    assert r.up() == ["0022_remittance_plan", *later]
    (row,) = Remittance.select()
    assert (row.trace_supplement, row.payer_code) == ("PLANA", "BHH01")
    assert remittances.provider_adjustments(row) == []
    submitted(side, "V87P1", lines=(("97124", 45, 3, 9000),))
    imported(side.practice.id, _file("V87P1", 89032, trace_supplement="PLANB"))
    refused(side.practice.id, _file("V86P1", 89033, trace_supplement="PLANA"), "was posted on")
