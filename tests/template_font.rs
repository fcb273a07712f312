//! The embedded font subset and the drawn seal as outside tools see them: pdftotext returns
//! exactly the text drawn, pdffonts finds an embedded subset with a ToUnicode map, qpdf finds
//! nothing wrong, and Poppler paints the seal.
//!
//! Set ONESEAL_SPECIMEN=path.pdf to keep the page for a look (pdftoppm -r 150 -png).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;

use oneseal::pdf::{Dictionary, IncrementalUpdate, Limits, Object, PdfFile};
use oneseal::template::font::{FontSubset, SourceFont};
use oneseal::template::seal_drawing::{SealText, draw_seal};

use common::{render_page_gray, require_tool, run};

/// The lines drawn at the top of the page, one `Tj` each.
const LINES: [&str; 5] = [
    "电子营业执照（示例） 统一社会信用代码 91410700MA44XXXX2C",
    "姓名：张喆 王堃 李赟 赵珺 陈昇 周甦 孙犇 吴淼 郑鑫 刘𠇔",
    "ASCII: The quick brown fox jumps over the lazy dog, 0123456789 (#42) & ~!",
    "日期：2026年11月26日 有效期：2026年1月〜2031年12月 ～ ①②③",
    "兼容汉字：\u{F967}与不",
];
/// Seals of every name length, the first large: organisation, seal name, x, y, diameter.
const SEALS: [(&str, &str, f64, f64, f64); 7] = [
    (
        "新乡经济技术开发区管理委员会（示例）",
        "行政审批专用章",
        380.0,
        440.0,
        170.0,
    ),
    ("示例公司", "公章", 40.0, 250.0, 110.0),
    ("某某市人民政府", "", 180.0, 250.0, 110.0),
    (
        "喆堃赟珺昇甦犇淼鑫𠇔有限公司",
        "合同专用章",
        320.0,
        250.0,
        110.0,
    ),
    (
        "郑州市市场监督管理局高新技术产业开发区分局",
        "行政许可专用章",
        40.0,
        80.0,
        110.0,
    ),
    (
        "河南省新乡市经济技术开发区管理委员会行政审批服务局（示例）",
        "电子证照专用章",
        180.0,
        80.0,
        110.0,
    ),
    ("印", "Seal 1", 320.0, 80.0, 110.0),
];

/// A one-page A4 document with a classic cross-reference table and an empty content stream.
fn blank_page() -> Vec<u8> {
    common::classic_pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595.276 841.89] >>",
        b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>",
        b"<< /Length 0 >>\nstream\n\nendstream",
    ])
}

/// The blank page with LINES at the top and the seal lower right, drawn in one new revision.
fn specimen() -> Vec<u8> {
    let base = blank_page();
    let file = PdfFile::open(&base, Limits::default()).expect("the blank opens");
    let mut update = IncrementalUpdate::new(&file);
    let mut font = FontSubset::new(SourceFont::shipped().expect("the shipped font"));

    let mut content = b"q\n0 0 0 rg\nBT\n/F1 12 Tf\n15 TL\n50 790 Td\n".to_vec();
    for line in LINES {
        content.extend_from_slice(&font.show(line).expect("every character has a glyph"));
        content.extend_from_slice(b" Tj\nT*\n");
    }
    content.extend_from_slice(b"ET\nQ\n");
    let mut forms = Vec::new();
    for (index, (organization, seal_name, x, y, size)) in SEALS.into_iter().enumerate() {
        let text = SealText {
            organization,
            seal_name,
        };
        let seal = draw_seal(size, size, &text, &mut font, b"F1").expect("the seal");
        let resource = format!("Seal{index}");
        content.extend_from_slice(format!("q 1 0 0 1 {x} {y} cm /{resource} Do Q\n").as_bytes());
        forms.push((resource, size, seal));
    }
    let font = font.write(&mut update).expect("the font subset");

    let mut fonts = Dictionary::new();
    fonts.set(b"F1", font);
    let mut seal_resources = Dictionary::new();
    seal_resources.set(b"Font", fonts.clone());
    let mut xobjects = Dictionary::new();
    for (resource, size, seal) in forms {
        let mut form = Dictionary::new();
        form.set(b"Type", Object::name(b"XObject"));
        form.set(b"Subtype", Object::name(b"Form"));
        form.set(b"BBox", vec![0.into(), 0.into(), size.into(), size.into()]);
        form.set(b"Resources", seal_resources.clone());
        let id = update.allocate();
        update.set_stream(id, form, seal);
        xobjects.set(resource.as_bytes(), id);
    }

    let content_id = update.allocate();
    update.set_stream(content_id, Dictionary::new(), content);
    let page = file.page(1).expect("page 1");
    let mut dictionary = page.dictionary.clone();
    let original = dictionary.get(b"Contents").cloned().expect("contents");
    dictionary.set(b"Contents", vec![original, content_id.into()]);
    let mut resources = Dictionary::new();
    resources.set(b"Font", fonts);
    resources.set(b"XObject", xobjects);
    dictionary.set(b"Resources", resources);
    update.set(page.id, dictionary);
    update.write(&file, [0x5e; 16]).expect("the update").bytes
}

