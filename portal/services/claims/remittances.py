"""835 remittances in: read the file (portal.x12.read835), refuse it when it was posted
before (the same file, or the same payment in another file: the payer's check/EFT trace
number, amount and day; read835.Remittance.payment says why),
keep it as a StoredDocument, match each CLP to a claim by patient control number and post
it (posting.post); a CLP that names no claim of the practice is kept as an unmatched line,
with nothing posted, to be matched by hand or dismissed with a note.

    result = import_835(practice_id, data, source="upload", filename="era.835", user=user)
    result.remittances, result.posted, result.unmatched, result.invoices
    match_line(line, claim, user=user)        # post an unmatched line to the claim chosen
    dismiss_line(line, note, user=user)

The whole file is one IMMEDIATE transaction: it posts entirely or not at all. Raises
RemittanceError with a message for the person importing (unreadable, already posted).
"""

import dataclasses
import hashlib

from peewee import IntegrityError, fn

from portal import audit, clock
from portal.db import database, unique_violation
from portal.models.billing import StoredDocument
from portal.models.claims import Claim, ClaimLine, Remittance, RemittanceClaim
from portal.models.insurance import Payer
from portal.rules import claim_money, claim_status
from portal.rules.money import format_cents
from portal.services.claims import batch837, posting
from portal.x12 import read835
from portal.x12.read835 import read_835
from portal.x12.segments import X12Error

CONTENT_TYPE = "application/edi-x12"
SOURCES = ("upload", "cli", "clearinghouse", "demo")
MAX_BYTES = 20 * 1024 * 1024


class RemittanceError(Exception):
    """An 835 that is not posted; the message says why (and that nothing was posted)."""


class AlreadyImported(RemittanceError):
    """The same file, or the same payment from another file, was posted before."""


@dataclasses.dataclass
class ImportResult:
    remittances: list
    posted: list  # PostResult per matched claim
    unmatched: list  # RemittanceClaim rows

    @property
    def invoices(self):
        return [p.invoice for p in self.posted if p.invoice is not None]


def decode(data):
    """The file's text; X12 is ASCII (a few senders use Latin-1 letters in names)."""
    if not data:
        raise RemittanceError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise RemittanceError("The file is larger than any 835 the portal reads (20 MB).")
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read(data):
    """[read835.Remittance] from the bytes; RemittanceError in words when unreadable."""
    try:
        remits = read_835(decode(data))
    except X12Error as exc:
        raise RemittanceError(f"This is not a readable 835 remittance: {exc}") from None
    for i, r in enumerate(remits):
        # One file cannot mean two payments by one trace number, whatever their amounts
        # (across files the numbers come round again: _refuse_repeats).
        if any(read835.same_payment(r.payment[:3], o.payment[:3]) for o in remits[:i]):
            raise RemittanceError(
                f"This file holds payment {r.trace_number} twice (two transaction sets with "
                "the same payer and trace number): ask the payer for a corrected file."
            )
        if not r.trace_number.strip():
            raise RemittanceError(
                "This 835 has no check or EFT trace number (TRN02), so the portal cannot "
                "tell it from another payment: ask the payer for a complete file."
            )
        _check_balance(r)
    return remits


def _stored_payment(row):
    """A Remittance row's read835.Remittance.payment, as the import stored it."""
    return (row.payer_identifier, row.trace_number, row.trace_supplement, row.payment_cents,
            row.payment_date)  # fmt: skip


def _payment_of(remit):
    """`remit`'s payment as a Remittance row keeps it (text cut to the column's 255)."""
    payer, trace, plan, cents, day = remit.payment
    return (payer[:255], trace[:255], plan[:255], cents, day)


def _check_balance(r):
    """Refuse a remittance whose payment is not what its claims and PLB come to."""
    paid = [c.paid_cents for c in r.claims]
    plb = [a.cents for a in r.provider_adjustments]
    if claim_money.payment_imbalance(r.net_payment_cents, paid, plb) == 0:
        return
    raise RemittanceError(
        f"Payment {r.trace_number} is out of balance: it is {format_cents(r.net_payment_cents)}"
        f" (BPR02), but its claims pay {format_cents(sum(paid))} and its provider-level "
        f"adjustments (PLB) come to {format_cents(-sum(plb))}, "
        f"{format_cents(sum(paid) - sum(plb))} in all. The portal imported none of it: ask the "
        "payer or the clearinghouse for a corrected file."
    )


