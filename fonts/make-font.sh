#!/bin/sh
# Cuts fonts/NotoSerifSC-oneseal.otf out of Debian's Noto Serif CJK collection (see README.md).
#
# Needs: the Debian package fonts-noto-cjk 1:20220127+repack1-1 (NotoSerifCJK-Regular.ttc, whose
# font number 2 is the Simplified Chinese face), python3 with venv, and network access to PyPI
# for fonttools 4.68.0. Output is byte-identical on every run: pyftsubset keeps the source's
# head.modified timestamp unless --recalc-timestamp is given.
#
# Usage: fonts/make-font.sh [OUTPUT]   (default: fonts/NotoSerifSC-oneseal.otf beside this script)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
source_font=/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc
output=${1:-$here/NotoSerifSC-oneseal.otf}

if [ ! -f "$source_font" ]; then
    echo "missing $source_font: apt-get install fonts-noto-cjk" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet fonttools==4.68.0

# Basic Latin and Latin-1, general punctuation, letterlike symbols and number forms, enclosed
# alphanumerics, CJK symbols and punctuation, CJK Unified Ideographs with Extension A,
# compatibility ideographs, vertical and full/half-width forms, and planes 2-3 (Extension B and
# later: only the characters Noto has).
unicodes=U+0020-007E,U+00A0-024F,U+02B0-02FF,U+0370-03FF,U+0400-04FF,U+2000-206F,U+2100-218F,U+2190-21FF
unicodes=$unicodes,U+2200-22FF,U+2460-24FF,U+2500-257F,U+25A0-25FF,U+2600-26FF,U+3000-303F,U+3040-30FF
unicodes=$unicodes,U+2300-23FF,U+3100-312F,U+3200-32FF,U+3300-33FF
unicodes=$unicodes,U+3400-4DBF,U+4E00-9FFF,U+F900-FAFF,U+FE30-FE4F,U+FF00-FFEF,U+20000-2FFFF

# No OpenType layout features (we place glyphs one per character, never shaped), no hinting
# (PDF viewers ignore it), and every name record (they carry the copyright and licence).
"$work/venv/bin/pyftsubset" "$source_font" \
    --font-number=2 \
    --unicodes="$unicodes" \
    --layout-features='' \
    --no-hinting \
    --desubroutinize \
    --name-IDs='*' \
    --name-languages='*' \
    --output-file="$output"

echo "wrote $output ($(wc -c <"$output") bytes)"
sha256sum "$output"
