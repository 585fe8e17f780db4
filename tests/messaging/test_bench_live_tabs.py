"""The benchmark's open tabs (bench/live_tabs.py) against a real server: they open the
inbox, poll as the page does, get 204 while nothing changes and follow the new poller
when something does. (`make bench` keeps 50 of them open while wrk loads the home.)"""

import http.client
import os
import re
import sys
import time
import urllib.parse

from tests.conftest import PASSWORD
from tests.messaging import helpers as h

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "bench")
)

from live_tabs import LiveTabs  # noqa: E402


def _session_cookie(resp):
    """The session cookie among those set (a login also sets the device cookie)."""
    for raw in resp.msg.get_all("Set-Cookie") or []:
        pair = raw.split(";", 1)[0]
        if pair.startswith("portal_session="):
            return pair
    return None


def _login(port, email):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/login")
    resp = conn.getresponse()
    html = resp.read().decode()
    cookie = _session_cookie(resp)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token})
    conn.request(
        "POST",
        "/login",
        body=body,
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 302
    cookie = _session_cookie(resp)
    # The first page stores the CSRF secret in the cookie session (as bench/run.py does).
    conn.request("GET", "/provider/messages/", headers={"Cookie": cookie})
    resp = conn.getresponse()
    resp.read()
    cookie = _session_cookie(resp) or cookie
    conn.close()
    return cookie


def _until(reached, tabs, seconds=20):
    """Wait (on a loaded machine too) until the tabs' figures reach a point, or an error."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        s = tabs.stats.summary()
        if reached(s) or s["errors"]:
            return
        time.sleep(0.05)


def test_tabs_poll_get_204_and_follow_changes(app, live_server, world):
    port = int(live_server.rsplit(":", 1)[1])
    cookies = [_login(port, world.a.therapist.email), _login(port, world.a.frontdesk.email)]
    with LiveTabs(port, cookies, n=6, interval=0.3) as tabs:
        _until(lambda s: s["polls_204"] >= 6, tabs)  # the tabs poll, nothing new yet
        with app.test_request_context():
            h.thread(world.a, body="While the tabs are open")
        _until(lambda s: s["polls"] - s["polls_204"] >= 6, tabs)
    s = tabs.stats.summary()
    assert s["errors"] == [] and s["tabs_open"] == 6
    assert s["polls"] >= 12 and s["polls_204"] >= 6
    assert s["polls"] - s["polls_204"] >= 6  # each tab saw the change once (or more)
