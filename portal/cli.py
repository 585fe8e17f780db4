"""Flask commands: demo data, users, backup and restore checks."""

import datetime as dt
import os
import sqlite3

import click
from flask import current_app
from flask.cli import with_appcontext

from portal import demo, mail, tokens
from portal.db import IS_POSTGRES, database
from portal.models import Practice, User
from portal.services import staff
from portal.services.claims import money_cli  # noqa: F401  (claims export, import-835)
from portal.services.claims.cli import claims_cli
from portal.services.clearinghouse_cli import clearinghouse_cli
from portal.sessions import account_for


def init_app(app):
    app.cli.add_command(demo_cmd)
    app.cli.add_command(backup_cmd)
    app.cli.add_command(check_db_cmd)
    app.cli.add_command(create_owner_cmd)
    app.cli.add_command(reset_two_step_cmd)
    app.cli.add_command(mail_retry_cmd)
    app.cli.add_command(clearinghouse_cli)
    app.cli.add_command(claims_cli)


@click.command("demo")
@with_appcontext
def demo_cmd():
    """Load the demo practice (idempotent) and print its logins."""
    with database.connection_context():
        ctx = demo.load()
    base = current_app.config["BASE_URL"]
    click.echo("")
    click.echo("Demo practice loaded. Log in at " + base + "/login with:")
    for email, password in demo.DEMO_PASSWORDS.items():
        click.echo(f"  {email:28s} {password}")
    conn = ctx.get("demo_clearinghouse")
    if conn is not None:
        click.echo(
            f"Claims go to the demo's pretend clearinghouse (sftp://127.0.0.1:{conn.port}): "
            "build an 837P file under Claims → 837P files and press Send."
        )
    click.echo("")
    click.echo(f"Online booking for new clients: {base}/book/{ctx['practice'].id}")
    click.echo("")


ON_POSTGRES = (
    "This portal runs on PostgreSQL: back it up with pg_dump and check a copy with "
    "pg_restore (docs/deploy.md, PostgreSQL)."
)


def backup(dest):
    """Copy the live database with SQLite's online backup API (safe while the portal serves)."""
    if IS_POSTGRES:
        raise click.ClickException(ON_POSTGRES)
    src_path = current_app.config["DATABASE"]
    if not os.path.exists(src_path):
        raise click.ClickException("No database at " + src_path)
    # A folder (existing, or a path ending in / or without a file extension) gets a dated file.
    if os.path.isdir(dest) or dest.endswith(os.sep) or not os.path.splitext(dest)[1]:
        os.makedirs(dest, mode=0o700, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        dest = os.path.join(dest, f"portal-{stamp}.sqlite3")
    tmp = dest + ".part"
    for leftover in (tmp, tmp + "-wal", tmp + "-shm", tmp + "-journal"):
        if os.path.exists(leftover):
            os.remove(leftover)
    src = sqlite3.connect(src_path, timeout=30)
    try:
        out = sqlite3.connect(tmp)
        try:
            # One step (pages=-1) inside one read transaction: a consistent snapshot even
            # while the portal writes (WAL readers do not block writers), and no restarts,
            # which a busy writer would cause with a page-by-page copy.
            src.backup(out, pages=-1)
            out.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
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
@with_appcontext
@click.argument("dest")
def backup_cmd(dest):
    """Write an online backup of the database to DEST (a file, or a folder for a dated file)."""
    path = backup(dest)
    click.echo(f"Backup written and checked: {path}")


@click.command("check-db")
@with_appcontext
@click.argument("path", required=False)
def check_db_cmd(path):
    """Run PRAGMA integrity_check on PATH (default: the live database); exit 1 if it fails."""
    if IS_POSTGRES and not path:
        raise click.ClickException(ON_POSTGRES)
    path = path or current_app.config["DATABASE"]
    problems = check_db(path)
    if problems:
        click.echo("FAILED: " + "; ".join(problems) + f" ({path})")
        raise SystemExit(1)
    click.echo(f"ok: {path}")


def check_db(path):
    """Problems found in the SQLite file at `path` ([] when it is sound and holds the portal)."""
    if not os.path.isfile(path):
        return ["no such file"]
    try:
        # Read-only: checking a file must never create or change it.
        con = sqlite3.connect(f"file:{os.path.abspath(path)}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return [f"cannot open: {exc}"]
    try:
        rows = [r[0] for r in con.execute("PRAGMA integrity_check")]
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.Error as exc:
        return [f"not a readable SQLite database: {exc}"]
    finally:
        con.close()
    problems = [] if rows == ["ok"] else rows
    if fk:
        problems.append(f"{len(fk)} foreign key problems")
    missing = {"schema_migration", "practice", "user", "audit_log"} - tables
    if missing:
        problems.append("not a portal database (missing " + ", ".join(sorted(missing)) + ")")
    return problems


@click.command("create-owner")
@with_appcontext
@click.option("--practice", "practice_name", required=True, help="The practice's name.")
@click.option("--email", required=True)
@click.option("--name", default="")
def create_owner_cmd(practice_name, email, name):
    """Create a practice and its owner; the owner gets a one-time link in the outbox/e-mail."""
    with current_app.test_request_context(), database.connection_context():
        with database.atomic("IMMEDIATE"):
            practice = Practice.get_or_none(Practice.name == practice_name) or Practice.create(
                name=practice_name
            )
            email = email.strip().lower()
            if User.get_or_none(User.email == email):
                raise click.ClickException("A user with this e-mail exists already.")
            user = User.create(practice=practice, email=email, name=name or email, role="owner")
            token = tokens.send_invite(user, practice)
        mail.flush()  # with SMTP configured: sent now that the transaction committed
        link = tokens.link_for(token)
    click.echo("Owner created. Choose the password at: " + link)


@click.command("reset-two-step")
@with_appcontext
@click.option("--email", required=True, help="The staff user's e-mail address.")
def reset_two_step_cmd(email):
    """Turn off a staff user's two-step login after a lost phone, when no other owner can
    (the only owner's own): their sessions end; audited."""
    with current_app.test_request_context(), database.connection_context():
        user = account_for(email)
        if user is None or not user.is_staff:
            raise click.ClickException("No staff user has this e-mail address.")
        staff.reset_two_step(user, detail="from the server")
    click.echo(
        f"Two-step login of {user.email} is off: {user.name or 'they'} logs in with the "
        "password alone and sets it up again."
    )


@click.command("mail-retry")
@click.option("--hours", default=24, help="Retry failures of the last HOURS hours.")
@with_appcontext
def mail_retry_cmd(hours):
    """Send again the e-mails whose delivery failed (for cron, with SMTP configured)."""
    if not current_app.config.get("MAIL_SERVER"):
        raise click.ClickException("No mail server is configured (PORTAL_MAIL_SERVER).")
    with database.connection_context():
        sent = mail.retry_failed(hours)
    click.echo(f"Sent {sent} message(s).")
