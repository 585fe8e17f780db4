"""Chart notes: write, edit, sign, amend; the practice's CPT codes; ICD-10 favourites
(note templates: services/note_templates.py). Each write is one IMMEDIATE transaction
with its audit rows.

A signed note is locked: every change re-reads the status inside the transaction and
raises NoteLocked (the view answers 409); the database triggers refuse it as well.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from portal import audit, clock
from portal.db import database
from portal.models import (
    ROLE_OWNER,
    Appointment,
    ChartNote,
    Icd10Favourite,
    NoteAddendum,
    NoteBodyRegion,
    NoteDiagnosis,
    NoteMinutes,
    PracticeCptCode,
    Provider,
)
from portal.models.charting import NOTE_DRAFT, NOTE_SIGNED
from portal.rules import charting as rules
from portal.rules.icd10 import MAX_DIAGNOSES
from portal.services import events, icd10, reads

UNSIGNED_AFTER = dt.timedelta(days=1)
MAX_ADDENDUM = 10_000


class ChartingError(Exception):
    """A refusal with a message for the person (no PHI in it)."""


class NoteLocked(ChartingError):
    def __init__(self, message=None):
        super().__init__(
            message
            or "This note is signed and locked: it cannot be changed. Add an addendum instead."
        )


class NotAllowed(ChartingError):
    pass


class NoteChanged(ChartingError):
    """The draft was saved by another tab or person after this form or page was read:
    `saved_at` (UTC) and `saved_by` (their name; None when it was the same user) of its
    last save. `missing`: the form did not say which version it was read on, so it may be
    older than that save (refused the same way)."""

    def __init__(self, saved_at, saved_by, missing=False):
        super().__init__(
            "This form does not say which version of the draft it was opened on."
            if missing
            else "This draft was saved elsewhere after you opened it."
        )
        self.saved_at = saved_at
        self.saved_by = saved_by
        self.missing = missing


class NoteIncomplete(ChartingError):
    """Why a draft cannot be signed: `fields` {field: message} ("soap", "dx")."""

    def __init__(self, fields):
        super().__init__(" ".join(fields.values()))
        self.fields = fields
        self.problems = list(fields.values())


# --- CPT codes ---------------------------------------------------------------------------


def cpt_codes(practice_id, include_inactive=False):
    """[(code, description, active, is_default)] in code order: the defaults (97124, 97140)
    unless the practice hid them, plus the practice's own codes."""
    rows = {
        r.code: r for r in PracticeCptCode.select().where(PracticeCptCode.practice == practice_id)
    }
    out = {}
    for code, desc in rules.DEFAULT_CPT_CODES:
        row = rows.get(code)
        out[code] = (code, (row.description if row else "") or desc, row.active if row else True)
    for code, row in rows.items():
        if code not in out:
            out[code] = (code, row.description, row.active)
    defaults = {c for c, _ in rules.DEFAULT_CPT_CODES}
    result = [(c, d, a, c in defaults) for c, d, a in out.values()]
    if not include_inactive:
        result = [r for r in result if r[2]]
    return sorted(result)


def active_cpt_codes(practice_id):
    return [c for c, _, _, _ in cpt_codes(practice_id)]


def add_cpt_code(user, code, description):
    norm = rules.normalize_cpt(code)
    if not norm:
        raise ChartingError("A CPT or HCPCS code has 5 characters, like 97112 or G0283.")
    with database.atomic("IMMEDIATE"):
        row = PracticeCptCode.get_or_none(
            (PracticeCptCode.practice == user.practice_id) & (PracticeCptCode.code == norm)
        )
        if row is None:
            row = PracticeCptCode.create(
                practice=user.practice_id, code=norm, description=description.strip()
            )
        else:
            row.active = True
            if description.strip():
                row.description = description.strip()
            row.save()
        audit.record("cpt_code.save", obj=row, detail=norm, user=user)
    return row


