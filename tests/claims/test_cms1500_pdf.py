"""CMS-1500 PDFs read back with `pdftotext -bbox`: every value inside its box's rectangle on
the form's grid (tests/claims/cms1500_boxes.py), for the full form and for data only with
calibrated offsets, and the claims that fill the rarer boxes."""

import datetime as dt
import os
import subprocess

import pytest
from peewee import IntegrityError

from portal.db import database
from portal.models import (
    Claim,
    ClaimDiagnosis,
    ClaimDocument,
    ClaimLine,
    ClaimSettings,
    Payer,
    PriorAuthorization,
    Referral,
    StoredDocument,
)
from portal.services.claims import cms1500, cms1500_pdf
from portal.services.claims.cms1500 import Cms1500Error
from portal.services.claims.data import settings_for
from tests.claims import factories as cf
from tests.claims.cms1500_boxes import MM, check_boxes, read_box, values, words
from tests.conftest import ARTIFACTS

SERVICE = dt.date(2026, 11, 2)


def _settings(practice, **kw):
    s = settings_for(practice.id)
    for k, v in kw.items():
        setattr(s, k, v)
    s.save()
    return s


def _form(claim_obj):
    return cms1500.build(cms1500.load_claim(claim_obj.id, claim_obj.practice_id))


def _render(claim_obj, mode="full"):
    settings = settings_for(claim_obj.practice_id)
    return cms1500_pdf.render(_form(claim_obj), mode, settings)


def _read(claim_obj, tmp_path, mode="full"):
    return values(words(_render(claim_obj, mode), tmp_path, f"claim-{mode}.pdf"))


def _empty_lines(first):
    out = {}
    for n in range(first, 7):
        for part in ("A from", "A to", "B", "D", "E", "F dollars", "F cents", "G", "J"):
            out[f"24.{n} {part}"] = ""
    return out


@pytest.fixture
def full_claim(ctx, world):
    """A self-insured commercial claim with a referral (17), a prior authorization (23)
    and two lines, the second 97140 with modifiers 59 and GP pointing at B then A."""
    a = world.a
    ref = Referral.create(
        practice=a.practice,
        client=a.c1,
        referring_name="Ann Ortiz, M.D.",
        referring_npi="1558598797",
        qualifier="DN",
        referral_date=dt.date(2026, 10, 1),
    )
    auth = PriorAuthorization.create(
        practice=a.practice,
        client=a.c1,
        number="PA-2026-0042",
        visits_allowed=12,
        start_date=dt.date(2026, 10, 1),
        end_date=dt.date(2026, 12, 31),
    )
    c = cf.paper_claim(a.practice, a.c1, a.provider, referral=ref, authorization=auth)
    second = c.lines.where(ClaimLine.position == 2).get()
    second.modifiers, second.pointers = "59,GP", "BA"
    second.save()
    return c


def _expected_full(c):
    client, practice = c.client, c.practice
    member = c.policy.member_id
    dob = client.date_of_birth
    name = f"PERSON, {client.first_name.upper()}"
    signed = c.created_at.replace(tzinfo=dt.UTC).astimezone(practice.tz).date()
    practice_block = f"{practice.name.upper()} 400 SW OAK ST SUITE 2 PORTLAND OR 972041234"
    return {
        "carrier": f"{c.payer.name.upper()} PO BOX 1000 PORTLAND OR 972010000",
        "1 GROUP": "X",
        "1 MEDICARE": "",
        "1 OTHER": "",
        "1a": member,
        "2": name,
        "3 MM": "01",
        "3 DD": f"{dob.day:02d}",
        "3 YY": "1980",
        "3 M": "",
        "3 F": "X",
        "4": name,
        "5 street": "12 N ELM ST",
        "5 city": "PORTLAND",
        "5 state": "OR",
        "5 zip": "97205",
        "5 area": "503",
        "5 phone": "5550147",
        "6 SELF": "X",
        "6 SPOUSE": "",
        "7 street": "12 N ELM ST",
        "7 city": "PORTLAND",
        "7 state": "OR",
        "7 zip": "97205",
        "7 area": "503",
        "7 phone": "5550147",
        "9": "",
        "9a": "",
        "9d": "",
        "10a YES": "",
        "10a NO": "X",
        "10b YES": "",
        "10b NO": "X",
        "10b state": "",
        "10c NO": "X",
        "10d": "",
        "11": "GRP100",
        "11a MM": "01",
        "11a DD": f"{dob.day:02d}",
        "11a YY": "1980",
        "11a F": "X",
        "11b qualifier": "",
        "11b": "",
        "11c": "ACME CHOICE PPO",
        "11d YES": "",
        "11d NO": "X",
        "12": "SIGNATURE ON FILE",
        "13": "SIGNATURE ON FILE",
        "14 MM": "",
        "14 qualifier": "",
        "17 qualifier": "DN",
        "17": "ANN ORTIZ MD",
        "17b": "1558598797",
        "20 NO": "X",
        "21 ICD Ind": "0",
        "21 A": "M5450",
        "21 B": "M62830",
        "21 C": "",
        "22 code": "",
        "22 original ref": "",
        "23": "PA-2026-0042",
        "24.1 shaded": "",
        "24.1 A from": "11 02 26",
        "24.1 A to": "11 02 26",
        "24.1 B": "11",
        "24.1 C": "",
        "24.1 D": "97124",
        "24.1 D modifiers": "",
        "24.1 E": "A",
        "24.1 F dollars": "60",
        "24.1 F cents": "00",
        "24.1 G": "2",
        "24.1 J": "1234567893",
        "24.2 shaded": "",
        "24.2 A from": "11 02 26",
        "24.2 D": "97140",
        "24.2 D modifiers": "59 GP",
        "24.2 E": "BA",
        "24.2 F dollars": "36",
        "24.2 F cents": "00",
        "24.2 G": "1",
        "24.2 J": "1234567893",
        **_empty_lines(3),
        "25": "931234567",
        "25 SSN": "",
        "25 EIN": "X",
        "26": c.patient_control_number,
        "27 YES": "X",
        "27 NO": "",
        "28 dollars": "96",
        "28 cents": "00",
        "29 dollars": "",
        "29 cents": "",
        "31": "SIGNATURE ON FILE",
        "31 date": f"{signed:%m %d %y}",
        "32": practice_block,
        "32a": "1558598797",
        "33 area": "503",
        "33 phone": "5550100",
        "33": practice_block,
        "33a": "1558598797",
        "33b": "ZZ225700000X",
    }


