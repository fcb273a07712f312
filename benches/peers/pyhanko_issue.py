#!/usr/bin/env python3
"""The peer: pyHanko issuing the example e-licences in-process, template bundle in, bytes out.

The same job as `cargo bench --bench issuance` (group issue/<template id>), done with pyHanko's
own stamping and signing. Prepared once per run, as a service would hold them: the seal
(`signers.SimpleSigner.load` on the same key and certificate PEMs), the font file's bytes and its
advance widths (for fitting), and per bundle the parsed template.toml, the blank and the
example.json bytes. Each timed issuance then does, for one template:

  1. parse the data (json.loads of example.json's bytes);
  2. open the blank from memory (`IncrementalPdfFileWriter(BytesIO(blank))`);
  3. for every text-kind field (text, multiline, date, credit_code, serial): fit the value to its
     box (one line shrunk from font_size towards min_font_size; multiline wrapped by character
     at the box width, 1.35 line height, shrunk until it fits) and draw it with a `TextStamp`
     whose `TextBoxStyle` font is a `GlyphAccumulatorFactory` on the same OpenType font file,
     `stamp.apply(page, x, y)`; the serial and issue dates are filled as oneseal fills them;
  4. draw the verification URL's QR code with a `QRStamp` at the qr box;
  5. set the document title, subject and author;
  6. certify-sign with `signers.PdfSigner`: PAdES (/ETSI.CAdES.detached), certify=True, DocMDP
     P=1 (MDPPerm.NO_CHANGES), into a new visible signature field at the seal box whose
     appearance is a drawn red seal (ring, five-pointed star, the organisation along the upper
     arc and the seal name below the star, text in the same font);
  7. produce the output bytes.

Every text box, the seal included, shares one GlyphAccumulator per document, so each issued PDF
embeds one font subset (CID-keyed CFF with a ToUnicode CMap), as oneseal's does; pyHanko's
default, one accumulator and one subset per text box, does that work once per field.
Differences that remain, in pyHanko's favour or not: stamps, QR and signature go into one
incremental update (oneseal writes the overlay revision, then the signature revision); pyHanko
shapes with HarfBuzz, wraps each stamp as its own Form XObject (and the page's content in one
more q … Q per stamp), adds a link annotation to the QR code, and writes no XMP packet.

Prints per-template median and mean in ms and, with --json, writes them for scripts/bench.

Usage:
  python benches/peers/pyhanko_issue.py [TEMPLATE_DIR ...] [--keys DIR] [--font OTF]
      [--budget SECONDS] [--runs N] [--json OUT] [--out-dir DIR]
"""

import argparse
import json
import math
import platform
import statistics
import sys
import time
import tomllib
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from importlib.metadata import version
from io import BytesIO
from pathlib import Path

try:
    from fontTools import ttLib
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.content import ResourceType
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import BaseStamp, BaseStampStyle, QRStamp, QRStampStyle, TextStamp
    from pyhanko.stamp import TextStampStyle
    import qrcode  # noqa: F401  (QRStamp imports it lazily; fail here, before any timing)
    from pyhanko_sign import load_signer  # the signing peer's, beside this script
except ImportError as error:
    sys.exit(f"pyhanko_issue.py: {error}; install pyHanko's extras: "
             "pip install 'pyHanko[opentype,qr]==0.38.0'")

