"""The way back to a claim from the page where one of its problems is fixed.

A held claim links each problem to the page where it is fixed (the client's details,
the policy, the payer, a referral or authorization, the practice settings, a provider's
profile: claims/views.py fix_link). The link carries the claim page's path as `?back=`;
the fixing page shows "Back to claim CLM..." and keeps the path through its form (a
hidden field, also when a submit fails), its Cancel link and the links and buttons that
stay inside it (a fee's Remove, the providers list's Edit); after a successful save the
desk lands on the claim again, checked again (life.recheck): it says whether the problem
is gone.

The path is followed only when it is a local path (portal.inputs.local_path) naming
the claim page of a claim this user may see; anything else (another site, a
`javascript:` URL, another practice's claim) is ignored and the page saves as it
always did. The path carries a claim id only, no PHI.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import flash, g, redirect, request, url_for
from flask_login import current_user

from portal import access, audit
from portal.inputs import bounded_int, local_path
from portal.models import ROLE_FRONTDESK, ROLE_OWNER, Claim
from portal.provider import bp
from portal.rules import claim_status as cs
from portal.services.claims import ClaimError, life

ARG = "back"
DESK = (ROLE_OWNER, ROLE_FRONTDESK)
_CLAIM_ID = re.compile(r"/(\d{1,18})$")


@dataclass(frozen=True, slots=True)
class Back:
    claim: Claim
    path: str

    @property
    def label(self):
        return f"Back to claim {self.claim.patient_control_number}"


def with_back(url, claim):
    """`url` (a fixing page) carrying the way back to `claim`'s page."""
    sep = "&" if "?" in url else "?"
    return url + sep + urlencode({ARG: url_for("provider.claim", claim_id=claim.id)})


def _read():
    raw = request.form.get(ARG) if request.method == "POST" else None
    path = local_path(raw or request.args.get(ARG))
    if not path:
        return None
    m = _CLAIM_ID.search(path)
    claim_id = bounded_int(m.group(1)) if m else None
    if claim_id is None or url_for("provider.claim", claim_id=claim_id) != path:
        return None  # a local path, but not a claim page: not followed
    claim = access.scoped(Claim).where(Claim.id == claim_id).first()
    if claim is None:  # another practice's claim, or one this user may not see
        audit.record("access.denied", object_type="claim", object_id=claim_id, detail="return path")
        return None
    return Back(claim, path)


@bp.app_template_global()
def claim_back():
    """The claim this page was opened from to fix a problem, or None (read once a
    request)."""
    if "claim_back" not in g:
        g.claim_back = _read() if current_user.is_authenticated else None
    return g.claim_back


@bp.app_template_global()
def url_with_back(url):
    """`url` keeping this request's way back (a link or a redirect inside the fixing pages:
    the providers list's, a fee's removal)."""
    back = claim_back()
    return with_back(url, back.claim) if back else url


@bp.app_template_global()
def back_or(url):
    """Where a fixing page's Cancel leads: the claim it was opened from, else `url`."""
    back = claim_back()
    return f"{back.path}#problems" if back else url


def saved(default_url):
    """The answer to a successful save: back to the claim, checked again, when the page
    was opened from one; else the page's usual redirect."""
    back = claim_back()
    if back is None:
        return redirect(default_url)
    c = back.claim
    if current_user.role in DESK and c.status in life.CHECKABLE:
        try:
            after = life.recheck(c, user=current_user)
        except (ClaimError, cs.ClaimStatusError) as exc:
            flash(str(exc), "error")
        else:
            flash(_checked(after), "success" if not after.held else "warning")
    return redirect(back.path, 303)


def _checked(c):
    number = c.patient_control_number
    if not c.held:
        return f"Claim {number} checked again: nothing holds it. It is {c.status_label.lower()}."
    return f"Claim {number} checked again: problems still hold it (see below)."
