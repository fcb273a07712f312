#!/usr/bin/env python3
"""Turn one benchmark run into the tables of BENCHMARKS.md.

Reads criterion's estimates (target/criterion/<group>/<file>/new/estimates.json), the pyHanko
peer's JSON and hyperfine's JSON from the same run; prints Markdown: per file the medians of
oneseal's `sign_pdf` and of a prepared `Seal::sign`, the floor (SHA-256 pass + one ECDSA P-256
signature + copy and 20 KB revision), ratios to the floor, pyHanko's median and oneseal/pyHanko;
then the interleaved comparison the bench makes (ONESEAL_BENCH_PAIRED), on which the verdicts
rest because load from elsewhere hits both sides of its ratios alike; then each target, met or
missed, with the figure.

With --verify-peer and --verify-paired (from `cargo bench --bench verification` and
benches/peers/pyhanko_validate.py in the same run) it then prints the same for verification:
`verify` per file, the floor (SHA-256 pass over the signed file + 2 × ECDSA P-256 verify), the
ratio, pyHanko's `validate_pdf_signature` median and oneseal/pyHanko, the interleaved comparison,
and the verification targets.

Then, always, issuance (from `cargo bench --bench issuance` and, with --issue-peer,
benches/peers/pyhanko_issue.py): per template oneseal's `issue` median and issuances/s, its parts
(`render`: data drawn on the blank with the font subset and QR code, no signature; `font_subset`
alone; `issue` − `render`: checking the data and signing), pyHanko's median for the same job and
oneseal/pyHanko, and the target of ≥ 500 issuances/s on one core per template. Whatever is
missing is reported as not measured.

Without --peer and --paired the signing tables are left out.

Usage:
  python benches/peers/report.py --criterion target/criterion --peer PEER.json \\
      --paired PAIRED.json --cli CLI.json \\
      [--verify-peer VALIDATE.json --verify-paired VERIFY_PAIRED.json] \\
      [--issue-peer ISSUE.json]
"""

import argparse
import json
import sys
from pathlib import Path

FILES = ["one-page.pdf", "image-heavy-10mb.pdf", "text-heavy-10mb.pdf"]
# Ratio of oneseal's median to the floor that each file must stay within.
FLOOR_TARGETS = {"one-page.pdf": 3.0, "image-heavy-10mb.pdf": 1.3, "text-heavy-10mb.pdf": 2.0}
CLI_TARGET_MS = 10.0
# Verification: the issue's one-page target, within 3x of the floor, "i.e." ≥ 5,000/s on one core.
VERIFY_FLOOR_TARGETS = {"one-page.pdf": 3.0}
VERIFY_RATE_TARGET = 5_000
ECDSA_VERIFICATIONS = 2
# Issuance (issue 4): at least 500 issuances per second on one core, per template.
ISSUE_RATE_TARGET = 500


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--criterion", type=Path, default=Path("target/criterion"))
    parser.add_argument("--peer", type=Path, help="pyhanko_sign.py --json output")
    parser.add_argument("--paired", type=Path, help="the bench's ONESEAL_BENCH_PAIRED output")
    parser.add_argument("--cli", type=Path, help="hyperfine --export-json output")
    parser.add_argument("--verify-peer", type=Path, help="pyhanko_validate.py --json output")
    parser.add_argument("--verify-paired", type=Path,
                        help="the verification bench's ONESEAL_BENCH_VERIFY_PAIRED output")
    parser.add_argument("--issue-peer", type=Path, help="pyhanko_issue.py --json output")
    args = parser.parse_args()

    if bool(args.peer) != bool(args.paired):
        parser.error("--peer and --paired go together")
    if args.peer and args.paired:
        signing_report(args)
        if args.verify_peer and args.verify_paired:
            print()
            verification_report(args.criterion, args.verify_peer, args.verify_paired)
        print()
    issuance_report(args.criterion, args.issue_peer)
    return 0


