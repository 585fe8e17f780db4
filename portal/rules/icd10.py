"""ICD-10-CM code shapes and search text: pure helpers, no code set needed.

The code set itself (which codes exist, which are billable) lives in
portal/services/icd10.py, which loads simple-icd-10-cm once.

An ICD-10-CM code is a letter, a digit, a digit or letter (the category, e.g. M54),
then optionally a dot and one to four more characters (e.g. M54.50, S13.4XXA).
"""

import re

# Category (3 chars) and up to 4 more characters after the dot.
_CODE_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
# What a person types when they mean a code or the start of one: "m5", "M54", "m545", "M54.5".
_CODE_PREFIX = re.compile(r"^[A-Z][0-9][0-9A-Z]?(\.?[0-9A-Z]{0,4})$")
_WORD = re.compile(r"[a-z0-9]+")
MAX_DIAGNOSES = 12  # CMS-1500 box 21 holds A-L

# Everyday words for codes a massage practice uses often, searched like inclusion terms
# (the code set says "Cervicalgia"; a therapist types "neck pain").
LAY_TERMS = {
    "M54.2": "neck pain",
    "M54.6": "mid back pain upper back pain",
    "M54.50": "lower back pain lumbar pain",
    "M54.9": "back pain",
    "M62.830": "back spasm",
    "M79.10": "muscle pain sore muscles",
    "M79.18": "muscle pain",
    "R51.9": "head pain",
    "M53.1": "neck and arm pain",
}


def compact(text):
    """Upper-case, without spaces or dots: ' m54.5 ' -> 'M545'."""
    return re.sub(r"[\s.]", "", (text or "")).upper()


def normalize_code(text):
    """A typed code in its written form: 'm545' -> 'M54.5', ' s134xxa ' -> 'S13.4XXA'.

    Returns '' when the text cannot be a code (wrong shape); it does not check the code set.
    """
    raw = compact(text)
    if len(raw) < 3 or len(raw) > 7:
        return ""
    code = raw[:3] + ("." + raw[3:] if len(raw) > 3 else "")
    return code if _CODE_SHAPE.match(code) else ""


def looks_like_code(query):
    """True when a search box's text reads as a code or the start of one (not as words)."""
    q = (query or "").strip().upper()
    if not q or " " in q:
        return False
    return bool(_CODE_PREFIX.match(q))


def words(text):
    """Lower-case words for search: 'Low back-pain, L4' -> ['low', 'back', 'pain', 'l4']."""
    return _WORD.findall((text or "").lower())


def split_codes(text):
    """Codes typed into one box, separated by commas, semicolons or spaces, in order, no repeats.

    Returns (codes, bad): normalised codes, and the pieces that are not shaped like codes.
    """
    codes, bad = [], []
    for piece in re.split(r"[,;\s]+", text or ""):
        if not piece:
            continue
        code = normalize_code(piece)
        if not code:
            bad.append(piece)
        elif code not in codes:
            codes.append(code)
    return codes, bad


def pointer_letter(position):
    """Diagnosis pointer letter for a 1-based position on the claim: 1 -> 'A', 12 -> 'L'."""
    if not 1 <= position <= MAX_DIAGNOSES:
        raise ValueError("a claim holds diagnoses A to L (1-12)")
    return "ABCDEFGHIJKL"[position - 1]
