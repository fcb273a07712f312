#!/usr/bin/env python3
"""Regenerate the blank forms (template.pdf) of the three template bundles in templates/.

The blanks are committed, so nothing else (tests, CI, cargo) needs Python or this script. Run it
only to change the artwork, then move the boxes in template.toml if a blank space moved.

    apt-get install libcairo2-dev pkg-config fonts-noto-cjk   # pycairo builds against cairo
    python3 -m venv /tmp/tplvenv
    /tmp/tplvenv/bin/pip install weasyprint==70.0 pycairo==1.29.2 pydyf==0.13.0 fonttools==4.68.0
    /tmp/tplvenv/bin/python templates/make-blanks.py            # writes the three template.pdf
    /tmp/tplvenv/bin/python templates/make-blanks.py --slots    # also prints the blank spaces

Producers (variety on purpose: the issuer must cope with what departments really send):

    construction-planning-permit  WeasyPrint 70 (HTML/CSS -> pydyf), A4 landscape, two panels
    approval-document             WeasyPrint 70, A4 portrait, red-header document (红头文件)
    food-business-licence         cairo 1.16 through pycairo, A4 landscape, guilloche frame

Fonts: Noto Serif CJK SC (OFL-1.1, Debian fonts-noto-cjk), regular and bold. The script first
cuts each face down to the characters its blank uses (fontTools, desubroutinized), with CIDs
made equal to glyph indexes. WeasyPrint keeps glyph indexes when it subsets, which on the full
65,535-glyph faces alone costs over 100 KB per font; cairo copies the CFF subroutines whole
(about 50 KB per face), so the cairo pass runs in a child process whose fontconfig sees only the
cut-down faces.

`--slots` prints every blank space the artwork leaves for a value (the spans marked data-slot in
the HTML, the rectangles noted while drawing with cairo) as `box = [x, y, w, h]` in PDF points
from the page's lower left: the boxes in each template.toml were taken from it.

The output is deterministic: no creation dates from the clock (fixed ones for cairo,
SOURCE_DATE_EPOCH for the fonts' head.modified), fixed metadata, fonts subset the same way.
"""

import argparse
import html
import html.parser
import io
import json
import math
import os
import re
import string
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
NOTO = "/usr/share/fonts/opentype/noto"
SC = 2  # index of the SC (Simplified Chinese) face in the Noto CJK collections
ZONE = "新乡经济技术开发区"
BUREAU = ZONE + "行政审批局"
EXAMPLE_NOTE = "oneseal 示例模板：样式为演示而作，不是任何机关的真实证照"

# fontTools stamps the fonts it writes (here and inside WeasyPrint) with this time, not the clock.
os.environ.setdefault("SOURCE_DATE_EPOCH", "1767196800")  # 2026-01-01 00:00 +08:00

A4_LONG = 841.89
A4_SHORT = 595.28


# ---------------------------------------------------------------------------------------------
# Fonts for WeasyPrint: subset to the blank's characters, CID = GID
# ---------------------------------------------------------------------------------------------


class _Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.chars = set()
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "svg"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "svg"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.chars.update(data)


def used_chars(markup):
    parser = _Text()
    parser.feed(markup)
    return "".join(sorted(parser.chars | set(string.digits + string.ascii_letters + string.punctuation + " ")))


