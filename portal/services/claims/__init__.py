"""Claims use cases, one module per part of the work (see each module's docstring).

claims-money: batch837 (models -> 837P dataclasses), batches (837P files with their
control numbers), sending (upload on the task queue), acks (999 and 277CA), remittances
(835 import, unmatched lines), posting (payments, adjustments, the client's invoice,
write-offs), worklist (the front desk's list), reports, receivers (the clearinghouse seam).
"""
