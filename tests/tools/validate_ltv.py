"""pyHanko's long-term verdicts on every signature of a PDF, offline (nothing fetched):

- "basic": validate_pdf_signature with the DSS's certificates and CRLs, revocation hard-fail,
  including the signature timestamp's own validation;
- "ades": pyHanko's ETSI EN 319 102-1 LTA validation (ades_lta_validation) at --at (default now),
  revocation information required, read from the file only;
- "future": simulate_future_ades_lta_validation at --future, pyHanko's check that the file keeps
  what a validator will need then (when given);
- "level": the PAdES baseline level these verdicts show (ETSI EN 319 142-1 §6): B-B for a valid
  signature, B-T with a valid signature timestamp, B-LT when the DSS alone validates it in
  hard-fail mode, B-LTA when a document timestamp's evidence record also validates.

With --tokens DIR, writes each signature timestamp token to DIR/token-N.der and the signature
value it stamps to DIR/value-N.bin, for `openssl ts -verify`.

Usage: validate_ltv.py --root ROOT.pem [--at ISO] [--future ISO] [--tokens DIR] FILE.pdf
Prints one JSON object: {"document_timestamps": N, "signatures": [...]}.
"""

import argparse
import asyncio
import json
import os
import sys
from datetime import datetime, timezone

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.ades import (
    ades_lta_validation,
    simulate_future_ades_lta_validation,
)
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.authority import CertTrustAnchor
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import (
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
    FreshnessReqType,
)
from pyhanko_certvalidator.registry import SimpleTrustManager

from validate import load_roots  # trust roots read as validate.py reads them


def basic(embedded, reader, roots):
    offline = {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "hard-fail"}
    try:
        context = DocumentSecurityStore.read_dss(reader).as_validation_context(offline)
        has_dss = True
    except NoDSSFoundError:
        context = ValidationContext(**offline, crls=[], ocsps=[])
        has_dss = False
    status = validate_pdf_signature(embedded, context, ts_validation_context=context)
    timestamp = status.timestamp_validity
    return has_dss, {
        "intact": status.intact,
        "valid": status.valid,
        "trusted": status.trusted,
        "revoked": status.revoked,
        "bottom_line": status.bottom_line,
        "modification_level": getattr(status.modification_level, "name", None),
        "timestamp": None
        if timestamp is None
        else {
            "intact": timestamp.intact,
            "valid": timestamp.valid,
            "trusted": timestamp.trusted,
            "time": timestamp.timestamp.isoformat(),
        },
    }


def spec(roots):
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(
            trust_roots=[CertTrustAnchor(root) for root in roots]
        ),
        revinfo_policy=CertRevTrustPolicy(
            REQUIRE_REVINFO,
            freshness=None,
            freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION,
        ),
    )
    return PdfSignatureValidationSpec(
        signature_validation_spec=SignatureValidationSpec(
            cert_validation_policy=policy,
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )


def ades_summary(result):
    return {
        "indication": result.api_status.bottom_line,
        "ades": str(result.ades_subindic.standard_name)
        if result.ades_subindic is not None
        else "PASSED",
        "evidence_record": result.oldest_evidence_record_timestamp.isoformat()
        if getattr(result, "oldest_evidence_record_timestamp", None)
        else None,
        "signature_timestamp": bool(getattr(result, "signature_timestamp_status", None)),
    }


def ades(embedded, roots, at):
    timing = ValidationTimingInfo(at, at, point_in_time_validation=True)
    try:
        return ades_summary(asyncio.run(ades_lta_validation(embedded, spec(roots), timing)))
    except Exception as error:  # reported, so the test shows pyHanko's own words
        return {"error": f"{type(error).__name__}: {error}"}


def future(embedded, roots, when):
    try:
        return ades_summary(
            asyncio.run(simulate_future_ades_lta_validation(embedded, spec(roots), when))
        )
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}


def level(has_dss, verdict, lta):
    if not verdict["bottom_line"]:
        return None
    timestamp = verdict["timestamp"]
    if not timestamp or not (timestamp["valid"] and timestamp["trusted"]):
        return "B-B"
    if not has_dss:
        return "B-T"
    if lta.get("indication") and lta.get("evidence_record"):
        return "B-LTA"
    return "B-LT"


def write_token(embedded, directory, index):
    signer_info = embedded.signer_info
    for attribute in signer_info["unsigned_attrs"] or []:
        if attribute["type"].native == "signature_time_stamp_token":
            with open(os.path.join(directory, f"token-{index}.der"), "wb") as f:
                f.write(attribute["values"][0].dump())
            with open(os.path.join(directory, f"value-{index}.bin"), "wb") as f:
                f.write(signer_info["signature"].native)


def parse_time(text):
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", action="append", required=True)
    parser.add_argument("--at")
    parser.add_argument("--future")
    parser.add_argument("--tokens")
    parser.add_argument("pdf")
    args = parser.parse_args()
    roots = load_roots(args.root)
    at = parse_time(args.at) if args.at else datetime.now(tz=timezone.utc)
    with open(args.pdf, "rb") as f:
        reader = PdfFileReader(f)
        report = {
            "document_timestamps": len(reader.embedded_timestamp_signatures),
            "signatures": [],
        }
        for index, embedded in enumerate(reader.embedded_regular_signatures, start=1):
            has_dss, verdict = basic(embedded, reader, roots)
            lta = ades(embedded, roots, at)
            entry = {"field": embedded.field_name, "dss": has_dss, **verdict, "lta": lta}
            if args.future:
                entry["future"] = future(embedded, roots, parse_time(args.future))
            entry["level"] = level(has_dss, verdict, lta)
            if args.tokens:
                write_token(embedded, args.tokens, index)
            report["signatures"].append(entry)
    json.dump(report, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