def set_cpt_active(user, code, active):
    norm = rules.normalize_cpt(code)
    if not norm:
        raise ChartingError("Unknown code.")
    with database.atomic("IMMEDIATE"):
        row = PracticeCptCode.get_or_none(
            (PracticeCptCode.practice == user.practice_id) & (PracticeCptCode.code == norm)
        )
        if row is None:
            if norm not in {c for c, _ in rules.DEFAULT_CPT_CODES}:
                raise ChartingError("Unknown code.")
            row = PracticeCptCode.create(practice=user.practice_id, code=norm, active=active)
        else:
            row.active = active
            row.save()
        audit.record(
            "cpt_code.enable" if active else "cpt_code.disable", obj=row, detail=norm, user=user
        )
    return row


# --- ICD-10 favourites ------------------------------------------------------------------


def favourites(practice_id):
    return list(
        Icd10Favourite.select()
        .where(Icd10Favourite.practice == practice_id)
        .order_by(Icd10Favourite.code)
    )


def add_favourite(user, code):
    ok, message, children = icd10.validate(code)
    if not ok:
        raise ChartingError(message)
    entry = icd10.lookup(code)
    with database.atomic("IMMEDIATE"):
        row = Icd10Favourite.get_or_none(
            (Icd10Favourite.practice == user.practice_id) & (Icd10Favourite.code == entry.code)
        )
        if row is None:
            row = Icd10Favourite.create(
                practice=user.practice_id, code=entry.code, description=entry.description[:255]
            )
            audit.record("icd10_favourite.add", obj=row, detail=entry.code, user=user)
    return row


def remove_favourite(user, favourite):
    with database.atomic("IMMEDIATE"):
        audit.record("icd10_favourite.remove", obj=favourite, detail=favourite.code, user=user)
        favourite.delete_instance()


# --- notes -------------------------------------------------------------------------------


@dataclass
class NoteInput:
    visit_date: dt.date
    provider_id: int
    appointment_id: int | None = None
    template_id: int | None = None
    subjective: str = ""
    objective: str = ""
    assessment: str = ""
    plan: str = ""
    pain_before: int | None = None
    pain_after: int | None = None
    techniques: str = ""
    regions: list = field(default_factory=list)  # region ids
    minutes: dict = field(default_factory=dict)  # {cpt_code: minutes > 0}
    diagnoses: list = field(default_factory=list)  # written codes, primary first

    def check(self, practice_id):
        """Refuse what forms should have caught (a service guards its own invariants)."""
        regions, unknown = rules.clean_regions(self.regions)
        if unknown:
            raise ChartingError("Unknown body region.")
        self.regions = regions
        allowed = set(active_cpt_codes(practice_id))
        for code, value in self.minutes.items():
            if code not in allowed:
                raise ChartingError(f"{code} is not on the practice's list of codes.")
            if not (isinstance(value, int) and 0 < value <= rules.MAX_MINUTES):
                raise ChartingError(f"Minutes for {code} must be 1-{rules.MAX_MINUTES}.")
        if len(self.diagnoses) > MAX_DIAGNOSES:
            raise ChartingError(f"At most {MAX_DIAGNOSES} diagnosis codes.")
        for code in self.diagnoses:
            ok, message, _ = icd10.validate(code)
            if not ok:
                raise ChartingError(message)
        for pain in (self.pain_before, self.pain_after):
            if pain is not None and not rules.PAIN_MIN <= pain <= rules.PAIN_MAX:
                raise ChartingError("Pain is 0-10.")


CONTENT_FIELDS = (
    "visit_date",
    "provider_id",
    "appointment_id",
    "template_id",
    "subjective",
    "objective",
    "assessment",
    "plan",
    "pain_before",
    "pain_after",
    "techniques",
)


def _clients_visit(client, appointment_id):
    return (
        Appointment.select()
        .where(
            (Appointment.id == appointment_id)
            & (Appointment.practice == client.practice_id)
            & (Appointment.client == client.id)
        )
        .first()
    )


