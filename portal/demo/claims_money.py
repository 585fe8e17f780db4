"""Demo: the clearinghouse side of the claims (claims-money).

- The practice's billing ZIP gets its +4 (an 837P needs all nine digits).
- When asyncssh is installed (`make demo` installs the `demo` extra), the practice's
  clearinghouse connection points at the pretend clearinghouse `make demo` starts on
  127.0.0.1 (scripts/demo_clearinghouse.py; port PORTAL_DEMO_SFTP_PORT, 2222 unless set):
  claims built into 837P files can be sent, and its 999, 277CA and 835 come back. Without
  asyncssh the demo says so when it starts, and files are downloaded instead.
- An example 835 from Regence answering two of Jordan's submitted claims (one paid, one
  with a deductible and a copay for Jordan) and one claim that is not the practice's, kept
  as a document the owner imports from Claims → Payments (835).

Idempotent: nothing is added twice.
"""

import datetime as dt
import hashlib
import importlib.util
import os

from portal import clock
from portal.models import Claim, ClearinghouseConnection, Payer, StoredDocument
from portal.rules import claim_status
from portal.services import clearinghouse
from portal.services.claims import batch837, data
from portal.x12 import answer835, claim837
from portal.x12.write837 import write_837p

DEMO_SFTP_USER = "riverside-demo"
DEMO_SFTP_PASSWORD = "demo-clearinghouse-pass-2026"
EXAMPLE_TITLE = "Example 835 remittance (demo)"  # provider/claims/remittances.py finds it
EXAMPLE_TRACE = "DEMO-CHK-100482"


def sftp_port():
    return int(os.environ.get("PORTAL_DEMO_SFTP_PORT") or 2222)


def has_asyncssh():
    return importlib.util.find_spec("asyncssh") is not None


def _zip4(practice):
    if len(practice.postal_code.replace("-", "")) == 5:
        practice.postal_code = practice.postal_code.replace("-", "") + "1234"
        practice.save()


def _clearinghouse(practice):
    conn = clearinghouse.connection_for(practice.id)
    if conn is not None:
        if conn.username == DEMO_SFTP_USER and conn.port != sftp_port():  # another PORT
            values = {name: getattr(conn, name) for name in clearinghouse.SETTINGS_FIELDS}
            clearinghouse.save_settings(practice.id, {**values, "port": sftp_port()})
        return
    if not has_asyncssh():
        return
    values = dict(
        host="127.0.0.1",
        port=sftp_port(),
        username=DEMO_SFTP_USER,
        auth_method="password",
        upload_dir="inbound",
        download_dir="outbound",
        isa_sender_qualifier="ZZ",
        isa_sender_id="RIVERSIDE01",
        isa_receiver_qualifier="ZZ",
        isa_receiver_id="DEMOCLEAR",
        gs_sender_code="RIVERSIDE01",
        gs_receiver_code="DEMOCLEAR",
        submitter_id="RIVERSIDE01",
        receiver_name="DEMO CLEARINGHOUSE",
        receiver_id="DEMOCLEAR",
        usage_indicator="T",
    )
    clearinghouse.save_settings(practice.id, values, password=DEMO_SFTP_PASSWORD)


def _example_835(practice, now):
    if (
        StoredDocument.select()
        .where((StoredDocument.practice == practice.id) & (StoredDocument.title == EXAMPLE_TITLE))
        .exists()
    ):
        return
    regence = Payer.get_or_none((Payer.practice == practice.id) & (Payer.payer_code == "00851"))
    if regence is None:
        return
    loaded = batch837.load_claims(
        Claim.select().where(
            (Claim.practice == practice.id)
            & (Claim.payer == regence.id)
            & (Claim.status == claim_status.SUBMITTED)
        ),
        practice.tz,
    )[:2]
    if len(loaded) < 2:
        return
    claims = [batch837.to_x12_claim(item) for item in loaded]
    stranger = claim837.Claim(
        "RV20991", claims[0].subscriber, claims[0].payer, claims[0].diagnoses, claims[0].lines
    )  # a claim another office sent: the 835 names it, the practice has no such claim
    billing = batch837.billing_provider(practice, data.settings_for(practice.id))
    text_837 = write_837p(
        claim837.Batch(
            claim837.Submitter(practice.name, "RIVERSIDE01", practice.name, phone="5035550142"),
            claim837.Receiver("REGENCE", "00851"),
            billing,
            (*claims, stranger),
            interchange_control_number=1,
            group_control_number=1,
            created=now,
        )
    )
    paid, partial = claims
    pay = {
        paid.patient_control_number: _pay(paid),
        partial.patient_control_number: _pay(partial, client_share=True),
        stranger.patient_control_number: _pay(stranger),
    }
    text = answer835.answer_835(
        text_837, pay, control_number=482, created=now, trace_number=EXAMPLE_TRACE,
        payer_name=regence.name.upper(), payer_tax_id="930123456",
        payment_date=now.date() - dt.timedelta(days=2),
        payer_address=("PO BOX 1271", "PORTLAND", "OR", "97207"),
    )  # fmt: skip
    raw = text.encode("ascii")
    StoredDocument.create(
        practice=practice.id,
        client=None,
        kind="other",
        title=EXAMPLE_TITLE,
        filename="regence-era-100482.835",
        content_type="application/edi-x12",
        data=raw,
        sha256=hashlib.sha256(raw).hexdigest(),
        size_bytes=len(raw),
    )


def _pay(claim, client_share=False):
    """80% of the charge allowed; with client_share, a deductible and a copay on line 1."""
    lines = []
    for n, line in enumerate(claim.lines):
        allowed = line.charge_cents * 80 // 100
        shares = {}
        if client_share and n == 0:
            shares = {"deductible": min(3000, allowed // 2), "copay": min(2500, allowed // 4)}
        lines.append(answer835.line_paid(line.charge_cents, allowed, **shares))
    return answer835.ClaimPay(tuple(lines))


def load(ctx):
    practice = ctx["practice"]
    _zip4(practice)
    _clearinghouse(practice)
    now = clock.utcnow().replace(microsecond=0)
    _example_835(practice, now)
    ctx["demo_clearinghouse"] = ClearinghouseConnection.get_or_none(
        ClearinghouseConnection.practice == practice.id
    )
