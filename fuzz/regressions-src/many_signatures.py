# verify_pdf: many signature fields (each a direct dictionary with a distinct /ByteRange, so none
# is deduplicated) on a document whose first revision is costly to describe (a page whose /Annots
# names one widget `annots` times). verify() calls changes::after for every signature, and each
# call rebuilds changes::Context from the base revision (page tree, every annotation, /AP) from
# scratch; find_signatures also compares every new /ByteRange with every one found before.
# usage: many_signatures.py OUT [signatures=3000] [annots=10000]
import sys

import pdfbuild
out = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
annots = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
def classic(objs):
    return pdfbuild.classic(objs)[0]
fields = b"".join(b"<</T(s%d)/FT/Sig/V<</ByteRange[0 %d 0 0]/Contents<>>>>>" % (i, i + 1) for i in range(count))
objs = [
    (1, b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [" + fields + b"] >> >>"),
    (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
    (3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Annots [" + b"5 0 R " * annots + b"] >>"),
    (4, b"<< /Length 0 >>\nstream\n\nendstream"),
    (5, b"<< /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /AP << /N 6 0 R >> >>"),
    (6, b"<< /Type /XObject /Subtype /Form /BBox [0 0 0 0] /Length 0 >>\nstream\n\nendstream"),
]
open(out, "wb").write(classic(objs))
