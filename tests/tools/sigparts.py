"""Reads a PDF with pypdf (a reader independent of pyHanko) and reports its signature fields, widgets
and form fields; with --extract DIR also writes, per signature N, DIR/sig-N.der (the /Contents DER
without its zero padding) and DIR/signed-N.bin (the bytes its /ByteRange covers), for openssl.

Usage: sigparts.py [--extract DIR] FILE.pdf      (prints one JSON object)
"""

import argparse
import json
import os
import sys

from pypdf import PdfReader
from pypdf.generic import IndirectObject


def resolve(value):
    return value.get_object() if isinstance(value, IndirectObject) else value


def raw_bytes(string):
    """The bytes of a PDF string as written, whether pypdf decoded it as text or not."""
    return getattr(string, "original_bytes", None) or bytes(string)


def der_length(data):
    """Length of the DER TLV at the start of data (the rest of /Contents is zero padding)."""
    if len(data) < 2 or data[0] != 0x30:
        raise ValueError("/Contents does not start with a DER SEQUENCE")
    first = data[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    return 2 + count + int.from_bytes(data[2:2 + count], "big")


def field_name(field):
    parts = []
    while field is not None:
        if "/T" in field:
            parts.append(str(field["/T"]))
        field = resolve(field.get("/Parent"))
    return ".".join(reversed(parts))


def inherited(field, key):
    while field is not None:
        if key in field:
            return resolve(field[key])
        field = resolve(field.get("/Parent"))
    return None


def widgets(reader):
    found = []
    for page_index, page in enumerate(reader.pages):
        for annot in resolve(page.get("/Annots")) or []:
            annot = resolve(annot)
            if annot.get("/Subtype") != "/Widget":
                continue
            appearance = resolve(annot.get("/AP"))
            found.append({
                "page": page_index + 1,
                "page_rotate": int(page.get("/Rotate", 0)) % 360,
                "field": field_name(annot),
                "ft": str(inherited(annot, "/FT")),
                "rect": [float(x) for x in resolve(annot.get("/Rect", []))],
                "flags": int(annot.get("/F", 0)),
                "has_appearance": appearance is not None and "/N" in appearance,
            })
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--extract")
    parser.add_argument("pdf")
    args = parser.parse_args()
    with open(args.pdf, "rb") as f:
        data = f.read()
    reader = PdfReader(args.pdf, strict=False)
    root = reader.trailer["/Root"]
    fields = reader.get_fields() or {}
    signatures, form_fields = [], []
    for name, field in fields.items():
        value = resolve(field.get("/V"))
        if field.get("/FT") != "/Sig":
            form_fields.append({"name": name, "ft": str(field.get("/FT")),
                                "value": None if value is None else str(value)})
            continue
        if value is None:
            signatures.append({"field": name, "signed": False})
            continue
        byte_range = [int(x) for x in value["/ByteRange"]]
        contents = raw_bytes(value["/Contents"])
        der = contents[:der_length(contents)]
        entry = {"field": name, "signed": True, "byte_range": byte_range,
                 "subfilter": str(value.get("/SubFilter")), "der_len": len(der),
                 "contents_len": len(contents)}
        if args.extract:
            n = len([s for s in signatures if s.get("signed")]) + 1
            start1, len1, start2, len2 = byte_range
            entry["der_path"] = os.path.join(args.extract, f"sig-{n}.der")
            entry["signed_path"] = os.path.join(args.extract, f"signed-{n}.bin")
            with open(entry["der_path"], "wb") as out:
                out.write(der)
            with open(entry["signed_path"], "wb") as out:
                out.write(data[start1:start1 + len1] + data[start2:start2 + len2])
        signatures.append(entry)
    perms = resolve(root.get("/Perms"))
    report = {
        "pages": len(reader.pages),
        "signatures": signatures,
        "form_fields": form_fields,
        "widgets": widgets(reader),
        "perms_docmdp": perms is not None and "/DocMDP" in perms,
        "acroform_sigflags": int(resolve(root.get("/AcroForm", {})).get("/SigFlags", 0)),
    }
    json.dump(report, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
