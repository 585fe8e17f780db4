"""Claims work on the task queue: every night, a claim for each completed insurance visit
whose chart note was signed after check-out (by hand: `flask --app wsgi claims
create-due`); sending an 837P batch to the clearinghouse, tried again with a growing delay
while the failure may pass by itself (services/claims/sending.py decides; it counts the
tries on the batch, so a restart of the consumer loses none)."""

import logging

from huey.exceptions import RetryTask

from portal.services import clearinghouse, clearinghouse_transfer
from portal.services.claims import build, sending
from portal.services.clearinghouse_sftp import TransportError
from portal.tasks import crontab, periodic, task

log = logging.getLogger(__name__)


@periodic(crontab(minute="40", hour="2"))
def create_due_claims():
    """Claims for the visits due one (each in its own transaction); returns how many."""
    return len(build.create_due().created)


@task()
def collect_now(practice_id):
    """Fetch the practice's new files from the clearinghouse at once (the periodic fetch
    does it every 15 minutes): acknowledgments and payments are applied as they arrive."""
    conn = clearinghouse.connection_for(practice_id)
    if conn is None or not conn.is_configured:
        return 0
    try:
        lines = clearinghouse_transfer.fetch(conn)
    except TransportError as exc:  # kept on the connection row, shown in Settings
        log.warning("clearinghouse collect failed, practice %s: %s", practice_id, exc.code)
        return 0
    return sum(1 for line in lines if line.outcome == "stored")


@task()
def send_batch(batch_id):
    outcome = sending.attempt(batch_id)
    if outcome.kind == "retry":
        raise RetryTask(delay=outcome.delay)
    return outcome.kind
