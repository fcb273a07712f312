#!/usr/bin/env bash
# Builds the seed corpora under fuzz/corpus/ (gitignored) from the templates and test fixtures
# plus a few small hand-built PDFs; `bash fuzz/seed.sh template_inputs` builds only that
# target's. Run from anywhere; needs python3.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

# --- template_inputs ------------------------------------------------------------------------
# The first byte picks the reader (fuzz/fuzz_targets/template_inputs.rs): 00 + a template.toml,
# 01 + a blank template.pdf (the shipped ones and the hostile bundle fixtures), 02 + issuance
# JSON for the food-business-licence manifest (every example.json, and variants of the food
# one: rare characters, long wrapped values, dates, credit codes, escapes, wrong types).
# `bash fuzz/seed.sh template_inputs` builds this corpus only (no fixtures, no signing).
seed_template_inputs() {
    local dir="$here/corpus/template_inputs" f name
    mkdir -p "$dir"
    for f in "$root"/templates/*/template.toml; do
        name="$(basename "$(dirname "$f")")"
        { printf '\x00'; cat "$f"; } > "$dir/00-$name.toml"
    done
    for f in "$root"/templates/*/template.pdf; do
        name="$(basename "$(dirname "$f")")"
        { printf '\x01'; cat "$f"; } > "$dir/01-$name.pdf"
    done
    for f in "$root"/tests/data/bundles/hostile/*.pdf; do
        { printf '\x01'; cat "$f"; } > "$dir/01-hostile-$(basename "$f")"
    done
    for f in "$root"/templates/*/example.json; do
        name="$(basename "$(dirname "$f")")"
        { printf '\x02'; cat "$f"; } > "$dir/02-$name.json"
    done
    python3 - "$root/templates/food-business-licence/example.json" "$dir" <<'PY'
import json, sys
example, out = json.load(open(sys.argv[1], encoding="utf-8")), sys.argv[2]
def save(name, value, raw=None):
    data = raw if raw is not None else json.dumps(value, ensure_ascii=False).encode()
    open(f"{out}/02-food-{name}.json", "wb").write(b"\x02" + data)
def variant(name, **changes):
    value = dict(example)
    for key, text in changes.items():
        if text is None:
            value.pop(key, None)
        else:
            value[key] = text
    save(name, value)
variant("rare-names", legal_rep="王𠇔", operator_name="新乡市喆堃𠇔食品有限公司",
        supervisor="新乡市堃喆第一监管所")
variant("ascii-name", legal_rep="Zhang Zhe", operator_name="Xinxiang Huachen Foods Co., Ltd.")
variant("long-multiline", operator_name="河南省新乡市喆堃" * 7 + "有限公司",
        residence="河南省新乡市（经开区）" * 6, premises="Room 1208, Building 7, No. 188 " * 2,
        business_items="预包装食品（含冷藏冷冻食品）销售；" * 16 + "散装食品销售。")
variant("latin-words", business_items="prepackaged-food retail; bulk/food@example.cn " * 6 +
        "Supercalifragilisticexpialidocious" * 3)
variant("punctuation-runs", business_items="《（【“" * 20 + "”】）》，。" * 20,
        operator_name="，，，，。。。。））））")
variant("newlines", business_items="一、预包装食品销售\r\n二、散装食品销售\n\n\n三、热食类食品制售",
        operator_name="华辰\n食品")
variant("dates-leap", valid_until="2028-02-29")
variant("dates-bad", valid_until="2031-02-30")
variant("dates-range", valid_until="2200-12-31")
variant("dates-old", valid_until="1899-12-31")
variant("dates-short", valid_until="2031-1-5")
variant("credit-code-bad-check", credit_code="91410700MA47U3K26A")
variant("credit-code-lower", credit_code="91410700ma47u3k26u")
variant("credit-code-other", credit_code="91410700MA9H2DRW9H")
variant("control-chars", operator_name="华辰\u001b[2J食品", legal_rep="张\u0000喆")
variant("missing", credit_code=None, valid_until=None, business_items="")
variant("issuer-fields", licence_no="JY14107000000001", issue_date="2026-11-26", seal="x", extra="y")
variant("whitespace", operator_name="   \u3000华辰食品\u3000   ", supervisor="\t监管所\t")
variant("emoji-missing-glyph", operator_name="华辰食品🍜", legal_rep="张\ue000")
save("wrong-types", {"operator_name": 5, "credit_code": None, "legal_rep": ["张喆"],
                     "valid_until": {"y": 2031}, "supervisor": True})
save("escapes", None, raw=b'{"operator_name": "\\u534e\\u8fb0\\ud840\\udc94", "legal_rep": "\\ud83d"}')
save("duplicate-keys", None, raw=json.dumps(example, ensure_ascii=False).encode()[:-1]
     + b', "legal_rep": "\xe5\xa0\x83\xe5\x96\x86"}')
save("nested", None, raw=b"[" * 200 + b"]" * 200)
save("numbers", None, raw=b'{"operator_name": 1e999, "legal_rep": -0.0e-400}')
PY
    echo "seeded $(ls "$dir" | wc -l) inputs into $dir"
}
# --- api_requests ---------------------------------------------------------------------------
# One valid request (and a few near misses) per route of http::router, and a few sequences, in
# the layout of fuzz/fuzz_targets/api_requests.rs: byte 0 the route, byte 1 token | content
# type << 3, then `target NUL body`. The food licence's bundle as a multipart body (once with `$BLANK`, once
# with the blank's own bytes), its example.json as issuance data, and a real licence issued with
# the target itself (its first licence, written where ONESEAL_FUZZ_WRITE_ISSUED says, when the
# target is built: `cargo +nightly fuzz build -s none api_requests`) for POST /api/v1/verify.
# `bash fuzz/seed.sh api_requests` builds this corpus only.
seed_api_requests() {
    local dir="$here/corpus/api_requests" work issued=""
    mkdir -p "$dir"
    work="$(mktemp -d)"
    local target="${CARGO_TARGET_DIR:-$here/target}/x86_64-unknown-linux-gnu/release/api_requests"
    if [ -x "$target" ]; then
        printf '\x13\x00' > "$work/healthz"
        if ONESEAL_FUZZ_WRITE_ISSUED="$work/issued.pdf" TMPDIR="$work" "$target" "$work/healthz" \
                >/dev/null 2>&1 && [ -s "$work/issued.pdf" ]; then
            issued="$work/issued.pdf"
        fi
    fi
    [ -n "$issued" ] || echo "api_requests is not built: the verify seeds use its \$PDF markers only" >&2
    python3 - "$root" "$dir" "$issued" <<'PY'
import json, os, sys
root, out, issued = sys.argv[1], sys.argv[2], sys.argv[3]
food = os.path.join(root, "templates/food-business-licence")
read = lambda *p: open(os.path.join(*p), "rb").read()
manifest, blank, example = read(food, "template.toml"), read(food, "template.pdf"), read(food, "example.json")
ROUTES = ["POST templates", "GET templates", "approve", "blank", "issue", "search", "certificate",
          "certificate pdf", "revoke", "audit", "audit verify", "create token", "tokens",
          "revoke token", "seal certificate", "verify", "verify page", "certificate page",
          "static", "healthz", "metrics", "openapi", "GET", "POST", "PUT", "DELETE", "HEAD",
          "OPTIONS", "PATCH", "open request", "requests", "request", "sign-off", "seal",
          "materials", "calendar", "calendar day", "blacklist", "list", "unlist", "applicant",
          "report"]
TOKENS = ["none", "department", "reviewer", "issuer", "admin", "auditor", "other", "revoked"]
TYPES = ["none", "json", "multipart", "pdf", "octet", "text", "multipart-bare", "json-utf8"]
n = 0
def token_bits(token, auth):
    # "housing", the 住房和城乡建设局 reviewer, is token 6 with bit 6 of byte 1 set.
    return (6, auth | 1) if token == "housing" else (TOKENS.index(token), auth)
def save(route, token, ctype, target=b"", body=b"", auth=0, tag=""):
    global n
    r, c = ROUTES.index(route), TYPES.index(ctype)
    t, auth = token_bits(token, auth)
    data = bytes([r, t | c << 3 | auth << 6]) + target + b"\0" + body
    name = f"{r:02d}-{route.replace(' ', '-')}-{token}-{ctype}{'-' + tag if tag else ''}"
    open(os.path.join(out, name), "wb").write(data)
    n += 1
def multipart(parts):
    body = b""
    for name, content, ctype in parts:
        body += b"--XFUZZ\r\nContent-Disposition: form-data; name=\"" + name.encode()
        body += b"\"; filename=\"" + name.encode() + b"\"\r\nContent-Type: " + ctype + b"\r\n\r\n"
        body += content + b"\r\n"
    return body + b"--XFUZZ--\r\n"
bundle = [("template.pdf", b"$BLANK", b"application/pdf"), ("template.toml", manifest, b"application/toml"),
          ("example.json", example, b"application/json")]
save("POST templates", "department", "multipart", body=multipart(bundle))
save("POST templates", "department", "multipart", body=multipart([("template.pdf", blank, b"application/pdf")] + bundle[1:]), tag="full")
save("POST templates", "department", "multipart", body=multipart(bundle[:2]), tag="missing")
save("POST templates", "department", "multipart", body=multipart(bundle + bundle[2:]), tag="twice")
save("POST templates", "other", "multipart", body=multipart(bundle), tag="wrong-department")
save("POST templates", "department", "multipart-bare", body=multipart(bundle), tag="no-boundary")
for name in ("approval-document", "construction-planning-permit"):
    other = os.path.join(root, "templates", name)
    parts = [("template.pdf", read(other, "template.pdf"), b"application/pdf"),
             ("template.toml", read(other, "template.toml"), b"application/toml"),
             ("example.json", read(other, "example.json"), b"application/json")]
    save("POST templates", "department", "multipart", body=multipart(parts), tag=name)
for token in TOKENS:
    save("GET templates", token, "none")
save("approve", "admin", "none", b"food-business-licence|1")
save("approve", "admin", "none", b"$I|$V", tag="last")
save("approve", "admin", "none", b"food-business-licence|2", tag="v2")
save("approve", "admin", "none", b"food-business-licence|x", tag="bad-version")
save("blank", "admin", "none", b"food-business-licence|1")
save("blank", "department", "none", b"food-business-licence|2", tag="v2")
data = json.loads(example)
def issue(body, token="issuer", ctype="json", tag=""):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    save("issue", token, ctype, body=raw, tag=tag)
issue({"template": "food-business-licence", "data": data, "delivery": "window"})
issue({"template": "food-business-licence", "data": data, "delivery": "mail"}, ctype="json-utf8", tag="mail")
issue({"template": "food-business-licence", "data": data}, tag="no-delivery")
issue({"template": "food-business-licence", "data": dict(data, credit_code="91410700MA47U3K26A")}, tag="bad-data")
issue({"template": "food-business-licence", "data": dict(data, operator_name="新乡" * 40)}, tag="long")
issue({"template": "food-business-licence", "data": "text"}, tag="data-string")
issue({"template": "food-business-licence", "data": data, "extra": 1}, tag="unknown-key")
issue({"template": "nope", "data": data}, tag="unknown-template")
issue(b'{"template":"food-business-licence","data":{"operator_name":"a","operator_name":"b"}}', tag="duplicate")
issue({"template": "food-business-licence", "data": data}, token="admin", tag="forbidden")
issue({"template": "food-business-licence", "data": data}, ctype="text", tag="text")
for query in [b"", b"?serial=$S", b"?holder=%E5%8D%8E%E8%BE%B0&limit=5", b"?credit_code=91410700MA47U3K26U",
              b"?template=food-business-licence&from=2026-01-01&until=2099-12-31", b"?limit=0&offset=-1",
              b"?from=2026-02-30", b"?holder=%25_%5C", b"?bogus=1", b"?limit=x"]:
    save("search", "issuer", "none", query, tag=str(n))
save("search", "auditor", "none", b"?serial=$R")
for token in ("issuer", "admin", "auditor", "department"):
    save("certificate", token, "none", b"$S")
save("certificate", "admin", "none", b"$R", tag="revoked")
save("certificate", "admin", "none", b"nope", tag="unknown")
save("certificate pdf", "admin", "none", b"$S")
save("certificate pdf", "issuer", "none", b"$L", tag="latest")
save("revoke", "admin", "json", b"$L", json.dumps({"reason": "经营者申请注销"}, ensure_ascii=False).encode())
save("revoke", "admin", "json", b"$R", b'{"reason":"again"}', tag="again")
save("revoke", "admin", "json", b"$S", b'{"reason":""}', tag="empty")
save("revoke", "admin", "json", b"$S", b'{"reason":"a\u0000b"}', tag="control")
save("revoke", "issuer", "json", b"$S", b'{"reason":"x"}', tag="forbidden")
save("audit", "auditor", "none", b"?after=0&limit=10")
save("audit", "auditor", "none", b"?after=-5&limit=100000", tag="bounds")
save("audit", "admin", "none", tag="forbidden")
save("audit verify", "auditor", "none")
save("create token", "admin", "json", body=b'{"role":"issuer","name":"clerk"}')
save("create token", "admin", "json", body=json.dumps({"role": "department", "department": "市场监督管理局", "name": "科室"}, ensure_ascii=False).encode(), tag="department")
save("create token", "admin", "json", body=b'{"role":"reviewer","name":"r"}', tag="no-department")
save("create token", "admin", "json", body=b'{"role":"root","name":"x"}', tag="bad-role")
save("tokens", "admin", "none")
save("revoke token", "admin", "none", b"$K")
save("revoke token", "admin", "none", b"0123456789abcdef", tag="unknown")
save("seal certificate", "none", "none")
for marker in (b"$PDF:S", b"$PDF:R", b"$PDF:L"):
    save("verify", "none", "pdf", body=marker, tag=marker.decode()[-1])
save("verify", "none", "pdf", body=b"$PDF:S\n% appended\n", tag="appended")
save("verify", "none", "octet", body=b"%PDF-1.7\n%%EOF\n", tag="tiny")
save("verify", "none", "text", body=b"$PDF:S", tag="text")
save("verify", "none", "pdf", tag="empty")
if issued:
    save("verify", "none", "pdf", body=read(issued), tag="issued")
    save("verify", "none", "pdf", body=read(issued)[:-40], tag="issued-truncated")
save("verify page", "none", "none")
for target in (b"$S", b"$R", b"nope", b"%FF"):
    save("certificate page", "none", "none", target, tag=str(n))
for target in (b"oneseal.css", b"verify.js", b"../Cargo.toml"):
    save("static", "none", "none", target, tag=str(n))
save("healthz", "none", "none")
save("metrics", "none", "none")
save("openapi", "none", "none")
save("GET", "admin", "none", b"/api/v1/certificates/$S/pdf")
save("GET", "none", "none", b"/nowhere")
save("POST", "issuer", "json", b"/api/v1/certificates?x=1", b'{"template":"food-business-licence","data":{}}')
save("PUT", "admin", "json", b"/api/v1/templates")
save("DELETE", "admin", "none", b"/api/v1/certificates/$S")
save("HEAD", "none", "none", b"/verify/$S")
save("OPTIONS", "none", "none", b"/api/v1/verify")
save("PATCH", "admin", "json", b"/api/v1/tokens", b"{}")
for auth in (1, 2, 3):
    save("tokens", "admin", "none", auth=auth, tag=f"auth{auth}")
# Sequences (up to four requests joined by \n#NEXT#\n): upload, then approve or fetch the blank
# of that version ($I|$V), then issue from it; issue, then revoke and verify what was issued.
def request(route, token, ctype, target=b"", body=b""):
    r, c = ROUTES.index(route), TYPES.index(ctype)
    t, auth = token_bits(token, 0)
    return bytes([r, t | c << 3 | auth << 6]) + target + b"\0" + body
def sequence(tag, *requests):
    global n
    open(os.path.join(out, f"seq-{tag}"), "wb").write(b"\n#NEXT#\n".join(requests))
    n += 1
upload = request("POST templates", "department", "multipart", body=multipart(bundle))
issue_example = request("issue", "issuer", "json", body=json.dumps(
    {"template": "food-business-licence", "data": data}, ensure_ascii=False).encode())
sequence("upload-approve-issue", upload, request("approve", "admin", "none", b"$I|$V"), issue_example)
sequence("upload-blank-approve-blank", upload, request("blank", "department", "none", b"$I|$V"),
         request("approve", "admin", "none", b"$I|$V"), request("blank", "department", "none", b"$I|$V"))
sequence("issue-revoke-verify", issue_example,
         request("revoke", "admin", "json", b"$L", b'{"reason":"x"}'),
         request("verify", "none", "pdf", body=b"$PDF:L"), request("certificate page", "none", "none", b"$L"))
# Issuance requests (issue 6): $Q the food licence's request, ready for the seal; $W the
# planning permit's, awaiting 住房和城乡建设局; $N the latest opened; $B the last listing.
js = lambda value: json.dumps(value, ensure_ascii=False).encode()
opening = {"template": "food-business-licence", "data": data, "delivery": "window"}
save("open request", "issuer", "json", body=js(opening))
save("open request", "issuer", "json", body=js(dict(opening, missing_materials=["从业人员健康证明"],
     commitment={"signatory": "李建国", "signed_on": "2026-11-26", "reference": "承诺-001"})), tag="rongque")
save("open request", "issuer", "json", body=js(dict(opening, missing_materials=["营业执照"])), tag="unknown-material")
save("open request", "issuer", "json", body=js(dict(opening, missing_materials=["从业人员健康证明"])), tag="no-commitment")
save("open request", "issuer", "json", body=js({"template": "construction-planning-permit",
     "data": json.loads(read(root, "templates/construction-planning-permit/example.json"))}), tag="permit")
save("open request", "reviewer", "json", body=js(opening), tag="forbidden")
for query in [b"", b"?status=review", b"?status=ready&overdue=true", b"?template=food-business-licence&from=2026-01-01&until=2099-12-31&limit=5&offset=0", b"?status=x", b"?overdue=1"]:
    save("requests", "issuer", "none", query, tag=str(n))
save("requests", "housing", "none", tag="reviewer")
for target, token in [(b"$Q", "issuer"), (b"$W", "housing"), (b"$W", "reviewer"), (b"$N", "auditor"), (b"nope", "admin")]:
    save("request", token, "none", target, tag=str(n))
save("sign-off", "housing", "json", b"$W", js({"decision": "approve", "comment": "同意"}))
save("sign-off", "housing", "json", b"$W", js({"decision": "reject", "comment": "设计方案与规划条件不符"}), tag="reject")
save("sign-off", "housing", "json", b"$W", js({"decision": "reject"}), tag="reject-no-reason")
save("sign-off", "reviewer", "json", b"$W", js({"decision": "approve"}), tag="wrong-department")
save("sign-off", "housing", "json", b"$Q", js({"decision": "maybe"}), tag="bad")
save("seal", "issuer", "none", b"$Q")
save("seal", "issuer", "none", b"$W", tag="review")
save("seal", "admin", "none", b"$Q", tag="forbidden")
save("materials", "issuer", "json", b"$N", js({"materials": ["从业人员健康证明"]}))
save("materials", "issuer", "json", b"$Q", js({"materials": []}), tag="empty")
save("calendar", "auditor", "none")
save("calendar day", "admin", "json", b"2026-10-08", js({"kind": "holiday", "name": "国庆节"}))
save("calendar day", "admin", "json", b"2026-10-10", js({"kind": "workday", "name": "调休"}), tag="workday")
save("calendar day", "admin", "json", b"2026-10-08", js({"kind": "normal"}), tag="normal")
save("calendar day", "admin", "json", b"2026-02-30", js({"kind": "holiday"}), tag="bad-day")
save("blacklist", "admin", "none")
save("blacklist", "issuer", "none", b"?credit_code=91410700MA47U3K26U", tag="code")
save("list", "admin", "json", body=js({"credit_code": "91410700MA47U3K26U", "name": "新乡市华辰餐饮管理有限公司",
     "reason": "未按承诺补齐材料", "listed_from": "2026-11-26", "listed_until": "2027-11-25"}))
save("list", "admin", "json", body=js({"credit_code": "bad", "name": "x", "reason": "y"}), tag="bad-code")
save("unlist", "admin", "json", b"$B", js({"reason": "信用修复"}))
save("unlist", "admin", "json", b"nope", js({"reason": ""}), tag="unknown")
save("applicant", "issuer", "none", b"91410700MA47U3K26U")
save("applicant", "auditor", "none", b"9141", tag="short")
for query in [b"", b"?from=2026-01-01&until=2026-12-31", b"?format=csv", b"?format=xml", b"?from=2026-12-31&until=2026-01-01"]:
    save("report", "admin", "none", query, tag=str(n))
sequence("request-sign-off-seal-verify",
         request("sign-off", "housing", "json", b"$W", js({"decision": "approve", "comment": "同意"})),
         request("seal", "issuer", "none", b"$W"), request("seal", "issuer", "none", b"$W"),
         request("verify", "none", "pdf", body=b"$PDF:L"))
sequence("open-seal-twice", request("open request", "issuer", "json", body=js(opening)),
         request("seal", "issuer", "none", b"$N"), request("seal", "issuer", "none", b"$N"),
         request("request", "auditor", "none", b"$N"))
sequence("list-then-rongque",
         request("list", "admin", "json", body=js({"credit_code": "91410700MA47U3K26U", "name": "华辰", "reason": "失信"})),
         request("open request", "issuer", "json", body=js(dict(opening, missing_materials=["从业人员健康证明"],
                 commitment={"signatory": "李建国", "signed_on": "2026-11-26"}))),
         request("applicant", "issuer", "none", b"91410700MA47U3K26U"),
         request("unlist", "admin", "json", b"$B", js({"reason": "信用修复"})))
# The food licence as a version signed off by 住房和城乡建设局 (not its own department, which
# the manifest check refuses) and then sealed automatically: upload, approve, open a request, approve it (the seal follows the sign-off).
automatic = manifest.replace(b"sign_off = []", "sign_off = [\"住房和城乡建设局\"]\nseal_after_sign_off = \"automatic\"".encode())
sequence("automatic-seal",
         request("POST templates", "department", "multipart", body=multipart(
             [bundle[0], ("template.toml", automatic, b"application/toml"), bundle[2]])),
         request("approve", "admin", "none", b"$I|$V"),
         request("open request", "issuer", "json", body=js(opening)),
         request("sign-off", "housing", "json", b"$N", js({"decision": "approve"})))
print(f"seeded {n} inputs into {out}")
PY
    rm -rf "$work"
}
if [ "${1:-all}" = template_inputs ]; then
    seed_template_inputs
    exit 0
