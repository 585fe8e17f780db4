"""Two-step recovery codes, for a lost phone: log in with one instead of the app's code,
and make new ones (the old ones stop working); and moving two-step login to a new phone by
its user (the password, then a code from the new app; the old app counts until then). The
codes themselves, and why they are kept as they are: portal/services/recovery_codes.py.
TOTP itself and the login: portal/auth.py.
"""

import time

import pyotp
from flask import Blueprint, flash, make_response, redirect, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from portal import audit
from portal.access import deny
from portal.auth import TotpForm, codes_page, qr_image, second_step, verify_totp
from portal.db import database
from portal.htmx import render
from portal.models import User
from portal.services import recovery_codes
from portal.sessions import (
    lockout_minutes,
    note_attempt,
    throttle_message,
    verify_password,
)

bp = Blueprint("two_step", __name__)


def init_app(app):
    app.register_blueprint(bp)


class RecoveryLoginForm(FlaskForm):
    code = StringField(
        "Recovery code",
        validators=[
            DataRequired(message="Enter one of your recovery codes."),
            Length(max=40, message="A recovery code looks like abcd-efgh-jkmn-pqrs."),
        ],
    )


class NewCodesForm(FlaskForm):
    proof = PasswordField(
        "Your password, or the 6-digit code from your app",
        validators=[DataRequired(message="Enter your password or your app's code.")],
    )


@bp.route("/login/recovery", methods=["GET", "POST"])
def login_recovery():
    """The second step with a recovery code instead of the app's: each code works once;
    a wrong one counts towards the login's lockout as a wrong app code does."""
    return second_step(
        RecoveryLoginForm,
        "auth/recovery_login.html",
        recovery_codes.use,
        ("recovery code", "bad recovery code"),
        "That is not one of your recovery codes, or it was used before. Each works once.",
        on_success=_flash_left,
    )


def _flash_left(left):
    codes = f"{left} recovery code{'s' if left != 1 else ''}"
    if left <= recovery_codes.FEW:
        flash(
            f"You logged in with a recovery code: {codes} left. Make new ones now under "
            "your account, Two-step login.",
            "warning",
        )
    else:
        flash(f"You logged in with a recovery code: {codes} left.", "info")


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
@login_required
def recovery_codes_page():
    """How many codes are left, and new ones for the password or an app code (a session
    left open must not be enough to take them)."""
    user = current_user._get_current_object()
    if not user.is_staff:
        deny()
    if not user.totp_enabled:
        return redirect(url_for("auth.totp_setup"))
    form = NewCodesForm()
    status = 200
    if form.validate_on_submit():
        ok, status = _proof_checked(user, form, "new recovery codes")
        if ok:
            with database.atomic("IMMEDIATE"):
                codes = recovery_codes.replace(user, "new codes asked for")
            return codes_page(codes)
    elif request.method == "POST":
        status = 400
    return render(
        "auth/recovery_codes_manage.html",
        form=form,
        left=recovery_codes.left(user),
        few=recovery_codes.FEW,
        count=recovery_codes.COUNT,
    ), status


def _proven(user, proof):
    """Whether `proof` is the user's password or a current code of their app."""
    proof = proof or ""
    digits = proof.replace(" ", "")
    if len(digits) == 6 and digits.isdigit() and verify_totp(user, digits):
        return True
    return verify_password(user, proof)


MOVE_MINUTES = 15  # a move started and left: the new app's code is asked for this long
MOVE_KEY = "totp_move_at"  # the session that gave the password, and when


def _two_step_user():
    """The signed-in staff user with two-step login on, or None (then set it up first)."""
    user = current_user._get_current_object()
    if not user.is_staff:
        deny()
    return user if user.totp_enabled else None


def _proof_checked(user, form, what):
    """(ok, status): the password (or the app's code) of NewCodesForm checked for `what`
    (named in the audit rows), counted towards the lockout like a login; the form's field
    carries the error."""
    minutes = lockout_minutes(user.email, audit.client_ip())
    if minutes:
        form.proof.errors.append(throttle_message(minutes))
        audit.record("login.throttled", user=user, detail=what)
        return False, 429
    if not _proven(user, form.proof.data):
        note_attempt(user.email, False)
        audit.record("login.failed", user=user, detail=f"{what}: bad proof")
        form.proof.errors.append("That is neither your password nor your app's code.")
        return False, 400
    return True, 200


def _new_app_page(user, secret, form, status=200):
    """Step 2: the new app's QR code and key, and its code asked for (never cached)."""
    page = render("auth/totp_move.html", step=2, form=form, secret=secret,
                  qr=qr_image(user, secret), minutes=MOVE_MINUTES)  # fmt: skip
    resp = make_response(page, status)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/account/totp/move", methods=["GET", "POST"])
@login_required
def totp_move():
    """Step 1: the password (or the old app's code); then a new secret, shown once."""
    user = _two_step_user()
    if user is None:
        return redirect(url_for("auth.totp_setup"))
    form = NewCodesForm()
    status = 200
    if form.validate_on_submit():
        ok, status = _proof_checked(user, form, "two-step move")
        if ok:
            secret = pyotp.random_base32()
            User.update(totp_new_secret=secret).where(User.id == user.id).execute()
            session[MOVE_KEY] = int(time.time())
            audit.record("totp.move_started", user=user)
            return _new_app_page(user, secret, TotpForm(formdata=None))
    elif request.method == "POST":
        status = 400
    return render("auth/totp_move.html", step=1, form=form), status


@bp.route("/account/totp/move/confirm", methods=["POST"])
@login_required
def totp_move_confirm():
    """Step 2's answer: a code from the new app makes it the one that counts."""
    user = _two_step_user()
    if user is None:
        return redirect(url_for("auth.totp_setup"))
    started = session.get(MOVE_KEY)
    secret = user.totp_new_secret
    if not secret or not started or time.time() - started > MOVE_MINUTES * 60:
        flash("Start the move again: give your password, then scan the new code.", "warning")
        return redirect(url_for("two_step.totp_move"))
    form = TotpForm()
    if form.validate_on_submit():
        if verify_totp(user, form.code.data, secret=secret):
            with database.atomic("IMMEDIATE"):
                User.update(totp_secret=secret, totp_new_secret=None).where(
                    User.id == user.id
                ).execute()
                audit.record("totp.moved", user=user)
            session.pop(MOVE_KEY, None)
            flash("Two-step login now uses your new app; the old app's codes no longer "
                  "work. Your recovery codes stay as they were.", "success")  # fmt: skip
            return redirect(url_for("auth.totp_setup"))
        form.code.errors.append(
            "That code is not right. Scan the code again and enter the one your new app shows."
        )
    return _new_app_page(user, secret, form, 400)
