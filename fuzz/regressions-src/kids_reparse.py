# Generates the tests/data/fuzz/pdf_open-* input of the same idea (docs/fuzzing.md, findings).
# A page tree whose /Kids names one large empty /Pages node N times before the real page: every
# visit re-reads and re-parses that node from the file bytes (nothing caches objects in the file).
import sys

import pdfbuild
n = int(sys.argv[2]); pad = int(sys.argv[3])
def classic(objs):
    return pdfbuild.classic(objs)[0]
kids = b"4 0 R " * n + b"3 0 R"
pdf = classic([
    (1, b"<< /Type /Catalog /Pages 2 0 R >>"),
    (2, b"<< /Type /Pages /Kids [" + kids + b"] /Count 1 >>"),
    (3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"),
    (4, b"<< /Type /Pages /Kids [] /Count 0 /Pad <" + b"00" * pad + b"> >>"),
])
open(sys.argv[1], "wb").write(pdf)