def visit_problems(client, appointment_id, visit_date, minutes, practice):
    """{field: message} where a note disagrees with the client's visit it is linked to:
    its minutes add up to more than the visit lasted ("minutes_total"), or its date is not
    the visit's day in the practice's zone ("visit_date")."""
    appt = _clients_visit(client, appointment_id)
    if appt is None:
        return {"appointment": "Link the note to one of this client's visits."}
    problems = {}
    length = int((appt.ends_at - appt.starts_at).total_seconds() // 60)
    over = rules.minutes_over_visit(minutes, length)
    if over:
        problems["minutes_total"] = over
    day = clock.local_date(appt.starts_at, practice.tz)
    if visit_date is not None and visit_date != day:
        problems["visit_date"] = (
            f"The linked visit was on {day:%a %d %b %Y}: change the date, or the appointment."
        )
    return problems


def may_edit(user, note):
    return user.role == ROLE_OWNER or (
        user.provider_id is not None and user.provider_id == note.provider_id
    )


def _locked_now(note_id):
    status = ChartNote.select(ChartNote.status).where(ChartNote.id == note_id).scalar()
    return status == NOTE_SIGNED


def _version(note, regions, minutes, diagnoses):
    """A fingerprint of a draft as stored: its fields, regions, minutes and diagnoses."""
    content = [getattr(note, name) for name in CONTENT_FIELDS]
    raw = repr((content, list(regions), sorted(minutes.items()), list(diagnoses)))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _changed_since(user, note, children, version, required=True):
    """Refuse (NoteChanged) when `version` (what the person read) is not the note's now,
    or is not given where it is `required`."""
    if version == _version(note, *children) or (not version and not required):
        return
    by = audit.last_editor("chartnote", note.id, ("note.create", "note.update"), user)
    raise NoteChanged(note.updated_at, by, missing=not version)


def save_note(user, client, data, note=None, version=None):
    """Create a draft note for `client` (note=None) or update a draft. Returns the note.
    `version`: the note's version (note_details) the form was opened on, required to update
    a draft: a save over a newer one, or one that does not say, is refused (NoteChanged)
    instead of overwriting it silently."""
    data.check(user.practice_id)
    if user.role != ROLE_OWNER and data.provider_id != user.provider_id:
        raise NotAllowed("A therapist writes notes under their own name only.")
    if not (
        Provider.select()
        .where((Provider.id == data.provider_id) & (Provider.practice == user.practice_id))
        .exists()
    ):
        raise ChartingError("Choose a therapist of this practice.")
    if client.practice_id != user.practice_id:
        raise NotAllowed("This client belongs to another practice.")
    if data.appointment_id and _clients_visit(client, data.appointment_id) is None:
        raise ChartingError("Link the note to one of this client's visits.")
    with database.atomic("IMMEDIATE"):
        if note is None:
            note = ChartNote(
                practice=user.practice_id,
                client=client.id,
                created_by=user.id,
                status=NOTE_DRAFT,
            )
            action = "note.create"
            old_children = ([], {}, [])
        else:
            if _locked_now(note.id):
                raise NoteLocked()
            if not may_edit(user, note):
                raise NotAllowed("Only the note's therapist or the owner can edit a draft.")
            action = "note.update"
            note = ChartNote.get_by_id(note.id)  # as it is now, not as the request read it
            old_children = _children(note)
            _changed_since(user, note, old_children, version)
        changed = []
        for name in CONTENT_FIELDS:
            value = getattr(data, name)
            if getattr(note, name) != value:
                changed.append(name.removesuffix("_id"))
                setattr(note, name, value)
        new_children = (data.regions, data.minutes, data.diagnoses)
        for label, old, new in zip(
            ("regions", "minutes", "diagnoses"), old_children, new_children, strict=True
        ):
            if old != new:
                changed.append(label)
        note.updated_at = clock.utcnow()
        note.save()
        if action == "note.create" or old_children != new_children:
            _replace_children(note, data)
        audit.record(action, obj=note, detail=",".join(changed), user=user)
    return note


def draft_differences(note, data):
    """(the draft's version now, [(field, stored, typed)]) where the draft as stored differs
    from `data` (a refused NoteInput), in the form's order: what the person merges by hand.
    Fields are CONTENT_FIELDS without "_id" (the template aside), then regions, minutes and
    diagnoses."""
    note = ChartNote.get_by_id(note.id)
    children = _children(note)
    stored = {name: getattr(note, name) for name in CONTENT_FIELDS if name != "template_id"}
    stored["regions"], stored["minutes"], stored["diagnoses"] = children
    rows = [
        (name.removesuffix("_id"), value, getattr(data, name))
        for name, value in stored.items()
        if value != getattr(data, name)
    ]
    return _version(note, *children), rows


def _children(note):
    """(regions, {cpt: minutes}, diagnosis codes in order) of a note, as stored."""
    found = _child_rows(note.id, NoteBodyRegion, NoteMinutes, NoteDiagnosis)
    regions, _ = rules.clean_regions([r.region for r in found[NoteBodyRegion]])
    minutes = {m.cpt_code: m.minutes for m in found[NoteMinutes]}
    return regions, minutes, [d.code for d in found[NoteDiagnosis]]


def _replace_children(note, data):
    common = {"practice": note.practice_id, "client": note.client_id, "note": note.id}
    NoteBodyRegion.delete().where(NoteBodyRegion.note == note.id).execute()
    NoteMinutes.delete().where(NoteMinutes.note == note.id).execute()
    NoteDiagnosis.delete().where(NoteDiagnosis.note == note.id).execute()
    if data.regions:
        NoteBodyRegion.insert_many([{**common, "region": r} for r in data.regions]).execute()
    if data.minutes:
        NoteMinutes.insert_many(
            [{**common, "cpt_code": c, "minutes": m} for c, m in sorted(data.minutes.items())]
        ).execute()
    if data.diagnoses:
        NoteDiagnosis.insert_many(
            [
                {
                    **common,
                    "position": n,
                    "code": icd10.lookup(code).code,
                    "description": icd10.describe(code)[:255],
                }
                for n, code in enumerate(data.diagnoses, start=1)
            ]
        ).execute()


def _signing_problems(note, minutes, dx):
    problems = rules.signing_problems({f: getattr(note, f) for f in rules.SOAP_FIELDS}, minutes, dx)
    for code in dx:
        ok, message, _ = icd10.validate(code)
        if not ok:
            problems["dx"] = message
    return problems


def signing_problems(note):
    """{field: message}: why the draft cannot be signed as it is stored ("soap", "dx")."""
    _, minutes, dx = _children(note)
    return _signing_problems(note, minutes, dx)


def sign_note(user, note, version=None, read_first=False):
    """Sign and lock a draft. Only the note's own therapist signs. `version`: the note's
    version the person read (note_details); a draft changed since is refused (NoteChanged),
    and so is a missing one when `read_first` (the Sign button of the note's page)."""
    with database.atomic("IMMEDIATE"):
        if _locked_now(note.id):
            raise NoteLocked("This note is already signed.")
        if user.provider_id is None or user.provider_id != note.provider_id:
            raise NotAllowed("Only the note's therapist can sign it.")
        note = ChartNote.get_by_id(note.id)
        regions, minutes, dx = _children(note)
        # the visit's "Save and sign" signs what it has just saved, with no version
        _changed_since(user, note, (regions, minutes, dx), version, required=read_first)
        problems = _signing_problems(note, minutes, dx)
        if problems:
            raise NoteIncomplete(problems)
        now = clock.utcnow()
        provider = note.provider
        note.status = NOTE_SIGNED
        note.signed_at = now
        note.signed_by = user.id
        note.signature = (provider.display_name or user.name)[:255]
        note.save()
        audit.record("note.sign", obj=note, user=user)
        events.note_signed.send(note, user=user)  # a completed insurance visit's claim is made now
    return note


def add_addendum(user, note, body):
    body = (body or "").strip()
    if not body:
        raise ChartingError("Write the addendum's text.")
    if len(body) > MAX_ADDENDUM:
        raise ChartingError(f"An addendum holds at most {MAX_ADDENDUM:,} characters.")
    with database.atomic("IMMEDIATE"):
        if not _locked_now(note.id):
            raise ChartingError("A draft is edited, not amended: addenda follow signing.")
        row = NoteAddendum.create(
            practice=note.practice_id,
            client=note.client_id,
            note=note.id,
            author=user.id,
            author_name=(user.name or user.email)[:255],
            body=body,
            created_at=clock.utcnow(),
        )
        audit.record("note.addendum", obj=note, detail=f"addendum {row.id}", user=user)
    return row


def delete_draft(user, note):
    with database.atomic("IMMEDIATE"):
        if _locked_now(note.id):
            raise NoteLocked("A signed note cannot be deleted. Add an addendum instead.")
        if not may_edit(user, note):
            raise NotAllowed("Only the note's therapist or the owner can discard a draft.")
        audit.record("note.delete", obj=note, user=user)
        note.delete_instance()


def _child_select(model, order=()):
    """The rows of one of a note's child tables, in `order` (SQL built once per table)."""

    def build(note_id):
        return model.select().where(model.note == note_id).order_by(*order)

    return build


_CHILD_SELECTS = {
    NoteBodyRegion: _child_select(NoteBodyRegion),
    NoteMinutes: _child_select(NoteMinutes),
    NoteDiagnosis: _child_select(NoteDiagnosis, (NoteDiagnosis.position,)),
    NoteAddendum: _child_select(NoteAddendum, (NoteAddendum.created_at, NoteAddendum.id)),
}


def _child_rows(note_id, *models):
    """{model: its rows of the note} for these child tables (SQL built once per table)."""
    values = {"note_id": note_id}
    return {
        model: reads.objects(
            ("note_children", model.__name__), model, _CHILD_SELECTS[model], values
        )
        for model in models
    }


def note_details(note):
    """What a note page and its PDF show besides the note row."""
    found = _child_rows(note.id, *_CHILD_SELECTS)
    regions, _ = rules.clean_regions([r.region for r in found[NoteBodyRegion]])
    minutes = {m.cpt_code: m.minutes for m in found[NoteMinutes]}
    return {
        "regions": regions,
        "region_labels": [rules.REGION_LABELS[r] for r in regions],
        "minutes": sorted(minutes.items()),
        "total_minutes": sum(minutes.values()),
        "diagnoses": found[NoteDiagnosis],
        "addenda": found[NoteAddendum],
        # what the edit form and the Sign button carry (save_note, sign_note)
        "version": _version(note, regions, minutes, [d.code for d in found[NoteDiagnosis]]),
    }


def unsigned_query(query, user, now=None):
    """Drafts older than a day: a therapist's own; for the owner, the practice's."""
    now = now or clock.utcnow()
    query = query.where(
        (ChartNote.status == NOTE_DRAFT) & (ChartNote.created_at < now - UNSIGNED_AFTER)
    )
    if user.role != ROLE_OWNER:
        query = query.where(ChartNote.provider == user.provider_id)
    return query.order_by(ChartNote.created_at)


# --- the seam for billing -------------------------------------------------------------------


def visit_coding(appointment_id):
    """The signed note of a visit, as billing reads it, or None:
    {"note_id", "minutes": {cpt: minutes}, "diagnoses": [codes, primary first]}."""
    note = (
        ChartNote.select()
        .where((ChartNote.appointment == appointment_id) & (ChartNote.status == NOTE_SIGNED))
        .order_by(ChartNote.signed_at.desc())
        .first()
    )
    if note is None:
        return None
    return note_coding(note)


def note_coding(note):
    """A note's coding (signed or not), as billing reads it: {"note_id", "minutes",
    "diagnoses"}."""
    _, minutes, dx = _children(note)
    return {"note_id": note.id, "minutes": minutes, "diagnoses": dx}
