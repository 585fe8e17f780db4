"""Eight clients race for one slot through the real routes against a real database file:
exactly one gets it, the others see "just taken" with the next times (409), none 500."""

import datetime as dt
import threading

from portal.booking import start_param
from portal.models import Appointment
from tests import factories
from tests.conftest import login
from tests.scheduling.conftest import local_utc


def test_eight_threads_book_the_same_slot(app, sched, now):
    a = sched.a
    with app.app_context():
        users = [factories.client_user(a.practice) for _ in range(8)]
    clients = []
    for u in users:
        c = app.test_client()
        assert login(c, u).status_code == 302
        clients.append(c)
    start = local_utc(dt.date(2026, 6, 3), 10)
    url = (
        f"/portal/book/confirm?type={a.t60.id}&provider={a.provider.id}&start={start_param(start)}"
    )
    tokens = [c.csrf_token() for c in clients]
    barrier = threading.Barrier(8)
    results = [None] * 8

    def run(i):
        barrier.wait()
        resp = clients[i].post(url, data={"csrf_token": tokens[i]})
        results[i] = (resp.status_code, resp.get_data(as_text=True))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    codes = sorted(code for code, _ in results)
    assert codes == [302] + [409] * 7, codes
    for code, body in results:
        if code == 409:
            assert "that time was just taken" in body.lower()
            assert "The next free times" in body
            assert "/portal/book/confirm?" in body
    booked = Appointment.select().where(Appointment.starts_at == start)
    assert booked.count() == 1
    assert booked.get().client_id in {u.client_id for u in users}
