"""The world the two URL-map guards run in (tests/test_access_matrix.py and
tests/test_no_server_errors.py), and the tools they share.

- `build_world(dir)`: the demo practice (every area's demo loader), plus what the demo does
  not make (a card image, an intake submission, a time-off day, a calendar feed, a saved
  card, a checkout attempt), plus a second practice "b" with one user of each role, in one
  SQLite file; built once per test session (the `url_world` fixture in conftest.py).
- `open_app(world, dir)`: a fresh app on a copy of that file (each guard pass writes).
- `Browser`: a test client logged in as one identity (owner, therapist, frontdesk,
  client, tablet or anon, of practice "a" or "b") that re-logs itself in when a request
  ended its session (logout, a stale two-step page), and tells what became of a request:
  `reached`, `login` (sent to log in), `tablet` (sent back to the tablet page) or
  `denied` (404 with an access.denied audit row about this route).
- `url_for_rule(rule, browser)`: the rule's URL with each parameter filled from what that
  identity can see (through portal.access.scoped), so a browser-like request reaches a
  real object. Parameters are matched to models by name (`client_id` -> Client); a new
  name that matches no model fails with a message saying to add it to PARAM_MODELS.
- `parse_forms(html)`: every <form> of a page, as a browser would submit it.
"""

import datetime as dt
import os
import pathlib
import re
import shutil
import sqlite3
import traceback
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

from flask import Response, g
from flask_login import user_unauthorized
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter

from portal import demo, sessions, signup, tokens
from portal.access import scoped
from portal.db import IS_POSTGRES, database
from portal.models import (
    ALL_MODELS,
    Appointment,
    AppointmentType,
    AuditLog,
    AvailabilityException,
    CardImage,
    ChartNote,
    CheckoutAttempt,
    Claim,
    ClaimLine,
    DataExport,
    Icd10Favourite,
    InsurancePolicy,
    IntakeField,
    IntakeForm,
    IntakeSubmission,
    Job,
    MedicalLetter,
    MessageThread,
    NoteTemplate,
    PackageDefinition,
    PackagePurchase,
    PayerFee,
    Practice,
    PriorAuthorization,
    Provider,
    RemittanceClaim,
    SavedPaymentMethod,
    StoredDocument,
    User,
)
from portal.models.claim_paper import MODE_FULL
from portal.provider.claims import remittances as remittance_views
from portal.services import calendar as calendar_svc
from portal.services import intake as intake_svc
from portal.services import letters, practice_export, superbills, uploads
from portal.services.claims import batches as claim_batches
from portal.services.claims import cms1500, cms1500_pdf, remittances
from portal.services.messaging import threads as messaging_threads
from tests import factories, pgtest
from tests.clients.helpers import png_bytes
from tests.conftest import make_app

ROLES = ("owner", "therapist", "frontdesk", "client", "tablet", "anon")
SESSION_COOKIE = "portal_session"

# URL parameter -> model, where the name alone does not say it ("<name>_id" is matched to
# a model called Name, or ending in Name, automatically). Add a line for a new parameter
# whose model has another name.
PARAM_MODELS = {
    "auth_id": PriorAuthorization,
    "card_id": CardImage,
    "attempt_id": CheckoutAttempt,
    "document_id": StoredDocument,
    "form_id": IntakeForm,
    "submission_id": IntakeSubmission,
    "definition_id": PackageDefinition,
    "favourite_id": Icd10Favourite,
    "field_id": IntakeField,
    "note_id": ChartNote,
    "fee_id": PayerFee,
    "policy_id": InsurancePolicy,
    "exception_id": AvailabilityException,
    "type_id": AppointmentType,
    "template_id": NoteTemplate,
    "purchase_id": PackagePurchase,
    "letter_id": MedicalLetter,
    "export_id": DataExport,
    "line_id": ClaimLine,
}
# The same name meaning another model on one endpoint: (endpoint, parameter) -> model.
ENDPOINT_PARAM_MODELS = {
    ("client.card_remove", "card_id"): SavedPaymentMethod,
    # A thread about an appointment (the <kind> token below says which kind).
    ("client.message_new_linked", "object_id"): Appointment,
    ("provider.message_new_linked", "object_id"): Appointment,
    # An 835's line (what it said about one claim), matched or set aside by the desk.
    ("provider.remittance_line_match", "line_id"): RemittanceClaim,
    ("provider.remittance_line_dismiss", "line_id"): RemittanceClaim,
}


