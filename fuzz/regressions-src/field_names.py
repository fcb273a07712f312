# verify_pdf / sign_pdf: a field tree whose fully qualified names grow with depth (ISO 32000-2
# §12.7.4: parent.child). Levels 1..depth are one object each, every level's /Kids names the next
# level `fanout` times, and every level has a /T of `length` bytes, so the tree is a DAG of a few
# objects that unfolds to fanout^depth nodes. form_fields (src/pdf/form.rs) stops at 50 000
# visits, but before that it stores each visited node's full name (depth x length bytes) in
# `fields` and clones it onto the stack once per kid.
# usage: field_names.py OUT [depth=32] [fanout=2] [length=4000]
import sys

import pdfbuild
out = sys.argv[1]
depth = int(sys.argv[2]) if len(sys.argv) > 2 else 32
fanout = int(sys.argv[3]) if len(sys.argv) > 3 else 2
length = int(sys.argv[4]) if len(sys.argv) > 4 else 4000
def classic(objs):
    return pdfbuild.classic(objs)[0]
first = 5
objs = [
    (1, b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [%d 0 R] >> >>" % first),
    (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
    (3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"),
    (4, b"<< /Length 0 >>\nstream\n\nendstream"),
]
name = b"(" + b"N" * length + b")"
for level in range(depth):
    number = first + level
    if level + 1 < depth:
        kids = b" /Kids [" + (b"%d 0 R " % (number + 1)) * fanout + b"]"
    else:
        kids = b" /FT /Sig"
    objs.append((number, b"<< /T " + name + kids + b" >>"))
open(out, "wb").write(classic(objs))
