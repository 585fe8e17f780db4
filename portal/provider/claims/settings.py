"""The owner's claim settings: bill as the practice or each therapist, the default place of
service, signatures on file, self-pay check-out before the note is signed, and when a
silent claim is flagged. (The CMS-1500 print offsets in the same row are set on the
paper claims' own page.)"""

from flask import flash, redirect, request, url_for
from flask_login import current_user

from portal import audit, clock
from portal.access import roles_required
from portal.db import database
from portal.htmx import render
from portal.models import ROLE_OWNER
from portal.provider import bp
from portal.provider.claims.forms import ClaimSettingsForm
from portal.services.claims import data

FIELDS = (
    "bill_as",
    "default_place_of_service",
    "signature_on_file",
    "cash_checkout_without_note",
    "no_response_days",
)


@bp.route("/settings/claims", methods=["GET", "POST"])
@roles_required(ROLE_OWNER)
def claim_settings():
    settings = data.settings_for(current_user.practice_id)
    form = ClaimSettingsForm(obj=settings)
    if form.validate_on_submit():
        with database.atomic("IMMEDIATE"):
            settings = data.settings_for(current_user.practice_id)
            changed = [f for f in FIELDS if getattr(settings, f) != getattr(form, f).data]
            for f in changed:
                setattr(settings, f, getattr(form, f).data)
            if changed:
                settings.updated_at = clock.utcnow()
                settings.save()
                audit.record("claim_settings.update", obj=settings, detail=",".join(changed))
        flash("Claim settings saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("provider.claim_settings"), 303)
    status = 400 if request.method == "POST" else 200
    resp = render("provider/claims/settings.html", form=form, settings=settings)
    resp.status_code = status
    return resp
