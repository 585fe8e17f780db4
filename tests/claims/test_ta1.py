"""A TA1 (interchange acknowledgment) applied to the 837P file it answers (TA101 = our
ISA13), as a 999 that refuses a whole file is: a rejected envelope (TA104 R) means none of
the file was read, so its claims go back to the work list, rejected, with the note in
words and the owner's page to fix it; accepted (A) or accepted with errors (E) changes no
claim, and E's note is a warning on the file's page. A TA1 for no file of ours is listed,
not applied; the same TA1 twice applies once; a TA1 for a file whose claims went out again
in a newer file leaves them alone. Fetched from a real SFTP server, or kept and processed
as the fetch does (services.clearinghouse.store_download, process_file)."""

import datetime as dt
import html

import pytest

from portal import clock, tasks
from portal.models import (
    AuditLog,
    Claim,
    ClaimBatch,
    ClaimEvent,
    ClaimProblem,
    ClearinghouseFile,
    X12Counter,
)
from portal.services import clearinghouse as ch
from portal.services.claims import batches, filing, sending
from portal.tasks import claims as claim_tasks
from portal.tasks.clearinghouse import fetch_clearinghouse_files
from portal.x12 import answers
from tests.claims import factories as cf
from tests.clearinghouse.conftest import conn, sftp_server  # noqa: F401  (fixtures)
from tests.conftest import login

NOW = dt.datetime(2026, 12, 2, 18, 0)
SETTINGS = "/provider/settings/clearinghouse"
REFUSED = "note 006: invalid interchange sender ID"


def _body(r):
    assert r.status_code == 200
    return html.unescape(r.get_data(as_text=True))


def _build(side, n=2, payer=None, number=None, **kw):
    """`n` claims of practice `side` in one new 837P file (numbered `number` when given)."""
    if number is not None:
        X12Counter.insert(practice=side.practice, last_number=number - 1).on_conflict(
            conflict_target=[X12Counter.practice],
            update={X12Counter.last_number: number - 1},
        ).execute()
    payer = payer or cf.payer(side.practice, name="Blue Harbor Health", payer_code="BHH01")
    for i in range(n):
        cf.claim(side.practice, (side.c1, side.c2)[i % 2], side.provider, payer_obj=payer,
                 day=dt.date(2026, 11, 2 + i), **kw)  # fmt: skip
    (batch,) = batches.build(side.practice.id, user=side.frontdesk)
    return batch


def ta1(batch, code="R", note="006", control=401):
    text = batches.file_bytes(batch).decode("ascii")
    return answers.answer_ta1(text, control_number=control, created=NOW, code=code, note=note)


def receive(practice, text, name="ta1.x12"):
    """Keep a fetched file and hand it to the claims code, as the fetch does."""
    f, created = ch.store_download(practice.id, f"outbound/{name}", len(text), 1, text.encode())
    if created:
        ch.process_file(f.id)
    return ClearinghouseFile.get_by_id(f.id)


def _claims(batch):
    return [Claim.get_by_id(c.id) for c in batches.claims_of(batch)]


def _state():
    return {
        "claims": sorted((c.id, c.status, c.batch_id, c.held) for c in Claim.select()),
        "events": ClaimEvent.select().count(),
        "problems": sorted((p.claim_id, p.source, p.message) for p in ClaimProblem.select()),
        "batches": sorted(
            (b.id, b.status, b.ta1_status, b.ta1_detail) for b in ClaimBatch.select()
        ),
        "audit": AuditLog.select()
        .where(AuditLog.action.in_(["claim.status", "claim_batch.ack"]))
        .count(),
    }


# --- a refused file, fetched from the clearinghouse's server ---------------------------------


@pytest.fixture
def sent(app, conn, world):  # noqa: F811
    """Practice a's file of two claims, sent to the SFTP server on the task queue."""
    side = world.a  # the ids are the SFTP connection's (conn)
    cf.billing_ready(side.practice)
    cf.with_address(side.c1)
    cf.with_address(side.c2, sex="M")
    batch = _build(side)
    sending.queue(batch, side.frontdesk)
    tasks.enqueue(claim_tasks.send_batch, batch.id)
    batch = ClaimBatch.get_by_id(batch.id)
    assert batch.status == "sent"
    return side, batch


