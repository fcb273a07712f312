//! The official seal (公章) as vector graphics: a red ring, a five-pointed star, the organisation
//! name along the upper arc and the seal name below the star, as one Form XObject's content
//! stream (ISO 32000-2 §8.10, text operators §9.4).

use std::f64::consts::PI;

use super::font::{FontError, FontSubset};
use crate::pdf::{Object, Real, serialize};

/// Seal red, for ring, star and text alike.
const SEAL_RED: [f64; 3] = [0.85, 0.1, 0.1];

/// Proportions, as fractions of the diameter: the ring stroke (1/28, inside the 1/25–1/30 usual
/// for official seals), the gap between ring and text, the star's circumradius (0.15 gives 0.29
/// tip to tip), and where the seal name's top sits below the centre.
const RING_WIDTH: f64 = 1.0 / 28.0;
const TEXT_GAP: f64 = 0.028;
const STAR_RADIUS: f64 = 0.15;
const NAME_TOP: f64 = 0.19;

/// Organisation name: size as a fraction of the diameter, the spacing between characters as a
/// fraction of their width, the widest arc (degrees of the circle the characters cover), the arc
/// short names are spread towards (by at most 1.6 times their natural spacing), the least
/// horizontal scale before the size shrinks, and the least size.
const ARC_SIZE: f64 = 0.16;
const ARC_TRACKING: f64 = 0.12;
const ARC_MAX_DEGREES: f64 = 240.0;
const ARC_MIN_DEGREES: f64 = 150.0;
const ARC_MIN_SCALE: f64 = 0.55;
const ARC_MIN_SIZE: f64 = 0.095;

/// Seal name: size, widest line, least horizontal scale before shrinking, least size.
const NAME_SIZE: f64 = 0.11;
const NAME_MAX_WIDTH: f64 = 0.52;
const NAME_MIN_SCALE: f64 = 0.6;
const NAME_MIN_SIZE: f64 = 0.06;

/// The stroke added to glyph outlines (text render mode 2), as a fraction of the font size: the
/// regular weight thickened to the heavier look of an engraved seal.
const EMBOLDEN: f64 = 0.025;

/// What the seal says.
pub struct SealText<'a> {
    pub organization: &'a str,
    pub seal_name: &'a str,
}

/// Content stream of a Form XObject with BBox [0 0 width height]: the seal centred, diameter =
/// min(width, height). `font_resource` is the resource name (e.g. b"F1") under which the caller
/// puts the FontSubset's Type0 font.
pub fn draw_seal(
    width: f64,
    height: f64,
    text: &SealText<'_>,
    font: &mut FontSubset<'_>,
    font_resource: &[u8],
) -> Result<Vec<u8>, FontError> {
    let diameter = width.min(height);
    let mut content = Content::default();
    if !(diameter.is_finite() && diameter > 0.0) {
        return Ok(content.bytes);
    }
    let seal = Seal {
        centre: (width / 2.0, height / 2.0),
        diameter,
    };
    content.operator(&[], "q");
    content.operator(&SEAL_RED, "rg");
    content.operator(&SEAL_RED, "RG");
    seal.ring(&mut content);
    seal.star(&mut content);
    let organization: Vec<char> = text.organization.chars().collect();
    if !organization.is_empty() {
        seal.arc_text(&mut content, &organization, font, font_resource)?;
    }
    if !text.seal_name.is_empty() {
        seal.name_line(&mut content, text.seal_name, font, font_resource)?;
    }
    content.operator(&[], "Q");
    Ok(content.bytes)
}

/// Where the seal sits in the form's space.
struct Seal {
    centre: (f64, f64),
    diameter: f64,
}

