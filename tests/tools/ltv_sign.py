"""Makes PAdES B-B, B-T, B-LT and B-LTA files with pyHanko (ETSI EN 319 142-1 §6), timestamped
in-process by pyHanko's DummyTimeStamper with a TSA key and certificate oneseal keygen made, then
gives pyHanko's own verdict on the result, offline, trusting only the given root.

    ltv_sign.py LEVEL IN.pdf OUT.pdf KEY.pem CERT.pem TSA_KEY.pem TSA_CERT.pem ROOT.pem CRL.der
                [DOC_TSA_KEY.pem DOC_TSA_CERT.pem]

LEVEL is b-b, b-t, b-lt or b-lta. The CRL goes into the validation context the DSS is filled
from (B-LT, B-LTA). With a second TSA, B-LTA's document timestamp comes from it: the file is
made B-LT, then pyHanko's PdfTimeStamper adds the document timestamp (and its TSA's validation
data) in a later revision. Prints one JSON object:
{"signature": {"intact", "valid", "trusted", "timestamp_valid"},
 "dss": {"certs", "crls", "ocsps"} | null,
 "dss_signature": {"valid", "trusted", "revoked"} | null,   # validated from the DSS alone
 "document_timestamps": [{"intact", "valid", "trusted"}, ...]}
"""

import io
import json
import sys

from asn1crypto import algos, cms, core, pem, x509
from asn1crypto import crl as asn1_crl
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.sign import general
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.keys import load_private_key_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore


class EcdsaTimeStamper(DummyTimeStamper):
    """pyHanko's in-process TSA, which signs with RSA only, taught ECDSA (oneseal's TSA keys are
    P-256): the same TSTInfo and signed attributes, an ECDSA signature value."""

    def _sign_tst_info(self, tst_info_data, md_algorithm, dt):
        key = serialization.load_der_private_key(self.tsa_key.dump(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            return super()._sign_tst_info(tst_info_data, md_algorithm, dt)
        self._ecdsa = True
        digest = hashes.Hash(hashes.SHA256())
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                simple_cms_attribute(
                    "signing_certificate", general.as_signing_certificate(self.tsa_cert)
                ),
                simple_cms_attribute("message_digest", digest.finalize()),
            ]
        )
        return key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256())), signed_attrs

    def _build_signed_data(self, tst_info_data, md_algorithm, signature, signed_attrs):
        built = super()._build_signed_data(tst_info_data, md_algorithm, signature, signed_attrs)
        if getattr(self, "_ecdsa", False):
            for info in built["signer_infos"]:
                info["signature_algorithm"] = algos.SignedDigestAlgorithm(
                    {"algorithm": "sha256_ecdsa"}
                )
        return built


def load_cert_from_pemder(path):
    """The first certificate of a PEM file (oneseal's key directories hold the chain)."""
    with open(path, "rb") as f:
        data = f.read()
    return next(x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True))


def stamper(tsa_key, tsa_cert):
    return EcdsaTimeStamper(
        tsa_cert=load_cert_from_pemder(tsa_cert),
        tsa_key=load_private_key_from_pemder(tsa_key, passphrase=None),
        certs_to_embed=[load_cert_from_pemder(tsa_cert)],
    )


def add_document_timestamp(target, doc_tsa, root, crl):
    """A document timestamp by another TSA over the finished file (ISO 32000-2 §12.8.5)."""
    with open(target, "rb") as f:
        signed = f.read()
    context = ValidationContext(
        trust_roots=[load_cert_from_pemder(root)], crls=[crl], allow_fetching=False
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    with open(target, "wb") as out:
        signers.PdfTimeStamper(stamper(*doc_tsa)).timestamp_pdf(
            writer, "sha256", validation_context=context, output=out
        )


def sign(level, source, target, key, cert, tsa_key, tsa_cert, root, crl):
    signer = signers.SimpleSigner(
        signing_cert=load_cert_from_pemder(cert),
        signing_key=load_private_key_from_pemder(key, passphrase=None),
        cert_registry=SimpleCertificateStore.from_certs([load_cert_from_pemder(root)]),
    )
    timestamper = None
    if level != "b-b":
        timestamper = stamper(tsa_key, tsa_cert)
    context = ValidationContext(
        trust_roots=[load_cert_from_pemder(root)],
        crls=[crl],
        allow_fetching=False,
    )
    meta = signers.PdfSignatureMetadata(
        field_name="Signature1",
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        embed_validation_info=level in ("b-lt", "b-lta"),
        use_pades_lta=level == "b-lta",
        validation_context=context if level in ("b-lt", "b-lta") else None,
    )
    with open(source, "rb") as f:
        writer = IncrementalPdfFileWriter(f)
        with open(target, "wb") as out:
            signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper, output=out)


def verdict(target, root):
    roots = [load_cert_from_pemder(root)]
    report = {"dss": None, "dss_signature": None, "document_timestamps": []}
    with open(target, "rb") as f:
        reader = PdfFileReader(f)
        embedded = reader.embedded_regular_signatures[0]
        status = validate_pdf_signature(embedded, ValidationContext(trust_roots=roots))
        stamp = status.timestamp_validity
        report["signature"] = {
            "intact": status.intact,
            "valid": status.valid,
            "trusted": status.trusted,
            "timestamp_valid": None if stamp is None else bool(stamp.valid and stamp.trusted),
        }
        offline = {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "hard-fail"}
        try:
            dss = DocumentSecurityStore.read_dss(reader)
        except NoDSSFoundError:
            dss = None
        if dss is not None:
            report["dss"] = {
                "certs": len(list(dss.certs.values())),
                "crls": len(dss.crls),
                "ocsps": len(dss.ocsps),
            }
            # Only what the file holds: the signer's CRL must come from the DSS (hard-fail).
            status = validate_pdf_signature(embedded, dss.as_validation_context(offline))
            report["dss_signature"] = {
                "valid": status.valid,
                "trusted": status.trusted,
                "revoked": status.revoked,
            }
            for stamp in reader.embedded_timestamp_signatures:
                checked = validate_pdf_timestamp(
                    stamp, validation_context=dss.as_validation_context(offline)
                )
                report["document_timestamps"].append(
                    {"intact": checked.intact, "valid": checked.valid, "trusted": checked.trusted}
                )
    return report


def main():
    level, source, target, key, cert, tsa_key, tsa_cert, root, crl_path = sys.argv[1:10]
    doc_tsa = sys.argv[10:12]
    with open(crl_path, "rb") as f:
        crl = asn1_crl.CertificateList.load(f.read())
    if doc_tsa and level == "b-lta":
        sign("b-lt", source, target, key, cert, tsa_key, tsa_cert, root, crl)
        add_document_timestamp(target, doc_tsa, root, crl)
    else:
        sign(level, source, target, key, cert, tsa_key, tsa_cert, root, crl)
    json.dump(verdict(target, root), sys.stdout)


if __name__ == "__main__":
    main()
