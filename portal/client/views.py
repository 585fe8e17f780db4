"""Client portal: home, profile and communication choices."""

from flask import flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TelField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal import audit, pagecache, payments
from portal.client import bp
from portal.htmx import render
from portal.services import client_account, client_home
from portal.services import clients as clients_svc


class ProfileForm(FlaskForm):
    preferred_name = StringField("Name you go by", validators=[Optional(), Length(max=80)])
    phone = TelField(
        "Mobile phone",
        validators=[
            DataRequired("Enter a phone number the practice can reach you on."),
            Length(max=40),
            Regexp(r"^[0-9+().\- ]{7,}$", message="Enter a phone number, e.g. 503-555-0100."),
        ],
    )
    address1 = StringField("Street address", validators=[Optional(), Length(max=120)])
    address2 = StringField("Apartment, suite", validators=[Optional(), Length(max=120)])
    city = StringField("City", validators=[Optional(), Length(max=80)])
    state = StringField("State", validators=[Optional(), Length(max=2)])
    postal_code = StringField("ZIP code", validators=[Optional(), Length(max=10)])
    version = HiddenField()  # what the form was opened on (services.clients.version)


# The client's two choices: (field name, label), in the order the home lists them.
PREFERENCES = (
    ("document_emails", "E-mail me when a new receipt or superbill is ready"),
    ("monthly_superbill", "Make me a superbill of each month's paid visits"),
)


class PreferencesForm(FlaskForm):
    document_emails = BooleanField(PREFERENCES[0][1])
    monthly_superbill = BooleanField(PREFERENCES[1][1])


PROFILE_FIELDS = ("preferred_name", "phone", "address1", "address2", "city", "state", "postal_code")


def _preferences(prefs):
    """[(name, label, checked)] of the choices, for the home's form (two checkboxes: the
    page lists them in a loop; PreferencesForm reads what is posted)."""
    return [(name, label, bool(getattr(prefs, name))) for name, label in PREFERENCES]


@bp.route("/")
@pagecache.cached_page
def home():
    # Served from the render cache while nothing changed (portal/pagecache.py): every
    # write changes the data version and the minute is in the key; the view audit runs on
    # every request, hit or miss.
    home = client_home.home_for(current_user.client_id, current_user.practice)
    client = home.client  # the client's own record, with just the columns the home shows
    pagecache.each_time(audit.record_view, "client.view", obj=client, detail="portal home")
    return render(
        "client/home.html",
        client=client,
        home=home,
        preferences=_preferences(home.prefs),
        card_payments=payments.is_configured(),
        section="home",
    )


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    client = current_user.client
    form = ProfileForm(obj=client if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = clients_svc.version(client, PROFILE_FIELDS)
    conflict = None
    if form.validate_on_submit():
        data = {name: getattr(form, name).data or "" for name in PROFILE_FIELDS}
        try:
            changed = clients_svc.update(client, data, form.version.data, current_user)
        except clients_svc.ClientChanged as exc:
            # the practice changed them meanwhile: what was typed stays, the saved values
            # that differ are named, and saving again replaces them knowingly
            audit.record("client.update.conflict", obj=client, detail="portal profile")
            conflict, form.version.data = exc, exc.version
        else:
            flash("Saved." if changed else "Nothing changed.", "success")
            return redirect(url_for("client.home") + "#profile", 303)
    audit.record_view("client.view", obj=client, detail="portal profile")
    status = (409 if conflict else 400) if request.method == "POST" else 200
    return render(
        "client/profile.html", form=form, client=client, section="home", conflict=conflict
    ), status


@bp.route("/preferences", methods=["POST"])
def preferences():
    form = PreferencesForm()
    if not form.validate_on_submit():
        flash("The form expired: try again.", "error")
        return redirect(url_for("client.home") + "#preferences", 303)
    client_account.save_preferences(
        current_user.client,
        monthly_superbill=form.monthly_superbill.data,
        document_emails=form.document_emails.data,
        user=current_user,
    )
    flash("Your choices are saved.", "success")
    return redirect(url_for("client.home") + "#preferences", 303)
