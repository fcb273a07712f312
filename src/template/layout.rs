//! Fitting a value into its box: one line shrunk to fit, or lines wrapped at the box width.
//!
//! Works on advance widths only, so it is the same whichever font supplies them.

use super::manifest::{Align, BoxRect, FieldKind, FieldSpec};

/// What layout needs of a font.
pub trait GlyphMetrics {
    /// Whether the font can draw `ch` (a real glyph, not `.notdef`).
    fn has_glyph(&self, ch: char) -> bool;
    /// Advance width in thousandths of an em.
    fn advance(&self, ch: char) -> Option<f64>;
    /// Ascent and descent in thousandths of an em (descent negative).
    fn vertical_metrics(&self) -> (f64, f64);
}

/// Line height of wrapped text, as a multiple of the font size.
pub const LINE_HEIGHT: f64 = 1.35;
/// Step by which text shrinks while looking for a size that fits.
const SHRINK_STEP: f64 = 0.25;

/// A value placed on the page: its size and each line's baseline origin.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedText {
    pub size: f64,
    pub lines: Vec<PlacedLine>,
}

/// One line of text and where its baseline starts, in page space.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedLine {
    pub text: String,
    pub x: f64,
    pub y: f64,
}

/// Lays out `value` in `field`'s box, or says why it does not fit.
pub fn place(
    field: &FieldSpec,
    value: &str,
    font: &dyn GlyphMetrics,
) -> Result<PlacedText, String> {
    let mut size = field.font_size;
    loop {
        let lines = match field.kind {
            FieldKind::Multiline => wrap(value, field.rect.width, size, font),
            _ => Some(vec![value.to_string()]),
        };
        if let Some(lines) = lines.filter(|l| fits(l, field.rect, size, font)) {
            return Ok(position(field, lines, size, font));
        }
        if size <= field.min_font_size {
            return Err(format!(
                "the value does not fit the {:.0} × {:.0} pt box even at {} pt",
                field.rect.width, field.rect.height, field.min_font_size
            ));
        }
        size = (size - SHRINK_STEP).max(field.min_font_size);
    }
}

/// Width of `text` in points at `size`.
pub fn text_width(text: &str, size: f64, font: &dyn GlyphMetrics) -> f64 {
    text.chars()
        .map(|ch| font.advance(ch).unwrap_or(1000.0))
        .sum::<f64>()
        * size
        / 1000.0
}

fn fits(lines: &[String], rect: BoxRect, size: f64, font: &dyn GlyphMetrics) -> bool {
    let (ascent, descent) = font.vertical_metrics();
    let glyph_height = (ascent - descent) * size / 1000.0;
    let height = match lines.len() {
        0 | 1 => glyph_height,
        n => glyph_height + (n - 1) as f64 * size * LINE_HEIGHT,
    };
    height <= rect.height + 0.01
        && lines
            .iter()
            .all(|l| text_width(l, size, font) <= rect.width + 0.01)
}

fn position(
    field: &FieldSpec,
    lines: Vec<String>,
    size: f64,
    font: &dyn GlyphMetrics,
) -> PlacedText {
    let rect = field.rect;
    let (ascent, descent) = font.vertical_metrics();
    let glyph_height = (ascent - descent) * size / 1000.0;
    // A single line sits in the middle of its box; wrapped text starts at the top.
    let first_baseline = if lines.len() <= 1 {
        rect.y + (rect.height - glyph_height) / 2.0 - descent * size / 1000.0
    } else {
        rect.y + rect.height - ascent * size / 1000.0
    };
    let lines = lines
        .into_iter()
        .enumerate()
        .map(|(index, text)| {
            let free = rect.width - text_width(&text, size, font);
            let x = match field.align {
                Align::Left => rect.x,
                Align::Center => rect.x + free / 2.0,
                Align::Right => rect.x + free,
            };
            let y = first_baseline - index as f64 * size * LINE_HEIGHT;
            PlacedLine { text, x, y }
        })
        .collect();
    PlacedText { size, lines }
}

/// Characters that may not begin a line (GB/T 15834 punctuation: closing marks stay with the
/// text before them).
fn closes(ch: char) -> bool {
    "，。、；：？！）》」』】〕”’…—,.;:?!)]%".contains(ch)
}

/// Breaks `value` into lines no wider than `width`: CJK between any two characters, Latin text
/// at spaces (a word wider than the line is split), `\n` always. `None` if nothing can fit.
fn wrap(value: &str, width: f64, size: f64, font: &dyn GlyphMetrics) -> Option<Vec<String>> {
    let mut lines = Vec::new();
    for paragraph in value.split('\n') {
        let characters: Vec<char> = paragraph.chars().collect();
        // A moving slice: copying the remainder per line made wrapping quadratic.
        let mut rest = characters.as_slice();
        if rest.is_empty() {
            lines.push(String::new());
        }
        while !rest.is_empty() {
            let cut = line_break(rest, width, size, font)?;
            let (line, tail) = rest.split_at(cut);
            lines.push(line.iter().collect::<String>().trim_end().to_string());
            let skip = tail.iter().take_while(|c| **c == ' ').count();
            rest = tail.get(skip..).unwrap_or_default();
        }
    }
    Some(lines)
}

