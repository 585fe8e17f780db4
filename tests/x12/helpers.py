"""Shared by the x12 tests: pyx12 validation with its errors, segment lists, sample parties."""

import datetime as dt
import io
import logging

import pyx12.params
import pyx12.x12n_document

from portal.rules import claim_money
from portal.x12.claim837 import (
    Address,
    Batch,
    BillingProvider,
    Claim,
    Payer,
    Person,
    Provider,
    Receiver,
    ServiceLine,
    Submitter,
    Subscriber,
)
from portal.x12.read835 import ClaimPayment
from portal.x12.segments import parse

# pyx12 logs this about its own acknowledgment builder for 835s (ST03 is not used there).
_NOT_ERRORS = ("Failed to create 999",)


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages = []

    def emit(self, record):
        message = record.getMessage()
        if not message.startswith(_NOT_ERRORS):
            self.messages.append(message)


def pyx12_check(text: str) -> tuple[bool, list[str]]:
    """(pyx12's verdict, the errors it logged) for an X12 text, against the map its GS names."""
    handler = _Collect()
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    try:
        ok = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(),
            src_file=io.StringIO(text),
            fd_997=None,
            fd_html=None,
            fd_xmldoc=None,
        )
    finally:
        logger.removeHandler(handler)
    return ok, handler.messages


def assert_valid(text: str) -> None:
    ok, errors = pyx12_check(text)
    assert ok and not errors, "pyx12 refused the file:\n" + "\n".join(errors)


def segments(text: str) -> list[str]:
    """The file's segments as text without terminators: ['ISA*00*...', 'GS*HC*...', ...]."""
    return [repr(seg) for seg in parse(text)[1]]


def in_order(expected: list[str], actual: list[str]) -> bool:
    """True when every expected segment appears in `actual`, in this order."""
    it = iter(actual)
    return all(any(seg == a for a in it) for seg in expected)


D = dt.date
DAY = D(2026, 11, 2)
CREATED = dt.datetime(2026, 12, 1, 9, 30)
HOME = Address("12 Elm St", "Albany", "NY", "12207")
SUBMITTER = Submitter("Calm Hands Massage", "CHM0001", "Front Desk", phone="(518) 555-0100")
RECEIVER = Receiver("Harbor Clearing", "HCLR")
BILLING = BillingProvider(
    "Calm Hands Massage",
    "1234567893",
    "12-3456789",
    Address("1 Main St", "Albany", "NY", "12207-1234"),
)
PAYER = Payer("Blue Harbor Health", "BHH01")
DANA = Person("Reyes", "Dana", dob=D(1985, 4, 12), sex="F", address=HOME)
KIM = Person("Reyes", "Kim", dob=D(2012, 6, 1), sex="M", address=HOME)
SUBSCRIBER = Subscriber(DANA, "XJH123456789", group_number="G-100")
REFERRING = Provider("Ortiz", "Ann", "1558598797")
RENDERING = Provider("Lee", "Sam", "1558123455", taxonomy="225700000X")


def massage(units=3, cents=9000, pointers=(1,), day=DAY, modifiers=()):
    return ServiceLine("97124", cents, units, pointers, day, modifiers=modifiers)


def manual(units=1, cents=5000, pointers=(2,), day=DAY, modifiers=()):
    return ServiceLine("97140", cents, units, pointers, day, modifiers=modifiers)


def fixture_batch():
    """The batch tests/x12/fixtures/837_batch.txt holds: three claims to Blue Harbor Health,
    which the 999, 277CA and 835 fixtures answer (ISA13 000000042, GS06 42, ST02 0001)."""
    dx = ("M54.50", "M62.830")
    c1 = Claim("CLM0000101", SUBSCRIBER, PAYER, dx, (massage(4, 12000, (1, 2)),),
               rendering=RENDERING)  # fmt: skip
    c2 = Claim("CLM0000102", SUBSCRIBER, PAYER, dx,
               (massage(3, 9000, (1,)), manual(2, 7000, (2,), modifiers=("59",))),
               patient=KIM, relationship="child", referring=REFERRING,
               prior_authorization="PA-7788")  # fmt: skip
    c3 = Claim("CLM0000103", SUBSCRIBER, PAYER, ("M79.10",),
               (massage(3, 10000, (1,), day=D(2026, 11, 4)),))  # fmt: skip
    return Batch(SUBMITTER, RECEIVER, BILLING, (c1, c2, c3), 42, 42, CREATED)


def to_remit_claim(c: ClaimPayment) -> claim_money.RemitClaim:
    """What a service does to post an 835 claim: the reader's values into rules' dataclass."""

    def adjs(items):
        return tuple(claim_money.Adj(a.group, a.reason, a.cents) for a in items)

    lines = tuple(
        claim_money.RemitLine(s.charge_cents, s.paid_cents, adjs(s.adjustments), s.code)
        for s in c.services
    )
    return claim_money.RemitClaim(
        c.status, c.charge_cents, c.paid_cents, c.patient_responsibility_cents,
        adjs(c.adjustments), lines,
    )  # fmt: skip
