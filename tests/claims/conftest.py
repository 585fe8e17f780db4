"""Fixtures shared by the claims tests."""

import pytest

from tests.claims import factories as cf


@pytest.fixture
def side(ctx, world):
    """Practice A with a payer (Blue Harbor Health, payer ID BHH01) and a policy of its
    first client with it: the 835 tests' payer."""
    a = world.a
    a.payer = cf.payer(a.practice, name="Blue Harbor Health", payer_code="BHH01")
    a.pol = cf.policy(a.practice, a.c1, a.payer)
    return a
