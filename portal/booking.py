"""Online booking shared by the client portal and the public page, plus app wiring:
the public booking pages (/book/<practice_id>), the provider's private calendar feed
(/calendar/<token>.ics), the `send-reminders` command and the `in_tz` filter.

create_app calls init_app(app).
"""

import datetime as dt

import click
from flask import Blueprint, Response, abort, current_app, redirect, request, url_for
from flask.cli import with_appcontext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp

from portal import audit, clock, signup
from portal.db import database
from portal.htmx import render
from portal.inputs import bounded_int, int_arg
from portal.models import AppointmentType, LoginAttempt, Practice, Provider
from portal.rules import slots as slot_rules
from portal.rules.passwords import password_problems
from portal.services import scheduling as svc
from portal.services.calendar import feed_for_token, provider_feed_ics
from portal.sessions import hash_password

bp = Blueprint("public_booking", __name__)


def init_app(app):
    app.register_blueprint(bp)
    app.register_blueprint(signup.bp)
    app.jinja_env.globals["booking_links"] = booking_links
    app.cli.add_command(send_reminders_cmd)

    def in_tz(value, tz, fmt="%a %d %b %Y, %-I:%M %p"):
        if value is None:
            return ""
        return clock.to_local(value, tz).strftime(fmt)

    app.jinja_env.filters["in_tz"] = in_tz


def booking_links(limit=5):
    """[(practice name, public booking URL)] for the login page: practices taking online
    bookings with a service to book (a public page of theirs, linked from nowhere else)."""
    out = []
    for practice in svc.practices_with_online_services(limit):
        if svc.policy_for(practice.id).online_booking_enabled:
            out.append(
                (practice.name, url_for("public_booking.public_book", practice_id=practice.id))
            )
    return out


# --- the slot picker (shared) --------------------------------------------------------------


def picker(practice, args, *, exclude_id=None, fixed_type=None, fixed_provider=None):
    """What the booking pages show for query args type, provider ("any" or id), date."""
    tz = practice.tz
    now = clock.utcnow()
    today = slot_rules.to_local(now, tz).date()
    types = svc.bookable_types(practice.id, online_only=True)
    if not svc.policy_for(practice.id).online_booking_enabled:
        types = []
    ctx = {"types": types, "type": None, "providers": [], "provider": None, "days": []}
    ctx["zone"] = clock.zone_label(tz, now)
    ctx["phone"] = practice.phone
    ctx["phone_tel"] = "".join(ch for ch in practice.phone if ch.isdigit() or ch == "+")
    appt_type = fixed_type
    type_id = bounded_int(args.get("type"))
    if appt_type is None and type_id is not None:
        appt_type = next((t for t in types if t.id == type_id), None)
    ctx["type"] = appt_type
    if appt_type is None:
        return ctx
    providers = svc.providers_for_type(appt_type)
    ctx["providers"] = providers
    sel = args.get("provider", "any")
    provider = fixed_provider
    sel_id = bounded_int(sel)
    if provider is None and sel_id is not None:
        provider = next((p for p in providers if p.id == sel_id), None)
    ctx["provider"] = provider
    ctx["provider_sel"] = str(provider.id) if provider else "any"
    try:
        start = dt.date.fromisoformat(args.get("date", "")) if args.get("date") else today
    except ValueError:
        start = today
    start = max(start, today)
    policy = svc.policy_for(practice.id)
    last_day = slot_rules.to_local(now + dt.timedelta(days=policy.max_days_ahead), tz).date()
    start = min(start, last_day)
    end = min(start + dt.timedelta(days=6), last_day)
    if provider is not None:
        found = svc.free_slots(
            provider,
            appt_type,
            start,
            end,
            practice=practice,
            for_client=True,
            exclude_id=exclude_id,
            now=now,
        )
    else:
        found = list(svc.free_slots_any(appt_type, start, end, practice=practice, now=now).keys())
    days = {}
    for t in found:
        local = slot_rules.to_local(t, tz)
        days.setdefault(local.date(), []).append((t, local))
    ctx["days"] = sorted(days.items())
    ctx["start"], ctx["end"], ctx["max_days"] = start, end, policy.max_days_ahead
    ctx["prev"] = start - dt.timedelta(days=7) if start > today else None
    ctx["next"] = end + dt.timedelta(days=1) if end < last_day else None
    return ctx


