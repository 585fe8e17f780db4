"""Clients in the provider dashboard: the list with live search, adding and editing a client,
archiving, and the client page. (Insurance: provider/insurance.py; intake and the
front-desk tablet: provider/intake.py.)

Search terms travel in POST bodies (never in a URL). The front desk sees demographics and
insurance but no clinical content (chart notes, intake answers, intake flags).
"""

import datetime as dt

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from portal import access, audit, clock
from portal.formutil import choices
from portal.htmx import render
from portal.models import (
    ROLE_THERAPIST,
    Client,
    Provider,
)
from portal.provider import bp, finder
from portal.provider.claim_return import saved
from portal.provider.clients_forms import (
    ClientForm,
    SearchForm,
)
from portal.provider.intake import tablet_start_form
from portal.rules import coverage as coverage_rules
from portal.services import clients as client_svc
from portal.services import coverage
from portal.services import intake as intake_svc

SECTIONS = [
    ("overview", "Overview", None),
    ("insurance", "Insurance", None),
    ("notes", "Chart notes", "provider.client_notes"),
    ("appointments", "Appointments", "provider.client_appointments"),
    ("billing", "Billing", "provider.client_billing"),
    ("documents", "Documents", "provider.client_documents"),
    ("superbills", "Superbills and letters", "provider.client_superbills"),
    ("messages", "Messages", "provider.client_messages"),
]


def today():
    return clock.today(current_user.practice.tz)


def sees_clinical():
    return current_user.is_clinical


# --- list and search ------------------------------------------------------------------


def _search_page(q="", page=1, archived=False, errors=(), status=200):
    rows, total, page, pages = client_svc.search(q, page=page, include_archived=archived)
    # Once per user, result and 10 minutes (audit.record_view): the list reloaded or the
    # same search typed again is covered by the first row.
    audit.record_view("client.search", detail=f"{total} matches, page {page}")
    resp = render(
        "provider/clients/list.html",
        block="client_results",
        q=q,
        archived=archived,
        q_errors=errors,
        clients=rows,
        total=total,
        page=page,
        pages=pages,
        searched=bool(q.strip()),
        section="clients",
    )
    resp.status_code = status
    return resp


@bp.route("/clients")
def clients():
    return _search_page()


@bp.route("/clients/search", methods=["POST"])
def clients_search():
    form = SearchForm()
    valid = form.validate()
    return _search_page(
        form.q.data or "",
        page=(form.page.data or 1) if valid else 1,
        archived=bool(form.archived.data),
        errors=[*form.q.errors, *form.page.errors],
        status=200 if valid else 400,
    )


# --- create / edit ----------------------------------------------------------------------


def _therapist_choices(form, current_id=None):
    providers = access.scoped(Provider).where(
        (Provider.active == True) | (Provider.id == (current_id or 0))  # noqa: E712
    )
    form.therapist.choices = choices(
        [(0, "No one yet")] + [(p.id, p.display_name) for p in providers.order_by(Provider.id)]
    )


def _client_data(form):
    data = {
        name: getattr(form, name).data for name in client_svc.CLIENT_FIELDS if name != "therapist"
    }
    for k, v in data.items():
        if v is None and k != "date_of_birth":
            data[k] = ""
    tid = form.therapist.data or 0
    data["therapist"] = access.scoped(Provider).where(Provider.id == tid).first() if tid else None
    return data


@bp.route("/clients/new", methods=["GET", "POST"])
def client_new():
    form = ClientForm()
    _therapist_choices(form)
    if request.method == "GET" and current_user.role == ROLE_THERAPIST:
        form.therapist.data = current_user.provider_id or 0
    duplicates = []
    if form.validate_on_submit():
        data = _client_data(form)
        duplicates = [] if form.not_a_duplicate.data else finder.duplicates_of(data)
        if not duplicates:
            client = client_svc.create(current_user.practice, data)
            flash("Client added.", "success")
            return redirect(url_for("provider.client_page", client_id=client.id))
    status = (409 if duplicates else 400) if request.method == "POST" else 200
    return render_template(
        "provider/clients/form.html",
        form=form,
        client=None,
        duplicates=duplicates,
        section="clients",
    ), status


