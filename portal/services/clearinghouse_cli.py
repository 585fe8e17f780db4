"""`flask --app wsgi clearinghouse test|fetch`: check the SFTP connection, or download and
keep the files the clearinghouse left (the task queue also fetches every 15 minutes).
Both exit 1 when a practice's connection failed, after trying every practice."""

import click
from flask.cli import AppGroup

from portal.db import database
from portal.services import clearinghouse as ch
from portal.services import clearinghouse_sftp as sftp
from portal.services import clearinghouse_transfer as transfer

clearinghouse_cli = AppGroup("clearinghouse", help="The clearinghouse's SFTP connection.")
PRACTICE = click.option(
    "--practice", "practice_id", type=int, default=None, help="Only this practice (its id)."
)


def _connections(practice_id):
    if practice_id is not None:
        conn = ch.connection_for(practice_id)
        if conn is None or not conn.is_configured:
            raise click.ClickException(
                f"Practice {practice_id} has no clearinghouse connection set up "
                "(Settings → Clearinghouse)."
            )
        return [conn]
    conns = ch.configured_connections()
    if not conns:
        raise click.ClickException(
            "No practice has a clearinghouse connection set up (Settings → Clearinghouse)."
        )
    return conns


@clearinghouse_cli.command("test")
@PRACTICE
def test_cmd(practice_id):
    """Connect to each practice's clearinghouse and list its folders."""
    failed = 0
    with database.connection_context():
        for conn in _connections(practice_id):
            head = f"practice {conn.practice_id} ({conn.host}:{conn.port})"
            try:
                r = sftp.check_connection(conn)
            except sftp.TransportError as exc:
                click.echo(f"{head}: FAILED [{exc.code}] {exc.message}")
                failed += 1
                continue
            pinned = " (pinned now: first connection)" if r.pinned_now else ""
            click.echo(f"{head}: ok, server key {r.fingerprint}{pinned}")
            for label, folder, names, count in (
                ("upload", r.upload_dir, r.upload_names, r.upload_count),
                ("download", r.download_dir, r.download_names, r.download_count),
            ):
                click.echo(f"  {label} folder {folder or '(login folder)'}: {count} entries")
                for name in names:
                    click.echo(f"    {name}")
    if failed:
        raise SystemExit(1)


@clearinghouse_cli.command("fetch")
@PRACTICE
def fetch_cmd(practice_id):
    """Download and keep each new file (a line each), then hand them to the claims code."""
    failed = 0
    with database.connection_context():
        for conn in _connections(practice_id):
            head = f"practice {conn.practice_id}"
            try:
                lines = transfer.fetch(conn)
            except sftp.TransportError as exc:
                click.echo(f"{head}: FAILED [{exc.code}] {exc.message}")
                failed += 1
                continue
            for line in lines:
                what = ch.KIND_LABELS.get(line.kind, line.kind)
                text = f"{head}: {line.name}: {line.outcome}"
                if line.file_id:
                    text += f", {what}, file {line.file_id}, {line.status}"
                if line.message:
                    text += f": {line.message}"
                click.echo(text)
            click.echo(f"{head}: {len(lines)} new file(s) on the server.")
    if failed:
        raise SystemExit(1)