def provider_adjustments(remittance):
    """The PLB lines of a posted remittance (read835.ProviderAdjustment: reason, words,
    reference, cents; positive cents took money off the payment), read from its file."""
    if remittance.document_id is None:
        return []
    data = bytes(StoredDocument.get_by_id(remittance.document_id).data)
    if b"PLB" not in data:
        return []
    for remit in read_835(decode(data)):
        if is_row_of(remit, remittance):
            return remit.provider_adjustments
    return []


def is_row_of(remit, row):
    """Whether the Remittance `row` was imported from `remit` (of its stored file)."""
    return _payment_of(remit) + (remit.payer_id.strip()[:255],) == _stored_payment(row) + (
        row.payer_code,
    )


def _when(row):
    """The day a remittance was imported, in the practice's time zone (stored in UTC: an
    evening import in California is the next day in UTC)."""
    return f"{clock.to_local(row.created_at, row.practice.tz):%b %d, %Y}"


def _refuse_repeats(practice_id, digest, remits):
    seen = (
        Remittance.select()
        .where((Remittance.practice == practice_id) & (Remittance.sha256 == digest))
        .first()
    )
    if seen is not None:
        raise AlreadyImported(
            f"This file was imported on {_when(seen)} (payment {seen.trace_number} from "
            f"{seen.payer_name or 'the payer'}): nothing was posted again."
        )
    for r in remits:
        p = _payment_of(r)
        payer, trace, _, cents, day = p
        same = Remittance.select().where(
            (Remittance.practice == practice_id)
            & (Remittance.payer_identifier == payer)
            & (Remittance.trace_number == trace)
            & (Remittance.payment_cents == cents)
            & (Remittance.payment_date.is_null() if day is None else Remittance.payment_date == day)
        )
        seen = next((row for row in same if read835.same_payment(p, _stored_payment(row))), None)
        if seen is not None:
            raise AlreadyImported(
                f"{r.payer_name or 'The payer'}'s payment {trace} was posted on {_when(seen)} "
                "from another file: nothing was posted again."
            )


def _payer_of(practice_id, remit, claims):
    """The practice's payer: by the 835's payer ID, its name, or the claims it pays."""
    if remit.payer_id:
        p = Payer.get_or_none(
            (Payer.practice == practice_id) & (fn.UPPER(Payer.payer_code) == remit.payer_id.upper())
        )
        if p is not None:
            return p.id
    if remit.payer_name:
        p = Payer.get_or_none(
            (Payer.practice == practice_id) & (fn.UPPER(Payer.name) == remit.payer_name.upper())
        )
        if p is not None:
            return p.id
    ids = {c.payer_id for c in claims.values()}
    return ids.pop() if len(ids) == 1 else None


def pcn_key(text):
    """CLP01 as the portal wrote it in CLM01: payers echo it upper- or lower-cased, some
    padded with spaces to a fixed width (the portal's numbers are letters and digits,
    upper case)."""
    return (text or "").strip().upper()


def _claims_by_pcn(practice_id, remits):
    pcns = {pcn_key(c.patient_control_number) for r in remits for c in r.claims}
    if not pcns:
        return {}
    rows = Claim.select().where(
        (Claim.practice == practice_id) & Claim.patient_control_number.in_(list(pcns))
    )
    return {pcn_key(c.patient_control_number): c for c in rows}


def posting_order(pairs):
    """The file's CLPs, as (item, CLP) pairs, in the order they are posted: as in the
    file, except that a claim's CLPs go together (where its first one is) and its reversal
    (CLP02 22) goes before the payer's new answer for it anywhere in the file (another
    transaction set, ST/SE, too), which some payers write first: the new answer then
    settles the client's share and the claim's status, and the reversal does not undo
    it."""
    first = {}
    for i, (_, cp) in enumerate(pairs):
        first.setdefault(pcn_key(cp.patient_control_number), i)
    return [
        pair
        for _, pair in sorted(
            enumerate(pairs),
            key=lambda item: (
                first[pcn_key(item[1][1].patient_control_number)],
                item[1][1].status != claim_status.REVERSAL,
                item[0],
            ),
        )
    ]