def subset_font(path, text, out):
    """Noto CJK face `SC` of `path`, cut down to `text`, written to `out` as OpenType/CFF.

    fontTools keeps the CFF's CIDs when it drops glyphs (glyph 2 may still be CID 17); PDF readers
    that look glyphs up by CID would then draw the wrong ones, so every glyph is renamed to the CID
    equal to its new index (a TTX round trip renames it in every table at once).
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=SC, recalcTimestamp=False, recalcBBoxes=True)
    options = subset.Options()
    options.notdef_outline = True
    options.desubroutinize = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.layout_features = ["locl", "ccmp", "vert", "vrt2"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    order = font.getGlyphOrder()
    rename = {name: "cid%05d" % gid for gid, name in enumerate(order) if name.startswith("cid")}
    xml = io.StringIO()
    font.saveXML(xml)
    xml = re.sub(r"\bcid\d{5}\b", lambda m: rename[m.group(0)], xml.getvalue())
    renamed = TTFont(recalcTimestamp=False)
    renamed.importXML(io.StringIO(xml))
    renamed.save(out)


def font_faces(tmp, markup):
    """@font-face rules for the families the HTML uses, pointing at per-blank subsets."""
    text = used_chars(markup)
    faces = [
        ("Blank Serif", 400, "NotoSerifCJK-Regular.ttc"),
        ("Blank Serif", 700, "NotoSerifCJK-Bold.ttc"),
    ]
    rules = []
    for family, weight, file in faces:
        if family not in markup:
            continue
        out = os.path.join(tmp, "%s-%d.otf" % (family.replace(" ", ""), weight))
        subset_font(os.path.join(NOTO, file), text, out)
        rules.append(
            '@font-face { font-family: "%s"; font-weight: %d; src: url("file://%s"); }'
            % (family, weight, out)
        )
    return "\n".join(rules)


def render_weasyprint(markup, out, title, subject):
    import weasyprint

    with tempfile.TemporaryDirectory() as tmp:
        faces = font_faces(tmp, markup)
        head = (
            '<meta charset="utf-8"><title>%s</title>'
            '<meta name="author" content="%s"><meta name="description" content="%s">'
            '<meta name="generator" content="oneseal templates/make-blanks.py">'
            "<style>%s</style>" % (html.escape(title), html.escape(BUREAU), html.escape(subject), faces)
        )
        document = weasyprint.HTML(string=markup.replace("<head>", "<head>" + head, 1)).render()
        slots = weasyprint_slots(document)
        document.write_pdf(out)
    return slots


def weasyprint_slots(document):
    """Every element with data-slot: its border box in PDF points from the lower left."""
    page = document.pages[0]
    height = page.height * 0.75
    slots = []
    for box in page._page_box.descendants(placeholders=True):
        element = getattr(box, "element", None)
        if element is None or box.element_tag is None:
            continue
        name = element.get("data-slot")
        if not name or not hasattr(box, "border_box_x"):
            continue
        x, y = box.border_box_x() * 0.75, box.border_box_y() * 0.75
        w, h = box.border_width() * 0.75, box.border_height() * 0.75
        if any(s[0] == name for s in slots):
            continue
        slots.append((name, x, height - y - h, w, h))
    return slots


# ---------------------------------------------------------------------------------------------
# 建设工程规划许可证: WeasyPrint, A4 landscape, two panels like the folded paper certificate
# ---------------------------------------------------------------------------------------------


def meander_svg(width, height, inset, band, color):
    """A 回纹 (key-fret) band all round the page, as one SVG of plain polylines.

    The repeating unit is a hook on a 4 x 4 grid: up the left, along the top, down part way,
    back, down to the bottom and along it into the next unit. Corners get a closed square.
    """
    g = band / 4.0  # grid step

    def run(x0, y0, length, horizontal, flip):
        units = int(length // (4 * g))
        start = x0 + (length - units * 4 * g) / 2 if horizontal else y0 + (length - units * 4 * g) / 2
        unit = [(0, 4), (0, 0), (3, 0), (3, 2), (1, 2), (1, 4), (4, 4)]
        points = []
        for u in range(units):
            for i, (a, b) in enumerate(unit):
                if u and i == 0:
                    continue
                if u == units - 1 and i == len(unit) - 1:
                    a = 4
                b = 4 - b if flip else b
                if horizontal:
                    points.append((start + (4 * u + a) * g, y0 + b * g))
                else:
                    points.append((x0 + b * g, start + (4 * u + a) * g))
        return " ".join("%.2f,%.2f" % p for p in points)

    x1, y1 = inset, inset
    x2, y2 = width - inset - band, height - inset - band
    inner = band + 2 * g
    lines = [
        # top and bottom runs, between the corner squares
        run(x1 + inner, y1, x2 - x1 - inner - 2 * g, True, False),
        run(x1 + inner, y2, x2 - x1 - inner - 2 * g, True, True),
        run(x1, y1 + inner, y2 - y1 - inner - 2 * g, False, False),
        run(x2, y1 + inner, y2 - y1 - inner - 2 * g, False, True),
    ]
    polylines = "".join('<polyline points="%s"/>' % p for p in lines)
    squares = "".join(
        '<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f"/>'
        '<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f"/>'
        % (cx, cy, band, band, cx + g, cy + g, band - 2 * g, band - 2 * g)
        for cx in (x1, x2)
        for cy in (y1, y2)
    )
    frame_out = inset - 5
    frame_in = inset + band + 5
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="{h}pt" '
        'viewBox="0 0 {w} {h}" class="frame">'
        '<g fill="none" stroke="{c}" stroke-width="0.9" stroke-linejoin="miter">{p}{s}</g>'
        '<rect x="{o}" y="{o}" width="{ow}" height="{oh}" fill="none" stroke="{c}" stroke-width="2.2"/>'
        '<rect x="{i}" y="{i}" width="{iw}" height="{ih}" fill="none" stroke="{c}" stroke-width="0.8"/>'
        "</svg>"
    ).format(
        w=width, h=height, c=color, p=polylines, s=squares,
        o=frame_out, ow=width - 2 * frame_out, oh=height - 2 * frame_out,
        i=frame_in, iw=width - 2 * frame_in, ih=height - 2 * frame_in,
    )


PERMIT_RULES = [
    "本证是经自然资源主管部门依法审核，建设工程符合国土空间规划和用途管制要求的法律凭证。",
    "未取得本证或者未按照本证的规定进行建设的，属于违法建设。",
    "未经发证机关许可，本证的各项规定不得变更。",
    "自然资源主管部门依法有权查验本证，建设单位（个人）应当配合。",
    "本证所附的附图及附件由发证机关依法确定，与本证具有同等法律效力。",
]


def permit_html():
    frame = meander_svg(A4_LONG, A4_SHORT, 24, 12, "#8c2b1e")
    numbers = "一二三四五六七八九十"
    rules = "".join("<p><span>%s、</span>%s</p>" % (numbers[i], r) for i, r in enumerate(PERMIT_RULES))
    return """<!DOCTYPE html><html lang="zh-CN"><head><style>
