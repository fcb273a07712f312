"""Validates every signature of a PDF with pyHanko, checking revocation in hard-fail mode: the
CRLs come from the distribution point each certificate names (--fetch: pyHanko downloads them
over HTTP itself) and/or from files (--crl). No revocation information for the signer is a
failure, not a pass, so a "valid" answer means pyHanko read a CRL and found the signer unrevoked.

Usage: validate_revocation.py --root ROOT.pem [--crl FILE.crl ...] [--fetch] FILE.pdf
Prints one JSON object: {"signatures": [...]}, one entry per embedded signature in file order,
with pyHanko's verdict and its revocation details when the signer's certificate is revoked.
"""

import argparse
import json
import sys

from asn1crypto import pem
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from validate import load_roots  # the same trust roots as validate.py, read the same way


def load_crls(paths):
    crls = []
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        if pem.detect(data):
            crls.extend(der for _, _, der in pem.unarmor(data, multiple=True))
        else:
            crls.append(data)
    return crls


def describe(embedded, roots, crls, fetch):
    context = ValidationContext(
        trust_roots=roots, crls=crls, allow_fetching=fetch, revocation_mode="hard-fail"
    )
    status = validate_pdf_signature(embedded, context)
    details = status.revocation_details
    return {
        "field": embedded.field_name,
        "intact": status.intact,
        "valid": status.valid,
        "trusted": status.trusted,
        "revoked": status.revoked,
        "bottom_line": status.bottom_line,
        "trust_problem": None if status.trust_problem_indic is None else status.trust_problem_indic.name,
        "revocation_reason": None if details is None else details.revocation_reason.native,
        "revocation_date": None if details is None else details.revocation_date.isoformat(),
        "summary": status.summary(),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", action="append", default=[])
    parser.add_argument("--crl", action="append", default=[])
    parser.add_argument("--fetch", action="store_true")
    parser.add_argument("pdf")
    args = parser.parse_args()
    roots = load_roots(args.root)
    crls = load_crls(args.crl)
    with open(args.pdf, "rb") as f:
        reader = PdfFileReader(f)
        signatures = []
        for embedded in reader.embedded_signatures:
            try:
                signatures.append(describe(embedded, roots, crls, args.fetch))
            except Exception as error:  # report, do not abort: the test names the failing signature
                signatures.append({"field": embedded.field_name, "error": f"{type(error).__name__}: {error}"})
    json.dump({"signatures": signatures}, sys.stdout, indent=1, default=str)


if __name__ == "__main__":
    main()