def test_a_ta1_refusing_a_sent_file_rejects_its_claims_with_the_reason_and_what_next(
    app,
    client,
    sent,
    sftp_server,  # noqa: F811
    world,
):
    side, batch = sent
    icn = f"{batch.interchange_control_number:09d}"
    sftp_server.put("outbound", "TA1_401.x12", ta1(batch).encode())
    assert fetch_clearinghouse_files() == 1

    f = ClearinghouseFile.get(ClearinghouseFile.remote_name == "TA1_401.x12")
    assert (f.kind, f.status, f.error) == ("ta1", "processed", "")
    batch = ClaimBatch.get_by_id(batch.id)
    assert (batch.status, batch.ta1_status) == ("rejected", "R")
    assert batch.ta1_detail == (
        f"The clearinghouse refused this file at its envelope (TA1, {REFUSED}) before "
        "reading any of it: none of its claims reached the payer."
    )
    claims = _claims(batch)
    assert len(claims) == 2 and {c.status for c in claims} == {"rejected"}
    assert all(c.held for c in claims)
    for c in claims:
        (p,) = ClaimProblem.select().where(ClaimProblem.claim == c.id)
        assert (p.source, p.code, p.fix_where) == ("ta1", "ta1_rejected", "clearinghouse")
        assert p.message.startswith(
            f"The clearinghouse refused 837P file {icn} at its envelope (TA1, {REFUSED}): "
            "none of its claims reached the payer, and nothing in this claim was found wrong."
        )
        assert "The owner corrects what the note names under Settings → Clearinghouse" in (
            p.message
        )
        assert p.message.endswith("then check the claim again and send it: it goes in a new file.")
        # Its history: who (the clearinghouse: no user), when, why, and which file.
        e = ClaimEvent.get((ClaimEvent.claim == c.id) & (ClaimEvent.to_status == "rejected"))
        assert (e.action, e.from_status, e.batch_id, e.user_id) == (
            "status", "submitted", batch.id, None,
        )  # fmt: skip
        assert e.reason == f"Rejected with file {icn} (TA1, {REFUSED})"
        assert AuditLog.get((AuditLog.action == "claim.status") & (AuditLog.object_id == c.id))
    audit = AuditLog.get((AuditLog.action == "claim_batch.ack") & (AuditLog.object_id == batch.id))
    assert audit.detail == "TA1 R: 2 claims rejected"

    # The desk: the claim says why and that the owner fixes it; the work list lists it.
    login(client, world.a.frontdesk)
    claim = claims[0]
    page = _body(client.get(f"/provider/claims/{claim.id}"))
    assert f"refused 837P file {icn} at its envelope (TA1, {REFUSED})" in page
    assert "The owner fixes it on the clearinghouse settings" in page
    assert f'href="{SETTINGS}' not in page
    page = _body(client.get("/provider/claims/worklist"))
    group = page[page.index('id="work-rejected"') :]
    group = group[: group.index("</section>")]
    assert claim.patient_control_number in group and REFUSED in group
    assert "Next: Nothing in the claim is wrong: the clearinghouse refused its whole file" in group
    assert f'href="{SETTINGS}' not in group
    page = _body(client.get(f"/provider/claims/batches/{batch.id}"))
    assert "The clearinghouse's answer to the file's envelope (TA1)" in page
    assert batch.ta1_detail in page
    assert "the owner sees to what the note says (Settings → Clearinghouse)" in page
    assert "correct each one" not in page  # the 999's words: nothing in a claim is wrong

    # The owner: the same, with the page where it is fixed.
    client.post("/logout")
    login(client, world.a.owner)
    page = _body(client.get(f"/provider/claims/{claim.id}"))
    assert f'href="{SETTINGS}' in page and "Fix it on the clearinghouse settings" in page
    page = _body(client.get("/provider/claims/worklist"))
    group = page[page.index('id="work-rejected"') :]
    assert f'href="{SETTINGS}#ids"' in group[: group.index("</section>")]
    page = _body(client.get(f"/provider/claims/batches/{batch.id}"))
    assert f'href="{SETTINGS}#ids"' in page

    # Collecting again reads nothing new and changes nothing.
    before = _state()
    assert fetch_clearinghouse_files() == 0
    assert _state() == before


