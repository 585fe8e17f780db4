"""Device cookies (OWASP's "device cookies" against lockout abuse).

A browser that logged in to an account gets a signed cookie naming that account (its user
id, never the e-mail) and a random nonce. When it comes back, the failure counts of its
address and of the account, which anyone behind the same router, or anyone guessing at the
account, can drive up, do not lock it out: its own failures are counted per nonce instead
(`portal.auth.lockout_minutes`, the `device` column of login_attempt). The cookie is sent
only to /login (HttpOnly, SameSite=Strict, Secure outside development) and lives 180 days.
"""

import hashlib
import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

DEVICE_COOKIE = "portal_device"
DEVICE_DAYS = 180
DEVICE_ACCOUNTS = 5  # accounts remembered per browser (a front-desk computer is shared)


def _device_serializer():
    keys = [*(current_app.config.get("SECRET_KEY_FALLBACKS") or ()), current_app.secret_key]
    return URLSafeTimedSerializer(keys, salt="portal-device-cookie")


def _device_entries():
    """[[user id, nonce], ...] from this request's device cookie (none if unsigned or old)."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > 2048:
        return []
    try:
        entries = _device_serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return []
    if not isinstance(entries, list):
        return []
    return [
        e
        for e in entries[:DEVICE_ACCOUNTS]
        if isinstance(e, list) and len(e) == 2 and type(e[0]) is int and isinstance(e[1], str)
    ]


def trusted_device(user):
    """This browser's device key for `user` (a hash of the cookie's nonce), or ""."""
    if user is None:
        return ""
    for user_id, nonce in _device_entries():
        if user_id == user.id:
            return hashlib.sha256(nonce.encode()).hexdigest()
    return ""


def remember_device(response, user):
    """Give (or refresh) this browser's device cookie for `user` after a full login."""
    entries = _device_entries()
    mine = next((e for e in entries if e[0] == user.id), None) or [user.id, secrets.token_hex(16)]
    entries = [mine] + [e for e in entries if e[0] != user.id]
    response.set_cookie(
        DEVICE_COOKIE,
        _device_serializer().dumps(entries[:DEVICE_ACCOUNTS]),
        max_age=DEVICE_DAYS * 86400,
        path="/login",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Strict",
    )
    return response
