"""`flask --app wsgi clearinghouse test|fetch` against a real SFTP server."""

from portal.models import ClearinghouseFile
from portal.services import clearinghouse as ch
from tests.clearinghouse import samples
from tests.clearinghouse.conftest import settings


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["clearinghouse", *args])


def test_nothing_set_up_says_where_to_do_it(app, world):
    r = _run(app, "test")
    assert r.exit_code != 0
    assert "No practice has a clearinghouse connection set up (Settings → Clearinghouse)" in (
        r.output
    )
    r = _run(app, "fetch", "--practice", str(world.b.practice.id))
    assert r.exit_code != 0 and f"Practice {world.b.practice.id} has no clearinghouse" in r.output


def test_test_and_fetch(app, conn, sftp_server):
    sftp_server.put("outbound", "999_000000101.x12", samples.ack_999(), mtime=1_790_000_000)
    sftp_server.put("outbound", "notes.txt", b"hello", mtime=1_790_000_100)
    r = _run(app, "test")
    assert r.exit_code == 0, r.output
    head = f"practice {conn.practice_id} (127.0.0.1:{sftp_server.port})"
    assert f"{head}: ok, server key {sftp_server.fingerprint} (pinned now" in r.output
    assert "  download folder outbound: 2 entries\n    999_000000101.x12\n" in r.output

    r = _run(app, "fetch")
    assert r.exit_code == 0, r.output
    f999 = ClearinghouseFile.get(ClearinghouseFile.kind == "999")
    lines = r.output.splitlines()
    assert lines == [
        f"practice {conn.practice_id}: 999_000000101.x12: stored, 999 acknowledgment, "
        f"file {f999.id}, new",
        f"practice {conn.practice_id}: notes.txt: stored, Unknown, file {f999.id + 1}, error: "
        "This is not an X12 file: it does not begin with an ISA segment.",
        f"practice {conn.practice_id}: 2 new file(s) on the server.",
    ]
    r = _run(app, "fetch", "--practice", str(conn.practice_id))
    assert (
        r.exit_code == 0
        and r.output == f"practice {conn.practice_id}: 0 new file(s) on the server.\n"
    )


def test_a_failing_practice_exits_1_after_trying_the_others(app, world, conn, sftp_server):
    with app.test_request_context():
        ch.save_settings(world.b.practice.id, settings(sftp_server), password="wrong-password-1")
    r = _run(app, "fetch")
    assert r.exit_code == 1
    assert f"practice {conn.practice_id}: 0 new file(s)" in r.output
    assert f"practice {world.b.practice.id}: FAILED [auth] The clearinghouse's server refused" in (
        r.output
    )