@dataclass
class World:
    db_path: str
    instance_path: str
    secret_key: str
    logins: dict  # (side, role) -> (email, password)
    # endpoint -> value of its <token>; "endpoint:parameter" -> an exact id for it
    tokens: dict = field(default_factory=dict)
    intake_form_id: int = 0
    demo_client_id: int = 0


def _extras(ctx):
    """What the demo leaves out, so every route has an object to show."""
    practice, client = ctx["practice"], ctx["client"]
    owner, therapist = ctx["owner"], ctx["therapist"]
    policy = InsurancePolicy.select().where(InsurancePolicy.client == client.id).first()
    for on_policy in (policy, None):  # one on file, one sent by the client, to attach
        CardImage.create(
            practice=practice,
            client=client,
            policy=on_policy,
            side="front",
            uploaded_at=dt.datetime(2026, 11, 1),
            **uploads.store(png_bytes()),
        )
    # Staff rows the staff page acts on: one still invited, one with two-step login on.
    User.create(
        practice=practice, email="invited@demo.example", name="Ivy Invited", role="frontdesk"
    )
    User.create(
        practice=practice,
        email="totp@demo.example",
        name="Tom Totp",
        role="frontdesk",
        password_hash=sessions.hash_password("guard passphrase 2026 ok"),
        totp_enabled=True,
        totp_secret="JBSWY3DPEHPK3PXP",
    )
    form = IntakeForm.select().where(IntakeForm.practice == practice.id).first()
    answers, _errors = intake_svc.read_answers(form, {})
    intake_svc.submit(form, client, answers, "Jordan Avery", owner, via="portal")
    AvailabilityException.create(
        practice=practice,
        provider=therapist.provider_id,
        on_date=dt.date(2026, 12, 24),
        note="Holiday",
    )
    feed_token = calendar_svc.new_feed_token(Provider.get_by_id(therapist.provider_id), user=owner)
    SavedPaymentMethod.create(
        practice=practice,
        client=client,
        stripe_payment_method_id="pm_guard_visa",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2030,
    )
    CheckoutAttempt.create(practice=practice, client=client, purpose="invoice")
    # A photo in the demo client's first thread, so the attachment routes have a file.
    thread = MessageThread.select().where(MessageThread.client == client.id).first()
    messaging_threads.send_message(thread, ctx["client_user"], "Here is my card.", png_bytes())
    # A batch of work the front desk started, finished with a stored result.
    doc = StoredDocument.create(
        practice=practice,
        kind="other",
        filename="result.pdf",
        data=b"%PDF-1.4 guard",
        sha256="0" * 64,
        size_bytes=14,
    )
    Job.create(
        practice=practice,
        created_by=ctx["frontdesk"],
        kind="guard",
        title="Guard job",
        status="done",
        total=1,
        done=1,
        document=doc,
    )
    # An 837P file of one ready claim, and the demo's example 835 imported (one of its
    # claims is no claim of the practice: an unmatched line for the desk).
    (_payer, ready), *_ = claim_batches.ready_by_payer(practice.id)
    claim_batches.build(practice.id, claim_ids=[ready[0].id], user=ctx["frontdesk"])
    example = remittance_views.example_document(practice.id)
    remittances.import_835(practice.id, bytes(example.data), source="demo")
    reset = tokens.issue_token(ctx["client_user"], "reset")
    # The first claim's paper form, issued, for the route that downloads it (its two ids
    # must belong together: given exactly, "endpoint:parameter" -> id).
    first_claim = Claim.select().where(Claim.practice == practice.id).order_by(Claim.id).first()
    paper_doc = cms1500_pdf.issue(
        cms1500.load_claim(first_claim.id, practice.id), MODE_FULL, user=owner
    )
    _client_documents(ctx)
    verify = signup._issue_link(ctx["client_user"], "/portal/")
    return {
        "signup.verify": verify,
        "provider.report_csv": "revenue-by-month",
        "provider.claim_cms1500_document:claim_id": first_claim.id,
        "provider.claim_cms1500_document:document_id": paper_doc.id,
        "public_booking.calendar_feed_ics": feed_token,
        "auth.set_password": reset,
        "client.message_new_linked": "appointment",
        "provider.message_new_linked": "appointment",
    }


