"""Owner pages: practice settings, providers, staff users, audit log and the outbox."""

import datetime as dt
import io
import os
import re
import secrets

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_login import current_user
from PIL import Image, UnidentifiedImageError

from portal import audit, clock, tokens
from portal.access import get_or_404, roles_required, scoped
from portal.db import database
from portal.formutil import choices
from portal.htmx import render
from portal.inputs import page_arg
from portal.models import (
    ROLE_THERAPIST,
    STAFF_ROLES,
    AuditLog,
    Client,
    OutboxMessage,
    Practice,
    Provider,
    User,
)
from portal.models.people import OWNER_ROLES
from portal.provider import bp
from portal.provider.claim_return import saved
from portal.provider.finder import found_row
from portal.provider.forms import (
    AuditFilterForm,
    InviteForm,
    PracticeForm,
    ProviderForm,
    StaffRoleForm,
)
from portal.rules.audit_words import action_words
from portal.rules.npi import format_ein, normalize_ein
from portal.services import client_merge
from portal.services import staff as staff_service

PAGE_SIZE = 50


@bp.route("/settings/")
@roles_required(*OWNER_ROLES)
def settings_home():
    return redirect(url_for("provider.practice_settings"))


@bp.route("/settings/practice", methods=["GET", "POST"])
@roles_required(*OWNER_ROLES)
def practice_settings():
    practice = Practice.get_by_id(current_user.practice_id)
    form = PracticeForm(obj=practice)
    if request.method == "GET":
        form.ein.data = format_ein(practice.ein)  # shown as 12-3456789, stored as 9 digits
    status = 200
    if form.validate_on_submit():
        logo_name = None
        if form.logo.data:
            logo_name, error = _store_logo(form.logo.data)
            if error:
                form.logo.errors.append(error)
        if not form.logo.errors:
            with database.atomic("IMMEDIATE"):
                changed = []
                for field in (
                    "name",
                    "address1",
                    "address2",
                    "city",
                    "state",
                    "postal_code",
                    "phone",
                    "email",
                    "timezone",
                    "ein",
                    "npi",
                    "taxonomy",
                    "require_staff_totp",
                    "therapists_see_all_clients",
                ):
                    value = getattr(form, field).data
                    if value is None:  # a field left out of the POST
                        value = ""
                    if isinstance(value, str):
                        value = value.strip()
                    if field == "ein":
                        value = normalize_ein(value)
                    if field == "state":
                        value = value.upper()
                    if getattr(practice, field) != value:
                        changed.append(field)
                        setattr(practice, field, value)
                if logo_name:
                    practice.logo_path = logo_name
                    changed.append("logo")
                practice.save()
                audit.record("practice.update", obj=practice, detail=",".join(changed))
            flash("Practice settings saved.", "success")
            return saved(url_for("provider.practice_settings"))
        status = 400
    elif request.method == "POST":
        status = 400
    return render("owner/practice.html", form=form, practice=practice), status


def _store_logo(upload):
    data = upload.read(1024 * 1024 + 1)
    if len(data) > 1024 * 1024:
        return None, "The logo must be at most 1 MB."
    try:
        img = Image.open(io.BytesIO(data))
        img.verify()
        img = Image.open(io.BytesIO(data))
        if img.format not in ("PNG", "JPEG"):
            return None, "The logo must be a PNG or JPEG image."
        if img.width * img.height > 4000 * 4000:
            return None, "The logo is too large; use one under 4000 x 4000 pixels."
        img.thumbnail((600, 300))
        clean = Image.new("RGBA", img.size, (255, 255, 255, 0))
        clean.paste(img.convert("RGBA"))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return None, "That file is not a readable PNG or JPEG image."
    folder = os.path.join(current_app.instance_path, "logos")
    os.makedirs(folder, exist_ok=True)
    name = secrets.token_hex(16) + ".png"
    clean.save(os.path.join(folder, name), format="PNG")
    return name, None


