"""Login, logout, roles, server-side sessions, throttling, one-time links and TOTP for staff."""

import base64
import datetime as dt
import hashlib
import secrets
import time

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from portal import audit, clock, mail
from portal.db import data_version, database, model_from_row
from portal.device_cookies import remember_device, trusted_device
from portal.htmx import render
from portal.inputs import local_path
from portal.models import LoginAttempt, Practice, User, UserSession, UserToken
from portal.rules.passwords import password_problems

bp = Blueprint("auth", __name__)


class PortalLoginManager(LoginManager):
    """flask-login without the parts the portal does not use, which it would otherwise run
    on every request: session-protection identifiers (a SHA-512 of address and user agent;
    the portal's sessions are server-side rows instead, checked by load_user), remember-me
    cookies (never issued) and request loaders (none)."""

    def _load_user(self):
        user_id = session.get("_user_id")
        user = self._user_callback(user_id) if user_id is not None else None
        g._login_user = user if user is not None else self.anonymous_user()

    def _update_remember_cookie(self, response):
        if "_remember" in session:  # never set by the portal; kept correct if it ever is
            return super()._update_remember_cookie(response)
        return response


login_manager = PortalLoginManager()

_DUMMY_HASH = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hasher() -> PasswordHasher:
    return current_app.extensions["argon2"]


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(user, password: str) -> bool:
    global _DUMMY_HASH
    if user is None or not user.password_hash:
        # Spend the same time when the account does not exist.
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password(secrets.token_hex(16))
        try:
            hasher().verify(_DUMMY_HASH, password or "x")
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        hasher().verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if hasher().check_needs_rehash(user.password_hash):
        User.update(password_hash=hash_password(password)).where(User.id == user.id).execute()
    return True


