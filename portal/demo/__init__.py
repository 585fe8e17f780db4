"""The demo practice. Each area adds a loader module; `load()` runs them in order.

Every loader must be idempotent: running `make demo` twice keeps the data and adds no rows.
"""

import importlib

from portal.db import database

# Area loaders, in dependency order. Each module defines load(practice, ctx) -> None.
AREAS = [
    "foundation",
    "clinical_a",
    "scheduling",
    "charting",
    "billing",
    "messaging",
    "desk",
    "claims",
    "claims_money",
    "takings",
]

DEMO_PASSWORDS = {
    "owner@demo.example": "demo-owner-pass-2026",
    "therapist@demo.example": "demo-therapist-pass-2026",
    "frontdesk@demo.example": "demo-frontdesk-pass-2026",
    "client@demo.example": "demo-client-pass-2026",
}


def load():
    ctx = {}
    for area in AREAS:
        module = importlib.import_module(f"portal.demo.{area}")
        with database.atomic("IMMEDIATE"):
            module.load(ctx)
    return ctx