def test_full_form_prints_every_box_in_its_place(full_claim, tmp_path):
    data = _render(full_claim)
    every = words(data, tmp_path)
    check_boxes(values(every), _expected_full(full_claim))
    # the form itself is drawn: its labels are on the page, in smaller type
    text = " ".join(w[4] for w in every)
    for label in ("HEALTH INSURANCE CLAIM FORM", "PATIENT'S NAME", "FEDERAL TAX I.D. NUMBER"):
        assert label in text
    os.makedirs(ARTIFACTS, exist_ok=True)
    pdf_path = os.path.join(ARTIFACTS, "cms1500-full.pdf")
    with open(pdf_path, "wb") as fh:
        fh.write(data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-singlefile", pdf_path, pdf_path[:-4]], check=True
    )
    assert os.path.getsize(pdf_path[:-4] + ".png") > 20_000


def test_data_only_moves_every_value_by_the_calibrated_offsets(full_claim, tmp_path):
    plain = _read(full_claim, tmp_path, "full")
    _settings(full_claim.practice, print_offset_x_mm=3.5, print_offset_y_mm=-2.0)
    data = _render(full_claim, "data")
    every = words(data, tmp_path, "data.pdf")
    assert values(every) == every, "data only: nothing but the values is printed"
    shift = (3.5 * MM, -2.0 * MM)
    check_boxes(every, _expected_full(full_claim), shift=shift)
    # each value is exactly where the full form has it, moved by the offsets
    assert len(every) == len(plain)
    for moved, base in zip(sorted(every, key=_key), sorted(plain, key=_key), strict=True):
        assert moved[4] == base[4]
        assert moved[0] - base[0] == pytest.approx(shift[0], abs=0.02)
        assert moved[1] - base[1] == pytest.approx(shift[1], abs=0.02)
    pdf_path = os.path.join(ARTIFACTS, "cms1500-data-only.pdf")
    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(pdf_path, "wb") as fh:
        fh.write(data)


def _key(w):
    return (round(w[1]), round(w[0]), w[4])


def test_twelve_diagnoses_and_six_lines(ctx, world, tmp_path):
    a = world.a
    c = cf.paper_claim(a.practice, a.c1, a.provider, n_lines=6, n_diagnoses=12)
    for line in c.lines:
        line.pointers = "ABCD"[: 1 + line.position % 4]
        line.save()
    got = _read(c, tmp_path)
    codes = "M5450 M62830 M542 M546 M25511 M25512 M7918 M6281 G44209 M533 S134XXA M9901"
    expected = {
        f"21 {letter}": code for letter, code in zip("ABCDEFGHIJKL", codes.split(), strict=True)
    }
    for n in range(1, 7):
        charge = (60 if n % 2 else 35) + n - 1
        expected.update(
            {
                f"24.{n} A from": "11 02 26",
                f"24.{n} D": "97124" if n % 2 else "97140",
                f"24.{n} E": "ABCD"[: 1 + n % 4],
                f"24.{n} F dollars": str(charge),
                f"24.{n} F cents": "00",
                f"24.{n} G": "2" if n % 2 else "1",
                f"24.{n} J": "1234567893",
                f"24.{n} shaded": "",
            }
        )
    expected.update({"28 dollars": "300", "28 cents": "00"})
    check_boxes(got, expected)