def init_app(app):
    app.extensions["argon2"] = PasswordHasher(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_cost=app.config["ARGON2_MEMORY_COST"],
        parallelism=app.config["ARGON2_PARALLELISM"],
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # sessions are server-side rows instead
    app.register_blueprint(bp)
    app.before_request(_fresh_user)
    app.before_request(_enforce_staff_totp)


def _fresh_user():
    """Each request finds its user from its own cookie. (A request normally gets a fresh
    app context anyway; under a test's long-lived context `g` would otherwise carry the
    previous request's user.)"""
    g.pop("_login_user", None)
    g.pop("session_expired", None)
    g.pop("data_version", None)


# --- sessions -----------------------------------------------------------------


def _limits(user):
    cfg = current_app.config
    idle = cfg["STAFF_IDLE_MINUTES"] if user.is_staff else cfg["CLIENT_IDLE_MINUTES"]
    return dt.timedelta(minutes=idle), dt.timedelta(hours=cfg["SESSION_ABSOLUTE_HOURS"])


_SESSION_QUERY = []  # [(sql, params, sentinel)], built once per process
_SESSION_MODELS = (UserSession, User, Practice)


def find_session(token_hash):
    """The session row with its user and the user's practice, in one query.

    Every page reads current_user.practice, so the join saves a second query. Peewee
    spends ~0.3 ms building this 40-column SELECT (and ~0.05 ms more mapping its row),
    several times what SQLite takes to run it, on every request; so the SQL is built once
    per process and the row is split into the three objects here, field by field.
    """
    if not _SESSION_QUERY:
        sentinel = "\0token"
        query = (
            UserSession.select(*_SESSION_MODELS)
            .join(User)
            .join(Practice)
            .where(UserSession.token_hash == sentinel)
            .limit(1)
        )
        _SESSION_QUERY.append((*query.sql(), sentinel))
    sql, params, sentinel = _SESSION_QUERY[0]
    params = [token_hash if p == sentinel else p for p in params]
    row = database.execute_sql(sql, params).fetchone()
    if row is None:
        return None
    objects, start = [], 0
    for model in _SESSION_MODELS:  # select(A, B, C) lists each model's sorted_fields
        objects.append(model_from_row(model, row, start))
        start += len(model._meta.sorted_fields)
    return _linked(*objects)


def _linked(session, user, practice):
    """session.user.practice set without marking the rows changed."""
    user.practice = practice
    session.user = user
    user._dirty.clear()
    session._dirty.clear()
    return session


# Sessions this process checked: (database, token hash) -> (data version, session row with
# its user and practice). An entry is used only while the data version is unchanged (any
# write to users or practices, a revoked or deleted session: migrations 0007 and 0008) and
# while its last_seen_at is under 30 s old (past that the row is read and written again), so
# a hit saves the 3-table read and nothing else: every limit is still checked.
_CHECKED = {}
_CHECKED_MAX = 4096
_LAST_SEEN_EVERY = 30  # seconds between writes of a session's last_seen_at


def _clone(obj):
    copy = type(obj)(__no_default__=True)
    copy.__data__ = dict(obj.__data__)
    copy._dirty.clear()
    return copy


def _session_copy(row):
    """Objects of the request's own (a request may change its current_user)."""
    return _linked(_clone(row), _clone(row.user), _clone(row.user.practice))


def _checked_session(token_hash, now):
    version = g.data_version = data_version()  # read before any view runs: pagecache uses it
    key = (database.database, token_hash)
    hit = _CHECKED.get(key) if version is not None else None
    if (
        hit is not None
        and hit[0] == version
        and (now - hit[1].last_seen_at).total_seconds() < _LAST_SEEN_EVERY
    ):
        return _session_copy(hit[1]), None, None
    return find_session(token_hash), key, version


# Requests a page makes by itself (the messages' live poll and what it reloads) carry this
# header: they are not the user's activity and must not keep a session from its idle limit.
BACKGROUND_HEADER = "X-Portal-Background"


def _background():
    return bool(request.headers.get(BACKGROUND_HEADER))


@login_manager.user_loader
def load_user(token):
    if not token:
        return None
    now = clock.utcnow()
    row, key, version = _checked_session(hash_token(token), now)
    if row is None or row.revoked_at is not None:
        return None
    user = row.user
    if not user.active:
        return None
    idle, absolute = _limits(user)
    if now - row.last_seen_at > idle or now - row.created_at > absolute:
        reason = "idle" if now - row.last_seen_at > idle else "absolute"
        UserSession.update(revoked_at=now, revoked_reason=reason).where(
            UserSession.id == row.id
        ).execute()
        audit.record("session.expired", user=user, detail=reason)
        g.session_expired = True
        return None
    if (now - row.last_seen_at).total_seconds() >= _LAST_SEEN_EVERY and not _background():
        UserSession.update(last_seen_at=now).where(UserSession.id == row.id).execute()
        row.last_seen_at = now
        row._dirty.clear()
    if key is not None and version is not None:
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        _CHECKED[key] = (version, _session_copy(row))
    user._session_token = token
    user.current_session = row
    return user


@login_manager.unauthorized_handler
def unauthorized():
    if getattr(g, "session_expired", False):
        flash("Your session ended. Please log in again.", "info")
    target = url_for(
        "auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None
    )
    if request.headers.get("HX-Request"):
        resp = make_response("", 401)
        resp.headers["HX-Redirect"] = target
        return resp
    return redirect(target)


def start_session(user):
    """A fresh server-side session and a fresh cookie session (rotation on login)."""
    session.clear()
    token = secrets.token_urlsafe(32)
    now = clock.utcnow()
    UserSession.create(
        user=user,
        token_hash=hash_token(token),
        created_at=now,
        last_seen_at=now,
        ip=audit.client_ip(),
        user_agent=(request.user_agent.string or "")[:255],
    )
    user._session_token = token
    login_user(user)
    session.permanent = False
    User.update(last_login_at=now).where(User.id == user.id).execute()
    audit.record("login", user=user)


def revoke_sessions(user, reason, keep_token=None):
    q = UserSession.update(revoked_at=clock.utcnow(), revoked_reason=reason).where(
        (UserSession.user == user) & UserSession.revoked_at.is_null()
    )
    if keep_token:
        q = q.where(UserSession.token_hash != hash_token(keep_token))
    return q.execute()


def home_url(user):
    return url_for("client.home") if user.is_client else url_for("provider.home")


def _safe_next(target):
    return local_path(target)


# --- throttling -------------------------------------------------------------


def account_key(email: str) -> str:
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()


def lockout_minutes(email: str, ip: str, device: str = "") -> int:
    """Minutes until another try is allowed, or 0. Failures count in a sliding window.

    A browser with a device cookie for this account (`device`, see trusted_device) is
    limited by its own failures only; any other try by the account's and the address's.
    """
    cfg = current_app.config
    window = dt.timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
    now = clock.utcnow()
    since = now - window
    worst = 0
    if device:
        limits = ((LoginAttempt.device, device, cfg["LOGIN_MAX_FAILURES_ACCOUNT"]),)
    else:
        limits = (
            (LoginAttempt.account_key, account_key(email), cfg["LOGIN_MAX_FAILURES_ACCOUNT"]),
            (LoginAttempt.ip, ip, cfg["LOGIN_MAX_FAILURES_ADDRESS"]),
        )
    for field, value, limit in limits:
        failures = (
            LoginAttempt.select(LoginAttempt.at)
            .where((field == value) & (LoginAttempt.at > since) & ~LoginAttempt.success)
            .order_by(LoginAttempt.at.desc())
            .limit(limit)
        )
        times = [a.at for a in failures]
        if len(times) >= limit:
            # Free again when the oldest of the last `limit` failures leaves the window.
            free_at = times[-1] + window
            minutes = max(1, int((free_at - now).total_seconds() + 59) // 60)
            worst = max(worst, minutes)
    return worst


def throttle_message(minutes):
    return f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


PRUNE_EVERY = 100  # rows; old throttling and session rows are pruned now and then


def note_attempt(email, success, device=""):
    row = LoginAttempt.create(
        account_key=account_key(email),
        ip=audit.client_ip(),
        at=clock.utcnow(),
        success=success,
        device=device,
    )
    if row.id % PRUNE_EVERY == 0:
        prune()


def prune(now=None):
    """Forget login attempts older than a day and sessions that ended over 30 days ago.
    (The audit log keeps the history of logins; these tables only serve throttling and
    revocation.)"""
    now = now or clock.utcnow()
    LoginAttempt.delete().where(LoginAttempt.at < now - dt.timedelta(days=1)).execute()
    absolute = dt.timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    UserSession.delete().where(
        (UserSession.revoked_at < now - dt.timedelta(days=30))
        | (UserSession.created_at < now - absolute - dt.timedelta(days=30))
    ).execute()


# --- forms ----------------------------------------------------------------------


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(message="Enter your e-mail address.")])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password.")])


