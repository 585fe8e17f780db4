"""Payers, fee schedules, policies, card images, verifications, referrals and authorizations.

Each write is one IMMEDIATE transaction with its audit row (field names, never values).
"""

from portal import audit, clock
from portal.db import database
from portal.models import (
    BenefitsVerification,
    CardImage,
    InsurancePolicy,
    Payer,
    PayerFee,
    PriorAuthorization,
    Referral,
)
from portal.services import uploads

PAYER_FIELDS = (
    "name",
    "kind",
    "payer_code",
    "address1",
    "address2",
    "city",
    "state",
    "postal_code",
    "phone",
    "referral_required",
    "authorization_required",
    "unit_rule",
    "allow_97124_97140",
    "affiliated",
    "filing_limit_days",
    "active",
    "notes",
)
POLICY_FIELDS = (
    "payer",
    "rank",
    "member_id",
    "group_number",
    "plan_name",
    "effective_date",
    "end_date",
    "relationship",
    "subscriber_first_name",
    "subscriber_last_name",
    "subscriber_dob",
    "subscriber_sex",
    "subscriber_address1",
    "subscriber_address2",
    "subscriber_city",
    "subscriber_state",
    "subscriber_postal_code",
    "claim_type",
    "employer_name",
    "claim_number",
    "injury_date",
    "accident_state",
    "active",
)
VERIFICATION_FIELDS = (
    "verified_on",
    "covered",
    "conditions",
    "deductible_cents",
    "deductible_met_cents",
    "copay_cents",
    "coinsurance_percent",
    "oop_max_cents",
    "oop_met_cents",
    "max_per_visit_cents",
    "max_per_term_cents",
    "visits_per_year",
    "visits_used",
    "plan_year_month",
    "body_regions",
    "massage_types",
    "referral_required",
    "authorization_required",
    "representative",
    "reference_number",
    "notes",
)
REFERRAL_FIELDS = (
    "policy",
    "referring_name",
    "referring_npi",
    "qualifier",
    "diagnosis_codes",
    "referral_date",
    "visits_allowed",
    "visits_used_before",
    "end_date",
    "notes",
    "active",
)
AUTHORIZATION_FIELDS = (
    "policy",
    "number",
    "visits_allowed",
    "visits_used_before",
    "start_date",
    "end_date",
    "body_regions",
    "notes",
    "active",
)


def _apply(obj, data, fields):
    changed = []
    for name in fields:
        if name not in data:
            continue
        value = data[name]
        if isinstance(value, str):
            value = value.strip()
        field = obj._meta.fields[name]
        if hasattr(field, "rel_model"):
            current = getattr(obj, name + "_id")
            new = value.id if value is not None else None
        else:
            current = getattr(obj, name)
            new = value
        if current != new:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def _save(obj, data, fields, action_prefix, creating, **audit_kw):
    with database.atomic("IMMEDIATE"):
        changed = _apply(obj, data, fields)
        if hasattr(obj, "updated_at") and not creating:
            obj.updated_at = clock.utcnow()
        if creating or changed:
            obj.save()
            action = action_prefix + (".create" if creating else ".update")
            audit.record(action, obj=obj, detail="" if creating else ",".join(changed), **audit_kw)
    return changed


# --- payers -----------------------------------------------------------------------------


def save_payer(payer, data):
    creating = payer.id is None
    return _save(payer, data, PAYER_FIELDS, "payer", creating)


def set_fee(payer, cpt_code, fee_cents):
    """Add or change one fee schedule row; fee_cents None removes it."""
    cpt_code = cpt_code.strip().upper()
    with database.atomic("IMMEDIATE"):
        row = PayerFee.get_or_none((PayerFee.payer == payer) & (PayerFee.cpt_code == cpt_code))
        if fee_cents is None:
            if row is not None:
                row.delete_instance()
                audit.record("payer.fee_delete", obj=payer, detail=cpt_code)
            return None
        if row is None:
            row = PayerFee.create(
                practice=payer.practice_id, payer=payer, cpt_code=cpt_code, fee_cents=fee_cents
            )
        else:
            row.fee_cents = fee_cents
            row.save()
        audit.record("payer.fee_set", obj=payer, detail=cpt_code)
        return row


