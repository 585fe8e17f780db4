"""Package credit arithmetic: pure functions, no database.

A package of N sessions bought for P cents is worth P split into N shares by the
largest remainder (they add up to P exactly, none more than a cent from P/N). The rule
the ledger keeps, in any order of redeem, give back, refund and expiry:

    what the visits used (net of those given back) + what is refunded or expires == P

- a visit used is priced from what is left: the unused value (P less the net value of
  the credits used) split over the credits left by the largest remainder, its largest
  share (so the credits left still add up to the unused value, each a cent or less
  from P/N);
- a visit given back returns its own recorded price (not the last one's);
- a refund or an expiry of the unused sessions is the unused value, P - used.
`used_value` is the ledger's sum over redeems (+price) and give-backs (-price).
"""

from portal.rules.money import format_cents, split_largest_remainder


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


def per_session_words(price_cents: int, sessions: int) -> str:
    """What a session of the package costs, as people read it: "$85.00", or "$33.33 to
    $33.34" when the price does not split evenly (the shares of `session_prices`)."""
    shares = session_prices(price_cents, sessions)
    low, high = min(shares), max(shares)
    if low == high:
        return format_cents(low)
    return f"{format_cents(low)} to {format_cents(high)}"


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


def redeem_price(price_cents: int, current_balance: int, used_value_cents: int) -> int:
    """The per-visit price of the next session used (what a superbill shows): the largest
    share of the unused value split over the credits left."""
    if current_balance <= 0:
        raise NoCreditLeft("No package credit is left.")
    return split_largest_remainder(unused_value(price_cents, used_value_cents), current_balance)[0]


def used_value(entries) -> int:
    """The net value of the credits used, from (delta, unit price) of the redeem (-1) and
    give-back (+1) rows."""
    return sum(-delta * unit_price for delta, unit_price in entries)


def unused_value(price_cents: int, used_value_cents: int) -> int:
    """The money value of the unused sessions: the refund due, or the liability."""
    left = price_cents - used_value_cents
    if left < 0:
        raise LedgerError("The visits used are worth more than the package's price.")
    return left


def liability(packages) -> int:
    """Sum of unused_value over (price_cents, used value) pairs."""
    return sum(unused_value(p, used) for p, used in packages)
