# Generates tests/data/fuzz/template_inputs-shared-annotation.bin (docs/fuzzing.md, T2): byte 1,
# then a blank whose page's /Annots names one annotation ANNOTS times, the annotation carrying an
# array of ITEMS integers: reading the annotation rectangles copied it ANNOTS times. /Kids lists
# the page PAGES times (the page tree walk reads it once; 1 is enough).
# Usage: shared_annotation.py OUT PAGES ANNOTS ITEMS
import sys

import pdfbuild

out, pages, annots, items = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
pdf = pdfbuild.classic([
    (1, b"<< /Type /Catalog /Pages 2 0 R >>"),
    (2, b"<< /Type /Pages /Kids [" + b"3 0 R " * pages + b"] /Count %d >>" % pages),
    (3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots 4 0 R >>"),
    (4, b"[" + b"5 0 R " * annots + b"]"),
    (5, b"<< /Type /Annot /Subtype /Square /Rect [0 0 9 9] /Pad [" + b"0 " * items + b"] >>"),
])[0]
open(out, "wb").write(b"\x01" + pdf)
