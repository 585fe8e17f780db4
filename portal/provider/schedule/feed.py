"""A provider's private calendar link (an .ics feed without client names): make a new
one (the old stops working) or turn it off."""

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from portal.access import roles_required
from portal.formutil import CsrfForm
from portal.htmx import render
from portal.provider import bp
from portal.provider.schedule.common import STAFF, managed_provider_or_404
from portal.services import calendar as cal_service


@bp.route("/schedule/feed/<int:provider_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def calendar_feed(provider_id):
    provider = managed_provider_or_404(provider_id)
    form = CsrfForm()
    new_url = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if request.form.get("action") == "revoke":
            cal_service.revoke_feed(provider, user=current_user)
            flash("The calendar link no longer works.", "success")
            return redirect(url_for("provider.calendar_feed", provider_id=provider.id))
        token = cal_service.new_feed_token(provider, user=current_user)
        # shown once, to be pasted into a calendar app: the full address
        new_url = current_app.config["BASE_URL"].rstrip("/") + url_for(
            "public_booking.calendar_feed_ics", token=token
        )
    return render(
        "provider/schedule/feed.html",
        provider=provider,
        active=cal_service.active_feed(provider),
        login_disabled=cal_service.login_disabled(provider),
        new_url=new_url,
        form=form,
    )
