"""A 277CA status answers the sending it is about, not whatever the claim is now: a claim
rejected, corrected and sent again in a newer file is not rejected again by a late copy of
the old file's 277CA. What tells the sending (services/claims/acks.py, rules/ack_match.py):
the 837P file the 277CA names (2200B TRN*2 = our BHT03), the clearinghouse's trace of the
claim (REF*D9) an earlier answer already gave for an earlier sending, the payer's claim
number a corrected claim replaces (REF*1K = the newer file's REF*F8), the claim as each
file sent it (charge STC04, dates of service DTP*472), and the status date (STC02) before
the claim was last sent. An answer to an earlier sending changes nothing; it is kept in
the claim's history and on the earlier file's page for the desk to see."""

import datetime as dt
import html

import pytest

from portal import clock
from portal.models import Claim, ClaimEvent, ClaimLine, ClaimProblem, X12Counter
from portal.services.claims import acks, batches, history
from portal.x12.answers import ClaimRejection, answer_277ca
from tests.claims import factories as cf
from tests.conftest import login

FIRST_SENT = dt.datetime(2026, 11, 30, 18, 0)  # file 42
ANSWERED = dt.datetime(2026, 12, 1, 6, 10)  # its 277CA, rejecting CLM0000102
RESENT = dt.datetime(2026, 12, 2, 15, 0)  # CLM0000102 corrected, in file 43
PCNS = ("CLM0000101", "CLM0000102", "CLM0000103")
NPI = ClaimRejection("A7", "21", "DN", "Referring provider NPI is not valid for this payer")


def _at(monkeypatch, when):
    monkeypatch.setattr(clock, "utcnow", lambda: when)


def _text(batch):
    return batches.file_bytes(batch).decode("ascii")


def _answer(batch, created, control, trace="", *, batch_trace=None, **kw):
    """A 277CA for `batch`'s file rejecting CLM0000102 (REF*D9 `trace`), the others
    accepted; batch_trace: what its TRN*2 names instead of the file (a number not ours)."""
    text = answer_277ca(_text(batch), control_number=control, created=created,
                        rejections={"CLM0000102": NPI},
                        traces={"CLM0000102": trace} if trace else None, **kw)  # fmt: skip
    if batch_trace is not None:
        number = batch.group_control_number
        text = text.replace(f"TRN*2*{number}~", f"TRN*2*{batch_trace}~")
    return text


def _uploaded(batch):
    """The history row the upload writes (services/claims/sending.py): not a sending."""
    for c in batches.claims_of(batch):
        history.event(c, "sent", from_status="submitted", to_status="submitted",
                      reason="Uploaded to the clearinghouse", batch=batch)  # fmt: skip


@pytest.fixture
def resent(ctx, world, monkeypatch):
    """File 42 of three claims, its 277CA rejecting CLM0000102 (trace HC601-2); that claim
    corrected and sent again in file 43 (with `charge` cents on its first line, when
    given). Returns (side, file 42, file 43, the claim)."""
    a = cf.sendable(world.a)
    payer = cf.payer(a.practice, name="Blue Harbor Health", payer_code="BHH01")
    X12Counter.create(practice=a.practice, last_number=41)

    def make(charge=None):
        _at(monkeypatch, FIRST_SENT)
        for n, pcn in enumerate(PCNS):
            cf.claim(a.practice, a.c1, a.provider, payer_obj=payer, patient_control_number=pcn,
                     day=dt.date(2026, 11, 2 + n))  # fmt: skip
        (old,) = batches.build(a.practice.id)
        _uploaded(old)
        _at(monkeypatch, ANSWERED)
        acks.apply_277ca(a.practice.id, _answer(old, ANSWERED, 601, "HC601-2"))
        claim = Claim.get(Claim.patient_control_number == "CLM0000102")
        assert claim.status == "rejected"
        # Corrected and checked again (the fixture's claims lack a signed note: by hand).
        ClaimProblem.delete().execute()
        Claim.update(status="ready", held=False).where(Claim.id == claim.id).execute()
        if charge is not None:
            line = ClaimLine.get((ClaimLine.claim == claim.id) & (ClaimLine.position == 1))
            ClaimLine.update(charge_cents=charge).where(ClaimLine.id == line.id).execute()
            total = charge + 3500
            Claim.update(total_cents=total).where(Claim.id == claim.id).execute()
        _at(monkeypatch, RESENT)
        (new,) = batches.build(a.practice.id)
        _uploaded(new)
        assert (old.group_control_number, new.group_control_number) == (42, 43)
        return a, old, new, Claim.get_by_id(claim.id)

    return make


