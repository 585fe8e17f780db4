"""Passwords, server-side sessions and login throttling.

A login makes a `user_session` row (its token's hash in the cookie session); every request
finds the row with its user and practice (`load_user`, flask-login's user loader) and checks
the idle and absolute limits. Failed logins are counted per account and per address in a
sliding window (`lockout_minutes`); a browser with a device cookie only by its own failures.
Views: portal/auth.py; one-time links: portal/tokens.py.
"""

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, g, request, session
from flask_login import login_user

from portal import audit, clock, speedups
from portal.db import data_version, database, models_from_row
from portal.models import LoginAttempt, Practice, User, UserSession

# --- passwords ------------------------------------------------------------------------------

_DUMMY_HASH = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hasher() -> PasswordHasher:
    return current_app.extensions["argon2"]


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(user, password: str) -> bool:
    global _DUMMY_HASH
    if user is None or not user.password_hash:
        # Spend the same time when the account does not exist.
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password(secrets.token_hex(16))
        try:
            hasher().verify(_DUMMY_HASH, password or "x")
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        hasher().verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if hasher().check_needs_rehash(user.password_hash):
        User.update(password_hash=hash_password(password)).where(User.id == user.id).execute()
    return True


def account_for(email):
    """The user an address logs in to: the one with a password (an address has at most one,
    migration 0030), else its oldest user (an invitation not accepted yet), or None. Other
    practices may hold invitations to the same address that were never accepted."""
    return (
        User.select()
        .where(User.email == (email or "").strip().lower())
        .order_by(User.password_hash.is_null(), User.id)
        .first()
    )


def address_taken(user):
    """Whether another user with `user`'s address has a password: `user`, invited before
    or meanwhile, can then not become an account of its own (one address, one account)."""
    return (
        User.select()
        .where(
            (User.email == user.email) & (User.id != user.id) & User.password_hash.is_null(False)
        )
        .exists()
    )


# --- sessions -------------------------------------------------------------------------------


def _limits(user):
    cfg = current_app.config
    idle = cfg["STAFF_IDLE_MINUTES"] if user.is_staff else cfg["CLIENT_IDLE_MINUTES"]
    return dt.timedelta(minutes=idle), dt.timedelta(hours=cfg["SESSION_ABSOLUTE_HOURS"])


_SESSION_MODELS = (UserSession, User, Practice)


def find_session(token_hash):
    """The session row with its user and the user's practice, in one query (every page
    reads current_user.practice). Its SQL is built once per process with the speed-ups on."""
    if not speedups.enabled():
        return (
            UserSession.select(*_SESSION_MODELS)
            .join(User)
            .join(Practice)
            .where(UserSession.token_hash == token_hash)
            .first()
        )
    sql, params = speedups.built_once(
        "find_session",
        lambda token_hash: (
            UserSession.select(*_SESSION_MODELS)
            .join(User)
            .join(Practice)
            .where(UserSession.token_hash == token_hash)
            .limit(1)
        ),
        {"token_hash": token_hash},
    )
    row = database.execute_sql(sql, params).fetchone()
    if row is None:
        return None
    found, user, practice = models_from_row(row, *_SESSION_MODELS)
    user.practice = practice
    found.user = user
    return found


_LAST_SEEN_EVERY = speedups.SESSION_REUSE_SECONDS  # seconds between last_seen_at writes


# Requests a page makes by itself (the messages' live poll and what it reloads) carry this
# header: they are not the user's activity and must not keep a session from its idle limit.
BACKGROUND_HEADER = "X-Portal-Background"


def _background():
    return bool(request.headers.get(BACKGROUND_HEADER))


