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

Others: batches, remittances, posting, acks, reports (claims-money); cms1500,
cms1500_grid, cms1500_pdf, cms1500_batch (claims-paper: the paper forms). Nothing is
imported here, so any module may import another without a cycle.
"""


class ClaimError(Exception):
    """A refusal with a message for the person (no PHI in it); views answer 409 or 400."""
