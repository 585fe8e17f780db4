"""The provider's home: today at a glance."""

from flask_login import current_user

from portal.htmx import render
from portal.provider import bp


@bp.route("/")
def home():
    return render("provider/home.html", practice=current_user.practice)
