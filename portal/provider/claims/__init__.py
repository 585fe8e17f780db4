"""The claims pages, on the provider blueprint. One module per part:
views.py (claims-core: the list, aging, the claim page and its edit page), actions.py
(claims-core: the claim's actions), settings.py (claims-core: claim settings);
claims-money: batches.py (837P files: build, download, send), remittances.py (835 upload,
unmatched lines), payments.py (posting by hand, write-offs), worklist.py (the front desk's
list), reports.py (the owner's reports and their CSV); claims-paper: paper.py (the
CMS-1500 forms), mailing.py (paper claims marked as mailed)."""

from portal.provider.claims import (  # noqa: F401
    actions,
    batches,
    mailing,
    paper,
    payments,
    remittances,
    reports,
    settings,
    views,
    worklist,
)
