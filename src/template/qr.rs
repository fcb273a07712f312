//! The licence's verification QR code (ISO/IEC 18004) as content-stream operators: one filled
//! path of rectangles, in a coordinate system where a module is one unit.

use std::fmt::Write as _;

use fast_qr::{ECL, Mode, QRBuilder};

use crate::pdf::Real;

/// Bytes a version 40 symbol holds in byte mode at level M (ISO/IEC 18004:2015 Table 7).
pub const MAX_PAYLOAD_BYTES: usize = 2331;
/// Light modules on each side of the symbol (ISO/IEC 18004:2015 §9.1, quiet zone).
const QUIET_ZONE: usize = 4;
/// Smallest module drawn, in points (about 0.26 mm): below it phone cameras stop reading a
/// printed code reliably, so a box that small is refused rather than drawn unreadable.
pub const MIN_MODULE_POINTS: f64 = 0.75;
/// Module sizes are rounded down to this many parts of a point, so the code never outgrows its
/// box and the `cm` operands are written exactly.
const MODULE_STEPS_PER_POINT: f64 = 10_000.0;

/// Why a QR code cannot be drawn.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum QrError {
    /// The payload is longer than the largest QR code holds.
    #[error("the QR payload is {bytes} bytes; a QR code (level M) holds at most {max}")]
    TooLong { bytes: usize, max: usize },
    /// The box is not a finite rectangle of positive size.
    #[error("the QR box ({x}, {y}, {width}, {height}) is not a finite rectangle of positive size")]
    BadBox {
        x: f64,
        y: f64,
        width: f64,
        height: f64,
    },
    /// The box's square is too small for the code's modules to be read from paper.
    #[error(
        "a {side} pt square fits {modules} modules (code and quiet zone) of {module:.2} pt; \
         at least {MIN_MODULE_POINTS} pt are needed: enlarge the box or shorten the payload"
    )]
    BoxTooSmall {
        side: f64,
        modules: usize,
        module: f64,
    },
    /// The encoder refused the payload for another reason.
    #[error("the QR payload cannot be encoded: {0}")]
    Encoding(String),
}

/// Content-stream operators drawing the QR code for `payload` (byte mode, error correction
/// level M, ISO/IEC 18004) filled black, as one path of `re` rectangles (a horizontal run of
/// dark modules is one rectangle), with a 4-module quiet zone painted white, as large as fits
/// centred in the square part of the box (x, y, width, height) in page space.
///
/// A `cm` scales one module to one unit, so every rectangle has integer corners and adjacent
/// rows share their edges exactly: no rounding can open a hairline between them.
pub fn draw_qr(payload: &str, x: f64, y: f64, width: f64, height: f64) -> Result<Vec<u8>, QrError> {
    let finite = [x, y, width, height].iter().all(|v| v.is_finite());
    if !(finite && width > 0.0 && height > 0.0) {
        return Err(QrError::BadBox {
            x,
            y,
            width,
            height,
        });
    }
    let code = encode(payload.as_bytes())?;
    let modules = code.width;
    let span = modules + 2 * QUIET_ZONE;
    let side = width.min(height);
    let module = (side / span as f64 * MODULE_STEPS_PER_POINT).floor() / MODULE_STEPS_PER_POINT;
    if module < MIN_MODULE_POINTS {
        return Err(QrError::BoxTooSmall {
            side,
            modules: span,
            module: side / span as f64,
        });
    }
    let drawn = module * span as f64;
    let left = x + (width - drawn) / 2.0;
    let bottom = y + (height - drawn) / 2.0;
    let mut out = String::new();
    // ISO 32000-2 §8.4.4 (q/Q), §8.3.4 (cm), §8.5.2.1 (re), §8.5.3.1 (f), §8.6.8 (g).
    let _ = writeln!(
        out,
        "q\n{} 0 0 {} {} {} cm\n1 g\n0 0 {span} {span} re\nf\n0 g",
        number(module),
        number(module),
        number(left),
        number(bottom)
    );
    dark_runs(&code, span, &mut out);
    out.push_str("f\nQ\n");
    Ok(out.into_bytes())
}

/// An encoded symbol: `width` × `width` modules, row 0 at the top, `true` for dark.
struct Symbol {
    width: usize,
    /// ISO/IEC 18004 version, 1–40; read by the tests.
    #[cfg_attr(not(test), allow(dead_code))]
    version: usize,
    dark: Vec<bool>,
}

/// The smallest symbol holding `payload` in byte mode at level M (ISO/IEC 18004:2015 §7.4.5),
/// its mask chosen by the penalty rules of §7.8.3.
fn encode(payload: &[u8]) -> Result<Symbol, QrError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(QrError::TooLong {
            bytes: payload.len(),
            max: MAX_PAYLOAD_BYTES,
        });
    }
    let code = QRBuilder::new(payload)
        .ecl(ECL::M)
        .mode(Mode::Byte)
        .build()
        .map_err(|e| QrError::Encoding(e.to_string()))?;
    let width = code.size;
    let dark = code
        .data
        .get(..width * width)
        .ok_or_else(|| QrError::Encoding("the encoder returned a short symbol".into()))?
        .iter()
        .map(|module| module.value())
        .collect();
    Ok(Symbol {
        width,
        version: code.version.map_or(0, |v| v as usize + 1),
        dark,
    })
}

