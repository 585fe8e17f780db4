"""Billing fixtures: a real localstripe server on 127.0.0.1, the Checkout stub, helpers.

`localstripe_url` (session): localstripe's aiohttp app served by an AppRunner/TCPSite on
its own event loop in a background thread, bound to 127.0.0.1 on a free port. Its store
normally pickles itself to /tmp/localstripe.pickle on every change; here the dump goes to
a temporary file instead.

`app` (overrides the global one for billing tests): the test app configured with
STRIPE_SECRET_KEY='sk_test_...', STRIPE_API_BASE=<localstripe>, a webhook secret, and
STRIPE_HTTP_CLIENT = CheckoutStub.

CheckoutStub is the ONLY stub: localstripe has no Checkout Sessions, so this subclass of
stripe-python's own HTTP client answers /v1/checkout/sessions itself and forwards every
other request to localstripe unchanged. When a payment-mode session is "paid", it creates
a real PaymentIntent (pm_card_visa) in localstripe, so refunds of it are real too.
"""

import asyncio
import datetime as dt
import json
import pickle
import secrets
import socket
import threading
import time
import urllib.parse

import pytest
import stripe

from portal import clock
from tests.conftest import make_app

WEBHOOK_SECRET = "whsec_test_" + "b" * 24


_LOCALSTRIPE = {}  # one server per test session, shared by every module that uses it


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory):
    if "url" in _LOCALSTRIPE:
        yield _LOCALSTRIPE["url"]
        return
    from aiohttp import web
    from localstripe import resources

    dump_path = tmp_path_factory.mktemp("localstripe") / "store.pickle"

    def dump_to_disk(self):
        with open(dump_path, "wb") as fh:
            pickle.dump(dict(self), fh, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.dump_to_disk = dump_to_disk
    resources.Store.try_load_from_disk = lambda self: None
    from localstripe.server import app as ls_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder = {}

    def serve():
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(ls_app, access_log=None)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", port)
        loop.run_until_complete(site.start())
        holder["runner"] = runner
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=serve, daemon=True, name="localstripe")
    thread.start()
    assert ready.wait(10), "localstripe did not start"
    _LOCALSTRIPE["url"] = f"http://127.0.0.1:{port}"
    yield _LOCALSTRIPE["url"]
    # The server thread is a daemon: it stops with the session. (Stopping it here would
    # pull it from under another module's fixture instance that shares it.)


class CheckoutStub(stripe.RequestsClient):
    """stripe-python's HTTP client with Checkout Sessions answered locally (see above)."""

    def __init__(self, api_base):
        super().__init__()
        self.api_base = api_base
        self.sessions = {}
        self.calls = []
        self.lock = threading.Lock()
        self.auto_pay = True  # sessions are paid the moment they are created

    def request(self, method, url, headers, post_data=None):
        parts = urllib.parse.urlsplit(url)
        if parts.path.startswith("/v1/checkout/sessions"):
            return self._checkout(method, parts, headers, post_data)
        return super().request(method, url, headers, post_data)

    def _reply(self, obj, code=200):
        return json.dumps(obj).encode(), code, {"request-id": "req_stub"}

    def _checkout(self, method, parts, headers, post_data):
        key = parts.path.split("/")[4] if parts.path.count("/") >= 4 else None
        with self.lock:
            method = method.lower()
            self.calls.append((method, parts.path, dict(headers or {})))
            if method == "post" and not key:
                params = _parse(post_data)
                idem = (headers or {}).get("Idempotency-Key")
                for s in self.sessions.values():
                    if idem and s["_idem"] == idem:
                        return self._reply(_public(s))
                sid = "cs_test_" + secrets.token_hex(8)
                s = {
                    "id": sid,
                    "object": "checkout.session",
                    "mode": params["mode"],
                    "status": "open",
                    "payment_status": "unpaid",
                    "client_reference_id": params.get("client_reference_id"),
                    "metadata": params.get("metadata", {}),
                    "customer": params.get("customer"),
                    "currency": params.get("currency"),
                    "success_url": params["success_url"],
                    "_idem": idem,
                }
                if params["mode"] == "payment":
                    item = params["line_items"][0]
                    s["amount_total"] = int(item["price_data"]["unit_amount"])
                    s["currency"] = item["price_data"]["currency"]
                    s["payment_intent"] = None
                else:
                    s["setup_intent"] = None
                s["url"] = params["success_url"].replace("{CHECKOUT_SESSION_ID}", sid)
                self.sessions[sid] = s
                if self.auto_pay:
                    self._complete(s)
                return self._reply(_public(s))
            s = self.sessions.get(key)
            if s is None:
                return self._reply({"error": {"message": "No such session"}}, 404)
            return self._reply(_public(s, expand=True, client=self))

    def _complete(self, s):
        """Pay the session: a real PaymentIntent in localstripe (or a saved card)."""
        if s["mode"] == "payment":
            c = stripe.StripeClient("sk_test_stub", base_addresses={"api": self.api_base})
            pi = c.v1.payment_intents.create(
                params={
                    "amount": s["amount_total"],
                    "currency": s["currency"],
                    "payment_method": "pm_card_visa",
                    "confirm": True,
                    "metadata": s["metadata"],
                }
            )
            s["payment_intent"] = pi.id
            s["payment_status"] = "paid"
        else:
            s["setup_intent"] = {
                "id": "seti_" + secrets.token_hex(6),
                "payment_method": {
                    "id": "pm_card_visa",
                    "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
                },
            }
        s["status"] = "complete"


