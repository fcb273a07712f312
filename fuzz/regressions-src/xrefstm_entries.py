# Generates the tests/data/fuzz/pdf_open-* input of the same idea (docs/fuzzing.md, findings).
import zlib, sys
decoded = int(sys.argv[2])
head = bytearray(b"%PDF-1.7\n")
# One xref stream of `decoded` one-byte rows, each type 1 (in file at offset 0): the entry
# list is built in full before the /Size-independent max_objects check refuses it.
data = zlib.compress(b"\x01" * decoded, 9)
s = len(head)
head += b"1 0 obj\n<< /Type /XRef /Size %d /W [1 0 0] /Root 1 0 R /Filter /FlateDecode /Length %d >>\nstream\n" % (decoded, len(data)) + data + b"\nendstream\nendobj\n"
head += b"startxref\n%d\n%%%%EOF\n" % s
open(sys.argv[1], "wb").write(bytes(head))
