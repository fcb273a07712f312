"""Python producers and tamperers of the verifier fixtures; driven by make_verify_fixtures.sh, and
called by tests/verification.rs for the edits it makes to files oneseal signed during the test.

Subcommands (SIGNER names SIGNER.pem and SIGNER-key.pem in the current directory, issued by root.pem):
  sign IN OUT SIGNER FIELD MODE        IN signed by pyHanko into a new field FIELD; MODE is one of
                                       pades (ETSI.CAdES.detached), pkcs7 (adbe.pkcs7.detached),
                                       pss (PAdES with RSASSA-PSS, pyHanko's default: salt of
                                       the maximum length), pss-salt32 (PSS with a 32-byte salt),
                                       certify-1, certify-2 (PAdES certification signature with
                                       DocMDP P=1 / P=2)
  fill-field IN OUT NAME VALUE         IN with text field NAME set to VALUE, in an incremental update
                                       written by pypdf (form filling, no other change)
  edit-content IN OUT                  IN with a hand-written incremental update that replaces the
                                       content stream of page 1 (a new version of the same object)
  substitute-cert IN CERT OUT          IN whose last signature's CMS carries CERT instead of the
                                       certificate it was made with (same issuer and serial, other
                                       key); the CMS is re-encoded into the same /Contents space
"""

import re
import sys


def pyhanko_sign(inp, out, signer_name, field, mode):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter

    mechanism = None
    if mode == "pss-salt32":  # RSASSA-PSS, SHA-256, MGF1-SHA-256, salt as long as the hash
        from asn1crypto import algos
        mechanism = algos.SignedDigestAlgorithm({
            "algorithm": "rsassa_pss",
            "parameters": algos.RSASSAPSSParams({
                "hash_algorithm": {"algorithm": "sha256"},
                "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": "sha256"}},
                "salt_length": 32})})
    # prefer_pss alone gives pyHanko's default PSS parameters: the longest salt the key allows.
    signer = signers.SimpleSigner.load(f"{signer_name}-key.pem", f"{signer_name}.pem",
                                       ca_chain_files=("root.pem",), key_passphrase=None,
                                       prefer_pss=mode == "pss", signature_mechanism=mechanism)
    certify = mode.startswith("certify-")
    meta = signers.PdfSignatureMetadata(
        field_name=field,
        subfilter=SigSeedSubFilter.ADOBE_PKCS7_DETACHED if mode == "pkcs7" else SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=f"Verifier fixture signed by pyHanko ({mode})",
        location="Fixture City",
        certify=certify,
        docmdp_permissions=MDPPerm(int(mode[-1])) if certify else MDPPerm.FILL_FORMS)
    with open(inp, "rb") as f:
        writer = IncrementalPdfFileWriter(f)
        with open(out, "wb") as o:
            signers.sign_pdf(writer, meta, signer=signer, output=o)


def fill_field(inp, out, name, value):
    from pypdf import PdfWriter

    writer = PdfWriter(inp, incremental=True)
    for page in writer.pages:
        writer.update_page_form_field_values(page, {name: value}, auto_regenerate=False)
    with open(out, "wb") as f:
        writer.write(f)


def last_startxref(data):
    at = data.rindex(b"startxref")
    return int(data[at + len(b"startxref"):].split()[0])


def edit_content(inp, out):
    """Appends a revision whose only change is a new version of page 1's content stream object: what
    an editor does when it rewrites the page. Classic xref section with /Prev, as ISO 32000-1 §7.5.6."""
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, IndirectObject

    data = open(inp, "rb").read()
    reader = PdfReader(inp)
    contents = reader.pages[0].get_object().raw_get("/Contents")
    if isinstance(contents, IndirectObject) and isinstance(contents.get_object(), ArrayObject):
        contents = contents.get_object()[0]
    elif isinstance(contents, ArrayObject):
        contents = contents[0]
    if not isinstance(contents, IndirectObject):
        sys.exit("edit-content: page 1 has no indirect content stream")
    trailer = reader.trailer
    size = int(trailer["/Size"])
    root = trailer.raw_get("/Root")
    body = (b"BT /F1 24 Tf 72 700 Td (TAMPERED: this page was rewritten after signing.) Tj ET\n"
            b"0 0 1 rg 72 500 200 100 re f")
    update = bytearray(b"\n" if not data.endswith(b"\n") else b"")
    offset = len(data) + len(update)
    update += (b"%d %d obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n"
               % (contents.idnum, contents.generation, len(body), body))
    xref_at = len(data) + len(update)
    update += b"xref\n%d 1\n%010d %05d n\r\n" % (contents.idnum, offset, contents.generation)
    ident = b""
    if "/ID" in trailer:
        ids = trailer["/ID"]
        ident = b" /ID [<%s> <%s>]" % (bytes(ids[0].original_bytes).hex().encode(),
                                       bytes(ids[1].original_bytes).hex().encode())
    update += (b"trailer\n<< /Size %d /Root %d %d R /Prev %d%s >>\nstartxref\n%d\n%%%%EOF\n"
               % (size, root.idnum, root.generation, last_startxref(data), ident, xref_at))
    with open(out, "wb") as f:
        f.write(data + bytes(update))


