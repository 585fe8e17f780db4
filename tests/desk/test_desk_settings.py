"""The desk's settings on the owner's forms: the check-in window and no-show grace on the
booking policy, the confirmation threshold on the payment settings."""

from portal.models import BillingSettings, BookingPolicy
from tests.conftest import login


def test_the_owner_sets_the_check_in_window_grace_and_threshold(app, client, sched):
    a = sched.a
    login(client, a.owner)
    page = client.get("/provider/schedule/policy").get_data(as_text=True)
    assert 'name="check_in_window_minutes" value="240"' in page.replace("\n", " ") or "240" in page
    data = {
        "min_lead_minutes": 60,
        "max_days_ahead": 30,
        "cancellation_window_hours": 24,
        "late_cancel_fee": "40",
        "no_show_fee": "95",
        "slot_step_minutes": 15,
        "reminder_hours": 24,
        "online_booking_enabled": "y",
        "check_in_window_minutes": 60,
        "no_show_grace_minutes": 10,
    }
    assert client.post("/provider/schedule/policy", data=data).status_code in (302, 303)
    pol = BookingPolicy.get(BookingPolicy.practice == a.practice)
    assert (pol.check_in_window_minutes, pol.no_show_grace_minutes) == (60, 10)
    r = client.post("/provider/schedule/policy", data={**data, "no_show_grace_minutes": -1})
    assert r.status_code == 400
    settings = {"redeem_at": "completion", "invoice_due_days": 14, "confirm_over": "300"}
    assert client.post("/provider/billing/settings", data=settings).status_code == 303
    assert BillingSettings.get(BillingSettings.practice == a.practice).confirm_over_cents == 30000
    r = client.post("/provider/billing/settings", data={**settings, "confirm_over": "lots"})
    assert r.status_code == 400 and "Enter an amount like" in r.get_data(as_text=True)
    assert BillingSettings.get(BillingSettings.practice == a.practice).confirm_over_cents == 30000
