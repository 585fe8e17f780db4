"""A problem found in a claim: what is wrong, what to do, and where it is fixed.

Every claim check in portal/rules/ (coding.py, claims.py) reports `Problem`s, never
raises: a view lists them and links each to the page named by `where`.

`where` is a key of WHERE below (the key, then the page it stands for).
"""

from dataclasses import dataclass

WHERE = {
    "claim": "the claim itself (its lines, diagnoses, pointers, total, frequency)",
    "client": "the client's details (name, date of birth, sex, address)",
    "policy": "the client's insurance policy (member ID, subscriber, claim type, accident)",
    "payer": "the payer's settings (payer ID, unit rule, 97124 with 97140)",
    "referral": "the client's referrals",
    "authorization": "the client's prior authorizations",
    "note": "the visit's signed chart note (diagnoses, minutes)",
    "visit": "the visit's check-out (minutes per code recorded at the desk)",
    "practice_settings": "the practice settings (billing NPI, tax ID, address)",
    "provider": "the rendering provider's profile (NPI, taxonomy)",
    "clearinghouse": "the clearinghouse settings (submitter and receiver ids)",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a claim cannot go out yet.

    code: a stable identifier for programs and tests ('member_id_missing').
    message: plain English for the front desk, saying what to fix.
    where: a key of WHERE naming the page where it is fixed.
    field: optional detail (a CPT code, a diagnosis, a line number '3') for highlighting.
    """

    code: str
    message: str
    where: str
    field: str = ""

    def __post_init__(self):
        if self.where not in WHERE:
            raise ValueError(f"unknown where {self.where!r}")
