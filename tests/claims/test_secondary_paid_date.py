"""The date a secondary claim's 837P tells the secondary payer its primary paid (loop
2330B DTP*573, or 2430 DTP*573 on each line the primary answered): the primary payer's own
date, as its answer gave it. From an 835, its payment date (BPR16); posted by hand, the
date typed from the EOB, or with none typed the day it was posted in the practice's zone.
The answer is the primary's latest (whose money AMT*D, SVD and CAS report), on a line the
latest that adjudicated that line, while the secondary's filing clock starts on the first,
read by services/claims/filing.py. Every file is validated with pyx12."""

import datetime as dt

import pytest

from portal import clock
from portal.models import Claim, ClaimLine, Practice
from portal.rules.claim_money import Adj
from portal.services.claims import batch837, batches, filing, posting, remittances
from tests.claims import factories as cf
from tests.claims.era import interchange, transaction
from tests.claims.sql_counter import count_queries
from tests.x12.helpers import assert_valid, in_order, segments

LINES = (("97124", 45, 3, 9000),)


@pytest.fixture
def a(ctx, world):
    return cf.sendable(world.a)


@pytest.fixture
def at(monkeypatch):
    """at(when): the clock says `when` (naive UTC) from now on."""

    def move(when):
        monkeypatch.setattr(clock, "utcnow", lambda: when)

    return move


@pytest.fixture
def payers(a):
    first = cf.payer(a.practice, name="Blue Harbor Health", payer_code="BHH01")
    second = cf.payer(a.practice, name="Second Mutual", filing_limit_days=90)
    return first, cf.policy(a.practice, a.c1, second, rank="secondary")


def _primary(a, payers, pcn):
    return cf.claim(a.practice, a.c1, a.provider, payer_obj=payers[0], status="submitted",
                    patient_control_number=pcn, lines=LINES,
                    submitted_at=dt.datetime(2026, 11, 5, 18))  # fmt: skip


def _secondary(a, payers, primary):
    primary = Claim.get_by_id(primary.id)
    return cf.claim(a.practice, a.c1, a.provider, policy_obj=payers[1], rank="secondary",
                    primary_claim=primary, primary_paid_cents=primary.paid_cents,
                    lines=LINES)  # fmt: skip


def _import(a, body, *, paid_on, trace, control, payment):
    text = interchange([transaction(body, payment=payment, trace=trace, paid_on=paid_on)],
                       control=control)  # fmt: skip
    assert_valid(text)
    result = remittances.import_835(a.practice.id, text.encode("ascii"))
    assert len(result.posted) == len([s for s in body if s.startswith("CLP*")])


def _file(a):
    (batch,) = batches.build(a.practice.id)
    text = batches.file_bytes(batch).decode("ascii")
    assert_valid(text)
    return segments(text)


def _paid_dates(segs):
    return [s for s in segs if s.startswith("DTP*573*")]


def test_an_835_answer_without_lines_gives_its_payment_date_in_2330b(a, payers, at):
    primary = _primary(a, payers, "P2330B")
    at(dt.datetime(2026, 12, 2, 18))  # posted on Dec 2, the payer paid on Nov 15
    _import(a, ["CLP*P2330B*1*90*70*0*12*BHH9001*11*1", "CAS*CO*45*20"],
            paid_on="20261115", trace="EFT9001", control=91001, payment="70")  # fmt: skip
    assert Claim.get_by_id(primary.id).status == "paid"
    secondary = _secondary(a, payers, primary)

    segs = _file(a)

    assert in_order(
        [f"CLM*{secondary.patient_control_number}*90***11:B:1*Y*A*Y*Y",
         "SBR*P*18*GRP100******CI", "CAS*CO*45*20", "AMT*D*70", "OI***Y***Y",
         "NM1*PR*2*BLUE HARBOR HEALTH*****PI*BHH01", "DTP*573*D8*20261115", "LX*1"],
        segs,
    ), "\n".join(segs)  # fmt: skip
    assert _paid_dates(segs) == ["DTP*573*D8*20261115"]


