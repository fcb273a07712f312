#!/usr/bin/env python3
"""Writes the blank template.pdf fixtures of tests/template_bundles.rs into hostile/.

One clean blank and one blank per hostile feature, each written byte by byte (python3 standard
library only) so every offset in the cross-reference data is exact and nothing else sneaks in.
The output is deterministic; rerun after changing this file and commit what it writes:

    python3 tests/data/bundles/make_hostile.py [OUTPUT_DIR]
"""

import os
import sys
import zlib

HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"

# Objects 1-4 of every file: catalog, page tree, page, page content.
CONTENT = b"0.92 g 36 36 523 770 re f\n0 g BT /F1 24 Tf 72 740 Td (Licence) Tj ET\n"
FONT = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
JS_ACTION = "<< /Type /Action /S /JavaScript /JS (app.alert\\('hello'\\);) >>"


def stream(entries, data):
    """A stream object body: `entries` go into its dictionary beside /Length."""
    if isinstance(data, str):
        data = data.encode("latin-1")
    head = f"<< {entries} /Length {len(data)} >>\nstream\n".encode("latin-1")
    return head + data + b"\nendstream"


def body(obj):
    return obj if isinstance(obj, bytes) else obj.encode("latin-1")


def catalog(extra=""):
    return f"<< /Type /Catalog /Pages 2 0 R {extra}>>"


def pages(kids="3 0 R", count=1, media_box="[0 0 595.276 841.89]"):
    return f"<< /Type /Pages /Kids [{kids}] /Count {count} /MediaBox {media_box} >>"


def page(extra=""):
    return (
        "<< /Type /Page /Parent 2 0 R /Contents 4 0 R "
        f"/Resources << /Font << /F1 {FONT} >> >> {extra}>>"
    )


def blank(catalog_extra="", page_extra="", extra=()):
    """The four objects every blank has, then `extra` as objects 5, 6, ..."""
    return [catalog(catalog_extra), pages(), page(page_extra), stream("", CONTENT), *extra]


def classic(objects, trailer_extra=""):
    """A file with a classic cross-reference table (ISO 32000-2 §7.5.4)."""
    out = bytearray(HEADER)
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body(obj) + b"\nendobj\n"
    start = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f\r\n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n\r\n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R {trailer_extra}>>\n"
        f"startxref\n{start}\n%%EOF\n"
    ).encode()
    return bytes(out)


def packed(objects, in_stream):
    """A file whose objects numbered in `in_stream` sit in one Flate-compressed object stream
    (§7.5.7), located by an xref stream (§7.5.8) whose type-2 entries name it."""
    stream_number = len(objects) + 1
    xref_number = stream_number + 1
    out = bytearray(HEADER)
    rows = [(0, 0, 0xFFFF)] + [None] * len(objects)
    header, data = [], bytearray()
    for number, obj in enumerate(objects, 1):
        if number in in_stream:
            header.append(f"{number} {len(data)}")
            rows[number] = (2, stream_number, len(header) - 1)
            data += body(obj) + b"\n"
        else:
            rows[number] = (1, len(out), 0)
            out += f"{number} 0 obj\n".encode() + body(obj) + b"\nendobj\n"
    index = (" ".join(header) + "\n").encode()
    compressed = zlib.compress(index + bytes(data), 9)
    rows.append((1, len(out), 0))
    out += f"{stream_number} 0 obj\n".encode()
    out += stream(
        f"/Type /ObjStm /N {len(header)} /First {len(index)} /Filter /FlateDecode", compressed
    )
    out += b"\nendobj\n"
    start = len(out)
    rows.append((1, start, 0))
    table = b"".join(
        kind.to_bytes(1, "big") + field.to_bytes(4, "big") + extra.to_bytes(2, "big")
        for kind, field, extra in rows
    )
    out += f"{xref_number} 0 obj\n".encode()
    out += stream(f"/Type /XRef /Size {xref_number + 1} /W [1 4 2] /Root 1 0 R", table)
    out += f"\nendobj\nstartxref\n{start}\n%%EOF\n".encode()
    return bytes(out)