def _client_documents(ctx):
    """Issue 12's objects: a superbill of the demo client's paid visits, a draft and a
    signed letter of medical necessity, and an export the owner made."""
    client, owner = ctx["client"], ctx["owner"]
    practice = ctx["practice"]
    today = dt.date.today()
    visits = superbills.candidates(client, today - dt.timedelta(days=300), today)
    paid = [v.appointment_id for v in visits if v.eligible]
    if paid:
        superbills.issue(client, paid, today - dt.timedelta(days=300), today, user=owner)
    provider = Provider.get_by_id(ctx["therapist"].provider_id)
    data = {
        "diagnoses": "M54.50",
        "referring_name": "",
        "referring_npi": "",
        "treatment_plan": "Weekly massage of the lumbar area.",
        "frequency": "once a week",
        "duration": "8 weeks",
        "expected_outcome": "Less pain when sitting.",
        "start_date": today,
        "end_date": today + dt.timedelta(days=60),
    }
    letters.save_draft(client, provider, data, owner)
    signed = letters.save_draft(client, provider, data, owner)
    letters.sign(signed, f"{provider.first_name} {provider.last_name}", owner)
    export = practice_export.start(owner)
    practice_export.build(export.id)
    assert practice.id == export.practice_id


def build_world(base):
    """Build the world's database once; returns a World."""
    os.makedirs(base, exist_ok=True)
    app = make_app(pathlib.Path(base))
    logins = {}
    with app.test_request_context():
        database.connect(reuse_if_open=True)
        ctx = demo.load()
        tokens = _extras(ctx)
        for role, user in (
            ("owner", ctx["owner"]),
            ("therapist", ctx["therapist"]),
            ("frontdesk", ctx["frontdesk"]),
            ("client", ctx["client_user"]),
        ):
            logins[("a", role)] = (user.email, demo.DEMO_PASSWORDS[user.email])
        logins[("a", "tablet")] = logins[("a", "frontdesk")]
        b = factories.practice(name="Guard practice B")
        prov = factories.provider(b)
        for role in ("owner", "therapist", "frontdesk"):
            extra = {"provider": prov} if role == "therapist" else {}
            u = factories.user(b, role, **extra)
            logins[("b", role)] = (u.email, factories.PASSWORD)
        cu = factories.client_user(b)
        logins[("b", "client")] = (cu.email, factories.PASSWORD)
        logins[("b", "tablet")] = logins[("b", "frontdesk")]
        form_id = IntakeForm.select().where(IntakeForm.practice == ctx["practice"].id).first().id
        demo_client_id = ctx["client"].id
    database.close_all()
    # On PostgreSQL the world is a database of its own, copied from the test's working one.
    where = (
        pgtest.create(template=pgtest.name_of(app.config["DATABASE_URL"])) if IS_POSTGRES else None
    )
    return World(
        db_path=where or app.config["DATABASE"],
        instance_path=app.instance_path,
        secret_key=app.config["SECRET_KEY"],
        logins=logins,
        tokens=tokens,
        intake_form_id=form_id,
        demo_client_id=demo_client_id,
    )


def open_app(world, base):
    """A fresh app on a copy of the world's database and instance folder."""
    os.makedirs(base, exist_ok=True)
    if IS_POSTGRES:
        url = pgtest.create(template=pgtest.name_of(world.db_path))
        pgtest.forget_later(url)
        where = {"DATABASE_URL": url}
    else:
        db_path = os.path.join(base, "portal.sqlite3")
        src, dst = sqlite3.connect(world.db_path), sqlite3.connect(db_path)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        where = {"DATABASE": db_path}
    instance = os.path.join(base, "instance")
    shutil.copytree(world.instance_path, instance)
    app = make_app(pathlib.Path(base), INSTANCE_PATH=instance, SECRET_KEY=world.secret_key, **where)
    _instrument(app)
    return app


