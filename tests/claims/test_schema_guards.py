"""What the database itself keeps true for claims (migration 0014), tried with raw SQL."""

import pytest
from peewee import IntegrityError

from portal.db import database, q
from portal.models import Claim, ClaimEvent
from tests.claims import factories


@pytest.fixture
def claim(ctx, world):
    return factories.claim(world.a.practice, world.a.c1, world.a.provider)


def test_a_claims_history_is_never_changed_or_deleted(claim):
    ev = ClaimEvent.create(practice=claim.practice_id, claim=claim, action="created")
    for sql in (
        "UPDATE claim_event SET reason = 'rewritten' WHERE id = ?",
        "DELETE FROM claim_event WHERE id = ?",
    ):
        with pytest.raises(IntegrityError, match="history is never"), database.atomic():
            database.execute_sql(q(sql), (ev.id,))


def test_one_claim_per_visit_rank_and_part(claim):
    second = Claim(**{k: v for k, v in claim.__data__.items() if k != "id"})
    second.patient_control_number = "OTHERPCN1"
    with pytest.raises(IntegrityError), database.atomic():
        second.save(force_insert=True)
    second.part = 2  # a second part of a visit split over six lines is allowed
    second.save(force_insert=True)


def test_posted_money_is_append_only(claim):
    database.execute_sql(
        q(
            "INSERT INTO claim_posting (practice_id, claim_id, paid_cents, created_at) "
            "VALUES (?, ?, 500, '2026-11-30 10:00:00')"
        ),
        (claim.practice_id, claim.id),
    )
    with pytest.raises(IntegrityError, match="never changed"), database.atomic():
        database.execute_sql("UPDATE claim_posting SET paid_cents = 1")
    with pytest.raises(IntegrityError, match="never deleted"), database.atomic():
        database.execute_sql("DELETE FROM claim_posting")


def test_a_remittance_trace_number_is_posted_once(claim):
    sql = q(
        "INSERT INTO remittance (practice_id, payer_identifier, trace_number, sha256, "
        "created_at) VALUES (?, 'ACME', '12345', ?, '2026-11-30 10:00:00')"
    )
    database.execute_sql(sql, (claim.practice_id, "a" * 64))
    with pytest.raises(IntegrityError), database.atomic():
        database.execute_sql(sql, (claim.practice_id, "b" * 64))
    # The same number for another amount is another payment (migration 0026).
    other = q(
        "INSERT INTO remittance (practice_id, payer_identifier, trace_number, sha256, "
        "payment_cents, created_at) VALUES (?, 'ACME', '12345', ?, 100, '2026-11-30 10:00:00')"
    )
    database.execute_sql(other, (claim.practice_id, "c" * 64))


def test_a_write_off_is_append_only_and_never_zero(claim):
    """Migration 0021 rebuilt claim_writeoff to take a recovery (a negative row): the
    append-only guards came back with it, and zero is still refused."""
    sql = q(
        "INSERT INTO claim_writeoff (practice_id, claim_id, amount_cents, reason, created_at) "
        "VALUES (?, ?, ?, 'denied', '2026-11-30 10:00:00')"
    )
    database.execute_sql(sql, (claim.practice_id, claim.id, 500))
    database.execute_sql(sql, (claim.practice_id, claim.id, -500))  # recovered
    with pytest.raises(IntegrityError), database.atomic():
        database.execute_sql(sql, (claim.practice_id, claim.id, 0))
    with pytest.raises(IntegrityError, match="never changed"), database.atomic():
        database.execute_sql("UPDATE claim_writeoff SET amount_cents = 1")
    with pytest.raises(IntegrityError, match="never deleted"), database.atomic():
        database.execute_sql("DELETE FROM claim_writeoff")
