"""Login, logout, password change, the pages of one-time links, and TOTP for staff.

Sessions, passwords and throttling: portal/sessions.py; the links: portal/tokens.py."""

import base64
import io
import secrets
import time

import pyotp
import segno
from argon2 import PasswordHasher
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
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from peewee import IntegrityError
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from portal import audit, clock, mail, tasks
from portal.access import deny
from portal.db import database, unique_violation
from portal.device_cookies import remember_device, trusted_device
from portal.htmx import render
from portal.inputs import local_path
from portal.login import login_manager
from portal.models import LoginAttempt, User, UserSession, UserToken
from portal.rules.passwords import password_problems
from portal.services import recovery_codes
from portal.sessions import (
    account_for,
    account_key,
    address_taken,
    hash_password,
    load_user,
    lockout_minutes,
    note_attempt,
    revoke_sessions,
    start_session,
    throttle_message,
    verify_password,
)
from portal.tasks import routine
from portal.tokens import RESETS_PER_HOUR, recent_resets, send_reset, valid_token

bp = Blueprint("auth", __name__)


def init_app(app):
    app.extensions["argon2"] = PasswordHasher(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_cost=app.config["ARGON2_MEMORY_COST"],
        parallelism=app.config["ARGON2_PARALLELISM"],
    )
    login_manager.user_loader(load_user)
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


# --- where a login leads ------------------------------------------------------------


def home_url(user):
    return url_for("client.home") if user.is_client else url_for("provider.home")


def _safe_next(target):
    return local_path(target)


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
        user = account_for(email)
        device = trusted_device(user)
        minutes = lockout_minutes(email, ip, device)
        if minutes:
            form.form_errors.append(
                f"Too many failed attempts. Try again in {minutes} minute"
                f"{'s' if minutes != 1 else ''}, or reset your password."
            )
            # In the account's practice's log (when the address has one): its owner sees
            # that someone is guessing at a staff member's password.
            audit.record(
                "login.throttled",
                user=user,
                practice_id=user.practice_id if user else None,
                detail="locked",
            )
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
            return remember_device(redirect(after_login_url(user, request.args.get("next"))), user)
        if user is None or not user.active:
            verify_password(None, form.password.data)
        note_attempt(email, False, device)
        audit.record(
            "login.failed",
            user=user if user else None,
            practice_id=user.practice_id if user else None,
            detail="unknown account" if user is None else "bad password",
        )
        form.form_errors.append(
            "That e-mail and password do not match an active account. Check both, or choose"
            " “Forgot your password?” below to set a new one."
        )
        status = 401
    elif request.method == "POST":
        status = 400
    return render("auth/login.html", form=form), status


def after_login_url(user, next_url):
    if user.is_staff and user.practice.require_staff_totp and not user.totp_enabled:
        flash("Your practice requires two-step login. Set it up to continue.", "info")
        return url_for("auth.totp_setup")
    target = _safe_next(next_url)
    if target:
        prefix = "/portal" if user.is_client else "/provider"
        if target.startswith(prefix) or target.startswith("/account"):
            return target
    return home_url(user)


def pending_two_step_user():
    """The user whose password was right, now asked for their second step (the app's code
    or a recovery code): for five minutes after the password, else None (the cookie
    session is then cleared, and the caller sends them back to the login)."""
    uid = session.get("totp_user")
    started = session.get("totp_at", 0)
    if not uid or time.time() - started > 300:
        session.clear()
        flash("Please log in again.", "info")
        return None
    user = User.get_or_none((User.id == uid) & User.active)
    if user is None:
        session.clear()
    return user


def second_step(form_class, template, check, what, wrong, on_success=None):
    """The login's second step for the user who gave their password: the lockout first,
    then `check(user, code)`, right when it returns neither None nor False (its result goes
    to `on_success`); a wrong code counts towards the lockout. `what` names the code in the
    audit rows, `wrong` is said by the field."""
    user = pending_two_step_user()
    if user is None:
        return redirect(url_for("auth.login"))
    form = form_class()
    status = 200
    if form.validate_on_submit():
        device = trusted_device(user)
        minutes = lockout_minutes(user.email, audit.client_ip(), device)
        if minutes:
            form.code.errors.append(throttle_message(minutes))
            audit.record("login.throttled", user=user, detail=what[0])
            return render(template, form=form), 429
        result = check(user, form.code.data)
        if result is not None and result is not False:
            next_url = session.get("next")
            start_session(user)
            if on_success is not None:
                on_success(result)
            return remember_device(redirect(after_login_url(user, next_url)), user)
        note_attempt(user.email, False, device)
        audit.record("login.failed", user=user, detail=what[1])
        form.code.errors.append(wrong)
        status = 401
    elif request.method == "POST":
        status = 400
    return render(template, form=form), status


@bp.route("/login/totp", methods=["GET", "POST"])
def login_totp():
    return second_step(
        TotpForm,
        "auth/totp_login.html",
        verify_totp,
        ("two-step code", "bad totp code"),
        "That code is not right. Check your app and try again.",
    )


