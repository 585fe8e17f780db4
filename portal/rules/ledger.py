"""Package credit arithmetic: pure functions, no database.

A package of N sessions bought for P cents is worth P split into N shares by the
largest remainder (they add up to P exactly). The k-th session used (k = 0, 1, ...)
is priced at share k; a session given back returns the last share used; a refund of
the unused sessions pays back the shares not used. So, for any history,
sum(prices of visits used) + refund of the rest = P, and nothing is ever negative.
"""

from portal.rules.money import split_largest_remainder


class LedgerError(ValueError):
    """A ledger change that would break the rules (explicit message for the user)."""


class NoCreditLeft(LedgerError):
    pass


def session_prices(price_cents: int, sessions: int) -> list[int]:
    """The per-session prices of a package; they add up to the price exactly."""
    if sessions <= 0:
        raise LedgerError("A package has at least one session.")
    if price_cents < 0:
        raise LedgerError("A package price cannot be negative.")
    return split_largest_remainder(price_cents, sessions)


def balance(deltas) -> int:
    total = 0
    for d in deltas:
        total += d
        if total < 0:
            raise LedgerError("The credit balance went below zero.")
    return total


def apply(current_balance: int, delta: int) -> int:
    """The balance after `delta`; refuses to go below zero."""
    if delta == 0:
        raise LedgerError("A ledger entry changes the balance.")
    after = current_balance + delta
    if after < 0:
        raise NoCreditLeft("No package credit is left.")
    return after


def used_sessions(sessions_total: int, current_balance: int) -> int:
    """Sessions consumed so far (those not in the balance and not refunded/expired)."""
    if not 0 <= current_balance <= sessions_total:
        raise LedgerError("The balance is outside the package's size.")
    return sessions_total - current_balance


def redeem_price(price_cents: int, sessions_total: int, current_balance: int) -> int:
    """The per-visit price of the next session used (what a superbill shows)."""
    if current_balance <= 0:
        raise NoCreditLeft("No package credit is left.")
    used = used_sessions(sessions_total, current_balance)
    return session_prices(price_cents, sessions_total)[used]


def return_price(price_cents: int, sessions_total: int, current_balance: int) -> int:
    """The per-visit price given back when a used session is returned (+1)."""
    used = used_sessions(sessions_total, current_balance)
    if used <= 0:
        raise LedgerError("No used session to give back.")
    return session_prices(price_cents, sessions_total)[used - 1]


def unused_value(price_cents: int, sessions_total: int, current_balance: int) -> int:
    """The money value of the unused sessions: the refund due, or the liability."""
    used = used_sessions(sessions_total, current_balance)
    return sum(session_prices(price_cents, sessions_total)[used:])


def used_value(price_cents: int, sessions_total: int, current_balance: int) -> int:
    used = used_sessions(sessions_total, current_balance)
    return sum(session_prices(price_cents, sessions_total)[:used])


def liability(packages) -> int:
    """Sum of unused_value over (price_cents, sessions_total, balance) triples."""
    return sum(unused_value(p, n, b) for p, n, b in packages)