fi
if [ "${1:-all}" = api_requests ]; then
    seed_api_requests
    exit 0
fi
seed_template_inputs
seed_api_requests
fixtures="$root/tests/data/generated"
if [ ! -d "$fixtures" ] || ! ls "$fixtures"/*.pdf >/dev/null 2>&1; then
    echo "tests/data/generated is missing; running tests/data/make_fixtures.sh" >&2
    bash "$root/tests/data/make_fixtures.sh"
fi
open_dir="$here/corpus/pdf_open"
sign_dir="$here/corpus/sign_pdf"
made="$here/corpus/handmade"
mkdir -p "$open_dir" "$sign_dir" "$made"

# Small PDFs with correct offsets: a minimal classic file, an empty signature field to fill,
# a DocMDP-certified catalog, an xref stream + object stream, and a two-revision file.
PYTHONPATH="$here/regressions-src" python3 - "$made" <<'PY'
import sys, zlib
out = sys.argv[1]

from pdfbuild import classic

page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> /Contents 4 0 R >>"
content = b"<< /Length 0 >>\nstream\n\nendstream"
pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"

minimal, xref_at = classic([(1, b"<< /Type /Catalog /Pages 2 0 R >>"), (2, pages), (3, page), (4, content)])
open(f"{out}/minimal.pdf", "wb").write(minimal)

sigfield = classic([
    (1, b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] /SigFlags 3 >> >>"),
    (2, pages),
    (3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [5 0 R] /Contents 4 0 R >>"),
    (4, content),
    (5, b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /Rect [0 0 0 0] /F 132 /P 3 0 R >>"),
])[0]
open(f"{out}/empty-sigfield.pdf", "wb").write(sigfield)

certified = classic([
    (1, b"<< /Type /Catalog /Pages 2 0 R /Perms << /DocMDP 6 0 R >> /AcroForm << /Fields [5 0 R] /SigFlags 3 >> >>"),
    (2, pages),
    (3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [5 0 R] /Contents 4 0 R >>"),
    (4, content),
    (5, b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (Cert) /V 6 0 R /Rect [0 0 0 0] /P 3 0 R >>"),
    (6, b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 1 2 3] /Contents <00> /Reference [<< /Type /SigRef /TransformMethod /DocMDP /TransformParams << /Type /TransformParams /P 2 /V /1.2 >> >>] >>"),
])[0]
open(f"{out}/certified-p2.pdf", "wb").write(certified)

# Incremental update on `minimal`: a new Info dictionary, classic table with /Prev.
upd = bytearray(minimal)
info_at = len(upd)
upd += b"5 0 obj\n<< /Title (rev2) >>\nendobj\n"
x2 = len(upd)
upd += b"xref\n0 1\n0000000000 65535 f \n5 1\n%010d 00000 n \n" % info_at
upd += b"trailer\n<< /Size 6 /Root 1 0 R /Info 5 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (xref_at, x2)
open(f"{out}/two-revisions.pdf", "wb").write(bytes(upd))

# Xref stream + object stream holding the catalog and the pages node.
head = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
objstm_body = b"1 0 2 34 "
first = len(objstm_body)
objstm_body += b"<< /Type /Catalog /Pages 2 0 R >> " + pages
data = zlib.compress(objstm_body)
o = {}
o[3] = len(head); head += b"3 0 obj\n" + page + b"\nendobj\n"
o[4] = len(head); head += b"4 0 obj\n" + content + b"\nendobj\n"
o[5] = len(head); head += b"5 0 obj\n<< /Type /ObjStm /N 2 /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (first, len(data)) + data + b"\nendstream\nendobj\n"
o[6] = len(head)
rows = [b"\x00\x00\x00\x00\xff\xff", b"\x02\x00\x00\x00\x05\x00", b"\x02\x00\x00\x00\x05\x01"]
for n in (3, 4, 5, 6):
    rows.append(b"\x01" + o[n].to_bytes(4, "big") + b"\x00")
xdata = zlib.compress(b"".join(rows))
head += b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 1] /Root 1 0 R /Filter /FlateDecode /Length %d >>\nstream\n" % len(xdata) + xdata + b"\nendstream\nendobj\n"
head += b"startxref\n%d\n%%%%EOF\n" % o[6]
open(f"{out}/xrefstm-objstm.pdf", "wb").write(bytes(head))
PY

n=0
for pdf in "$fixtures"/*.pdf "$fixtures"/*.txt "$made"/*.pdf "$root"/benches/data/generated/one-page.pdf; do
    [ -f "$pdf" ] || continue
    name="$(basename "$pdf")"
    cp "$pdf" "$open_dir/$name"
    # sign_pdf's first byte picks the request: plain, certify P=2, visible, named field, all.
    for selector in 00 02 04 10 16 c5; do
        { printf "\\x$selector"; cat "$pdf"; } > "$sign_dir/$selector-$name"
    done
    n=$((n + 1))
done
echo "seeded $n inputs into $open_dir and $sign_dir"

# --- verify_pdf and cms_parse -------------------------------------------------------------
# verify_pdf: the fixtures signed with the test-only fuzz key (trusted by the target) and with
# keys-example (an unknown root: INDETERMINATE), plain, certified, visible, and signed twice;
# plus the pyHanko/Poppler/tampered PDFs of tests/data/generated/verify. cms_parse: the
# /Contents of every signature in those, as DER, read with pypdf (.venv) when it is there.
verify_dir="$here/corpus/verify_pdf"
cms_dir="$here/corpus/cms_parse"
mkdir -p "$verify_dir" "$cms_dir"
oneseal="$root/target/debug/oneseal"
[ -x "$oneseal" ] || (cd "$root" && cargo build --quiet --bin oneseal)
signed=0
for pdf in "$fixtures"/*.pdf "$made"/*.pdf "$root"/benches/data/generated/one-page.pdf; do
    [ -f "$pdf" ] || continue
    name="$(basename "$pdf" .pdf)"
    case "$name" in refuse-*) continue ;; esac
    sign() { "$oneseal" sign "$@" >/dev/null 2>&1; }
    sign "$pdf" --out "$verify_dir/$name-fuzzkey.pdf" --keys "$here/keys" || continue
    sign "$pdf" --out "$verify_dir/$name-example.pdf" --keys "$root/keys-example" || true
    sign "$pdf" --out "$verify_dir/$name-certified.pdf" --keys "$here/keys" --certify || true
    sign "$pdf" --out "$verify_dir/$name-visible.pdf" --keys "$here/keys" \
        --visible 1,72,72,180,60 --reason "审批 approval" --location Xinxiang || true
    sign "$verify_dir/$name-fuzzkey.pdf" --out "$verify_dir/$name-twice.pdf" --keys "$here/keys" || true
    signed=$((signed + 1))
done
# The pyHanko-signed fixtures and the verifier's own fixtures (RSA, ECDSA, PSS, BER, tampered).
for pdf in "$fixtures"/pyhanko-*.pdf "$fixtures"/verify/*.pdf; do
    [ -f "$pdf" ] && cp "$pdf" "$verify_dir/"
done
python="$root/.venv/bin/python"
[ -x "$python" ] || python=python3
"$python" - "$verify_dir" "$cms_dir" <<'PY' || echo "no pypdf: cms_parse seeded from the raw scan only" >&2
import hashlib, os, re, sys
src, out = sys.argv[1], sys.argv[2]
def save(der):
    der = der.rstrip(b"\0") or der
    open(os.path.join(out, hashlib.sha1(der).hexdigest()[:16] + ".der"), "wb").write(der)
n = 0
for name in sorted(os.listdir(src)):
    data = open(os.path.join(src, name), "rb").read()
    # Every hex string right after /Contents (what the ByteRange gap holds), no PDF parsing needed.
    for m in re.finditer(rb"/Contents\s*<([0-9A-Fa-f\s]{200,})>", data):
        try:
            save(bytes.fromhex(m.group(1).decode().replace("\n", "").replace(" ", "")))
            n += 1
        except ValueError:
            pass
try:
    import pypdf
    for name in sorted(os.listdir(src)):
        try:
            reader = pypdf.PdfReader(os.path.join(src, name))
            for field in (reader.get_fields() or {}).values():
                value = field.get("/V")
                value = value.get_object() if value is not None else None
                if hasattr(value, "get") and value.get("/Contents") is not None:
                    save(bytes(value["/Contents"].original_bytes)); n += 1
        except Exception:
            pass
except ImportError:
    pass
print(f"extracted {n} /Contents into {out}")
PY
# A few certificates on their own for the x509-cert half of cms_parse.
for pem in "$here"/keys/seal-cert.pem "$root"/keys-example/*.pem "$fixtures"/verify/*.pem "$fixtures"/pyhanko-*.pem; do
    [ -f "$pem" ] || continue
    case "$pem" in *-key.pem) continue ;; esac
    openssl x509 -in "$pem" -outform DER -out "$cms_dir/cert-$(basename "$pem" .pem).der" 2>/dev/null || true
done
echo "signed $signed fixtures into $verify_dir; $(ls "$cms_dir" | wc -l) inputs in $cms_dir"