@bp.route("/settings/logo")
def practice_logo():
    practice = current_user.practice
    if not practice.logo_path:
        abort(404)
    path = os.path.join(current_app.instance_path, "logos", os.path.basename(practice.logo_path))
    if not os.path.exists(path):
        abort(404)
    return send_file(path, mimetype="image/png", max_age=300)


# --- providers -----------------------------------------------------------------


@bp.route("/settings/providers")
@roles_required(*OWNER_ROLES)
def providers():
    rows = scoped(Provider).order_by(Provider.active.desc(), Provider.last_name)
    return render("owner/providers.html", providers=list(rows))


@bp.route("/settings/providers/new", methods=["GET", "POST"])
@bp.route("/settings/providers/<int:provider_id>", methods=["GET", "POST"])
@roles_required(*OWNER_ROLES)
def provider_edit(provider_id=None):
    provider = get_or_404(Provider, provider_id) if provider_id else None
    form = ProviderForm(obj=provider)
    status = 200
    if form.validate_on_submit():
        with database.atomic("IMMEDIATE"):
            if provider is None:
                provider = Provider(practice=current_user.practice_id)
            for field in (
                "first_name",
                "last_name",
                "credentials",
                "npi",
                "license_number",
                "license_state",
                "taxonomy",
                "email",
                "phone",
                "active",
            ):
                value = getattr(form, field).data
                if value is None:  # a field left out of the POST
                    value = ""
                setattr(provider, field, value.strip() if isinstance(value, str) else value)
            provider.license_state = provider.license_state.upper()
            provider.save()
            audit.record("provider.save", obj=provider)
        flash(f"{provider.display_name} saved.", "success")
        return saved(url_for("provider.providers"))
    elif request.method == "POST":
        status = 400
    return render("owner/provider_form.html", form=form, provider=provider), status


# --- staff users ------------------------------------------------------------------


def _provider_choices():
    rows = scoped(Provider).where(Provider.active).order_by(Provider.last_name)
    return choices([(0, "— none —")] + [(p.id, p.display_name) for p in rows])


def _staff_user(user_id):
    """A staff user of this practice, or 404 (audited): these pages never act on clients."""
    return get_or_404(User, user_id, query=User.select().where(User.role.in_(STAFF_ROLES)))


def _staff_page(form, status=200):
    form.provider.choices = _provider_choices()
    users = list(scoped(User).where(User.role.in_(STAFF_ROLES)).order_by(User.name))
    return render(
        "owner/staff.html",
        form=form,
        users=users,
        invitations=tokens.invitations(users),
        ahead=staff_service.visits_ahead({u.provider_id for u in users}),
        smtp=bool(current_app.config.get("MAIL_SERVER")),
    ), status


def _invited(email, again=False):
    """The flash after an invitation: sent, or (without a mail server) where it waits."""
    if current_app.config.get("MAIL_SERVER"):
        return f"{'A new invitation link was' if again else 'Invitation'} sent to {email}."
    return (
        f"{'A new invitation' if again else 'Invitation'} for {email} is waiting in the "
        "E-mail outbox: no mail server is set up, so it is not sent yet."
    )


@bp.route("/settings/staff", methods=["GET", "POST"])
@roles_required(*OWNER_ROLES)
def staff():
    form = InviteForm()
    form.provider.choices = _provider_choices()
    status = 200
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        provider_id = form.provider.data or None
        if provider_id and not scoped(Provider).where(Provider.id == provider_id).exists():
            abort(404)
        if form.role.data == ROLE_THERAPIST and not provider_id:
            form.provider.errors.append(
                "Choose the therapist record for this user (add it under Providers first)."
            )
            status = 400
        else:
            name, role = form.name.data.strip(), form.role.data
            try:
                staff_service.invite(current_user.practice, email, name, role, provider_id)
            except staff_service.AlreadyHere:
                # Only a user of this practice is said to exist (one of another practice
                # is invited like anyone new: the owner must not learn of them).
                form.email.errors.append("A user with this e-mail already exists.")
                status = 400
            else:
                flash(_invited(email), "success")
                return redirect(url_for("provider.staff"))
    elif request.method == "POST":
        status = 400
    return _staff_page(form, status)


