"""The PDF check of an upload, run in a process of its own by `portal.services.uploads`.

A pattern scan of the bytes cannot be complete (names hide in compressed object streams,
behind any filter, or spelled with #xx escapes), so the file is opened with a real parser,
qpdf through pikepdf, and every object it holds is resolved, those inside object streams
included. Refused, wherever they sit: JavaScript, launch, form-submit, import and remote
go-to actions (and the other action types that run or fetch something), an /OpenAction or
/AA that is an action, embedded files, RichMedia, 3D, sound and movie content, and XFA forms.
A file that passes is written out again by qpdf: what is stored holds only the objects the
parser reached and checked, nothing that a more lenient reader might find elsewhere in the
bytes.

It runs as `python -I pdf_check.py [MEMORY_MB]` with the PDF on stdin, limited in memory
(default 768 MB of address space) and CPU time (a decompression bomb or a parser bug costs
that process, not a web worker):
exit 0 with the rewritten PDF on stdout, or exit 3 with a reason word on stdout
(active, password, damaged, complex).

This module imports nothing from the portal: it is started as a script.
"""

import io
import resource
import sys

import pikepdf

EXIT_REFUSED = 3
MEMORY_LIMIT = 768 * 1024 * 1024  # bytes of address space
CPU_SECONDS = 20
MAX_OBJECTS = 50_000  # a scanned card has dozens
MAX_DEPTH = 64  # nesting of direct arrays and dictionaries

# Keys whose presence alone is active content (or a container of it).
FORBIDDEN_KEYS = frozenset(
    {
        "/JS",
        "/JavaScript",  # also the name tree of document scripts
        "/AA",  # additional actions (on open, close, page, field, annotation events)
        "/EmbeddedFiles",
        "/EF",  # a file specification's embedded file streams
        "/XFA",
        "/RichMediaContent",
        "/RichMediaSettings",
    }
)
# Action types (an action dictionary's /S) that run code, open other files or send data.
# GoTo, URI and Named stay allowed: a link to a page or a web address is ordinary.
FORBIDDEN_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/SubmitForm",
        "/ImportData",
        "/ResetForm",
        "/GoToR",
        "/GoToE",
        "/RichMediaExecute",
        "/Rendition",
        "/Movie",
        "/Sound",
        "/Hide",
        "/GoTo3DView",
    }
)
FORBIDDEN_TYPES = frozenset({"/EmbeddedFile", "/RichMediaContent", "/RichMediaExecute"})
FORBIDDEN_SUBTYPES = frozenset(
    {"/RichMedia", "/FileAttachment", "/Screen", "/Movie", "/Sound", "/3D"}
)


class Refused(Exception):
    """The file is refused; args[0] is the reason word."""


def _name(value):
    return str(value) if isinstance(value, pikepdf.Name) else None


def _check_dict(d):
    keys = set(d.keys())
    if keys & FORBIDDEN_KEYS:
        raise Refused("active")
    if "/OpenAction" in keys and isinstance(d.get("/OpenAction"), pikepdf.Dictionary):
        raise Refused("active")  # an action on opening (a destination array is fine)
    if _name(d.get("/S")) in FORBIDDEN_ACTIONS:
        raise Refused("active")
    if _name(d.get("/Type")) in FORBIDDEN_TYPES or _name(d.get("/Subtype")) in FORBIDDEN_SUBTYPES:
        raise Refused("active")


def _walk(obj, depth=0):
    """Check `obj` and the direct objects inside it; indirect ones are checked on their own
    (every object of the file is visited by check())."""
    if depth > MAX_DEPTH:
        raise Refused("complex")
    if isinstance(obj, pikepdf.Stream):
        _check_dict(obj.stream_dict)
        children = obj.stream_dict.values()
    elif isinstance(obj, pikepdf.Dictionary):
        _check_dict(obj)
        children = obj.values()
    elif isinstance(obj, pikepdf.Array):
        children = list(obj)
    else:
        return
    for child in children:
        if isinstance(child, pikepdf.Object) and not child.is_indirect:
            _walk(child, depth + 1)


def check(data):
    """Refuse active content (raises Refused) or return the file as qpdf rewrites it."""
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            objects = pdf.objects
            if len(objects) > MAX_OBJECTS:
                raise Refused("complex")
            _walk(pdf.trailer)
            for obj in objects:
                _walk(obj)
            out = io.BytesIO()
            pdf.save(out, deterministic_id=True)
    except pikepdf.PasswordError as exc:
        raise Refused("password") from exc
    except (pikepdf.PdfError, RecursionError, ValueError) as exc:
        raise Refused("damaged") from exc
    return out.getvalue()


def _limit(memory):
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def main(argv):
    _limit(int(argv[1]) * 1024 * 1024 if len(argv) > 1 else MEMORY_LIMIT)
    data = sys.stdin.buffer.read()
    try:
        body = check(data)
    except Refused as exc:
        sys.stdout.write(exc.args[0])
        return EXIT_REFUSED
    sys.stdout.buffer.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
