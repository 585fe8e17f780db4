"""Password policy: length, and not one of ~20,000 common passwords."""

import gzip
import os
from functools import lru_cache

_LIST = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "common-passwords.txt.gz")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset:
    with gzip.open(_LIST, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip().lower() for line in fh if line.strip())


def password_problems(password: str, min_length: int = 12, email: str = "") -> list[str]:
    problems = []
    if len(password or "") < min_length:
        problems.append(f"Use at least {min_length} characters.")
    lowered = (password or "").strip().lower()
    if lowered in common_passwords():
        problems.append("This password is too common. Choose one that is hard to guess.")
    elif email and lowered in {email.lower(), email.split("@")[0].lower()}:
        problems.append("Do not use your e-mail address as your password.")
    return problems
