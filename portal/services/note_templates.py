"""Note templates: the built-in massage therapy SOAP template, the practice's templates
and the one a new note starts from. Each write is one IMMEDIATE transaction with its audit
row. (The notes themselves: services/charting.py.)"""

from portal import audit, clock
from portal.db import database
from portal.models import NoteTemplate
from portal.rules import charting as rules

# --- the default template -------------------------------------------------------------------

DEFAULT_TEMPLATE = {
    "name": "Massage therapy SOAP note",
    "subjective": (
        "Chief complaint:\n"
        "Location and quality of pain or tension:\n"
        "Onset and cause (work, auto accident, other):\n"
        "What makes it worse / better:\n"
        "Effect on sleep, work and daily activities:\n"
        "Changes since the last visit:\n"
        "Medications and health changes:\n"
        "Client's goal for today:"
    ),
    "objective": (
        "Posture and gait:\n"
        "Palpation (tone, tenderness, trigger points, adhesions):\n"
        "Range of motion:\n"
        "Other findings (swelling, skin, temperature):\n"
        "Pressure used and client's response:"
    ),
    "assessment": (
        "Response to treatment:\n"
        "Tissue changes after treatment:\n"
        "Functional change (e.g. turns head to check the blind spot):\n"
        "Progress toward goals:"
    ),
    "plan": (
        "Frequency and duration (e.g. once a week for 4 weeks):\n"
        "Home care (stretches, heat or ice, self-massage):\n"
        "Focus for the next session:\n"
        "Referral or follow-up with the physician:"
    ),
    "techniques": "\n".join(
        [
            "Swedish massage",
            "Deep tissue",
            "Myofascial release",
            "Trigger point therapy",
            "Neuromuscular therapy",
            "Assisted stretching",
            "Joint mobilization",
            "Manual lymphatic drainage",
            "Sports massage",
            "Prenatal massage",
            "Heat / hot stones",
            "Cupping",
            "Instrument-assisted soft tissue",
        ]
    ),
}


def default_template(practice_id):
    """The built-in template as an unsaved row (used when the practice has none)."""
    return NoteTemplate(practice=practice_id, is_default=True, **DEFAULT_TEMPLATE)


def templates(practice_id, include_inactive=False):
    q = NoteTemplate.select().where(NoteTemplate.practice == practice_id)
    if not include_inactive:
        q = q.where(NoteTemplate.active)
    return list(q.order_by(NoteTemplate.is_default.desc(), NoteTemplate.name))


def template_for_new_note(practice_id, template_id=None):
    rows = templates(practice_id)
    if template_id:
        for t in rows:
            if t.id == template_id:
                return t
    return rows[0] if rows else default_template(practice_id)


TEMPLATE_FIELDS = ("name", "subjective", "objective", "assessment", "plan", "techniques")


def save_template(user, template, data):
    """Create (template=None) or update a template. `data` holds TEMPLATE_FIELDS,
    is_default and active. One default per practice."""
    with database.atomic("IMMEDIATE"):
        if template is None:
            template = NoteTemplate(practice=user.practice_id)
            action = "note_template.create"
        else:
            action = "note_template.update"
        changed = []
        for name in (*TEMPLATE_FIELDS, "is_default", "active"):
            value = data[name]
            if name == "techniques":
                value = "\n".join(rules.lines(value))
            if getattr(template, name) != value:
                changed.append(name)
                setattr(template, name, value)
        template.updated_at = clock.utcnow()
        template.save()
        if template.is_default:
            NoteTemplate.update(is_default=False).where(
                (NoteTemplate.practice == user.practice_id) & (NoteTemplate.id != template.id)
            ).execute()
        audit.record(action, obj=template, detail=",".join(changed), user=user)
    return template


def ensure_default_template(practice_id, user=None):
    """The practice's copy of the default template (created once)."""
    existing = (
        NoteTemplate.select()
        .where(
            (NoteTemplate.practice == practice_id) & (NoteTemplate.name == DEFAULT_TEMPLATE["name"])
        )
        .first()
    )
    if existing:
        return existing
    has_default = (
        NoteTemplate.select()
        .where((NoteTemplate.practice == practice_id) & NoteTemplate.is_default)
        .exists()
    )
    t = NoteTemplate.create(
        practice=practice_id,
        is_default=not has_default,
        updated_at=clock.utcnow(),
        **DEFAULT_TEMPLATE,
    )
    audit.record("note_template.create", obj=t, user=user, detail="default")
    return t
