"""Client portal: the one page a client sees until their e-mail address is proven (a
sign-up on the public booking page), and a new link when the first went missing."""

from flask import flash, redirect, url_for
from flask_login import current_user

from portal import signup
from portal.client import bp
from portal.formutil import CsrfForm
from portal.htmx import render


@bp.route("/confirm-email")
def verify_pending():
    if not current_user.email_unverified:
        return redirect(url_for("client.home"))
    return render("client/verify_pending.html")


@bp.route("/confirm-email/resend", methods=["POST"])
def verify_resend():
    if current_user.email_unverified and CsrfForm().validate_on_submit():
        if signup.resend(current_user._get_current_object()):
            flash("A new link is on its way.", "success")
        else:
            flash("Several links were sent in the last hour: look for them, or try later.", "error")
    return redirect(url_for("client.verify_pending"), 303)
