"""A client's world for issue 12's tests: a practice with NPI and tax ID, a therapist,
a client with a portal login, a 5-for-$425 package, a visit paid from it with a signed
note (CPT minutes and ICD-10 codes), a self-pay visit paid by card, and a late-cancel fee.
"""

import datetime as dt
import subprocess
from types import SimpleNamespace

from portal import clock
from portal.models import Appointment, Invoice
from portal.services import charting, invoicing, packages, scheduling
from tests import factories
from tests.billing.conftest import appt_type, package

_hour = {"n": 0}


def past_visit(practice, client, provider, atype, days_ago):
    """A booked visit in the past (at its own hour), ready for check-out."""
    _hour["n"] += 1
    start = clock.utcnow().replace(minute=0, second=0, microsecond=0) - dt.timedelta(
        days=days_ago, hours=_hour["n"] % 6
    )
    return Appointment.create(
        practice=practice,
        client=client,
        provider=provider,
        appointment_type=atype,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=atype.duration_minutes),
        blocked_until=start + dt.timedelta(minutes=atype.duration_minutes),
        status="checked_in",
    )


def sign_note(therapist, client, appt, minutes, diagnoses):
    practice = appt.practice
    note = charting.save_note(
        therapist,
        client,
        charting.NoteInput(
            visit_date=appt.starts_at.replace(tzinfo=dt.UTC).astimezone(practice.tz).date(),
            provider_id=appt.provider_id,
            appointment_id=appt.id,
            subjective="Low back pain.",
            minutes=minutes,
            diagnoses=diagnoses,
        ),
    )
    charting.sign_note(therapist, note)
    return note


def scene(other=True):
    """The world above; `other`: a second practice with its own client and staff."""
    practice = factories.practice(
        name="Harbor Massage",
        address1="12 Pier Road",
        phone="503-555-0142",
        npi="1558598797",
        ein="931234567",
    )
    provider = factories.provider(
        practice, first_name="Maya", last_name="Lindqvist", npi="1234567893"
    )
    therapist = factories.user(practice, "therapist", provider=provider)
    owner = factories.user(practice, "owner")
    desk = factories.user(practice, "frontdesk")
    client = factories.client(practice, first_name="Jordan", last_name="Avery", therapist=provider)
    cu = factories.client_user(practice, client)
    sixty = appt_type(practice, price_cents=10000, codes=(("97124", 60),))
    thirty = appt_type(practice, price_cents=5500, name="30-minute massage", codes=(("97124", 30),))
    definition = package(practice, types=[sixty])
    purchase, inv = packages.sell(definition, client.id, user=desk)
    invoicing.record_payment(inv, method="cash", amount_cents=inv.balance_cents, user=desk)
    # A visit paid from the package, its note signed first: 45 + 15 minutes, two codes.
    pkg_visit = past_visit(practice, client, provider, sixty, days_ago=3)
    sign_note(therapist, client, pkg_visit, {"97124": 45, "97140": 15}, ["M54.50", "M62.830"])
    # Its credit taken at booking (BillingSettings.redeem_at "booking"), then checked out:
    # the visit has no invoice and gets a visit receipt of its own.
    packages.redeem(pkg_visit, purchase=purchase)
    scheduling.check_out(pkg_visit, {"97124": 45, "97140": 15})
    # A self-pay visit of a type the package does not cover, paid by card.
    cash_visit = past_visit(practice, client, provider, thirty, days_ago=2)
    sign_note(therapist, client, cash_visit, {"97124": 30}, ["M54.2"])
    scheduling.check_out(cash_visit, {"97124": 30})
    visit_inv = Invoice.get(Invoice.appointment == cash_visit.id)
    invoicing.record_payment(
        visit_inv, method="card", amount_cents=5500, card_brand="visa", card_last4="4242"
    )
    s = SimpleNamespace(
        practice=practice,
        provider=provider,
        therapist=therapist,
        owner=owner,
        desk=desk,
        client=client,
        client_user=cu,
        sixty=sixty,
        thirty=thirty,
        definition=definition,
        purchase=purchase,
        package_invoice=inv,
        pkg_visit=pkg_visit,
        cash_visit=cash_visit,
        visit_invoice=visit_inv,
    )
    if other:
        b = factories.practice(name="Other practice")
        s.other_practice = b
        s.other_client = factories.client(b)
        s.other_client_user = factories.client_user(b, s.other_client)
        s.other_owner = factories.user(b, "owner")
        s.same_practice_client_user = factories.client_user(practice)
    return s


def pdf_text(data, tmp_path, name="doc.pdf"):
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
