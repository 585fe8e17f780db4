"""837P batches from the claims in the database (services/claims/batches.py): one file per
payer, control numbers unique per practice and stored, ids from the clearinghouse
settings, the file kept with its SHA-256, the claims submitted with a history row each.
Every file is validated with pyx12 and its segments are checked for values."""

import datetime as dt
import hashlib

import pytest

from portal.models import (
    Claim,
    ClaimAdjustment,
    ClaimBatch,
    ClaimEvent,
    ClaimLine,
    ClaimPosting,
    ClaimSettings,
    ClearinghouseConnection,
    PriorAuthorization,
    Referral,
    StoredDocument,
    X12Counter,
)
from portal.services.claims import batches, life
from portal.services.claims.batches import BatchError
from portal.x12.read837 import read_837
from tests.claims import factories as cf
from tests.x12.helpers import assert_valid, in_order, segments


@pytest.fixture
def a(ctx, world):
    return cf.sendable(world.a)


def _claim(side, client=None, **kw):
    return cf.claim(side.practice, client or side.c1, side.provider, **kw)


def _file(batch):
    text = batches.file_bytes(batch).decode("ascii")
    assert_valid(text)
    return text, segments(text)


def test_one_file_per_payer_with_numbers_ids_and_history(a, world):
    payer1, payer2 = cf.payer(a.practice), cf.payer(a.practice, name="Zenith Mutual")
    c1 = _claim(a, payer_obj=payer1)
    c2 = _claim(a, world.a.c2, payer_obj=payer1, day=dt.date(2026, 11, 3))
    c3 = _claim(a, payer_obj=payer2, lines=(("97124", 60, 4, 12000),))
    draft = _claim(a, payer_obj=payer1, status="draft")
    held = _claim(a, payer_obj=payer1, held=True)

    built = batches.build(a.practice.id, user=a.frontdesk)

    assert [b.payer_id for b in built] == [payer1.id, payer2.id]
    assert [b.interchange_control_number for b in built] == [1, 2]
    assert X12Counter.get(X12Counter.practice == a.practice.id).last_number == 2
    b1, b2 = built
    assert (b1.claim_count, b1.total_cents) == (2, 25000)
    assert b1.group_control_number == 1 and b1.status == "built"
    assert b1.remote_name == "837P-000000001.x12"
    doc = StoredDocument.get_by_id(b1.document_id)
    assert doc.kind == "claim" and doc.client_id is None and doc.filename == "837P-000000001.x12"
    assert doc.sha256 == hashlib.sha256(bytes(doc.data)).hexdigest()

    text, segs = _file(b1)
    isa = segs[0].split("*")
    assert isa[5:9] == ["ZZ", "ISASENDER01    ", "ZZ", "ISARECEIVER    "]
    assert isa[13] == "000000001" and isa[15] == "T"
    assert in_order(
        [
            "GS*HC*GSSENDER*GSRECEIVER*"
            + segs[1].split("*")[4]
            + "*"
            + segs[1].split("*")[5]
            + "*1*X*005010X222A1",
            "NM1*41*2*" + a.practice.name.upper() + "*****46*SUBMITTER01",
            "PER*IC*" + a.practice.name.upper() + "*TE*5035550142",
            "NM1*40*2*TEST CLEARINGHOUSE*****46*CLEARHOUSE",
            "NM1*85*2*" + a.practice.name.upper() + "*****XX*1558598797",
            "N4*PORTLAND*OR*972051234",
            "REF*EI*931234567",
            f"CLM*{c1.patient_control_number}*125***11:B:1*Y*A*Y*Y",
            "HI*ABK:M5450*ABF:M62830",
            "SV1*HC:97124*90*UN*3***1",
            f"CLM*{c2.patient_control_number}*125***11:B:1*Y*A*Y*Y",
            "DTP*472*D8*20261103",
            "IEA*1*000000001",
        ],
        segs,
    ), "\n".join(segs)
    assert f"NM1*PR*2*{payer1.name.upper()}*****PI*{payer1.payer_code}" in segs
    assert draft.patient_control_number not in text and held.patient_control_number not in text
    lines = {line.cpt_code: line for line in c1.lines}
    assert f"REF*6R*L{lines['97124'].id}" in segs  # the 835 names the line back

    for c in (c1, c2, c3):
        c = Claim.get_by_id(c.id)
        assert c.status == "submitted" and c.submitted_at is not None
        event = ClaimEvent.get(ClaimEvent.claim == c.id)
        assert (event.from_status, event.to_status, event.action) == (
            "ready",
            "submitted",
            "status",
        )
        assert event.user_id == a.frontdesk.id and event.batch_id == c.batch_id
    assert Claim.get_by_id(draft.id).status == "draft" and Claim.get_by_id(held.id).batch_id is None
    assert [c.id for c in batches.claims_of(b1)] == [c1.id, c2.id]
    assert read_837(_file(b2)[0]).claims[0].patient_control_number == c3.patient_control_number


