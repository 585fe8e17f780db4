"""Signing up on the public booking page, and proving the e-mail address.

- The form asks for a phone number and consent to the practice's policies (the exact
  text shown is kept, with when and from where: client_consent).
- The reply never tells whether the address already has an account: a new address gets
  an account that sees nothing until the link e-mailed to it is used; an address that
  has one gets a login link instead, and one with only an invitation not accepted yet
  gets that invitation's link again (there is no account to log in to); all see the same
  "check your e-mail" page, and a password is hashed on every path so they take the same
  time.
- The link's page asks for one click (a POST: mail scanners that open links change
  nothing), then logs the client in and goes on to the booking they chose.
"""

import datetime as dt
import hashlib
import secrets

from flask import Blueprint, current_app, redirect, request, url_for

from portal import audit, clock, mail
from portal.db import database
from portal.formutil import CsrfForm
from portal.htmx import render
from portal.inputs import local_path
from portal.models import Client, ClientConsent, OutboxMessage, Practice, User, UserToken
from portal.rules.money import format_cents
from portal.services.scheduling.catalog import policy_for
from portal.sessions import account_for, start_session
from portal.tokens import issue_token, link_for

bp = Blueprint("signup", __name__)

VERIFY = "verify"
VERIFY_HOURS = 48


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def policy_text(practice):
    """The practice's policies as the client agrees to them."""
    p = policy_for(practice.id)
    parts = [
        f"Cancel or move a visit at least {p.cancellation_window_hours} hours ahead"
        + (
            f"; later cancellations cost {format_cents(p.late_cancel_fee_cents)}"
            if p.late_cancel_fee_cents
            else ""
        )
        + (
            f" and a missed visit {format_cents(p.no_show_fee_cents)}"
            if p.no_show_fee_cents
            else ""
        )
        + ".",
        f"{practice.name} keeps your health information private and uses it only for your "
        "care, payment and the practice's operations, as its notice of privacy practices says.",
        "You are responsible for what your insurance does not pay.",
    ]
    return " ".join(parts)


def _issue_link(user, next_path):
    token = secrets.token_urlsafe(32)
    UserToken.create(
        user=user,
        purpose=VERIFY,
        token_hash=_hash(token),
        expires_at=clock.utcnow() + dt.timedelta(hours=VERIFY_HOURS),
        next_path=local_path(next_path, "") or "",
    )
    return token


def send_verification(user, practice, next_path=""):
    token = _issue_link(user, next_path)
    base = current_app.config["BASE_URL"].rstrip("/")
    link = base + url_for("signup.verify", token=token)
    mail.queue(
        user.email,
        f"Confirm your e-mail for {practice.name}",
        f"Hello,\n\nConfirm your e-mail address to finish opening your account at "
        f"{practice.name} (the link works for {VERIFY_HOURS} hours):\n\n{link}\n\n"
        "If you did not ask for an account, ignore this message: nothing happens.\n",
        practice=practice.id,
        kind="verify",
    )


def _send_login_link(user, practice, next_path):
    """To the owner of an address that already has an account: a way in, at most once an
    hour (the sign-up form must not become a way to flood an inbox)."""
    base = current_app.config["BASE_URL"].rstrip("/")
    login = base + url_for("auth.login", next=local_path(next_path, None))
    hour = clock.utcnow().strftime("%Y%m%d%H")
    mail.queue(
        user.email,
        f"You already have an account at {practice.name}",
        "Hello,\n\nSomeone (perhaps you) tried to open an account with this e-mail address. "
        "You already have one: log in here:\n\n"
        f"{login}\n\nForgot your password? Choose a new one here:\n\n"
        f"{base}{url_for('auth.forgot')}\n\n"
        "If it was not you, ignore this message: nothing changed.\n",
        practice=practice.id,
        kind="signup_exists",
        dedupe_key=f"signup-exists-{user.id}-{hour}",
    )