def signing_report(args: argparse.Namespace) -> None:
    peer = json.loads(args.peer.read_text())["files"]
    paired = json.loads(args.paired.read_text())
    ecdsa_ms = median_ms(args.criterion, "floor_ecdsa_p256", "sign")
    rows, paired_rows, verdicts = [], [], []
    for name in FILES:
        sign_ms = median_ms(args.criterion, "sign_pdf", name)
        seal_ms = median_ms(args.criterion, "seal_sign", name)
        sha_ms = median_ms(args.criterion, "floor_sha256", name)
        copy_ms = median_ms(args.criterion, "floor_copy_revision", name)
        floor_ms = sha_ms + ecdsa_ms + copy_ms
        peer_ms = peer[name]["median_ms"]
        size_mb = peer[name]["bytes"] / 1e6
        size = f"{size_mb:.2f} MB" if size_mb >= 1 else f"{peer[name]['bytes'] / 1e3:.1f} kB"
        rows.append(
            f"| {name} | {size} | {fmt(sign_ms)} | {fmt(seal_ms)} "
            f"| {fmt(floor_ms)} = {fmt(sha_ms)} + {fmt(ecdsa_ms)} + {fmt(copy_ms)} "
            f"| {sign_ms / floor_ms:.2f}x | {seal_ms / floor_ms:.2f}x "
            f"| {fmt(peer_ms)} | {sign_ms / peer_ms:.4f} ({peer_ms / sign_ms:,.0f}x faster) |"
        )
        pair = paired[name]
        ratio, seal_ratio = pair["sign_pdf_over_floor"], pair["seal_sign_over_floor"]
        paired_rows.append(
            f"| {name} | {fmt(pair['sign_pdf_ns'] / 1e6)} | {fmt(pair['seal_sign_ns'] / 1e6)} "
            f"| {fmt(pair['floor_ns'] / 1e6)} | {ratio:.2f}x | {seal_ratio:.2f}x | {pair['rounds']} |"
        )
        limit = FLOOR_TARGETS[name]
        verdicts.append(
            verdict(f"{name}: within {limit}x of the floor", ratio <= limit, seal_ratio <= limit,
                    f"sign_pdf {ratio:.2f}x; Seal::sign {seal_ratio:.2f}x (interleaved); "
                    f"criterion {sign_ms / floor_ms:.2f}x / {seal_ms / floor_ms:.2f}x")
        )
        if name == "one-page.pdf":
            sign_rate, seal_rate = 1e9 / pair["sign_pdf_ns"], 1e9 / pair["seal_sign_ns"]
            verdicts.append(
                verdict("one-page.pdf: ≥ 10,000 signatures/s on one core", sign_rate >= 10_000,
                        seal_rate >= 10_000,
                        f"sign_pdf {sign_rate:,.0f}/s; Seal::sign {seal_rate:,.0f}/s (interleaved); "
                        f"criterion {1e3 / sign_ms:,.0f}/s / {1e3 / seal_ms:,.0f}/s")
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

    print("| file | size | oneseal `sign_pdf` median | `Seal::sign` median "
          "| floor = SHA-256 + ECDSA + copy | `sign_pdf` / floor | `Seal::sign` / floor "
          "| pyHanko median | `sign_pdf` / pyHanko |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print()
    print("Interleaved (each round times `sign_pdf`, `Seal::sign` and the floor back to back; "
          "medians over rounds, the ratio is the median of per-round ratios):")
    print()
    print("| file | `sign_pdf` | `Seal::sign` | floor | `sign_pdf` / floor | `Seal::sign` / floor "
          "| rounds |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(paired_rows))
    print()
    print("| target | measured | verdict |")
    print("|---|---:|---|")
    print("\n".join(verdicts))


def verification_report(criterion: Path, peer_path: Path, paired_path: Path) -> None:
    peer = json.loads(peer_path.read_text())["files"]
    paired = json.loads(paired_path.read_text())
    ecdsa_ms = median_ms(criterion, "verify_floor_ecdsa_p256", "verify")
    rows, paired_rows, verdicts = [], [], []
    for name in FILES:
        verify_ms = median_ms(criterion, "verify", name)
        sha_ms = median_ms(criterion, "verify_floor_sha256", name)
        floor_ms = sha_ms + ECDSA_VERIFICATIONS * ecdsa_ms
        peer_ms = peer[name]["median_ms"]
        size_mb = peer[name]["bytes"] / 1e6
        size = f"{size_mb:.2f} MB" if size_mb >= 1 else f"{peer[name]['bytes'] / 1e3:.1f} kB"
        speed = (f"{peer_ms / verify_ms:,.1f}x faster" if verify_ms <= peer_ms
                 else f"{verify_ms / peer_ms:,.2f}x slower")
        rows.append(
            f"| signed-{name} | {size} | {fmt(verify_ms)} "
            f"| {fmt(floor_ms)} = {fmt(sha_ms)} + 2 × {fmt(ecdsa_ms)} "
            f"| {verify_ms / floor_ms:.2f}x | {fmt(peer_ms)} | {verify_ms / peer_ms:.4f} ({speed}) |"
        )
        pair = paired[name]
        ratio = pair["verify_over_floor"]
        paired_rows.append(
            f"| signed-{name} | {fmt(pair['verify_ns'] / 1e6)} | {fmt(pair['floor_ns'] / 1e6)} "
            f"= {fmt(pair['sha256_ns'] / 1e6)} + 2 × {fmt(pair['ecdsa_verify_ns'] / 1e6)} "
            f"| {ratio:.2f}x | {pair['rounds']} |"
        )
        if name in VERIFY_FLOOR_TARGETS:
            limit = VERIFY_FLOOR_TARGETS[name]
            verdicts.append(
                f"| {name}: `verify` within {limit}x of the floor | {ratio:.2f}x (interleaved); "
                f"criterion {verify_ms / floor_ms:.2f}x | {'met' if ratio <= limit else 'MISSED'} |"
            )
            rate = 1e9 / pair["verify_ns"]
            verdicts.append(
                f"| {name}: ≥ {VERIFY_RATE_TARGET:,} verifications/s on one core "
                f"| {rate:,.0f}/s (interleaved); criterion {1e3 / verify_ms:,.0f}/s "
                f"| {'met' if rate >= VERIFY_RATE_TARGET else 'MISSED'} |"
            )

    print("Verification, criterion medians:")
    print()
    print("| file | size | oneseal `verify` median | floor = SHA-256 + 2 × ECDSA verify "
          "| `verify` / floor | pyHanko median | `verify` / pyHanko |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print()
    print("Verification, interleaved (each round times `verify`, the SHA-256 pass and two ECDSA "
          "verifications back to back; medians over rounds, the ratio is the median of per-round "
          "ratios):")
    print()
    print("| file | `verify` | floor = SHA-256 + 2 × ECDSA verify | `verify` / floor | rounds |")
    print("|---|---:|---:|---:|---:|")
    print("\n".join(paired_rows))
    print()
    print("| target | measured | verdict |")
    print("|---|---:|---|")
    print("\n".join(verdicts))


def issuance_report(criterion: Path, peer_path: Path | None) -> None:
    """The Issuance table; never exits: what is missing is said to be not measured."""
    peer = {}
    if peer_path is not None:
        try:
            peer = json.loads(peer_path.read_text())["templates"]
        except (OSError, ValueError, KeyError) as error:
            print(f"(pyHanko issuance peer not read: {peer_path}: {error})", file=sys.stderr)
    issue_dir = criterion / "issue"
    measured = sorted(p.name for p in issue_dir.iterdir()
                      if (p / "new" / "estimates.json").is_file()) if issue_dir.is_dir() else []
    templates = sorted(set(measured) | set(peer))

    print("Issuance, criterion medians (one e-licence end to end: check the data, draw it on "
          "the blank with a per-document font subset and QR code, certify with DocMDP P=1):")
    print()
    if not templates:
        print("Not measured: no target/criterion/issue/<template>/ and no pyHanko issuance "
              "results (run `cargo bench --bench issuance` and benches/peers/pyhanko_issue.py).")
        print()
        print("| target | measured | verdict |")
        print("|---|---:|---|")
        print(f"| ≥ {ISSUE_RATE_TARGET} issuances/s on one core | not measured | not claimed |")
        return

    rows, verdicts = [], []
    for name in templates:
        issue_ms = optional_median_ms(criterion, "issue", name)
        render_ms = optional_median_ms(criterion, "render", name)
        subset_ms = optional_median_ms(criterion, "font_subset", name)
        rest_ms = issue_ms - render_ms if issue_ms is not None and render_ms is not None else None
        peer_ms = peer.get(name, {}).get("median_ms")
        rate = 1e3 / issue_ms if issue_ms else None
        if issue_ms is not None and peer_ms is not None:
            speed = (f"{peer_ms / issue_ms:,.0f}x faster" if issue_ms <= peer_ms
                     else f"{issue_ms / peer_ms:,.2f}x slower")
            ratio = f"{issue_ms / peer_ms:.4f} ({speed})"
        else:
            ratio = "not measured"
        met = "not measured" if rate is None else ("met" if rate >= ISSUE_RATE_TARGET else "MISSED")
        rows.append(
            f"| {name} | {fmt_or_none(issue_ms)} | {rate_or_none(rate)} | {fmt_or_none(render_ms)} "
            f"| {fmt_or_none(subset_ms)} | {fmt_or_none(rest_ms)} | {fmt_or_none(peer_ms)} "
            f"| {rate_or_none(1e3 / peer_ms if peer_ms else None)} | {ratio} | {met} |"
        )
        measured_text = ("not measured" if issue_ms is None
                         else f"{rate_or_none(rate)} (criterion median {fmt(issue_ms)})")
        verdicts.append(
            f"| {name}: ≥ {ISSUE_RATE_TARGET} issuances/s on one core | {measured_text} "
            f"| {'not claimed' if rate is None else met} |"
        )

    print("| template | oneseal `issue` median | issuances/s | `render` | `font_subset` "
          "| `issue` − `render` (check + sign) | pyHanko median | pyHanko issuances/s "
          f"| `issue` / pyHanko | ≥ {ISSUE_RATE_TARGET}/s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    print()
    print("| target | measured | verdict |")
    print("|---|---:|---|")
    print("\n".join(verdicts))


def optional_median_ms(root: Path, group: str, bench: str) -> float | None:
    path = root / group / bench / "new" / "estimates.json"
    try:
        return json.loads(path.read_text())["median"]["point_estimate"] / 1e6
    except (OSError, ValueError, KeyError):
        return None


def fmt_or_none(ms: float | None) -> str:
    return "not measured" if ms is None else fmt(ms)


def rate_or_none(rate: float | None) -> str:
    if rate is None:
        return "not measured"
    return f"{rate:.2f}/s" if rate < 10 else f"{rate:,.0f}/s"


def verdict(target: str, met: bool, met_prepared: bool, measured: str) -> str:
    """Judged on `sign_pdf`, the specified API; says so when only the prepared Seal meets it."""
    if met:
        word = "met"
    elif met_prepared:
        word = "MISSED by `sign_pdf`; met by `Seal::sign`"
    else:
        word = "MISSED"
    return f"| {target} | {measured} | {word} |"


def median_ms(root: Path, group: str, bench: str) -> float:
    path = root / group / bench / "new" / "estimates.json"
    try:
        estimates = json.loads(path.read_text())
    except OSError as error:
        target = "verification" if group.startswith("verify") else "signing"
        sys.exit(f"{path}: {error}; run `cargo bench --bench {target}` first")
    return estimates["median"]["point_estimate"] / 1e6


def fmt(ms: float) -> str:
    if ms < 1:
        return f"{ms * 1e3:.1f} µs"
    return f"{ms:.2f} ms"


if __name__ == "__main__":
    sys.exit(main())