@pytest.mark.parametrize(
    ("note", "said", "fix"),
    [
        ("006", "(TA1, note 006: invalid interchange sender ID)", "The owner corrects what "
         "the note names under Settings → Clearinghouse (the submitter and receiver ids, test "
         "or production)"),
        ("020", "(TA1, note 020: invalid test indicator value)", "The owner corrects"),
        # not about the settings: the clearinghouse says what it needs
        ("025", "(TA1, note 025: duplicate interchange control number)",
         "The owner asks the clearinghouse what the note means for the practice's files"),
        ("099", "(TA1, note 099)", "The owner asks the clearinghouse"),  # a note not listed
        ("", "(TA1)", "The owner asks the clearinghouse"),
    ],
)  # fmt: skip
def test_a_refusal_says_its_note_and_who_fixes_it(world, built, note, said, fix):
    receive(world.a.practice, ta1(built, "R", note))
    assert said in ClaimBatch.get_by_id(built.id).ta1_detail
    for p in ClaimProblem.select():
        assert said in p.message and fix in p.message, p.message
        assert p.message.endswith("then check the claim again and send it: it goes in a new file.")


# --- accepted, with or without a remark -------------------------------------------------------


@pytest.fixture
def built(ctx, world):
    """Practice a's file of two claims, built (submitted), as downloaded and sent by hand."""
    return _build(cf.sendable(world.a))


@pytest.mark.parametrize(
    ("code", "note", "words"),
    [
        ("A", "000", "The clearinghouse received this file (TA1); its 999 follows."),
        ("E", "020", "The clearinghouse took this file with a remark on its envelope (TA1, "
         "note 020: invalid test indicator value): its claims go on, and its 999 says "
         "whether they passed."),
    ],
)  # fmt: skip
def test_a_ta1_taking_the_file_changes_no_claim(app, client, world, built, code, note, words):
    before = {c.id: (c.status, c.held) for c in _claims(built)}
    f = receive(world.a.practice, ta1(built, code, note))
    assert (f.kind, f.status) == ("ta1", "processed")
    batch = ClaimBatch.get_by_id(built.id)
    assert (batch.status, batch.ta1_status) == ("built", code)
    assert batch.ta1_detail.startswith(words)
    assert {c.id: (c.status, c.held) for c in _claims(batch)} == before
    assert not ClaimProblem.select().exists()
    assert not ClaimEvent.select().where(ClaimEvent.to_status == "rejected").exists()
    login(client, world.a.frontdesk)
    page = _body(client.get(f"/provider/claims/batches/{batch.id}"))
    warning = '<p class="ack-warning" role="status">'
    if code == "E":  # a warning on the file's page, for the owner to look into
        assert warning in page
        shown = page[page.index(warning) :]
        assert words in shown[: shown.index("</p>")]
        assert "The owner checks the clearinghouse settings before the next file." in shown
    else:
        assert warning not in page and words in page


def test_an_accepted_with_errors_remark_stays_after_the_999(app, client, world, built):
    """The 999 comes after an E: its answer is shown, and the TA1's remark stays."""
    receive(world.a.practice, ta1(built, "E", "020"))
    text = batches.file_bytes(built).decode("ascii")
    receive(world.a.practice, answers.answer_999(text, control_number=501, created=NOW), "a.999")
    batch = ClaimBatch.get_by_id(built.id)
    assert (batch.status, batch.ack_status, batch.ta1_status) == ("accepted", "A", "E")
    login(client, world.a.frontdesk)
    page = _body(client.get(f"/provider/claims/batches/{batch.id}"))
    assert "note 020: invalid test indicator value" in page and "Accepted (A)." in page


# --- what is not applied, and what is applied once -----------------------------------------


