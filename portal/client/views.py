"""Client portal: home and account."""

from flask_login import current_user

from portal import audit
from portal.access import get_or_404
from portal.client import bp
from portal.htmx import render
from portal.models import Client


@bp.route("/")
def home():
    client = get_or_404(Client, current_user.client_id)
    audit.record_view("client.view", obj=client, detail="portal home")
    return render("client/home.html", client=client)
