# Generates the tests/data/fuzz/pdf_open-* input of the same idea (docs/fuzzing.md, findings).
import zlib, sys
head = bytearray(b"%PDF-1.7\n")
pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"
body = b"1 0 2 34 "
first = len(body)
body += b"<< /Type /Catalog /Pages 2 0 R >> " + pages
data = zlib.compress(body)
o = {}
o[3] = len(head); head += b"3 0 obj\n" + page + b"\nendobj\n"
# The object stream's /Length is object 1, which lives inside this very stream.
o[5] = len(head); head += b"5 0 obj\n<< /Type /ObjStm /N 2 /First %d /Filter /FlateDecode /Length 1 0 R >>\nstream\n" % first + data + b"\nendstream\nendobj\n"
o[6] = len(head)
rows = [b"\x00\x00\x00\x00\xff\xff", b"\x02\x00\x00\x00\x05\x00", b"\x02\x00\x00\x00\x05\x01", b"\x01" + o[3].to_bytes(4,"big") + b"\x00", b"\x00"*6, b"\x01" + o[5].to_bytes(4,"big") + b"\x00", b"\x01" + o[6].to_bytes(4,"big") + b"\x00"]
x = b"".join(rows)
head += b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 1] /Root 1 0 R /Length %d >>\nstream\n" % len(x) + x + b"\nendstream\nendobj\n"
head += b"startxref\n%d\n%%%%EOF\n" % o[6]
open(sys.argv[1], "wb").write(bytes(head))