def test_after_a_reversal_the_837p_dates_the_correction_and_the_clock_the_first(a, payers, at):
    primary = _primary(a, payers, "P2430")
    at(dt.datetime(2026, 11, 18, 18))
    _import(a, ["CLP*P2430*1*90*70*0*12*BHH9101*11*1", "SVC*HC:97124*90*70**3", "CAS*CO*45*20"],
            paid_on="20261115", trace="EFT9101", control=91101, payment="70")  # fmt: skip
    at(dt.datetime(2026, 12, 2, 18))  # the payer takes it back and pays again on Dec 1
    _import(a, ["CLP*P2430*22*-90*-70*0*12*BHH9101*11*1", "SVC*HC:97124*-90*-70**-3",
                "CAS*CO*45*-20", "CLP*P2430*1*90*75*0*12*BHH9102*11*1",
                "SVC*HC:97124*90*75**3", "CAS*CO*45*15"],
            paid_on="20261201", trace="EFT9102", control=91102, payment="5")  # fmt: skip
    assert Claim.get_by_id(primary.id).paid_cents == 7500
    secondary = _secondary(a, payers, primary)

    segs = _file(a)

    assert in_order(
        [
            "AMT*D*75",
            "NM1*PR*2*BLUE HARBOR HEALTH*****PI*BHH01",
            "LX*1",
            "SVD*BHH01*75*HC:97124**3",
            "CAS*CO*45*15",  # the net of 20, -20 and 15: what the payer decided last
            "DTP*573*D8*20261201",
        ],
        segs,
    ), "\n".join(segs)
    assert [s for s in segs if s.startswith("CAS*")] == ["CAS*CO*45*15"]
    assert _paid_dates(segs) == ["DTP*573*D8*20261201"]  # 2430 only: the line was answered
    # The claim page's clock counts from the first answer, from the same helper.
    tz = Practice.get_by_id(a.practice.id).tz
    answers = filing.primary_answers(secondary, tz)
    assert [day for day, _ in answers] == [dt.date(2026, 11, 15), dt.date(2026, 12, 1)]
    status = filing.standing(Claim.get_by_id(secondary.id), [], dt.date(2026, 12, 2), tz)
    assert status.start.day == dt.date(2026, 11, 15) and status.deadline == dt.date(2027, 2, 13)


def _by_hand(claim, paid, adjustments, paid_on=None):
    line = ClaimLine.get(ClaimLine.claim == claim.id)
    pr = sum(x.cents for x in adjustments if x.group == "PR")
    paid_line = posting.PaidLine(line, paid + pr, paid, tuple(adjustments))
    posting.post(claim, posting.answer_by_hand([paid_line]), paid_on=paid_on)


def test_a_payment_by_hand_is_dated_by_the_date_typed_from_the_eob(a, payers, at):
    """The EOB says Nov 12; the desk posts it on Dec 2: the secondary's 837P says Nov 12
    (2330B and 2430), and its filing clock (the page's and the work list's SQL) starts on
    Nov 12 too."""
    primary = _primary(a, payers, "PTYPED")
    at(dt.datetime(2026, 12, 2, 18))
    _by_hand(primary, 6000, [Adj("CO", "45", 3000)], paid_on=dt.date(2026, 11, 12))
    secondary = _secondary(a, payers, primary)
    tz = Practice.get_by_id(a.practice.id).tz

    (loaded,) = batch837.load_claims(Claim.select().where(Claim.id == secondary.id), tz)
    assert loaded.primary_paid_date == dt.date(2026, 11, 12)
    status = filing.standing(Claim.get_by_id(secondary.id), [], dt.date(2026, 12, 2), tz)
    assert status.start.day == dt.date(2026, 11, 12)
    assert status.deadline == dt.date(2027, 2, 10)  # 90 days from Nov 12, not from Dec 2
    # The work list's SQL narrows by the same day: due 8 days before the deadline.
    due = filing.due(a.practice.id, dt.date(2027, 2, 2), tz)
    assert [(c.id, s.deadline) for c, s in due] == [(secondary.id, dt.date(2027, 2, 10))]

    segs = _file(a)

    assert in_order([f"CLM*{secondary.patient_control_number}*90***11:B:1*Y*A*Y*Y",
                     "AMT*D*60", "SVD*BHH01*60*HC:97124**3", "DTP*573*D8*20261112"],
                    segs), "\n".join(segs)  # fmt: skip
    assert set(_paid_dates(segs)) == {"DTP*573*D8*20261112"}


