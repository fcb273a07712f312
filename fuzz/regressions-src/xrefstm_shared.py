# Generates the tests/data/fuzz/pdf_open-* input of the same idea (docs/fuzzing.md, findings).
import zlib, sys
sections = int(sys.argv[2]); decoded = int(sys.argv[3])
head = bytearray(b"%PDF-1.7\n")
o1 = len(head); head += b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
o2 = len(head); head += b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
# One hybrid xref stream: `decoded` one-byte rows, all free, compressed ~1000:1.
data = zlib.compress(b"\x00" * decoded, 9)
s = len(head)
head += b"3 0 obj\n<< /Type /XRef /Size %d /W [1 0 0] /Filter /FlateDecode /Length %d >>\nstream\n" % (decoded, len(data)) + data + b"\nendstream\nendobj\n"
# `sections` empty classic sections chained by /Prev, every one naming the same /XRefStm.
prev = None
for i in range(sections):
    at = len(head)
    if i == 0:
        head += b"xref\n0 4\n0000000000 65535 f \n%010d 00000 n \n%010d 00000 n \n%010d 00000 n \n" % (o1, o2, s)
    else:
        head += b"xref\n"
    head += b"trailer\n<< /Size 4 /Root 1 0 R /XRefStm %d" % s
    if prev is not None:
        head += b" /Prev %d" % prev
    head += b" >>\n"
    prev = at
head += b"startxref\n%d\n%%%%EOF\n" % prev
open(sys.argv[1], "wb").write(bytes(head))
