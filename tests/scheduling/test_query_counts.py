"""The schedule's busy pages run a fixed number of queries, whatever the day holds: no
query per appointment, per provider or per free half hour (render cache off, so every
request renders)."""

import datetime as dt
import logging

import pytest

from portal.services import scheduling as svc
from tests.conftest import login
from tests.scheduling.conftest import local_utc

DAY = dt.date(2026, 6, 3)
TODAY = dt.date(2026, 6, 1)  # the scheduling fixtures' clock

# What one request may run, session and audit included. The single-module schedule ran
# 7, 8 (its own therapist scoping query), 6, 5 and 6; a higher count is a regression.
PAGES = [
    # page              who          url                                          at most
    ("day, everyone", "owner", f"/provider/schedule/?date={DAY}&provider=all", 6),
    ("day, own column", "therapist", f"/provider/schedule/?date={DAY}", 6),
    ("day, front desk", "frontdesk", f"/provider/schedule/?date={DAY}&provider=all", 5),
    ("week, everyone", "owner", f"/provider/schedule/?date={DAY}&view=week&provider=all", 5),
    ("home", "therapist", "/provider/", 5),
]


class _Counter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record):
        self.count += 1


def _queries(client, url):
    logger = logging.getLogger("peewee")
    counter, level = _Counter(), logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        resp = client.get(url)
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
    assert resp.status_code == 200, url
    return counter.count, resp.get_data(as_text=True)


def _book(side, day, slots):
    """Visits with both providers at 9:00 + 75 minutes x slot, alternating the clients."""
    for i in slots:
        for k, prov in enumerate((side.provider, side.provider2)):
            svc.book(
                practice=side.practice,
                client=(side.c1, side.c2)[(i + k) % 2],
                appt_type=side.t60,
                provider=prov,
                starts_at=local_utc(day, 9) + dt.timedelta(minutes=75 * i),
                send_confirmation=False,
                # each client alternates providers back to back: staff said why
                override_reason="a full test day",
            )


def _counts(app, side):
    """{page: queries} and {page: visits shown}."""
    counts, shown = {}, {}
    for name, role, url, _bound in PAGES:
        client = app.test_client()
        login(client, getattr(side, role))
        client.get(url)  # the first page after login settles the session
        counts[name], body = _queries(client, url)
        shown[name] = body.count('class="appt ') + body.count('class="week-appt ')
        shown[name] += body.count('<li><a href="/provider/appointments/')
    return counts, shown


@pytest.mark.parametrize("see_all", [True, False])
def test_queries_do_not_grow_with_the_day(app, sched, see_all):
    a = sched.a
    app.config["PAGE_CACHE"] = False
    a.practice.therapists_see_all_clients = see_all
    a.practice.save()
    with app.test_request_context():
        _book(a, DAY, range(1))
        _book(a, TODAY, range(1))
    few, shown_few = _counts(app, a)
    with app.test_request_context():
        _book(a, DAY, range(1, 6))
        _book(a, TODAY, range(1, 4))
        early = svc.book(
            practice=a.practice,
            client=a.c1,
            appt_type=a.t60,
            provider=a.provider,
            starts_at=local_utc(DAY, 7),
            send_confirmation=False,
        )
        svc.cancel(early)
    many, shown_many = _counts(app, a)
    assert few == many
    # 12 on the grid and the cancelled one in its list below
    assert shown_few["day, everyone"] == 2 and shown_many["day, everyone"] == 13
    assert shown_many["week, everyone"] == 12 + 8
    assert shown_many["home"] > shown_few["home"] > 0
    for name, _role, _url, bound in PAGES:
        assert many[name] <= bound, (name, many[name])


def test_a_clients_appointments_page_loads_types_and_providers_with_the_visits(app, sched):
    a = sched.a
    app.config["PAGE_CACHE"] = False
    client = app.test_client()
    login(client, a.cu1)
    url = "/portal/appointments"
    client.get(url)
    with app.test_request_context():
        _book(a, DAY, range(1))
    few, body = _queries(client, url)
    assert body.count("60-minute massage") == 1
    with app.test_request_context():
        _book(a, DAY, range(1, 6))
        _book(a, TODAY, range(0, 3))
    many, body = _queries(client, url)
    assert body.count("60-minute massage") == 6 + 3  # c1 has one visit at each time
    assert few == many