def test_numbers_are_per_practice_and_never_reused(a, world):
    cf.sendable(world.b)
    _claim(a)
    first = batches.build(a.practice.id)[0]
    _claim(world.b)
    other = batches.build(world.b.practice.id)[0]
    _claim(a)
    second = batches.build(a.practice.id)[0]
    assert (first.interchange_control_number, second.interchange_control_number) == (1, 2)
    assert other.interchange_control_number == 1  # practice b's own counter
    # ISA13 has nine digits: after 999999999 the count starts again, past numbers in use.
    X12Counter.update(last_number=999_999_999).where(X12Counter.practice == a.practice.id).execute()
    _claim(a)
    wrapped = batches.build(a.practice.id)[0]
    assert wrapped.interchange_control_number == 3
    assert X12Counter.get(X12Counter.practice == a.practice.id).last_number == 3


def test_the_claims_kinds_in_the_file(a, world):
    """Dependent patient (2000C), referring provider, prior authorization, auto accident
    with its state, workers' compensation, 59 on 97140, twelve diagnoses."""
    kid = cf.with_address(world.a.c2, sex="M")
    payer = cf.payer(a.practice)
    dependent_policy = cf.policy(
        a.practice, kid, payer, relationship="child", subscriber_first_name="Dana",
        subscriber_last_name="Reyes", subscriber_dob=dt.date(1985, 4, 12), subscriber_sex="F",
    )  # fmt: skip
    dependent = _claim(a, kid, policy_obj=dependent_policy)
    referral = Referral.create(
        practice=a.practice, client=a.c1, referring_name="Dr. Ann Ortiz",
        referring_npi="1558598797", referral_date=dt.date(2026, 10, 1),
    )  # fmt: skip
    auth = PriorAuthorization.create(
        practice=a.practice, client=a.c1, number="PA-7788", visits_allowed=10,
        start_date=dt.date(2026, 10, 1), end_date=dt.date(2026, 12, 31),
    )  # fmt: skip
    referred = _claim(a, payer_obj=payer, referral=referral, authorization=auth,
                      lines=(("97124", 30, 2, 6000), ("97140", 15, 1, 3500)))  # fmt: skip
    cf_line = referred.lines.where(ClaimLine.cpt_code == "97140").get()
    cf_line.modifiers, cf_line.pointers = "59", "B"
    cf_line.save()
    auto = _claim(a, payer_obj=payer, claim_type="auto", injury_date=dt.date(2026, 10, 20),
                  accident_state="NY", accident_claim_number="AC-778")  # fmt: skip
    work = _claim(a, payer_obj=payer, claim_type="workers_comp",
                  injury_date=dt.date(2026, 10, 21), accident_claim_number="WC-1")  # fmt: skip
    twelve = ("M54.50", "M62.830", "M54.2", "M54.6", "M79.10", "M25.511", "M25.512", "M54.16",
              "M62.838", "M79.18", "G44.209", "M53.1")  # fmt: skip
    many = _claim(a, payer_obj=payer, diagnoses=twelve)

    batch = batches.build(a.practice.id, payer_id=payer.id)[0]
    text, segs = _file(batch)

    assert in_order(
        [f"SBR*P**{dependent_policy.group_number}******CI", "NM1*IL*1*REYES*DANA****MI*"
         + dependent_policy.member_id, "HL*3*2*23*0", "PAT*19",
         f"NM1*QC*1*{kid.last_name.upper()}*{kid.first_name.upper()}",
         f"DMG*D8*{kid.date_of_birth:%Y%m%d}*M",
         f"CLM*{dependent.patient_control_number}*125***11:B:1*Y*A*Y*Y"],
        segs,
    ), "\n".join(segs)  # fmt: skip
    assert in_order(
        [f"CLM*{referred.patient_control_number}*95***11:B:1*Y*A*Y*Y", "REF*G1*PA-7788",
         "NM1*DN*1*ORTIZ*ANN****XX*1558598797", "SV1*HC:97140:59*35*UN*1***2"],
        segs,
    ), "\n".join(segs)  # fmt: skip
    assert in_order(
        ["REF*Y4*AC-778", f"CLM*{auto.patient_control_number}*125***11:B:1*Y*A*Y*Y**AA:::NY",
         "DTP*439*D8*20261020"],
        segs,
    ), "\n".join(segs)  # fmt: skip
    assert in_order(
        ["SBR*P*18*GRP100******WC", "REF*Y4*WC-1",
         f"CLM*{work.patient_control_number}*125***11:B:1*Y*A*Y*Y**EM",
         "DTP*431*D8*20261021"],
        segs,
    ), "\n".join(segs)  # fmt: skip
    hi = next(s for s in segs if s.startswith("HI*") and "G44209" in s)
    assert hi.count(":") == 12 and hi.startswith("HI*ABK:M5450*ABF:M62830")
    assert many.patient_control_number in text


