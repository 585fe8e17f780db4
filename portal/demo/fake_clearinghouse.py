"""The demo's pretend clearinghouse: it answers each 837P file left in its upload folder
the way a clearinghouse and a payer would, so an owner can watch a claim go from ready to
paid. Files only (scripts/demo_clearinghouse.py serves the folders over SFTP).

For each new 837P file in ROOT/inbound it writes, into ROOT/outbound:
- a 999 accepting the file;
- a 277CA accepting every claim but one: in a file of two claims or more, the first claim
  never rejected before is rejected (A7:21, missing or invalid information), so the desk
  has one to fix; sent again, it is accepted;
- an 835 paying the accepted claims at 85% of the charge (CO 45 for the rest), the last of
  several with a $20 copay the client is invoiced for.

    answered = answer_folder(root, now)      # [(837 name, [names written])]

Answers are built by portal/x12/answers.py and answer835.py (pyx12-valid). Each answered
837 is remembered in ROOT/answered.txt, each rejected claim in ROOT/rejected.txt.
"""

import datetime as dt
import os

from portal.x12 import answer835, answers
from portal.x12.read837 import read_837
from portal.x12.segments import X12Error

REJECTION = answers.ClaimRejection(
    "A7", "21", "QC", "PATIENT DATE OF BIRTH DOES NOT MATCH THE PAYER'S RECORD"
)
COPAY_CENTS = 2000
PAYER_TAX_ID = "991234567"


def _read_lines(path):
    if not os.path.exists(path):
        return set()
    with open(path, encoding="ascii") as fh:
        return {line.strip() for line in fh if line.strip()}


def _remember(path, values):
    with open(path, "a", encoding="ascii") as fh:
        for v in values:
            fh.write(v + "\n")


def _put(folder, name, text, mtime):
    """Written under a temporary name, then renamed: a fetch never reads half a file."""
    final = os.path.join(folder, name)
    temp = final + ".part"
    with open(temp, "w", encoding="ascii") as fh:
        fh.write(text)
    os.replace(temp, final)
    os.utime(final, (mtime, mtime))
    return name


def _pay(claim, copay):
    lines = []
    for n, line in enumerate(claim.lines):
        allowed = line.charge_cents * 85 // 100
        extra = {"copay": COPAY_CENTS} if copay and n == 0 and allowed > COPAY_CENTS else {}
        lines.append(answer835.line_paid(line.charge_cents, allowed, **extra))
    return answer835.ClaimPay(tuple(lines))


def answers_for(text_837, rejected_before, now):
    """[(name, text)] answering one 837P, and the patient control numbers rejected now."""
    batch = read_837(text_837)
    claims = batch.claims
    icn = int(batch.interchange_control)
    base = (icn % 300_000_000) * 3
    rejected = set()
    if len(claims) > 1:
        first = next((c for c in claims if c.patient_control_number not in rejected_before), None)
        if first is not None:
            rejected.add(first.patient_control_number)
    out = [
        (f"999_{icn:09d}.x12", answers.answer_999(text_837, control_number=base + 1, created=now)),
        (
            f"277CA_{icn:09d}.x12",
            answers.answer_277ca(
                text_837,
                control_number=base + 2,
                created=now,
                rejections={pcn: REJECTION for pcn in rejected},
                source_name=claims[0].payer_name or "DEMO PAYER",
            ),
        ),
    ]
    paid = [c for c in claims if c.patient_control_number not in rejected]
    if paid:
        pay = {c.patient_control_number: _pay(c, c is paid[-1] and len(paid) > 1) for c in paid}
        era = answer835.answer_835(
            text_837,
            pay,
            control_number=base + 3,
            created=now,
            trace_number=f"DEMOEFT{icn:09d}",
            payer_name=claims[0].payer_name or "DEMO PAYER",
            payer_tax_id=PAYER_TAX_ID,
            payment_date=now.date(),
            method="ACH",
        )
        out.append((f"ERA_{icn:09d}.835", era))
    return out, rejected


def answer_folder(root, now=None):
    """Answer every 837P file in ROOT/inbound not answered yet; returns what was done."""
    now = now or dt.datetime.now().replace(microsecond=0)
    inbound, outbound = os.path.join(root, "inbound"), os.path.join(root, "outbound")
    os.makedirs(inbound, exist_ok=True)
    os.makedirs(outbound, exist_ok=True)
    done_path = os.path.join(root, "answered.txt")
    rejected_path = os.path.join(root, "rejected.txt")
    done = _read_lines(done_path)
    rejected_before = _read_lines(rejected_path)
    results = []
    for name in sorted(os.listdir(inbound)):
        path = os.path.join(inbound, name)
        if name in done or name.endswith(".part") or not os.path.isfile(path):
            continue
        with open(path, encoding="ascii", errors="replace") as fh:
            text = fh.read()
        try:
            files, rejected = answers_for(text, rejected_before, now)
        except (X12Error, ValueError):
            files, rejected = [], set()  # not an 837P it can answer: left alone
        mtime = int(now.timestamp())
        written = [_put(outbound, n, t, mtime + i) for i, (n, t) in enumerate(files)]
        _remember(done_path, [name])
        _remember(rejected_path, sorted(rejected))
        rejected_before |= rejected
        results.append((name, written))
    return results