def _send_invitation_again(user):
    """To an address whose only user is an invitation not accepted yet (no password): a
    new link to choose the password, at most once an hour. The sign-up makes no second
    account for the address (one address, one account)."""
    hour = clock.utcnow().strftime("%Y%m%d%H")
    dedupe_key = f"signup-invited-{user.id}-{hour}"
    if OutboxMessage.select().where(OutboxMessage.dedupe_key == dedupe_key).exists():
        return  # sent this hour: no new link either
    practice = user.practice
    token = issue_token(user, "invite")
    mail.queue(
        user.email,
        f"Your invitation to {practice.name} is waiting",
        "Hello,\n\nSomeone (perhaps you) tried to open an account with this e-mail address. "
        f"{practice.name} has already invited this address to its portal, and the invitation "
        "has not been used yet. Choose your password here (the link works once, for "
        f"{current_app.config['INVITE_VALID_HOURS']} hours):\n\n{link_for(token)}\n\n"
        "If it was not you, ignore this message: nothing changed.\n",
        practice=practice.id,
        kind="signup_invited",
        dedupe_key=dedupe_key,
    )


def register(practice, data, password_hash, next_path):
    """Open an unverified account, or tell the address's owner they have one. Returns
    nothing that depends on which happened."""
    email = data["email"]
    with database.atomic("IMMEDIATE"):
        existing = account_for(email)
        if existing is not None:
            if existing.email_unverified:
                send_verification(existing, existing.practice, next_path)
            elif existing.password_hash is None and existing.active:
                _send_invitation_again(existing)
            elif existing.password_hash is not None:
                _send_login_link(existing, existing.practice, next_path)
            sent = existing.active or existing.password_hash is not None
            audit.record(
                "signup.existing",
                user=existing,
                practice_id=existing.practice_id,
                detail="e-mail sent" if sent else "a disabled invitation: nothing sent",
            )
            return
        client = Client.create(
            practice=practice.id,
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"],
            email=email,
            phone=data["phone"],
            phone_digits="".join(ch for ch in data["phone"] if ch.isdigit()),
        )
        user = User.create(
            practice=practice.id,
            email=email,
            name=f"{client.first_name} {client.last_name}",
            role="client",
            client=client.id,
            password_hash=password_hash,
            password_changed_at=clock.utcnow(),
            email_unverified=True,
        )
        text = policy_text(practice)
        ClientConsent.create(
            practice=practice.id,
            client=client.id,
            kind="policies",
            text=text,
            text_sha256=hashlib.sha256(text.encode()).hexdigest(),
            accepted_at=clock.utcnow(),
            ip=audit.client_ip(),
        )
        audit.record(
            "client.create",
            obj=client,
            user=user,
            practice_id=practice.id,
            detail="online booking sign-up",
        )
        send_verification(user, practice, next_path)


def _valid(token):
    row = (
        UserToken.select(UserToken, User)
        .join(User)
        .where((UserToken.token_hash == _hash(token or "")) & (UserToken.purpose == VERIFY))
        .first()
    )
    if row is None or row.used_at is not None or row.expires_at < clock.utcnow():
        return None
    return row


@bp.route("/signup/verify/<token>", methods=["GET", "POST"])
def verify(token):
    row = _valid(token)
    if row is None:
        return render("auth/link_invalid.html"), 404
    form = CsrfForm()
    if form.validate_on_submit():
        with database.atomic("IMMEDIATE"):
            row = _valid(token)
            if row is None:
                return render("auth/link_invalid.html"), 404
            now = clock.utcnow()
            UserToken.update(used_at=now).where(
                (UserToken.user == row.user_id)
                & (UserToken.purpose == VERIFY)
                & UserToken.used_at.is_null()
            ).execute()
            User.update(email_unverified=False).where(User.id == row.user_id).execute()
            audit.record("signup.verified", user=row.user, practice_id=row.user.practice_id)
            user = User.get_by_id(row.user_id)
            start_session(user)
        return redirect(local_path(row.next_path, None) or url_for("client.home"), 303)
    practice = Practice.get_by_id(row.user.practice_id)
    return render("public/verify.html", form=form, practice=practice), (
        400 if request.method == "POST" else 200
    )


def resend(user):
    """A new link for a signed-in client whose address is not proven yet (the page they
    see instead of the portal offers it)."""
    recent = (
        UserToken.select()
        .where(
            (UserToken.user == user.id)
            & (UserToken.purpose == VERIFY)
            & (UserToken.created_at > clock.utcnow() - dt.timedelta(hours=1))
        )
        .count()
    )
    if recent >= 3:
        return False
    send_verification(user, user.practice)
    return True
