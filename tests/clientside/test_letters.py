"""Letters of medical necessity (issue 12, item 3): the therapist fills the template,
signs it by typing the provider's name, the stored PDF never changes, the client
downloads it, and it expires on its end date."""

import datetime as dt

import pytest
from peewee import IntegrityError

from portal.models import MedicalLetter, StoredDocument
from tests.clientside.helpers import pdf_text, scene
from tests.conftest import login

FORM = {
    "diagnoses": "m54.50, M62.830",
    "referring_name": "Dr. Ana Ruiz",
    "referring_npi": "1234567893",
    "treatment_plan": "Deep tissue and trigger point work on the lumbar area.",
    "frequency": "once a week",
    "duration": "8 weeks",
    "expected_outcome": "Bending and sitting at work without pain.",
}


def test_write_sign_download_and_expiry(app, client, tmp_path):
    with app.test_request_context():
        s = scene()
    login(client, s.therapist.email)
    start = dt.date.today()
    data = {
        **FORM,
        "provider": s.provider.id,
        "start_date": str(start),
        "end_date": str(start + dt.timedelta(days=90)),
    }
    r = client.post(
        f"/provider/clients/{s.client.id}/letters/new", data={**data, "diagnoses": "M54.5"}
    )
    assert r.status_code == 400 and "not a billable code" in r.get_data(as_text=True)
    r = client.post(f"/provider/clients/{s.client.id}/letters/new", data=data)
    assert r.status_code == 303
    with app.app_context():
        letter = MedicalLetter.get()
        assert letter.codes == ["M54.50", "M62.830"]
    r = client.post(f"/provider/letters/{letter.id}/sign", data={"signature_name": "Someone Else"})
    assert r.status_code == 303
    r = client.post(
        f"/provider/letters/{letter.id}/sign", data={"signature_name": "maya lindqvist"}
    )
    assert r.status_code == 303
    with app.app_context():
        letter = MedicalLetter.get_by_id(letter.id)
        assert letter.is_signed and not letter.expired(start + dt.timedelta(days=90))
        assert letter.expired(start + dt.timedelta(days=91))
        text = pdf_text(StoredDocument.get_by_id(letter.document_id).data, tmp_path)
        for expected in (
            "M54.50",
            "M62.830",
            "Dr. Ana Ruiz",
            "once a week",
            "8 weeks",
            "1234567893",
            "typed signature",
        ):
            assert expected in text
        with pytest.raises(IntegrityError):
            MedicalLetter.update(frequency="daily").where(MedicalLetter.id == letter.id).execute()
    # The client downloads it; the front desk and other clients cannot.
    c = app.test_client()
    login(c, s.client_user.email)
    assert b"Letter from Maya" in c.get("/portal/documents").data
    assert c.get(f"/portal/documents/{letter.document_id}").status_code == 200
    desk = app.test_client()
    login(desk, s.desk.email)
    assert desk.get(f"/provider/letters/{letter.id}").status_code == 404
    assert desk.get(f"/provider/billing/documents/{letter.document_id}").status_code == 404
    other = app.test_client()
    login(other, s.same_practice_client_user.email)
    assert other.get(f"/portal/documents/{letter.document_id}").status_code == 404
