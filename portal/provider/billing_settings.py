"""Billing settings (owner): the packages the practice sells, and the payment settings
(when a package credit is used, invoice due days, Stripe status, HSA/FSA acceptance)."""

from flask import flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal import audit, payments
from portal.access import get_or_404, roles_required, scoped
from portal.db import database
from portal.formutil import CheckboxesField, choices
from portal.htmx import render
from portal.models.billing import BillingSettings, PackageDefinition, PackageEligibleType
from portal.models.people import OWNER_ROLES
from portal.models.scheduling import AppointmentType
from portal.provider import bp
from portal.provider.billing import money_from
from portal.rules.money import parse_dollars
from portal.services import invoicing, packages


def price_above_zero(form, field):
    """The price in cents (field.cents), checked with the other fields: a package is sold
    for money (a price of 0 is a slip of the finger, not a gift)."""
    try:
        field.cents = parse_dollars(field.data)
    except ValueError as e:
        raise ValidationError(str(e)) from e
    if field.cents <= 0:
        raise ValidationError("Enter a price above $0.")


class PackageForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    sessions = IntegerField(
        "Sessions",
        validators=[
            InputRequired("Enter how many sessions."),
            NumberRange(1, 100, "A package has 1 to 100 sessions."),
        ],
    )
    price = StringField(
        "Price ($)", validators=[DataRequired("Enter the price."), price_above_zero]
    )
    expiry_days = IntegerField(
        "Expires after (days)",
        validators=[
            Optional(),
            NumberRange(1, 3650, "Between 1 and 3650 days, or empty for no expiry."),
        ],
        description="Leave empty for no expiry.",
    )
    sold_online = BooleanField("Clients can buy it in the portal")
    types = CheckboxesField(
        "Eligible appointment types",
        coerce=int,
        description="None ticked: every appointment type.",
        invalid="Tick appointment types from the list.",
    )


class SettingsForm(FlaskForm):
    redeem_at = SelectField(
        "Use a package credit",
        choices=choices(
            [("completion", "when the visit is completed"), ("booking", "when it is booked")]
        ),
    )
    invoice_due_days = IntegerField(
        "Invoices due after (days)", validators=[InputRequired(), NumberRange(0, 365)]
    )
    confirm_over = StringField(
        "Ask to confirm a sale or payment at the desk over ($)",
        validators=[Optional()],
        description="A package sold or a visit paid for more than this asks “are you sure?”.",
    )


# --- packages ---------------------------------------------------------------------------------


def _type_choices():
    rows = scoped(AppointmentType).where(AppointmentType.active).order_by(AppointmentType.name)
    return choices([(t.id, t.name) for t in rows])


@bp.route("/billing/packages", methods=["GET", "POST"])
@roles_required(*OWNER_ROLES)
def package_definitions():
    form = PackageForm()
    form.types.choices = _type_choices()
    status = 200
    if form.validate_on_submit():  # the types ticked are among this practice's choices
        packages.save_definition(
            current_user.practice_id,
            name=form.name.data.strip(),
            sessions=form.sessions.data,
            price_cents=form.price.cents,
            expiry_days=form.expiry_days.data,
            sold_online=form.sold_online.data,
            type_ids=form.types.data or [],
            user=current_user,
        )
        flash("Package saved.", "success")
        return redirect(url_for("provider.package_definitions"), 303)
    if request.method == "POST":
        status = 400
    defs = list(
        scoped(PackageDefinition).order_by(PackageDefinition.active.desc(), PackageDefinition.name)
    )
    types = {}
    for row in PackageEligibleType.select().where(
        PackageEligibleType.definition.in_([d.id for d in defs])
    ):
        types.setdefault(row.definition_id, []).append(row.appointment_type.name)
    return render(
        "provider/billing/packages.html",
        form=form,
        definitions=defs,
        types=types,
        liability=packages.liability(current_user.practice_id),
        section="billing",
    ), status


@bp.route("/billing/packages/<int:definition_id>/toggle", methods=["POST"])
@roles_required(*OWNER_ROLES)
def package_toggle(definition_id):
    d = get_or_404(PackageDefinition, definition_id)
    with database.atomic("IMMEDIATE"):
        PackageDefinition.update(active=not d.active).where(PackageDefinition.id == d.id).execute()
        audit.record("package.toggle", obj=d, detail="active" if not d.active else "inactive")
    return redirect(url_for("provider.package_definitions"), 303)


# --- settings ---------------------------------------------------------------------------------


@bp.route("/billing/settings", methods=["GET", "POST"])
@roles_required(*OWNER_ROLES)
def billing_settings():
    settings = invoicing.settings_for(current_user.practice_id)
    form = SettingsForm(obj=settings)
    if request.method == "GET":
        form.confirm_over.data = f"{settings.confirm_over_cents / 100:.2f}"
    status = 200
    valid = form.validate_on_submit()
    confirm_over = None
    if valid:  # left empty: unchanged
        raw = (form.confirm_over.data or "").strip()
        confirm_over = money_from(form.confirm_over) if raw else settings.confirm_over_cents
    if valid and confirm_over is not None:
        with database.atomic("IMMEDIATE"):
            BillingSettings.insert(
                practice=current_user.practice_id,
                redeem_at=form.redeem_at.data,
                invoice_due_days=form.invoice_due_days.data,
                confirm_over_cents=confirm_over,
            ).on_conflict(
                conflict_target=[BillingSettings.practice],
                update={
                    BillingSettings.redeem_at: form.redeem_at.data,
                    BillingSettings.invoice_due_days: form.invoice_due_days.data,
                    BillingSettings.confirm_over_cents: confirm_over,
                },
            ).execute()
            audit.record("billing.settings", detail="redeem_at,invoice_due_days,confirm_over")
        flash("Billing settings saved.", "success")
        return redirect(url_for("provider.billing_settings"), 303)
    elif request.method == "POST":
        status = 400
    return render(
        "provider/billing/settings.html",
        form=form,
        stripe=payments.status(),
        webhook_url=url_for("webhooks.stripe_webhook", _external=True),
        section="billing",
    ), status
