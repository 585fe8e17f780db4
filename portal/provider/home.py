"""The provider's home: today at a glance."""

from flask_login import current_user

from portal import pagecache
from portal.htmx import render
from portal.provider import bp


@bp.route("/")
@pagecache.cached_page
def home():
    # Served from the render cache while nothing changed (portal/pagecache.py); the home
    # panel's schedule audit is registered with pagecache.each_time, so it runs on hits too.
    return render("provider/home.html", practice=current_user.practice)
