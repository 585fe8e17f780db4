"""Claims work on the task queue: sending an 837P batch to the clearinghouse, tried again
with a growing delay while the failure may pass by itself (services/claims/sending.py
decides; it counts the tries on the batch, so a restart of the consumer loses none)."""

from huey.exceptions import RetryTask

from portal.services.claims import sending
from portal.tasks import task


@task()
def send_batch(batch_id):
    outcome = sending.attempt(batch_id)
    if outcome.kind == "retry":
        raise RetryTask(delay=outcome.delay)
    return outcome.kind
