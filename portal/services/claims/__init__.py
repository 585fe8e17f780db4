"""Insurance claims: the use cases. Each write is one transaction (IMMEDIATE when it is
the outermost) with its ClaimEvent (history) and audit rows.

Modules (claims-core):
- build.py    claims from visits: create_for_visit, create_secondary, create_due
- life.py     the claim's life: change_status, recheck (mark ready), edits, void, close,
              appeal, correct the check-out minutes
- history.py  event(), validate(), store_problems(), add_problem() (inside a transaction)
- data.py     the models as rules.claim_data.ClaimData: claim_data(claim), settings_for
- queries.py  scoped reads for the list, the aging table and the claim page
- desk.py     check-in warnings, the client's share at check-out, the signal receivers
- cli.py      `flask --app wsgi claims create-due | list`

Modules (claims-money):
- batch837.py    the models as the 837P writer's dataclasses (bulk reads)
- batches.py     837P files: control numbers, the file stored, claims submitted
- sending.py     upload on the task queue, retries with backoff
- acks.py        999 and 277CA applied to files and claims
- remittances.py 835 import, unmatched lines matched or set aside
- posting.py     payments, adjustments, the client's invoice, write-offs
- worklist.py    the front desk's work list
- filing.py      claims running out of time to file (the payer's filing limit)
- reports.py     the owner's reports and their CSV tables
- receivers.py   the clearinghouse seam (999, 277CA, 835 received)
- money_cli.py   `flask --app wsgi claims export | import-835`

Modules (claims-paper):
- cms1500.py, cms1500_grid.py, cms1500_pdf.py, cms1500_batch.py  the paper forms

Nothing is imported here, so any module may import another without a cycle.
"""


class ClaimError(Exception):
    """A refusal with a message for the person (no PHI in it); views answer 409 or 400."""