def _public(s, expand=False, client=None):
    out = {k: v for k, v in s.items() if not k.startswith("_")}
    if expand and out.get("payment_intent") and client is not None:
        c = stripe.StripeClient("sk_test_stub", base_addresses={"api": client.api_base})
        out["payment_intent"] = c.v1.payment_intents.retrieve(out["payment_intent"]).to_dict()
    return out


def _parse(post_data):
    """Decode stripe's form encoding (a[b][0][c]=v) into nested dicts/lists."""
    raw = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
    root = {}
    for k, v in urllib.parse.parse_qsl(raw, keep_blank_values=True):
        keys = k.replace("]", "").split("[")
        node = root
        for part in keys[:-1]:
            node = node.setdefault(part, {})
        node[keys[-1]] = v

    def listify(node):
        if isinstance(node, dict):
            if node and all(x.isdigit() for x in node):
                return [listify(node[x]) for x in sorted(node, key=int)]
            return {x: listify(y) for x, y in node.items()}
        return node

    return listify(root)


@pytest.fixture
def checkout_stub(localstripe_url):
    return CheckoutStub(localstripe_url)


@pytest.fixture
def app(tmp_path, localstripe_url, checkout_stub):
    """Billing tests run against an app configured for localstripe (+ the Checkout stub)."""
    from portal.db import database

    app = make_app(
        tmp_path,
        STRIPE_SECRET_KEY="sk_test_" + "a" * 24,
        STRIPE_API_BASE=localstripe_url,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_HTTP_CLIENT=checkout_stub,
    )
    database.connect(reuse_if_open=True)
    yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def webhook_to(localstripe_url):
    """register(url): localstripe posts its events to `url`, signed with WEBHOOK_SECRET."""
    import urllib.request

    from localstripe import webhooks

    names = []

    def register(url):
        name = "portal" + secrets.token_hex(4)
        body = urllib.parse.urlencode({"url": url, "secret": WEBHOOK_SECRET}).encode()
        req = urllib.request.Request(f"{localstripe_url}/_config/webhooks/{name}", data=body)
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200
        names.append(name)

    yield register
    for name in names:
        webhooks._webhooks.pop(name, None)


# --- helpers -------------------------------------------------------------------------------


def appt_type(practice, price_cents=10000, name="60-minute massage", codes=(("97124", 60),)):
    from portal.models.scheduling import AppointmentType, AppointmentTypeCode

    t = AppointmentType.create(
        practice=practice, name=name, duration_minutes=60, price_cents=price_cents
    )
    for code, minutes in codes:
        AppointmentTypeCode.create(
            practice=practice, appointment_type=t, cpt_code=code, minutes=minutes
        )
    return t


_slot = {"n": 0}


def appointment(practice, client, provider, atype, status="booked", days_ago=1, fee_due_cents=0):
    """An appointment row made with the scheduling models (each at its own hour)."""
    from portal.models.scheduling import Appointment

    _slot["n"] += 1
    start = clock.utcnow().replace(minute=0, second=0, microsecond=0) - dt.timedelta(
        days=days_ago, hours=_slot["n"] * 2
    )
    return Appointment.create(
        practice=practice,
        client=client,
        provider=provider,
        appointment_type=atype,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=60),
        blocked_until=start + dt.timedelta(minutes=60),
        status=status,
        fee_due_cents=fee_due_cents,
    )


def package(
    practice,
    sessions=5,
    price_cents=42500,
    name="5 x 60-minute massage",
    types=(),
    expiry_days=None,
    sold_online=True,
):
    from portal.services import packages

    return packages.save_definition(
        practice.id,
        name=name,
        sessions=sessions,
        price_cents=price_cents,
        expiry_days=expiry_days,
        sold_online=sold_online,
        type_ids=[t.id for t in types],
        user=None,
    )


def signed(payload: dict, secret=WEBHOOK_SECRET, timestamp=None):
    body = json.dumps(payload)
    header = stripe.WebhookSignature.generate_signature_header(
        body, secret, timestamp=timestamp or int(time.time())
    )
    return body, {"Stripe-Signature": header, "Content-Type": "application/json"}
