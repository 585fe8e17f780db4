"""Provider claim pages, one module per concern; each registers its routes on `bp`.
(The lead merges the import lists of the claims branches.)"""

from portal.provider.claims import paper  # noqa: F401