def test_a_ta1_for_no_file_of_ours_is_listed_and_not_applied(app, client, world, built):
    """TA101 names a file number the practice never sent (or another practice's): the
    file is kept as "error", named on the work list's files not read; nothing changes."""
    a, b = world.a, world.b
    text = ta1(built).replace(f"TA1*{built.interchange_control_number:09d}", "TA1*000000077")
    before = _state()
    f = receive(a.practice, text)
    assert (f.kind, f.status) == ("ta1", "error")
    assert f.error == (
        "This TA1 answers file number 000000077 (ISA13), which is none of the practice's "
        "837P files: nothing was changed. Ask the clearinghouse which file it means."
    )
    theirs = receive(b.practice, ta1(built))  # practice a's file number, fetched by b
    assert theirs.status == "error" and "none of the practice's 837P files" in theirs.error
    assert _state() == before
    login(client, a.frontdesk)
    page = _body(client.get("/provider/claims/worklist"))
    group = page[page.index('id="work-not_read"') :]
    group = group[: group.index("</section>")]
    assert "ta1.x12: This TA1 answers file number 000000077" in group


def test_a_ta1_that_cannot_be_read_is_kept_as_an_error(world, built):
    f = receive(world.a.practice, ta1(built).replace("*R*006", "*Q*006"))
    assert (f.kind, f.status) == ("ta1", "error")
    assert f.error.startswith("An interchange acknowledgment (TA1) the portal cannot read")
    assert {c.status for c in _claims(built)} == {"submitted"}


def test_the_same_ta1_twice_applies_once(world, built):
    """Fetched again under another name (the same bytes: kept once), or sent again by the
    clearinghouse in an envelope of its own (other bytes): the claims are rejected once,
    with one history row each and one audit row."""
    receive(world.a.practice, ta1(built, control=401))
    once = _state()
    assert len([c for c in once["claims"] if c[1] == "rejected"]) == 2
    f = receive(world.a.practice, ta1(built, control=401), name="again.x12")
    assert f.remote_name == "ta1.x12"  # the same content: the file kept before
    f = receive(world.a.practice, ta1(built, control=402), name="copy.x12")
    assert (f.kind, f.status) == ("ta1", "processed")
    assert _state() == once


def test_a_ta1_for_a_file_whose_claims_went_out_again_leaves_them_alone(world, built):
    """The claims of a refused file, checked again and sent in a newer file: the old
    file's TA1 fetched once more (or late) does not reject what the payer is being sent."""
    receive(world.a.practice, ta1(built, control=401))
    ClaimProblem.delete().execute()  # fixed and checked again (set by hand: see test_acks)
    Claim.update(status="ready", held=False).execute()
    (newer,) = batches.build(world.a.practice.id)
    assert {c.batch_id for c in _claims(built)} == {newer.id}
    events = ClaimEvent.select().count()

    f = receive(world.a.practice, ta1(built, control=402), name="late.x12")
    assert f.status == "processed"
    assert {c.status for c in _claims(built)} == {"submitted"}
    assert not ClaimProblem.select().exists()
    assert ClaimEvent.select().count() == events
    assert ClaimBatch.get_by_id(newer.id).status == "built"
    assert ClaimBatch.get_by_id(built.id).status == "rejected"


def test_a_refused_send_does_not_stop_the_filing_clock(world, ctx, monkeypatch):
    """A file the clearinghouse refused at its envelope never reached the payer: the
    claim's filing clock reads it as not received (rules/filing_limit.first_received),
    and the next send that stands is its first receipt."""
    a = cf.sendable(world.a)
    payer = cf.payer(a.practice, name="Thirty Day Health", payer_code="TDH01",
                     filing_limit_days=30)  # fmt: skip
    tz = a.practice.tz
    monkeypatch.setattr(clock, "utcnow", lambda: dt.datetime(2026, 11, 20, 18))
    batch = _build(a, n=1, payer=payer)
    (claim,) = _claims(batch)

    def standing(today):
        c = Claim.get_by_id(claim.id)
        events = list(ClaimEvent.select().where(ClaimEvent.claim == c.id).order_by(ClaimEvent.id))
        return filing.standing(c, events, today, tz)

    status = standing(dt.date(2026, 11, 21))
    assert (status.first_sent, status.state) == (dt.date(2026, 11, 20), "in_time")

    monkeypatch.setattr(clock, "utcnow", lambda: dt.datetime(2026, 11, 21, 18))
    receive(a.practice, ta1(batch))
    status = standing(dt.date(2026, 11, 22))
    assert status.first_sent is None and status.state == "due_soon"
    assert status.words == "File by Dec 02, 2026 (10 days left of the payer's 30-day filing limit)."

    ClaimProblem.delete().execute()  # the owner fixed the ids; the desk checked it again
    Claim.update(status="ready", held=False).execute()
    monkeypatch.setattr(clock, "utcnow", lambda: dt.datetime(2026, 11, 23, 18))
    batches.build(a.practice.id)
    status = standing(dt.date(2026, 11, 24))
    assert (status.first_sent, status.state) == (dt.date(2026, 11, 23), "in_time")