def link(action):
    return f"<< /Type /Annot /Subtype /Link /Rect [72 700 300 730] /Border [0 0 0] /A {action} >>"


def files():
    yield "clean.pdf", classic(
        blank(
            "/Outlines 6 0 R /PageMode /UseOutlines",
            "/Annots [5 0 R]",
            [
                link("<< /S /GoTo /D [3 0 R /Fit] >>"),
                "<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>",
                "<< /Title (Licence) /Parent 6 0 R /Dest [3 0 R /Fit] >>",
                "<< /Title (Blank licence form) /Producer (make_hostile.py) >>",
            ],
        ),
        "/Info 8 0 R ",
    )
    yield "names-javascript.pdf", classic(
        blank(
            "/Names << /JavaScript 5 0 R >>",
            "",
            ["<< /Names [(init) 6 0 R] >>", JS_ACTION],
        )
    )
    yield "openaction-javascript.pdf", classic(blank("/OpenAction 5 0 R", "", [JS_ACTION]))
    yield "page-aa.pdf", classic(blank("", "/AA << /O 5 0 R >>", [JS_ACTION]))
    yield "link-launch.pdf", classic(
        blank(
            "",
            "/Annots [5 0 R]",
            [link("<< /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) /P (/c calc) >> >>")],
        )
    )
    yield "embedded-files.pdf", classic(
        blank(
            "/Names << /EmbeddedFiles << /Names [(readme.txt) 5 0 R] >> >>",
            "",
            [
                "<< /Type /Filespec /F (readme.txt) /UF (readme.txt) /EF << /F 6 0 R >> >>",
                stream("/Type /EmbeddedFile /Subtype /text#2Fplain", "an attachment\n"),
            ],
        )
    )
    yield "richmedia.pdf", classic(
        blank(
            "",
            "/Annots [5 0 R]",
            [
                "<< /Type /Annot /Subtype /RichMedia /Rect [72 400 300 600] "
                "/RichMediaContent << /Assets << /Names [] >> /Configurations [] >> >>"
            ],
        )
    )
    xdp = (
        '<?xml version="1.0"?><xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/">'
        '<template xmlns="http://www.xfa.org/schema/xfa-template/3.3/"/></xdp:xdp>\n'
    )
    yield "xfa.pdf", classic(
        blank(
            "/AcroForm << /Fields [] /XFA 5 0 R >> /NeedsRendering true",
            "",
            [stream("", xdp)],
        )
    )
    # Objects 1, 2, 5 and 6 packed: the script is object 6, inside the compressed object stream
    # (object 7), reached only through the link's /A; nothing in the file's bytes says /JS.
    yield "objstm-javascript.pdf", packed(
        blank("", "/Annots [5 0 R]", [link("6 0 R"), JS_ACTION]),
        {1, 2, 5, 6},
    )
    yield "encrypted.pdf", classic(
        blank(
            "",
            "",
            [
                "<< /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 "
                f"/O <{'11' * 32}> /U <{'22' * 32}> >>"
            ],
        ),
        f"/Encrypt 5 0 R /ID [<{'ab' * 16}> <{'ab' * 16}>] ",
    )
    # Page 1 is object 3; pages 2-21 are objects 5-24, all sharing the one content stream.
    kids = " ".join(f"{n} 0 R" for n in [3, *range(5, 25)])
    yield "pages-21.pdf", classic(
        [catalog(), pages(kids, 21), page(), stream("", CONTENT), *[page()] * 20]
    )
    yield "page-5000pt.pdf", classic(blank("", "/MediaBox [0 0 5000 5000]"))
    yield "signed.pdf", classic(
        blank(
            "/AcroForm << /Fields [5 0 R] /SigFlags 3 >>",
            "/Annots [5 0 R]",
            [
                "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /F 132 "
                "/Rect [0 0 0 0] /P 3 0 R /V 6 0 R >>",
                "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
                f"/M (D:20260101000000Z) /ByteRange [0 10 20 30] /Contents <{'00' * 64}> >>",
            ],
        )
    )


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "hostile")
    os.makedirs(out_dir, exist_ok=True)
    for name, data in files():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
