"""`flask --app wsgi claims export | import-835`: 837P files out, 835 remittances in.

    claims export --payer ID -o FILE [--practice ID]   the ready claims of one payer (its
                                                       id here, or its payer ID) as FILE
    claims export --all-ready -o FOLDER [--practice ID]  one file per payer into FOLDER
    claims import-835 FILE [--practice ID]             post a remittance; unmatched lines
                                                       are listed

Lines name no client (the patient control number finds the claim in the portal). Files
are written readable by their owner only (they hold patients' details). Exit status 1,
with the reason, when nothing was done.
"""

import os

import click
from peewee import fn

from portal.db import database
from portal.models import Payer, Practice
from portal.rules.money import format_cents
from portal.services.claims import batches, remittances
from portal.services.claims.cli import PRACTICE, claims_cli


def _practice(practice_id):
    if practice_id is not None:
        practice = Practice.get_or_none(Practice.id == practice_id)
        if practice is None:
            raise click.ClickException(f"No practice has the id {practice_id}.")
        return practice
    practices = list(Practice.select().limit(2))
    if len(practices) != 1:
        raise click.ClickException(
            "Name the practice with --practice ID" if practices else "There is no practice yet."
        )
    return practices[0]


def _payer(practice, value):
    q = Payer.select().where(Payer.practice == practice.id)
    found = None
    if value.isdigit():
        found = q.where(Payer.id == int(value)).first()
    found = found or q.where(fn.UPPER(Payer.payer_code) == value.upper()).first()
    if found is None:
        raise click.ClickException(
            f"No payer of {practice.name} has the id or payer ID {value!r} (see Payers)."
        )
    return found


def _write(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _targets(built, output, folder):
    if folder:
        os.makedirs(output, mode=0o700, exist_ok=True)
        return [os.path.join(output, b.remote_name) for b in built]
    if len(built) == 1:
        return [output]
    stem, ext = os.path.splitext(output)
    return [f"{stem}-{b.interchange_control_number:09d}{ext or '.x12'}" for b in built]


@claims_cli.command("export")
@click.option("--payer", "payer_value", default=None, help="The payer: its id or payer ID.")
@click.option("--all-ready", is_flag=True, help="Every ready claim, one file per payer.")
@click.option("-o", "--output", required=True, type=click.Path(), help="File (or folder).")
@PRACTICE
def export_cmd(payer_value, all_ready, output, practice_id):
    """Build 837P files from the ready claims (they become submitted) and write them."""
    if bool(payer_value) == bool(all_ready):
        raise click.UsageError("Give either --payer ID or --all-ready.")
    folder = all_ready or os.path.isdir(output)
    with database.connection_context():
        practice = _practice(practice_id)
        payer = _payer(practice, payer_value) if payer_value else None
        try:
            built = batches.build(practice.id, payer_id=payer.id if payer else None)
        except batches.BatchError as exc:
            raise click.ClickException(str(exc)) from None
        for batch, path in zip(built, _targets(built, output, folder), strict=True):
            _write(path, batches.file_bytes(batch))
            click.echo(
                f"wrote {path}: 837P file {batch.interchange_control_number:09d} to "
                f"{batch.payer.name}, {batch.claim_count} claims, {format_cents(batch.total_cents)}"
            )


@claims_cli.command("import-835")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@PRACTICE
def import_835_cmd(file, practice_id):
    """Post an 835 remittance file; list what matched no claim."""
    with open(file, "rb") as fh:
        data = fh.read()
    with database.connection_context():
        practice = _practice(practice_id)
        try:
            result = remittances.import_835(
                practice.id, data, source="cli", filename=os.path.basename(file)
            )
        except remittances.RemittanceError as exc:
            raise click.ClickException(str(exc)) from None
        for p in result.posted:
            click.echo(
                f"posted {p.claim.patient_control_number}: {p.claim.status_label}, paid "
                f"{format_cents(p.posting.paid_cents)}, client's share "
                f"{format_cents(p.posting.patient_responsibility_cents)}"
            )
        for line in result.unmatched:
            click.echo(
                f"unmatched {line.patient_control_number}: paid {format_cents(line.paid_cents)}"
                " (no claim has this number: match it on the payment's page)"
            )
        click.echo(
            f"{len(result.posted)} claims posted, {len(result.unmatched)} unmatched, "
            f"{len(result.invoices)} client invoices"
        )