@page { size: %(w)spt %(h)spt; margin: 0 }
html, body { margin: 0; padding: 0 }
body { font-family: "Blank Serif"; font-size: 12pt; color: #1b1b1b; }
.frame { position: absolute; left: 0; top: 0 }
.fold { position: absolute; left: 420.4pt; top: 58pt; height: 479pt; border-left: 0.8pt dashed #b58f86 }
.panel { position: absolute; top: 62pt; width: 332pt; height: 471pt }
.left { left: 60pt } .right { left: 449.9pt }
.country { position: absolute; top: 8pt; width: 100%%; text-align: center; font-size: 15pt;
  letter-spacing: 7pt; color: #8c2b1e }
.title { position: absolute; top: 34pt; width: 100%%; text-align: center; font-family: "Blank Serif";
  font-weight: 700; font-size: 26pt; letter-spacing: 3pt; color: #8c2b1e }
.rule { position: absolute; top: 84pt; left: 96pt; width: 140pt; border-top: 2pt solid #8c2b1e;
  border-bottom: 0.6pt solid #8c2b1e; height: 1.6pt }
.number { position: absolute; top: 110pt; width: 100%%; text-align: center; font-size: 13pt }
.slot { display: inline-block; vertical-align: bottom }
.line { border-bottom: 0.7pt solid #333 }
.statement { position: absolute; top: 168pt; left: 8pt; width: 316pt; font-size: 13pt;
  line-height: 2.3; text-indent: 2em; text-align: justify }
.authority { position: absolute; top: 336pt; right: 0; font-size: 12pt; width: 232pt }
.authority p { margin: 0 0 12pt 0; white-space: nowrap }
.qr { position: absolute; top: 366pt; left: 4pt; width: 84pt; height: 84pt; border: 0.5pt solid #c9b9b3 }
.qr-note { position: absolute; top: 454pt; left: 0; width: 92pt; text-align: center; font-size: 7.5pt;
  color: #555 }
table { position: absolute; top: 0; left: 0; width: 332pt; border-collapse: collapse;
  table-layout: fixed; border: 1.4pt solid #8c2b1e }
td { border: 0.6pt solid #8c2b1e; padding: 0 }
td.label { width: 104pt; text-align: center; font-size: 11pt; letter-spacing: 0.5pt; color: #8c2b1e }
td.value div { margin: 0 }
.rules { position: absolute; top: 328pt; left: 0; width: 332pt; font-size: 8.2pt; line-height: 1.55;
  color: #333 }
.rules h2 { font-size: 10pt; font-weight: 700; letter-spacing: 6pt; margin: 0 0 3pt 0; text-align: center;
  color: #8c2b1e }
.rules p { margin: 0; padding-left: 2em; text-indent: -2em }
.rules p span { display: inline-block; width: 2em; text-indent: 0 }
.note { position: absolute; top: 540pt; left: 0; width: %(w)spt; text-align: center; font-size: 6pt;
  color: #9a9a9a }
</style></head><body>
%(frame)s
<div class="fold"></div>
<div class="panel left">
  <div class="country">中华人民共和国</div>
  <div class="title">建设工程规划许可证</div>
  <div class="rule"></div>
  <div class="number">建字第<span class="slot line" data-slot="permit_no" style="width:190pt;height:21pt;margin:0 4pt"></span>号</div>
  <div class="statement">根据《中华人民共和国城乡规划法》第四十条和国家有关规定，经审核，本建设工程符合国土空间规划和用途管制要求，准予建设，特发此证。</div>
  <div class="qr" data-slot="qr"></div>
  <div class="qr-note">扫描二维码核验真伪</div>
  <div data-slot="seal" style="position:absolute; left:153pt; top:295pt; width:126pt; height:126pt"></div>
  <div class="authority">
    <p>发证机关：%(bureau)s</p>
    <p>发证日期：<span class="slot line" data-slot="issue_date" style="width:150pt;height:20pt"></span></p>
  </div>
</div>
<div class="panel right">
  <table>
    <tr style="height:34pt"><td class="label">建设单位（个人）</td><td class="value" data-slot="developer"></td></tr>
    <tr style="height:34pt"><td class="label">统一社会信用代码</td><td class="value" data-slot="credit_code"></td></tr>
    <tr style="height:34pt"><td class="label">建设项目名称</td><td class="value" data-slot="project_name"></td></tr>
    <tr style="height:34pt"><td class="label">建设位置</td><td class="value" data-slot="location"></td></tr>
    <tr style="height:96pt"><td class="label">建设规模</td><td class="value" data-slot="scale"></td></tr>
    <tr style="height:82pt"><td class="label">附图及附件名称</td><td class="value" data-slot="attachments"></td></tr>
  </table>
  <div class="rules"><h2>遵守事项</h2>%(rules)s</div>
</div>
<div class="note">%(note)s</div>
</body></html>""" % dict(w=A4_LONG, h=A4_SHORT, frame=frame, bureau=BUREAU, rules=rules, note=EXAMPLE_NOTE)


# ---------------------------------------------------------------------------------------------
# 项目核准批复: WeasyPrint, A4 portrait, a red-header document with 版记
# ---------------------------------------------------------------------------------------------


def approval_html():
    return """<!DOCTYPE html><html lang="zh-CN"><head><style>
@page { size: %(w)spt %(h)spt; margin: 0 }
html, body { margin: 0; padding: 0 }
body { font-family: "Blank Serif"; font-size: 13pt; color: #1b1b1b }
.page { position: absolute; left: 79pt; top: 0; width: 442pt; height: %(h)spt }
.header { position: absolute; top: 80pt; width: 100%%; text-align: center; font-weight: 700;
  font-size: 27pt; letter-spacing: 2pt; color: #d0121b }
.docno { position: absolute; top: 134pt; width: 100%%; text-align: center }
.slot { display: inline-block; vertical-align: bottom }
.line { border-bottom: 0.7pt solid #333 }
.redline { position: absolute; top: 164pt; left: 0; width: 100%%; border-top: 2.2pt solid #d0121b }
.title { position: absolute; top: 184pt; width: 100%%; text-align: center; font-weight: 700;
  font-size: 20pt; letter-spacing: 1pt }
.info { position: absolute; top: 232pt; left: 0; width: 100%% }
.info p { margin: 0 0 9pt 0; white-space: nowrap; height: 22pt }
.body { position: absolute; top: 332pt; left: 0; width: 442pt; height: 284pt }
.sign { position: absolute; top: 660pt; left: 236pt; width: 206pt; text-align: center }
.sign p { margin: 0 0 8pt 0; white-space: nowrap }
.qr { position: absolute; top: 646pt; left: 0; width: 80pt; height: 80pt; border: 0.5pt solid #c8c8c8 }
.qr-note { position: absolute; top: 730pt; left: -6pt; width: 92pt; text-align: center; font-size: 7.5pt;
  color: #555 }
.record { position: absolute; top: 750pt; left: 0; width: 100%%; font-size: 10.5pt }
.record .cc { border-top: 1.2pt solid #1b1b1b; border-bottom: 0.6pt solid #1b1b1b; padding: 5pt 7pt;
  line-height: 1.4 }
.record .printed { border-bottom: 1.2pt solid #1b1b1b; padding: 4pt 7pt; height: 20pt;
  white-space: nowrap }
.record .printed .right { position: absolute; right: 7pt; bottom: 4pt }
.folio { position: absolute; top: 806pt; width: 100%%; text-align: center; font-size: 11pt }
.note { position: absolute; top: 828pt; width: 100%%; text-align: center; font-size: 6pt; color: #9a9a9a }
</style></head><body><div class="page">
  <div class="header">%(bureau)s</div>
  <div class="docno"><span class="slot" data-slot="doc_no" style="width:240pt;height:21pt"></span></div>
  <div class="redline"></div>
  <div class="title">企业投资项目核准批复</div>
  <div class="info">
    <p>申请单位：<span class="slot line" data-slot="applicant" style="width:377pt;height:21pt"></span></p>
    <p>统一社会信用代码：<span class="slot line" data-slot="credit_code" style="width:325pt;height:21pt"></span></p>
    <p>项目名称：<span class="slot line" data-slot="project_name" style="width:377pt;height:21pt"></span></p>
  </div>
  <div class="body" data-slot="body"></div>
  <div class="qr" data-slot="qr"></div>
  <div class="qr-note">扫描二维码核验真伪</div>
  <div data-slot="seal" style="position:absolute; left:276pt; top:620pt; width:126pt; height:126pt"></div>
  <div class="sign">
    <p>%(bureau)s</p>
    <p><span class="slot" data-slot="issue_date" style="width:150pt;height:20pt"></span></p>
  </div>
  <div class="record">
    <div class="cc">抄送：区发展和改革局，区自然资源和规划局，区住房和城乡建设局。</div>
    <div class="printed">%(bureau)s办公室<span class="right"><span class="slot" data-slot="print_date" style="width:118pt;height:18pt;margin-right:3pt"></span>印发</span></div>
  </div>
  <div class="folio">— 1 —</div>
  <div class="note">%(note)s</div>
</div></body></html>""" % dict(w=A4_SHORT, h=A4_LONG, bureau=BUREAU, zone=ZONE, note=EXAMPLE_NOTE)


# ---------------------------------------------------------------------------------------------
# 食品经营许可证: pycairo, A4 landscape, guilloche frame drawn as Bezier curves
# ---------------------------------------------------------------------------------------------

FOOD_LEFT = [
    ("operator_name", "经营者名称"),
    ("credit_code", "统一社会信用代码"),
    ("legal_rep", "法定代表人（负责人）"),
    ("residence", "住　　所"),
    ("premises", "经营场所"),
    ("business_type", "主体业态"),
]


def render_food_licence(out, used=None):
    """Draw the licence into `out`, or, with out=None, only collect its characters into `used`.

    Cairo embeds the fonts fontconfig gives it, subroutines and all; the real pass therefore runs
    in a child process whose fontconfig sees only fonts already cut down to these characters.
    """
    import cairo

    W, H = A4_LONG, A4_SHORT
    if out is None:
        surface = cairo.RecordingSurface(cairo.CONTENT_COLOR_ALPHA, cairo.Rectangle(0, 0, W, H))
    else:
        surface = cairo.PDFSurface(out, W, H)
        surface.set_metadata(cairo.PDFMetadata.TITLE, "食品经营许可证（空白样式）")
        surface.set_metadata(cairo.PDFMetadata.AUTHOR, BUREAU)
        surface.set_metadata(cairo.PDFMetadata.SUBJECT, "食品经营许可证空白底图，市场监督管理局")
        surface.set_metadata(cairo.PDFMetadata.CREATOR, "oneseal templates/make-blanks.py")
        surface.set_metadata(cairo.PDFMetadata.CREATE_DATE, "2026-01-01T00:00:00+08:00")
        surface.set_metadata(cairo.PDFMetadata.MOD_DATE, "2026-01-01T00:00:00+08:00")
    cr = cairo.Context(surface)
    slots = []

    def slot(name, x, top, w, h):
        """A blank space, given from the top left like everything cairo draws."""
        slots.append((name, x, H - top - h, w, h))

    green, dark = (0.05, 0.42, 0.36), (0.11, 0.11, 0.11)

    # --- guilloche band between two rectangles -----------------------------------------------
    outer, band = 22.0, 22.0
    inner = outer + band
    cr.set_source_rgb(*green)
    cr.set_line_width(2.0)
    cr.rectangle(outer, outer, W - 2 * outer, H - 2 * outer)
    cr.stroke()
    cr.set_line_width(0.7)
    cr.rectangle(outer + 3, outer + 3, W - 2 * outer - 6, H - 2 * outer - 6)
    cr.stroke()
    cr.set_line_width(1.2)
    cr.rectangle(inner, inner, W - 2 * inner, H - 2 * inner)
    cr.stroke()
    cr.set_line_width(0.5)
    cr.rectangle(inner + 3.5, inner + 3.5, W - 2 * inner - 7, H - 2 * inner - 7)
    cr.stroke()

    def wave(x0, y0, length, horizontal, amp, wavelength, phase):
        """A sine wave along a side, one cubic Bezier per half period (max error under 1%)."""
        half = wavelength / 2.0
        n = int(length // half)
        start = (length - n * half) / 2.0
        k = 0.3642  # handle length for a half sine, in units of the half period
        sign0 = 1 if phase == 0 else -1

        def at(t, v):
            return (x0 + t, y0 + v) if horizontal else (x0 + v, y0 + t)

        cr.move_to(*at(start, 0))
        for i in range(n):
            t = start + i * half
            s = sign0 * (1 if i % 2 == 0 else -1)
            cr.curve_to(*at(t + k * half, s * amp * 1.0), *at(t + (1 - k) * half, s * amp * 1.0),
                        *at(t + half, 0))
        cr.stroke()

    mid = outer + band / 2.0
    cr.set_line_width(0.45)
    corner = outer + band  # the runs stop short of the corner squares
    for amp, wl in ((7.0, 22.0), (4.5, 22.0), (7.0, 11.0)):
        for phase in (0, 1):
            for side in range(4):
                if side == 0:
                    wave(corner, mid, W - 2 * corner, True, amp, wl, phase)
                elif side == 1:
                    wave(corner, H - mid, W - 2 * corner, True, amp, wl, phase)
                elif side == 2:
                    wave(mid, corner, H - 2 * corner, False, amp, wl, phase)
                else:
                    wave(W - mid, corner, H - 2 * corner, False, amp, wl, phase)

    # corner rosettes: a hypotrochoid in each corner square
    def rosette(cx, cy, r):
        R, rr, d = r, r / 4.0, r * 0.55
        steps = 240
        for j in range(steps + 1):
            t = 2 * math.pi * j / steps
            x = (R - rr) * math.cos(t) + d * math.cos((R - rr) / rr * t)
            y = (R - rr) * math.sin(t) - d * math.sin((R - rr) / rr * t)
            px, py = cx + x * 0.62, cy + y * 0.62
            (cr.move_to if j == 0 else cr.line_to)(px, py)
        cr.close_path()
        cr.stroke()
        cr.arc(cx, cy, r * 0.95, 0, 2 * math.pi)
        cr.stroke()

    cr.set_line_width(0.45)
    for cx in (mid, W - mid):
        for cy in (mid, H - mid):
            rosette(cx, cy, band / 2.0 - 0.5)

    # --- text ---------------------------------------------------------------------------------
    def font(size, bold=False, sans=False):
        cr.select_font_face(
            "Noto Sans CJK SC" if sans else "Noto Serif CJK SC",
            cairo.FONT_SLANT_NORMAL,
            cairo.FONT_WEIGHT_BOLD if bold else cairo.FONT_WEIGHT_NORMAL,
        )
        cr.set_font_size(size)

    def text(s, x, baseline, spacing=0.0, anchor="left"):
        if used is not None:
            used.update(s)
        widths = [cr.text_extents(ch).x_advance for ch in s]
        total = sum(widths) + spacing * (len(s) - 1)
        if anchor == "center":
            x -= total / 2.0
        elif anchor == "right":
            x -= total
        for ch, w in zip(s, widths):
            cr.move_to(x, baseline)
            cr.show_text(ch)
            x += w + spacing
        return x  # where the text ends

    def underline(x, baseline, w):
        cr.set_line_width(0.6)
        cr.move_to(x, baseline + 4.0)
        cr.line_to(x + w, baseline + 4.0)
        cr.stroke()

    cr.set_source_rgb(*green)
    font(34, bold=True)
    text("食品经营许可证", W / 2.0, 118, spacing=12, anchor="center")
    cr.set_line_width(0.8)
    for dy, lw in ((134, 1.6), (138.5, 0.5)):
        cr.set_line_width(lw)
        cr.move_to(W / 2.0 - 190, dy)
        cr.line_to(W / 2.0 + 190, dy)
        cr.stroke()

    # left column: label, then an underlined blank to the column's right edge
    cr.set_source_rgb(*dark)
    label_x, value_x, value_end = 84.0, 228.0, 508.0
    row0, pitch = 182.0, 38.0
    for i, (name, label) in enumerate(FOOD_LEFT):
        baseline = row0 + i * pitch
        font(12.5)
        text(label, label_x, baseline)
        cr.set_source_rgb(0.35, 0.35, 0.35)
        underline(value_x, baseline, value_end - value_x)
        cr.set_source_rgb(*dark)
        slot(name, value_x + 2, baseline + 3.0 - 21.0, value_end - value_x - 4, 21.0)

    baseline = row0 + len(FOOD_LEFT) * pitch
    font(12.5)
    text("经营项目", label_x, baseline)
    # a light ruled area for the multiline 经营项目
    items_top = baseline - 15.0
    items_h = 118.0
    cr.set_source_rgb(0.55, 0.55, 0.55)
    cr.set_line_width(0.5)
    cr.rectangle(value_x, items_top, value_end - value_x, items_h)
    cr.stroke()
    slot("business_items", value_x + 5, items_top + 4, value_end - value_x - 10, items_h - 8)
    cr.set_source_rgb(*dark)

    # column divider
    cr.set_source_rgb(*green)
    cr.set_line_width(0.5)
    cr.move_to(532, 160)
    cr.line_to(532, 520)
    cr.stroke()

    # right column
    cr.set_source_rgb(*dark)
    rx, rvalue, rend = 552.0, 628.0, 776.0
    right = [
        ("licence_no", "许可证编号", 12.5),
        ("valid_until", "有效期至", 12.5),
        ("supervisor", "日常监督管理机构", 10.5),
    ]
    for i, (name, label, size) in enumerate(right):
        baseline = row0 + i * pitch
        font(size)
        end = text(label, rx, baseline)
        start = max(rvalue, end + 6) if name != "supervisor" else rx
        if name == "supervisor":
            # the long label takes the line; its value goes on the next line, full width
            baseline += 26.0
        cr.set_source_rgb(0.35, 0.35, 0.35)
        underline(start, baseline, rend - start)
        cr.set_source_rgb(*dark)
        slot(name, start + 2, baseline + 3.0 - 21.0, rend - start - 4, 21.0)
    font(12.5)
    baseline = row0 + 3 * pitch + 26.0
    text("投诉举报电话：12315", rx, baseline)

    # QR code with its note
    qr_x, qr_top, qr = rx, 326.0, 84.0
    cr.set_source_rgb(0.78, 0.78, 0.78)
    cr.set_line_width(0.5)
    cr.rectangle(qr_x, qr_top, qr, qr)
    cr.stroke()
    slot("qr", qr_x, qr_top, qr, qr)
    cr.set_source_rgb(0.33, 0.33, 0.33)
    font(9)
    for j, line in enumerate(("扫描左侧二维码", "核验许可证真伪、", "查询许可事项")):
        text(line, qr_x + qr + 12, qr_top + 30 + j * 15)

    # issuing authority and date; the seal goes over both
    cr.set_source_rgb(*dark)
    font(11.5)
    text("发证机关：" + BUREAU, rend, 462.0, anchor="right")
    end = text("签发日期：", rend - 208.0, 496.0)
    cr.set_source_rgb(0.35, 0.35, 0.35)
    underline(end, 496.0, rend - end)
    slot("issue_date", end + 2, 496.0 + 3.0 - 21.0, rend - end - 4, 21.0)
    slot("seal", 636.0, 412.0, 126.0, 126.0)

    # foot of the frame
    cr.set_source_rgb(0.6, 0.6, 0.6)
    font(6)
    text(EXAMPLE_NOTE, W / 2.0, H - inner - 8.0, anchor="center")

    surface.finish()
    return slots


def render_cairo(out):
    """The food licence: collect its characters, subset the fonts, draw it in a child process."""
    used = set(string.digits + " ")
    render_food_licence(None, used)
    text = "".join(sorted(used))
    with tempfile.TemporaryDirectory() as tmp:
        for file in ("NotoSerifCJK-Regular.ttc", "NotoSerifCJK-Bold.ttc"):
            subset_font(os.path.join(NOTO, file), text, os.path.join(tmp, file.replace(".ttc", ".otf")))
        conf = os.path.join(tmp, "fonts.conf")
        with open(conf, "w") as f:
            f.write('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
                    "<fontconfig><dir>%s</dir><cachedir>%s/cache</cachedir></fontconfig>\n"
                    % (tmp, tmp))
        env = dict(os.environ, FONTCONFIG_FILE=conf)
        child = subprocess.run([sys.executable, os.path.abspath(__file__), "--cairo-pass", out],
                               env=env, check=True, stdout=subprocess.PIPE)
    return [tuple(slot) for slot in json.loads(child.stdout)]


# ---------------------------------------------------------------------------------------------


BLANKS = [
    ("construction-planning-permit", "weasyprint", permit_html, "建设工程规划许可证（空白样式）",
     "建设工程规划许可证空白底图，自然资源和规划局"),
    ("food-business-licence", "cairo", None, "食品经营许可证（空白样式）", ""),
    ("approval-document", "weasyprint", approval_html, "项目核准批复（空白样式）",
     "项目核准批复空白底图，发展和改革局"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slots", action="store_true", help="print the blank spaces in PDF points")
    parser.add_argument("--out", default=HERE, help="directory holding the bundle folders")
    parser.add_argument("--cairo-pass", metavar="PDF", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cairo_pass:
        json.dump(render_food_licence(args.cairo_pass), sys.stdout)
        return 0
    for bundle, producer, make_html, title, subject in BLANKS:
        out = os.path.join(args.out, bundle, "template.pdf")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        if producer == "cairo":
            slots = render_cairo(out)
        else:
            slots = render_weasyprint(make_html(), out, title, subject)
        print("%s: %s, %d bytes" % (out, producer, os.path.getsize(out)))
        if args.slots:
            for name, x, y, w, h in slots:
                print("  %-16s box = [%.1f, %.1f, %.1f, %.1f]" % (name, x, y, w, h))
    return 0


if __name__ == "__main__":
    sys.exit(main())
