"""Which sending of a claim a 277CA status answers. A claim rejected, corrected and sent
again keeps its patient control number (CLM01, TRN*2 of the 277CA): that number alone
cannot tell an answer to the newer file from a late copy of the answer to the older one.

    i, why = answered(sendings, status)   # sendings oldest first; i indexes them
    i == len(sendings) - 1                # the latest sending: the claim as it is now

What tells it, strongest first (the first that names a sending decides):

1. the 837P file it names: the receiver's TRN*2 (2200B), our file's BHT03;
2. the clearinghouse's trace of the claim (REF*D9), which it gives each claim it
   receives: one an earlier answer gave for one sending names that sending;
3. the payer's claim number (REF*1K) that the latest sending, a corrected claim
   (frequency 7), replaces (its REF*F8): the status is about the claim it replaces;
4. the claim as each file sent it: a status whose charge (STC04) and dates of service
   (DTP*472) are not the latest sending's but are an earlier one's;
5. its date (STC02) before the latest sending: it cannot be about it. A sending's day is
   the earliest calendar date anywhere at that instant (UTC-12), so a clearinghouse
   west of the practice never reads as late.

Nothing of these: the latest sending (as the portal always read a 277CA). A claim sent
once has nothing else to answer.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from portal.rules.money import format_cents


@dataclass(frozen=True)
class Sending:
    """One sending of the claim, as its history and its file say."""

    file_number: int | None  # the 837P's interchange control number (None: not a file)
    day: dt.date  # the earliest calendar date at the sending instant (see day_of)
    reference: str = ""  # the file's BHT03
    traces: frozenset[str] = field(default_factory=frozenset)  # REF*D9 answers gave it
    charge_cents: int | None = None  # CLM02 as sent
    first_day: dt.date | None = None  # its dates of service as sent
    last_day: dt.date | None = None
    replaces: str = ""  # REF*F8: the payer's number of the claim it corrects
    local_day: dt.date | None = None  # the day in the practice's zone, for the words

    @property
    def file(self) -> str:
        return f"file {self.file_number:09d}" if self.file_number is not None else "a sending"


@dataclass(frozen=True)
class Status:
    """What a 277CA says of the claim that can tell the sending."""

    batch_trace: str = ""  # 2200B TRN*2
    trace: str = ""  # REF*D9
    payer_claim_number: str = ""  # REF*1K
    charge_cents: int | None = None  # STC04
    first_day: dt.date | None = None  # DTP*472
    last_day: dt.date | None = None
    day: dt.date | None = None  # STC02


def day_of(sent_at_utc: dt.datetime) -> dt.date:
    """The earliest calendar date anywhere at a UTC instant (UTC-12)."""
    return (sent_at_utc - dt.timedelta(hours=12)).date()


def _words_day(day: dt.date) -> str:
    return day.strftime("%b %d, %Y")


def _same_claim(s: Sending, st: Status) -> bool | None:
    """Whether the status describes the claim as `s` sent it; None when it cannot tell."""
    checks = []
    if st.charge_cents is not None and s.charge_cents is not None:
        checks.append(st.charge_cents == s.charge_cents)
    if st.first_day is not None and s.first_day is not None:
        checks.append(st.first_day == s.first_day)
        if st.last_day not in (None, st.first_day) and s.last_day is not None:
            checks.append(st.last_day == s.last_day)
    return all(checks) if checks else None


def _named(sendings: Sequence[Sending], st: Status):
    if st.batch_trace:
        for i, s in enumerate(sendings):
            if s.reference and s.reference == st.batch_trace:
                return i, f"It names {s.file}."
    if st.trace:
        holding = [i for i, s in enumerate(sendings) if st.trace in s.traces]
        if len(holding) == 1:
            s = sendings[holding[0]]
            return holding[0], f"Its clearinghouse trace {st.trace} answered {s.file} before."
    return None


def _earlier_by_content(sendings: Sequence[Sending], st: Status):
    *earlier, latest = sendings
    number = st.payer_claim_number
    if number and latest.replaces == number:
        return len(earlier) - 1, (
            f"It gives the payer's number {number}, which {latest.file} replaces "
            "(a corrected claim)."
        )
    if _same_claim(latest, st) is False:
        for i in range(len(earlier) - 1, -1, -1):
            if _same_claim(earlier[i], st):
                charge = format_cents(st.charge_cents) if st.charge_cents is not None else ""
                what = ", ".join(
                    x for x in (charge, st.first_day and _words_day(st.first_day)) if x
                )
                return i, (
                    f"Its charge and dates of service ({what}) are the claim's as "
                    f"{earlier[i].file} sent it."
                )
    if st.day is not None and st.day < latest.day:
        before = [i for i, s in enumerate(earlier) if s.day <= st.day]
        return (before[-1] if before else 0), (
            f"Dated {_words_day(st.day)}, before the claim was sent again on "
            f"{_words_day(latest.local_day or latest.day)}."
        )
    return None


def answered(sendings: Sequence[Sending], st: Status) -> tuple[int, str]:
    """(index of the sending the status answers, why in words: "" for the latest when
    nothing named it). `sendings` oldest first; an empty list answers (-1, "")."""
    if len(sendings) < 2:
        return len(sendings) - 1, ""
    found = _named(sendings, st) or _earlier_by_content(sendings, st)
    return found if found else (len(sendings) - 1, "")
