"""Response headers (CSP without unsafe-inline, framing, sniffing, referrer, HSTS over TLS,
no server banner) and templates free of inline script, style and event handlers."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from portal import ROOT
from tests.conftest import login

TEMPLATES = os.path.join(ROOT, "templates")


def _csp(resp):
    return {
        d.split()[0]: d.split()[1:]
        for d in (p.strip() for p in resp.headers["Content-Security-Policy"].split(";"))
        if d
    }


@pytest.mark.parametrize("path", ["/login", "/no-such-page", "/healthz"])
def test_csp_and_safety_headers_on_every_kind_of_response(client, path):
    r = client.get(path)
    csp = r.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    d = _csp(r)
    assert d["frame-ancestors"] == ["'none'"]
    assert d["script-src"] == ["'self'"]
    assert d["style-src"] == ["'self'"]
    assert d["object-src"] == ["'none'"]
    assert d["default-src"] == ["'self'"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] in {"same-origin", "no-referrer", "strict-origin"}
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "Server" not in r.headers


def test_logged_in_pages_are_not_cached(client, world):
    login(client, world.a.owner)
    r = client.get("/provider/settings/practice")
    assert r.headers["Cache-Control"] == "no-store"
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    r = client.get("/login", base_url="https://localhost")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_session_cookie_flags(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path, DEV=False, SESSION_COOKIE_SECURE=True)
    c = app.test_client()
    r = c.get("/login", base_url="https://localhost")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_htmx_is_vendored_and_configured_for_the_csp(client):
    page = client.get("/login").get_data(as_text=True)
    src = re.search(r'<script src="(/static/vendor/htmx-2\.0\.\d+\.min\.js)" defer>', page)
    assert src, "htmx 2.0.x must be served from static/vendor"
    assert client.get(src.group(1)).status_code == 200
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page).group(1))
    assert config["includeIndicatorStyles"] is False
    # settling would copy a style attribute set by the browser onto swapped-in inputs
    assert "style" not in config["attributesToSettle"]
    assert "class" in config["attributesToSettle"]
    head = page.split("<body")[0]
    for url in re.findall(r'(?:src|href)="([^"]+)"', head):
        assert url.startswith("/static/"), f"{url}: only our own static files, never a CDN"


# --- templates: no inline script, style or handlers -------------------------------------

SCRIPT_WITH_BODY = re.compile(r"<script\b[^>]*>\s*[^<\s]", re.I)
STYLE_BLOCK = re.compile(r"<style\b", re.I)
STYLE_ATTR = re.compile(r"\sstyle\s*=", re.I)
ON_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I | re.S)
HX_ON = re.compile(r"\shx-on(:|-|\b)", re.I)
JS_URL = re.compile(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", re.I)


def _template_files():
    for dirpath, _dirs, files in os.walk(TEMPLATES):
        for name in files:
            if name.endswith((".html", ".htm", ".j2", ".jinja", ".svg", ".xml", ".txt")):
                yield os.path.join(dirpath, name)


@pytest.mark.parametrize(
    ("pattern", "what"),
    [
        (SCRIPT_WITH_BODY, "an inline <script> with a body"),
        (STYLE_BLOCK, "a <style> block"),
        (STYLE_ATTR, "a style= attribute"),
        (ON_HANDLER, "an on*= event handler"),
        (HX_ON, "an hx-on handler (needs eval)"),
        (JS_URL, "a javascript: URL"),
    ],
)
def test_no_template_has_inline_script_or_style(pattern, what):
    files = list(_template_files())
    assert len(files) >= 15
    offenders = []
    for path in files:
        text = open(path, encoding="utf-8").read()
        # Jinja comments are not sent to the browser.
        text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
        for m in pattern.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            offenders.append(f"{os.path.relpath(path, ROOT)}:{line}")
    assert not offenders, f"{what} in: {', '.join(offenders)}"


def test_the_scanner_catches_what_it_must():
    bad = [
        "<script>alert(1)</script>",
        '<div style="color:red">',
        "<style>p{}</style>",
        '<button onclick="x()">',
        '<div hx-on:click="x()">',
        '<a href="javascript:void(0)">',
    ]
    patterns = [SCRIPT_WITH_BODY, STYLE_ATTR, STYLE_BLOCK, ON_HANDLER, HX_ON, JS_URL]
    for snippet, pattern in zip(bad, patterns, strict=True):
        assert pattern.search(snippet), snippet
    ok = '<script src="/static/x.js" defer></script><input data-confirm="sure?" name="one">'
    assert not any(p.search(ok) for p in patterns)


# --- gunicorn: no version banner --------------------------------------------------------


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_sends_no_version_banner(tmp_path):
    port = _free_port()
    env = dict(os.environ)
    env.update(
        PORTAL_INSTANCE_PATH=str(tmp_path),
        PORTAL_DEV="1",
        PORTAL_ARGON2_MEMORY_COST="1024",
    )
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    proc = subprocess.Popen(
        [gunicorn, "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}", "-w", "1", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    headers = r.headers
                    break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        server = headers.get("Server", "")
        assert "gunicorn" not in server.lower()
        assert not re.search(r"\d", server), f"version in Server header: {server}"
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stderr.close()


def test_forwarded_headers_are_ignored_without_a_proxy(client):
    r = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in r.headers


def test_behind_one_proxy_the_client_address_and_https_count(tmp_path):
    from portal.db import database
    from portal.models import AuditLog
    from tests import factories
    from tests.conftest import make_app

    app = make_app(tmp_path, PROXY_COUNT=1)
    try:
        with app.test_request_context():
            owner = factories.user(factories.practice(), "owner")
        c = app.test_client()
        headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
        r = c.get("/login", headers=headers)
        assert r.headers["Strict-Transport-Security"].startswith("max-age=")
        # Over https, Flask-WTF also wants a same-origin Referer (the Referrer-Policy keeps it).
        r = c.post(
            "/login",
            data={"email": owner.email, "password": "nope nope nope"},
            headers=headers,
        )
        assert r.status_code == 400 and "security token" in r.get_data(as_text=True)
        headers["Referer"] = "https://localhost/login"
        r = c.post(
            "/login",
            data={"email": owner.email, "password": "nope nope nope"},
            headers=headers,
        )
        assert r.status_code == 401
        assert AuditLog.get(AuditLog.action == "login.failed").ip == "203.0.113.9"
    finally:
        database.close()
