"""Builders for chart-note tests: form data and notes made through the service."""

import datetime as dt
import re

from portal.models import ChartNote
from portal.services import charting as svc


def form_data(provider_id, **kw):
    """A complete note form POST (SOAP, pain, techniques, regions, minutes, diagnoses)."""
    data = {
        "visit_date": "2026-11-20",
        "provider": str(provider_id),
        "appointment": "0",
        "subjective": "Client reports low back tightness after gardening.",
        "objective": "Hypertonic lumbar paraspinals, trigger point in left QL.",
        "assessment": "Reduced tension, ROM improved after treatment.",
        "plan": "Weekly for 4 weeks; hip flexor stretches at home.",
        "pain_before": "6",
        "pain_after": "3",
        "techniques": ["Swedish massage", "Trigger point therapy"],
        "techniques_other": "",
        "regions": ["low-back", "glute-l"],
        "minutes-97124": "30",
        "minutes-97140": "",
        "dx": ["M54.50"],
        "dx_new": "",
        "action": "save",
    }
    data.update(kw)
    return data


def make_note(user, client, provider_id, sign=False, **kw):
    """A note through the service (as `user`), signed when asked."""
    fields = dict(
        visit_date=dt.date(2026, 11, 20),
        provider_id=provider_id,
        subjective="Neck stiffness.",
        objective="Tight upper trapezius.",
        assessment="Better after treatment.",
        plan="Two more visits.",
        pain_before=5,
        pain_after=2,
        techniques="Swedish massage",
        regions=["neck", "upper-back"],
        minutes={"97124": 45},
        diagnoses=["M54.2"],
    )
    fields.update(kw)
    note = svc.save_note(user, client, svc.NoteInput(**fields))
    if sign:
        svc.sign_note(user, note)
    return ChartNote.get_by_id(note.id)


def page_version(html):
    """The draft's version a note page or form carries (its hidden `version` field)."""
    found = re.search(r'name="version"[^>]*value="([0-9a-f]+)"', html) or re.search(
        r'value="([0-9a-f]+)"[^>]*name="version"', html
    )
    assert found, "the page carries the version of the draft it shows"
    return found.group(1)


def sign_from_page(client, note_id):
    """Sign as the Sign button of the note's page does: with the version the page shows."""
    page = client.get(f"/provider/notes/{note_id}").get_data(as_text=True)
    return client.post(f"/provider/notes/{note_id}/sign", data={"version": page_version(page)})
