"""The claims pages, on the provider blueprint. One module per part:
views.py (claims-core: the list, aging, the claim page and its edit page), actions.py
(claims-core: the claim's actions), settings.py (claims-core: claim settings). Others add
batches, remittances, payments, reports, worklist (claims-money) and paper
(claims-paper: the CMS-1500 forms)."""

from portal.provider.claims import actions, paper, settings, views  # noqa: F401