def verify_totp(user, code, secret=None):
    """Accept the current code or its neighbour, each time step at most once. A `secret`
    being set up (or moved to) is checked against its own steps only: the steps used with
    the old one say nothing of it, and the last step kept never goes back."""
    code = (code or "").strip().replace(" ", "")
    totp = pyotp.TOTP(secret or user.totp_secret)
    now = time.time()
    last = user.totp_last_step or 0
    for offset in (0, -1, 1):
        step = int(now // 30) + offset
        if secret is None and step <= last:
            continue
        if secrets.compare_digest(totp.at(step * 30), code):
            step = max(step, last)
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
    user = current_user._get_current_object()
    codes_left = recovery_codes.left(user) if user.is_staff and user.totp_enabled else None
    return render("auth/password.html", form=form, codes_left=codes_left), status


# --- pages of the one-time links (portal/tokens.py): forgot, set a password ---------------


@bp.route("/login/forgot", methods=["GET", "POST"])
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = account_for(email)
        user = user if user is not None and user.active else None
        # A locked-out user may still reset (the link goes to their own mailbox); only the
        # number of reset mails per account is limited, so nobody can flood an inbox.
        if user is not None and recent_resets(user) < RESETS_PER_HOUR:
            # The mail goes from the task queue: a reply that waited for the mail server
            # only for a known address would tell by its time that the address has one.
            with mail.held() as held:
                send_reset(user)
                audit.record("password.reset_requested", user=user)
            for message_id in held:
                tasks.enqueue(routine.deliver_mail, message_id)
        flash(
            "If that address has an account, we have sent it a link to choose a new password.",
            "info",
        )
        return redirect(url_for("auth.login"))
    return render("auth/forgot.html", form=form), (400 if request.method == "POST" else 200)


@bp.route("/account/set-password/<token>", methods=["GET", "POST"])
def set_password(token):
    row = valid_token(token)
    if row is None:
        return render("auth/link_invalid.html"), 404
    if address_taken(row.user):
        return _address_taken()
    form = SetPasswordForm()
    form._email = row.user.email
    status = 200
    if form.validate_on_submit():
        try:
            with database.atomic("IMMEDIATE"):
                fresh = valid_token(token)
                if fresh is None:
                    return render("auth/link_invalid.html"), 404
                if address_taken(fresh.user):
                    return _address_taken()
                _spend_links_and_set(fresh, form.password.data)
        except IntegrityError as exc:
            # Another practice's invitation to the address was taken up at the same moment.
            if not unique_violation(exc, "user"):
                raise
            return _address_taken()
        flash("Your password is set. Log in with it now.", "success")
        return redirect(url_for("auth.login"))
    elif request.method == "POST":
        status = 400
    return render("auth/set_password.html", form=form, purpose=row.purpose), status


def _address_taken():
    """An invitation to an address that has an account (here or in another practice):
    said to whoever holds the link, the address's owner; the link stays as it was, so the
    practice that invited them sees what it would for anyone who does not answer."""
    return render("auth/link_taken.html"), 409


def _spend_links_and_set(row, password):
    now = clock.utcnow()
    # This link and any other open link of the user's are spent.
    UserToken.update(used_at=now).where(
        (UserToken.user == row.user_id) & UserToken.used_at.is_null()
    ).execute()
    # The link proved the mailbox, as a sign-up's confirmation link does.
    User.update(
        password_hash=hash_password(password),
        password_changed_at=now,
        email_unverified=False,
    ).where(User.id == row.user_id).execute()
    revoke_sessions(row.user, "password set")
    # The link proved the mailbox: earlier failed logins no longer lock the account.
    LoginAttempt.delete().where(
        (LoginAttempt.account_key == account_key(row.user.email)) & ~LoginAttempt.success
    ).execute()
    audit.record("password.set", user=row.user, detail=row.purpose)


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
        deny()
    if user.totp_enabled:
        return render(
            "auth/totp_setup.html", enabled=True, form=None, codes_left=recovery_codes.left(user)
        )
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
            with database.atomic("IMMEDIATE"):
                User.update(totp_enabled=True).where(User.id == user.id).execute()
                audit.record("totp.enabled", user=user)
                codes = recovery_codes.replace(user, "two-step login set up")
            flash("Two-step login is on. You will need your app's code at every login.", "success")
            return codes_page(codes)
        form.code.errors.append("That code is not right. Scan the code again and retry.")
        status = 400
    elif request.method == "POST":
        status = 400
    return render(
        "auth/totp_setup.html",
        form=form,
        secret=secret,
        qr=qr_image(user, secret),
        enabled=user.totp_enabled,
    ), status


def codes_page(codes):
    """The recovery codes, shown this once (the answer to the POST that made them): never
    stored by a browser or a proxy."""
    resp = make_response(render("auth/recovery_codes.html", codes=codes))
    resp.headers["Cache-Control"] = "no-store"
    return resp


def qr_image(user, secret):
    """The QR code an authenticator app scans for `secret`, as a data: URI (an SVG)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=user.practice.name)
    buf = io.BytesIO()
    segno.make(uri, error="m").save(buf, kind="svg", scale=5, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()
