#!/usr/bin/env bash
# Generates the test fixtures into OUTDIR (default tests/data/generated/) from several real producers:
# reportlab, Ghostscript, qpdf, pypdf, pyHanko, and a hand-built hybrid-reference file.
# tests/data/README.md says what each file is. Needs PYTHON= a venv python with the pinned tools.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${1:-$HERE/generated}"
PYTHON="${PYTHON:-$HERE/../../.venv/bin/python}"
PY() { "$PYTHON" "$HERE/make_fixtures.py" "$@"; }

rm -rf "$OUT"
mkdir -p "$OUT"
cd "$OUT"

# --- Producers -------------------------------------------------------------------------------
PY reportlab .                                  # rl-basic, rl-cjk, rl-multipage, rl-acroform
gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=pdfwrite -sOutputFile=gs-pdfwrite.pdf "$HERE/sample.ps"
PY hybrid hybrid-xrefstm.pdf
PY handmade .                                   # hm-*.pdf

# --- qpdf transforms -------------------------------------------------------------------------
qpdf --object-streams=generate rl-basic.pdf qpdf-objstm.pdf
qpdf --object-streams=disable --force-version=1.3 gs-pdfwrite.pdf qpdf-v13-classic.pdf
qpdf --linearize rl-multipage.pdf qpdf-linearized.pdf
qpdf --linearize --object-streams=generate rl-cjk.pdf qpdf-linearized-objstm.pdf
qpdf --qdf --object-streams=disable gs-pdfwrite.pdf qpdf-qdf.pdf
qpdf --force-version=2.0 rl-acroform.pdf qpdf-pdf20.pdf

# --- Earlier revisions and signatures ----------------------------------------------------------
PY incremental rl-basic.pdf pypdf-incremental.pdf

# A throwaway RSA CA (not oneseal's keys) for the pyHanko-made signatures. The seal certificate has
# nonRepudiation (pyHanko's default policy wants it) and no EKU (Poppler's NSS check wants that).
ca=pyhanko-ca
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Throwaway fixture root (pyHanko)" \
    -keyout "$ca-key.pem" -out "$ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=Throwaway fixture signer (pyHanko)" \
    -keyout pyhanko-signer-key.pem -out pyhanko-signer.csr 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n' >signer.ext
openssl x509 -req -in pyhanko-signer.csr -CA "$ca.pem" -CAkey "$ca-key.pem" -CAcreateserial -days 3650 \
    -extfile signer.ext -out pyhanko-signer.pem 2>/dev/null
rm -f pyhanko-signer.csr signer.ext "$ca.srl"
PY pyhanko-sign rl-multipage.pdf pyhanko-signed.pdf pyhanko-signer-key.pem pyhanko-signer.pem "$ca.pem"
PY pyhanko-sign rl-acroform.pdf pyhanko-certified.pdf pyhanko-signer-key.pem pyhanko-signer.pem "$ca.pem" certify
PY empty-field rl-basic.pdf pyhanko-emptyfield.pdf
PY empty-field rl-acroform.pdf acroform-emptyfield.tmp.pdf
PY pyhanko-sign acroform-emptyfield.tmp.pdf pyhanko-certified-emptyfield.pdf pyhanko-signer-key.pem \
    pyhanko-signer.pem "$ca.pem" certify
rm acroform-emptyfield.tmp.pdf

# --- Inputs oneseal must refuse ----------------------------------------------------------------
printf 'This is a plain text file, not a PDF.\n' >refuse-not-pdf.txt
: >refuse-empty.pdf
{ printf 'JUNKJUNK\r\n'; cat rl-basic.pdf; } >refuse-junk-prefix.pdf
head -c "$(($(stat -c %s rl-multipage.pdf) / 2))" rl-multipage.pdf >refuse-truncated.pdf
head -c "$(($(stat -c %s qpdf-objstm.pdf) / 2))" qpdf-objstm.pdf >refuse-truncated-objstm.pdf
PY corrupt-startxref rl-basic.pdf refuse-bad-startxref.pdf
qpdf --encrypt user owner 256 -- rl-basic.pdf refuse-encrypted-aes256.pdf
qpdf --encrypt '' owner 256 -- rl-basic.pdf refuse-encrypted-empty-user.pdf
qpdf --allow-weak-crypto --encrypt '' owner 128 --use-aes=n -- gs-pdfwrite.pdf refuse-encrypted-rc4.pdf
