"""Merging a duplicate client record into the one to keep, in one transaction, audited.

Nothing is deleted or rewritten that the portal keeps as issued:
- what describes the person from now on moves to the kept record: appointments (and their
  minutes), insurance policies, card images, verifications, referrals, authorizations,
  packages, portal logins, the saved cards with their Stripe customer when the kept
  record has none, and the account credit (a pair of ledger rows, services/account_credit);
- what was issued or signed stays on the duplicate exactly as it is (signed chart notes,
  invoices, payments, documents, intake submissions, the credit ledger, claims, messages,
  the audit trail): the duplicate is archived, `client_merge` records where it went, and
  the kept record's pages read both (`family_ids`).
"""

from peewee import Case

from portal import audit, clock
from portal.db import database
from portal.models import (
    Appointment,
    AppointmentMinutes,
    BenefitsVerification,
    CardImage,
    Client,
    ClientMerge,
    InsurancePolicy,
    PackagePurchase,
    PriorAuthorization,
    Referral,
    SavedPaymentMethod,
    StripeCustomer,
    User,
)
from portal.rules.money import format_cents
from portal.services import account_credit, reads

MOVES = [
    (Appointment, "appointments"),
    (AppointmentMinutes, "visit minutes"),
    (InsurancePolicy, "insurance policies"),
    (CardImage, "card images"),
    (BenefitsVerification, "verifications"),
    (Referral, "referrals"),
    (PriorAuthorization, "authorizations"),
    (PackagePurchase, "packages"),
    (User, "portal logins"),
]
STAYS = (
    "chart notes, invoices, payments, documents, intake forms, package credit history, "
    "claims, messages and the audit trail stay on the duplicate record, unchanged, and show "
    "on the kept record"
)


class MergeError(ValueError):
    """A merge refused, with a message for the person."""


def merged_into(client_id):
    """The ClientMerge that took this record into another, or None."""
    return ClientMerge.get_or_none(ClientMerge.from_client == client_id)


def family_ids(client_id):
    """The client's id and the ids of every record merged into it (directly or through a
    chain of merges), for pages that show everything the person has."""
    ids, todo = [client_id], [client_id]
    while todo:
        rows = ClientMerge.select(ClientMerge.from_client).where(ClientMerge.into_client.in_(todo))
        todo = [r.from_client_id for r in rows if r.from_client_id not in ids]
        ids.extend(todo)
    return ids


def _banner_query(client_id):
    # Either side of a merge this record took part in, with the other record's names.
    other = Case(
        None,
        [(ClientMerge.from_client == client_id, ClientMerge.into_client)],
        ClientMerge.from_client,
    )
    return (
        ClientMerge.select(
            ClientMerge.from_client,
            ClientMerge.merged_at,
            Client.id,
            Client.first_name,
            Client.last_name,
            Client.preferred_name,
            Client.date_of_birth,
        )
        .join(Client, on=(Client.id == other))
        .where((ClientMerge.from_client == client_id) | (ClientMerge.into_client == client_id))
        .order_by(ClientMerge.id.desc())
    )


def banner(client_id):
    """(into, merged_from) for a client's pages, in one statement: into is (merge, the
    record this one was merged into) or None; merged_from is [(merge, record)] of the
    records merged straight into this one, newest first. Each merge has its date, each
    record its id, names and date of birth."""
    into, merged_from = None, []
    for from_id, merged_at, *person in reads.rows(
        "client_merge.banner", _banner_query, {"client_id": client_id}
    ):
        merge = ClientMerge(from_client=from_id, merged_at=merged_at)
        other = Client(**dict(zip(_BANNER_NAMES, person, strict=True)))
        if from_id == client_id:
            into = (merge, other)
        else:
            merged_from.append((merge, other))
    return into, merged_from


_BANNER_NAMES = ("id", "first_name", "last_name", "preferred_name", "date_of_birth")


def preview(keep, drop):
    """{what: count} that would move from `drop` to `keep`."""
    counts = {}
    for model, label in MOVES:
        n = model.select().where(model.client == drop.id).count()
        if n:
            counts[label] = n
    if _moves_cards(keep, drop):
        counts["saved cards"] = (
            SavedPaymentMethod.select().where(SavedPaymentMethod.client == drop.id).count()
        )
    return counts


def _moves_cards(keep, drop):
    has = StripeCustomer.select().where(StripeCustomer.client == keep.id).exists()
    return not has and StripeCustomer.select().where(StripeCustomer.client == drop.id).exists()


def check(keep, drop):
    if keep.id == drop.id:
        raise MergeError("Choose another client record: a record cannot be merged into itself.")
    if keep.practice_id != drop.practice_id:
        raise MergeError("Both records must belong to this practice.")
    if merged_into(drop.id) is not None:
        raise MergeError("That record was already merged into another one.")
    if merged_into(keep.id) is not None:
        raise MergeError("This record was merged into another one: merge into that one.")


def merge(keep, drop, user=None):
    """Merge `drop` into `keep`; returns the ClientMerge. One IMMEDIATE transaction with an
    audit row on each record (counts only, no PHI)."""
    with database.atomic("IMMEDIATE"):
        keep, drop = Client.get_by_id(keep.id), Client.get_by_id(drop.id)
        check(keep, drop)
        moved = {}
        cards = _moves_cards(keep, drop)
        for model, label in MOVES:
            n = model.update(client=keep.id).where(model.client == drop.id).execute()
            if n:
                moved[label] = n
        if cards:
            StripeCustomer.update(client=keep.id).where(StripeCustomer.client == drop.id).execute()
            n = (
                SavedPaymentMethod.update(client=keep.id)
                .where(SavedPaymentMethod.client == drop.id)
                .execute()
            )
            if n:
                moved["saved cards"] = n
        credit = account_credit.move_on_merge(drop, keep, user=user)
        if credit:
            moved["account credit"] = format_cents(credit)
        now = clock.utcnow()
        Client.update(active=False, archived_at=now, updated_at=now).where(
            Client.id == drop.id
        ).execute()
        summary = ", ".join(f"{label}: {n}" for label, n in moved.items()) or "nothing to move"
        row = ClientMerge.create(
            practice=keep.practice_id,
            from_client=drop.id,
            into_client=keep.id,
            merged_by=getattr(user, "id", None),
            merged_at=now,
            moved=summary,
        )
        audit.record("client.merge", obj=keep, user=user, detail=f"from #{drop.id}; {summary}")
        audit.record("client.merged_into", obj=drop, user=user, detail=f"into #{keep.id}")
    return row
