"""The ICD-10-CM code set (simple-icd-10-cm, April 2026): validation and search.

The code set is read from a prepared SQLite file (portal/services/icd10_build.py says what
it holds), never loaded into the web process: loaded, the library costs ~200 MB in every
worker; the file costs each worker a few MB of page cache, and two workers fit a small
server. The file is built once, by its own process, the first time it is needed (~10 s;
gunicorn's workers do it as they start, see gunicorn.conf.py), at `ICD10_INDEX` (default:
the instance folder), named after the library's version so an upgrade builds it again.

Search: a code prefix ('m545', 'M54.5') is a range of the compact codes; words ('low back')
must each start a word of the description or of an inclusion term. The word with the fewest
postings drives (its postings, in rank order) unless even that word is very common, when the
entries are read in rank order instead; the best few hundred candidates (by static rank) are
then re-ranked by how well the description itself matches.
"""

import fcntl
import importlib.metadata
import os
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass

from portal.rules import icd10 as rules

FORMAT = "1"
LIBRARY = "simple-icd-10-cm"

_state = {"path": None}
_local = threading.local()
_build_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Entry:
    code: str  # written form, 'M54.50'
    description: str
    billable: bool
    text: str  # ' low back pain unspecified | loin pain lumbago nos ': word starts match ' w'
    desc_len: int  # length of the description's own part of `text`


_COLUMNS = "code, description, billable, text, desc_len"


def library_version():
    return importlib.metadata.version(LIBRARY)


def init_app(app):
    path = app.config.get("ICD10_INDEX") or os.path.join(
        app.instance_path, f"icd10-{library_version()}-{FORMAT}.sqlite3"
    )
    set_path(path)


def set_path(path):
    """Use the index at `path` (built there when first needed)."""
    if path != _state["path"]:
        _state["path"] = path
        _local.__dict__.clear()  # this thread's connection to another file


def _valid(path):
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        meta = dict(db.execute("SELECT key, value FROM meta"))
    except sqlite3.Error:
        return False
    finally:
        db.close()
    return meta == {"format": FORMAT, "library": f"{LIBRARY} {library_version()}"}


def ensure_built(path=None):
    """Build the index file if it is missing or stale: in its own process, one builder at a
    time (a lock file), written aside and moved into place."""
    path = path or _state["path"]
    if path is None:
        raise RuntimeError("the ICD-10 index has no path: create the app first")
    if os.path.exists(path) and _valid(path):
        return path
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with _build_lock, open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(path) and _valid(path):
            return path
        tmp = f"{path}.{os.getpid()}.tmp"
        here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([here, os.environ.get("PYTHONPATH", "")]))
        subprocess.run(
            [sys.executable, "-m", "portal.services.icd10_build", tmp], check=True, env=env
        )
        os.replace(tmp, path)
    return path


def _db():
    db = getattr(_local, "db", None)
    if db is None:
        path = ensure_built()
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        _local.db = db
    return db


def warm():
    """Build the file if needed and read a little of it (for a worker that is starting)."""
    search("low back")


def _entries(sql, params=()):
    return [Entry(c, d, bool(b), t, n) for c, d, b, t, n in _db().execute(sql, params)]


def lookup(code):
    """The Entry for a code in any typed form ('m5450', 'M54.50'), or None."""
    code = rules.normalize_code(code)
    if not code:
        return None
    found = _entries(f"SELECT {_COLUMNS} FROM entry WHERE code = ?", (code,))
    return found[0] if found else None


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
    compact = code.replace(".", "")
    rows = _db().execute(
        "SELECT code, description FROM entry WHERE compact > ? AND compact < ? AND billable "
        "ORDER BY compact LIMIT ?",
        (compact, compact + "\uffff", limit),
    )
    return [(c, d) for c, d in rows]


def search(q, limit=20):
    """Entries matching a code prefix ('m545', 'M54.5') or words ('low back'), best first.

    Billable codes come first. Every word must match the start of a word of the
    description or of an inclusion term.
    """
    q = (q or "").strip()
    if not q:
        return []
    if rules.looks_like_code(q):
        prefix = rules.compact(q)
        # Billable codes first, each group in code order (M54.50, M54.51, M54.59, then M54.5).
        found = _entries(
            f"SELECT {_COLUMNS} FROM entry WHERE compact >= ? AND compact < ? "
            "ORDER BY billable DESC, code LIMIT ?",
            (prefix, prefix + "\uffff", limit),
        )
        if found:
            return found
    return _search_words(rules.words(q), limit)


_RERANK = 300  # candidates (the best by static rank) re-ranked by how well they match
_DENSE = 20_000  # postings above which reading entries in rank order is quicker


def _posting_size(word):
    row = (
        _db()
        .execute(
            "SELECT COALESCE(SUM(n), 0) FROM vocab WHERE word >= ? AND word < ?",
            (word, word + "\uffff"),
        )
        .fetchone()
    )
    return row[0]


def _search_words(qwords, limit):
    qwords = [w for w in dict.fromkeys(qwords) if w]
    if not qwords:
        return []
    sizes = sorted((_posting_size(w), w) for w in qwords)
    if sizes[0][0] == 0:
        return []
    first = sizes[0][1]
    if sizes[0][0] <= _DENSE:
        rest = [w for _, w in sizes[1:]]
        where = "rank IN (SELECT rank FROM posting WHERE word >= ? AND word < ?)"
        params = [first, first + "\uffff"]
    else:
        rest = [w for _, w in sizes]
        where, params = "1", []
    for w in rest:
        where += " AND instr(text, ?) > 0"
        params.append(" " + w)
    best = _entries(
        f"SELECT {_COLUMNS} FROM entry WHERE {where} ORDER BY rank LIMIT ?", (*params, _RERANK)
    )
    phrase = " " + " ".join(qwords)
    starts = [" " + w for w in qwords]

    def key(item):
        i, e = item
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

    return [e for _, e in sorted(enumerate(best), key=key)[:limit]]
