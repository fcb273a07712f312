#!/usr/bin/env python3
"""Draw each bundle's manifest boxes over its blank, with example.json roughly filled in.

    /tmp/tplvenv/bin/pip install pillow==13.0.0    # the venv of make-blanks.py
    /tmp/tplvenv/bin/python templates/preview-boxes.py [--out DIR] [BUNDLE ...]

For every bundle (default: all folders under templates/ with a template.toml) it renders
template.pdf with `pdftoppm -r 100` (poppler-utils) and writes DIR/<id>.png (default DIR:
/tmp/oneseal-preview): blue outlines for data fields, green for issuer-filled ones, red for the
seal, each labelled with its name; the example values are drawn with Noto Serif CJK SC the way
docs/templates.md describes (one line shrunk to fit; multiline wrapped at 1.35 line height and
shrunk until it fits). This is only a preview: the Rust issuer is what draws real licences.

It also checks what it can without the Rust code and prints one line per problem (exit 1 if
any): boxes inside the page, boxes that overlap (the seal may cover a date, nothing else may
overlap), example values against required / max_chars / pattern, dates, the credit
code's GB 32100-2015 check character, values that do not fit even at min_font_size.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib

from PIL import Image, ImageDraw, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
FONT_INDEX = 2  # Noto Serif CJK SC in the collection
DPI = 100
SCALE = DPI / 72.0
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ISSUER_KINDS = {"serial", "qr", "seal"}
SAMPLE_SERIAL = "XXJK-20261126-000123"


def credit_code_ok(code):
    if len(code) != 18 or any(c not in CHARSET for c in code):
        return False
    total = sum(CHARSET.index(c) * w for c, w in zip(code, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31] == code[17]


def font(size):
    return ImageFont.truetype(FONT, max(1, round(size * SCALE)), index=FONT_INDEX)


def width(text, size):
    return font(size).getlength(text) / SCALE


def wrap(text, size, box_w):
    """Break at the box width: CJK anywhere, Latin words whole, \\n forces a break."""
    lines = []
    for para in text.split("\n"):
        tokens = re.findall(r"[A-Za-z0-9.,%/()+\-]+|.", para) or [""]
        line = ""
        for tok in tokens:
            if line and width(line + tok, size) > box_w:
                lines.append(line)
                line = tok.lstrip(" ")
            else:
                line += tok
        lines.append(line)
    return lines


def layout(field, value):
    """(size, lines) the value is drawn with, or (None, lines) when it does not fit."""
    x, y, w, h = field["box"]
    size = float(field.get("font_size", 12.0))
    least = float(field.get("min_font_size", max(4.0, size / 2)))
    while size >= least - 1e-9:
        if field["kind"] == "multiline":
            lines = wrap(value, size, w)
            if all(width(l, size) <= w for l in lines) and len(lines) * size * 1.35 <= h + 1e-6:
                return size, lines
        elif width(value, size) <= w and size <= h:
            return size, [value]
        size -= 0.25
    return None, wrap(value, least, w) if field["kind"] == "multiline" else [value]


def date_text(iso):
    d = datetime.date.fromisoformat(iso)
    return "%d年%d月%d日" % (d.year, d.month, d.day)


def overlap(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def preview(bundle, out_dir):
    problems = []
    with open(os.path.join(bundle, "template.toml"), "rb") as f:
        manifest = tomllib.load(f)
    with open(os.path.join(bundle, "example.json"), encoding="utf-8") as f:
        data = json.load(f)
    tid = manifest["template"]["id"]
    fields = manifest["field"]

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", str(DPI), "-png", "-singlefile",
                        os.path.join(bundle, "template.pdf"), os.path.join(tmp, "page")], check=True)
        image = Image.open(os.path.join(tmp, "page.png")).convert("RGB")
    page_w, page_h = image.width / SCALE, image.height / SCALE
    draw = ImageDraw.Draw(image, "RGBA")

    def rect(box):
        x, y, w, h = box
        return [x * SCALE, (page_h - y - h) * SCALE, (x + w) * SCALE, (page_h - y) * SCALE]

    names = {f["name"] for f in fields}
    for name in data:
        if name not in names:
            problems.append("%s: example.json: unknown field '%s'" % (tid, name))

    today = datetime.date.today().isoformat()
    for field in fields:
        name, kind, box = field["name"], field["kind"], field["box"]
        x, y, w, h = box
        where = "%s: field '%s'" % (tid, name)
        if x < 0 or y < 0 or x + w > page_w + 0.01 or y + h > page_h + 0.01 or w <= 0 or h <= 0:
            problems.append("%s: box %s is not inside the %.2f x %.2f page" % (where, box, page_w, page_h))
        issuer = kind in ISSUER_KINDS or field.get("fill") == "issue_date"
        if issuer and name in data:
            problems.append("%s: example.json gives a value the issuer fills" % where)
        colour = (200, 0, 0, 255) if kind == "seal" else (0, 150, 60, 255) if issuer else (0, 70, 220, 255)
        draw.rectangle(rect(box), outline=colour, width=1)
        label_at = rect(box)
        draw.text((label_at[0] + 2, label_at[1] + 1), name, fill=colour[:3] + (200,), font=font(5.5))

        if kind == "seal":
            cx, cy = (x + w / 2) * SCALE, (page_h - y - h / 2) * SCALE
            r = min(w, h) / 2 * SCALE - 2
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=(220, 0, 0, 160), width=3)
            continue
        if kind == "qr":
            side = min(w, h)
            qx, qy = x + (w - side) / 2, y + (h - side) / 2
            cell = side / 29.0
            for i in range(29):
                for j in range(29):
                    if (i * 7 + j * 13 + i * j) % 3 == 0 or (i < 7 and j < 7) or (i < 7 and j > 21) or (i > 21 and j < 7):
                        draw.rectangle(rect([qx + i * cell, qy + j * cell, cell, cell]), fill=(0, 0, 0, 140))
            continue

        if kind == "serial":
            value = SAMPLE_SERIAL
        elif field.get("fill") == "issue_date":
            value = date_text(today)
        else:
            value = data.get(name, "")
            required = field.get("required", kind in ("text", "multiline", "date", "credit_code"))
            if required and not value:
                problems.append("%s: required, example.json has no value" % where)
            if len(value) > field.get("max_chars", 200):
                problems.append("%s: %d characters, max_chars %d" % (where, len(value), field.get("max_chars", 200)))
            if "pattern" in field and value and not re.fullmatch(field["pattern"], value):
                problems.append("%s: '%s' does not match %s" % (where, value, field["pattern"]))
            if kind == "credit_code" and value and not credit_code_ok(value):
                problems.append("%s: '%s' has a wrong check character" % (where, value))
            if kind == "date" and value:
                try:
                    value = date_text(value)
                except ValueError:
                    problems.append("%s: '%s' is not a YYYY-MM-DD date" % (where, value))
        if not value:
            continue
        size, lines = layout(field, value)
        if size is None:
            problems.append("%s: '%s' does not fit even at min_font_size" % (where, value[:20]))
            size = float(field.get("min_font_size", 6.0))
        f = font(size)
        line_h = size * (1.35 if kind == "multiline" else 1.0)
        block_top = page_h - y - h  # from the top of the page, in points
        if kind != "multiline":
            block_top += (h - line_h) / 2  # one line: centred in the box
        for i, line in enumerate(lines):
            lw = width(line, size)
            align = field.get("align", "left")
            lx = x if align == "left" else x + (w - lw) / 2 if align == "center" else x + w - lw
            em_top = block_top + i * line_h + (line_h - size) / 2
            baseline = em_top + 0.88 * size  # the ideographic em box: 0.88 above the baseline
            draw.text((lx * SCALE, baseline * SCALE), line, fill=(20, 20, 20, 255), font=f, anchor="ls")
        field["_used"] = size

    for i, a in enumerate(fields):
        for b in fields[i + 1:]:
            if a["page"] == b["page"] and overlap(a["box"], b["box"]):
                if {a["kind"], b["kind"]} == {"seal", "date"}:
                    continue  # the seal covers the date, as on paper; nothing else
                problems.append("%s: boxes of '%s' and '%s' overlap" % (tid, a["name"], b["name"]))

    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, tid + ".png")
    image.save(out)
    sizes = ", ".join("%s %.2g" % (f["name"], f["_used"]) for f in fields if "_used" in f)
    print("%s -> %s\n  drawn at: %s" % (tid, out, sizes))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="/tmp/oneseal-preview")
    parser.add_argument("bundles", nargs="*")
    args = parser.parse_args()
    bundles = args.bundles or sorted(
        os.path.join(HERE, d) for d in os.listdir(HERE)
        if os.path.isfile(os.path.join(HERE, d, "template.toml")))
    problems = []
    for bundle in bundles:
        problems += preview(bundle, args.out)
    for p in problems:
        print("problem:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
