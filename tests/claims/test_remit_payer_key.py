"""The same payment again, or another one: an 835 is refused when its payer identifier
(TRN03), check/EFT trace number (TRN02), amount (BPR02) and payment date (BPR16) were
posted before, unless the files tell two plans or divisions of one tax ID apart by TRN04
and those differ. The payer's REF*2U does not tell payments apart: a clearinghouse
rewrites it on its copy of the payer's file. Every file passes pyx12 first; imported()
checks that the same file again is refused."""

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
     ({"payer_id": "BHH01"}, {"payer_id": "BHH02", "paid_on": "20261219"})],
    ids=["TRN04", "another day"],
)  # fmt: skip
def test_two_plans_of_one_tax_id_may_use_the_same_check_number(side, plan_a, plan_b):
    a = submitted(side, "V81P1", lines=(("97124", 45, 3, 9000),))
    b = submitted(side, "V82P1", lines=(("97124", 45, 3, 9000),))
    imported(side.practice.id, _file("V81P1", 89001, **plan_a))
    imported(side.practice.id, _file("V82P1", 89002, **plan_b))
    assert claim_money_of(a)[:2] == claim_money_of(b)[:2] == ("paid", 7200)
    rows = list(Remittance.select().order_by(Remittance.id))
    assert {(r.payer_identifier, r.trace_number) for r in rows} == {("1131234567", "CHK7001")}
    assert len({(r.trace_supplement, r.payer_code, r.payment_date) for r in rows}) == 2
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


@pytest.mark.parametrize("payer_id", ["CLH00417", "60054", ""])
def test_a_clearinghouse_copy_with_another_ref_2u_is_the_same_payment(side, payer_id):
    """The payer's file, then a clearinghouse's copy of it that names the payer by the
    clearinghouse's own payer ID in REF*2U (or leaves it out): the same check, for the same
    amount on the same day, is posted once."""
    a = submitted(side, "V88P1", lines=(("97124", 45, 3, 9000),))
    imported(side.practice.id, _file("V88P1", 89041))
    copy = _file("V88P1", 89042, payer_id=payer_id)
    refused(side.practice.id, copy, "payment CHK7001 was posted on .* from another file")
    assert claim_money_of(a)[:2] == ("paid", 7200)
    assert Remittance.select().count() == 1


def test_one_file_holding_the_payment_twice_under_two_ref_2u_is_refused(side):
    submitted(side, "V89P1", lines=(("97124", 45, 3, 9000),))
    one = transaction(_paid("V89P1", "B891"), payment="72", trace="CHK7003")
    two = transaction(_paid("V89P1", "B891"), payment="72", trace="CHK7003", control="0002",
                      payer_id="CLH00417")  # fmt: skip
    refused(side.practice.id, interchange([one, two], control=89051), "holds payment CHK7003")


@pytest.mark.parametrize(
    "other",
    [{"payment": "60", "paid": ["CLP*V91P2*1*90*60*0*12*B912*11*1", "SVC*HC:97124*90*60**3",
                                "CAS*CO*45*30"]},
     {"paid_on": "20261219"}],
    ids=["another amount", "another day"],
)  # fmt: skip
def test_the_same_check_number_for_another_amount_or_day_is_another_payment(side, other):
    """A payer's check and EFT trace numbers come round again: the same payer and number
    for another amount, or paid on another day, is another payment, and posts."""
    a = submitted(side, "V91P1", lines=(("97124", 45, 3, 9000),))
    b = submitted(side, "V91P2", lines=(("97124", 45, 3, 9000),))
    imported(side.practice.id, _file("V91P1", 89061))
    body = other.get("paid", _paid("V91P2", "B912"))
    kw = {k: v for k, v in other.items() if k != "paid"}
    kw.setdefault("payment", "72")
    imported(side.practice.id,
             interchange([transaction(body, trace="CHK7001", **kw)], control=89062))  # fmt: skip
    assert claim_money_of(a)[:2] == ("paid", 7200)
    assert claim_money_of(b)[1] == int(kw["payment"]) * 100
    assert Remittance.select().count() == 2


MIGRATION = "0026_remittance_payment_key"


def test_migration_0026_keys_a_file_without_trn03_by_bpr10_and_back(side):
    """An 835 without TRN03 (the guide requires it; a few senders leave it out) was kept
    under its REF*2U before 0026: 0026 keys it by BPR10 (the same identifier as TRN03), so
    that a clearinghouse's copy naming another REF*2U is refused, and the payment is still
    found in its file (its PLB); down keys it by REF*2U again."""
    c = submitted(side, "V93P1", lines=(("97124", 45, 3, 9000),))
    plb = "PLB*1234567893*20261231*L6:INTEREST*-1.5"
    text = interchange([transaction(_paid("V93P1", "B931"), payment="73.5", trace="CHK7009",
                                    plb=[plb])], control=89071)  # fmt: skip
    untraced = text.replace("TRN*1*CHK7009*1131234567", "TRN*1*CHK7009")
    imported(side.practice.id, untraced, valid=False)
    (row,) = Remittance.select()
    assert row.payer_identifier == "1131234567"
    r = runner()
    reverted = r.down(MIGRATION)  # and every later migration
    assert reverted[-1] == MIGRATION
    assert Remittance.get_by_id(row.id).payer_identifier == "BHH01"
    assert r.up() == list(reversed(reverted))
    row = Remittance.get_by_id(row.id)
    assert row.payer_identifier == "1131234567"
    assert [a.reason for a in remittances.provider_adjustments(row)] == ["L6"]
    copy = untraced.replace("REF*2U*BHH01", "REF*2U*CLH00417").replace("89071", "89072")
    refused(side.practice.id, copy, "payment CHK7009 was posted on")
    assert claim_money_of(c)[:2] == ("paid", 7200)


def test_migration_0026_is_not_undone_over_two_payments_of_one_check_number(side):
    submitted(side, "V94P1", lines=(("97124", 45, 3, 9000),))
    submitted(side, "V94P2", lines=(("97124", 45, 3, 9000),))
    imported(side.practice.id, _file("V94P1", 89081))
    imported(side.practice.id, _file("V94P2", 89082, paid_on="20261219"))
    with pytest.raises(RuntimeError, match="0026 cannot be undone"):
        runner().down(MIGRATION)
    assert MIGRATION in {m.name for m in runner().status() if m.applied}
    assert Remittance.select().count() == 2
