"""Intake forms: the practice edits templates; a client fills one in and signs it by typing
their full name. The submission is a frozen copy of questions and answers with the
signature name, time, IP address and user agent, hashed, and never updated (a database
trigger refuses UPDATE). Flags (e.g. contraindications) come from questions marked
"raises a flag" answered yes / checked.
"""

import datetime as dt
import hashlib
import json

from flask import request

from portal import audit, clock, pdf
from portal.audit import client_ip
from portal.db import database
from portal.models import IntakeField, IntakeForm, IntakeSubmission
from portal.services import reads

FORM_FIELDS = ("title", "kind", "description", "position", "active")
FIELD_FIELDS = (
    "label",
    "field_type",
    "choices",
    "help_text",
    "required",
    "flag",
    "flag_label",
    "position",
    "active",
)


def save_form(form_obj, data):
    creating = form_obj.id is None
    with database.atomic("IMMEDIATE"):
        for k in FORM_FIELDS:
            if k in data:
                setattr(form_obj, k, data[k])
        form_obj.updated_at = clock.utcnow()
        form_obj.save()
        audit.record("intake_form.create" if creating else "intake_form.update", obj=form_obj)
    return form_obj


def save_field(field_obj, data):
    creating = field_obj.id is None
    with database.atomic("IMMEDIATE"):
        for k in FIELD_FIELDS:
            if k in data:
                setattr(field_obj, k, data[k])
        field_obj.save()
        audit.record(
            "intake_field.create" if creating else "intake_field.update",
            obj=field_obj,
            detail=f"form {field_obj.form_id}",
        )
    return field_obj


def offered_forms(practice_id):
    return list(
        IntakeForm.select()
        .where((IntakeForm.practice == practice_id) & IntakeForm.active)
        .order_by(IntakeForm.position, IntakeForm.id)
    )


def read_answers(form_obj, formdata):
    """Answers from posted data: (answers, errors). `answers` maps field id -> dict with
    'value' (str) and 'details' (str); errors maps field id -> message."""
    answers, errors = {}, {}
    for f in form_obj.active_fields():
        key = f"q{f.id}"
        value = (formdata.get(key) or "").strip()[:4000]
        details = (formdata.get(key + "_details") or "").strip()[:4000]
        if f.field_type == "checkbox":
            value = "yes" if value else ""
        elif f.field_type == "yes_no":
            if value not in ("", "yes", "no"):
                errors[f.id] = "Choose yes or no."
        elif f.field_type == "choice":
            if value and value not in f.choice_list:
                errors[f.id] = "Choose one of the listed answers."
        elif f.field_type == "date" and value:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                errors[f.id] = "Enter a date like 2026-04-12."
        if f.required and not value and f.id not in errors:
            errors[f.id] = (
                "Check this box to continue."
                if f.field_type == "checkbox"
                else "Answer this question."
            )
        answers[f.id] = {"value": value, "details": details if f.field_type == "yes_no" else ""}
    return answers, errors


def _display(f, a):
    v = a["value"]
    if f.field_type in ("checkbox", "yes_no"):
        shown = {"yes": "Yes", "no": "No", "": "Not answered" if f.field_type == "yes_no" else "No"}
        v = shown.get(v, v)
    return v


def submit(form_obj, client, answers, signature_name, user, via="portal"):
    """Store one signed, immutable submission; returns it."""
    frozen, flags = [], []
    for f in form_obj.active_fields():
        a = answers.get(f.id, {"value": "", "details": ""})
        raised = bool(f.flag and a["value"] == "yes")
        frozen.append(
            {
                "label": f.label,
                "type": f.field_type,
                "answer": _display(f, a),
                "details": a["details"],
                "flagged": raised,
            }
        )
        if raised:
            text = f.flag_label or f.label
            if a["details"]:
                text += f" ({a['details'][:200]})"
            flags.append(text)
    now = clock.utcnow()
    body = json.dumps(frozen, sort_keys=True, ensure_ascii=False)
    ip = client_ip()
    sig = signature_name.strip()
    digest = hashlib.sha256(
        "\n".join([form_obj.title, body, sig, now.isoformat(), ip]).encode()
    ).hexdigest()
    with database.atomic("IMMEDIATE"):
        sub = IntakeSubmission.create(
            practice=client.practice_id,
            client=client,
            form=form_obj,
            form_title=form_obj.title,
            form_kind=form_obj.kind,
            answers_json=body,
            flags_json=json.dumps(flags, ensure_ascii=False),
            signature_name=sig,
            signed_at=now,
            signed_ip=ip,
            user_agent=(request.headers.get("User-Agent", "") if request else "")[:255],
            via=via,
            submitted_by=user,
            content_sha256=digest,
        )
        audit.record("intake.sign", obj=sub, detail=f"{via}, {len(flags)} flags")
    return sub