def test_a_payment_posted_by_hand_is_dated_on_the_practices_day(a, payers, at):
    pairs = []
    for k in range(3):
        primary = _primary(a, payers, f"PHAND{k}")
        # 05:00 UTC on Dec 2 + k is 21:00 the day before in Los Angeles.
        at(dt.datetime(2026, 12, 2 + k, 5))
        _by_hand(primary, 6000, [Adj("CO", "45", 2000), Adj("CO", "96", 1000)])
        pairs.append((primary, dt.date(2026, 12, 1 + k)))
    # Writing off part of the first primary's open balance later is the practice's act,
    # not the payer's answer: its date stays.
    at(dt.datetime(2026, 12, 8, 18))
    posting.write_off(pairs[0][0], 200, "Small balance")
    assert Claim.get_by_id(pairs[0][0].id).status == "partially_paid"
    secondaries = [(_secondary(a, payers, p), day) for p, day in pairs]

    segs = _file(a)

    for secondary, day in secondaries:
        assert in_order([f"CLM*{secondary.patient_control_number}*90***11:B:1*Y*A*Y*Y",
                         "AMT*D*60", "SVD*BHH01*60*HC:97124**3",
                         f"DTP*573*D8*{day:%Y%m%d}"], segs), "\n".join(segs)  # fmt: skip
    assert len(_paid_dates(segs)) == 3

    # The primaries' answers are read for the whole batch at once: as many statements for
    # three secondary claims as for one.
    tz = Practice.get_by_id(a.practice.id).tz
    ids = [s.id for s, _ in secondaries]
    with count_queries() as one:
        loaded = batch837.load_claims(Claim.select().where(Claim.id == ids[0]), tz)
    assert loaded[0].primary_paid_date == dt.date(2026, 12, 1)
    with count_queries() as three:
        loaded = batch837.load_claims(Claim.select().where(Claim.id.in_(ids)), tz)
    assert three.count == one.count, (one.statements, three.statements)
    assert [x.primary_paid_date for x in loaded] == [day for _, day in pairs]


TWO_LINES = (("97124", 45, 3, 9000), ("97140", 30, 2, 7000))


def test_each_line_is_dated_by_the_answer_that_adjudicated_it(a, payers, at):
    """The primary paid both lines on Nov 15, then took back line 2 alone and paid it again
    on Dec 1 (a reversal and a new answer naming that line only): line 1's 2430 is Nov
    15's answer, line 2's Dec 1's, each with that answer's SVD and CAS."""
    primary = cf.claim(a.practice, a.c1, a.provider, payer_obj=payers[0], status="submitted",
                       patient_control_number="PLINES", lines=TWO_LINES,
                       submitted_at=dt.datetime(2026, 11, 5, 18))  # fmt: skip
    at(dt.datetime(2026, 11, 18, 18))
    _import(a, ["CLP*PLINES*1*160*120*0*12*BHH9201*11*1",
                "SVC*HC:97124*90*70**3", "CAS*CO*45*20",
                "SVC*HC:97140*70*50**2", "CAS*CO*45*20"],
            paid_on="20261115", trace="EFT9201", control=92001, payment="120")  # fmt: skip
    at(dt.datetime(2026, 12, 2, 18))
    _import(a, ["CLP*PLINES*22*-70*-50*0*12*BHH9201*11*1",
                "SVC*HC:97140*-70*-50**-2", "CAS*CO*45*-20",
                "CLP*PLINES*1*70*56*0*12*BHH9202*11*1",
                "SVC*HC:97140*70*56**2", "CAS*CO*45*14"],
            paid_on="20261201", trace="EFT9202", control=92002, payment="6")  # fmt: skip
    assert Claim.get_by_id(primary.id).paid_cents == 12600
    primary = Claim.get_by_id(primary.id)
    secondary = cf.claim(a.practice, a.c1, a.provider, policy_obj=payers[1], rank="secondary",
                         primary_claim=primary, primary_paid_cents=primary.paid_cents,
                         lines=TWO_LINES)  # fmt: skip

    segs = _file(a)

    assert in_order(
        [f"CLM*{secondary.patient_control_number}*160***11:B:1*Y*A*Y*Y", "AMT*D*126",
         "LX*1", "SV1*HC:97124*90*UN*3***1", "SVD*BHH01*70*HC:97124**3", "CAS*CO*45*20",
         "DTP*573*D8*20261115",
         "LX*2", "SV1*HC:97140*70*UN*2***1", "SVD*BHH01*56*HC:97140**2", "CAS*CO*45*14",
         "DTP*573*D8*20261201"],
        segs,
    ), "\n".join(segs)  # fmt: skip
    assert _paid_dates(segs) == ["DTP*573*D8*20261115", "DTP*573*D8*20261201"]
