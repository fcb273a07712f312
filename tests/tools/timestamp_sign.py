"""Signs a PDF with pyHanko, asking oneseal's built-in TSA (POST /tsa) for the signature's
timestamp through pyHanko's own HTTPTimeStamper, then validates the result trusting only the
given roots. Prints {"intact", "valid", "timestamp": {"intact", "valid", "trusted", "time",
"serial"}}.

    timestamp_sign.py IN.pdf OUT.pdf KEY.pem CERT.pem TSA_URL ROOT.pem [ROOT.pem ...]
"""

import json
import sys

from asn1crypto import pem, x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers, timestamps
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def certificates(path):
    with open(path, "rb") as f:
        data = f.read()
    return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]


def main():
    source, target, key, cert, url, *roots = sys.argv[1:]
    signer = signers.SimpleSigner.load(key, cert)
    timestamper = timestamps.HTTPTimeStamper(url)
    meta = signers.PdfSignatureMetadata(
        field_name="Signature1", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    with open(source, "rb") as f:
        writer = IncrementalPdfFileWriter(f)
        with open(target, "wb") as out:
            signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper, output=out)
    trust = [c for path in roots for c in certificates(path)]
    with open(target, "rb") as f:
        reader = PdfFileReader(f)
        embedded = reader.embedded_signatures[0]
        status = validate_pdf_signature(embedded, ValidationContext(trust_roots=trust))
        token = status.timestamp_validity
        stamp = None
        if token is not None:
            tst_info = embedded.signer_info["unsigned_attrs"][0]["values"][0]["content"][
                "encap_content_info"
            ]["content"].parsed
            stamp = {
                "intact": token.intact,
                "valid": token.valid,
                "trusted": token.trusted,
                "time": token.timestamp.isoformat(),
                "serial": tst_info["serial_number"].native,
                "policy": tst_info["policy"].dotted,
            }
        json.dump({"intact": status.intact, "valid": status.valid, "timestamp": stamp}, sys.stdout)


if __name__ == "__main__":
    main()