ROOT = Path(__file__).resolve().parents[2]
FONT = ROOT / "fonts/NotoSerifSC-oneseal.otf"
TEXT_KINDS = {"text", "multiline", "date", "credit_code", "serial"}
# The bench's issue request (benches/issuance.rs): serial, issue time, verification base URL.
SERIAL = "20261126-BENCH0001"
ISSUED_AT = datetime(2026, 11, 26, 10, 0, tzinfo=timezone(timedelta(hours=8)))
BASE_URL = "https://oneseal.example.gov.cn/verify/"
LINE_HEIGHT = 1.35
SEAL_RED = (0.85, 0.1, 0.1)
WARMUP = 2
MIN_RUNS = 10
MAX_RUNS = 2000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("templates", type=Path, nargs="*",
                        help="template bundle folders (default: every templates/*/ with a "
                             "template.toml)")
    parser.add_argument("--keys", type=Path, default=ROOT / "keys-example")
    parser.add_argument("--font", type=Path, default=FONT, help="the OpenType font to embed")
    parser.add_argument("--budget", type=float, default=8.0,
                        help="seconds of timing per template")
    parser.add_argument("--runs", type=int, default=MIN_RUNS,
                        help=f"timed runs per template at least (default {MIN_RUNS})")
    parser.add_argument("--json", type=Path, help="write results here as JSON")
    parser.add_argument("--out-dir", type=Path,
                        help="also write one issued licence per template here, "
                             "as peer-issue-<id>.pdf")
    args = parser.parse_args()

    dirs = args.templates or sorted(
        p for p in (ROOT / "templates").iterdir() if (p / "template.toml").is_file()
    )
    if not dirs:
        sys.exit(f"no template bundles given and none in {ROOT / 'templates'}")
    if not args.font.is_file():
        sys.exit(f"{args.font} missing (pass --font)")
    signer = load_signer(args.keys)
    font = Font(args.font)
    organization, seal_name = seal_words(signer)

    results = {}
    for directory in dirs:
        template = Template.load(directory)
        issuance = Issuance(template, font, signer, organization, seal_name)
        times, output = time_issuance(issuance, args.budget, max(args.runs, 1))
        if args.out_dir:
            args.out_dir.mkdir(parents=True, exist_ok=True)
            (args.out_dir / f"peer-issue-{template.id}.pdf").write_bytes(output)
        results[template.id] = {
            "blank_bytes": len(template.blank),
            "bytes": len(output),
            "text_fields": len(template.text_fields),
            "runs": len(times),
            "median_ms": statistics.median(times) * 1e3,
            "mean_ms": statistics.fmean(times) * 1e3,
            "min_ms": min(times) * 1e3,
        }
        r = results[template.id]
        print(
            f"pyhanko issue {template.id:<30} median {r['median_ms']:9.3f} ms  "
            f"mean {r['mean_ms']:9.3f} ms  min {r['min_ms']:9.3f} ms  ({r['runs']} runs)"
        )

    if args.json:
        meta = {
            "pyhanko": version("pyHanko"),
            "fonttools": version("fonttools"),
            "uharfbuzz": version("uharfbuzz"),
            "qrcode": version("qrcode"),
            "python": platform.python_version(),
            "font": args.font.name,
            "font_subsets": "one per document",
        }
        args.json.write_text(json.dumps({"meta": meta, "templates": results}, indent=2))
    return 0


def seal_words(signer: signers.SimpleSigner) -> tuple[str, str]:
    """What oneseal's seal says: the subject O, and the subject CN after the part it shares
    with O (O 某某管理委员会, CN 某某管理委员会行政审批专用章 gives 行政审批专用章)."""
    subject = signer.signing_cert.subject.native
    organization = subject.get("organization_name") or ""
    common_name = subject.get("common_name") or ""
    if isinstance(organization, list):
        organization = organization[0]
    if isinstance(common_name, list):
        common_name = common_name[0]
    if not organization:
        return common_name, ""
    shared = 0
    while (shared < min(len(organization), len(common_name))
           and organization[shared] == common_name[shared]):
        shared += 1
    return organization, common_name[shared:].strip()


class Font:
    """The font file's bytes and advance widths (em), read once."""

    def __init__(self, path: Path):
        self.path = path
        self.data = path.read_bytes()
        tt = ttLib.TTFont(BytesIO(self.data), lazy=True)
        upm = tt["head"].unitsPerEm
        metrics = tt["hmtx"].metrics
        self.advance = {
            chr(code): metrics[name][0] / upm for code, name in tt.getBestCmap().items()
        }
        tt.close()

    def width(self, text: str) -> float:
        """Width in em; characters the font lacks count as 1 em."""
        return sum(self.advance.get(ch, 1.0) for ch in text)