def _shown(field, value):
    """A stored or typed value as the form shows it, for the conflict page."""
    labels = {c.value: c.label for c in getattr(field, "choices", None) or ()}
    if value is None and 0 in labels:  # the therapist: "No one yet"
        value = 0
    if value in labels:
        return labels[value]
    if value in (None, ""):
        return "(blank)"
    return value.strftime("%m/%d/%Y") if isinstance(value, dt.date) else value


def conflict_rows(form, differences):
    """[(label, saved, typed)] for client_svc.ClientChanged.differences."""
    return [
        (
            getattr(form, name).label.text,
            _shown(getattr(form, name), saved),
            _shown(getattr(form, name), typed),
        )
        for name, saved, typed in differences
    ]


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
def client_edit(client_id):
    client = access.get_or_404(Client, client_id)
    form = ClientForm(obj=client)
    _therapist_choices(form, client.therapist_id)
    if request.method == "GET":
        form.therapist.data = client.therapist_id or 0
        form.version.data = client_svc.version(client)
        audit.record("client.view", obj=client, detail="edit form")
    conflict, rows = None, []
    if form.validate_on_submit():
        try:
            changed = client_svc.update(client, _client_data(form), form.version.data, current_user)
        except client_svc.ClientChanged as exc:
            # Changed meanwhile (the client in the portal, a colleague, another tab): keep
            # what was typed, show the stored values that differ; the form now carries the
            # newer version, so saving again replaces them knowingly.
            detail = "no version" if exc.missing else ""
            audit.record("client.update.conflict", obj=client, detail=detail)
            conflict, rows = exc, conflict_rows(form, exc.differences)
            form.version.data = exc.version
        else:
            flash("Saved." if changed else "Nothing changed.", "success")
            return saved(url_for("provider.client_page", client_id=client.id))
    status = (409 if conflict else 400) if request.method == "POST" else 200
    return render_template(
        "provider/clients/form.html",
        form=form,
        client=client,
        section="clients",
        conflict=conflict,
        conflict_rows=rows,
    ), status


@bp.route("/clients/<int:client_id>/archive", methods=["POST"])
def client_archive(client_id):
    client = access.get_or_404(Client, client_id)
    client_svc.set_archived(client, client.active)
    flash("Client archived." if not client.active else "Client restored.", "success")
    return redirect(url_for("provider.client_page", client_id=client.id))


# --- the client page -------------------------------------------------------------------


def _insurance_context(insurance, on):
    policies = []
    for p in insurance.policies:
        v = insurance.latest_verification(p)
        order, dates = coverage_rules.policy_dates(p.effective_date, p.end_date, on)
        policies.append(
            {
                "policy": p,
                "cards": insurance.cards(p),
                "verification": v,
                "summary": coverage.verification_summary(v, insurance) if v else "",
                "dates": dates,
                "order": (not p.active, order),
            }
        )
    return {
        "policies": sorted(policies, key=lambda item: item["order"]),  # in effect first
        "unattached": insurance.unattached_cards,
        "referrals": [
            (r, *coverage.referral_status(r, on, insurance)) for r in insurance.referrals
        ],
        "authorizations": [
            (a, *coverage.authorization_status(a, on, insurance)) for a in insurance.authorizations
        ],
    }


@bp.route("/clients/<int:client_id>")
def client_page(client_id):
    client = access.get_or_404(Client, client_id, audit_action="client.view", joined=(Provider,))
    on = today()
    # Every insurance row of the client, read once for the warnings and the section below.
    insurance = coverage.ClientInsurance(client, current_user.practice)
    warnings = coverage.visit_warnings(client, on, insurance)
    said = " ".join(warnings).lower()
    skip = [kind for kind in ("referral", "authorization") if kind in said]
    warnings += coverage.document_warnings(client, on, skip=skip, ins=insurance)
    submissions = intake_svc.client_submissions(client)
    offered = intake_svc.offered_form_choices(client.practice_id)
    return render(
        "provider/clients/page.html",
        client=client,
        warnings=warnings,
        flags=coverage.intake_flags(client, submissions) if sees_clinical() else [],
        clinical=sees_clinical(),
        submissions=submissions,
        offered=offered,
        tablet_form=tablet_start_form(offered) if offered else None,
        sections=SECTIONS,
        section="clients",
        **_insurance_context(insurance, on),
    )
