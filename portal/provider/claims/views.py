"""Claims pages: the list (filters by status, payer and age), the accounts-receivable
aging per payer, the claim page and its edit page.

Who: the owner and the front desk work claims; a therapist sees the claims of the
clients they may see (portal.access.scoped), read-only; clients never (the provider
blueprint refuses them).
"""

from flask import request, url_for
from flask_login import current_user

from portal import audit, clock
from portal.access import get_or_404, roles_required
from portal.htmx import render
from portal.inputs import int_arg, page_arg
from portal.models import ROLE_FRONTDESK, ROLE_OWNER, STAFF_ROLES, Claim
from portal.provider import bp
from portal.provider.claim_return import with_back
from portal.provider.claims.forms import (
    DetailsForm,
    DiagnosesForm,
    LineForm,
    PayerNumberForm,
    ReasonForm,
)
from portal.rules import claim_status as cs
from portal.rules import slots as slot_rules
from portal.rules.coding import place_of_service_label
from portal.rules.money import format_cents
from portal.rules.problems import WHERE
from portal.services.claims import batches, build, data, filing, life, queries, share

DESK = (ROLE_OWNER, ROLE_FRONTDESK)
CLINICAL = (ROLE_OWNER, "therapist")


def today():
    return slot_rules.to_local(clock.utcnow(), current_user.practice.tz).date()


def claim_or_404(claim_id, action=None):
    return get_or_404(Claim, claim_id, audit_action=action)


# --- the list -----------------------------------------------------------------------------


def _filters():
    status = request.args.get("status", "")
    if status not in cs.STATUSES and status not in queries.FILTERS:
        status = ""
    age = request.args.get("age", "")
    if age not in queries.AGES:
        age = ""
    return status, int_arg("payer", lo=1), age, page_arg()


@bp.route("/claims")
@roles_required(*STAFF_ROLES)
def claims():
    status, payer_id, age, page = _filters()
    rows, has_next = queries.claim_rows(
        current_user, status=status, payer_id=payer_id, age=age, page=page, today=today()
    )
    audit.record_view("claim.list")
    args = {"status": status or None, "payer": payer_id, "age": age or None}
    return render(
        "provider/claims/list.html",
        "claim_list",
        rows=rows,
        has_next=has_next,
        page=page,
        status=status,
        payer_id=payer_id,
        age=age,
        args={k: v for k, v in args.items() if v},
        statuses=cs.LABELS,
        payers=queries.payer_choices(current_user),
        ages=queries.AGES,
        section="claims",
    )


@bp.route("/claims/aging")
@roles_required(*STAFF_ROLES)
def claims_aging():
    table = queries.aging(current_user, today())
    audit.record_view("claim.aging")
    return render(
        "provider/claims/aging.html", "aging", table=table, ages=queries.AGES, section="claims"
    )


# --- the claim page -----------------------------------------------------------------------


def fix_link(problem, claim):
    """Where a problem is fixed: (url or None, words). A page the user may not open is
    named, not linked."""
    role = current_user.role
    where = problem.fix_where
    if problem.code == "client_overpaid":
        return _refund_link(claim, role)
    if where == "claim":
        anchor = "line-" + problem.field if problem.field.isdigit() else "diagnoses"
        if role in DESK:
            return url_for(
                "provider.claim_edit", claim_id=claim.id
            ) + "#" + anchor, "Edit the claim"
        return None, "The front desk edits the claim"
    if where == "visit":
        if role in DESK:
            return "#use-note-minutes", "Use the note's minutes"
        return None, "The front desk corrects the check-out minutes"
    if where == "note":
        return None, "The therapist signs or amends the chart note"
    links = {
        "client": (url_for("provider.client_edit", client_id=claim.client_id), STAFF_ROLES),
        "policy": (url_for("provider.policy_edit", policy_id=claim.policy_id), STAFF_ROLES),
        "payer": (url_for("provider.payer_edit", payer_id=claim.payer_id), DESK),
        "referral": (
            url_for("provider.referral_edit", referral_id=claim.referral_id)
            if claim.referral_id
            else url_for("provider.referral_new", client_id=claim.client_id),
            STAFF_ROLES,
        ),
        "authorization": (
            url_for("provider.authorization_edit", auth_id=claim.authorization_id)
            if claim.authorization_id
            else url_for("provider.authorization_new", client_id=claim.client_id),
            STAFF_ROLES,
        ),
        "practice_settings": (url_for("provider.practice_settings"), (ROLE_OWNER,)),
        "clearinghouse": (url_for("provider.clearinghouse_settings"), (ROLE_OWNER,)),
        "provider": (
            url_for("provider.provider_edit", provider_id=claim.provider_id)
            if claim.provider_id
            else url_for("provider.providers"),
            (ROLE_OWNER,),
        ),
    }
    url, roles = links[where]
    page = WHERE[where].split(" (")[0]
    if role not in roles:
        who = "The owner" if roles == (ROLE_OWNER,) else "The front desk"
        return None, f"{who} fixes it on {page}"
    return with_back(url, claim), "Fix it on " + page


def _refund_link(claim, role):
    """The client's overpaid share is refunded on the visit's invoice, by the desk."""
    if role not in DESK:
        return None, "The front desk refunds it on the visit's invoice"
    invoice_id = share.overpaid_invoice_id(claim)
    if invoice_id is None:
        return None, "Nothing paid on the visit's invoices is left to refund"
    return url_for("provider.invoice", invoice_id=invoice_id), "Refund it on the visit's invoice"


