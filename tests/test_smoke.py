from tests.conftest import login


def test_owner_logs_in_and_sees_settings(client, world):
    r = login(client, world.a.owner)
    assert r.status_code == 302
    assert r.headers["Location"].endswith("/provider/")
    r = client.get("/provider/settings/practice")
    assert r.status_code == 200
    assert world.a.practice.name in r.get_data(as_text=True)
