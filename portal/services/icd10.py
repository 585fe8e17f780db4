"""The ICD-10-CM code set (simple-icd-10-cm, April 2026): validation and search.

simple-icd-10-cm takes ~1.3 s to import and has no search, so this module loads it once,
lazily, and builds one prepared index:

- `entries`: every category, subcategory and 7th-character code as an Entry, sorted by
  static rank (billable first, then shorter descriptions, then code order), so a smaller
  index means a better candidate;
- `codes`: the compact codes ('M5450') sorted, with their entry indices, for code prefixes;
- `vocab`: every word of the descriptions (and inclusion terms, e.g. 'lumbago') sorted,
  each with a sorted tuple of entry indices (postings), plus the running total of posting
  lengths so the size of a word prefix's postings is known without touching them.

A word search takes the query word with the fewest postings, unions its postings, then
filters by the other words as word prefixes of each candidate's text. All words must
match. The best few hundred candidates (by static rank) are re-ranked by how well the
description itself (not only an inclusion term) matches.
"""

import bisect
import heapq
import re
import threading
import warnings
from dataclasses import dataclass

from portal.rules import icd10 as rules

_lock = threading.Lock()
_index = None
_cm = None


@dataclass(frozen=True, slots=True)
class Entry:
    code: str  # written form, 'M54.50'
    description: str
    billable: bool
    text: str  # ' low back pain unspecified | loin pain lumbago nos': word starts match ' w'
    desc_len: int  # length of the description's own part of `text`


class _Index:
    def __init__(self, entries):
        self.entries = entries
        self.by_code = {e.code: i for i, e in enumerate(entries)}
        compact = sorted((e.code.replace(".", ""), i) for i, e in enumerate(entries))
        self.compact_codes = [c for c, _ in compact]
        self.compact_ids = [i for _, i in compact]
        postings = {}
        for i, e in enumerate(entries):
            for w in set(e.text.split()):
                if w != "|":
                    postings.setdefault(w, []).append(i)
        self.vocab = sorted(postings)
        self.postings = [tuple(postings[w]) for w in self.vocab]  # ascending = rank order
        self.cumulative = [0]
        for p in self.postings:
            self.cumulative.append(self.cumulative[-1] + len(p))

    def word_range(self, prefix):
        lo = bisect.bisect_left(self.vocab, prefix)
        hi = bisect.bisect_left(self.vocab, prefix + "\uffff")
        return lo, hi

    def posting_size(self, prefix):
        lo, hi = self.word_range(prefix)
        return self.cumulative[hi] - self.cumulative[lo]


def _module():
    global _cm
    if _cm is None:
        # ~1.3 s, once per process. The package reads its data with importlib.resources'
        # legacy API, which warns (DeprecationWarning) from importlib's own module.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import simple_icd_10_cm

        _cm = simple_icd_10_cm
    return _cm


_ENCOUNTER = re.compile(r", (initial encounter|subsequent encounter|sequela)\b.*$")


def _build():
    cm = _module()
    raw = []
    for code in cm.get_all_codes(True):
        if not (cm.is_category_or_subcategory(code) or cm.is_extended_subcategory(code)):
            continue
        desc = cm.get_description(code)
        own = " ".join(rules.words(desc))
        extra = rules.words(rules.LAY_TERMS.get(code, ""))
        terms = cm.get_inclusion_term(code)
        if cm.is_extended_subcategory(code):  # S13.4XXA inherits S13.4's "whiplash"
            terms = terms + cm.get_inclusion_term(cm.get_parent(code))
        for term in terms:
            extra.extend(rules.words(term))
        text = " " + own + (" | " + " ".join(extra) if extra else "") + " "
        raw.append(Entry(code, desc, bool(cm.is_leaf(code)), text, len(own) + 1))
    # Encounter suffixes do not make a code less likely: S13.4XXA before S13.4XXS.
    raw.sort(key=lambda e: (not e.billable, len(_ENCOUNTER.sub("", e.description)), e.code))
    return _Index(raw)


def index():
    """The prepared index (built on first use, ~2 s, then shared by every thread)."""
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                _index = _build()
    return _index


def warm():
    index()


_warming = False


def warm_in_background():
    """Start building the index in a daemon thread (once), so the first search a therapist
    types does not wait ~3 s. Called when a page that will search is shown."""
    global _warming
    if _index is not None or _warming:
        return
    _warming = True
    threading.Thread(target=index, name="icd10-warm", daemon=True).start()