def parse_start(value):
    try:
        return dt.datetime.strptime(value or "", "%Y%m%dT%H%M")
    except ValueError:
        return None


def start_param(t):
    return t.strftime("%Y%m%dT%H%M")


# --- public booking ---------------------------------------------------------------------


def _practice_or_404(practice_id):
    practice = Practice.get_or_none(Practice.id == practice_id)
    if practice is None or not svc.policy_for(practice.id).online_booking_enabled:
        abort(404)
    return practice


@bp.route("/book/<int:practice_id>")
def public_book(practice_id):
    practice = _practice_or_404(practice_id)
    ctx = picker(practice, request.args)

    def slot_url(t):
        return url_for(
            "public_booking.public_account",
            practice_id=practice.id,
            type=ctx["type"].id,
            provider=ctx.get("provider_sel", "any"),
            start=start_param(t),
        )

    return render(
        "public/book.html",
        block="slot_picker",
        practice=practice,
        tz=practice.tz,
        start_param=start_param,
        nav_url=lambda **kw: url_for("public_booking.public_book", practice_id=practice.id, **kw),
        slot_url=slot_url,
        **ctx,
    )


class AccountForm(FlaskForm):
    first_name = StringField(
        "First name", validators=[DataRequired("Enter your first name."), Length(max=80)]
    )
    last_name = StringField(
        "Last name", validators=[DataRequired("Enter your last name."), Length(max=80)]
    )
    email = EmailField(
        "E-mail",
        validators=[
            DataRequired("Enter your e-mail address."),
            Email("Enter a valid e-mail address.", check_deliverability=False),
            Length(max=200),
        ],
    )
    date_of_birth = DateField(
        "Date of birth", validators=[DataRequired("Enter your date of birth.")]
    )
    phone = TelField(
        "Mobile phone",
        validators=[
            DataRequired("Enter a phone number the practice can reach you on."),
            Length(max=40),
            Regexp(r"^[0-9+().\- ]{7,}$", message="Enter a phone number, e.g. 503-555-0100."),
        ],
    )
    password = PasswordField("Choose a password", validators=[DataRequired("Choose a password.")])
    confirm = PasswordField(
        "Repeat the password",
        validators=[
            DataRequired("Repeat the password."),
            EqualTo("password", "The two passwords differ."),
        ],
    )
    consent = BooleanField(
        "I agree to the practice's policies above",
        validators=[DataRequired("Please read and agree to the practice's policies.")],
    )


def _chosen(practice):
    """The slot chosen on the public page (type, provider or None, start) or 404."""
    appt_type = AppointmentType.get_or_none(
        (AppointmentType.id == int_arg("type", 0))
        & (AppointmentType.practice == practice.id)
        & (AppointmentType.online_bookable == True)  # noqa: E712
        & (AppointmentType.active == True)  # noqa: E712
    )
    start = parse_start(request.args.get("start"))
    if appt_type is None or start is None:
        abort(404)
    provider = None
    if request.args.get("provider", "any") != "any":
        provider = Provider.get_or_none(
            (Provider.id == int_arg("provider", 0)) & (Provider.practice == practice.id)
        )
        if provider is None:
            abort(404)
    return appt_type, provider, start


SIGNUP_KEY = "signup"  # login_attempt.account_key of sign-up tries (never an e-mail's hash)


