"""Claims work the consumer runs on a schedule: every night, a claim for each completed
insurance visit whose chart note was signed after check-out (by hand:
`flask --app wsgi claims create-due`)."""

from portal.services.claims import build
from portal.tasks import crontab, periodic


@periodic(crontab(minute="40", hour="2"))
def create_due_claims():
    """Claims for the visits due one (each in its own transaction); returns how many."""
    return len(build.create_due().created)
