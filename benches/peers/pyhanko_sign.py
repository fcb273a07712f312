#!/usr/bin/env python3
"""The peer: pyHanko signing the benchmark PDFs in-process, bytes in, bytes out.

Loads one signer from the same key and certificate PEMs as `cargo bench --bench signing`
(`signers.SimpleSigner.load`), then for each file times the whole job that `sign_pdf` does:
parse the input from memory, append a PAdES signature (/SubFilter /ETSI.CAdES.detached) as an
incremental update, and produce the output bytes. Prints per-file median and mean in ms and,
with --json, writes them for scripts/bench.

Usage:
  python benches/peers/pyhanko_sign.py [--data DIR] [--keys DIR] [--budget SECONDS] [--json OUT]
"""

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

ROOT = Path(__file__).resolve().parents[2]
FILES = ["one-page.pdf", "image-heavy-10mb.pdf", "text-heavy-10mb.pdf"]
WARMUP = 2
MIN_RUNS = 10
MAX_RUNS = 2000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "benches/data/generated")
    parser.add_argument("--keys", type=Path, default=ROOT / "keys-example")
    parser.add_argument("--budget", type=float, default=8.0, help="seconds of timing per file")
    parser.add_argument("--json", type=Path, help="write results here as JSON")
    args = parser.parse_args()

    signer = load_signer(args.keys)

    results = {}
    for name in FILES:
        path = args.data / name
        if not path.exists():
            sys.exit(f"{path} missing: run benches/data/make_bench_pdfs.py first")
        data = path.read_bytes()
        times = time_signing(data, signer, args.budget)
        results[name] = {
            "bytes": len(data),
            "runs": len(times),
            "median_ms": statistics.median(times) * 1e3,
            "mean_ms": statistics.fmean(times) * 1e3,
            "min_ms": min(times) * 1e3,
        }
        r = results[name]
        print(
            f"pyhanko {name:<22} median {r['median_ms']:9.3f} ms  mean {r['mean_ms']:9.3f} ms  "
            f"min {r['min_ms']:9.3f} ms  ({r['runs']} runs)"
        )

    if args.json:
        meta = {"pyhanko": version("pyHanko"), "python": platform.python_version()}
        args.json.write_text(json.dumps({"meta": meta, "files": results}, indent=2))
    return 0


def load_signer(keys: Path) -> signers.SimpleSigner:
    """SimpleSigner.load wants the seal certificate alone, so the PEM chain is split first."""
    chain = (keys / "seal-cert.pem").read_text()
    end = "-----END CERTIFICATE-----"
    blocks = [block + end + "\n" for block in chain.split(end) if "BEGIN CERTIFICATE" in block]
    if not blocks:
        sys.exit(f"{keys / 'seal-cert.pem'} holds no certificate")
    with tempfile.TemporaryDirectory() as scratch:
        seal_cert = Path(scratch, "seal.pem")
        seal_cert.write_text(blocks[0])
        issuers = Path(scratch, "issuers.pem")
        issuers.write_text("".join(blocks[1:]))
        signer = signers.SimpleSigner.load(
            str(keys / "seal-key.pem"),
            str(seal_cert),
            ca_chain_files=[str(issuers)] if len(blocks) > 1 else None,
            key_passphrase=None,
        )
    if signer is None:
        sys.exit(f"pyHanko could not load the seal from {keys}")
    return signer


def sign_once(data: bytes, signer: signers.SimpleSigner) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    meta = signers.PdfSignatureMetadata(
        field_name="Seal1", subfilter=fields.SigSeedSubFilter.PADES
    )
    output = BytesIO()
    signers.sign_pdf(writer, meta, signer=signer, output=output)
    return output.getvalue()


def time_signing(data: bytes, signer: signers.SimpleSigner, budget: float) -> list[float]:
    """Warm up, then repeat until the budget is spent (at least MIN_RUNS times)."""
    for _ in range(WARMUP):
        signed = sign_once(data, signer)
    if not signed.startswith(data) or len(signed) <= len(data):
        sys.exit("pyHanko did not append an incremental update")
    times = []
    deadline = time.perf_counter() + budget
    while len(times) < MIN_RUNS or (time.perf_counter() < deadline and len(times) < MAX_RUNS):
        start = time.perf_counter()
        sign_once(data, signer)
        times.append(time.perf_counter() - start)
    return times


if __name__ == "__main__":
    sys.exit(main())
