"""`flask --app wsgi claims create-due | list`, and the nightly task that runs create-due."""

import datetime as dt

from portal.models import Claim, InsurancePolicy
from portal.tasks import claims as claim_tasks
from tests.claims import factories as cf


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["claims", *args])


def test_create_due_prints_what_it_made_and_skipped(app, world):
    with app.test_request_context():
        late, pol = cf.insured_visit(world.a, policy_kw={"active": False})
        skipped, _ = cf.insured_visit(
            world.a, client=world.a.c2, day=dt.date(2026, 11, 3), policy_kw={"active": False}
        )
    InsurancePolicy.update(active=True).where(InsurancePolicy.id == pol.id).execute()
    r = _run(app, "create-due", "--practice", str(world.a.practice.id))
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        f"created V{late.id}P1 2026-11-02 Ready",
        f"skipped visit {skipped.id}: The client has no active primary insurance policy for "
        "the visit.",
        "Claims created: 1; visits skipped: 1",
    ]
    r = _run(app, "create-due")
    assert r.output.splitlines()[-1] == "Claims created: 0; visits skipped: 1"


def test_list_prints_one_line_per_claim_without_names(app, world):
    with app.test_request_context():
        ready = cf.claim(world.a.practice, world.a.c1, world.a.provider, status="ready")
        paid = cf.claim(
            world.a.practice,
            world.a.c2,
            world.a.provider,
            status="paid",
            day=dt.date(2026, 11, 3),
            paid_cents=9000,
            adjusted_cents=3500,
        )
        cf.claim(world.b.practice, world.b.c1, world.b.provider, status="draft")
    r = _run(app, "list")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert len(lines) == 4 and lines[-1] == "3 claims"
    assert lines[0].split()[:3] == [str(paid.id), paid.patient_control_number, "2026-11-03"]
    assert "Paid" in lines[0] and "total    $125.00 paid     $90.00 balance      $0.00" in lines[0]
    assert world.a.c1.last_name not in r.output and world.a.c1.first_name not in r.output
    r = _run(app, "list", "--status", "ready", "--practice", str(world.a.practice.id))
    assert r.output.splitlines() == [r.output.splitlines()[0], "1 claim"]
    assert r.output.startswith(f"{ready.id:>6} {ready.patient_control_number}")
    assert "balance    $125.00" in r.output
    r = _run(app, "list", "--status", "nonsense")
    assert r.exit_code != 0 and "Invalid value for '--status'" in r.output


def test_the_nightly_task_is_registered_and_makes_the_claims_due(app, world):
    registered = app.extensions["huey_tasks"]
    assert "portal.tasks.claims.create_due_claims" in registered
    with app.test_request_context():
        late, pol = cf.insured_visit(world.a, policy_kw={"active": False})
    InsurancePolicy.update(active=True).where(InsurancePolicy.id == pol.id).execute()
    with app.app_context():
        assert claim_tasks.create_due_claims() == 1
    assert Claim.get(Claim.appointment == late.id).status == "ready"
