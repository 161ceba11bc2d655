#!/usr/bin/env python3
"""Writes the hostile PDFs of tests/data/hostile_pdf/ (checked in; run again
only to change them): files made to make a PDF parser hang, recurse, loop or
allocate without end. tests/integration/test_document_reader.cpp reads each
through the daemon's document child (daemon/documents/document_reader.h) and checks that
it costs at most the configured time and memory.

    python3 tests/data/hostile_pdf/make_hostile_pdf.py [OUTPUT_DIR]
"""
import os
import sys
import zlib

HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def pdf(objects, root=1, extra_trailer=b"", xref_hook=None):
    """A PDF with `objects` (bytes, numbered from 1) and a correct xref table.
    `xref_hook(out, xref_offset)` may append more (e.g. a looping xref) and
    return the startxref offset to use."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\n" % (len(objects) + 1, root, extra_trailer)
    start = xref
    if xref_hook:
        start = xref_hook(out, xref)
    out += b"startxref\n%d\n%%%%EOF\n" % start
    return bytes(out)


def stream(data, extra=b""):
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def page_objects(page_extra=b"", content=b"BT /F1 24 Tf 72 720 Td (Hostile) Tj ET"):
    # 1 catalog, 2 pages, 3 page, 4 content, 5 font
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> " + page_extra + b">>",
        stream(content),
        HELVETICA,
    ]


DEPTH = 100_000


def deep_array():
    # The page's /Annots: an array nested 100,000 deep.
    objs = page_objects(b"/Annots 6 0 R ")
    objs.append(b"[" * DEPTH + b"]" * DEPTH)
    return pdf(objs)


def deep_dict():
    # The page's /Resources /XObject: dictionaries nested 100,000 deep.
    objs = page_objects()
    objs[2] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> /XObject 6 0 R >> >>")
    objs.append(b"<< /A " * DEPTH + b">>" * DEPTH)
    return pdf(objs)


def deep_content():
    # The content stream itself: 100,000 nested saves, arrays and dictionaries.
    content = (b"BT /F1 24 Tf 72 720 Td (Deep) Tj ET\n" + b"q " * DEPTH + b"[" * DEPTH + b"<<" * DEPTH)
    return pdf(page_objects(content=content))


def bomb(inflated=2 << 30):
    # A FlateDecode content stream of a little text then `inflated` zero
    # bytes (2 GiB by default: zlib level 9 packs zeros ~1000:1, so ~2 MB).
    comp = zlib.compressobj(9)
    parts = [comp.compress(b"BT /F1 24 Tf 72 720 Td (Before the bomb) Tj ET\n")]
    chunk = bytes(1 << 20)
    for _ in range(inflated >> 20):
        parts.append(comp.compress(chunk))
    parts.append(comp.flush())
    data = b"".join(parts)
    objs = page_objects()
    objs[3] = stream(data, b"/Filter /FlateDecode ")
    return pdf(objs)


def xref_loop():
    # Two xref sections whose trailers' /Prev point at each other, the first
    # also at itself through startxref: a reader following /Prev never ends.
    def hook(out, first):
        second = len(out)
        out += b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 6 /Root 1 0 R /Prev %d >>\n" % first
        # Patch the first trailer to point back at the second.
        i = out.rfind(b"/Root 1 0 R ", 0, second)
        out[i:i + len(b"/Root 1 0 R ")] = b"/Root 1 0 R /Prev %010d " % second
        return second
    return pdf(page_objects(), xref_hook=hook)


def reference_cycle():
    # A page tree whose kid is its own root, a /Length that is a reference to
    # itself, and contents that refer to each other.
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents [6 0 R 4 0 R] "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length 4 0 R >>\nstream\nBT /F1 24 Tf 72 720 Td (Cycle) Tj ET\nendstream",
        HELVETICA,
        b"7 0 R",
        b"6 0 R",
    ]
    return pdf(objs)


def many_pages(n=10_000):
    # 10,000 pages sharing one content stream.
    kids = b" ".join(b"%d 0 R" % (6 + i) for i in range(n))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % n,
        b"<< >>",
        stream(b"BT /F1 12 Tf 72 720 Td (Page) Tj ET"),
        HELVETICA,
    ]
    for _ in range(n):
        objs.append(b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R"
                    b"/Resources<</Font<</F1 5 0 R>>>>>>")
    return pdf(objs)


FILES = {
    "deep_array.pdf": deep_array,
    "deep_dict.pdf": deep_dict,
    "deep_content.pdf": deep_content,
    "flate_bomb.pdf": bomb,
    "xref_loop.pdf": xref_loop,
    "reference_cycle.pdf": reference_cycle,
    "many_pages.pdf": many_pages,
}


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, make in FILES.items():
        data = make()
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
