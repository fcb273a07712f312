#!/usr/bin/env python3
"""Turn one benchmark run into the tables of BENCHMARKS.md.

Reads criterion's estimates (target/criterion/<group>/<file>/new/estimates.json), the pyHanko
peer's JSON and hyperfine's JSON from the same run; prints Markdown: per file oneseal median,
floor (SHA-256 pass + one ECDSA P-256 signature + copy and 20 KB revision), ratio to floor,
pyHanko median and oneseal/pyHanko; then each target, met or missed, with the figure.

Usage:
  python benches/peers/report.py --criterion target/criterion --peer PEER.json --cli CLI.json
"""

import argparse
import json
import sys
from pathlib import Path

FILES = ["one-page.pdf", "image-heavy-10mb.pdf", "text-heavy-10mb.pdf"]
# Ratio of oneseal's median to the floor that each file must stay within.
FLOOR_TARGETS = {"one-page.pdf": 3.0, "image-heavy-10mb.pdf": 1.3, "text-heavy-10mb.pdf": 2.0}
CLI_TARGET_MS = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--criterion", type=Path, default=Path("target/criterion"))
    parser.add_argument("--peer", type=Path, required=True, help="pyhanko_sign.py --json output")
    parser.add_argument("--cli", type=Path, help="hyperfine --export-json output")
    args = parser.parse_args()

    peer = json.loads(args.peer.read_text())["files"]
    ecdsa_ms = median_ms(args.criterion, "floor_ecdsa_p256", "sign")
    rows, verdicts = [], []
    for name in FILES:
        sign_ms = median_ms(args.criterion, "sign_pdf", name)
        sha_ms = median_ms(args.criterion, "floor_sha256", name)
        copy_ms = median_ms(args.criterion, "floor_copy_revision", name)
        floor_ms = sha_ms + ecdsa_ms + copy_ms
        ratio = sign_ms / floor_ms
        peer_ms = peer[name]["median_ms"]
        size_mb = peer[name]["bytes"] / 1e6
        size = f"{size_mb:.2f} MB" if size_mb >= 1 else f"{peer[name]['bytes'] / 1e3:.1f} kB"
        rows.append(
            f"| {name} | {size} | {fmt(sign_ms)} | {size_mb / sign_ms * 1e3:,.0f} MB/s "
            f"| {fmt(floor_ms)} ({fmt(sha_ms)} + {fmt(ecdsa_ms)} + {fmt(copy_ms)}) "
            f"| {ratio:.2f}x | {fmt(peer_ms)} | {sign_ms / peer_ms:.3f} ({peer_ms / sign_ms:,.0f}x faster) |"
        )
        limit = FLOOR_TARGETS[name]
        verdicts.append(
            f"| {name}: within {limit}x of the floor | {ratio:.2f}x | {'met' if ratio <= limit else 'MISSED'} |"
        )
        if name == "one-page.pdf":
            per_second = 1e3 / sign_ms
            verdicts.append(
                f"| one-page.pdf: ≥ 10,000 signatures/s on one core | {per_second:,.0f}/s "
                f"| {'met' if per_second >= 10_000 else 'MISSED'} |"
            )

    if args.cli and args.cli.exists():
        result = json.loads(args.cli.read_text())["results"][0]
        cli_ms = result["median"] * 1e3
        verdicts.append(
            f"| cold CLI `oneseal sign one-page.pdf` < {CLI_TARGET_MS:.0f} ms wall | {cli_ms:.2f} ms median "
            f"(mean {result['mean'] * 1e3:.2f} ± {result['stddev'] * 1e3:.2f} ms) "
            f"| {'met' if cli_ms < CLI_TARGET_MS else 'MISSED'} |"
        )
    else:
        verdicts.append("| cold CLI < 10 ms wall | not measured | not claimed |")

    print("| file | size | oneseal median | throughput | floor (sha256 + ecdsa + copy) "
          "| oneseal / floor | pyHanko median | oneseal / pyHanko |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print()
    print("| target | measured | verdict |")
    print("|---|---:|---|")
    print("\n".join(verdicts))
    return 0


def median_ms(root: Path, group: str, bench: str) -> float:
    path = root / group / bench / "new" / "estimates.json"
    try:
        estimates = json.loads(path.read_text())
    except OSError as error:
        sys.exit(f"{path}: {error}; run `cargo bench --bench signing` first")
    return estimates["median"]["point_estimate"] / 1e6


def fmt(ms: float) -> str:
    if ms < 1:
        return f"{ms * 1e3:.1f} µs"
    return f"{ms:.2f} ms"


if __name__ == "__main__":
    sys.exit(main())
