"""Two-step recovery codes: ten one-time codes that stand in for the authenticator app's
code when the phone is lost, shown once when two-step login is set up or when the user asks
for new ones (the old ones then stop working).

A code is 16 symbols of Crockford's base32 in lower case (no i, l, o or u to misread),
shown as four groups, xxxx-xxxx-xxxx-xxxx: 80 random bits from `secrets`. Kept: a random
per-code salt and sha256(salt + code). A slow hash (argon2, as for passwords) guards what
people choose, which is guessable; 80 random bits are not: someone holding a copy of the
database would need about 2^79 sha256 tries per code, out of reach, so a slow hash adds
nothing but cost. Checking a typed code is then ten sha256 (microseconds), not ten argon2
runs on every try at the login page of a 2-core server. The salt keeps two users' equal
codes (never expected) and any precomputed table apart. Tries are limited by the login's
throttling (portal/auth.py), as for the app's codes.
"""

import hashlib
import secrets

from portal import audit, clock, mail
from portal.db import database
from portal.models import RecoveryCode

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32, lower case
GROUPS, GROUP = 4, 4
COUNT = 10
FEW = 2  # the account page warns at this many left, or fewer
# What a reader may type for a symbol the alphabet leaves out (Crockford's decoding).
_READ_AS = str.maketrans({"o": "0", "i": "1", "l": "1"})


def _digest(salt, code):
    return hashlib.sha256((salt + code).encode()).hexdigest()


def _shown(code):
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalize(text):
    """The code typed, as stored: lower case, spaces and dashes gone, o read as 0 and i or
    l as 1; '' when it cannot be a code (so nothing is looked up)."""
    code = "".join((text or "").lower().split()).replace("-", "").translate(_READ_AS)
    if len(code) != GROUPS * GROUP or any(ch not in ALPHABET for ch in code):
        return ""
    return code


def replace(user, detail):
    """Ten new codes for `user`; the earlier ones stop working. Runs inside the caller's
    transaction, audited. Returns the codes as shown (xxxx-xxxx-xxxx-xxxx), for this one
    page: nothing else ever shows them."""
    RecoveryCode.delete().where(RecoveryCode.user == user.id).execute()
    now = clock.utcnow()
    codes = []
    for _ in range(COUNT):
        code = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP))
        salt = secrets.token_hex(16)
        RecoveryCode.create(user=user.id, salt=salt, code_hash=_digest(salt, code), created_at=now)
        codes.append(_shown(code))
    audit.record("totp.recovery_codes", obj=user, user=user, detail=detail)
    return codes


def left(user):
    """How many of `user`'s codes still work."""
    return (
        RecoveryCode.select()
        .where((RecoveryCode.user == user.id) & RecoveryCode.used_at.is_null())
        .count()
    )


def clear(user):
    """Inside the caller's transaction: `user`'s codes, used or not, are gone (two-step
    login reset: they set it up again and get new ones)."""
    return RecoveryCode.delete().where(RecoveryCode.user == user.id).execute()


def _match(user, code):
    """The id of `user`'s unused code equal to `code`, or None. Each is compared in
    constant time; only this user's codes are read."""
    rows = RecoveryCode.select(RecoveryCode.id, RecoveryCode.salt, RecoveryCode.code_hash).where(
        (RecoveryCode.user == user.id) & RecoveryCode.used_at.is_null()
    )
    found = None
    for row in rows:
        if secrets.compare_digest(_digest(row.salt, code), row.code_hash):
            found = row.id
    return found


def use(user, text):
    """Spend the code `text` of `user`: the number of codes left, or None when it is not
    one of theirs still unused. A code works once, even for two tries at the same moment.
    The use is audited and e-mailed to the user (no PHI: that a code was used, and how many
    are left), after the transaction commits."""
    code = normalize(text)
    if not code:
        return None
    with database.atomic("IMMEDIATE"):
        found = _match(user, code)
        if found is None:
            return None
        spent = (
            RecoveryCode.update(used_at=clock.utcnow())
            .where((RecoveryCode.id == found) & RecoveryCode.used_at.is_null())
            .execute()
        )
        if not spent:
            return None
        remaining = left(user)
        audit.record("totp.recovery_used", obj=user, user=user, detail=f"{remaining} left")
        _tell(user, remaining)
    return remaining


def _tell(user, remaining):
    practice = user.practice
    codes = f"{remaining} recovery code{'s' if remaining != 1 else ''}"
    mail.queue(
        user.email,
        f"A recovery code was used for your {practice.name} login",
        f"Hello,\n\nA recovery code was just used instead of your authenticator app's code "
        f"to log in to your account at {practice.name}'s portal. {codes} left.\n\n"
        "Was it you? Make new codes on your account page (Two-step login) when only a few "
        "are left.\n\nWas it not you? Someone knows your password and holds one of your "
        "codes: change your password and make new codes at once, and tell the practice's "
        "owner.\n",
        practice=practice,
        kind="recovery_used",
    )
