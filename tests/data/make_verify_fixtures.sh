#!/usr/bin/env bash
# Generates the fixtures of the verifier tests (tests/verification.rs) into OUTDIR (default
# tests/data/generated/verify/): throwaway CAs made with openssl, files signed by pyHanko and by
# Poppler's pdfsig (NSS), and a few damaged ones. Runs after make_fixtures.sh, whose rl-*.pdf it
# signs (from OUTDIR/..). tests/data/README.md says what each file is. Needs PYTHON= the venv python.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${1:-$HERE/generated/verify}"
PYTHON="${PYTHON:-$HERE/../../.venv/bin/python}"
case "$PYTHON" in /*) ;; *) PYTHON="$PWD/$PYTHON" ;; esac
PY() { "$PYTHON" "$HERE/make_verify_fixtures.py" "$@"; }

rm -rf "$OUT"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
SRC="$(cd "$OUT/.." && pwd)"
for input in rl-basic.pdf rl-acroform.pdf; do
    [ -f "$SRC/$input" ] || { echo "make_verify_fixtures.sh: $SRC/$input missing (run make_fixtures.sh first)" >&2; exit 1; }
done
cd "$OUT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# --- Throwaway CAs -----------------------------------------------------------------------------
# root.pem issues every signer below; other-root.pem is an unrelated root (the wrong trust anchor).
root() { # NAME CN
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$2" -keyout "$1-key.pem" -out "$1.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
root root "Throwaway verify fixture root"
root other-root "Throwaway unrelated root"

# `openssl ca` with a minimal config: it can set notBefore/notAfter in the past (OpenSSL 3.0's
# `openssl x509 -req` cannot) and the serial number.
cat >"$WORK/ca.cnf" <<'EOF'
[ca]
default_ca = fixture
[fixture]
database = index.txt
serial = serial
new_certs_dir = .
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
[seal]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
[tsa]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
[encipher_only]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyEncipherment
EOF
issue() { # NAME KEYSPEC CN EXTENSIONS SERIAL START END
    local name=$1 keyspec=$2 cn=$3 ext=$4 serial=$5 start=$6 end=$7
    openssl req -newkey "$keyspec" -nodes -subj "/CN=$cn" -keyout "$name-key.pem" -out "$WORK/$name.csr" 2>/dev/null
    (cd "$WORK" && : >index.txt && echo "$serial" >serial &&
        openssl ca -batch -config ca.cnf -cert "$OUT/root.pem" -keyfile "$OUT/root-key.pem" -in "$name.csr" \
            -out "$OUT/$name.pem" -extensions "$ext" -startdate "$start" -enddate "$end" -notext 2>/dev/null)
}
NOW_MINUS_DAY="$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)"
IN_TEN_YEARS="$(date -u -d '10 years' +%Y%m%d%H%M%SZ)"
issue signer-rsa rsa:2048 "Verify fixture signer RSA" seal 1001 "$NOW_MINUS_DAY" "$IN_TEN_YEARS"
openssl ecparam -name prime256v1 -out "$WORK/p256.pem"
issue signer-ec "ec:$WORK/p256.pem" "Verify fixture signer P-256" seal 1002 \
    "$NOW_MINUS_DAY" "$IN_TEN_YEARS"
# Same issuer, subject and serial as signer-rsa, another key: its stand-in in pyh-substituted-cert.pdf.
issue signer-twin rsa:2048 "Verify fixture signer RSA" seal 1001 "$NOW_MINUS_DAY" "$IN_TEN_YEARS"
issue signer-expired rsa:2048 "Verify fixture signer expired" seal 1003 20200101000000Z 20210101000000Z
issue signer-nokeyusage rsa:2048 "Verify fixture signer keyEncipherment only" encipher_only 1004 \
    "$NOW_MINUS_DAY" "$IN_TEN_YEARS"
# A time-stamping authority (RSA: pyHanko's in-process test TSA signs with RSA only).
issue tsa rsa:2048 "Verify fixture TSA" tsa 1005 "$NOW_MINUS_DAY" "$IN_TEN_YEARS"

# --- Signed by pyHanko -------------------------------------------------------------------------
PY sign "$SRC/rl-basic.pdf" pyh-rsa.pdf signer-rsa PyhRSA pades
PY sign "$SRC/rl-basic.pdf" pyh-ec.pdf signer-ec PyhECDSA pades
PY sign "$SRC/rl-basic.pdf" pyh-pkcs7.pdf signer-rsa PyhPKCS7 pkcs7
PY sign "$SRC/rl-basic.pdf" pyh-pss.pdf signer-rsa PyhPSS pss
PY sign "$SRC/rl-basic.pdf" pyh-pss-salt32.pdf signer-rsa PyhPSS32 pss-salt32
PY sign "$SRC/rl-acroform.pdf" pyh-certified-p1.pdf signer-rsa PyhCertP1 certify-1
PY sign "$SRC/rl-acroform.pdf" pyh-certified-p2.pdf signer-rsa PyhCertP2 certify-2
PY fill-field pyh-certified-p1.pdf pyh-certified-p1-filled.pdf applicant "Filled after certification"
PY fill-field pyh-certified-p2.pdf pyh-certified-p2-filled.pdf applicant "Filled after certification"
PY sign "$SRC/rl-basic.pdf" pyh-expired.pdf signer-expired PyhExpired pades
PY sign "$SRC/rl-basic.pdf" pyh-nokeyusage.pdf signer-nokeyusage PyhNoKeyUsage pades
PY substitute-cert pyh-rsa.pdf signer-twin.pem pyh-substituted-cert.pdf
# B-T (signature timestamp) and a document timestamp (ETSI.RFC3161) over pyh-rsa.pdf.
PY sign-bt "$SRC/rl-basic.pdf" pyh-bt.pdf signer-rsa PyhBT
PY doc-timestamp pyh-rsa.pdf pyh-doc-timestamp.pdf

# --- Signed by Poppler (pdfsig, NSS) -------------------------------------------------------------
# adbe.pkcs7.detached: pdfsig 22.12 says "-etsi is not supported yet with -add-signature".
nss="$WORK/nss"
mkdir "$nss"
certutil -N -d "sql:$nss" --empty-password
openssl pkcs12 -export -inkey signer-rsa-key.pem -in signer-rsa.pem -certfile root.pem -name poppler-signer \
    -passout pass:fixture -out "$WORK/signer.p12"
pk12util -i "$WORK/signer.p12" -d "sql:$nss" -W fixture >/dev/null
pdfsig -add-signature -nssdir "sql:$nss" -nick poppler-signer -new-signature-field-name PopplerSig \
    -reason "Signed by Poppler pdfsig (fixture)" "$SRC/rl-basic.pdf" poppler-pkcs7.pdf 2>&1 |
    { grep -v 'NSS_Shutdown failed' || true; } >&2
[ -s poppler-pkcs7.pdf ] || { echo "make_verify_fixtures.sh: pdfsig wrote no poppler-pkcs7.pdf" >&2; exit 1; }

# --- Damaged signed files (the verifier must refuse to read them: exit status 2) ------------------
head -c "$(($(stat -c %s pyh-rsa.pdf) * 2 / 3))" pyh-rsa.pdf >pyh-rsa-truncated.pdf
qpdf --encrypt '' owner 256 -- pyh-rsa.pdf pyh-rsa-encrypted.pdf

rm -f -- *.csr