#[test]
fn text_extracts_exactly_fonts_are_embedded_subsets_and_the_seal_is_painted() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let pdf = dir.path().join("specimen.pdf");
    let bytes = specimen();
    std::fs::write(&pdf, &bytes).expect("write the specimen");
    if let Some(keep) = std::env::var_os("ONESEAL_SPECIMEN") {
        std::fs::write(keep, &bytes).expect("keep the specimen");
    }

    // The text lines only: the seal's arc text is rotated glyph by glyph and extracts in
    // Poppler's own order.
    let text = run(Command::new(require_tool("pdftotext"))
        .args([
            "-enc", "UTF-8", "-nopgbrk", "-x", "0", "-y", "0", "-W", "595", "-H", "200",
        ])
        .arg(&pdf)
        .arg("-"));
    assert!(text.ok(), "{}", text.describe());
    assert_eq!(text.stdout.trim_end_matches('\n'), LINES.join("\n"));

    let whole = run(Command::new(require_tool("pdftotext"))
        .args(["-enc", "UTF-8"])
        .arg(&pdf)
        .arg("-"));
    for (_, seal_name, ..) in SEALS {
        assert!(whole.stdout.contains(seal_name), "{}", whole.describe());
    }

    let fonts = run(Command::new(require_tool("pdffonts")).arg(&pdf));
    assert!(fonts.ok(), "{}", fonts.describe());
    let rows: Vec<&str> = fonts.stdout.lines().skip(2).collect();
    assert_eq!(rows.len(), 1, "{}", fonts.describe());
    let fields: Vec<&str> = rows[0].split_whitespace().collect();
    assert!(
        fields[0].len() > 7 && fields[0].as_bytes()[6] == b'+',
        "{}",
        fonts.describe()
    );
    assert_eq!(
        fields[1..],
        [
            "CID", "Type", "0C", "Custom", "yes", "yes", "yes", fields[8], fields[9]
        ],
        "{}",
        fonts.describe()
    );

    let check = run(Command::new(require_tool("qpdf")).arg("--check").arg(&pdf));
    assert!(
        check.ok() && !check.stdout.contains("WARNING"),
        "{}",
        check.describe()
    );

    // The star's centre and the ring's top are painted; the gap between ring and star is not.
    let page = render_page_gray(&pdf, 1).expect("render");
    let at = |x: f64, y: f64| page.at_pdf(x as usize, y as usize, 0).expect("on the page");
    for (_, _, x, y, size) in SEALS {
        let centre = (x + size / 2.0, y + size / 2.0);
        assert!(at(centre.0, centre.1) < 200, "the star at {centre:?}");
        assert!(at(centre.0, y + size - 1.5) < 200, "the ring at {centre:?}");
        assert!(
            at(centre.0 + size * 0.2, centre.1 + 2.0) > 240,
            "between at {centre:?}"
        );
    }
}
