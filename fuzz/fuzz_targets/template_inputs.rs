//! Fuzz target: everything a department or a clerk hands the issuer. The first byte picks the
//! reader, the rest is its input:
//! - 0: `parse_manifest` on a `template.toml`;
//! - 1: `check_blank` on a `template.pdf`;
//! - 2: `check_data` on issuance JSON against the food-business-licence manifest, then, when the
//!   data passes, the whole overlay `render` onto its blank (layout, font subset, QR, metadata).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use oneseal::template::bundle::{BlankLimits, check_blank};
use oneseal::template::data::check_data;
use oneseal::template::font::SourceFont;
use oneseal::template::manifest::parse_manifest;
use oneseal::template::render::{IssuerValues, render};
use oneseal::template::{Bundle, LicenceSerial};

const MANIFEST: &[u8] = include_bytes!("../../templates/food-business-licence/template.toml");
const BLANK: &[u8] = include_bytes!("../../templates/food-business-licence/template.pdf");

fn bundle() -> Option<&'static (Bundle, &'static SourceFont)> {
    static BUNDLE: OnceLock<Option<(Bundle, &'static SourceFont)>> = OnceLock::new();
    BUNDLE
        .get_or_init(|| {
            let font = SourceFont::shipped().ok()?;
            let bundle = Bundle::load(MANIFEST, BLANK.to_vec(), None, font).ok()?;
            Some((bundle, font))
        })
        .as_ref()
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, rest)) = input.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            let _ = parse_manifest(rest);
        }
        1 => {
            let _ = check_blank(rest, &BlankLimits::default());
        }
        _ => {
            let Some((bundle, font)) = bundle() else {
                return;
            };
            if let Ok(values) = check_data(&bundle.manifest, rest, *font) {
                let serial = LicenceSerial::parse("FUZZ-1").ok();
                if let Some(serial) = &serial {
                    let issued_at = time::OffsetDateTime::UNIX_EPOCH;
                    let issuer = IssuerValues {
                        serial,
                        issued_at,
                        verification_url: "https://example.gov.cn/v/FUZZ-1",
                        organization: "新乡经济技术开发区管理委员会",
                        seal_name: "行政审批专用章",
                        seal_image: None,
                    };
                    let _ = render(bundle, &values, &issuer, font);
                }
            }
        }
    }
});
