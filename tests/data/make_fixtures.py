"""Python producers of the test fixtures; driven by make_fixtures.sh, which says what each file is.

Subcommands:
  reportlab OUTDIR                          the reportlab-made files (rl-*.pdf)
  hybrid OUT                                a hand-built hybrid-reference file (table + /XRefStm)
  incremental IN OUT                        IN with an incremental update appended by pypdf
  pyhanko-sign IN OUT KEY CERT CA [certify] IN signed (or certified) by pyHanko
  corrupt-startxref IN OUT                  IN with its startxref offset pointing into an object
  empty-field IN OUT                        IN with an empty visible signature field ApprovalSeal (pyHanko)
  handmade OUTDIR                           hand-built edge cases (hm-*.pdf)
"""

import sys

CJK_TEXT = "某市行政审批局　准予行政许可决定书"


def reportlab_files(outdir):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    def page_text(c, lines, font="Helvetica", size=12):
        c.setFont(font, size)
        for i, line in enumerate(lines):
            c.drawString(72, 770 - 18 * i, line)

    # invariant=1 fixes the dates and the /ID, so the same generator gives the same bytes.
    c = canvas.Canvas(f"{outdir}/rl-basic.pdf", pagesize=A4, invariant=1, pdfVersion=(1, 4))
    page_text(c, ["oneseal fixture: reportlab, one page, classic xref table.", "Approval notice."])
    c.rect(72, 500, 200, 100)
    c.showPage()
    c.save()

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(f"{outdir}/rl-cjk.pdf", pagesize=A4, invariant=1)
    page_text(c, [CJK_TEXT, "申请人：示例科技有限公司", "统一社会信用代码：91110000MA0000000X"],
              font="STSong-Light", size=16)
    c.showPage()
    c.save()

    c = canvas.Canvas(f"{outdir}/rl-multipage.pdf", pagesize=A4, invariant=1)
    for n in range(1, 7):
        page_text(c, [f"oneseal fixture: reportlab multi-page, page {n} of 6."])
        c.showPage()
    c.save()

    c = canvas.Canvas(f"{outdir}/rl-acroform.pdf", pagesize=A4, invariant=1)
    page_text(c, ["oneseal fixture: reportlab AcroForm with text fields and a checkbox."])
    form = c.acroForm
    form.textfield(name="applicant", tooltip="Applicant", x=72, y=650, width=300, height=20,
                   value="Example Trading Co.", forceBorder=True)
    form.textfield(name="licence_no", tooltip="Licence number", x=72, y=600, width=300, height=20,
                   value="XK-2026-000123", forceBorder=True)
    form.checkbox(name="approved", tooltip="Approved", x=72, y=550, buttonStyle="check", checked=True)
    c.showPage()
    c.save()


def hybrid_file(out):
    """A hybrid-reference file (ISO 32000-1 §7.5.8.4): a classic xref table whose trailer has /XRefStm
    pointing at an xref stream that locates the objects kept in an object stream (the font and Info)."""
    content = b"BT /F1 14 Tf 72 760 Td (oneseal fixture: hybrid-reference file, table + XRefStm.) Tj ET"
    compressed = {5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
                  7: b"<< /Producer (oneseal make_fixtures.py hybrid) /Title (Hybrid reference) >>"}
    header, body = b"", b""
    for num, obj in compressed.items():
        header += b"%d %d " % (num, len(body))
        body += obj + b"\n"
    objstm = header + body
    plain = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
           b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        4: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        6: b"<< /Type /ObjStm /N 2 /First %d /Length %d >>\nstream\n%s\nendstream"
           % (len(header), len(objstm), objstm),
    }
    data = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num, obj in plain.items():
        offsets[num] = len(data)
        data += b"%d 0 obj\n%s\nendobj\n" % (num, obj)
    entries = b"".join(bytes([2, 0, 6, index]) for index in range(len(compressed)))
    offsets[8] = len(data)
    data += (b"8 0 obj\n<< /Type /XRef /Size 9 /W [1 2 1] /Index [5 1 7 1] /Length %d >>\nstream\n"
             % len(entries)) + entries + b"\nendstream\nendobj\n"
    xref_at = len(data)
    data += b"xref\n0 5\n0000000000 65535 f\r\n"
    data += b"".join(b"%010d 00000 n\r\n" % offsets[n] for n in range(1, 5))
    data += b"6 1\n%010d 00000 n\r\n8 1\n%010d 00000 n\r\n" % (offsets[6], offsets[8])
    data += (b"trailer\n<< /Size 9 /Root 1 0 R /Info 7 0 R /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n"
             % (offsets[8], xref_at))
    with open(out, "wb") as f:
        f.write(data)


def incremental_update(inp, out):
    from pypdf import PdfWriter
    from pypdf.annotations import Text

    writer = PdfWriter(inp, incremental=True)
    writer.add_metadata({"/Title": "Updated incrementally by pypdf"})
    writer.add_annotation(page_number=0, annotation=Text(
        text="A note added in an earlier incremental update.", rect=(400, 700, 420, 720)))
    with open(out, "wb") as f:
        writer.write(f)


def pyhanko_sign(inp, out, key, cert, ca, certify=False):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter

    signer = signers.SimpleSigner.load(key, cert, ca_chain_files=(ca,), key_passphrase=None)
    meta = signers.PdfSignatureMetadata(
        field_name="PriorCertification" if certify else "PriorSignature",
        subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256",
        reason="Prior signature made by pyHanko (fixture)", certify=certify,
        docmdp_permissions=MDPPerm.FILL_FORMS)
    with open(inp, "rb") as f:
        writer = IncrementalPdfFileWriter(f)
        with open(out, "wb") as o:
            signers.sign_pdf(writer, meta, signer=signer, output=o)