class _Splits:
    """A claim's answers in one 835 so far (posting_order puts them together): a payer may
    split a claim over several CLPs, lines 1-2 in one and line 3 in another. A reversal
    starts the claim's answers again."""

    def __init__(self, ordered):
        keys = [pcn_key(cp.patient_control_number) for _, cp in ordered]
        self.last = {key: i for i, key in enumerate(keys)}
        self.earlier = {}  # claim id -> the PayerAnswers posted for it since its reversal

    def split(self, claim, answer, index, cp):
        """posting.Split for `answer`, the `index`th CLP of the order; remembers it."""
        earlier = tuple(self.earlier.get(claim.id, ()))
        last = self.last[pcn_key(cp.patient_control_number)] == index
        if answer.status == claim_status.REVERSAL:
            self.earlier[claim.id] = []
        else:
            self.earlier.setdefault(claim.id, []).append(answer)
        return posting.Split(earlier, last)

    def lines_paid(self, claim):
        """The claim lines the claim's earlier answers in the file paid."""
        return {
            pl.claim_line.id
            for a in self.earlier.get(claim.id, ())
            for pl in a.lines
            if pl.claim_line is not None
        }


def _adjs(items):
    return tuple(claim_money.Adj(a.group, a.reason, a.cents) for a in items)


def _line_for(svc, lines, used):
    """The claim line an SVC pays: by the REF*6R we sent, else the next line of that code
    not paid yet (the one of the same charge first: a claim may bill a code twice)."""
    for line in lines:
        if svc.control_number and svc.control_number == batch837.line_control_number(line):
            return line
    free = [line for line in lines if line.id not in used and line.cpt_code == svc.code]
    same = [line for line in free if line.charge_cents == svc.charge_cents]
    return (same or free or [None])[0]


def answer_for(claim, cp, paid_before=()):
    """posting.PayerAnswer from an 835 CLP (read835.ClaimPayment) for `claim`.
    `paid_before`: ids of claim lines another CLP of the file paid (a split claim): an SVC
    without REF*6R goes to the next line of its procedure not paid yet."""
    lines = list(ClaimLine.select().where(ClaimLine.claim == claim.id).order_by(ClaimLine.position))
    used, paid_lines = set(paid_before), []
    for svc in cp.services:
        line = _line_for(svc, lines, used)
        adjustments = _adjs(svc.adjustments)
        pr = sum(a.cents for a in adjustments if a.group == "PR")
        allowed = svc.allowed_cents if svc.allowed_cents is not None else svc.paid_cents + pr
        if line is not None:
            used.add(line.id)
        paid_lines.append(
            posting.PaidLine(line, allowed, svc.paid_cents, adjustments, tuple(svc.remarks),
                             charge_cents=svc.charge_cents, code=svc.code)
        )  # fmt: skip
    rest = cp.paid_cents - sum(pl.paid_cents for pl in paid_lines)
    if cp.adjustments or rest or not paid_lines:
        adjustments = _adjs(cp.adjustments)
        allowed = 0
        if not paid_lines:
            allowed = rest + sum(a.cents for a in adjustments if a.group == "PR")
        paid_lines.append(posting.PaidLine(None, allowed, rest, adjustments))
    return posting.PayerAnswer(
        cp.status,
        cp.charge_cents,
        cp.paid_cents,
        cp.patient_responsibility_cents,
        tuple(paid_lines),
        cp.payer_claim_number,
    )


def _store(practice_id, data, digest, remits, filename, user):
    first = remits[0]
    return StoredDocument.create(
        practice=practice_id,
        client=None,
        kind="other",
        title=f"835 remittance {first.trace_number} from {first.payer_name or 'a payer'}"[:255],
        filename=(filename or f"835-{first.trace_number}.x12")[:255],
        content_type=CONTENT_TYPE,
        data=data,
        sha256=digest,
        size_bytes=len(data),
        created_by=user.id if user is not None else None,
    )


def _remittance_row(practice_id, remit, digest, doc, source, claims, user, now):
    payer, trace, plan, _, _ = _payment_of(remit)
    return Remittance.create(
        practice=practice_id,
        payer=_payer_of(practice_id, remit, claims),
        payer_name=(remit.payer_name or "")[:255],
        payer_identifier=payer,
        trace_number=trace,
        trace_supplement=plan,
        payer_code=remit.payer_id.strip()[:255],
        payment_cents=remit.payment_cents,
        payment_method=remit.method,
        payment_date=remit.payment_date,
        sha256=digest,
        document=doc.id,
        source=source,
        claim_count=len(remit.claims),
        provider_adjustment_cents=sum(a.cents for a in remit.provider_adjustments),
        created_by=user.id if user is not None else None,
        created_at=now,
    )