def _day(when):
    return clock.to_local(when, current_user.practice.tz).strftime("%a %-d %b")


@bp.route("/settings/staff/<int:user_id>/toggle", methods=["POST"])
@roles_required(*OWNER_ROLES)
def staff_toggle(user_id):
    user = _staff_user(user_id)
    if user.id == current_user.id:
        flash("You cannot disable your own account.", "error")
        return redirect(url_for("provider.staff"))
    ahead = staff_service.set_active(user, not user.active)
    if user.active:
        flash(f"{user.name} is enabled.", "success")
    else:
        flash(f"{user.name} is disabled and logged out everywhere.", "success")
    if ahead:
        # Their clients still expect them: the owner decides who sees them, or cancels.
        flash(
            f"{user.name} has {ahead.words()}, from {_day(ahead.first)}. "
            f"Move {ahead.them} to another therapist or cancel {ahead.them}: the staff page "
            f"links to {ahead.them}.",
            "info",
        )
    record = user.provider if not user.active and user.provider_id else None
    if record is not None and record.active:
        flash(
            f"Clients can still book {record.display_name}, online too: turn the record off "
            "under Providers if they no longer see clients.",
            "info",
        )
    return redirect(url_for("provider.staff"))


@bp.route("/settings/staff/<int:user_id>/role", methods=["GET", "POST"])
@roles_required(*OWNER_ROLES)
def staff_role(user_id):
    user = _staff_user(user_id)
    if user.id == current_user.id:
        # An owner who demoted themself could leave the practice without one.
        flash("Another owner must change your own role.", "error")
        return redirect(url_for("provider.staff"))
    form = StaffRoleForm(obj=user)
    form.provider.choices = _provider_choices()
    if request.method == "GET":
        form.provider.data = user.provider_id or 0
    status = 200
    if form.validate_on_submit():
        provider_id = form.provider.data or None
        if provider_id and not scoped(Provider).where(Provider.id == provider_id).exists():
            abort(404)
        if form.role.data == ROLE_THERAPIST and not provider_id:
            form.provider.errors.append(
                "Choose the therapist record for this user (add it under Providers first)."
            )
            status = 400
        else:
            if staff_service.change_role(user, form.role.data, provider_id):
                flash(f"{user.name}'s role is now {user.role_label}.", "success")
            return redirect(url_for("provider.staff"))
    elif request.method == "POST":
        status = 400
    return render("owner/staff_role.html", form=form, user=user), status


@bp.route("/settings/staff/<int:user_id>/totp-reset", methods=["POST"])
@roles_required(*OWNER_ROLES)
def staff_totp_reset(user_id):
    """For a lost phone: the user sets two-step login up again at their next login."""
    user = _staff_user(user_id)
    if user.id == current_user.id:
        flash(
            "Another owner must reset your own two-step login. The practice's only owner: "
            "whoever runs the portal's server runs "
            f"flask --app wsgi reset-two-step --email {user.email}",
            "error",
        )
        return redirect(url_for("provider.staff"))
    staff_service.reset_two_step(user)
    flash(
        f"Two-step login of {user.name} is reset; they set it up again at their next login.",
        "success",
    )
    return redirect(url_for("provider.staff"))


@bp.route("/settings/staff/<int:user_id>/invite", methods=["POST"])
@roles_required(*OWNER_ROLES)
def staff_reinvite(user_id):
    """A new link for staff who never chose a password. Anyone with a password resets it
    themselves ("Forgot your password?"): a link sent on the owner's say-so would let the
    owner, who reads the outbox, into their account."""
    user = _staff_user(user_id)
    if user.password_hash or not user.active:
        audit.record("user.invite_refused", obj=user, detail="has a password or is disabled")
        flash(
            f"{user.name} already chose a password (or is disabled), so no invitation was sent. "
            "They can use “Forgot your password?” on the login page.",
            "error",
        )
        return _staff_page(InviteForm(formdata=None), 409)
    with database.atomic("IMMEDIATE"):
        tokens.send_invite(user, current_user.practice)
        audit.record("user.invite", obj=user, detail="resent")
    flash(_invited(user.email, again=True), "success")
    return redirect(url_for("provider.staff"))