class TotpForm(FlaskForm):
    code = StringField(
        "6-digit code",
        validators=[
            DataRequired(message="Enter the code from your authenticator app."),
            Length(min=6, max=6, message="The code has 6 digits."),
        ],
    )


def _password_policy(form, field):
    email = getattr(current_user, "email", "") if current_user.is_authenticated else ""
    email = getattr(form, "_email", "") or email
    problems = password_problems(field.data or "", current_app.config["PASSWORD_MIN_LENGTH"], email)
    if problems:
        raise ValidationError(" ".join(problems))


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password", validators=[DataRequired(message="Choose a password."), _password_policy]
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[
            DataRequired(message="Repeat the password."),
            EqualTo("password", message="The two passwords differ."),
        ],
    )


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(
        "Current password", validators=[DataRequired(message="Enter your current password.")]
    )


class ForgotForm(FlaskForm):
    email = EmailField(
        "E-mail",
        validators=[
            DataRequired(message="Enter your e-mail address."),
            Email(message="Enter a valid e-mail address.", check_deliverability=False),
        ],
    )


# --- views ----------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        ip = audit.client_ip()
        user = User.get_or_none(User.email == email)
        device = trusted_device(user)
        minutes = lockout_minutes(email, ip, device)
        if minutes:
            form.form_errors.append(
                f"Too many failed attempts. Try again in {minutes} minute"
                f"{'s' if minutes != 1 else ''}, or reset your password."
            )
            audit.record("login.throttled", detail="locked")
            return render("auth/login.html", form=form), 429
        if user is not None and user.active and verify_password(user, form.password.data):
            note_attempt(email, True, device)
            if user.is_staff and user.totp_enabled:
                session.clear()
                session["totp_user"] = user.id
                session["totp_at"] = int(time.time())
                session["next"] = _safe_next(request.args.get("next"))
                return redirect(url_for("auth.login_totp"))
            start_session(user)
            return remember_device(redirect(_after_login(user, request.args.get("next"))), user)
        if user is None or not user.active:
            verify_password(None, form.password.data)
        note_attempt(email, False, device)
        audit.record(
            "login.failed",
            user=user if user else None,
            practice_id=user.practice_id if user else None,
            detail="unknown account" if user is None else "bad password",
        )
        form.form_errors.append("That e-mail and password do not match an active account.")
        status = 401
    elif request.method == "POST":
        status = 400
    return render("auth/login.html", form=form), status