# --- policies and cards -----------------------------------------------------------------


def save_policy(policy, data):
    creating = policy.id is None
    return _save(policy, data, POLICY_FIELDS, "policy", creating)


def add_card(client, policy, side, data, user):
    """Check and store a card image; an older image of the same side is marked replaced."""
    info = uploads.store(data)  # raises UploadError before anything is written to the DB
    try:
        with database.atomic("IMMEDIATE"):
            now = clock.utcnow()
            if policy is not None:
                (
                    CardImage.update(replaced_at=now)
                    .where(
                        (CardImage.policy == policy.id)
                        & (CardImage.side == side)
                        & CardImage.replaced_at.is_null()
                    )
                    .execute()
                )
            card = CardImage.create(
                practice=client.practice_id,
                client=client,
                policy=policy,
                side=side,
                uploaded_by=user,
                uploaded_at=now,
                **info,
            )
            audit.record("card.upload", obj=card, detail=f"{side} {info['content_type']}")
    except Exception:
        uploads.remove(info["stored_name"])
        raise
    return card


def attach_card(card, policy):
    with database.atomic("IMMEDIATE"):
        now = clock.utcnow()
        (
            CardImage.update(replaced_at=now)
            .where(
                (CardImage.policy == policy.id)
                & (CardImage.side == card.side)
                & CardImage.replaced_at.is_null()
                & (CardImage.id != card.id)
            )
            .execute()
        )
        card.policy = policy
        card.save()
        audit.record("card.attach", obj=card, detail=f"policy {policy.id}")


def current_cards(policy):
    """{'front': CardImage|None, 'back': CardImage|None} for a policy."""
    cards = {"front": None, "back": None}
    rows = (
        CardImage.select()
        .where((CardImage.policy == policy.id) & CardImage.replaced_at.is_null())
        .order_by(CardImage.uploaded_at)
    )
    for c in rows:
        cards[c.side] = c
    return cards


def unattached_cards(client):
    return list(
        CardImage.select()
        .where(
            (CardImage.client == client.id)
            & CardImage.policy.is_null()
            & CardImage.replaced_at.is_null()
        )
        .order_by(CardImage.uploaded_at.desc())
    )


# --- verifications, referrals, authorizations ---------------------------------------------


def add_verification(policy, data, user):
    v = BenefitsVerification(
        practice=policy.practice_id,
        client=policy.client_id,
        policy=policy,
        verified_by=user,
        verified_by_name=(user.name or user.email) if user else "",
    )
    _save(v, data, VERIFICATION_FIELDS, "verification", True)
    return v


def save_referral(referral, data):
    return _save(referral, data, REFERRAL_FIELDS, "referral", referral.id is None)


def save_authorization(auth, data):
    return _save(auth, data, AUTHORIZATION_FIELDS, "authorization", auth.id is None)


def client_policies(client, include_inactive=True):
    q = InsurancePolicy.select(InsurancePolicy, Payer).join(Payer)
    q = q.where(InsurancePolicy.client == client.id)
    if not include_inactive:
        q = q.where(InsurancePolicy.active == True)  # noqa: E712
    return list(q.order_by(InsurancePolicy.active.desc(), InsurancePolicy.rank, InsurancePolicy.id))


def client_referrals(client):
    return list(
        Referral.select()
        .where(Referral.client == client.id)
        .order_by(Referral.active.desc(), Referral.referral_date.desc())
    )


def client_authorizations(client):
    return list(
        PriorAuthorization.select()
        .where(PriorAuthorization.client == client.id)
        .order_by(PriorAuthorization.active.desc(), PriorAuthorization.start_date.desc())
    )