def _too_many_signups():
    """Sign-up tries from this address in the last hour reached the limit (a bot opening
    accounts, or trying which e-mails already have one)."""
    since = clock.utcnow() - dt.timedelta(hours=1)
    tries = (
        LoginAttempt.select()
        .where(
            (LoginAttempt.account_key == SIGNUP_KEY)
            & (LoginAttempt.ip == audit.client_ip())
            & (LoginAttempt.at > since)
        )
        .count()
    )
    return tries >= current_app.config["SIGNUPS_PER_HOUR_PER_ADDRESS"]


def _note_signup():
    """One sign-up try (stored as a successful login attempt: it never counts toward the
    login lockouts, which count failures; pruned after a day with them)."""
    LoginAttempt.create(
        account_key=SIGNUP_KEY, ip=audit.client_ip(), at=clock.utcnow(), success=True
    )


@bp.route("/book/<int:practice_id>/account", methods=["GET", "POST"])
def public_account(practice_id):
    practice = _practice_or_404(practice_id)
    appt_type, provider, start = _chosen(practice)
    confirm_url = url_for(
        "client.book_confirm",
        type=appt_type.id,
        provider=provider.id if provider else "any",
        start=start_param(start),
    )
    if current_user.is_authenticated and current_user.is_client:
        return redirect(confirm_url)
    form = AccountForm()
    form.password.description = (
        f"At least {current_app.config['PASSWORD_MIN_LENGTH']} characters; "
        "a phrase of several words works well."
    )
    status = 200
    valid = form.validate_on_submit()
    if valid and _too_many_signups():
        form.form_errors.append(
            "Too many new accounts were opened from this network in the last hour. "
            "Try again later, or call the practice to book."
        )
        status = 429
    elif valid:
        _note_signup()
        email = form.email.data.strip().lower()
        problems = password_problems(
            form.password.data, current_app.config["PASSWORD_MIN_LENGTH"], email
        )
        if problems:
            form.password.errors.append(" ".join(problems))
        dob = form.date_of_birth.data
        if dob > dt.date.today() or dob.year < 1900:
            form.date_of_birth.errors.append("Enter your real date of birth.")
        if not form.errors:
            # Hashed whether or not the address has an account: both replies take as long.
            password_hash = hash_password(form.password.data)
            data = {
                "email": email,
                "first_name": form.first_name.data.strip(),
                "last_name": form.last_name.data.strip(),
                "date_of_birth": dob,
                "phone": form.phone.data.strip(),
            }
            signup.register(practice, data, password_hash, confirm_url)
            # Post/redirect/get: reloading the answer must not send the form again. The
            # same answer whether or not the address had an account.
            return redirect(url_for("public_booking.check_email", practice_id=practice.id), 303)
        status = 400
    elif request.method == "POST":
        status = 400
    return render(
        "public/account.html",
        form=form,
        practice=practice,
        appt_type=appt_type,
        provider=provider,
        start=start,
        tz=practice.tz,
        login_url=url_for("auth.login", next=confirm_url),
        policies=signup.policy_text(practice),
    ), status


@bp.route("/book/<int:practice_id>/check-email")
def check_email(practice_id):
    """What a new account reads after signing up: the e-mail to open (nothing of theirs)."""
    return render("public/check_email.html", practice=_practice_or_404(practice_id))


# --- the provider's private feed ---------------------------------------------------------


@bp.route("/calendar/<token>.ics")
def calendar_feed_ics(token):
    row = feed_for_token(token)
    if row is None:
        abort(404)
    provider = Provider.get_by_id(row.provider_id)
    body = provider_feed_ics(provider, Practice.get_by_id(row.practice_id))
    resp = Response(body, mimetype="text/calendar")
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


# --- reminders ---------------------------------------------------------------------------


@click.command("send-reminders")
@with_appcontext
@click.option(
    "--hours",
    type=int,
    default=None,
    help="Remind appointments starting within this many hours (default: each "
    "practice's policy, 24).",
)
def send_reminders_cmd(hours):
    """Queue reminder e-mails for upcoming appointments (safe to run every few minutes)."""
    with database.connection_context():
        count = svc.send_reminders(hours=hours)
    click.echo(f"Reminders queued: {count}")
