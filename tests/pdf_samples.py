"""Small, well-formed PDFs built byte by byte, for the upload checks.

`classic(extra_objects, catalog_extra)`: a one-page PDF 1.4 with a classic xref table.
`with_objstm(hidden, filter_name, catalog_extra)`: a PDF 1.5 with an xref stream whose
object 4 sits inside an object stream (object 5) encoded with ASCIIHexDecode or
FlateDecode: the shape the attack run used to hide an /OpenAction JavaScript.
"""

import struct
import zlib

PAGE_OBJECTS = {
    2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
}


def classic(extra_objects=None, catalog_extra=b""):
    """Objects 1 (catalog), 2-3 (one page) and `extra_objects` {number: body}."""
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>", **PAGE_OBJECTS}
    objects.update(extra_objects or {})
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out.extend(b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n")
    size = max(objects) + 1
    xref_at = len(out)
    out.extend(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for num in range(1, size):
        if num in offsets:
            out.extend(b"%010d 00000 n \n" % offsets[num])
        else:
            out.extend(b"0000000000 65535 f \n")
    out.extend(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref_at))
    return bytes(out)


def with_objstm(hidden, filter_name="ASCIIHexDecode", catalog_extra=b"/OpenAction 4 0 R"):
    header = b"4 0 "
    plain = header + hidden
    if filter_name == "ASCIIHexDecode":
        encoded = plain.hex().encode() + b">"
    elif filter_name == "FlateDecode":
        encoded = zlib.compress(plain)
    else:
        raise ValueError(filter_name)
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}

    def obj(num, body):
        offsets[num] = len(out)
        out.extend(b"%d 0 obj\n" % num + body + b"\nendobj\n")

    obj(1, b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>")
    obj(2, PAGE_OBJECTS[2])
    obj(3, PAGE_OBJECTS[3])
    obj(
        5,
        b"<< /Type /ObjStm /N 1 /First %d /Filter /%s /Length %d >>\nstream\n"
        % (len(header), filter_name.encode(), len(encoded))
        + encoded
        + b"\nendstream",
    )
    xref_at = len(out)
    rows = [(0, 0, 65535)]
    rows += [(1, offsets[num], 0) for num in (1, 2, 3)]
    rows.append((2, 5, 0))  # object 4: compressed, in object stream 5, index 0
    rows.append((1, offsets[5], 0))
    rows.append((1, xref_at, 0))
    table = b"".join(struct.pack(">BIH", t, a, b) for t, a, b in rows)
    obj(
        6,
        b"<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(table)
        + table
        + b"\nendstream",
    )
    out.extend(b"startxref\n%d\n%%%%EOF\n" % xref_at)
    return bytes(out)