impl Seal {
    /// The ring: a circle stroked inside the seal's outline, so its outer edge is the diameter.
    fn ring(&self, content: &mut Content) {
        let stroke = self.diameter * RING_WIDTH;
        content.operator(&[stroke], "w");
        let radius = (self.diameter - stroke) / 2.0;
        // Four cubic Béziers, each a quarter circle (§8.5.2.2); 0.5523 keeps the midpoints on it.
        let k = radius * 0.552_284_75;
        let (x, y) = self.centre;
        content.operator(&[x + radius, y], "m");
        content.operator(&[x + radius, y + k, x + k, y + radius, x, y + radius], "c");
        content.operator(&[x - k, y + radius, x - radius, y + k, x - radius, y], "c");
        content.operator(&[x - radius, y - k, x - k, y - radius, x, y - radius], "c");
        content.operator(&[x + k, y - radius, x + radius, y - k, x + radius, y], "c");
        content.operator(&[], "h S");
    }

    /// The solid star, one point up: ten vertices alternating between the outer radius and the
    /// inner radius of a regular pentagram (outer × sin 18° / sin 126°).
    fn star(&self, content: &mut Content) {
        let outer = self.diameter * STAR_RADIUS;
        let inner = outer * (18.0_f64.to_radians().sin() / 126.0_f64.to_radians().sin());
        let (x, y) = self.centre;
        for vertex in 0..10 {
            let radius = if vertex % 2 == 0 { outer } else { inner };
            let angle = (90.0 + 36.0 * f64::from(vertex)).to_radians();
            let point = [x + radius * angle.cos(), y + radius * angle.sin()];
            content.operator(&point, if vertex == 0 { "m" } else { "l" });
        }
        content.operator(&[], "h f");
    }

    /// The organisation name along the upper arc, read clockwise from the lower left, each
    /// character upright along its radius with its top outward. Long names first narrow the
    /// characters (Tz), then shrink them, so up to ~30 characters fit within the widest arc.
    fn arc_text(
        &self,
        content: &mut Content,
        name: &[char],
        font: &mut FontSubset<'_>,
        resource: &[u8],
    ) -> Result<(), FontError> {
        let source = font.source();
        let count = name.len() as f64;
        // Radius of the characters' tops, just inside the ring.
        let top = self.diameter * (0.5 - RING_WIDTH - TEXT_GAP);
        let em = |size: f64| size * (1.0 + ARC_TRACKING);
        // The em box (ascent to descent) is centred this far below its top, per point of size.
        let half_box = (source.ascent() - source.descent()) / 2000.0;
        let centre_radius = |size: f64| top - size * half_box;
        let mut size = self.diameter * ARC_SIZE;
        // Angle per character at full width, and what the arc allows.
        let natural = em(size) / centre_radius(size);
        let widest = ARC_MAX_DEGREES.to_radians() / count;
        let (pitch, scale) = if natural <= widest {
            let narrowest = ARC_MIN_DEGREES.to_radians() / count;
            (natural.max(narrowest.min(natural * 1.6)), 1.0)
        } else {
            // Largest size at which characters narrowed to ARC_MIN_SCALE fill their share.
            let fitted = widest * top / (ARC_MIN_SCALE * (1.0 + ARC_TRACKING) + widest * half_box);
            size = fitted.clamp(self.diameter * ARC_MIN_SIZE, size);
            (widest, (widest * centre_radius(size) / em(size)).min(1.0))
        };
        let baseline = top - size * source.ascent() / 1000.0;
        content.begin_text(resource, size, scale);
        for (index, &ch) in name.iter().enumerate() {
            let angle = PI / 2.0 + pitch * ((count - 1.0) / 2.0 - index as f64);
            let (sin, cos) = angle.sin_cos();
            let half_width = source.advance(ch).unwrap_or(1000.0) * size * scale / 2000.0;
            // Text space x runs clockwise along the tangent, y outward along the radius.
            let origin = [
                self.centre.0 + baseline * cos - half_width * sin,
                self.centre.1 + baseline * sin + half_width * cos,
            ];
            content.operator(&[sin, -cos, cos, sin, origin[0], origin[1]], "Tm");
            content.show(&font.show(&ch.to_string())?);
        }
        content.operator(&[], "ET");
        Ok(())
    }