def _line_row(row, cp, claim, outcome, note, now):
    return RemittanceClaim.create(
        practice=row.practice_id,
        remittance=row.id,
        claim=claim.id if claim is not None else None,
        patient_control_number=cp.patient_control_number.strip()[:255],
        status_code=cp.status,
        charge_cents=cp.charge_cents,
        paid_cents=cp.paid_cents,
        patient_resp_cents=cp.patient_responsibility_cents,
        payer_claim_number=cp.payer_claim_number[:255],
        outcome=outcome,
        note=note,
        created_at=now,
    )


def source_words(remit_row):
    method = {"CHK": "check", "ACH": "EFT", "NON": "notice"}.get(remit_row.payment_method, "")
    who = remit_row.payer_name or "the payer"
    return f"835 from {who}, {method or 'payment'} {remit_row.trace_number}"


def import_835(practice_id, data, *, source="upload", filename="", user=None):
    """Post the 835 in `data` (bytes); see the module's notes. Returns an ImportResult."""
    if source not in SOURCES:
        raise ValueError(f"source is one of {SOURCES}")
    remits = read(data)
    digest = hashlib.sha256(data).hexdigest()
    try:
        with database.atomic("IMMEDIATE"):
            _refuse_repeats(practice_id, digest, remits)
            now = clock.utcnow()
            doc = _store(practice_id, data, digest, remits, filename, user)
            claims = _claims_by_pcn(practice_id, remits)
            rows = [
                _remittance_row(practice_id, remit, digest, doc, source, claims, user, now)
                for remit in remits
            ]
            out = ImportResult(rows, [], [])
            ordered = posting_order(
                [(row, cp) for row, r in zip(rows, remits, strict=True) for cp in r.claims]
            )
            splits = _Splits(ordered)
            for i, (row, cp) in enumerate(ordered):
                claim = claims.get(pcn_key(cp.patient_control_number))
                _one_claim(row, cp, claim, out, user, now, splits, i)
            for row, remit in zip(rows, remits, strict=True):
                if row.unmatched_count:
                    row.save()
                audit.record(
                    "remittance.import",
                    obj=row,
                    detail=f"{source}: {len(remit.claims)} claims, "
                    f"{format_cents(remit.payment_cents)}",
                    user=user,
                    practice_id=practice_id,
                )
    except IntegrityError as exc:
        if not unique_violation(exc, "remittance"):
            raise
        # Another import of the same payment committed between our check and our insert.
        raise AlreadyImported(
            "This payment was posted meanwhile: nothing was posted again."
        ) from None
    return out


def _one_claim(row, cp, claim, out, user, now, splits, index):
    void = claim is not None and claim.status == claim_status.VOID
    if claim is None or (void and cp.status != claim_status.REVERSAL):
        note = (
            "No claim of the practice has this patient control number: nothing was posted. "
            "Enter the claim's number if the payer mistyped it, or set the payment aside."
        )
        if claim is not None:
            note = (
                f"Claim {claim.patient_control_number} is void: match the payment to the claim "
                "that replaced it, or set it aside (and return the money to the payer)."
            )
        row.unmatched_count += 1
        out.unmatched.append(_line_row(row, cp, None, "unmatched", note, now))
        return
    line = _line_row(row, cp, claim, "posted", "", now)
    answer = answer_for(claim, cp, splits.lines_paid(claim))
    result = posting.post(
        claim,
        answer,
        user=user,
        source=source_words(row),
        remittance_claim=line,
        remittance=row,
        split=splits.split(claim, answer, index, cp),
    )
    if result.problems:
        RemittanceClaim.update(note="\n".join(result.problems)).where(
            RemittanceClaim.id == line.id
        ).execute()
    out.posted.append(result)


# --- unmatched lines ---------------------------------------------------------------------


def remittances_for(practice_id, limit=50, offset=0):
    return list(
        Remittance.select()
        .where(Remittance.practice == practice_id)
        .order_by(Remittance.id.desc())
        .limit(limit)
        .offset(offset)
    )


def lines_of(remittance):
    return list(
        RemittanceClaim.select()
        .where(RemittanceClaim.remittance == remittance.id)
        .order_by(RemittanceClaim.id)
    )
