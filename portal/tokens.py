"""One-time links: staff and client invitations and password resets.

A link carries a random token; only its hash is stored (`user_token`), with its purpose and
expiry, and it works once. Resets are limited per account and hour. The pages that take the
links (set a password, forgot a password) are in portal/auth.py.
"""

import datetime as dt
import secrets
from typing import NamedTuple

from flask import current_app, url_for

from portal import audit, clock, mail
from portal.models import OutboxMessage, User, UserToken
from portal.sessions import hash_token


def issue_token(user, purpose):
    hours = current_app.config["INVITE_VALID_HOURS" if purpose == "invite" else "RESET_VALID_HOURS"]
    token = secrets.token_urlsafe(32)
    UserToken.create(
        user=user,
        purpose=purpose,
        token_hash=hash_token(token),
        expires_at=clock.utcnow() + dt.timedelta(hours=hours),
    )
    return token


def link_for(token):
    base = current_app.config["BASE_URL"].rstrip("/")
    return base + url_for("auth.set_password", token=token)


def send_invite(user, practice):
    token = issue_token(user, "invite")
    body = (
        f"Hello,\n\n{practice.name} has invited you to its practice portal.\n"
        f"Choose your password here (the link works once, for "
        f"{current_app.config['INVITE_VALID_HOURS']} hours):\n\n{link_for(token)}\n\n"
        "If you did not expect this, ignore this message.\n"
    )
    mail.queue(
        user.email, f"Your invitation to {practice.name}", body, practice=practice, kind="invite"
    )
    return token


class Invitation(NamedTuple):
    """A pending invitation's state: until when its link works (None: no link issued),
    whether it was spent without a password chosen (the user was disabled meanwhile), and
    its e-mail's: "sent", "failed" or "waiting" (not sent yet), or None (no e-mail)."""

    expires_at: dt.datetime | None
    expired: bool
    mail: str | None
    spent: bool = False


def invitations(users):
    """{user id: Invitation} of the latest invitation of each of `users` (one practice's)
    who has not chosen a password yet; two queries."""
    waiting = {u.id: u for u in users if not u.password_hash}
    if not waiting:
        return {}
    expiry, spent = {}, {}
    tokens = (
        UserToken.select(UserToken.user, UserToken.expires_at, UserToken.used_at)
        .where(UserToken.user.in_(list(waiting)) & (UserToken.purpose == "invite"))
        .order_by(UserToken.id)
    )
    for row in tokens:
        expiry[row.user_id] = row.expires_at  # the latest wins
        spent[row.user_id] = row.used_at is not None
    by_email = {u.email: u.id for u in waiting.values()}
    practice_id = next(iter(waiting.values())).practice_id
    mail_state = {}
    sent = (
        OutboxMessage.select(OutboxMessage.to_addr, OutboxMessage.sent_at, OutboxMessage.error)
        .where(
            (OutboxMessage.practice == practice_id)
            & (OutboxMessage.kind == "invite")
            & OutboxMessage.to_addr.in_(list(by_email))
        )
        .order_by(OutboxMessage.id)
    )
    for m in sent:
        state = "sent" if m.sent_at else ("failed" if m.error else "waiting")
        mail_state[by_email[m.to_addr]] = state
    now = clock.utcnow()
    return {
        uid: Invitation(
            expiry.get(uid),
            bool(expiry.get(uid) and expiry[uid] <= now),
            mail_state.get(uid),
            spent.get(uid, False),
        )
        for uid in waiting
    }


class InviteError(ValueError):
    """A client cannot be invited (no e-mail, or the address belongs to someone else)."""


def invite_client(client):
    """Give a client portal access: their user (created if needed) gets a one-time link.

    Call inside `database.atomic("IMMEDIATE")`. Returns the user; raises InviteError.
    """
    email = (client.email or "").strip().lower()
    if not email:
        raise InviteError("Add the client's e-mail address first.")
    # Only this practice's users count: an address with an account in another practice is
    # invited as any new one (its link then tells the address's owner, portal/auth.py).
    user = User.get_or_none((User.practice == client.practice_id) & (User.email == email))
    if user is None:
        user = User.create(
            practice=client.practice_id,
            email=email,
            name=client.display_name,
            role="client",
            client=client.id,
        )
    elif user.client_id != client.id:
        raise InviteError("Another account already uses this e-mail address.")
    elif user.password_hash:
        raise InviteError("This client already has portal access.")
    send_invite(user, client.practice)
    audit.record("user.invite", obj=user, client=client, detail="client portal")
    return user


def send_reset(user):
    token = issue_token(user, "reset")
    practice = user.practice
    body = (
        f"Hello,\n\nSomeone asked to reset your password for {practice.name}'s portal.\n"
        f"Choose a new password here (the link works once, for "
        f"{current_app.config['RESET_VALID_HOURS']} hours):\n\n{link_for(token)}\n\n"
        "If it was not you, ignore this message; your password stays as it is.\n"
    )
    mail.queue(
        user.email, f"Reset your {practice.name} password", body, practice=practice, kind="reset"
    )
    return token


def valid_token(token):
    row = (
        UserToken.select(UserToken, User)
        .join(User)
        .where(UserToken.token_hash == hash_token(token or ""))
        .first()
    )
    if row is None or row.used_at is not None or row.expires_at < clock.utcnow():
        return None
    if not row.user.active:
        return None  # a disabled user chooses no password (the owner enables them first)
    return row


RESETS_PER_HOUR = 3


def recent_resets(user):
    since = clock.utcnow() - dt.timedelta(hours=1)
    return (
        UserToken.select()
        .where(
            (UserToken.user == user)
            & (UserToken.purpose == "reset")
            & (UserToken.created_at > since)
        )
        .count()
    )