@bp.route("/clients/<int:client_id>/portal-invite", methods=["POST"])
@roles_required(*STAFF_ROLES)
def client_portal_invite(client_id):
    """Invite a client to the portal (a button on the client page): a one-time link by e-mail."""
    client = get_or_404(Client, client_id)
    try:
        with database.atomic("IMMEDIATE"):
            tokens.invite_client(client)
        flash("Portal invitation sent to the client's e-mail address.", "success")
    except tokens.InviteError as exc:
        flash(str(exc), "error")
    if "provider.client_page" in current_app.view_functions:
        return redirect(url_for("provider.client_page", client_id=client.id))
    return redirect(url_for("provider.home"))


# --- audit log and outbox ------------------------------------------------------------


def _page(query, page):
    """PAGE_SIZE rows of `page`, plus one more to tell whether a next page exists."""
    return query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)


@bp.route("/settings/audit")
@roles_required(*OWNER_ROLES)
def audit_log():
    form = AuditFilterForm(request.args)
    users = list(scoped(User).order_by(User.name))
    form.user.choices = choices(
        [(0, "Anyone")] + [(u.id, f"{u.name or u.email} ({u.role_label})") for u in users]
    )
    q = AuditLog.select().where(AuditLog.practice_id == current_user.practice_id)
    if form.validate():
        if form.action.data:
            q = q.where(AuditLog.action.startswith(form.action.data.strip()))
        if form.user.data:
            q = q.where(AuditLog.user_id == form.user.data)
        if form.client.data:  # the client and any duplicate merged into them
            q = q.where(AuditLog.client_id.in_(client_merge.family_ids(int(form.client.data))))
        if form.date_from.data:
            q = q.where(AuditLog.at >= dt.datetime.fromisoformat(form.date_from.data))
        if form.date_to.data:
            q = q.where(
                AuditLog.at < dt.datetime.fromisoformat(form.date_to.data) + dt.timedelta(days=1)
            )
    page = page_arg()
    rows = list(_page(q.order_by(AuditLog.id.desc()), page))
    has_next = len(rows) > PAGE_SIZE
    names = {u.id: u.name or u.email for u in users}
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    client_ids = {r.client_id for r in rows if r.client_id}
    chosen = form.client.data if form.client.data and not form.client.errors else None
    if chosen:
        client_ids.add(int(chosen))
    clients = {c.id: c for c in scoped(Client).where(Client.id.in_(client_ids))}
    return render(
        "owner/audit.html",
        "audit_results",
        form=form,
        rows=rows[:PAGE_SIZE],
        names=names,
        clients=clients,
        chosen=found_row(clients[int(chosen)]) if chosen and int(chosen) in clients else None,
        words=action_words,
        any_client_args={k: v for k, v in args.items() if k != "client"},
        page=page,
        has_next=has_next,
        args=args,
    )


# A one-time link (invitation, password reset) is for its recipient only: the outbox says
# that one was sent, never the link, or whoever reads the outbox could use it.
ONE_TIME_LINK = re.compile(r"\S*/account/set-password/\S*")
LINK_HIDDEN = "[one-time link: for the recipient only, not shown here]"


@bp.route("/settings/outbox")
@roles_required(*OWNER_ROLES)
def outbox():
    page = page_arg()
    rows = list(_page(scoped(OutboxMessage).order_by(OutboxMessage.id.desc()), page))
    for m in rows:
        m.shown_body = ONE_TIME_LINK.sub(LINK_HIDDEN, m.body)
        m.has_link = m.shown_body != m.body
    return render(
        "owner/outbox.html",
        rows=rows[:PAGE_SIZE],
        page=page,
        has_next=len(rows) > PAGE_SIZE,
        smtp=bool(current_app.config.get("MAIL_SERVER")),
    )
