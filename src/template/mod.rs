//! Template bundles and e-licence rendering: manifests, validation, the embedded font, QR codes,
//! the drawn seal, and the overlay revision that puts the data on the department's blank.
//!
//! Pure: bundles and data arrive as bytes and text; the issuance date and serial are passed in.

pub mod bundle;
pub mod data;
pub mod font;
pub mod layout;
pub mod manifest;
pub mod qr;
pub mod render;
pub mod seal_drawing;
pub mod seal_image;

use std::fmt;

use bundle::{BlankLimits, PageBox, check_blank_partly};
use data::check_data;
use layout::GlyphMetrics;
use manifest::{FieldKind, FieldSpec, Manifest, parse_manifest_partly};

/// One thing wrong with a bundle or with issuance data, and where: a field name, a manifest key
/// or a PDF object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where the problem is, e.g. `field 'operator_name'` or `template.pdf object 12 0`.
    pub place: String,
    /// What is wrong, in words a department clerk can act on.
    pub message: String,
}

impl Problem {
    pub fn new(place: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            place: place.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// A checked bundle: a manifest whose every box lies on a page of a blank with no active
/// content. Only [`Bundle::load`] makes one.
#[derive(Clone, Debug)]
pub struct Bundle {
    pub manifest: Manifest,
    /// `template.pdf`, byte for byte.
    pub blank: Vec<u8>,
    /// Each page's CropBox, 1-based order.
    pub pages: Vec<PageBox>,
}

/// Smallest side of a QR box: at 1.2 pt a module, a 41-module symbol with its quiet zone.
pub const MIN_QR_SIDE: f64 = 48.0;
/// Smallest side of the seal box (about 13 mm).
pub const MIN_SEAL_SIDE: f64 = 36.0;

impl Bundle {
    /// Checks a bundle's manifest, blank and (when given) example data, returning every problem.
    pub fn load(
        manifest: &[u8],
        blank: Vec<u8>,
        example: Option<&[u8]>,
        font: &dyn GlyphMetrics,
    ) -> Result<Bundle, Vec<Problem>> {
        let (manifest, mut problems) = parse_manifest_partly(manifest);
        let (summary, blank_problems) = check_blank_partly(&blank, &BlankLimits::default());
        let blank_ok = blank_problems.is_empty();
        problems.splice(0..0, blank_problems);
        if let Some(manifest) = &manifest
            && !summary.pages.is_empty()
        {
            problems.extend(check_geometry(manifest, &summary.pages));
        }
        if let (Some(manifest), Some(example)) = (&manifest, example)
            && problems.is_empty()
            && let Err(found) = check_data(manifest, example, font)
        {
            problems.extend(found.into_iter().map(|p| Problem {
                place: format!("example.json {}", p.place),
                ..p
            }));
        }
        let (Some(manifest), true) = (manifest, blank_ok && problems.is_empty()) else {
            return Err(problems);
        };
        Ok(Bundle {
            manifest,
            blank,
            pages: summary.pages,
        })
    }

    /// The fields drawn on page `number`, in manifest order.
    pub fn fields_on(&self, number: u32) -> impl Iterator<Item = &FieldSpec> {
        self.manifest
            .fields
            .iter()
            .filter(move |f| f.page == number)
    }

    /// The seal field (a checked bundle has exactly one).
    pub fn seal_field(&self) -> Option<&FieldSpec> {
        self.manifest
            .fields
            .iter()
            .find(|f| f.kind == FieldKind::Seal)
    }
}

/// Every box on an existing page and inside its CropBox; QR and seal boxes big enough.
fn check_geometry(manifest: &Manifest, pages: &[PageBox]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for field in &manifest.fields {
        let page = pages.iter().find(|p| p.number == field.page);
        let Some(page) = page else {
            problems.push(Problem::new(
                field.place(),
                format!(
                    "page {} does not exist; template.pdf has {} page(s)",
                    field.page,
                    pages.len()
                ),
            ));
            continue;
        };
        let r = field.rect;
        if !r.inside(page.crop_box) {
            let [llx, lly, urx, ury] = page.crop_box;
            problems.push(Problem::new(
                field.place(),
                format!(
                    "box [{}, {}, {}, {}] is not inside page {} ({llx}, {lly})–({urx}, {ury})",
                    r.x, r.y, r.width, r.height, field.page
                ),
            ));
        }
        if let Some(annotation) = page.annotations.iter().find(|a| overlaps(r, **a)) {
            problems.push(Problem::new(
                field.place(),
                format!(
                    "box overlaps an annotation of the blank at [{}, {}, {}, {}], which would be drawn over the value; remove the annotation or move the box",
                    annotation[0], annotation[1], annotation[2], annotation[3]
                ),
            ));
        }
        let side = r.width.min(r.height);
        let minimum = match field.kind {
            FieldKind::Qr => MIN_QR_SIDE,
            FieldKind::Seal => MIN_SEAL_SIDE,
            _ => 0.0,
        };
        if side < minimum {
            problems.push(Problem::new(
                field.place(),
                format!("box is {side} pt on its short side; it needs at least {minimum} pt"),
            ));
        }
    }
    let of_kind = |kind| manifest.fields.iter().find(move |f| f.kind == kind);
    if let (Some(seal), Some(qr)) = (of_kind(FieldKind::Seal), of_kind(FieldKind::Qr)) {
        let r = seal.rect;
        if seal.page == qr.page && overlaps(qr.rect, [r.x, r.y, r.x + r.width, r.y + r.height]) {
            problems.push(Problem::new(
                qr.place(),
                "box overlaps the seal box; red ink over the code would stop it scanning",
            ));
        }
    }
    problems
}

/// Whether `rect` and the `[llx, lly, urx, ury]` area share more than an edge.
fn overlaps(rect: manifest::BoxRect, area: [f64; 4]) -> bool {
    let [llx, lly, urx, ury] = area;
    rect.x < urx && llx < rect.x + rect.width && rect.y < ury && lly < rect.y + rect.height
}

/// A licence serial: 1–40 characters of A–Z, 0–9 and '-', printed on the licence, carried by
/// its QR code and its metadata.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LicenceSerial(String);

impl LicenceSerial {
    /// Checks `text` is a serial.
    pub fn parse(text: &str) -> Result<LicenceSerial, String> {
        let ok = !text.is_empty()
            && text.len() <= 40
            && text
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(LicenceSerial(text.to_string()))
        } else {
            Err(format!(
                "serial '{}' must be 1–40 characters of A–Z, 0–9 and '-'",
                text.chars()
                    .take(40)
                    .map(|c| if c.is_control() { '?' } else { c })
                    .collect::<String>()
            ))
        }
    }

    /// `YYYYMMDD-` and ten base-32 characters drawn from `random`: 50 bits, so serials made
    /// without asking a registry collide about once in 10^15 (the registry refuses repeats).
    pub fn from_random(date: time::Date, random: &[u8; 10]) -> LicenceSerial {
        const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let tail: String = random
            .iter()
            .filter_map(|b| ALPHABET.get(usize::from(b & 31)).copied().map(char::from))
            .collect();
        LicenceSerial(format!(
            "{:04}{:02}{:02}-{tail}",
            date.year(),
            u8::from(date.month()),
            date.day()
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LicenceSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The public verification URL for `serial`: `base` followed by the serial.
pub fn verification_url(base: &str, serial: &LicenceSerial) -> Result<String, String> {
    let scheme_ok = base.starts_with("https://") || base.starts_with("http://");
    let clean = base.len() <= 200 && base.chars().all(|c| c.is_ascii_graphic());
    if !scheme_ok || !clean {
        return Err(format!(
            "base URL must be an http(s) URL of at most 200 printable ASCII characters, not '{}'",
            base.chars()
                .take(80)
                .map(|c| if c.is_ascii_graphic() { c } else { '?' })
                .collect::<String>()
        ));
    }
    let separator = if base.ends_with('/') || base.ends_with('=') {
        ""
    } else {
        "/"
    };
    Ok(format!("{base}{separator}{serial}"))
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::pdf::testing::classic_pdf;

    use crate::template::layout::FixedFont;

    const MANIFEST: &str = r#"
[template]
id = "t"
title = "许可证"
department = "局"
version = "1"
time_limit_days = 5

[[field]]
name = "holder"
label = "持证人"
kind = "text"
box = [100, 700, 200, 20]

[[field]]
name = "qr"
label = "二维码"
kind = "qr"
box = [440, 40, 80, 80]

[[field]]
name = "seal"
label = "印章"
kind = "seal"
box = [300, 40, 120, 120]
"#;

    fn blank(page_extra: &str, extra: &[&str]) -> Vec<u8> {
        let page = format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] {page_extra} >>");
        let mut objects = vec![
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            page.as_str(),
        ];
        objects.extend_from_slice(extra);
        classic_pdf(&objects)
    }

    fn load(manifest: &str, blank: Vec<u8>, example: Option<&str>) -> Result<Bundle, Vec<String>> {
        Bundle::load(
            manifest.as_bytes(),
            blank,
            example.map(str::as_bytes),
            &FixedFont,
        )
        .map_err(|p| p.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn a_valid_bundle_loads_with_its_example() {
        let bundle = load(MANIFEST, blank("", &[]), Some(r#"{"holder": "张喆"}"#)).expect("valid");
        assert_eq!(bundle.pages.len(), 1);
        assert_eq!(bundle.fields_on(1).count(), 3);
        assert_eq!(bundle.seal_field().map(|f| f.name.as_str()), Some("seal"));
    }

    #[test]
    fn blank_manifest_and_example_problems_come_together() {
        let manifest = MANIFEST
            .replace("[100, 700, 200, 20]", "[500, 700, 200, 20]")
            .replace("[440, 40, 80, 80]", "[440, 40, 30, 80]")
            .replace("time_limit_days = 5", "time_limit_days = 0");
        let found = load(
            &manifest,
            blank(
                "/OpenAction 4 0 R",
                &["<< /S /JavaScript /JS (app.alert(1)) >>"],
            ),
            None,
        )
        .expect_err("invalid");
        let joined = found.join("\n");
        assert!(joined.contains("JavaScript"), "{joined}");
        assert!(joined.contains("time_limit_days"), "{joined}");
        assert!(
            joined.contains("持证人): box [500, 700, 200, 20] is not inside page 1"),
            "{joined}"
        );
        assert!(joined.contains("二维码): box is 30 pt"), "{joined}");
        let example = load(MANIFEST, blank("", &[]), Some("{}")).expect_err("no holder");
        assert_eq!(
            example,
            ["example.json field 'holder' (持证人): a value is required"]
        );
    }

    #[test]
    fn the_seal_may_not_cover_the_qr_code() {
        let manifest = MANIFEST.replace("[440, 40, 80, 80]", "[380, 100, 80, 80]");
        let found = load(&manifest, blank("", &[]), None).expect_err("overlap");
        assert!(
            found[0].contains("二维码): box overlaps the seal box"),
            "{found:?}"
        );
    }

    #[test]
    fn an_annotation_over_a_field_box_is_refused() {
        let page = "/Annots [4 0 R]";
        let link = "<< /Type /Annot /Subtype /Square /Rect [150 690 180 730] >>";
        let found = load(MANIFEST, blank(page, &[link]), None).expect_err("overlap");
        assert!(
            found[0].contains("持证人): box overlaps an annotation"),
            "{found:?}"
        );
        let elsewhere = "<< /Type /Annot /Subtype /Square /Rect [10 10 20 20] >>";
        assert!(load(MANIFEST, blank(page, &[elsewhere]), None).is_ok());
    }

    #[test]
    fn serials_and_verification_urls() {
        let serial = LicenceSerial::parse("SC4107-2026-0001").expect("serial");
        assert!(LicenceSerial::parse("sc1").is_err());
        assert!(LicenceSerial::parse("").is_err());
        assert!(LicenceSerial::parse(&"A".repeat(41)).is_err());
        let url = verification_url("https://v.example.gov.cn/c", &serial).expect("url");
        assert_eq!(url, "https://v.example.gov.cn/c/SC4107-2026-0001");
        let query = verification_url("https://v.example.gov.cn/?s=", &serial).expect("url");
        assert_eq!(query, "https://v.example.gov.cn/?s=SC4107-2026-0001");
        assert!(verification_url("javascript:alert(1)", &serial).is_err());
        assert!(verification_url("https://a b", &serial).is_err());
    }
}