def substitute_cert(inp, cert_path, out):
    from asn1crypto import cms, pem, x509

    data = open(inp, "rb").read()
    ranges = list(re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data))
    if not ranges:
        sys.exit("substitute-cert: no /ByteRange")
    _, a, b, _ = (int(x) for x in ranges[-1].groups())
    start, end = a, b  # the /Contents string, angle brackets included
    hex_digits = data[start + 1:end - 1]
    info = cms.ContentInfo.load(bytes.fromhex(hex_digits.decode()))  # trailing zero padding ignored
    raw = open(cert_path, "rb").read()
    twin = x509.Certificate.load(pem.unarmor(raw)[2] if pem.detect(raw) else raw)
    signed = info["content"]
    sid = signed["signer_infos"][0]["sid"]
    replaced = 0
    certificates = []
    for choice in signed["certificates"]:
        cert = choice.chosen
        if (sid.name == "issuer_and_serial_number"
                and cert.issuer == sid.chosen["issuer"]
                and cert.serial_number == sid.chosen["serial_number"].native):
            certificates.append(cms.CertificateChoices(name="certificate", value=twin))
            replaced += 1
        else:
            certificates.append(choice)
    if replaced != 1:
        sys.exit(f"substitute-cert: found {replaced} signer certificates, expected 1")
    signed["certificates"] = cms.CertificateSet(certificates)
    new_der = cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump(force=True)
    new_hex = new_der.hex().encode()
    if len(new_hex) > len(hex_digits):
        sys.exit("substitute-cert: the new CMS does not fit the /Contents space")
    new_hex += b"0" * (len(hex_digits) - len(new_hex))
    with open(out, "wb") as f:
        f.write(data[:start + 1] + new_hex + data[end - 1:])


def fixture_timestamper():
    """pyHanko's in-process TSA with the fixture TSA certificate (EKU timeStamping)."""
    from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
    from pyhanko.sign.timestamps import DummyTimeStamper

    return DummyTimeStamper(
        tsa_cert=load_cert_from_pemder("tsa.pem"),
        tsa_key=load_private_key_from_pemder("tsa-key.pem", None),
        certs_to_embed=[load_cert_from_pemder("root.pem")],
    )


def sign_bt(inp, out, signer_name, field):
    """A PAdES signature with a signature timestamp (B-T)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    signer = signers.SimpleSigner.load(f"{signer_name}-key.pem", f"{signer_name}.pem", ca_chain_files=("root.pem",))
    with open(inp, "rb") as f:
        writer = IncrementalPdfFileWriter(f)
        meta = signers.PdfSignatureMetadata(field_name=field, subfilter=SigSeedSubFilter.PADES)
        data = signers.sign_pdf(writer, meta, signer=signer, timestamper=fixture_timestamper())
    with open(out, "wb") as f:
        f.write(data.getvalue())


def doc_timestamp(inp, out):
    """A document timestamp (/SubFilter /ETSI.RFC3161) appended to a signed file."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    with open(inp, "rb") as f:
        writer = IncrementalPdfFileWriter(f)
        data = signers.PdfTimeStamper(fixture_timestamper()).timestamp_pdf(writer, md_algorithm="sha256")
    with open(out, "wb") as f:
        f.write(data.getvalue())


def main(argv):
    command, args = argv[1], argv[2:]
    if command == "sign":
        pyhanko_sign(*args)
    elif command == "fill-field":
        fill_field(*args)
    elif command == "edit-content":
        edit_content(*args)
    elif command == "substitute-cert":
        substitute_cert(*args)
    elif command == "sign-bt":
        sign_bt(*args)
    elif command == "doc-timestamp":
        doc_timestamp(*args)
    else:
        sys.exit(f"make_verify_fixtures.py: unknown command {command}")


if __name__ == "__main__":
    main(sys.argv)