    /// The seal name as one centred line below the star, narrowed and then shrunk to fit.
    fn name_line(
        &self,
        content: &mut Content,
        name: &str,
        font: &mut FontSubset<'_>,
        resource: &[u8],
    ) -> Result<(), FontError> {
        let source = font.source();
        let available = self.diameter * NAME_MAX_WIDTH;
        let mut size = self.diameter * NAME_SIZE;
        let natural = source.text_width(name, size);
        let mut scale = 1.0;
        if natural > available {
            scale = available / natural;
            if scale < NAME_MIN_SCALE {
                size = (size * scale / NAME_MIN_SCALE).max(self.diameter * NAME_MIN_SIZE);
                scale = available / source.text_width(name, size);
            }
        }
        let width = source.text_width(name, size) * scale;
        let baseline = self.centre.1 - self.diameter * NAME_TOP - size * source.ascent() / 1000.0;
        content.begin_text(resource, size, scale);
        content.operator(&[self.centre.0 - width / 2.0, baseline], "Td");
        content.show(&font.show(name)?);
        content.operator(&[], "ET");
        Ok(())
    }
}

/// A content stream being written: operands as compact reals (§7.3.3), one operator per line.
#[derive(Default)]
struct Content {
    bytes: Vec<u8>,
}

impl Content {
    fn operator(&mut self, operands: &[f64], operator: &str) {
        for &operand in operands {
            self.bytes
                .extend_from_slice(Real::from_f64(operand).as_str().as_bytes());
            self.bytes.push(b' ');
        }
        self.bytes.extend_from_slice(operator.as_bytes());
        self.bytes.push(b'\n');
    }

    /// `BT`, the font at `size`, horizontal scale (Tz, §9.3.4) and render mode 2, fill then
    /// stroke (§9.3.6), with a stroke proportional to the size.
    fn begin_text(&mut self, resource: &[u8], size: f64, scale: f64) {
        self.operator(&[size * EMBOLDEN], "w");
        self.bytes.extend_from_slice(b"BT\n");
        self.bytes
            .extend_from_slice(&serialize(&Object::name(resource)));
        self.bytes.push(b' ');
        self.operator(&[size], "Tf");
        self.operator(&[scale * 100.0], "Tz");
        self.operator(&[2.0], "Tr");
    }

    fn show(&mut self, operand: &[u8]) {
        self.bytes.extend_from_slice(operand);
        self.bytes.extend_from_slice(b" Tj\n");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::template::font::SourceFont;

    const LONG: &str = "河南省新乡市经济技术开发区管理委员会行政审批服务局（示例）";

    fn draw(size: f64, organization: &str, seal_name: &str) -> String {
        let mut font = FontSubset::new(SourceFont::shipped().unwrap());
        let text = SealText {
            organization,
            seal_name,
        };
        String::from_utf8(draw_seal(size, size, &text, &mut font, b"F1").unwrap()).unwrap()
    }

    /// The numeric operands of every `operator` line, in order (names such as `/F1` skipped).
    fn operands(content: &str, operator: &str) -> Vec<Vec<f64>> {
        content
            .lines()
            .filter_map(|line| line.strip_suffix(operator)?.strip_suffix(' '))
            .map(|numbers| {
                numbers
                    .split(' ')
                    .filter(|n| !n.starts_with('/'))
                    .map(|n| n.parse().unwrap())
                    .collect()
            })
            .collect()
    }

    /// The corners of each arc character's em box (scaled by Tz) in form space.
    fn arc_boxes(content: &str) -> Vec<[(f64, f64); 4]> {
        let arc = content.split("ET\n").next().unwrap();
        let size = operands(arc, "Tf")[0][0];
        let scale = operands(arc, "Tz")[0][0] / 100.0;
        operands(arc, "Tm")
            .iter()
            .map(|m| {
                let corner =
                    |x: f64, y: f64| (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]);
                let (width, bottom, top) = (size * scale, -0.12 * size, 0.88 * size);
                [
                    corner(0.0, bottom),
                    corner(width, bottom),
                    corner(0.0, top),
                    corner(width, top),
                ]
            })
            .collect()
    }