def lookup(code):
    """The Entry for a code in any typed form ('m5450', 'M54.50'), or None."""
    code = rules.normalize_code(code)
    if not code:
        return None
    idx = index()
    i = idx.by_code.get(code)
    return idx.entries[i] if i is not None else None


def describe(code):
    entry = lookup(code)
    return entry.description if entry else ""


def validate(code):
    """(ok, message, billable_children) for one typed code.

    ok is True only for a code that exists and is billable (a leaf). For a category
    such as M54.5 the billable codes under it are offered as (code, description) pairs.
    """
    typed = (code or "").strip()
    normal = rules.normalize_code(typed)
    if not normal:
        return False, f"“{typed}” is not shaped like an ICD-10-CM code (e.g. M54.50).", []
    entry = lookup(normal)
    if entry is None:
        return False, f"{normal} is not in the ICD-10-CM code set.", []
    if entry.billable:
        return True, f"{entry.code} {entry.description}", []
    children = billable_descendants(entry.code)
    shown = ", ".join(c for c, _ in children[:6]) + (" …" if len(children) > 6 else "")
    message = f"{entry.code} is a category, not a billable code: choose a more specific code"
    return False, message + (f" ({shown})." if children else "."), children


def billable_descendants(code, limit=200):
    """The billable codes under a category, in code order: M54.5 -> M54.50, M54.51, M54.59."""
    idx = index()
    compact = code.replace(".", "")
    lo = bisect.bisect_left(idx.compact_codes, compact)
    out = []
    for k in range(lo, len(idx.compact_codes)):
        c = idx.compact_codes[k]
        if not c.startswith(compact):
            break
        e = idx.entries[idx.compact_ids[k]]
        if e.billable and c != compact:
            out.append((e.code, e.description))
            if len(out) >= limit:
                break
    return out


def search(q, limit=20):
    """Entries matching a code prefix ('m545', 'M54.5') or words ('low back'), best first.

    Billable codes come first. Every word must match the start of a word of the
    description or of an inclusion term.
    """
    q = (q or "").strip()
    if not q:
        return []
    idx = index()
    if rules.looks_like_code(q):
        found = _search_code(idx, rules.compact(q), limit)
        if found:
            return found
    return _search_words(idx, rules.words(q), limit)


def _search_code(idx, prefix, limit):
    lo = bisect.bisect_left(idx.compact_codes, prefix)
    hi = bisect.bisect_left(idx.compact_codes, prefix + "\uffff")
    ids = idx.compact_ids[lo:hi]

    def key(i):
        e = idx.entries[i]
        return (not e.billable, e.code)

    # Billable codes first, each group in code order (M54.50, M54.51, M54.59, then M54.5).
    return [idx.entries[i] for i in heapq.nsmallest(limit, ids, key=key)]


_RERANK = 300


def _search_words(idx, qwords, limit):
    qwords = [w for w in dict.fromkeys(qwords) if w]
    if not qwords:
        return []
    sizes = sorted((idx.posting_size(w), w) for w in qwords)
    if sizes[0][0] == 0:
        return []
    first = sizes[0][1]
    rest = [" " + w for _, w in sizes[1:]]
    lo, hi = idx.word_range(first)
    if hi - lo == 1:
        candidates = idx.postings[lo]
    else:
        merged = set()
        for k in range(lo, hi):
            merged.update(idx.postings[k])
        candidates = sorted(merged)
    entries = idx.entries
    best = []
    for i in candidates:  # ascending index = static rank, so stop once enough are found
        text = entries[i].text
        if all(w in text for w in rest):
            best.append(i)
            if len(best) >= _RERANK:
                break
    phrase = " " + " ".join(qwords)
    starts = [" " + w for w in qwords]

    def key(i):
        e = entries[i]
        own = e.text[: e.desc_len + 1]
        in_own = all(s in own for s in starts)
        whole = sum((s + " ") in own for s in starts)
        return (
            not e.billable,
            not in_own,  # matched only through an inclusion term
            not own.startswith(phrase),  # 'low back' -> 'Low back pain ...'
            phrase not in own,
            -whole,
            i,
        )

    return [entries[i] for i in sorted(best, key=key)[:limit]]