@dataclass(frozen=True)
class OneSubsetPerDocument(GlyphAccumulatorFactory):
    """GlyphAccumulatorFactory giving every text box of one writer the same GlyphAccumulator,
    so the document embeds one subset; it reads the font from the bytes loaded once instead of
    reopening the file."""

    font_data: bytes = field(default=b"", repr=False, compare=False)
    engines: weakref.WeakKeyDictionary = field(
        default_factory=weakref.WeakKeyDictionary, repr=False, compare=False
    )

    def create_font_engine(self, writer, obj_stream=None) -> GlyphAccumulator:
        engine = self.engines.get(writer)
        if engine is None:
            if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
                obj_stream = writer.prepare_object_stream()
            engine = GlyphAccumulator(
                writer=writer, font_handle=BytesIO(self.font_data), font_size=self.font_size,
                obj_stream=obj_stream,
            )
            self.engines[writer] = engine
        return engine


@dataclass
class TextField:
    name: str
    kind: str
    fill: str | None
    page: int
    box: tuple[float, float, float, float]
    font_size: float
    min_font_size: float
    align: str


@dataclass
class Template:
    id: str
    title: str
    department: str
    blank: bytes
    example: bytes
    text_fields: list[TextField]
    qr: tuple[int, tuple[float, float, float, float]] | None
    seal: tuple[int, tuple[float, float, float, float]]

    @classmethod
    def load(cls, directory: Path) -> "Template":
        manifest = tomllib.loads((directory / "template.toml").read_text())
        text_fields, qr, seal = [], None, None
        for spec in manifest.get("field", []):
            page = int(spec.get("page", 1))
            box = tuple(float(v) for v in spec["box"])
            kind = spec["kind"]
            if kind in TEXT_KINDS:
                size = float(spec.get("font_size", 12.0))
                text_fields.append(TextField(
                    name=spec["name"], kind=kind, fill=spec.get("fill"), page=page, box=box,
                    font_size=size,
                    min_font_size=float(spec.get("min_font_size", max(size / 2, 4.0))),
                    align=spec.get("align", "left"),
                ))
            elif kind == "qr":
                qr = (page, box)
            elif kind == "seal":
                seal = (page, box)
        if seal is None:
            sys.exit(f"{directory / 'template.toml'}: no seal field")
        head = manifest["template"]
        return cls(
            id=head["id"], title=head["title"], department=head["department"],
            blank=(directory / "template.pdf").read_bytes(),
            example=(directory / "example.json").read_bytes(),
            text_fields=text_fields, qr=qr, seal=seal,
        )


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def field_text(spec: TextField, data: dict) -> str | None:
    """The text oneseal draws for a text-kind field, if any."""
    if spec.kind == "serial":
        return SERIAL
    if spec.kind == "date":
        if spec.fill == "issue_date":
            return chinese_date(ISSUED_AT.date())
        value = data.get(spec.name)
        return chinese_date(date.fromisoformat(value)) if value else None
    value = data.get(spec.name)
    if value and spec.kind == "credit_code":
        return value.upper()
    return value or None


def fit_line(font: Font, text: str, spec: TextField) -> int:
    """The largest whole size (pyHanko writes Tf sizes as integers) from font_size down to
    min_font_size at which the line fits the box width; what still overflows at the smallest
    is scaled down by the stamp's shrink-to-fit layout."""
    width = font.width(text)
    size = math.floor(spec.font_size)
    smallest = max(math.ceil(spec.min_font_size), 1)
    while size > smallest and width * size > spec.box[2]:
        size -= 1
    return size


def wrap(font: Font, text: str, limit_em: float) -> list[str]:
    """Breaks at \\n and wherever the next character would pass limit_em (character wrap)."""
    lines = []
    for paragraph in text.split("\n"):
        line, width = "", 0.0
        for ch in paragraph:
            advance = font.advance.get(ch, 1.0)
            if line and width + advance > limit_em:
                lines.append(line)
                line, width = "", 0.0
            line += ch
            width += advance
        lines.append(line)
    return lines


def fit_multiline(font: Font, text: str, spec: TextField) -> tuple[int, list[str]]:
    width, height = spec.box[2], spec.box[3]
    size = math.floor(spec.font_size)
    smallest = max(math.ceil(spec.min_font_size), 1)
    while True:
        lines = wrap(font, text, width / size)
        if size <= smallest or len(lines) * size * LINE_HEIGHT <= height:
            return size, lines
        size -= 1


