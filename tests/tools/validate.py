"""Validates every signature of a PDF with pyHanko, offline, against the given trust roots only.

Usage: validate.py [--lenient] --root ROOT.pem [--root ...] FILE.pdf
Prints one JSON object: {"signatures": [...], "certification": ...}, one entry per embedded
signature in file order. A signature pyHanko cannot process gets an "error" entry instead of
aborting the run, so the test sees which one failed and why. --lenient reads with strict=False
(pyHanko refuses hybrid-reference files in strict mode).
"""

import argparse
import json
import sys

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import read_certification_data
from pyhanko_certvalidator import ValidationContext
from asn1crypto import pem, x509


def load_roots(paths):
    roots = []
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        if pem.detect(data):
            for _, _, der in pem.unarmor(data, multiple=True):
                roots.append(x509.Certificate.load(der))
        else:
            roots.append(x509.Certificate.load(data))
    return roots


def name_of(value):
    return None if value is None else getattr(value, "name", str(value))


def text_of(sig_object, key):
    value = sig_object.get(key)
    return None if value is None else str(value)


def signed_attrs_in_der_order(signed_attrs):
    """DER SET OF: elements in ascending order of their encodings (X.690 §11.6). dump() returns the
    bytes as read, since nothing modified them."""
    encodings = [attr.dump() for attr in signed_attrs]
    return encodings == sorted(encodings)


def describe(embedded, roots):
    sig_object = embedded.sig_object
    entry = {
        "field": embedded.field_name,
        "type": text_of(sig_object, "/Type"),
        "filter": text_of(sig_object, "/Filter"),
        "subfilter": text_of(sig_object, "/SubFilter"),
        "reason": text_of(sig_object, "/Reason"),
        "location": text_of(sig_object, "/Location"),
        "contact": text_of(sig_object, "/ContactInfo"),
        "name": text_of(sig_object, "/Name"),
        "m": text_of(sig_object, "/M"),
        "has_cert_entry": "/Cert" in sig_object,
        "byte_range": [int(x) for x in sig_object.raw_get("/ByteRange")],
        "md_algorithm": embedded.md_algorithm,
        "docmdp_level": name_of(embedded.docmdp_level),
        "signed_attrs": [attr["type"].native for attr in embedded.signer_info["signed_attrs"]],
        "signed_attrs_der_order": signed_attrs_in_der_order(embedded.signer_info["signed_attrs"]),
        "unsigned_attrs": [attr["type"].native for attr in (embedded.signer_info["unsigned_attrs"] or [])],
        "embedded_certs": len(embedded.signed_data["certificates"] or []),
    }
    # A fresh context per signature: path building caches must not leak between signatures.
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    status = validate_pdf_signature(embedded, context)
    entry.update({
        "intact": status.intact,
        "valid": status.valid,
        "trusted": status.trusted,
        "bottom_line": status.bottom_line,
        "coverage": name_of(status.coverage),
        "modification_level": name_of(status.modification_level),
        "docmdp_ok": status.docmdp_ok,
        "seed_value_ok": status.seed_value_ok,
        "signer_subject": status.signing_cert.subject.human_friendly,
        "signature_mechanism": status.pkcs7_signature_mechanism,
        "summary": status.summary(),
    })
    return entry


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", action="append", default=[])
    parser.add_argument("--lenient", action="store_true")
    parser.add_argument("pdf")
    args = parser.parse_args()
    roots = load_roots(args.root)
    with open(args.pdf, "rb") as f:
        reader = PdfFileReader(f, strict=not args.lenient)
        signatures = []
        for embedded in reader.embedded_signatures:
            try:
                signatures.append(describe(embedded, roots))
            except Exception as error:  # report, do not abort: the test names the failing signature
                signatures.append({"field": embedded.field_name, "error": f"{type(error).__name__}: {error}"})
        certification = read_certification_data(reader)
        report = {
            "signatures": signatures,
            "certification": None if certification is None else name_of(certification.permission),
            "hybrid_xrefs_present": reader.xrefs.hybrid_xrefs_present,
        }
    json.dump(report, sys.stdout, indent=1, default=str)


if __name__ == "__main__":
    main()
