"""A client's own records as one ZIP (issue 12, "no lock-in"): profile, appointments,
documents (receipts, invoices, superbills, letters ...), signed forms (PDF and answers),
messages with their files, insurance card photos, and the consents they gave, with a
README saying what each file holds.

Built in memory for the request that asks and never stored: a client's records are a few
megabytes. Audited (`client.export`).
"""

import csv
import datetime as dt
import io
import json
import zipfile

from portal import audit, clock
from portal.models import (
    Appointment,
    AppointmentType,
    CardImage,
    ClientConsent,
    IntakeSubmission,
    Practice,
    Provider,
    StoredDocument,
)
from portal.rules.reports import csv_text
from portal.services import intake as intake_svc
from portal.services import uploads
from portal.services.messaging.export import client_messages

README = """Your records at {practice}
Made {made} (UTC) for {name}.

What each file holds:
- profile.json: your name, date of birth, contact details and address as the practice has
  them.
- appointments.csv: every appointment (date and time in {tz}, what, with whom, status).
- documents/: every document the practice issued to you, as issued: receipts, invoices,
  credit notes, superbills (each version), letters of medical necessity. PDF files.
- signed_forms/: each form you signed, as a PDF, and forms.json with the questions and your
  answers word for word, when you signed and the name you typed.
- messages.json and messages/: your secure messages with the practice, oldest first, and
  the photos and PDFs sent with them. Messages the practice withdrew are listed without
  their text.
- insurance_cards/: the card photos on file.
- consents.json: the practice policies you agreed to, word for word, with when.

Chart notes are the practice's clinical record: ask the practice for a copy.
CSV files are UTF-8 and open in any spreadsheet; JSON files open in any text editor.
This file holds health information: keep it somewhere private.
"""


def _json(value):
    def default(v):
        if isinstance(v, dt.datetime | dt.date):
            return v.isoformat()
        raise TypeError(type(v).__name__)

    return json.dumps(value, indent=2, ensure_ascii=False, default=default)


def _appointments_csv(client, tz):
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["date", "time", "service", "with", "status", "minutes"])
    rows = (
        Appointment.select(Appointment, AppointmentType, Provider)
        .join(AppointmentType, on=Appointment.appointment_type == AppointmentType.id)
        .switch(Appointment)
        .join(Provider, on=Appointment.provider == Provider.id)
        .where(Appointment.client == client.id)
        .order_by(Appointment.starts_at)
    )
    for a in rows:
        local = clock.to_local(a.starts_at, tz)
        w.writerow(
            [
                local.date().isoformat(),
                local.strftime("%H:%M"),
                csv_text(a.appointment_type.name),  # staff-typed: text, never a formula
                csv_text(a.provider.display_name),
                a.status_label,
                a.duration_minutes,
            ]
        )
    return "\ufeff" + out.getvalue()


def _profile(client):
    return {
        "first_name": client.first_name,
        "last_name": client.last_name,
        "preferred_name": client.preferred_name,
        "date_of_birth": client.date_of_birth,
        "email": client.email,
        "phone": client.phone,
        "address": {
            "line1": client.address1,
            "line2": client.address2,
            "city": client.city,
            "state": client.state,
            "postal_code": client.postal_code,
        },
        "emergency_contact": {
            "name": client.emergency_name,
            "phone": client.emergency_phone,
            "relationship": client.emergency_relationship,
        },
        "client_since": client.created_at,
    }


def _forms(zf, client):
    forms = []
    for sub in (
        IntakeSubmission.select()
        .where(IntakeSubmission.client == client.id)
        .order_by(IntakeSubmission.signed_at)
    ):
        name = f"signed_forms/form-{sub.id}.pdf"
        zf.writestr(name, intake_svc.render_pdf(sub))
        forms.append(
            {
                "title": sub.form_title,
                "signed_at": sub.signed_at,
                "signature_name": sub.signature_name,
                "answers": sub.answers,
                "pdf": name,
            }
        )
    zf.writestr("signed_forms/forms.json", _json(forms))


def _messages(zf, client, user):
    threads = client_messages(client.id, include_files=True, user=user)
    for t in threads:
        for m in t["messages"]:
            for a in m["attachments"]:
                path = f"messages/{a['filename']}"
                zf.writestr(path, a.pop("data"))
                a["file"] = path
    zf.writestr("messages.json", _json(threads))


def build_zip(client, user=None):
    """(filename, bytes) of the client's records; audited."""
    practice = Practice.get_by_id(client.practice_id)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "README.txt",
            README.format(
                practice=practice.name,
                made=clock.utcnow().strftime("%Y-%m-%d %H:%M"),
                name=f"{client.first_name} {client.last_name}",
                tz=practice.timezone,
            ),
        )
        zf.writestr("profile.json", _json(_profile(client)))
        zf.writestr("appointments.csv", _appointments_csv(client, practice.tz))
        count = 0
        for doc in (
            StoredDocument.select()
            .where(StoredDocument.client == client.id)
            .order_by(StoredDocument.id)
        ):
            zf.writestr(f"documents/{doc.id:06d}-{doc.filename}", doc.data)
            count += 1
        _forms(zf, client)
        _messages(zf, client, user)
        for card in CardImage.select().where(CardImage.client == client.id):
            ext = uploads.EXTENSIONS.get(card.content_type, "bin")
            try:
                zf.writestr(
                    f"insurance_cards/card-{card.id}-{card.side}.{ext}",
                    uploads.load(card.stored_name),
                )
            except FileNotFoundError:
                continue
        consents = [
            {"kind": c.kind, "text": c.text, "accepted_at": c.accepted_at}
            for c in ClientConsent.select().where(ClientConsent.client == client.id)
        ]
        zf.writestr("consents.json", _json(consents))
    audit.record("client.export", obj=client, user=user, detail=f"{count} documents")
    day = clock.utcnow().strftime("%Y-%m-%d")
    return f"my-records-{day}.zip", buf.getvalue()