def test_corrected_void_and_secondary_claims(a, world):
    payer = cf.payer(a.practice)
    corrected = _claim(a, payer_obj=payer, frequency_code="7", payer_claim_number="PAY-555")
    void = _claim(a, payer_obj=payer, frequency_code="8", payer_claim_number="PAY-556")
    primary = _claim(a, payer_obj=payer, status="paid", paid_cents=7000,
                     adjudicated_at=dt.datetime(2026, 11, 20, 12))  # fmt: skip
    line = primary.lines.order_by(ClaimLine.position).first()
    posting = ClaimPosting.create(  # posted by hand when it was adjudicated
        practice=a.practice,
        claim=primary,
        claim_line=line,
        allowed_cents=7000,
        paid_cents=7000,
        created_at=dt.datetime(2026, 11, 20, 12),
    )
    ClaimAdjustment.create(
        practice=a.practice, posting=posting, group_code="CO", reason_code="45", amount_cents=2000
    )
    second_payer = cf.payer(a.practice, name="Second Mutual")
    secondary_policy = cf.policy(a.practice, a.c1, second_payer, rank="secondary")
    secondary = _claim(a, policy_obj=secondary_policy, rank="secondary", primary_claim=primary,
                       primary_paid_cents=7000)  # fmt: skip

    built = batches.build(a.practice.id)
    assert len(built) == 2
    _, segs = _file(built[0])
    assert in_order(
        [f"CLM*{corrected.patient_control_number}*125***11:B:7*Y*A*Y*Y", "REF*F8*PAY-555",
         f"CLM*{void.patient_control_number}*125***11:B:8*Y*A*Y*Y", "REF*F8*PAY-556"],
        segs,
    ), "\n".join(segs)  # fmt: skip
    _, segs = _file(built[1])
    assert in_order(
        ["SBR*S*18*GRP100******CI", f"CLM*{secondary.patient_control_number}*125***11:B:1*Y*A*Y*Y",
         "SBR*P*18*GRP100******CI", "AMT*D*70", f"NM1*PR*2*{payer.name.upper()}*****PI*"
         + payer.payer_code, "SVD*" + payer.payer_code + "*70*HC:97124**3", "CAS*CO*45*20",
         "DTP*573*D8*20261120"],
        segs,
    ), "\n".join(segs)  # fmt: skip