def _accident_payer(practice, kind):
    return cf.payer(practice, name=f"Harbor {kind} Insurance", kind=kind)


def test_auto_accident_prints_10b_with_the_state_11b_and_14(ctx, world, tmp_path):
    a = world.a
    c = cf.paper_claim(
        a.practice,
        a.c1,
        a.provider,
        payer_obj=_accident_payer(a.practice, "auto"),
        claim_type="auto",
        accident_state="WA",
        accident_claim_number="AU-77881",
        injury_date=dt.date(2026, 10, 20),
    )
    check_boxes(
        _read(c, tmp_path),
        {
            "1 OTHER": "X",
            "1 GROUP": "",
            "10a YES": "",
            "10a NO": "X",
            "10b YES": "X",
            "10b NO": "",
            "10b state": "WA",
            "10c NO": "X",
            "11b qualifier": "Y4",
            "11b": "AU-77881",
            "14 MM": "10",
            "14 DD": "20",
            "14 YY": "2026",
            "14 qualifier": "431",
        },
    )


def test_workers_comp_prints_10a_and_the_claim_number(ctx, world, tmp_path):
    a = world.a
    pol = cf.policy(
        a.practice,
        a.c1,
        _accident_payer(a.practice, "workers_comp"),
        claim_type="workers_comp",
        employer_name="Bridgeworks Inc",
        claim_number="WC-2026-1187",
        injury_date=dt.date(2026, 9, 14),
    )
    c = cf.paper_claim(a.practice, a.c1, a.provider, policy_obj=pol, claim_type="workers_comp")
    check_boxes(
        _read(c, tmp_path),
        {
            "1 OTHER": "X",
            "10a YES": "X",
            "10a NO": "",
            "10b NO": "X",
            "10b state": "",
            "11b qualifier": "Y4",
            "11b": "WC-2026-1187",
            "14 MM": "09",
            "14 DD": "14",
            "14 YY": "2026",
            "14 qualifier": "431",
        },
    )


def test_secondary_claim_names_the_primary_in_9_and_its_payment_in_29(ctx, world, tmp_path):
    a = world.a
    primary = cf.paper_claim(a.practice, a.c1, a.provider, status="paid", paid_cents=5400)
    spouse_payer = cf.payer(a.practice, name="Second Mutual")
    secondary_policy = cf.policy(
        a.practice,
        a.c1,
        spouse_payer,
        rank="secondary",
        relationship="spouse",
        subscriber_first_name="Sam",
        subscriber_last_name="Person-Lee",
        subscriber_dob=dt.date(1978, 3, 9),
        subscriber_sex="M",
        subscriber_address1="12 N Elm St",
        subscriber_city="Portland",
        subscriber_state="OR",
        subscriber_postal_code="97205",
        group_number="SM-55",
    )
    c = cf.paper_claim(
        a.practice,
        a.c1,
        a.provider,
        policy_obj=secondary_policy,
        rank="secondary",
        primary_claim=primary,
        primary_paid_cents=5400,
        appointment=False,
    )
    client = a.c1
    check_boxes(
        _read(c, tmp_path),
        {
            "carrier": "SECOND MUTUAL PO BOX 1000 PORTLAND OR 972010000",
            "1a": secondary_policy.member_id,
            "4": "PERSON-LEE, SAM",
            "6 SPOUSE": "X",
            "6 SELF": "",
            "7 area": "",
            "11": "SM-55",
            "11a MM": "03",
            "11a DD": "09",
            "11a YY": "1978",
            "11a M": "X",
            "11a F": "",
            "9": f"PERSON, {client.first_name.upper()}",
            "9a": primary.policy.member_id,
            "9d": "ACME CHOICE PPO",
            "11d YES": "X",
            "11d NO": "",
            "29 dollars": "54",
            "29 cents": "00",
            "28 dollars": "96",
        },
    )


def test_a_primary_claim_names_the_clients_secondary_coverage_in_9(ctx, world, tmp_path):
    a = world.a
    other = cf.policy(
        a.practice, a.c1, cf.payer(a.practice, name="Backup Health"), rank="secondary"
    )
    c = cf.paper_claim(a.practice, a.c1, a.provider)
    got = _read(c, tmp_path)
    assert read_box(got, "9a") == other.member_id
    assert read_box(got, "9d") == "BACKUP HEALTH"
    assert (read_box(got, "11d YES"), read_box(got, "11d NO")) == ("X", "")
    assert read_box(got, "29 dollars") == ""


