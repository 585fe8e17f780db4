"""Letters of medical necessity: the therapist fills a template for a client (diagnoses,
referring physician, treatment plan, frequency, duration, expected outcome, the dates it
covers), then signs it by typing their name; signing stores the PDF, which never changes
(triggers), and the client downloads it for their HSA/FSA plan. It expires on its end
date. A change after signing is a new letter."""

import datetime as dt

from portal import audit, clock, pdf
from portal.db import database
from portal.models import Client, MedicalLetter, Practice, Provider
from portal.models.documents import LETTER_DRAFT, LETTER_SIGNED
from portal.services import documents, icd10

FIELDS = (
    "diagnoses",
    "referring_name",
    "referring_npi",
    "treatment_plan",
    "frequency",
    "duration",
    "expected_outcome",
    "start_date",
    "end_date",
)
MAX_MONTHS = 12


class LetterError(ValueError):
    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def clean_codes(text):
    """'M54.50, m62.830' -> ['M54.50', 'M62.830'], each a billable ICD-10-CM code."""
    codes = []
    for raw in (text or "").replace(";", ",").split(","):
        if not raw.strip():
            continue
        ok, message, _children = icd10.validate(raw)
        if not ok:
            raise LetterError(message, "diagnoses")
        code = message.split(" ", 1)[0]  # the code as written in the code set
        if code not in codes:
            codes.append(code)
    if not codes:
        raise LetterError("Give at least one diagnosis code.", "diagnoses")
    return codes


def _check(data):
    start, end = data["start_date"], data["end_date"]
    if end < start:
        raise LetterError("The end date comes before the start date.", "end_date")
    if end > start + dt.timedelta(days=366):
        raise LetterError(f"A letter covers at most {MAX_MONTHS} months.", "end_date")
    for name in ("treatment_plan", "frequency", "duration", "expected_outcome"):
        if not (data.get(name) or "").strip():
            raise LetterError("Fill this in: the plan needs it.", name)


def save_draft(client, provider, data, user, letter=None):
    data = dict(data)
    data["diagnoses"] = ",".join(clean_codes(data.get("diagnoses")))
    _check(data)
    with database.atomic("IMMEDIATE"):
        if letter is None:
            letter = MedicalLetter(
                practice=client.practice_id, client=client.id, created_by=user.id
            )
        elif letter.status != LETTER_DRAFT:
            raise LetterError("A signed letter never changes: write a new one.")
        letter.provider = provider.id
        for name in FIELDS:
            value = data.get(name)
            setattr(letter, name, value.strip() if isinstance(value, str) else value)
        letter.updated_at = clock.utcnow()
        letter.save()
        audit.record("letter.save", obj=letter, user=user)
    return letter


def sign(letter, signature_name, user):
    """Sign and issue: the PDF is stored and the letter never changes again."""
    signature_name = (signature_name or "").strip()
    with database.atomic("IMMEDIATE"):
        letter = MedicalLetter.get_by_id(letter.id)
        if letter.status != LETTER_DRAFT:
            raise LetterError("This letter is already signed.")
        provider = Provider.get_by_id(letter.provider_id)
        expected = f"{provider.first_name} {provider.last_name}".lower()
        if signature_name.lower() != expected:
            raise LetterError(
                f"Type the provider's name, {provider.first_name} {provider.last_name}, to sign.",
                "signature_name",
            )
        practice = Practice.get_by_id(letter.practice_id)
        client = Client.get_by_id(letter.client_id)
        now = clock.utcnow()
        descriptions = {c: icd10.describe(c) for c in letter.codes}
        data = pdf.render_pdf(
            "pdf/medical_letter.html",
            practice=practice,
            client=client,
            provider=provider,
            letter=letter,
            descriptions=descriptions,
            signature_name=signature_name,
            signed_on=clock.local_date(now, practice.tz),
        )
        doc = documents.store(
            practice.id,
            client.id,
            "letter",
            f"Letter of medical necessity, valid to {letter.end_date:%b %-d, %Y}",
            f"letter-of-medical-necessity-{letter.id}.pdf",
            data,
            user=user,
        )
        MedicalLetter.update(
            status=LETTER_SIGNED,
            signature_name=signature_name,
            signed_at=now,
            signed_by=user.id,
            document=doc.id,
        ).where(MedicalLetter.id == letter.id).execute()
        audit.record("letter.sign", obj=letter, user=user)
    return MedicalLetter.get_by_id(letter.id)
