"""Chart-note rules: body regions, CPT code lists, minutes per code, pain scale, signing.

Pure functions and data; the body diagram (templates/provider/charting/_body_svg.html)
draws one shape or more per region id listed here.
"""

import re

# (id, label, group). Sides are the client's own: on the front view the client's right
# is on the viewer's left.
REGIONS = [
    ("face", "Head and face", "Head and neck"),
    ("head-back", "Back of head", "Head and neck"),
    ("neck-front", "Front of neck", "Head and neck"),
    ("neck", "Back of neck", "Head and neck"),
    ("chest", "Chest", "Trunk"),
    ("abdomen", "Abdomen", "Trunk"),
    ("upper-back", "Upper back", "Trunk"),
    ("mid-back", "Mid back", "Trunk"),
    ("low-back", "Low back", "Trunk"),
    ("shoulder-r", "Right shoulder", "Arms"),
    ("shoulder-l", "Left shoulder", "Arms"),
    ("arm-r", "Right upper arm", "Arms"),
    ("arm-l", "Left upper arm", "Arms"),
    ("forearm-r", "Right forearm and hand", "Arms"),
    ("forearm-l", "Left forearm and hand", "Arms"),
    ("hip-r", "Right hip (front)", "Hips and legs"),
    ("hip-l", "Left hip (front)", "Hips and legs"),
    ("glute-r", "Right gluteal", "Hips and legs"),
    ("glute-l", "Left gluteal", "Hips and legs"),
    ("quad-r", "Right thigh (front)", "Hips and legs"),
    ("quad-l", "Left thigh (front)", "Hips and legs"),
    ("hamstring-r", "Right hamstring", "Hips and legs"),
    ("hamstring-l", "Left hamstring", "Hips and legs"),
    ("shin-r", "Right shin", "Hips and legs"),
    ("shin-l", "Left shin", "Hips and legs"),
    ("calf-r", "Right calf", "Hips and legs"),
    ("calf-l", "Left calf", "Hips and legs"),
    ("foot-r", "Right foot", "Hips and legs"),
    ("foot-l", "Left foot", "Hips and legs"),
]
REGION_LABELS = {rid: label for rid, label, _ in REGIONS}
_REGION_ORDER = {rid: n for n, (rid, _, _) in enumerate(REGIONS)}


def region_groups():
    """[(group, [(id, label), ...]), ...] in display order."""
    groups = {}
    for rid, label, group in REGIONS:
        groups.setdefault(group, []).append((rid, label))
    return list(groups.items())


def clean_regions(values):
    """(known region ids in canonical order without repeats, unknown values)."""
    known = sorted({v for v in values if v in REGION_LABELS}, key=_REGION_ORDER.get)
    unknown = [v for v in values if v not in REGION_LABELS]
    return known, unknown


# --- CPT codes and minutes -------------------------------------------------------------

DEFAULT_CPT_CODES = [
    ("97124", "Massage therapy (effleurage, petrissage, tapotement), each 15 minutes"),
    ("97140", "Manual therapy techniques (mobilization, manual traction, MLD), each 15 minutes"),
]
MAX_MINUTES = 240
# CPT (97124, 0001T) or HCPCS (G0283)
_CPT_SHAPE = re.compile(r"^([0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})\Z")


def normalize_cpt(text):
    """'97124 ' -> '97124'; 'g0283' -> 'G0283'; '' when not shaped like a CPT/HCPCS code."""
    code = (text or "").strip().upper()
    return code if _CPT_SHAPE.match(code) else ""


def parse_minutes(raw, allowed_codes):
    """Minutes typed per CPT code -> ({code: minutes > 0}, {code: error message}).

    `raw` maps a code to the typed text. Empty means 0. Minutes are whole numbers from
    0 to 240; codes not in `allowed_codes` (the practice's list) are refused.
    """
    allowed = set(allowed_codes)
    minutes, errors = {}, {}
    for code, text in raw.items():
        text = (text or "").strip()
        if code not in allowed:
            if text and text != "0":
                errors[code] = f"{code} is not on the practice's list of codes."
            continue
        if not text:
            continue
        if not re.fullmatch(r"[0-9]{1,4}", text):
            errors[code] = "Enter whole minutes, from 0 to 240."
            continue
        value = int(text)
        if value > MAX_MINUTES:
            errors[code] = f"At most {MAX_MINUTES} minutes per code."
        elif value > 0:
            minutes[code] = value
    return minutes, errors


def minutes_over_visit(minutes, visit_minutes):
    """Why the timed minutes ({code: minutes}) cannot have been given in a visit of
    `visit_minutes`, or ''."""
    total = sum(minutes.values())
    if visit_minutes and total > visit_minutes:
        return (
            f"These codes add up to {total} minutes, more than the {visit_minutes}-minute "
            "visit. Correct the minutes, or the visit's length on the schedule."
        )
    return ""


# --- pain scale and techniques -----------------------------------------------------------

PAIN_MIN, PAIN_MAX = 0, 10


def parse_pain(text):
    """(value or None, error). Pain is a whole number 0-10, or empty (not asked)."""
    text = (text or "").strip()
    if not text:
        return None, ""
    if not re.fullmatch(r"[0-9]{1,2}", text) or not PAIN_MIN <= int(text) <= PAIN_MAX:
        return None, "Pain is a whole number from 0 (none) to 10 (worst)."
    return int(text), ""


def lines(text):
    """Non-empty, stripped lines without repeats (a template's technique choices)."""
    out = []
    for line in (text or "").splitlines():
        line = line.strip()
        if line and line not in out:
            out.append(line)
    return out


def join_techniques(chosen, other):
    """Chosen technique names plus free text 'other' (comma or line separated) as lines."""
    extra = [p.strip() for p in re.split(r"[,\n]", other or "") if p.strip()]
    return "\n".join(lines("\n".join(list(chosen) + extra)))


# --- signing --------------------------------------------------------------------------------

SOAP_FIELDS = ("subjective", "objective", "assessment", "plan")


def written(text):
    """Whether a SOAP field says something: a line other than a template's bare prompt
    ("Chief complaint:" with nothing after it)."""
    return any(
        line.strip() and not line.strip().endswith(":") for line in (text or "").splitlines()
    )


def signing_problems(note_fields, minutes, diagnoses):
    """{field: why the note may not be signed yet} (empty = it may): "soap", "dx".

    A signed note must say something (S, O, A or P: more than its template's prompts)
    and, when it records billable minutes, name at least one diagnosis (a claim needs one).
    """
    problems = {}
    if not any(written(note_fields.get(f)) for f in SOAP_FIELDS):
        problems["soap"] = (
            "Write at least one of subjective, objective, assessment or plan "
            "(the template's prompts alone are not a note)."
        )
    if any(m > 0 for m in minutes.values()) and not diagnoses:
        problems["dx"] = "Add a diagnosis code: the minutes recorded here may be billed."
    return problems
