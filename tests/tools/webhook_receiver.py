#!/usr/bin/env python3
"""A webhook receiver for the results-feed tests, written with Python's standard library only, so
that oneseal's signatures are checked by an implementation we did not write (Python's hmac).

Usage: webhook_receiver.py DIR

Listens on 127.0.0.1 on a free port and prints "listening on PORT" once ready. For every POST it
appends one JSON line to DIR/received.jsonl: the path, the event id and kind (from the body),
whether X-Oneseal-Signature verified with the secret of that path in DIR/secrets.json (a map of
path to secret; the key is the secret's UTF-8 bytes, as the service hands it out), whether the
headers agree with the body, the status answered, and the time. It answers 503 while the file
DIR/down exists (a receiver that is down), 400 to a bad signature or body, else 200.
"""

import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


def signature_ok(secret: bytes, header: str, body: bytes) -> bool:
    """t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>: checked as a receiver would."""
    parts = {}
    for item in header.split(","):
        name, _, value = item.partition("=")
        parts.setdefault(name.strip(), []).append(value.strip())
    timestamps = parts.get("t", [])
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    expected = hmac.new(secret, timestamps[0].encode() + b"." + body, hashlib.sha256).hexdigest()
    # The timestamp is the system clock (not the bureau's shiftable one): within a day of ours.
    if abs(int(timestamps[0]) - time.time()) > 86400:
        return False
    return any(hmac.compare_digest(expected, tag) for tag in parts.get("v1", []))


class Receiver(BaseHTTPRequestHandler):
    directory = "."

    def do_POST(self):  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        secrets_path = os.path.join(self.directory, "secrets.json")
        secrets = json.load(open(secrets_path, encoding="utf-8")) if os.path.exists(secrets_path) else {}
        secret = secrets.get(self.path, "").encode()
        verified = bool(secret) and signature_ok(
            secret, self.headers.get("X-Oneseal-Signature", ""), body
        )
        try:
            event = json.loads(body)
        except ValueError:
            event = {}
        header_id = self.headers.get("X-Oneseal-Event-Id")
        header_kind = self.headers.get("X-Oneseal-Event-Kind")
        consistent = (
            isinstance(event, dict)
            and str(event.get("id")) == header_id
            and event.get("kind") == header_kind
            and self.headers.get("Content-Type", "").startswith("application/json")
            and sorted(event) == ["data", "departments", "id", "kind", "subject", "time"]
        )
        if os.path.exists(os.path.join(self.directory, "down")):
            status = 503
        elif not (verified and consistent):
            status = 400
        else:
            status = 200
        record = {
            "path": self.path,
            "id": event.get("id") if isinstance(event, dict) else None,
            "kind": event.get("kind") if isinstance(event, dict) else None,
            "subject": event.get("subject") if isinstance(event, dict) else None,
            "departments": event.get("departments") if isinstance(event, dict) else None,
            "signature_ok": verified,
            "consistent": consistent,
            "status": status,
            "at": time.time(),
        }
        with open(os.path.join(self.directory, "received.jsonl"), "a", encoding="utf-8") as log:
            log.write(json.dumps(record, ensure_ascii=False) + "\n")
        answer = b'{"ok": true}' if status == 200 else b'{"ok": false}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def main():
    Receiver.directory = sys.argv[1]
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
