"""The client list's order: by last then first name ignoring case, then id, across pages."""

from portal.models import Client
from portal.services import clients as svc
from tests import factories


def test_list_order_ignores_case_and_pages_keep_it(ctx, world):
    p = world.a.practice
    names = [
        ("ada", "de la Cruz"),
        ("Bea", "De La Cruz"),
        ("Cy", "deLacroix"),
        ("al", "Abbott"),
        ("Al", "abbott"),
        ("zoe", "Zed"),
        ("Ann", "zed"),
        ("Ö", "Oz"),
        ("o", "Oz"),
    ]
    for first, last in names:
        factories.client(p, first_name=first, last_name=last)
    with ctx.test_request_context():
        from flask_login import login_user

        login_user(world.a.owner)
        everyone = []
        page, pages = 1, 1
        while page <= pages:
            rows, total, page, pages = svc.search("", page=page, page_size=4)
            assert total == len(names) + 2  # world's c1 and c2
            everyone += rows
            page += 1
    mine = [c for c in everyone if (c.first_name, c.last_name) in names]
    expected = sorted(mine, key=lambda c: (c.last_name.lower(), c.first_name.lower(), c.id))
    assert [c.id for c in mine] == [c.id for c in expected]
    assert len({c.id for c in everyone}) == len(everyone) == len(names) + 2
    # each row comes with its therapist's name (one joined query, not one per row)
    for row in everyone:
        therapist = Client.get_by_id(row.id).therapist
        assert row.therapist == (therapist.display_name if therapist else "")
    assert any(row.therapist for row in everyone)