def _submissions_query(client_id):
    return (
        IntakeSubmission.select(
            IntakeSubmission.id,
            IntakeSubmission.form,
            IntakeSubmission.form_title,
            IntakeSubmission.signature_name,
            IntakeSubmission.signed_at,
            IntakeSubmission.via,
            IntakeSubmission.flags_json,
        )
        .where(IntakeSubmission.client == client_id)
        .order_by(IntakeSubmission.signed_at.desc(), IntakeSubmission.id.desc())
    )


def client_submissions(client):
    """The client's signed submissions, newest first, as the client page lists them: who
    signed which form when and how, and the flags raised (not the answers)."""
    return reads.instances(
        "intake.client_submissions", _submissions_query, {"client_id": client.id}, IntakeSubmission
    )


def _form_choices_query(practice_id):
    return (
        IntakeForm.select(IntakeForm.id, IntakeForm.title)
        .where((IntakeForm.practice == practice_id) & IntakeForm.active)
        .order_by(IntakeForm.position, IntakeForm.id)
    )


def offered_form_choices(practice_id):
    """[(id, title)] of the forms offered_forms() gives."""
    return reads.rows("intake.form_choices", _form_choices_query, {"practice_id": practice_id})


def signed_form_ids(client):
    """The ids of the forms the client has signed (one statement, ids only)."""
    return {
        row.form_id
        for row in IntakeSubmission.select(IntakeSubmission.form).where(
            (IntakeSubmission.client == client.id) & IntakeSubmission.form.is_null(False)
        )
    }


def render_pdf(sub):
    signed = clock.to_local(sub.signed_at, sub.practice.tz)
    return pdf.render_pdf(
        "pdf/intake.html",
        sub=sub,
        client=sub.client,
        practice=sub.practice,
        signed_local=signed.strftime("%b %d, %Y at %-I:%M %p %Z"),
    )


def create_default_form(practice_id):
    with database.atomic("IMMEDIATE"):
        form_obj = IntakeForm.create(
            practice=practice_id,
            title="Health history",
            kind="health_history",
            description="Please answer before your first visit. Your answers are kept private.",
            updated_at=clock.utcnow(),
        )
        for i, (label, kind, opts, flag, flag_label) in enumerate(default_fields(), start=1):
            IntakeField.create(
                practice=practice_id,
                form=form_obj,
                position=i * 10,
                label=label,
                field_type=kind,
                choices=opts,
                flag=flag,
                flag_label=flag_label,
            )
        audit.record("intake_form.create", obj=form_obj, detail="default")
    return form_obj


def default_fields():
    """The fields of a sensible default health-history form (for a new practice)."""
    return [
        ("Reason for today's visit", "long_text", "", False, ""),
        ("Are you currently under a doctor's care?", "yes_no", "", False, ""),
        (
            "Have you had blood clots or deep vein thrombosis?",
            "yes_no",
            "",
            True,
            "Contraindication: blood clots / DVT",
        ),
        ("Are you pregnant?", "yes_no", "", True, "Pregnancy"),
        ("Do you have high blood pressure?", "yes_no", "", True, "High blood pressure"),
        ("Allergies to oils or lotions", "text", "", False, ""),
        ("Preferred pressure", "choice", "Light\nMedium\nFirm", False, ""),
        ("Date of your last massage", "date", "", False, ""),
    ]
