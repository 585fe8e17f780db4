"""A chart note between sessions: long text on paper, two tabs (or the owner) on one draft,
a note signed elsewhere while its form is open, minutes and dates against the visit, and
signing refused with the reason by the field."""

import re
import subprocess

from portal.services import charting as svc
from tests.charting.helpers import make_note
from tests.conftest import login


def _pdf_text(client, note, tmp_path):
    r = client.get(f"/provider/notes/{note.id}/pdf")
    assert r.status_code == 200
    path = tmp_path / "note.pdf"
    path.write_bytes(r.data)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def test_a_long_unbroken_line_wraps_on_the_pdf_instead_of_running_off_the_page(
    client, world, tmp_path
):
    link = "https://example.com/referral/" + "abcdefghij" * 20 + "/END"
    note = make_note(
        world.a.therapist, world.a.c1, world.a.provider.id, subjective="Referral letter: " + link
    )
    svc.sign_note(world.a.therapist, note)
    svc.add_addendum(world.a.therapist, note, "Copy: " + link)
    login(client, world.a.therapist)
    text = re.sub(r"\s+", "", _pdf_text(client, note, tmp_path))
    # All of it is on the page (pdftotext reads only what is inside it), in the note and
    # in the addendum.
    assert text.count(link) == 2