X_ALIGN = {
    "left": layout.AxisAlignment.ALIGN_MIN,
    "center": layout.AxisAlignment.ALIGN_MID,
    "right": layout.AxisAlignment.ALIGN_MAX,
}


class Issuance:
    """One template's issuance. The seal and QR styles are built once; each text field's style
    is built per issuance, since its font size depends on the value."""

    def __init__(self, template: Template, font: Font, signer, organization, seal_name):
        self.template = template
        self.font = font
        self.signer = signer
        self.factory = OneSubsetPerDocument(str(font.path), font_data=font.data)
        self.seal_style = SealStampStyle(
            border_width=0, font=self.factory, organization=organization, seal_name=seal_name
        )
        self.qr_style = QRStampStyle(
            border_width=0, stamp_text="", innsep=0,
            text_box_style=TextBoxStyle(font=self.factory),
            inner_content_layout=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MID,
            ),
        )
        self.url = BASE_URL + SERIAL

    def text_style(self, spec: TextField, size: int, multiline: bool) -> TextStampStyle:
        no_margins = layout.Margins.uniform(0)
        return TextStampStyle(
            border_width=0,
            stamp_text="%(value)s",
            text_box_style=TextBoxStyle(
                font=self.factory, font_size=size, leading=round(size * LINE_HEIGHT),
                box_layout_rule=layout.SimpleBoxLayoutRule(
                    x_align=X_ALIGN.get(spec.align, layout.AxisAlignment.ALIGN_MIN),
                    y_align=layout.AxisAlignment.ALIGN_MID, margins=no_margins,
                ),
            ),
            inner_content_layout=layout.SimpleBoxLayoutRule(
                x_align=X_ALIGN.get(spec.align, layout.AxisAlignment.ALIGN_MIN),
                y_align=layout.AxisAlignment.ALIGN_MAX if multiline
                else layout.AxisAlignment.ALIGN_MID,
                margins=no_margins,
                inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
            ),
        )

    def issue(self) -> bytes:
        template = self.template
        data = json.loads(template.example)
        writer = IncrementalPdfFileWriter(BytesIO(template.blank))
        for spec in template.text_fields:
            text = field_text(spec, data)
            if not text:
                continue
            if spec.kind == "multiline":
                size, lines = fit_multiline(self.font, text, spec)
                text = "\n".join(lines)
            else:
                size = fit_line(self.font, text, spec)
            x, y, w, h = spec.box
            stamp = TextStamp(
                writer, self.text_style(spec, size, spec.kind == "multiline"),
                text_params={"value": text}, box=layout.BoxConstraints(width=w, height=h),
            )
            stamp.apply(spec.page - 1, x, y)
        if template.qr is not None:
            page, (x, y, w, h) = template.qr
            side = min(w, h)
            stamp = QRStamp(writer, url=self.url, style=self.qr_style, text_params={},
                            box=layout.BoxConstraints(width=side, height=side))
            stamp.apply(page - 1, x + (w - side) / 2, y + (h - side) / 2)
        meta = writer.document_meta
        meta.title = template.title
        meta.subject = f"{template.title} {SERIAL}"
        meta.author = template.department
        meta.keywords = [SERIAL, ISSUED_AT.date().isoformat(), template.id]

        page, (x, y, w, h) = template.seal
        signature_meta = signers.PdfSignatureMetadata(
            field_name=f"Seal-{SERIAL}",
            certify=True,
            docmdp_permissions=fields.MDPPerm.NO_CHANGES,
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=f"签发{template.title} 编号 {SERIAL}",
        )
        pdf_signer = signers.PdfSigner(
            signature_meta,
            signer=self.signer,
            stamp_style=self.seal_style,
            new_field_spec=fields.SigFieldSpec(
                sig_field_name=f"Seal-{SERIAL}", on_page=page - 1, box=(x, y, x + w, y + h)
            ),
        )
        output = BytesIO()
        pdf_signer.sign_pdf(writer, output=output)
        return output.getvalue()


@dataclass(frozen=True)
class SealStampStyle(BaseStampStyle):
    """The official seal as the signature appearance: red ring, five-pointed star, organisation
    along the upper arc, seal name below the star; proportions as oneseal's seal drawing."""

    font: GlyphAccumulatorFactory | None = None
    organization: str = ""
    seal_name: str = ""

    def create_stamp(self, writer, box, text_params) -> "SealStamp":
        return SealStamp(writer, self, box)