def _instrument(app):
    """Mark a response that flask-login's unauthorized() produced (its own signal)."""

    def mark(sender, **extra):
        g.guard_unauthorized = True

    user_unauthorized.connect(mark, app, weak=False)

    @app.after_request
    def _tell(resp):
        if g.get("guard_unauthorized"):
            resp.headers["X-Guard-Unauthorized"] = "1"
        return resp


# --- identities ---------------------------------------------------------------------------


class Browser:
    """A test client as one identity, re-logged in whenever a request ended its session."""

    def __init__(self, app, world, role, side="a"):
        self.app, self.world, self.role, self.side = app, world, role, side
        self.client = app.test_client()
        self.user = None
        self._seen_audit = 0
        if role != "anon":
            with app.app_context():
                email = world.logins[(side, role)][0]
                self.user = User.get(User.email == email)
        self.start()

    def start(self):
        if self.role == "anon":
            return
        email, password = self.world.logins[(self.side, self.role)]
        r = self.client.post("/login", data={"email": email, "password": password})
        assert r.status_code == 302, f"{self.role} of {self.side} cannot log in: {r.status_code}"
        if self.role == "tablet":
            client_id = self._tablet_client()
            form_id = self._tablet_form()
            r = self.client.post(f"/provider/clients/{client_id}/tablet", data={"form": form_id})
            assert r.headers.get("Location", "").endswith("/provider/tablet"), r.status_code

    def _tablet_client(self):
        with self.app.app_context():
            return scoped_first(self.app, self.user, _model("Client"))

    def _tablet_form(self):
        with self.app.app_context():
            return scoped_first(self.app, self.user, IntakeForm)

    def session_alive(self):
        with self.client.session_transaction() as sess:
            if "_user_id" not in sess:
                return False
            return self.role != "tablet" or bool(sess.get("tablet"))

    def request(self, method, url, **kw):
        """(response, access.denied rows it wrote). An exception escaping the app (tests
        propagate them) comes back as a 500 whose body names where it was raised."""
        before = self._audit_mark()
        try:
            resp = self.client.open(url, method=method, **kw)
        except Exception as exc:  # noqa: BLE001 - any escape is the finding
            frames = [
                f for f in traceback.extract_tb(exc.__traceback__) if "/portal/" in f.filename
            ]
            where = (
                f" at {frames[-1].filename.split('/portal/')[-1]}:{frames[-1].lineno}"
                if frames
                else ""
            )
            resp = Response(
                f"{type(exc).__name__}: {str(exc)[:120]}{where}", 500, mimetype="text/plain"
            )
        denied = self._denials_since(before)
        if self.role != "anon" and SESSION_COOKIE in " ".join(resp.headers.getlist("Set-Cookie")):
            if not self.session_alive():
                self.client = self.app.test_client()
                self.start()
        elif self.role not in ("anon", "tablet") and resp.headers.get("Location", "").endswith(
            "/provider/tablet"
        ):
            with self.client.session_transaction() as sess:
                sess.pop("tablet", None)  # a staff identity handed the tablet: take it back
        return resp, denied

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, data=None, **kw):
        """POST `data` (a dict, or a list of (name, value) pairs: names may repeat) with a
        valid CSRF token unless the data carries one."""
        data = MultiDict(list(data.items()) if isinstance(data, dict) else list(data or []))
        token = self.client.csrf_token()
        if "csrf_token" not in data:
            data["csrf_token"] = token
        headers = {"X-CSRFToken": token}
        return self.request("POST", url, data=data, headers=headers, **kw)

    def _audit_mark(self):
        with self.app.app_context():
            row = AuditLog.select(AuditLog.id).order_by(AuditLog.id.desc()).first()
            return row.id if row else 0

    def _denials_since(self, mark):
        with self.app.app_context():
            return list(
                AuditLog.select().where((AuditLog.id > mark) & (AuditLog.action == "access.denied"))
            )


def outcome(browser, resp, denied, url_ids):
    """reached | login | tablet | denied (see the module docstring)."""
    if resp.headers.get("X-Guard-Unauthorized"):
        return "login"
    location = resp.headers.get("Location", "")
    if resp.status_code in (301, 302, 303) and location.endswith("/provider/tablet"):
        if browser.role == "tablet":
            return "tablet"
    for row in denied:
        if browser.user is not None and row.user_id != browser.user.id:
            continue  # the owning practice's copy of a probe
        if row.detail.endswith(" role") or (row.object_id is not None and row.object_id in url_ids):
            return "denied"
    return "reached"