def empty_field(inp, out):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field

    with open(inp, "rb") as f:
        writer = IncrementalPdfFileWriter(f)
        append_signature_field(writer, SigFieldSpec(sig_field_name="ApprovalSeal", on_page=0,
                                                    box=(300, 600, 500, 680)))
        with open(out, "wb") as o:
            writer.write(o)


def classic_file(objects, eol=b"\n", final_eol=True):
    """A classic-xref PDF from {number: body}; eol is the line ending used throughout."""
    data = bytearray(b"%PDF-1.4" + eol + b"%\xe2\xe3\xcf\xd3" + eol)
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(data)
        body = objects[num].replace(b"\n", eol)
        if eol == b"\r":  # the stream keyword must be followed by CRLF or LF (ISO 32000-1 §7.3.8.1)
            body = body.replace(b"\rstream\r", b"\rstream\r\n")
        data += b"%d 0 obj" % num + eol + body + eol + b"endobj" + eol
    size = max(objects) + 1
    xref_at = len(data)
    # Each entry is exactly 20 bytes: the two-byte end of line is SP+CR, SP+LF or CR+LF.
    entry_end = b"\r\n" if eol == b"\r\n" else b" " + eol
    data += b"xref" + eol + b"0 %d" % size + eol + b"0000000000 65535 f" + entry_end
    for num in range(1, size):
        data += (b"%010d 00000 n" % offsets[num] if num in offsets else b"0000000000 00000 f") + entry_end
    data += b"trailer" + eol + b"<< /Size %d /Root 1 0 R >>" % size + eol
    data += b"startxref" + eol + b"%d" % xref_at + eol + b"%%EOF" + (eol if final_eol else b"")
    return bytes(data)


def handmade_files(outdir):
    text = b"BT /F1 12 Tf 72 760 Td (oneseal fixture: %s) Tj ET"

    def content(label):
        body = text % label
        return b"<< /Length %d >>\nstream\n%s\nendstream" % (len(body), body)

    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    # Indirect /Annots and /Fields arrays, MediaBox and Resources inherited from the page tree,
    # an existing link and text field, and no end-of-line after %%EOF.
    indirect = {
        1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields 7 0 R /DA (/Helv 0 Tf 0 g) "
           b"/DR << /Font << /Helv 5 0 R >> >> >> >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] "
           b"/Resources << /Font << /F1 5 0 R >> >> >>",
        3: b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Annots 6 0 R >>",
        4: content(b"indirect /Annots and /Fields, inherited MediaBox"),
        5: font,
        6: b"[8 0 R 9 0 R]",
        7: b"[9 0 R]",
        8: b"<< /Type /Annot /Subtype /Link /Rect [72 700 200 720] /Border [0 0 1] "
           b"/A << /S /URI /URI (https://example.org/) >> >>",
        9: b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (remark) /V (kept as is) /Rect [72 640 300 660] "
           b"/F 4 /P 3 0 R /DA (/Helv 10 Tf 0 g) >>",
    }
    with open(f"{outdir}/hm-indirect-arrays.pdf", "wb") as f:
        f.write(classic_file(indirect, final_eol=False))
    simple = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Rotate 90 "
           b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        4: content(b"CR-only line endings, page rotated 90"),
        5: font,
    }
    with open(f"{outdir}/hm-cr-eol.pdf", "wb") as f:
        f.write(classic_file(simple, eol=b"\r"))
    # /Kids and /MediaBox given as references to arrays (legal, and easy to forget to resolve).
    kids = dict(simple)
    kids[2] = b"<< /Type /Pages /Kids 6 0 R /Count 1 >>"
    kids[3] = b"<< /Type /Page /Parent 2 0 R /MediaBox 7 0 R /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
    kids[4] = content(b"/Kids and /MediaBox as indirect arrays")
    kids[6] = b"[3 0 R]"
    kids[7] = b"[0 0 595 842]"
    with open(f"{outdir}/hm-indirect-kids.pdf", "wb") as f:
        f.write(classic_file(kids))
    # A trailer /Size far above the highest object number (and above the 8,388,607 objects of
    # ISO 32000-1 Annex C): new objects must not be numbered from it.
    big = dict(simple)
    big[3] = kids[3].replace(b"/MediaBox 7 0 R", b"/MediaBox [0 0 595 842]")
    big[4] = content(b"trailer /Size 999999999")
    data = classic_file(big).replace(b"<< /Size 6 /Root", b"<< /Size 999999999 /Root")
    with open(f"{outdir}/hm-size-too-large.pdf", "wb") as f:
        f.write(data)


def corrupt_startxref(inp, out):
    data = open(inp, "rb").read()
    at = data.rindex(b"startxref")
    head, tail = data[:at], data[at:]
    old = tail.split()[1]
    # Point into the middle of the first object: a plausible number, wrong data behind it.
    new = b"%d" % (data.index(b" obj") + 7)
    with open(out, "wb") as f:
        f.write(head + tail.replace(old, new, 1))


def main(argv):
    command, args = argv[1], argv[2:]
    if command == "reportlab":
        reportlab_files(*args)
    elif command == "hybrid":
        hybrid_file(*args)
    elif command == "incremental":
        incremental_update(*args)
    elif command == "pyhanko-sign":
        pyhanko_sign(*args[:5], certify=args[5:] == ["certify"])
    elif command == "empty-field":
        empty_field(*args)
    elif command == "handmade":
        handmade_files(*args)
    elif command == "corrupt-startxref":
        corrupt_startxref(*args)
    else:
        sys.exit(f"make_fixtures.py: unknown command {command}")


if __name__ == "__main__":
    main(sys.argv)
