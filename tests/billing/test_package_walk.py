"""Packages as their users meet them (the walk of a provider on a tablet and a client on a
phone): defining one, selling, refunding the unused sessions, expiry, the ledger shown to
staff, and what a client sees."""

import re

from portal.models.billing import PackageDefinition
from tests.conftest import login


def _error_of(html, field_id):
    """The message shown by the field `field_id` (render_field's <p class="error">)."""
    found = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    return found.group(1) if found else None


def test_a_package_definition_refuses_a_free_or_negative_price_by_the_field(client, world):
    login(client, world.a.owner)
    r = client.post(
        "/provider/billing/packages", data={"name": "Free", "sessions": "3", "price": "0"}
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and _error_of(html, "price") == "Enter a price above $0."
    # every field's message at once, not the price's only after the others are mended
    r = client.post(
        "/provider/billing/packages",
        data={"name": "Bad", "sessions": "0", "price": "-5", "expiry_days": "-3"},
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert _error_of(html, "price") == "The amount cannot be negative."
    assert _error_of(html, "sessions") == "A package has 1 to 100 sessions."
    assert _error_of(html, "expiry_days") == "Between 1 and 3650 days, or empty for no expiry."
    assert PackageDefinition.select().count() == 0