class SealStamp(BaseStamp):
    def _render_inner_content(self):
        style = self.style
        engine = style.font.create_font_engine(self.writer)
        self.set_resource(ResourceType.FONT, pdf_name("/F1"), engine.as_resource())
        width, height = self.box.width, self.box.height
        d = min(width, height)
        cx, cy = width / 2, height / 2
        ops = [b"q %g %g %g rg %g %g %g RG" % (SEAL_RED + SEAL_RED)]
        # the ring: a circle of four Bézier arcs, stroked
        ring = d / 28
        r = d / 2 - ring / 2
        k = 0.5523 * r
        ops.append(
            b"%g w %g %g m %g %g %g %g %g %g c %g %g %g %g %g %g c "
            b"%g %g %g %g %g %g c %g %g %g %g %g %g c S" % (
                ring, cx + r, cy,
                cx + r, cy + k, cx + k, cy + r, cx, cy + r,
                cx - k, cy + r, cx - r, cy + k, cx - r, cy,
                cx - r, cy - k, cx - k, cy - r, cx, cy - r,
                cx + k, cy - r, cx + r, cy - k, cx + r, cy,
            )
        )
        # the star: ten points, alternately the outer and inner radius, filled
        outer, inner = 0.15 * d, 0.15 * d * 0.382
        points = []
        for i in range(10):
            angle = math.pi / 2 + i * math.pi / 5
            radius = outer if i % 2 == 0 else inner
            points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
        path = [b"%g %g m" % points[0]] + [b"%g %g l" % p for p in points[1:]] + [b"h f"]
        ops.append(b" ".join(path))
        # the organisation along the upper arc, each character turned to face outwards
        text = style.organization
        if text:
            size, step_em = 0.16 * d, 1.12
            for _ in range(4):  # a smaller size moves the baseline outwards: settle both
                text_radius = d / 2 - ring - 0.028 * d - size
                span = min(math.radians(240), len(text) * size * step_em / text_radius)
                size = min(0.16 * d, span * text_radius / (len(text) * step_em))
            text_radius = d / 2 - ring - 0.028 * d - size
            step = span / len(text)
            ops.append(b"BT /F1 %g Tf" % size)
            for i, ch in enumerate(text):
                theta = math.pi / 2 + span / 2 - (i + 0.5) * step
                turn = theta - math.pi / 2
                cos_t, sin_t = math.cos(turn), math.sin(turn)
                half = size / 2
                x = cx + text_radius * math.cos(theta) - half * cos_t
                y = cy + text_radius * math.sin(theta) - half * sin_t
                shown = engine.shape(ch, with_actual_text=False).graphics_ops
                ops.append(b"%g %g %g %g %g %g Tm %s" % (cos_t, sin_t, -sin_t, cos_t, x, y, shown))
            ops.append(b"ET")
        # the seal name on one line below the star
        name = style.seal_name
        if name:
            size = min(0.11 * d, 0.52 * d / len(name))  # CJK: 1 em a character
            engine.font_size = size
            shaped = engine.shape(name, with_actual_text=False)
            line = shaped.x_advance * size
            ops.append(b"BT /F1 %g Tf %g %g Td %s ET" % (
                size, cx - line / 2, cy - 0.19 * d - size * 0.88, shaped.graphics_ops,
            ))
        ops.append(b"Q")
        return ops


def time_issuance(issuance: Issuance, budget: float, runs: int) -> tuple[list[float], bytes]:
    """Warm up, then repeat until the budget is spent (at least `runs` times)."""
    for _ in range(WARMUP):
        issued = issuance.issue()
    blank = issuance.template.blank
    if not issued.startswith(blank) or len(issued) <= len(blank):
        sys.exit(f"{issuance.template.id}: pyHanko did not append an incremental update")
    times = []
    deadline = time.perf_counter() + budget
    while len(times) < runs or (time.perf_counter() < deadline and len(times) < MAX_RUNS):
        start = time.perf_counter()
        issuance.issue()
        times.append(time.perf_counter() - start)
    return times, issued


if __name__ == "__main__":
    sys.exit(main())
