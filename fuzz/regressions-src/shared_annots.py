# verify_pdf: a page tree whose /Kids names the same page `pages` times, and that page's /Annots
# (one shared array) names one widget with an /AP `annots` times. changes::Context::new (built
# from the signed revision) walks page_ids(100_000) and, for every page entry, resolves the
# annotation array and every annotation in it (take(10_000)): pages x annots resolves, each
# cloning the array, up to 10^9 per signature.
# usage: shared_annots.py OUT [pages=20000] [annots=10000]
import sys

import pdfbuild
out = sys.argv[1]
pages = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
annots = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
def classic(objs):
    return pdfbuild.classic(objs)[0]
objs = [
    (1, b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [<</T(s)/FT/Sig/V<</ByteRange[0 1 0 0]/Contents<>>>>>] >> >>"),
    (2, b"<< /Type /Pages /Kids [" + b"3 0 R " * pages + b"] /Count %d >>" % pages),
    (3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots 4 0 R >>"),
    (4, b"[" + b"5 0 R " * annots + b"]"),
    (5, b"<< /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /AP << /N 6 0 R >> >>"),
    (6, b"<< /Type /XObject /Subtype /Form /BBox [0 0 0 0] /Length 0 >>\nstream\n\nendstream"),
]
open(out, "wb").write(classic(objs))
