"""Flask commands: demo data, users, backup and restore checks."""

import os
import sqlite3

import click
from flask import current_app

from portal.db import database


def init_app(app):
    app.cli.add_command(demo_cmd)
    app.cli.add_command(backup_cmd)
    app.cli.add_command(check_db_cmd)
    app.cli.add_command(create_owner_cmd)


@click.command("demo")
def demo_cmd():
    """Load the demo practice (idempotent) and print its logins."""
    from portal import demo

    with database.connection_context():
        demo.load()
    base = current_app.config["BASE_URL"]
    click.echo("")
    click.echo("Demo practice loaded. Log in at " + base + "/login with:")
    for email, password in demo.DEMO_PASSWORDS.items():
        click.echo(f"  {email:28s} {password}")
    click.echo("")


def backup(dest):
    """Copy the live database with SQLite's online backup API (safe while the portal serves)."""
    src_path = current_app.config["DATABASE"]
    if os.path.isdir(dest):
        import datetime as dt

        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        dest = os.path.join(dest, f"portal-{stamp}.sqlite3")
    tmp = dest + ".part"
    src = sqlite3.connect(src_path, timeout=30)
    try:
        out = sqlite3.connect(tmp)
        try:
            with out:
                src.backup(out, pages=1024)
            ok = out.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            out.close()
    finally:
        src.close()
    if ok != "ok":
        os.remove(tmp)
        raise click.ClickException("The backup copy failed its integrity check: " + ok)
    os.replace(tmp, dest)
    os.chmod(dest, 0o600)
    return dest


@click.command("backup")
@click.argument("dest")
def backup_cmd(dest):
    """Write an online backup of the database to DEST (a file, or a folder for a dated file)."""
    path = backup(dest)
    click.echo(f"Backup written and checked: {path}")


@click.command("check-db")
@click.argument("path", required=False)
def check_db_cmd(path):
    """Run PRAGMA integrity_check on PATH (default: the live database); exit 1 if it fails."""
    path = path or current_app.config["DATABASE"]
    con = sqlite3.connect(path)
    try:
        rows = [r[0] for r in con.execute("PRAGMA integrity_check")]
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        con.close()
    if rows != ["ok"] or fk:
        click.echo(
            "FAILED: " + "; ".join(rows) + (f"; {len(fk)} foreign key problems" if fk else "")
        )
        raise SystemExit(1)
    click.echo(f"ok: {path}")


@click.command("create-owner")
@click.option("--practice", "practice_name", required=True, help="The practice's name.")
@click.option("--email", required=True)
@click.option("--name", default="")
def create_owner_cmd(practice_name, email, name):
    """Create a practice and its owner; the owner gets a one-time link in the outbox/e-mail."""
    from portal import auth
    from portal.models import Practice, User

    with current_app.test_request_context(), database.connection_context():
        with database.atomic("IMMEDIATE"):
            practice = Practice.get_or_none(Practice.name == practice_name) or Practice.create(
                name=practice_name
            )
            email = email.strip().lower()
            if User.get_or_none(User.email == email):
                raise click.ClickException("A user with this e-mail exists already.")
            user = User.create(practice=practice, email=email, name=name or email, role="owner")
            token = auth.send_invite(user, practice)
    click.echo("Owner created. Choose the password at: " + auth.link_for(token))
