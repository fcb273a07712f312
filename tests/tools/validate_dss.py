"""Validates every signature of a PDF offline with pyHanko, from the validation data the file
carries in its Document Security Store (ISO 32000-2 §12.8.4.3): no fetching, revocation checked
in hard-fail mode, so "valid" means pyHanko found the signer's CRL in the DSS itself.

Usage: validate_dss.py --root ROOT.pem FILE.pdf
Prints one JSON object: {"dss": {"certs": N, "crls": N, "ocsps": N}, "signatures": [...]}.
"""

import argparse
import json
import sys

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko_certvalidator import ValidationContext

from validate import load_roots  # trust roots read as validate.py reads them


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", action="append", required=True)
    parser.add_argument("pdf")
    args = parser.parse_args()
    roots = load_roots(args.root)
    with open(args.pdf, "rb") as f:
        reader = PdfFileReader(f)
        offline = {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "hard-fail"}
        try:
            dss = DocumentSecurityStore.read_dss(reader)
            context = dss.as_validation_context(offline)
            counts = {
                "certs": len(list(dss.certs.values())),
                "crls": len(dss.crls),
                "ocsps": len(dss.ocsps),
            }
        except NoDSSFoundError:
            context = ValidationContext(**offline, crls=[], ocsps=[])
            counts = {"certs": 0, "crls": 0, "ocsps": 0}
        report = {"dss": counts, "signatures": []}
        for embedded in reader.embedded_regular_signatures:
            try:
                status = validate_pdf_signature(embedded, context)
                report["signatures"].append(
                    {
                        "intact": status.intact,
                        "valid": status.valid,
                        "trusted": status.trusted,
                        "bottom_line": status.bottom_line,
                        "revoked": status.revoked,
                        "modification_level": getattr(status.modification_level, "name", None),
                        "docmdp_ok": getattr(status, "docmdp_ok", None),
                        "summary": status.summary(),
                    }
                )
            except Exception as error:  # reported, so the test shows pyHanko's own words
                report["signatures"].append({"error": f"{type(error).__name__}: {error}"})
    json.dump(report, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
