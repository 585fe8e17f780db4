"""The client finder (type-ahead wherever a client is chosen) and merging duplicates.

- POST /clients/find: the matches for the words typed, as radio choices (HTMX fragment) or,
  without JavaScript, as a page of links. Search words travel in POST bodies only.
- /clients/<id>/merge (owner): merge a duplicate record into this one, after a preview of
  what moves and what stays.
"""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from portal import audit
from portal.access import get_or_404, roles_required
from portal.formutil import CsrfForm
from portal.htmx import render, wants_fragment
from portal.models import ROLE_OWNER, Client
from portal.provider import bp
from portal.services import client_finder, client_merge

# The fields a finder may fill, and where a match leads without JavaScript.
FIELDS = ("client_id", "client")
PURPOSES = {
    "audit": ("provider.audit_log", "client"),
    "book": ("provider.appointment_new", "client_id"),
    "open": ("provider.client_page", "client_id"),
}


def found_row(client):
    """A Client as the finder shows it."""
    return client_finder.Found(
        client.id,
        client.first_name,
        client.last_name,
        client.preferred_name,
        client.date_of_birth,
        client.phone,
        client.email,
        client.active,
    )


@bp.route("/clients/find", methods=["POST"])
def client_find():
    field = request.form.get("field", "client_id")
    if field not in FIELDS:
        abort(400)
    q = (request.form.get(f"{field}_q") or request.form.get("q") or "")[:100]
    found, more = client_finder.find(q)
    audit.record("client.search", detail=f"finder, {len(found)}{'+' if more else ''} matches")
    purpose = request.form.get("purpose", "open")
    endpoint, arg = PURPOSES.get(purpose, PURPOSES["open"])
    links = {c.id: url_for(endpoint, **{arg: c.id}) for c in found}
    return render(
        "provider/desk/client_find.html",
        block="client_choices",
        field=field,
        q=q,
        found=found,
        more=more,
        chosen=None,
        links=links,
        as_links=not wants_fragment(),
        purpose=purpose,
    )


@bp.route("/clients/<int:client_id>/merge", methods=["GET", "POST"])
@roles_required(ROLE_OWNER)
def client_merge_page(client_id):
    keep = get_or_404(Client, client_id, audit_action="client.view")
    form = CsrfForm()
    status, other, counts, error = 200, None, None, None
    q = (request.form.get("client_id_q") or "")[:100]
    if request.method == "POST" and not request.form.get("find_client"):
        if not form.validate_on_submit():
            abort(400)
        other = get_or_404(Client, request.form.get("client_id"))
        try:
            if request.form.get("confirm") == "yes":
                client_merge.merge(keep, other, user=current_user)
                flash(
                    f"{other.display_name}'s record is merged into this one. "
                    "Everything they had shows here.",
                    "success",
                )
                return redirect(url_for("provider.client_page", client_id=keep.id), 303)
            client_merge.check(keep, other)
            counts = client_merge.preview(keep, other)
        except client_merge.MergeError as exc:
            error, status, other = str(exc), 400, None
    candidates = client_finder.possible_duplicates(
        keep.practice_id,
        {
            "first_name": keep.first_name,
            "last_name": keep.last_name,
            "date_of_birth": keep.date_of_birth,
            "email": keep.email,
            "phone": keep.phone,
        },
        exclude_id=keep.id,
    )
    data = {f: getattr(keep, f) for f in ("first_name", "last_name", "date_of_birth", "email")}
    data["phone"] = keep.phone
    return render(
        "provider/desk/merge.html",
        client=keep,
        form=form,
        candidates=[(c, client_finder.why_duplicate(c, data)) for c in candidates],
        other=other,
        counts=counts,
        stays=client_merge.STAYS,
        error=error,
        merged_into=client_merge.merged_into(keep.id),
        finder=dict(zip(("found", "more"), client_finder.find(q), strict=True), q=q),
        section="clients",
    ), status


def duplicates_of(data):
    """[(Found, why)] of the practice's clients who may be the person in `data` (a new
    client's form): the warning shown before adding them."""
    rows = client_finder.possible_duplicates(current_user.practice_id, data)
    return [(c, client_finder.why_duplicate(c, data)) for c in rows]


@bp.app_template_global()
def client_merges(client_id):
    """For the client page: the record this one was merged into, and those merged into it."""
    into, merged_from = client_merge.banner(client_id)
    return {"into": into, "merged_from": merged_from}
