# Generates the three api_requests inputs of A1 (docs/fuzzing.md): a department uploads the food
# licence with a manifest change that only the issuer's own values notice (the serial box
# narrowed to 30 pt, or the issue date's), the admin approves that version, a clerk issues the
# example. Before the fix the bundle passed validation and every issuance answered 500 after its
# serial was taken. Usage: issuer_fields.py OUTDIR [serial|date] (default serial); writes
# api_requests-<kind>-box-{1-submit,2-approve,3-issue}.bin.
import json, os, sys

out = sys.argv[1]
kind = sys.argv[2] if len(sys.argv) > 2 else "serial"
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../templates/food-business-licence")
manifest = open(os.path.join(root, "template.toml"), "rb").read()
example = open(os.path.join(root, "example.json"), "rb").read()
old = {"serial": b"box = [630.0, 410.3, 144.0, 21.0]", "date": b"box = [627.5, 96.3, 146.5, 21.0]"}[kind]
new = {"serial": b"box = [630.0, 410.3, 30.0, 21.0]", "date": b"box = [627.5, 96.3, 30.0, 21.0]"}[kind]
assert old in manifest
manifest = manifest.replace(old, new)
body = b""
for name, content, ctype in [("template.pdf", b"$BLANK", b"application/pdf"),
                             ("template.toml", manifest, b"application/toml"),
                             ("example.json", example, b"application/json")]:
    body += (b"--XFUZZ\r\nContent-Disposition: form-data; name=\"" + name.encode() + b"\"; filename=\""
             + name.encode() + b"\"\r\nContent-Type: " + ctype + b"\r\n\r\n" + content + b"\r\n")
body += b"--XFUZZ--\r\n"
issue = json.dumps({"template": "food-business-licence", "data": json.loads(example)},
                   ensure_ascii=False).encode()
steps = {
    # byte 0: route (0 POST templates, 2 approve, 4 POST certificates); byte 1: token | type << 3
    "1-submit": bytes([0, 1 | 2 << 3]) + b"\0" + body,            # department, multipart
    "2-approve": bytes([2, 4]) + b"food-business-licence|2\0",     # admin
    "3-issue": bytes([4, 3 | 1 << 3]) + b"\0" + issue,             # issuer, JSON
}
for step, data in steps.items():
    open(os.path.join(out, f"api_requests-{kind}-box-{step}.bin"), "wb").write(data)
