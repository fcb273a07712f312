# Generates the tests/data/fuzz/pdf_open-* input of the same idea (docs/fuzzing.md, findings).
# A page tree whose /Kids names one large empty /Pages node N times before the real page: every
# visit re-reads and re-parses that node from the file bytes (nothing caches objects in the file).
import sys
n = int(sys.argv[2]); pad = int(sys.argv[3])
def classic(objs):
    body = bytearray(b"%PDF-1.7\n")
    offsets = {}
    for num, data in objs:
        offsets[num] = len(body)
        body += b"%d 0 obj\n" % num + data + b"\nendobj\n"
    xref_at = len(body)
    size = max(offsets) + 1
    body += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for k in range(1, size):
        body += b"%010d 00000 n \n" % offsets[k]
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref_at)
    return bytes(body)
kids = b"4 0 R " * n + b"3 0 R"
pdf = classic([
    (1, b"<< /Type /Catalog /Pages 2 0 R >>"),
    (2, b"<< /Type /Pages /Kids [" + kids + b"] /Count 1 >>"),
    (3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"),
    (4, b"<< /Type /Pages /Kids [] /Count 0 /Pad <" + b"00" * pad + b"> >>"),
])
open(sys.argv[1], "wb").write(pdf)