/// How many of `chars` go on the next line.
fn line_break(chars: &[char], width: f64, size: f64, font: &dyn GlyphMetrics) -> Option<usize> {
    let mut used = 0.0;
    let mut fit = 0;
    for ch in chars {
        used += font.advance(*ch).unwrap_or(1000.0) * size / 1000.0;
        if used > width + 0.01 && *ch != ' ' {
            break;
        }
        fit += 1;
    }
    if fit == chars.len() {
        return Some(fit);
    }
    if fit == 0 {
        return None;
    }
    let next = chars.get(fit).copied().unwrap_or(' ');
    let previous = chars.get(fit - 1).copied().unwrap_or(' ');
    if is_latin_word(previous) && is_latin_word(next) {
        // Back up to where the Latin word or number began (after a space or a CJK character),
        // so 18,650.2 is never split; a run wider than the whole line is split anyway.
        let start = chars
            .get(..fit)
            .and_then(|c| c.iter().rposition(|c| !is_latin_word(*c)))
            .map_or(0, |i| i + 1);
        if start > 0 {
            return Some(start);
        }
    }
    // Kinsoku: a line neither starts with closing punctuation nor ends with opening punctuation.
    // Moving a few characters down is enough for any real run of marks.
    let mut cut = fit;
    for _ in 0..4 {
        let starts = chars.get(cut).copied().unwrap_or(' ');
        let ends = chars.get(cut.wrapping_sub(1)).copied().unwrap_or(' ');
        if cut > 1 && (closes(starts) || opens(ends)) {
            cut -= 1;
        } else {
            break;
        }
    }
    Some(cut)
}

/// Characters that may not end a line: opening marks stay with the text after them.
fn opens(ch: char) -> bool {
    "（《「『【〔“‘([".contains(ch)
}

fn is_latin_word(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || "-_/.,:@#&%".contains(ch)
}

/// The template tests' font: ASCII half an em, everything else one em, Noto's vertical
/// metrics; it lacks U+20000, as Noto does, so missing-glyph rules can be tested.
#[cfg(test)]
pub(crate) struct FixedFont;

#[cfg(test)]
impl GlyphMetrics for FixedFont {
    fn has_glyph(&self, ch: char) -> bool {
        ch != '\u{20000}'
    }
    fn advance(&self, ch: char) -> Option<f64> {
        Some(if ch.is_ascii() { 500.0 } else { 1000.0 })
    }
    fn vertical_metrics(&self) -> (f64, f64) {
        (880.0, -120.0)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::template::manifest::parse_manifest;

    use super::FixedFont;

    fn field(kind: &str, rect: &str, extra: &str) -> FieldSpec {
        let text = format!(
            "[template]\nid=\"t\"\ntitle=\"t\"\ndepartment=\"d\"\nversion=\"1\"\ntime_limit_days=1\n\
             [[field]]\nname=\"v\"\nlabel=\"值\"\nkind=\"{kind}\"\nbox={rect}\n{extra}\n\
             [[field]]\nname=\"s\"\nlabel=\"章\"\nkind=\"seal\"\nbox=[0,0,100,100]\n"
        );
        parse_manifest(text.as_bytes())
            .map(|m| m.fields[0].clone())
            .expect("manifest")
    }

    #[test]
    fn a_line_that_fits_keeps_its_size_and_is_centred_vertically() {
        let spec = field("text", "[100, 500, 200, 20]", "font_size = 10");
        let placed = place(&spec, "经营者名称", &FixedFont).expect("fits");
        assert_eq!(placed.size, 10.0);
        let line = &placed.lines[0];
        assert_eq!(line.x, 100.0);
        assert!((line.y - (500.0 + 5.0 + 1.2)).abs() < 1e-9, "{}", line.y);
    }

    #[test]
    fn a_long_line_shrinks_and_aligns_right() {
        let spec = field(
            "text",
            "[0, 0, 100, 20]",
            "font_size = 12\nmin_font_size = 6\nalign = \"right\"",
        );
        let placed = place(&spec, "一二三四五六七八九十", &FixedFont).expect("fits");
        assert_eq!(placed.size, 10.0);
        assert!((placed.lines[0].x - 0.0).abs() < 1e-9);
        let too_long = "一".repeat(17);
        let error = place(&spec, &too_long, &FixedFont).expect_err("too long");
        assert!(error.contains("6 pt"), "{error}");
    }

    #[test]
    fn multiline_wraps_cjk_anywhere_and_keeps_latin_words_whole() {
        let spec = field("multiline", "[0, 0, 60, 200]", "font_size = 10");
        let placed = place(&spec, "一二三四五六七八\nab cdefgh ijk", &FixedFont).expect("fits");
        let lines: Vec<&str> = placed.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(lines, ["一二三四五六", "七八", "ab cdefgh", "ijk"]);
        assert!(placed.lines[1].y < placed.lines[0].y);
    }

    #[test]
    fn closing_punctuation_never_starts_a_line() {
        let spec = field("multiline", "[0, 0, 30, 200]", "font_size = 10");
        let placed = place(&spec, "一二三，四", &FixedFont).expect("fits");
        let lines: Vec<&str> = placed.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(lines, ["一二", "三，四"]);
        let placed = place(&spec, "一二层），二", &FixedFont).expect("fits");
        let lines: Vec<&str> = placed.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(lines, ["一二", "层），", "二"]);
        let placed = place(&spec, "一二（三）", &FixedFont).expect("fits");
        let lines: Vec<&str> = placed.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(lines, ["一二", "（三）"]);
    }

    #[test]
    fn numbers_after_cjk_are_never_split() {
        let spec = field("multiline", "[0, 0, 50, 200]", "font_size = 10");
        let placed = place(&spec, "车间18,650.2平方米", &FixedFont).expect("fits");
        let lines: Vec<&str> = placed.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(lines, ["车间", "18,650.2平", "方米"]);
    }

    #[test]
    fn multiline_shrinks_until_the_lines_fit_the_height() {
        let spec = field(
            "multiline",
            "[0, 0, 100, 30]",
            "font_size = 12\nmin_font_size = 5",
        );
        let placed = place(&spec, &"字".repeat(30), &FixedFont).expect("fits");
        assert!(placed.size < 12.0 && placed.size >= 5.0);
        assert!(placed.lines.len() >= 2);
    }
}