# --- filling URL parameters ------------------------------------------------------------------


def _model(name):
    for m in ALL_MODELS:
        if m.__name__ == name:
            return m
    raise LookupError(name)


def model_for(endpoint, param):
    if (endpoint, param) in ENDPOINT_PARAM_MODELS:
        return ENDPOINT_PARAM_MODELS[(endpoint, param)]
    if param in PARAM_MODELS:
        return PARAM_MODELS[param]
    if not param.endswith("_id"):
        return None
    camel = "".join(part.title() for part in param[:-3].split("_"))
    exact = [m for m in ALL_MODELS if m.__name__ == camel]
    suffix = [m for m in ALL_MODELS if m.__name__.endswith(camel)]
    found = exact or (suffix if len(suffix) == 1 else [])
    if not found:
        raise AssertionError(
            f"{endpoint}: no model for URL parameter <{param}>. Add it to PARAM_MODELS (or "
            "ENDPOINT_PARAM_MODELS) in tests/urlmap_world.py."
        )
    return found[0]


def scoped_first(app, user, model):
    """The first id of `model` that `user` sees, or None."""
    if model is Practice:
        return user.practice_id
    q = scoped(model, user=user).order_by(model.id).limit(1)
    row = q.first()
    return row.id if row is not None else None


class UrlFiller:
    """Fills rules' parameters for one identity, falling back to the owner's view."""

    def __init__(self, app, world, browser, owner_user):
        self.app, self.world, self.browser, self.owner = app, world, browser, owner_user
        self.cache = {}

    def value(self, rule, name):
        exact = self.world.tokens.get(f"{rule.endpoint}:{name}")
        if exact is not None:
            return exact
        conv = rule._converters.get(name)
        if not isinstance(conv, IntegerConverter):
            return self.world.tokens.get(rule.endpoint, "guard")
        model = model_for(rule.endpoint, name)
        if model is None:
            return 1
        for user in (self.browser.user, self.owner):
            if user is None:
                continue
            key = (user.id, model)
            if key not in self.cache:
                with self.app.app_context():
                    self.cache[key] = scoped_first(self.app, user, model)
            if self.cache[key] is not None:
                return self.cache[key]
        return 1

    def url(self, rule):
        values = {name: self.value(rule, name) for name in rule.arguments}
        built = rule.build(values, append_unknown=False)
        assert built is not None, f"cannot build {rule.rule}"
        ids = {v for v in values.values() if isinstance(v, int)}
        return built[1], ids