def _after_login(user, next_url):
    if user.is_staff and user.practice.require_staff_totp and not user.totp_enabled:
        flash("Your practice requires two-step login. Set it up to continue.", "info")
        return url_for("auth.totp_setup")
    target = _safe_next(next_url)
    if target:
        prefix = "/portal" if user.is_client else "/provider"
        if target.startswith(prefix) or target.startswith("/account"):
            return target
    return home_url(user)


@bp.route("/login/totp", methods=["GET", "POST"])
def login_totp():
    uid = session.get("totp_user")
    started = session.get("totp_at", 0)
    if not uid or time.time() - started > 300:
        session.clear()
        flash("Please log in again.", "info")
        return redirect(url_for("auth.login"))
    user = User.get_or_none((User.id == uid) & User.active)
    if user is None:
        session.clear()
        return redirect(url_for("auth.login"))
    form = TotpForm()
    status = 200
    if form.validate_on_submit():
        device = trusted_device(user)
        minutes = lockout_minutes(user.email, audit.client_ip(), device)
        if minutes:
            form.code.errors.append(f"Too many failed attempts. Try again in {minutes} minutes.")
            return render("auth/totp_login.html", form=form), 429
        if verify_totp(user, form.code.data):
            next_url = session.get("next")
            start_session(user)
            return remember_device(redirect(_after_login(user, next_url)), user)
        note_attempt(user.email, False, device)
        audit.record("login.failed", user=user, detail="bad totp code")
        form.code.errors.append("That code is not right. Check your app and try again.")
        status = 401
    elif request.method == "POST":
        status = 400
    return render("auth/totp_login.html", form=form), status