def load_user(token):
    if not token:
        return None
    now = clock.utcnow()
    # Read before any view runs: the render cache keys on it, and the messages' poller
    # tells a page which version its data is from (portal/services/messaging/live.py).
    # Read before the session too: a session read after it can only be newer.
    version = g.data_version = data_version()
    if speedups.enabled():
        row = speedups.remembered_session(hash_token(token), now, version, find_session)
    else:
        row = find_session(hash_token(token))
    if row is None:
        return None
    user = row.user
    if row.revoked_at is not None or not user.active:
        # Ended elsewhere (disabled, password changed, two-step reset): the login page
        # says the session ended rather than nothing at all.
        g.session_expired = True
        return None
    idle, absolute = _limits(user)
    if now - row.last_seen_at > idle or now - row.created_at > absolute:
        reason = "idle" if now - row.last_seen_at > idle else "absolute"
        UserSession.update(revoked_at=now, revoked_reason=reason).where(
            UserSession.id == row.id
        ).execute()
        audit.record("session.expired", user=user, detail=reason)
        g.session_expired = True
        return None
    if (now - row.last_seen_at).total_seconds() >= _LAST_SEEN_EVERY and not _background():
        UserSession.update(last_seen_at=now).where(UserSession.id == row.id).execute()
        row.last_seen_at = now
    user._session_token = token
    user.current_session = row
    g.writer_practice_id = user.practice_id  # its writers queue per practice on PostgreSQL
    return user


def start_session(user):
    """A fresh server-side session and a fresh cookie session (rotation on login)."""
    session.clear()
    token = secrets.token_urlsafe(32)
    now = clock.utcnow()
    UserSession.create(
        user=user,
        token_hash=hash_token(token),
        created_at=now,
        last_seen_at=now,
        ip=audit.client_ip(),
        user_agent=(request.user_agent.string or "")[:255],
    )
    user._session_token = token
    login_user(user)
    session.permanent = False
    User.update(last_login_at=now).where(User.id == user.id).execute()
    audit.record("login", user=user)


def revoke_sessions(user, reason, keep_token=None):
    q = UserSession.update(revoked_at=clock.utcnow(), revoked_reason=reason).where(
        (UserSession.user == user) & UserSession.revoked_at.is_null()
    )
    if keep_token:
        q = q.where(UserSession.token_hash != hash_token(keep_token))
    return q.execute()


# --- throttling -----------------------------------------------------------------------------


def account_key(email: str) -> str:
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()


def lockout_minutes(email: str, ip: str, device: str = "") -> int:
    """Minutes until another try is allowed, or 0. Failures count in a sliding window.

    A browser with a device cookie for this account (`device`, see trusted_device) is
    limited by its own failures only; any other try by the account's and the address's.
    """
    cfg = current_app.config
    window = dt.timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
    now = clock.utcnow()
    since = now - window
    worst = 0
    if device:
        limits = ((LoginAttempt.device, device, cfg["LOGIN_MAX_FAILURES_ACCOUNT"]),)
    else:
        limits = (
            (LoginAttempt.account_key, account_key(email), cfg["LOGIN_MAX_FAILURES_ACCOUNT"]),
            (LoginAttempt.ip, ip, cfg["LOGIN_MAX_FAILURES_ADDRESS"]),
        )
    for field, value, limit in limits:
        failures = (
            LoginAttempt.select(LoginAttempt.at)
            .where((field == value) & (LoginAttempt.at > since) & ~LoginAttempt.success)
            .order_by(LoginAttempt.at.desc())
            .limit(limit)
        )
        times = [a.at for a in failures]
        if len(times) >= limit:
            # Free again when the oldest of the last `limit` failures leaves the window.
            free_at = times[-1] + window
            minutes = max(1, int((free_at - now).total_seconds() + 59) // 60)
            worst = max(worst, minutes)
    return worst


def throttle_message(minutes):
    return f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


PRUNE_EVERY = 100  # rows; old throttling and session rows are pruned now and then


def note_attempt(email, success, device=""):
    row = LoginAttempt.create(
        account_key=account_key(email),
        ip=audit.client_ip(),
        at=clock.utcnow(),
        success=success,
        device=device,
    )
    if row.id % PRUNE_EVERY == 0:
        prune()


def prune(now=None):
    """Forget login attempts older than a day and sessions that ended over 30 days ago.
    (The audit log keeps the history of logins; these tables only serve throttling and
    revocation.)"""
    now = now or clock.utcnow()
    LoginAttempt.delete().where(LoginAttempt.at < now - dt.timedelta(days=1)).execute()
    absolute = dt.timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    UserSession.delete().where(
        (UserSession.revoked_at < now - dt.timedelta(days=30))
        | (UserSession.created_at < now - absolute - dt.timedelta(days=30))
    ).execute()