def _actions(c, detail):
    status = c.status
    nexts = cs.TRANSITIONS.get(status, frozenset())
    codes = {p.code for p in detail["problems"]}
    secondary_policy = None
    if c.rank == "primary" and status in build.SECONDARY_AFTER:
        has = any(r.rank == "secondary" and r.part == c.part and r.status != cs.VOID
                  for r in detail["related"])  # fmt: skip
        if not has:
            secondary_policy = data.active_policy(c.client_id, "secondary", c.service_date)
    rebill = (
        status == cs.VOID
        and c.appointment_id is not None
        and not any(r.rank == c.rank and r.status != cs.VOID for r in detail["related"])
    )
    return {
        "check": status in life.CHECKABLE,
        "hold": status == cs.READY,
        "edit": status != cs.VOID,
        "void": cs.VOID in nexts,
        "void_needs_number": cs.needs_void_claim(status) and not c.payer_claim_number,
        "close": cs.CLOSED in nexts,
        "appeal": cs.APPEALED in nexts,
        "secondary": secondary_policy is not None,
        "rebill": rebill,
        "note_minutes": "minutes_disagree" in codes and status in life.CHECKABLE,
        "corrected_next": status in cs.PAYER_HAS_IT,
    }


def page_context(c, **forms):
    detail = queries.detail(c)
    works = current_user.role in DESK
    ctx = {
        "claim": c,
        "client": c.client,
        "policy": c.policy,
        "payer": c.payer,
        "provider": c.provider if c.provider_id else None,
        "referral": c.referral if c.referral_id else None,
        "authorization": c.authorization if c.authorization_id else None,
        "settings": data.settings_for(c.practice_id),
        "pos_label": place_of_service_label(c.place_of_service),
        "works": works,
        "sees_notes": current_user.role in CLINICAL,
        "actions": _actions(c, detail) if works else {},
        "fixes": {p.id: fix_link(p, c) for p in detail["problems"]},
        "money": format_cents,
        "section": "claims",
        "void_form": forms.get("void_form") or ReasonForm(prefix="void", formdata=None),
        "close_form": forms.get("close_form") or ReasonForm(prefix="close", formdata=None),
        "appeal_form": forms.get("appeal_form") or ReasonForm(prefix="appeal", formdata=None),
        "hold_form": forms.get("hold_form") or ReasonForm(prefix="hold", formdata=None),
        "filing": _filing(c, detail["events"]),
        "batch": c.batch if c.batch_id else None,
        "batch_labels": batches.STATUS_LABELS,
        **detail,
    }
    return ctx


def _filing(c, events):
    """The claim's filing deadline to show by its date of service: while the payer has not
    received it, or when it first received it too late; None otherwise."""
    tz = current_user.practice.tz
    status = filing.standing(c, events, clock.today(tz), tz)
    if status is None or (status.first_sent is not None and not status.warns):
        return None
    return status


@bp.route("/claims/<int:claim_id>")
@roles_required(*STAFF_ROLES)
def claim(claim_id):
    c = claim_or_404(claim_id, "claim.view")
    return render("provider/claims/claim.html", **page_context(c))


# --- the edit page ------------------------------------------------------------------------


def _line_form(line):
    form = LineForm(prefix=f"line-{line.id}", formdata=None)
    form.units.data = line.units
    form.modifiers.data = ", ".join(line.modifier_list)
    form.pointers.data = ", ".join(line.pointer_text)
    form.charge.data = format_cents(line.charge_cents, symbol="")
    return form


def details_form(c, formdata=None):
    refs, auths = queries.documents(c)
    form = DetailsForm(formdata=formdata, prefix="details")
    form.referral.choices = [(0, "No referral")] + [
        (r.id, f"{r.referring_name}, from {r.referral_date:%b %d, %Y}") for r in refs
    ]
    form.authorization.choices = [(0, "No prior authorization")] + [
        (a.id, f"{a.number}, {a.start_date:%b %d} to {a.end_date:%b %d, %Y}") for a in auths
    ]
    if formdata is None:
        form.place_of_service.data = c.place_of_service
        form.referral.data = c.referral_id or 0
        form.authorization.data = c.authorization_id or 0
    return form, refs, auths


def edit_page(c, status=200, **forms):
    detail = queries.detail(c)
    line_forms = {line.id: _line_form(line) for line in detail["lines"]}
    if "line" in forms:
        line_id, form = forms["line"]
        line_forms[line_id] = form
    dx = forms.get("dx_form") or DiagnosesForm(formdata=None, prefix="dx")
    if "dx_form" not in forms:
        dx.codes.data = ", ".join(d.code for d in detail["diagnoses"])
    number = forms.get("number_form") or PayerNumberForm(formdata=None, prefix="number")
    if "number_form" not in forms:
        number.payer_claim_number.data = c.payer_claim_number
    resp = render(
        "provider/claims/edit.html",
        claim=c,
        client=c.client,
        payer=c.payer,
        line_forms=line_forms,
        dx_form=dx,
        details_form=forms.get("details_form") or details_form(c)[0],
        number_form=number,
        back_to_draft=c.status not in (cs.DRAFT, cs.VOID),
        corrected_next=c.status in cs.PAYER_HAS_IT,
        section="claims",
        **detail,
    )
    resp.status_code = status
    return resp


@bp.route("/claims/<int:claim_id>/edit")
@roles_required(*DESK)
def claim_edit(claim_id):
    c = claim_or_404(claim_id, "claim.view")
    return edit_page(c)