def verify_totp(user, code, secret=None):
    """Accept the current code or its neighbour, each time step at most once."""
    code = (code or "").strip().replace(" ", "")
    totp = pyotp.TOTP(secret or user.totp_secret)
    now = time.time()
    for offset in (0, -1, 1):
        step = int(now // 30) + offset
        if step <= (user.totp_last_step or 0):
            continue
        if secrets.compare_digest(totp.at(step * 30), code):
            User.update(totp_last_step=step).where(User.id == user.id).execute()
            user.totp_last_step = step
            return True
    return False


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        if user.current_session is not None:
            UserSession.update(revoked_at=clock.utcnow(), revoked_reason="logout").where(
                UserSession.id == user.current_session.id
            ).execute()
        audit.record("logout", user=user)
        logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        # The current-password check counts toward the login throttling: a session left
        # open must not become a way to guess the password.
        minutes = lockout_minutes(user.email, audit.client_ip())
        if minutes:
            form.current.errors.append(throttle_message(minutes))
            audit.record("login.throttled", user=user, detail="password change")
            status = 429
        elif not verify_password(user, form.current.data):
            note_attempt(user.email, False)
            audit.record("login.failed", user=user, detail="password change: bad password")
            form.current.errors.append("Your current password is not right.")
            status = 400
        else:
            with database.atomic("IMMEDIATE"):
                User.update(
                    password_hash=hash_password(form.password.data),
                    password_changed_at=clock.utcnow(),
                ).where(User.id == user.id).execute()
                ended = revoke_sessions(user, "password changed", keep_token=user._session_token)
                audit.record("password.changed", user=user, detail=f"ended {ended} other sessions")
            flash("Your password is changed. Your other sessions were logged out.", "success")
            return redirect(url_for("auth.change_password"))
    elif request.method == "POST":
        status = 400
    return render("auth/password.html", form=form), status


# --- one-time links: invitations and resets -------------------------------------------


def issue_token(user, purpose):
    hours = current_app.config["INVITE_VALID_HOURS" if purpose == "invite" else "RESET_VALID_HOURS"]
    token = secrets.token_urlsafe(32)
    UserToken.create(
        user=user,
        purpose=purpose,
        token_hash=hash_token(token),
        expires_at=clock.utcnow() + dt.timedelta(hours=hours),
    )
    return token


def link_for(token):
    base = current_app.config["BASE_URL"].rstrip("/")
    return base + url_for("auth.set_password", token=token)


def send_invite(user, practice):
    token = issue_token(user, "invite")
    body = (
        f"Hello,\n\n{practice.name} has invited you to its practice portal.\n"
        f"Choose your password here (the link works once, for "
        f"{current_app.config['INVITE_VALID_HOURS']} hours):\n\n{link_for(token)}\n\n"
        "If you did not expect this, ignore this message.\n"
    )
    mail.queue(
        user.email, f"Your invitation to {practice.name}", body, practice=practice, kind="invite"
    )
    return token


class InviteError(ValueError):
    """A client cannot be invited (no e-mail, or the address belongs to someone else)."""


def invite_client(client):
    """Give a client portal access: their user (created if needed) gets a one-time link.

    Call inside `database.atomic("IMMEDIATE")`. Returns the user; raises InviteError.
    """
    email = (client.email or "").strip().lower()
    if not email:
        raise InviteError("Add the client's e-mail address first.")
    user = User.get_or_none(User.email == email)
    if user is None:
        user = User.create(
            practice=client.practice_id,
            email=email,
            name=client.display_name,
            role="client",
            client=client.id,
        )
    elif user.client_id != client.id:
        raise InviteError("Another account already uses this e-mail address.")
    elif user.password_hash:
        raise InviteError("This client already has portal access.")
    send_invite(user, client.practice)
    audit.record("user.invite", obj=user, client=client, detail="client portal")
    return user


def send_reset(user):
    token = issue_token(user, "reset")
    practice = user.practice
    body = (
        f"Hello,\n\nSomeone asked to reset your password for {practice.name}'s portal.\n"
        f"Choose a new password here (the link works once, for "
        f"{current_app.config['RESET_VALID_HOURS']} hours):\n\n{link_for(token)}\n\n"
        "If it was not you, ignore this message; your password stays as it is.\n"
    )
    mail.queue(
        user.email, f"Reset your {practice.name} password", body, practice=practice, kind="reset"
    )
    return token


def _valid_token(token):
    row = (
        UserToken.select(UserToken, User)
        .join(User)
        .where(UserToken.token_hash == hash_token(token or ""))
        .first()
    )
    if row is None or row.used_at is not None or row.expires_at < clock.utcnow():
        return None
    return row


RESETS_PER_HOUR = 3


def _recent_resets(user):
    since = clock.utcnow() - dt.timedelta(hours=1)
    return (
        UserToken.select()
        .where(
            (UserToken.user == user)
            & (UserToken.purpose == "reset")
            & (UserToken.created_at > since)
        )
        .count()
    )


@bp.route("/login/forgot", methods=["GET", "POST"])
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = User.get_or_none((User.email == email) & User.active)
        # A locked-out user may still reset (the link goes to their own mailbox); only the
        # number of reset mails per account is limited, so nobody can flood an inbox.
        if user is not None and _recent_resets(user) < RESETS_PER_HOUR:
            send_reset(user)
            audit.record("password.reset_requested", user=user)
        flash(
            "If that address has an account, we have sent it a link to choose a new password.",
            "info",
        )
        return redirect(url_for("auth.login"))
    return render("auth/forgot.html", form=form), (400 if request.method == "POST" else 200)


@bp.route("/account/set-password/<token>", methods=["GET", "POST"])
def set_password(token):
    row = _valid_token(token)
    if row is None:
        return render("auth/link_invalid.html"), 404
    form = SetPasswordForm()
    form._email = row.user.email
    status = 200
    if form.validate_on_submit():
        with database.atomic("IMMEDIATE"):
            fresh = _valid_token(token)
            if fresh is None:
                return render("auth/link_invalid.html"), 404
            now = clock.utcnow()
            # This link and any other open link of the user's are spent.
            UserToken.update(used_at=now).where(
                (UserToken.user == fresh.user_id) & UserToken.used_at.is_null()
            ).execute()
            User.update(
                password_hash=hash_password(form.password.data), password_changed_at=now
            ).where(User.id == fresh.user_id).execute()
            revoke_sessions(fresh.user, "password set")
            # The link proved the mailbox: earlier failed logins no longer lock the account.
            LoginAttempt.delete().where(
                (LoginAttempt.account_key == account_key(fresh.user.email)) & ~LoginAttempt.success
            ).execute()
            audit.record("password.set", user=fresh.user, detail=fresh.purpose)
        flash("Your password is set. Log in with it now.", "success")
        return redirect(url_for("auth.login"))
    elif request.method == "POST":
        status = 400
    return render("auth/set_password.html", form=form, purpose=row.purpose), status


# --- TOTP set-up for staff ---------------------------------------------------------


def _enforce_staff_totp():
    """When the practice requires TOTP, staff without it may only set it up or log out."""
    endpoint = request.endpoint
    if endpoint in (None, "static") or not endpoint:
        return None
    user = current_user._get_current_object()
    if not user.is_authenticated or not user.is_staff:
        return None
    if user.totp_enabled:
        return None
    if endpoint in ("auth.totp_setup", "auth.logout", "auth.change_password"):
        return None
    if session.get("tablet"):
        return None  # a client holds the tablet: its lock (provider/clients.py) comes first
    if user.practice.require_staff_totp:
        flash("Your practice requires two-step login. Set it up to continue.", "info")
        return redirect(url_for("auth.totp_setup"))
    return None


@bp.route("/account/totp", methods=["GET", "POST"])
@login_required
def totp_setup():
    user = current_user._get_current_object()
    if not user.is_staff:
        from portal.access import deny

        deny()
    if user.totp_enabled:
        return render("auth/totp_setup.html", enabled=True, form=None)
    # The pending secret is kept on the server (the cookie session is signed, not secret);
    # it only counts once a code from it was entered.
    secret = user.totp_secret
    if not secret:
        secret = pyotp.random_base32()
        User.update(totp_secret=secret).where(User.id == user.id).execute()
    form = TotpForm()
    status = 200
    if form.validate_on_submit():
        if verify_totp(user, form.code.data, secret=secret):
            User.update(totp_enabled=True).where(User.id == user.id).execute()
            audit.record("totp.enabled", user=user)
            flash("Two-step login is on. You will need your app's code at every login.", "success")
            return redirect(home_url(user))
        form.code.errors.append("That code is not right. Scan the code again and retry.")
        status = 400
    elif request.method == "POST":
        status = 400
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=user.practice.name)
    qr_data = "data:image/svg+xml;base64," + base64.b64encode(_qr_svg(uri)).decode()
    return render(
        "auth/totp_setup.html", form=form, secret=secret, qr=qr_data, enabled=user.totp_enabled
    ), status


def _qr_svg(uri):
    import io

    buf = io.BytesIO()
    segno.make(uri, error="m").save(buf, kind="svg", scale=5, border=2)
    return buf.getvalue()