    #[test]
    fn the_seal_is_red_balanced_and_reproducible() {
        let content = draw(120.0, "新乡经济技术开发区管理委员会", "行政审批专用章");
        assert!(
            content.starts_with("q\n0.85 0.1 0.1 rg\n0.85 0.1 0.1 RG\n"),
            "{content}"
        );
        assert!(content.ends_with("Q\n"));
        let count = |op: &str| content.lines().filter(|l| l.ends_with(op)).count();
        assert_eq!((count(" q"), count("BT"), count("ET")), (0, 2, 2));
        assert_eq!(count(" Tm"), 14);
        assert_eq!(count("2 Tr"), 2);
        // Ring stroke 1/28 of the diameter; a filled ten-vertex star.
        assert!(content.contains("\n4.2857 w\n"));
        assert_eq!(count(" l"), 9);
        assert_eq!(
            content,
            draw(120.0, "新乡经济技术开发区管理委员会", "行政审批专用章")
        );
    }

    #[test]
    fn arc_characters_stay_inside_the_ring_and_clear_of_the_seal_name() {
        for name in [
            "印",
            "示例公司",
            "某某市人民政府",
            "新乡经济技术开发区管理委员会（示例）",
            LONG,
        ] {
            let content = draw(100.0, name, "电子证照专用章");
            let inner = 50.0 - 100.0 * RING_WIDTH;
            let line = operands(&content, "Td")[0].clone();
            let name_top = 50.0 - 100.0 * NAME_TOP;
            for corners in arc_boxes(&content) {
                for (x, y) in corners {
                    let radius = ((x - 50.0).powi(2) + (y - 50.0).powi(2)).sqrt();
                    assert!(radius < inner, "{name}: corner at radius {radius}");
                    let beside_name = x > line[0] && x < 100.0 - line[0];
                    assert!(
                        !(beside_name && y > line[1] && y < name_top),
                        "{name}: ({x}, {y})"
                    );
                }
            }
        }
    }

    #[test]
    fn long_names_are_narrowed_then_shrunk_short_ones_kept_whole() {
        let scale = |name: &str| operands(&draw(100.0, name, ""), "Tz")[0][0];
        let size = |name: &str| operands(&draw(100.0, name, ""), "Tf")[0][0];
        assert_eq!((scale("示例公司"), size("示例公司")), (100.0, 16.0));
        let medium = "新乡经济技术开发区管理委员会（示例）";
        assert!((55.0..100.0).contains(&scale(medium)), "{}", scale(medium));
        assert!(size(LONG) < size(medium) && size(LONG) >= 9.5);
        assert!(scale(LONG) >= 45.0, "{}", scale(LONG));
    }

    #[test]
    fn the_seal_name_is_centred_and_fits() {
        let font = SourceFont::shipped().unwrap();
        for name in ["公章", "行政审批专用章", "食品经营许可审批与监督管理专用章"]
        {
            let content = draw(100.0, "示例", name);
            let line = operands(&content, "Td")[0].clone();
            let size = operands(&content, "Tf")[1][0];
            let scale = operands(&content, "Tz")[1][0] / 100.0;
            let width = font.text_width(name, size) * scale;
            assert!((line[0] + width / 2.0 - 50.0).abs() < 1e-3, "{name}");
            assert!(width <= 100.0 * NAME_MAX_WIDTH + 1e-3, "{name}: {width}");
        }
    }

    #[test]
    fn a_character_without_a_glyph_is_refused_by_name() {
        let mut font = FontSubset::new(SourceFont::shipped().unwrap());
        let text = SealText {
            organization: "示例𠀀公司",
            seal_name: "公章",
        };
        let error = draw_seal(100.0, 100.0, &text, &mut font, b"F1").unwrap_err();
        assert_eq!(error, FontError::MissingGlyph { ch: '𠀀' });
    }

    #[test]
    fn a_box_without_area_draws_nothing_and_names_are_optional() {
        assert_eq!(draw(0.0, "示例", "公章"), "");
        assert_eq!(draw(f64::NAN, "示例", "公章"), "");
        let bare = draw(50.0, "", "");
        assert!(!bare.contains("BT"));
        assert!(bare.contains(" c\n") && bare.contains("h f"));
    }
}