def _state(claim):
    c = Claim.get_by_id(claim.id)
    problems = ClaimProblem.select().where(ClaimProblem.claim == c.id).count()
    return c.status, c.held, c.batch_id, problems


def test_a_late_copy_of_the_old_files_277ca_leaves_the_claim_sent_again_alone(
    app, client, resent, monkeypatch
):
    """The clearinghouse sends the old file's 277CA again (another envelope) after the
    claim went out in file 43: the claim stays submitted with file 43, and the desk sees
    the late answer in its history and on file 42's page."""
    a, old, new, claim = resent()
    before = _state(claim)
    assert before == ("submitted", False, new.id, 0)

    copy = _answer(old, ANSWERED, 602, "HC601-2")
    result = acks.apply_277ca(a.practice.id, copy)
    assert _state(claim) == before
    assert result.rejected == [] and [c.id for c in result.earlier] == [claim.id]
    e = ClaimEvent.get((ClaimEvent.claim == claim.id) & (ClaimEvent.action == acks.EARLIER))
    assert (e.batch_id, e.from_status, e.to_status) == (old.id, "submitted", "submitted")
    assert e.reason.startswith(
        "277CA about the sending in file 000000042, not the claim's latest (file 000000043): "
        "left as it is. It names file 000000042."
    )
    assert "Rejected for invalid information" in e.reason

    # The same late answer again is kept once.
    events = ClaimEvent.select().count()
    acks.apply_277ca(a.practice.id, _answer(old, ANSWERED, 603, "HC601-2"))
    assert ClaimEvent.select().count() == events and _state(claim) == before

    login(client, a.frontdesk)
    page = html.unescape(client.get(f"/provider/claims/{claim.id}").get_data(as_text=True))
    assert "277CA about the sending in file 000000042" in page
    page = html.unescape(client.get(f"/provider/claims/batches/{old.id}").get_data(as_text=True))
    late = page[page.index('id="late-answers"') :]
    late = late[: late.index("</section>")]
    assert "CLM0000102" in late and "not the claim's latest (file 000000043)" in late
    page = client.get(f"/provider/claims/batches/{new.id}").get_data(as_text=True)
    assert 'id="late-answers"' not in page


@pytest.mark.parametrize(
    ("charge", "late", "why"),
    [
        # It names file 42 (TRN*2), though dated the day the claim went out again.
        (None, dict(created=RESENT + dt.timedelta(hours=2), control=611),
         "It names file 000000042."),
        # Dated before the claim went out again; its TRN*2 is the clearinghouse's own.
        (None, dict(created=ANSWERED, control=612, batch_trace="CH0099"),
         "Dated Dec 01, 2026, before the claim was sent again on Dec 02, 2026."),
        # The clearinghouse's trace of the claim that file 42's answer gave.
        (None, dict(created=RESENT + dt.timedelta(hours=2), control=613, trace="HC601-2",
                    batch_trace="CH0099"),
         "Its clearinghouse trace HC601-2 answered file 000000042 before."),
        # The claim as file 42 sent it: $125.00, corrected to $135.00 in file 43.
        (10000, dict(created=RESENT + dt.timedelta(hours=2), control=614,
                     batch_trace="CH0099"),
         "Its charge and dates of service ($125.00, Nov 03, 2026) are the claim's as file "
         "000000042 sent it."),
    ],
)  # fmt: skip
def test_each_thing_a_277ca_carries_tells_an_answer_to_the_earlier_sending(
    resent, monkeypatch, charge, late, why
):
    a, old, new, claim = resent(charge)
    before = _state(claim)
    _at(monkeypatch, RESENT + dt.timedelta(hours=3))
    text = _answer(old, late.pop("created"), late.pop("control"), late.pop("trace", ""), **late)
    result = acks.apply_277ca(a.practice.id, text)
    assert _state(claim) == before and result.rejected == []
    (e,) = ClaimEvent.select().where(
        (ClaimEvent.claim == claim.id) & (ClaimEvent.action == acks.EARLIER)
    )
    assert e.batch_id == old.id and why in e.reason, e.reason