/// One `re` per horizontal run of dark modules, in module units with the origin at the lower
/// left of the quiet zone; the symbol's top row (row 0 of the encoder) is drawn highest.
fn dark_runs(code: &Symbol, span: usize, out: &mut String) {
    for (row, line) in code.dark.chunks(code.width).enumerate() {
        let y = span - QUIET_ZONE - 1 - row;
        let mut start = None;
        // A light module after the row closes a run that reaches its right edge.
        for (column, dark) in line.iter().chain([&false]).enumerate() {
            match (*dark, start) {
                (true, None) => start = Some(column),
                (false, Some(first)) => {
                    let _ = writeln!(out, "{} {y} {} 1 re", QUIET_ZONE + first, column - first);
                    start = None;
                }
                _ => {}
            }
        }
    }
}

fn number(value: f64) -> String {
    Real::from_f64(value).as_str().to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    /// The dark modules the rectangles of `content` cover, as rows of the symbol, top first.
    fn modules_drawn(content: &str, modules: usize) -> Vec<Vec<bool>> {
        let span = modules + 2 * QUIET_ZONE;
        let mut grid = vec![vec![false; modules]; modules];
        let rectangles = content.lines().filter(|l| l.ends_with(" re")).skip(1);
        for line in rectangles {
            let n: Vec<usize> = line
                .split(' ')
                .take(4)
                .map(|v| v.parse().unwrap())
                .collect();
            assert_eq!(n[3], 1, "{line}");
            let row = span - QUIET_ZONE - 1 - n[1];
            for module in grid[row].iter_mut().skip(n[0] - QUIET_ZONE).take(n[2]) {
                assert!(!*module, "modules drawn twice: {line}");
                *module = true;
            }
        }
        grid
    }

    #[test]
    fn draws_every_dark_module_once_as_merged_runs() {
        let payload = "https://licences.example.gov.cn/v/SC2026000123";
        let content =
            String::from_utf8(draw_qr(payload, 100.0, 200.0, 80.0, 80.0).unwrap()).unwrap();
        let code = encode(payload.as_bytes()).unwrap();
        let expected: Vec<Vec<bool>> = code.dark.chunks(code.width).map(<[bool]>::to_vec).collect();
        assert_eq!(modules_drawn(&content, code.width), expected);
        // Runs are maximal: no two rectangles of a row touch.
        let mut previous: Option<(usize, usize, usize)> = None;
        for line in content.lines().filter(|l| l.ends_with(" re")).skip(1) {
            let n: Vec<usize> = line
                .split(' ')
                .take(3)
                .map(|v| v.parse().unwrap())
                .collect();
            if let Some((x, y, w)) = previous {
                assert!(
                    !(y == n[1] && x + w == n[0]),
                    "{line} continues the run before it"
                );
            }
            previous = Some((n[0], n[1], n[2]));
        }
    }

    #[test]
    fn is_wrapped_black_scaled_to_modules_and_centred_in_the_square() {
        let content =
            String::from_utf8(draw_qr("hello", 10.0, 20.0, 200.0, 58.0).unwrap()).unwrap();
        let lines: Vec<&str> = content.lines().collect();
        // "hello" is version 1: 21 modules and 8 of quiet zone, 2 pt each.
        assert_eq!(
            lines[..6],
            ["q", "2 0 0 2 81 20 cm", "1 g", "0 0 29 29 re", "f", "0 g"]
        );
        assert_eq!(lines[lines.len() - 2..], ["f", "Q"]);
        // Two fills: the white square, then every dark module as one path.
        assert_eq!(lines.iter().filter(|l| **l == "f").count(), 2);
    }

    #[test]
    fn uses_byte_mode_at_level_m_up_to_version_40() {
        // Numeric data would fit version 1 in numeric mode; byte mode needs version 2.
        let digits = "1234567890123456789";
        assert_eq!(encode(digits.as_bytes()).unwrap().version, 2);
        assert_eq!(encode(digits.as_bytes()).unwrap().width, 25);
        let longest = "a".repeat(MAX_PAYLOAD_BYTES);
        assert_eq!(encode(longest.as_bytes()).unwrap().version, 40);
        assert_eq!(
            draw_qr(&format!("{longest}a"), 0.0, 0.0, 1000.0, 1000.0),
            Err(QrError::TooLong {
                bytes: MAX_PAYLOAD_BYTES + 1,
                max: MAX_PAYLOAD_BYTES
            })
        );
    }

    #[test]
    fn refuses_boxes_it_cannot_draw_a_readable_code_in() {
        assert!(matches!(
            draw_qr("x", 0.0, 0.0, 0.0, 50.0),
            Err(QrError::BadBox { .. })
        ));
        assert!(matches!(
            draw_qr("x", f64::NAN, 0.0, 50.0, 50.0),
            Err(QrError::BadBox { .. })
        ));
        let error = draw_qr(&"a".repeat(120), 0.0, 0.0, 30.0, 300.0).unwrap_err();
        assert!(
            matches!(error, QrError::BoxTooSmall { modules: 53, .. }),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("a 30 pt square fits 53 modules"),
            "{error}"
        );
    }
}
