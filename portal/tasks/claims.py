"""Claims work on the task queue: every night, a claim for each completed insurance visit
whose chart note was signed after check-out (by hand: `flask --app wsgi claims
create-due`); sending an 837P batch to the clearinghouse, tried again with a growing delay
while the failure may pass by itself (services/claims/sending.py decides; it counts the
tries on the batch, so a restart of the consumer loses none)."""

from huey.exceptions import RetryTask

from portal.services.claims import build, sending
from portal.tasks import crontab, periodic, task


@periodic(crontab(minute="40", hour="2"))
def create_due_claims():
    """Claims for the visits due one (each in its own transaction); returns how many."""
    return len(build.create_due().created)


@task()
def send_batch(batch_id):
    outcome = sending.attempt(batch_id)
    if outcome.kind == "retry":
        raise RetryTask(delay=outcome.delay)
    return outcome.kind
