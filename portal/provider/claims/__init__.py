"""The claims pages, on the provider blueprint, one module per part. claims-money:
batches.py (837P files: build, download, send), remittances.py (835 upload, unmatched
lines), payments.py (posting by hand, write-offs), worklist.py (the front desk's list),
reports.py (the owner's reports and their CSV)."""

from portal.provider.claims import batches, payments, remittances, reports, worklist  # noqa: F401
