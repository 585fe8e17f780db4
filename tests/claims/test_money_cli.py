"""`flask --app wsgi claims export --payer ID -o FILE | --all-ready -o FOLDER` and
`claims import-835 FILE`: the files written are what the portal stored (pyx12 accepts
them), the claims are submitted, a remittance posts once, and nothing names a client."""

import os
import stat

from portal.models import Claim, ClaimBatch, Remittance
from portal.services.claims import batches
from tests.claims import factories as cf
from tests.claims.test_remittances import FIXTURES, fixture
from tests.x12.helpers import assert_valid


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["claims", *args])


def test_export_one_payer_then_all_ready(app, world, tmp_path):
    a = world.a
    with app.test_request_context():
        cf.sendable(a)
        acme = cf.payer(a.practice, payer_code="ACME77")
        zen = cf.payer(a.practice, name="Zenith Mutual")
        first = cf.claim(a.practice, a.c1, a.provider, payer_obj=acme)
        cf.claim(a.practice, a.c2, a.provider, payer_obj=zen)
        cf.claim(a.practice, a.c1, a.provider, payer_obj=zen)
    practice = ["--practice", str(a.practice.id)]
    out = tmp_path / "acme.x12"
    r = _run(app, "export", "--payer", "acme77", "-o", str(out), *practice)
    assert r.exit_code == 0, r.output
    batch = ClaimBatch.get(ClaimBatch.payer == acme.id)
    assert r.output.splitlines() == [
        f"wrote {out}: 837P file 000000001 to {acme.name}, 1 claims, $125.00"
    ]
    assert out.read_bytes() == batches.file_bytes(batch)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert_valid(out.read_text())
    assert Claim.get_by_id(first.id).status == "submitted"
    assert a.c1.last_name not in r.output

    r = _run(app, "export", "--payer", str(acme.id), "-o", str(out), *practice)
    assert r.exit_code == 1 and "There is no ready claim to send." in r.output

    folder = tmp_path / "out"
    r = _run(app, "export", "--all-ready", "-o", str(folder), *practice)
    assert r.exit_code == 0, r.output
    assert os.listdir(folder) == ["837P-000000002.x12"]
    assert "to Zenith Mutual, 2 claims, $250.00" in r.output
    assert_valid((folder / "837P-000000002.x12").read_text())


def test_export_says_what_is_wrong(app, world, tmp_path):
    out = str(tmp_path / "f.x12")
    r = _run(app, "export", "-o", out)
    assert r.exit_code == 2 and "Give either --payer ID or --all-ready." in r.output
    r = _run(app, "export", "--all-ready", "-o", out)
    assert r.exit_code == 1 and "Name the practice with --practice ID" in r.output
    practice = ["--practice", str(world.a.practice.id)]
    r = _run(app, "export", "--payer", "NOPE", "-o", out, *practice)
    assert r.exit_code == 1 and "has the id or payer ID 'NOPE'" in r.output
    with app.test_request_context():
        cf.claim(world.a.practice, world.a.c1, world.a.provider)
    r = _run(app, "export", "--all-ready", "-o", out, *practice)
    assert r.exit_code == 1 and "Settings → Clearinghouse" in r.output
    assert not os.path.exists(out)


def test_import_835_twice_and_unmatched(app, world, tmp_path):
    a = world.a
    with app.test_request_context():
        payer = cf.payer(a.practice, name="Blue Harbor Health", payer_code="BHH01")
        cf.claim(a.practice, a.c1, a.provider, payer_obj=payer, status="submitted",
                 patient_control_number="CLM0000101", lines=(("97124", 60, 4, 12000),))  # fmt: skip
    path = FIXTURES / "835_paid_partial_denied.txt"
    fixture(path.name)  # pyx12 first
    practice = ["--practice", str(a.practice.id)]
    r = _run(app, "import-835", str(path), *practice)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        "posted CLM0000101: Paid, paid $96.00, client's share $0.00",
        "unmatched CLM0000102: paid $63.00 (no claim has this number: match it on the "
        "payment's page)",
        "unmatched CLM0000103: paid $0.00 (no claim has this number: match it on the "
        "payment's page)",
        "1 claims posted, 2 unmatched, 0 client invoices",
    ]
    assert Remittance.get().source == "cli"
    r = _run(app, "import-835", str(path), *practice)
    assert r.exit_code == 1 and "This file was imported on" in r.output
    assert Remittance.select().count() == 1
    bad = tmp_path / "bad.835"
    bad.write_bytes(b"ISA*junk")
    r = _run(app, "import-835", str(bad), *practice)
    assert r.exit_code == 1 and "not a readable 835" in r.output