def routes(app):
    """[(rule, method)] for every rule and method of the URL map but static files."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule, method))
    return sorted(out, key=lambda rm: (rm[0].rule, rm[1]))


# --- forms as a browser submits them -----------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str
    fields: list  # [(name, value)] as a browser would send them
    kinds: dict  # name -> input type / "select" / "textarea"
    options: dict  # select name -> [option values]
    required: dict = field(default_factory=dict)  # name -> its attributes, when required


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.links = [], []
        self._form = None
        self._select = None
        self._textarea = None
        self._buttons = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag != "form" and a.get("hx-get"):
            self.links.append(a["hx-get"])  # a section loaded, or a link followed, by HTMX
        if tag in ("input", "select", "textarea", "button") and a.get("hx-post"):
            # An HTMX control (a live search box) posts its own value, in a form or not.
            name = a.get("name")
            self.forms.append(
                {
                    "method": "POST",
                    "action": a["hx-post"],
                    "fields": [(name, a.get("value", ""))] if name else [],
                    "kinds": {name: (a.get("type") or "text").lower()} if name else {},
                    "options": {},
                    "required": {},
                    "file_fields": [],
                }
            )
        if tag == "form":
            self._form = {
                "method": (a.get("method") or "get").upper(),
                "action": a.get("action") or a.get("hx-post") or a.get("hx-get") or "",
                "fields": [],
                "kinds": {},
                "options": {},
                "required": {},
            }
            if a.get("hx-post"):
                self._form["method"] = "POST"
            self._buttons = []
            return
        if self._form is None:
            return
        name = a.get("name")
        if name and "required" in a and tag in ("input", "select", "textarea"):
            self._form["required"][name] = a
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            self._form["kinds"][name] = kind
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"].append((name, a.get("value", "on")))
            elif kind in ("submit", "button", "image", "reset"):
                self._buttons.append((name, a.get("value", "")))
            elif kind == "file":
                pass
            else:
                self._form["fields"].append((name, a.get("value", "")))
        elif tag == "button" and name and (a.get("type") or "submit") == "submit":
            self._buttons.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in a, "chosen": [], "all": []}
            self._form["kinds"][name] = "select"
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select["all"].append(value)
            if "selected" in a:
                self._select["chosen"].append(value)
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
            self._form["kinds"][name] = "textarea"

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if self._form is None:
            return
        if tag == "select" and self._select is not None:
            s = self._select
            chosen = s["chosen"] or ([] if s["multiple"] else s["all"][:1])
            self._form["fields"].extend((s["name"], v) for v in chosen)
            self._form["options"][s["name"]] = s["all"]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._form["fields"].append(tuple(self._textarea))
            self._textarea = None
        elif tag == "form":
            f = self._form
            if self._buttons:
                f["fields"].append(self._buttons[0])  # the first submit button, as Enter does
            f["file_fields"] = [n for n, k in f["kinds"].items() if k == "file"]
            self.forms.append(f)
            self._form = None


def parse_forms(html, page_url):
    """(forms, links) of a page; form actions and links resolved against page_url."""
    p = _FormParser()
    p.feed(html)
    forms = []
    for f in p.forms:
        action = f["action"] or page_url
        forms.append(
            (
                Form(f["method"], action, f["fields"], f["kinds"], f["options"], f["required"]),
                f["file_fields"],
            )
        )
    links = [h for h in p.links if h.startswith("/") and not h.startswith("//")]
    return forms, links


def local_target(app, url):
    """(endpoint, path, query pairs) of a local URL, or None (static files, other sites)."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(parts.path, method="GET")
    except Exception:
        try:
            endpoint, _args = adapter.match(parts.path, method="POST")
        except Exception:
            return None
    if endpoint == "static":
        return None
    return endpoint, parts.path, parse_qsl(parts.query, keep_blank_values=True)


# --- values a person would type into an empty field ---------------------------------------------

_SEQ = [0]


def typed_value(name, kind, options=None, attrs=None):
    """A plausible value for an empty required field, from its type, name and limits."""
    n = name.lower()
    attrs = attrs or {}
    _SEQ[0] += 1
    if kind == "select":
        real = [o for o in options or [] if o not in ("", "0")]
        return real[0] if real else ""
    if kind == "email" or "email" in n:
        return f"guard{_SEQ[0]}@example.com"
    if "password" in n or n in ("confirm", "current"):
        return "guard passphrase 2026 ok"
    if kind == "date" or "date" in n or "birth" in n or n == "dob":
        return "1980-05-17" if ("birth" in n or n == "dob") else "2026-12-01"
    if kind == "time" or n.endswith("time"):
        return "10:00"
    if kind == "tel" or "phone" in n:
        return "503-555-0100"
    if "npi" in n:
        return "1234567893"
    if n == "ein":
        return "93-1234567"
    if n.endswith("state"):
        return "OR"
    if "postal" in n or "zip" in n:
        return "97205"
    if re.search(r"amount|price|fee|cents|dollars", n):
        return "10.00"
    if kind == "number" or re.search(r"minutes|sessions|days|visits|count|units|pain", n):
        return attrs.get("min") or "1"
    if "code" in n:
        return "97124"
    return "Guard value"


def filled(form):
    """The form's fields as a person fills them: what the page shows, and a plausible value
    in each empty field marked required (optional ones stay empty)."""
    out = []
    for name, value in form.fields:
        kind = form.kinds.get(name, "text")
        attrs = form.required.get(name)
        if value == "" and attrs is not None and kind not in ("hidden", "checkbox", "radio"):
            value = typed_value(name, kind, form.options.get(name), attrs)
        out.append((name, value))
    return out
