#!/usr/bin/env python3
"""Generate the benchmark inputs for `cargo bench --bench signing` and the pyHanko peer.

Writes three deterministic PDFs (same bytes on every run, fixed seeds, reportlab
invariant mode) into benches/data/generated/ (git-ignored):

  one-page.pdf          a simple one-page text document, a few KB
  image-heavy-10mb.pdf  ~10 MB in five large image streams of seeded random noise
                        (incompressible, so the file stays ~10 MB on disk)
  text-heavy-10mb.pdf   ~10 MB of many small objects: thousands of text pages
                        (~8,000+ indirect objects), classic cross-reference table

Requires reportlab and pillow (both in the project venv: scripts/test's ./.venv or
/tmp/venv). Usage:

  python3 benches/data/make_bench_pdfs.py [--out DIR] [--force]

Each file is checked with `qpdf --check` when qpdf is installed.
"""

import argparse
import hashlib
import io
import random
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

# Raw image bytes, not ASCII85: keeps the image file's size equal to its pixel data.
rl_config.useA85 = 0

DEFAULT_OUT = Path(__file__).resolve().parent / "generated"

IMAGE_COUNT = 5
IMAGE_SIZE = (1000, 666)  # RGB, 1,998,000 bytes each: five make ~10.0 MB
TEXT_PAGES = 4200  # two objects per page (page + content stream) → ~8,400+ objects
TEXT_LINES_PER_PAGE = 21

WORDS = (
    "licence approval seal bureau signature revision document holder issued valid until "
    "registry certificate authority article clause section permit applicant address business "
    "scope capital date stamp official record annex schedule renewal number code unified social "
    "credit the of and to in for with on by at from as under pursuant"
).split()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--force", action="store_true", help="regenerate existing files")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    makers = {
        "one-page.pdf": make_one_page,
        "image-heavy-10mb.pdf": make_image_heavy,
        "text-heavy-10mb.pdf": make_text_heavy,
    }
    for name, make in makers.items():
        path = args.out / name
        if path.exists() and not args.force:
            print(f"{path}: exists (use --force to regenerate)")
        else:
            path.write_bytes(make())
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:16]
        print(f"{path}: {len(data):,} bytes, {count_objects(data):,} objects, sha256 {digest}…")
        check_with_qpdf(path)
    return 0


def make_one_page() -> bytes:
    """A plain one-page letter: a heading and a few paragraphs in Helvetica."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setTitle("oneseal benchmark: one page")
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(72, 770, "Notice of approval")
    pdf.setFont("Helvetica", 11)
    rng = random.Random(1)
    y = 740
    for _ in range(30):
        pdf.drawString(72, y, sentence(rng, 14))
        y -= 16
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_image_heavy() -> bytes:
    """Five pages, each one full-page image of seeded RGB noise (Flate, incompressible)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setTitle("oneseal benchmark: image heavy")
    rng = random.Random(2)
    width, height = A4
    for index in range(IMAGE_COUNT):
        pixels = rng.randbytes(IMAGE_SIZE[0] * IMAGE_SIZE[1] * 3)
        image = Image.frombytes("RGB", IMAGE_SIZE, pixels)
        pdf.drawImage(ImageReader(image), 36, 200, width=width - 72, height=(width - 72) * 0.666)
        pdf.setFont("Helvetica", 11)
        pdf.drawString(72, 100, f"Scan {index + 1} of {IMAGE_COUNT}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_text_heavy() -> bytes:
    """Thousands of short text pages with uncompressed content streams: many small objects."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=0)
    pdf.setTitle("oneseal benchmark: text heavy")
    rng = random.Random(3)
    for page in range(TEXT_PAGES):
        pdf.setFont("Helvetica", 9)
        y = 800
        for _ in range(TEXT_LINES_PER_PAGE):
            pdf.drawString(50, y, sentence(rng, 9))
            y -= 20
        pdf.drawString(280, 30, f"- {page + 1} -")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def count_objects(data: bytes) -> int:
    """Indirect objects in the file, counted as `N 0 obj` headers (reportlab writes one per line)."""
    count = 0
    for line in data.split(b"\n"):
        parts = line.split()
        if len(parts) >= 3 and parts[2] == b"obj" and parts[0].isdigit() and parts[1].isdigit():
            count += 1
    return count


def check_with_qpdf(path: Path) -> None:
    if shutil.which("qpdf") is None:
        print("  qpdf not installed: skipped `qpdf --check`")
        return
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"qpdf --check {path} failed:\n{result.stdout}{result.stderr}")
    print("  qpdf --check: no syntax or stream encoding errors")


if __name__ == "__main__":
    sys.exit(main())
