# Generates the two api_requests inputs of A2 (docs/fuzzing.md): a department uploads the food
# licence as a version signed off by 住房和城乡建设局 and then sealed automatically, the admin
# approves it, a clerk opens a 容缺 request (one material missing, a signed commitment) and the
# admin lists the applicant as dishonest; then the department's reviewer approves, the clerk
# records the missing material, the reviewer approves again and the request is read. Before the
# fix the first approval answered 200 with a seal_error and left the request `sealing` for
# good (no seal, no materials, no issuer's seal). Usage: barred_automatic_seal.py OUTDIR; writes
# api_requests-barred-automatic-seal-{1-open,2-approve}.bin.
import json, os, sys

out = sys.argv[1]
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../templates/food-business-licence")
manifest = open(os.path.join(root, "template.toml"), "rb").read()
example = open(os.path.join(root, "example.json"), "rb").read()
assert b"sign_off = []" in manifest
manifest = manifest.replace(
    b"sign_off = []",
    "sign_off = [\"住房和城乡建设局\"]\nseal_after_sign_off = \"automatic\"".encode())
body = b""
for name, content, ctype in [("template.pdf", b"$BLANK", b"application/pdf"),
                             ("template.toml", manifest, b"application/toml"),
                             ("example.json", example, b"application/json")]:
    body += (b"--XFUZZ\r\nContent-Disposition: form-data; name=\"" + name.encode() + b"\"; filename=\""
             + name.encode() + b"\"\r\nContent-Type: " + ctype + b"\r\n\r\n" + content + b"\r\n")
body += b"--XFUZZ--\r\n"
js = lambda value: json.dumps(value, ensure_ascii=False).encode()
opening = js({"template": "food-business-licence", "data": json.loads(example),
              "missing_materials": ["从业人员健康证明"],
              "commitment": {"signatory": "李建国", "signed_on": "2026-11-26"}})
listing = js({"credit_code": "91410700MA47U3K26U", "name": "华辰", "reason": "失信"})
approve = js({"decision": "approve"})
# byte 0: route (0 POST templates, 2 approve, 29 open request, 31 read request, 32 sign-off,
# 34 materials, 38 list); byte 1: token | content type << 3 | Authorization form << 6, where
# token 6 with bit 6 set is the 住房和城乡建设局 reviewer (form 1, "bearer   T  ").
steps = {
    "1-open": [bytes([0, 1 | 2 << 3]) + b"\0" + body,             # department, multipart
               bytes([2, 4]) + b"$I|$V\0",                        # admin approves it
               bytes([29, 3 | 1 << 3]) + b"\0" + opening,         # issuer opens ($N)
               bytes([38, 4 | 1 << 3]) + b"\0" + listing],        # admin lists the applicant
    "2-approve": [bytes([32, 6 | 1 << 3 | 1 << 6]) + b"$N\0" + approve,
                  bytes([34, 3 | 1 << 3]) + b"$N\0" + js({"materials": ["从业人员健康证明"]}),
                  bytes([32, 6 | 1 << 3 | 1 << 6]) + b"$N\0" + approve,
                  bytes([31, 3]) + b"$N\0"],
}
for name, requests in steps.items():
    path = os.path.join(out, f"api_requests-barred-automatic-seal-{name}.bin")
    open(path, "wb").write(b"\n#NEXT#\n".join(requests))
