# Generates tests/data/fuzz/template_inputs-kids-array-copies.bin (docs/fuzzing.md, T2): byte 1,
# then a blank whose root /Kids names one empty /Pages node KIDS times before the page, the node
# carrying an array of ITEMS integers. F4 made each object parsed once, but every read still
# copied it: finding page 1 copied the node KIDS times. Usage: kids_array_copies.py OUT KIDS ITEMS
import sys

import pdfbuild

out, kids, items = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pdf = pdfbuild.classic([
    (1, b"<< /Type /Catalog /Pages 2 0 R >>"),
    (2, b"<< /Type /Pages /Kids [" + b"4 0 R " * kids + b"3 0 R] /Count 1 >>"),
    (3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"),
    (4, b"<< /Type /Pages /Kids [] /Count 0 /Pad [" + b"0 " * items + b"] >>"),
])[0]
open(out, "wb").write(b"\x01" + pdf)
