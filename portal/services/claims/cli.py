"""`flask --app wsgi claims ...`: the claims commands.

    claims create-due [--practice ID]    a claim for every completed insurance visit whose
                                         note is signed and that has none (the task queue
                                         runs it nightly too)
    claims list [--status S] [--practice ID]
                                         one line per claim: id, patient control number,
                                         date of service, payer, status, total, paid, balance

Lines name no client (the patient control number finds the claim in the portal).
Other claims commands (export, import-835) register on `claims_cli` from their modules.
"""

import click
from flask.cli import AppGroup

from portal.db import database
from portal.models import Claim, Payer
from portal.rules import claim_status
from portal.rules.money import format_cents
from portal.services.claims import build

claims_cli = AppGroup("claims", help="Insurance claims.")
PRACTICE = click.option(
    "--practice", "practice_id", type=int, default=None, help="Only this practice (its id)."
)


@claims_cli.command("create-due")
@PRACTICE
def create_due_cmd(practice_id):
    """Make the claims due: visits completed and signed that have no claim yet."""
    with database.connection_context():
        result = build.create_due(practice_id)
    for claim in result.created:
        held = " (held: see its problems)" if claim.held else ""
        click.echo(
            f"created {claim.patient_control_number} {claim.service_date} "
            f"{claim.status_label}{held}"
        )
    for appointment_id, why in result.skipped:
        click.echo(f"skipped visit {appointment_id}: {why}")
    click.echo(f"Claims created: {len(result.created)}; visits skipped: {len(result.skipped)}")


@claims_cli.command("list")
@click.option(
    "--status",
    type=click.Choice(claim_status.STATUSES),
    default=None,
    help="Only claims in this status.",
)
@PRACTICE
def list_cmd(status, practice_id):
    """One line per claim, newest date of service first."""
    with database.connection_context():
        q = (
            Claim.select(Claim, Payer.name)
            .join(Payer)
            .order_by(Claim.service_date.desc(), Claim.id.desc())
        )
        if status:
            q = q.where(Claim.status == status)
        if practice_id is not None:
            q = q.where(Claim.practice == practice_id)
        count = 0
        for c in q.iterator():
            held = " held" if c.held else ""
            click.echo(
                f"{c.id:>6} {c.patient_control_number:<20} {c.service_date} "
                f"{c.payer.name[:30]:<30} {c.status_label:<15} total "
                f"{format_cents(c.total_cents):>10} paid {format_cents(c.paid_cents):>10} "
                f"balance {format_cents(c.balance_cents):>10}{held}"
            )
            count += 1
    click.echo(f"{count} claim{'s' if count != 1 else ''}")
