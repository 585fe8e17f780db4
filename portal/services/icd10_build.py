"""Builds the ICD-10-CM search index file from simple-icd-10-cm (the April 2026 code set).

Run as its own process (`python -m portal.services.icd10_build PATH`): the library holds
the whole code set as Python objects (~200 MB) while it is loaded, and a web worker that
loaded it would keep that memory for life. portal/services/icd10.py starts this build when
the file is missing and reads the file afterwards (SQLite, ~40 MB on disk, a few MB in
each worker's page cache).

What the file holds:
- `entry`: every category, subcategory and 7th-character code, numbered by static rank
  (billable first, then shorter descriptions, then code order), so a smaller rank means a
  better candidate; `text` is ' low back pain unspecified | loin pain lumbago nos ': the
  description's words, then inclusion terms and lay terms, each word after a space;
- `posting`: (word, rank) for every word of every entry's text, for word-prefix search;
- `vocab`: each word with its number of postings, so a prefix's size is known at once;
- `meta`: the file format and the code set's library version.
"""

import os
import re
import sqlite3
import sys
import warnings

from portal.rules import icd10 as rules
from portal.services.icd10 import FORMAT, LIBRARY, library_version

# ~1.3 s and ~200 MB: only ever in this build process. The package reads its data with
# importlib.resources' legacy API, which warns.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import simple_icd_10_cm as cm

_ENCOUNTER = re.compile(r", (initial encounter|subsequent encounter|sequela)\b.*$")

SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    """CREATE TABLE entry (
        rank INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        compact TEXT NOT NULL,
        description TEXT NOT NULL,
        billable INTEGER NOT NULL,
        text TEXT NOT NULL,
        desc_len INTEGER NOT NULL
    )""",
    "CREATE INDEX entry_compact ON entry (compact)",
    """CREATE TABLE posting (word TEXT NOT NULL, rank INTEGER NOT NULL,
        PRIMARY KEY (word, rank)) WITHOUT ROWID""",
    "CREATE TABLE vocab (word TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
)


def entries():
    """(code, description, billable, text, desc_len) for every code, in static-rank order."""
    raw, seen = [], set()
    for code in cm.get_all_codes(True):
        if code in seen:  # a few categories (B20, C50 ...) are listed twice
            continue
        seen.add(code)
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
        raw.append((code, desc, bool(cm.is_leaf(code)), text, len(own) + 1))
    # Encounter suffixes do not make a code less likely: S13.4XXA before S13.4XXS.
    raw.sort(key=lambda e: (not e[2], len(_ENCOUNTER.sub("", e[1])), e[0]))
    return raw


def build(path):
    """Write the index to `path` (replaced if there)."""
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    try:
        for sql in SCHEMA:
            db.execute(sql)
        rows, postings = [], {}
        for rank, (code, desc, billable, text, desc_len) in enumerate(entries()):
            compact = code.replace(".", "")
            rows.append((rank, code, compact, desc, int(billable), text, desc_len))
            for word in set(text.split()) - {"|"}:
                postings.setdefault(word, []).append(rank)
        db.executemany("INSERT INTO entry VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        db.executemany(
            "INSERT INTO posting VALUES (?, ?)",
            ((w, r) for w in sorted(postings) for r in postings[w]),
        )
        db.executemany(
            "INSERT INTO vocab VALUES (?, ?)", ((w, len(r)) for w, r in postings.items())
        )
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("format", FORMAT), ("library", f"{LIBRARY} {library_version()}")],
        )
        db.commit()
        db.execute("VACUUM")
    finally:
        db.close()


if __name__ == "__main__":
    build(sys.argv[1])