def test_corrected_claim_prints_22_with_the_original_reference(ctx, world, tmp_path):
    a = world.a
    c = cf.paper_claim(
        a.practice, a.c1, a.provider, frequency_code="7", payer_claim_number="2026301ABC77"
    )
    check_boxes(_read(c, tmp_path), {"22 code": "7", "22 original ref": "2026301ABC77"})


def test_billing_as_the_provider_and_home_visits(ctx, world, tmp_path):
    a = world.a
    _settings(a.practice, bill_as="provider", signature_on_file=False)
    c = cf.paper_claim(a.practice, a.c1, a.provider, place_of_service="12")
    prov = a.provider
    check_boxes(
        _read(c, tmp_path),
        {
            "33": f"{prov.first_name.upper()} PIST LMT 400 SW OAK ST SUITE 2 PORTLAND OR 972041234",
            "33a": "1234567893",
            "33b": "ZZ225700000X",
            "32": "",  # the patient's home: no service facility
            "32a": "",
            "24.1 B": "12",
            "12": "",
            "13": "",
            "31": "",
            "31 date": "",
        },
    )


@pytest.mark.parametrize(
    ("lines", "diagnoses", "message"),
    [
        (7, 2, "holds 6 service lines and this claim has 7: split it"),
        (9, 12, "six lines or fewer"),
        (6, 13, "holds 12 diagnoses and this claim has 13"),
        (0, 1, "no service lines"),
    ],
)
def test_a_claim_that_does_not_fit_one_form_is_refused(lines, diagnoses, message):
    with pytest.raises(Cms1500Error, match=message):
        cms1500.check_fits(lines, diagnoses)


def test_six_lines_and_twelve_diagnoses_fit_and_the_database_refuses_more(ctx, world):
    a = world.a
    cms1500.check_fits(6, 12)
    c = cf.paper_claim(a.practice, a.c1, a.provider, n_lines=6, n_diagnoses=12)
    assert len(_form(c).lines) == 6
    with pytest.raises(IntegrityError), database.atomic():
        ClaimLine.create(
            practice=a.practice,
            claim=c,
            position=7,
            service_date=SERVICE,
            cpt_code="97124",
            units=1,
            charge_cents=3000,
        )
    with pytest.raises(IntegrityError), database.atomic():
        ClaimDiagnosis.create(practice=a.practice, claim=c, position=13, code="M54.6")


def test_an_unchanged_claim_gets_the_pdf_already_issued(ctx, world, tmp_path):
    a = world.a
    c = cf.paper_claim(a.practice, a.c1, a.provider)
    first = cms1500_pdf.issue(c, "full", user=a.frontdesk)
    again = cms1500_pdf.issue(Claim.get_by_id(c.id), "full", user=a.frontdesk)
    assert again.id == first.id
    assert first.kind == "claim" and first.client_id == a.c1.id
    assert first.sha256 == cms1500_pdf.pdf.sha256(first.data) and first.data.startswith(b"%PDF")
    data_only = cms1500_pdf.issue(c, "data", user=a.frontdesk)
    assert data_only.id != first.id and data_only.filename.endswith("-data-only.pdf")
    # a printed value changes: a new document; the first stays as it was issued
    line = c.lines.where(ClaimLine.position == 1).get()
    line.charge_cents = 6500
    line.save()
    changed = cms1500_pdf.issue(Claim.get_by_id(c.id), "full", user=a.frontdesk)
    assert changed.id != first.id
    assert read_box(values(words(changed.data, tmp_path)), "24.1 F dollars") == "65"
    assert StoredDocument.get_by_id(first.id).sha256 == first.sha256
    # recalibrating moves data-only prints, not full-form ones
    _settings(a.practice, print_offset_x_mm=1.0)
    assert cms1500_pdf.issue(c, "data").id != data_only.id
    assert cms1500_pdf.issue(Claim.get_by_id(c.id), "full").id == changed.id
    assert ClaimDocument.select().where(ClaimDocument.claim == c.id).count() == 4


def test_payer_kinds_choose_box_1(ctx, world, tmp_path):
    a = world.a
    medicare = cf.payer(a.practice, name="Medicare Part B", kind="medicare")
    assert Payer.get_by_id(medicare.id).kind == "medicare"
    c = cf.paper_claim(a.practice, a.c1, a.provider, payer_obj=medicare)
    got = _read(c, tmp_path)
    assert (read_box(got, "1 MEDICARE"), read_box(got, "1 GROUP")) == ("X", "")


def test_settings_default_until_saved(ctx, world):
    s = settings_for(world.a.practice.id)
    assert (s.print_offset_x_mm, s.print_offset_y_mm, s.signature_on_file) == (0, 0, True)
    assert ClaimSettings.select().count() == 0
