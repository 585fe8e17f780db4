"""Demo: one record per person. Demos loaded before issue 11 held two "Natarajan, Priya"
and a "Bell, Marc" beside a "Bell, Marcus" (the scheduling loader added its own copies of
clinical_a's clients): those copies are merged into the first records, as a practice
would merge them (their visits move; the merge is recorded and audited). Idempotent."""

from portal.models import Client
from portal.services import client_merge

COPIES = [
    # (the scheduling loader's old e-mail, the record to keep)
    ("priya.natarajan@demo.example", "priya@demo.example"),
    ("marcus.bell@demo.example", "marcus@demo.example"),
]


def load(ctx):
    practice = ctx["practice"]
    for copy_email, keep_email in COPIES:
        copy = Client.get_or_none((Client.practice == practice) & (Client.email == copy_email))
        keep = Client.get_or_none((Client.practice == practice) & (Client.email == keep_email))
        if copy is None or keep is None or client_merge.merged_into(copy.id) is not None:
            continue
        client_merge.merge(keep, copy, user=ctx.get("owner"))
