//! The verification QR code as a reader sees it: drawn into a page, rendered by Poppler's
//! pdftoppm at 150 dpi and read by zbar's zbarimg, it gives back its payload.
// tests/common indexes what its own tools print.
#![allow(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{require_tool, run};
use oneseal::template::qr::draw_qr;
use tempfile::TempDir;

/// About 120 characters, as a verification URL with a long base and serial can be.
const LONG_URL: &str = "https://zwfw.shiju.example.gov.cn/dianzi-zhengzhao/yanzheng/\
                        shipin-jingying-xuke/SC2026-110105-000123?lang=zh-CN&v=2026.1";

/// A one-page PDF of `width` × `height` pt whose content is `content` (classic xref table).
fn one_page(width: f64, height: f64, content: &[u8]) -> Vec<u8> {
    let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    stream.extend_from_slice(content);
    stream.extend_from_slice(b"\nendstream");
    let objects: [Vec<u8>; 4] = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] /Contents 4 0 R >>")
            .into_bytes(),
        stream,
    ];
    let objects: Vec<&[u8]> = objects.iter().map(Vec::as_slice).collect();
    common::classic_pdf(&objects)
}

/// Renders `pdf` with `pdftoppm -r 150 -png` into `dir` and returns the PNG's path.
fn render(pdf: &[u8], dir: &Path) -> PathBuf {
    let input = dir.join("qr.pdf");
    std::fs::write(&input, pdf).expect("write the PDF");
    let prefix = dir.join("qr");
    let rendered = run(Command::new(require_tool("pdftoppm"))
        .args(["-r", "150", "-png", "-singlefile"])
        .arg(&input)
        .arg(&prefix));
    assert!(rendered.ok(), "pdftoppm failed:\n{}", rendered.describe());
    prefix.with_extension("png")
}

/// Draws `payload` into the box on a page, renders it and decodes it with zbarimg.
fn round_trip(payload: &str, page: (f64, f64), qr_box: [f64; 4]) {
    let [x, y, width, height] = qr_box;
    let content = draw_qr(payload, x, y, width, height).expect("drawable QR code");
    let tmp = TempDir::new().expect("temp dir");
    let png = render(&one_page(page.0, page.1, &content), tmp.path());
    let decoded = run(Command::new(require_tool("zbarimg"))
        .args(["--raw", "-q"])
        .arg(&png));
    assert!(
        decoded.ok(),
        "zbarimg read no code in a {width} × {height} box:\n{}",
        decoded.describe()
    );
    assert_eq!(decoded.stdout.trim_end_matches('\n'), payload);
}

#[test]
fn a_short_url_in_a_60_pt_box() {
    round_trip(
        "https://e.example.gov.cn/v/SC2026000123",
        (200.0, 200.0),
        [70.0, 70.0, 60.0, 60.0],
    );
}

#[test]
fn a_long_url_in_a_60_pt_box() {
    assert!((115..=125).contains(&LONG_URL.len()), "{}", LONG_URL.len());
    round_trip(LONG_URL, (200.0, 200.0), [70.0, 70.0, 60.0, 60.0]);
}

#[test]
fn a_long_url_centred_in_a_wide_box_on_an_a4_page() {
    round_trip(LONG_URL, (595.276, 841.89), [380.5, 60.25, 170.0, 96.0]);
}

#[test]
fn a_tall_box_near_the_page_corner() {
    round_trip(
        "https://e.example.gov.cn/v/1",
        (595.276, 841.89),
        [0.0, 0.0, 72.0, 300.0],
    );
}