@pytest.mark.parametrize(
    ("to_new", "late"),
    [
        # The answer to file 43: it names it.
        (True, dict(control=621, trace="HC621-2")),
        # Nothing tells it from an answer to file 43 (the same day, the same claim, a
        # number not ours, no trace): the claim as it is now takes it, as before.
        (False, dict(control=622, batch_trace="CH0099")),
    ],
)
def test_an_answer_to_the_latest_sending_still_rejects_the_claim(resent, monkeypatch, to_new, late):
    a, old, new, claim = resent()
    created = RESENT + dt.timedelta(hours=2)
    _at(monkeypatch, created)
    text = _answer(new if to_new else old, created, late.pop("control"), late.pop("trace", ""),
                   **late)  # fmt: skip
    result = acks.apply_277ca(a.practice.id, text)
    assert [c.id for c in result.rejected] == [claim.id] and result.earlier == []
    assert _state(claim)[0] == "rejected"
    e = ClaimEvent.get((ClaimEvent.claim == claim.id) & (ClaimEvent.created_at == created))
    assert (e.to_status, e.batch_id) == ("rejected", new.id)
    assert not ClaimEvent.select().where(ClaimEvent.action == acks.EARLIER).exists()


def test_a_corrected_claim_is_not_taken_back_by_its_originals_late_acceptance(
    ctx, world, monkeypatch
):
    """Accepted (the payer's number RG-1), corrected and sent again as frequency 7 (REF*F8
    RG-1) the same day: the original's acceptance fetched again (REF*1K RG-1) is about the
    claim the correction replaces; the payer number and status stay the correction's."""
    a = cf.sendable(world.a)
    payer = cf.payer(a.practice, name="Blue Harbor Health", payer_code="BHH01")
    _at(monkeypatch, FIRST_SENT)
    claim = cf.claim(a.practice, a.c1, a.provider, payer_obj=payer)
    (old,) = batches.build(a.practice.id)
    pcn = claim.patient_control_number
    _at(monkeypatch, RESENT)
    first = answer_277ca(_text(old), control_number=631, created=RESENT,
                         payer_claim_numbers={pcn: "RG-1"})  # fmt: skip
    acks.apply_277ca(a.practice.id, first)
    Claim.update(status="ready", frequency_code="7").where(Claim.id == claim.id).execute()
    _at(monkeypatch, RESENT + dt.timedelta(hours=1))
    (new,) = batches.build(a.practice.id)
    assert "REF*F8*RG-1~" in _text(new)

    # Fetched again the same day, its TRN*2 a number of the clearinghouse's own.
    copy = first.replace(f"TRN*2*{old.group_control_number}~", "TRN*2*CH0099~")
    result = acks.apply_277ca(a.practice.id, copy)
    c = Claim.get_by_id(claim.id)
    assert (c.status, c.payer_claim_number, c.batch_id) == ("submitted", "RG-1", new.id)
    assert [x.id for x in result.earlier] == [claim.id] and result.accepted == []
    e = ClaimEvent.get((ClaimEvent.claim == c.id) & (ClaimEvent.action == acks.EARLIER))
    assert "It gives the payer's number RG-1, which file 000000" in e.reason
