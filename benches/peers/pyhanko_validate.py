#!/usr/bin/env python3
"""The peer: pyHanko validating the benchmark PDFs signed by oneseal, in-process, from memory.

Reads the files `cargo bench --bench verification` writes (benches/data/generated/signed-<name>,
signed once with keys-example/), then for each file times the whole job that `verify` does:
parse the file from memory (`PdfFileReader(BytesIO(data))`), and `validate_pdf_signature` on
every embedded signature (integrity, signature value, path to the root, difference analysis of
later revisions). The trust context is `ValidationContext(trust_roots=[root],
allow_fetching=False, revocation_mode='soft-fail')` at the bench's validation time (the seal
certificate's notBefore + 10 minutes + 1 day); it is built afresh in every run, since pyHanko
caches path validations in it and `verify` keeps no such cache. Prints per-file median and mean
in ms and, with --json, writes them for scripts/bench.

Usage:
  python benches/peers/pyhanko_validate.py [--data DIR] [--keys DIR] [--root PEM]
      [--budget SECONDS] [--json OUT]
"""

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import timedelta
from importlib.metadata import version
from io import BytesIO
from pathlib import Path

from pyhanko.keys import load_cert_from_pemder, load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

ROOT = Path(__file__).resolve().parents[2]
FILES = ["one-page.pdf", "image-heavy-10mb.pdf", "text-heavy-10mb.pdf"]
WARMUP = 2
MIN_RUNS = 10
MAX_RUNS = 2000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "benches/data/generated")
    parser.add_argument("--keys", type=Path, default=ROOT / "keys-example")
    parser.add_argument("--root", type=Path, default=ROOT / "certs/example-root-ca.pem",
                        help="the trust anchor (PEM or DER)")
    parser.add_argument("--budget", type=float, default=8.0, help="seconds of timing per file")
    parser.add_argument("--json", type=Path, help="write results here as JSON")
    args = parser.parse_args()

    root = load_cert_from_pemder(str(args.root))
    # The seal certificate is the first of the chain PEM.
    seal = next(iter(load_certs_from_pemder([str(args.keys / "seal-cert.pem")])))
    moment = seal.not_valid_before + timedelta(minutes=10) + timedelta(days=1)

    def context() -> ValidationContext:
        return ValidationContext(
            trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail", moment=moment
        )

    results = {}
    for name in FILES:
        path = args.data / f"signed-{name}"
        if not path.exists():
            sys.exit(f"{path} missing: run `cargo bench --bench verification` first "
                     "(it writes the signed files)")
        data = path.read_bytes()
        times = time_validation(data, context, args.budget, name)
        results[name] = {
            "bytes": len(data),
            "runs": len(times),
            "median_ms": statistics.median(times) * 1e3,
            "mean_ms": statistics.fmean(times) * 1e3,
            "min_ms": min(times) * 1e3,
        }
        r = results[name]
        print(
            f"pyhanko validate {name:<22} median {r['median_ms']:9.3f} ms  "
            f"mean {r['mean_ms']:9.3f} ms  min {r['min_ms']:9.3f} ms  ({r['runs']} runs)"
        )

    if args.json:
        meta = {
            "pyhanko": version("pyHanko"),
            "certvalidator": version("pyhanko-certvalidator"),
            "python": platform.python_version(),
            "moment": moment.isoformat(),
        }
        args.json.write_text(json.dumps({"meta": meta, "files": results}, indent=2))
    return 0


def validate_once(data: bytes, context) -> list:
    reader = PdfFileReader(BytesIO(data))
    return [validate_pdf_signature(sig, context()) for sig in reader.embedded_signatures]


def time_validation(data: bytes, context, budget: float, name: str) -> list[float]:
    """Check the verdict, warm up, then repeat until the budget is spent (≥ MIN_RUNS times)."""
    for _ in range(WARMUP):
        statuses = validate_once(data, context)
    if len(statuses) != 1 or not all(s.bottom_line for s in statuses):
        summaries = "; ".join(s.summary() for s in statuses) or "no signature"
        sys.exit(f"pyHanko does not pass signed-{name}: {summaries}")
    times = []
    deadline = time.perf_counter() + budget
    while len(times) < MIN_RUNS or (time.perf_counter() < deadline and len(times) < MAX_RUNS):
        start = time.perf_counter()
        validate_once(data, context)
        times.append(time.perf_counter() - start)
    return times


if __name__ == "__main__":
    sys.exit(main())
