"""The claims pages, on the provider blueprint. One module per part:
views.py (claims-core: the list, aging, the claim page and its edit page), actions.py
(claims-core: the claim's actions), settings.py (claims-core: claim settings). Others add
batches, remittances, payments, reports, worklist (claims-money) and paper
(claims-paper)."""

from portal.provider.claims import actions, settings, views  # noqa: F401
