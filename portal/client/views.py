"""Client portal: home and account."""

from flask_login import current_user

from portal import audit
from portal.client import bp
from portal.htmx import render


@bp.route("/")
def home():
    client = current_user.client
    audit.record("client.view", obj=client, detail="portal home")
    return render("client/home.html", client=client)