def test_a_voided_claim_the_payer_has_goes_out_once_and_stays_void(a, world):
    payer = cf.payer(a.practice)
    sent = _claim(a, payer_obj=payer, status="accepted", payer_claim_number="PAY-900")
    never_sent = _claim(a, payer_obj=payer, day=dt.date(2026, 11, 3))
    life.void(sent, "Billed the wrong client.", user=a.frontdesk)
    life.void(never_sent, "Entered twice.", user=a.frontdesk)
    sent, never_sent = Claim.get_by_id(sent.id), Claim.get_by_id(never_sent.id)
    assert (sent.status, sent.frequency_code, sent.batch_id) == ("void", "8", None)
    assert never_sent.frequency_code == "1"  # the payer never had it: nothing to send

    ((listed_payer, listed),) = batches.ready_by_payer(a.practice.id)
    assert [c.id for c in listed] == [sent.id]
    (batch,) = batches.build(a.practice.id, user=a.frontdesk)

    _, segs = _file(batch)
    assert in_order(
        [f"CLM*{sent.patient_control_number}*125***11:B:8*Y*A*Y*Y", "REF*F8*PAY-900"], segs
    ), "\n".join(segs)
    assert not any(never_sent.patient_control_number in s for s in segs)
    sent = Claim.get_by_id(sent.id)
    assert (sent.status, sent.batch_id, batch.claim_count) == ("void", batch.id, 1)
    event = ClaimEvent.get((ClaimEvent.claim == sent.id) & (ClaimEvent.batch == batch.id))
    assert (event.action, event.from_status, event.to_status) == ("void_sent", "void", "void")
    assert [c.id for c in batches.claims_of(batch)] == [sent.id]
    assert batches.ready_by_payer(a.practice.id) == []
    with pytest.raises(BatchError, match="no ready claim"):
        batches.build(a.practice.id)


def test_missing_ids_point_at_the_settings_and_change_nothing(a, world):
    c = _claim(a)
    ClearinghouseConnection.update(submitter_id="", receiver_id="").execute()
    with pytest.raises(BatchError, match="Settings → Clearinghouse") as err:
        batches.build(a.practice.id)
    assert "submitter id (loop 1000A)" in str(err.value)
    ClearinghouseConnection.delete().execute()
    with pytest.raises(BatchError, match="Settings → Clearinghouse"):
        batches.build(a.practice.id)
    assert Claim.get_by_id(c.id).status == "ready"
    assert not ClaimBatch.select().exists() and not X12Counter.select().exists()


def test_a_claim_the_writer_refuses_is_named_and_nothing_is_built(a, world):
    good = _claim(a)
    a.c2.date_of_birth = None
    a.c2.save()
    bad = _claim(a, world.a.c2, payer_obj=Claim.get_by_id(good.id).payer)
    with pytest.raises(BatchError) as err:
        batches.build(a.practice.id)
    assert bad.patient_control_number in str(err.value) and "date of birth" in str(err.value)
    assert good.patient_control_number not in str(err.value)
    assert {c.status for c in Claim.select()} == {"ready"}
    assert not StoredDocument.select().where(StoredDocument.kind == "claim").exists()


def test_chosen_claims_must_still_be_ready(a, world):
    c1, c2 = _claim(a), _claim(a)
    with pytest.raises(BatchError, match="Choose at least one"):
        batches.build(a.practice.id, claim_ids=[])
    Claim.update(status="draft").where(Claim.id == c2.id).execute()
    with pytest.raises(BatchError, match="1 of the chosen claims is no longer ready"):
        batches.build(a.practice.id, claim_ids=[c1.id, c2.id])
    other = _claim(cf.sendable(world.b))
    with pytest.raises(BatchError, match="no longer ready"):
        batches.build(a.practice.id, claim_ids=[c1.id, other.id])  # not practice a's
    assert len(batches.build(a.practice.id, claim_ids=[c1.id])) == 1
    with pytest.raises(BatchError, match="no ready claim"):
        batches.build(a.practice.id)


def test_billing_under_each_therapist_makes_a_file_per_provider(a, world):
    ClaimSettings.create(practice=a.practice, bill_as="provider")
    payer = cf.payer(a.practice)
    cf.claim(a.practice, a.c1, a.provider, payer_obj=payer)
    a.provider2.npi = "1558123455"
    a.provider2.save()
    cf.claim(a.practice, a.c2, a.provider2, payer_obj=payer)
    built = batches.build(a.practice.id)
    assert len(built) == 2
    _, segs = _file(built[0])
    assert (
        f"NM1*85*1*{a.provider.last_name.upper()}*{a.provider.first_name.upper()}****XX*"
        f"{a.provider.npi}" in segs
    )
    assert not any(s.startswith("NM1*82*") for s in segs)  # the biller renders: no 2310B