# --- a TA1 in the interchange of a 999 ---------------------------------------------------------


def _999(batch, control=501, rejected=False):
    text = batches.file_bytes(batch).decode("ascii")
    problems = []
    if rejected:  # the billing provider's NPI refused: the file's claims are rejected
        at = answers.locate(text, "NM1", "85")
        problems = [answers.SegmentProblem("NM1", at, "2010AA", "8", "9", "67", "7", "0")]
    return answers.answer_999(text, control_number=control, created=NOW, problems=problems)


def with_ta1(answer, batch, code="E", note="020"):
    text = batches.file_bytes(batch).decode("ascii")
    return answers.with_ta1(answer, text, code=code, note=note)


@pytest.mark.parametrize(
    ("code", "note", "rejected", "status", "claims"),
    [
        ("A", "000", False, "accepted", "submitted"),
        ("E", "020", True, "rejected", "rejected"),
    ],
)
def test_a_ta1_before_a_999_in_one_file_is_applied_with_it(
    app, client, world, built, code, note, rejected, status, claims
):
    """Clearinghouses send the TA1 in the interchange of the 999 that follows it: both
    are applied (the file's envelope remark and the 999's answer), once."""
    text = with_ta1(_999(built, rejected=rejected), built, code, note)
    assert text.index("TA1*") < text.index("GS*")
    f = receive(world.a.practice, text, "ack.999")
    assert (f.kind, f.status, f.error) == ("999", "processed", "")
    batch = ClaimBatch.get_by_id(built.id)
    assert (batch.status, batch.ack_status, batch.ta1_status) == (
        status, "R" if rejected else "A", code,
    )  # fmt: skip
    assert batch.ta1_detail.startswith("The clearinghouse ")
    assert {c.status for c in _claims(batch)} == {claims}
    once = _state()

    # The same answer in another envelope (the clearinghouse sends it again): no change.
    again = with_ta1(_999(built, control=502, rejected=rejected), built, code, note)
    f = receive(world.a.practice, again, "again.999")
    assert f.status == "processed" and _state() == once

    login(client, world.a.frontdesk)
    page = _body(client.get(f"/provider/claims/batches/{batch.id}"))
    assert "The clearinghouse's answer (999)" in page
    # E's remark stays beside the 999's answer; A's "its 999 follows" gives way to it
    assert (batch.ta1_detail in page) == (code == "E")


def test_a_ta1_and_a_999_in_one_file_are_applied_together_or_not_at_all(world, built):
    """The 999 names no file of the practice (its group number is another's): the file is
    kept as an error with the reason, and the TA1 before it is not applied either."""
    text = with_ta1(_999(built), built, "E", "020").replace(
        f"AK1*HC*{built.group_control_number}*", "AK1*HC*77*"
    )
    before = _state()
    f = receive(world.a.practice, text, "mixed.999")
    assert (f.kind, f.status) == ("999", "error")
    assert "This 999 answers file number 77 (GS06)" in f.error
    assert _state() == before


def test_a_ta1_that_cannot_be_read_in_a_999_file_keeps_the_file_out(world, built):
    text = with_ta1(_999(built), built, "E", "020").replace("*E*020~", "*Q*020~")
    before = _state()
    f = receive(world.a.practice, text, "bad.999")
    assert (f.kind, f.status) == ("999", "error")
    assert f.error.startswith("An interchange acknowledgment (TA1) the portal cannot read")
    assert _state() == before
