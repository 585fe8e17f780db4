"""Two people editing one client's details: the desk's edit form and the client's own
profile in the portal each carry the version they were opened on; a save over a later
change is refused (409) with what was typed kept and the stored values beside it, never
overwriting the other's change silently. On the real database file."""

import re

from portal.models import AuditLog, Client
from tests.conftest import form_version, login

EDIT = "/provider/clients/{}/edit"


def _desk_form(c, **typed):
    data = {
        "first_name": c.first_name,
        "last_name": c.last_name,
        "phone": c.phone or "",
        "email": c.email or "",
        "city": c.city or "",
        "therapist": str(c.therapist_id or 0),
    }
    data.update(typed)
    return data


def test_the_desk_saving_over_the_clients_own_change_is_refused_then_saved_knowingly(
    app, client, world
):
    c = world.a.c1
    url = EDIT.format(c.id)
    login(client, world.a.frontdesk)
    opened = form_version(client, url)  # the desk opens the form ...
    client.post("/logout")
    login(client, world.a.cu1)  # ... the client changes their phone in the portal ...
    profile = form_version(client, "/portal/profile")
    r = client.post(
        "/portal/profile", data={"phone": "503-555-0199", "city": "Salem", "version": profile}
    )
    assert r.status_code == 303
    client.post("/logout")
    login(client, world.a.frontdesk)  # ... and the desk saves the old phone with a new name
    stale = Client.get_by_id(c.id)
    r = client.post(
        url, data=_desk_form(c, phone="503-555-0100", last_name="Newname", version=opened)
    )
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "Not saved: these details were changed after you opened the form" in html
    assert world.a.cu1.name in html  # who saved meanwhile
    rows = re.findall(
        r"<h3>([^<]+)</h3>\s*<div class=\"diff-pair\">\s*<div class=\"diff-saved\">"
        r"<p class=\"diff-who\">Saved version</p><p class=\"diff-text\">([^<]*)</p></div>\s*"
        r"<div class=\"diff-typed\"><p class=\"diff-who\">Yours, not saved</p>"
        r"<p class=\"diff-text\">([^<]*)</p>",
        html,
    )
    assert ("Phone", "503-555-0199", "503-555-0100") in rows
    assert ("Legal last name", stale.last_name, "Newname") in rows
    assert 'value="Newname"' in html  # what was typed is kept in the form
    now = Client.get_by_id(c.id)
    assert (now.phone, now.last_name, now.city) == ("503-555-0199", stale.last_name, "Salem")
    assert AuditLog.select().where(AuditLog.action == "client.update.conflict").count() == 1
    # The 409 page carries the newer version: saving it again replaces knowingly.
    newer = re.search(r'name="version" type="hidden" value="([^"]*)"', html).group(1)
    assert newer != opened
    r = client.post(
        url,
        data=_desk_form(
            now, phone="503-555-0199", last_name="Newname", city="Salem", version=newer
        ),
    )
    assert r.status_code == 302
    now = Client.get_by_id(c.id)
    assert (now.phone, now.last_name, now.city) == ("503-555-0199", "Newname", "Salem")


def test_an_edit_form_without_its_version_is_refused_and_nothing_is_written(app, client, world):
    c = world.a.c1
    before = Client.get_by_id(c.id).last_name
    login(client, world.a.owner)
    r = client.post(EDIT.format(c.id), data=_desk_form(c, last_name="Forged"))
    assert r.status_code == 409
    assert "did not say which version of the details it was opened on" in r.get_data(as_text=True)
    assert Client.get_by_id(c.id).last_name == before
    # another practice's client: 404 whatever the version; logged out: the login page
    other = world.b.c1
    r = client.post(EDIT.format(other.id), data=_desk_form(other, version="0" * 16))
    assert r.status_code == 404
    client.post("/logout")
    r = client.post(EDIT.format(c.id), data=_desk_form(c, version="0" * 16))
    assert r.status_code in (302, 401) and Client.get_by_id(c.id).last_name == before


def test_the_clients_profile_saved_over_the_desks_change_is_refused(app, client, world):
    c = world.a.c1
    login(client, world.a.cu1)
    opened = form_version(client, "/portal/profile")
    client.post("/logout")
    login(client, world.a.frontdesk)
    url = EDIT.format(c.id)
    r = client.post(url, data=_desk_form(c, city="Eugene", version=form_version(client, url)))
    assert r.status_code == 302
    client.post("/logout")
    login(client, world.a.cu1)
    r = client.post(
        "/portal/profile", data={"phone": "503-555-0142", "city": "Bend", "version": opened}
    )
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "Not saved: the practice changed your details while you were editing." in html
    assert "<li>City: Eugene</li>" in html
    assert 'value="Bend"' in html  # kept as typed
    assert Client.get_by_id(c.id).city == "Eugene"
    newer = re.search(r'name="version" type="hidden" value="([^"]*)"', html).group(1)
    r = client.post(
        "/portal/profile", data={"phone": "503-555-0142", "city": "Bend", "version": newer}
    )
    assert r.status_code == 303 and Client.get_by_id(c.id).city == "Bend"
    # the other client's details are not reachable: the profile is always one's own
    assert Client.get_by_id(world.a.c2.id).city != "Bend"
