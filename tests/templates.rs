//! Issuing e-licences from the shipped templates, judged by tools we did not write: pdftotext
//! reads the values back, zbarimg decodes the QR code, pyHanko and pdfsig validate the
//! certification signature, qpdf checks the structure, pdftoppm renders the seal.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Run, oneseal, pdfsig_validate, pyhanko_validate, require_tool, run};
use serde_json::{Map, Value};
use tempfile::TempDir;

const BASE_URL: &str = "https://zwfw.xinxiang.example.gov.cn/oneseal/verify/";

fn templates() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(common::repo_root().join("templates"))
        .expect("templates/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("template.toml").is_file())
        .collect();
    found.sort();
    assert!(found.len() >= 3, "fewer than three templates: {found:?}");
    found
}

fn example_keys() -> (PathBuf, PathBuf) {
    let dir = common::repo_root().join("keys-example");
    (dir.clone(), dir.join("root-ca.pem"))
}

struct Issued {
    _tmp: TempDir,
    pdf: PathBuf,
    run: Run,
}

fn issue(template: &Path, data: &Value, serial: &str) -> Issued {
    issue_with(template, data, serial, &[])
}

/// `issue` with more arguments after the usual ones.
fn issue_with(template: &Path, data: &Value, serial: &str, extra: &[&OsStr]) -> Issued {
    let tmp = TempDir::new().expect("temp dir");
    let data_path = tmp.path().join("data.json");
    std::fs::write(&data_path, serde_json::to_vec(data).expect("json")).expect("write data");
    let pdf = tmp.path().join("licence.pdf");
    let (keys, _) = example_keys();
    let mut args: Vec<&OsStr> = vec![
        "issue".as_ref(),
        "--template".as_ref(),
        template.as_os_str(),
        "--data".as_ref(),
        data_path.as_os_str(),
        "--keys".as_ref(),
        keys.as_os_str(),
        "--out".as_ref(),
        pdf.as_os_str(),
        "--serial".as_ref(),
        serial.as_ref(),
        "--base-url".as_ref(),
        BASE_URL.as_ref(),
    ];
    args.extend_from_slice(extra);
    let run = oneseal(args);
    Issued {
        _tmp: tmp,
        pdf,
        run,
    }
}

fn example(template: &Path) -> Map<String, Value> {
    let text = std::fs::read(template.join("example.json")).expect("example.json");
    match serde_json::from_slice(&text).expect("example.json parses") {
        Value::Object(map) => map,
        other => panic!("example.json is not an object: {other}"),
    }
}

fn without_space(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn pdftotext(pdf: &Path) -> String {
    let result = run(Command::new(require_tool("pdftotext"))
        .args(["-enc", "UTF-8"])
        .arg(pdf)
        .arg("-"));
    assert!(result.ok(), "{}", result.describe());
    result.stdout
}

/// Every value must come back from pdftotext, character for character (whitespace aside:
/// wrapped lines are separate text lines).
fn assert_text_round_trips(pdf: &Path, data: &Map<String, Value>) {
    let text = without_space(&pdftotext(pdf));
    for (name, value) in data {
        let value = value.as_str().expect("string value");
        let shown = if looks_like_date(value) {
            let parts: Vec<u32> = value.split('-').map(|p| p.parse().unwrap()).collect();
            format!("{}年{}月{}日", parts[0], parts[1], parts[2])
        } else {
            without_space(value)
        };
        assert!(
            text.contains(&shown),
            "pdftotext lost field {name} = {value:?}; got:\n{text}"
        );
    }
}

fn looks_like_date(value: &str) -> bool {
    value.len() == 10 && value.as_bytes()[4] == b'-' && value.as_bytes()[7] == b'-'
}

fn decode_qr(pdf: &Path) -> String {
    let tmp = TempDir::new().expect("temp dir");
    let prefix = tmp.path().join("page");
    let rendered = run(Command::new(require_tool("pdftoppm"))
        .args(["-r", "200", "-png", "-singlefile", "-f", "1", "-l", "1"])
        .arg(pdf)
        .arg(&prefix));
    assert!(rendered.ok(), "{}", rendered.describe());
    let decoded = run(Command::new(require_tool("zbarimg"))
        .args(["--raw", "-q"])
        .arg(prefix.with_extension("png")));
    assert!(
        decoded.ok(),
        "zbarimg found no code:\n{}",
        decoded.describe()
    );
    decoded.stdout.trim().to_string()
}

/// The judges' verdict on one issued licence.
fn assert_valid_licence(issued: &Issued, serial: &str) {
    assert!(issued.run.ok(), "{}", issued.run.describe());
    assert_eq!(issued.run.stdout.trim(), serial, "issue prints the serial");
    let (_, root) = example_keys();
    let report = pyhanko_validate(&issued.pdf, &[&root], false);
    let signatures = report.get("signatures").array();
    assert_eq!(signatures.len(), 1, "{report:?}");
    let signature = &signatures[0];
    for key in ["intact", "valid", "trusted", "docmdp_ok"] {
        assert_eq!(
            signature.get(key).as_bool(),
            Some(true),
            "{key}: {signature:?}"
        );
    }
    assert_eq!(signature.get("coverage").str(), "ENTIRE_FILE");
    assert_eq!(report.get("certification").str(), "NO_CHANGES");
    let (pdfsig, run) = pdfsig_validate(&issued.pdf, &[&root]);
    assert_eq!(pdfsig.len(), 1, "{}", run.describe());
    assert!(
        pdfsig[0].signature_valid && pdfsig[0].certificate_trusted,
        "{}",
        pdfsig[0].report
    );
    assert!(pdfsig[0].total_document_signed, "{}", pdfsig[0].report);
    let qpdf = common::run(
        Command::new(require_tool("qpdf"))
            .arg("--check")
            .arg(&issued.pdf),
    );
    assert!(qpdf.ok(), "{}", qpdf.describe());
    let ours = oneseal([
        "verify".as_ref(),
        issued.pdf.as_os_str(),
        "--trust".as_ref(),
        root.as_os_str(),
    ]);
    assert!(ours.ok(), "{}", ours.describe());
    assert_eq!(decode_qr(&issued.pdf), format!("{BASE_URL}{serial}"));
}

#[test]
fn every_shipped_template_checks_clean() {
    for template in templates() {
        let result = oneseal(["template".as_ref(), "check".as_ref(), template.as_os_str()]);
        assert!(result.ok(), "{}", result.describe());
    }
}

#[test]
fn each_template_issues_its_example() {
    for (n, template) in templates().iter().enumerate() {
        let serial = format!("TEST-{n}-20261126");
        let data = example(template);
        let issued = issue(template, &Value::Object(data.clone()), &serial);
        assert_valid_licence(&issued, &serial);
        assert_text_round_trips(&issued.pdf, &data);
        let text = without_space(&pdftotext(&issued.pdf));
        assert!(text.contains(&serial), "serial not printed:\n{text}");
        let blank = std::fs::read(template.join("template.pdf")).expect("blank");
        let output = std::fs::read(&issued.pdf).expect("output");
        assert!(output.starts_with(&blank), "the blank's bytes changed");
        let size = output.len();
        assert!(size < 200 * 1024, "{} is {size} bytes", template.display());
        assert_metadata(&issued.pdf, &serial);
        assert_embedded_subset(&issued.pdf);
        assert_seal_is_red(&issued.pdf);
    }
}

fn assert_metadata(pdf: &Path, serial: &str) {
    let info = run(Command::new(require_tool("pdfinfo")).arg(pdf));
    assert!(info.ok(), "{}", info.describe());
    assert!(info.stdout.contains("Title:"), "{}", info.stdout);
    let meta = run(Command::new(require_tool("pdfinfo")).arg("-meta").arg(pdf));
    assert!(
        meta.stdout
            .contains(&format!("<oneseal:LicenceSerial>{serial}<")),
        "XMP lacks the serial:\n{}",
        meta.stdout
    );
    assert!(
        meta.stdout.contains("<oneseal:IssueDate>"),
        "{}",
        meta.stdout
    );
}

fn assert_embedded_subset(pdf: &Path) {
    let fonts = run(Command::new(require_tool("pdffonts")).arg(pdf));
    assert!(fonts.ok(), "{}", fonts.describe());
    let ours: Vec<&str> = fonts
        .stdout
        .lines()
        .filter(|l| l.contains("NotoSerif") && l.contains("CID"))
        .collect();
    assert!(!ours.is_empty(), "{}", fonts.stdout);
    for line in ours {
        let flags: Vec<&str> = line.split_whitespace().collect();
        // name type [type] encoding emb sub uni object ID
        let n = flags.len();
        assert_eq!(&flags[n - 5..n - 2], ["yes", "yes", "yes"], "{line}");
    }
}

/// The seal box shows red ink: pdftoppm's rendering of the widget appearance.
fn assert_seal_is_red(pdf: &Path) {
    let tmp = TempDir::new().expect("temp dir");
    let prefix = tmp.path().join("page");
    let rendered = run(Command::new(require_tool("pdftoppm"))
        .args(["-r", "36", "-singlefile", "-f", "1", "-l", "1"])
        .arg(pdf)
        .arg(&prefix));
    assert!(rendered.ok(), "{}", rendered.describe());
    let bytes = std::fs::read(prefix.with_extension("ppm")).expect("ppm");
    let red = count_red_pixels(&bytes);
    assert!(red > 100, "only {red} red pixels: the seal was not drawn");
}

/// Pixels of a binary PPM (P6) that are clearly red.
fn count_red_pixels(ppm: &[u8]) -> usize {
    let mut fields = 0;
    let mut at = 0;
    while fields < 4 {
        while ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        while !ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields += 1;
    }
    ppm[at + 1..]
        .chunks_exact(3)
        .filter(|p| p[0] > 150 && p[1] < 90 && p[2] < 90)
        .count()
}

/// Rare name characters outside GB2312, an Ext B one among them, and a very long company name.
#[test]
fn rare_characters_and_long_names_round_trip() {
    let template = templates()
        .into_iter()
        .find(|t| t.ends_with("food-business-licence"))
        .expect("food-business-licence template");
    let mut data = example(&template);
    let (name_field, company_field) = text_fields(&template);
    data.insert(name_field, Value::from("张喆堃赟珺昇甦犇淼鑫𠇔"));
    data.insert(
        company_field,
        Value::from("新乡经济技术开发区华辰堃鑫食品贸易与冷链物流供应链管理有限责任公司"),
    );
    let issued = issue(&template, &Value::Object(data.clone()), "RARE-1");
    assert_valid_licence(&issued, "RARE-1");
    assert_text_round_trips(&issued.pdf, &data);
}

/// Two text fields of the food licence: a person's name and the operator's name.
fn text_fields(template: &Path) -> (String, String) {
    let manifest = std::fs::read_to_string(template.join("template.toml")).expect("manifest");
    let value: toml::Value = toml::from_str(&manifest).expect("toml");
    let fields = value["field"].as_array().expect("fields");
    let by_label = |needle: &str| {
        fields
            .iter()
            .find(|f| f["label"].as_str().unwrap_or("").contains(needle))
            .map(|f| f["name"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no field labelled {needle}"))
    };
    (by_label("法定代表人"), by_label("经营者名称"))
}

#[test]
fn a_character_the_font_lacks_is_named_and_nothing_is_written() {
    let template = &templates()[0];
    let mut data = example(template);
    let (field, value) = data
        .iter()
        .find(|(_, v)| !looks_like_date(v.as_str().unwrap()))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .expect("a text field");
    // U+30000 (CJK Extension G) is not in the shipped font.
    data.insert(field.clone(), Value::from(format!("{value}\u{30000}")));
    let issued = issue(template, &Value::Object(data), "MISSING-1");
    assert_eq!(issued.run.code, Some(2), "{}", issued.run.describe());
    assert!(
        issued.run.stderr.contains("U+30000"),
        "{}",
        issued.run.stderr
    );
    assert!(issued.run.stderr.contains(&field), "{}", issued.run.stderr);
    assert!(!issued.pdf.exists(), "a refused licence left a file");
}

#[test]
fn every_data_problem_is_listed() {
    let template = &templates()[0];
    let mut data = example(template);
    let required: Vec<String> = data.keys().take(1).cloned().collect();
    for name in &required {
        data.remove(name);
    }
    data.insert("no_such_field".into(), Value::from("x"));
    let issued = issue(template, &Value::Object(data), "BAD-1");
    assert_eq!(issued.run.code, Some(2), "{}", issued.run.describe());
    let stderr = &issued.run.stderr;
    assert!(stderr.contains("no_such_field"), "{stderr}");
    for name in &required {
        assert!(stderr.contains(name.as_str()), "{stderr}");
    }
    assert!(
        stderr.lines().filter(|l| l.starts_with("  - ")).count() >= 2,
        "{stderr}"
    );
    assert!(!issued.pdf.exists());
}

#[test]
fn an_issued_licence_cannot_be_signed_again() {
    let template = &templates()[0];
    let issued = issue(template, &Value::Object(example(template)), "FINAL-1");
    assert!(issued.run.ok(), "{}", issued.run.describe());
    let out = issued.pdf.with_file_name("again.pdf");
    let (keys, _) = example_keys();
    let again = common::sign(&issued.pdf, &out, &keys, &[]);
    assert_eq!(again.code, Some(2), "{}", again.describe());
    assert!(again.stderr.contains("DocMDP P=1"), "{}", again.stderr);
}

/// A bundle folder made from a shipped one with some files replaced.
fn altered_bundle(manifest: Option<String>, blank: Option<&Path>) -> TempDir {
    let source = &templates()[0];
    let tmp = TempDir::new().expect("temp dir");
    for file in ["template.toml", "template.pdf", "example.json"] {
        std::fs::copy(source.join(file), tmp.path().join(file)).expect("copy");
    }
    if let Some(manifest) = manifest {
        std::fs::write(tmp.path().join("template.toml"), manifest).expect("write");
    }
    if let Some(blank) = blank {
        std::fs::copy(blank, tmp.path().join("template.pdf")).expect("copy blank");
    }
    tmp
}

fn check_bundle(dir: &Path) -> Run {
    oneseal(["template".as_ref(), "check".as_ref(), dir.as_os_str()])
}

#[test]
fn a_blank_with_javascript_is_refused_with_its_reason() {
    let mut checked = 0;
    let dirs = ["tests/data/bundles/hostile", "tests/data/bundles/redteam"];
    let files = dirs.iter().flat_map(|dir| {
        std::fs::read_dir(common::repo_root().join(dir))
            .expect("hostile bundle directory")
            .map(|entry| entry.expect("entry").path())
    });
    for path in files {
        if path.extension().is_none_or(|e| e != "pdf") || path.ends_with("clean.pdf") {
            continue;
        }
        let bundle = altered_bundle(None, Some(&path));
        let result = check_bundle(bundle.path());
        assert_eq!(
            result.code,
            Some(2),
            "{} passed:\n{}",
            path.display(),
            result.describe()
        );
        assert!(
            result.stderr.contains(expected_reason(&path)),
            "{}: {}",
            path.display(),
            result.stderr
        );
        let name = path.file_name().unwrap().to_string_lossy().to_lowercase();
        if name.contains("javascript") || name.contains("js") {
            assert!(result.stderr.contains("JavaScript"), "{}", result.stderr);
        }
        let data = example(&templates()[0]);
        let issued = issue(bundle.path(), &Value::Object(data), "HOSTILE-1");
        assert_eq!(issued.run.code, Some(2), "{}", issued.run.describe());
        assert!(!issued.pdf.exists());
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} hostile blanks");
}

/// The words each refused blank's message must contain.
fn expected_reason(path: &Path) -> &'static str {
    let name = path.file_name().unwrap().to_string_lossy();
    let reasons = [
        ("content-", "content is malformed"),
        ("annot-rect", "overlaps an annotation"),
        ("annots-1001", "annotations; a blank may have at most"),
        ("uri-typed", "/S /URI"),
        ("launch-typed", "/S /Launch"),
        ("rotate", "rotated by 90"),
        ("userunit", "/UserUnit"),
        ("ocg-", "screen and on paper"),
        ("hidden-print", "screen and on paper"),
    ];
    reasons
        .iter()
        .find(|(prefix, _)| name.contains(prefix))
        .map_or("template.pdf", |(_, reason)| reason)
}

#[test]
fn manifest_problems_are_listed_together() {
    let source = &templates()[0];
    let manifest = std::fs::read_to_string(source.join("template.toml")).expect("manifest");
    let mut value: toml::Value = toml::from_str(&manifest).expect("toml");
    let fields = value["field"].as_array_mut().expect("fields");
    let first_name = fields[0]["name"].clone();
    fields[1]["name"] = first_name;
    fields[2]["box"] = toml::Value::Array(vec![
        toml::Value::Float(5000.0),
        toml::Value::Float(10.0),
        toml::Value::Float(50.0),
        toml::Value::Float(20.0),
    ]);
    let mut second_seal = fields
        .iter()
        .find(|f| f["kind"].as_str() == Some("seal"))
        .expect("a seal field")
        .clone();
    second_seal["name"] = toml::Value::String("second_seal".into());
    fields.push(second_seal);
    let bundle = altered_bundle(Some(toml::to_string(&value).expect("toml")), None);
    let result = check_bundle(bundle.path());
    assert_eq!(result.code, Some(2), "{}", result.describe());
    let stderr = &result.stderr;
    assert!(stderr.contains("more than one field"), "{stderr}");
    assert!(stderr.contains("is not inside page 1"), "{stderr}");
    assert!(stderr.contains("exactly one 'seal'"), "{stderr}");
}

/// A 200 px red ring on a transparent ground, as a bureau's scanned seal would be.
fn ring_png(path: &Path) {
    let size = 200u32;
    let mut data = Vec::new();
    for y in 0..size {
        for x in 0..size {
            let (dx, dy) = (f64::from(x) - 99.5, f64::from(y) - 99.5);
            let r = (dx * dx + dy * dy).sqrt();
            let ink = (84.0..98.0).contains(&r) || r < 30.0;
            data.extend_from_slice(&[210, 20, 20, if ink { 255 } else { 0 }]);
        }
    }
    let file = std::fs::File::create(path).expect("png file");
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), size, size);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("png header");
    writer.write_image_data(&data).expect("png data");
    writer.finish().expect("png end");
}

#[test]
fn a_configured_seal_image_is_the_signature_appearance() {
    let template = templates()
        .into_iter()
        .find(|t| t.ends_with("food-business-licence"))
        .expect("food-business-licence template");
    let tmp = TempDir::new().expect("temp dir");
    let png = tmp.path().join("seal.png");
    ring_png(&png);
    let data = Value::Object(example(&template));
    let with_image = ["--seal-image".as_ref(), png.as_os_str()];
    let issued = issue_with(&template, &data, "IMAGE-1", &with_image);
    assert!(issued.run.ok(), "{}", issued.run.describe());
    let pdf = &issued.pdf;
    let (_, root) = example_keys();
    let report = pyhanko_validate(pdf, &[&root], false);
    let signature = &report.get("signatures").array()[0];
    assert_eq!(
        signature.get("bottom_line").as_bool(),
        Some(true),
        "{signature:?}"
    );
    // pdfimages lists page images only; the seal lives in the widget's appearance.
    let bytes = std::fs::read(pdf).expect("licence");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("/Subtype /Image") && text.contains("/SMask"),
        "no masked image"
    );
    assert!(
        text.contains("/SealImage Do"),
        "the appearance does not draw the image"
    );
    assert!(!text.contains("/SealFont"), "the drawn seal is still there");
    let qpdf = run(Command::new(require_tool("qpdf")).arg("--check").arg(pdf));
    assert!(qpdf.ok(), "{}", qpdf.describe());
    assert_seal_is_red(pdf);
    let not_png = tmp.path().join("seal.txt");
    std::fs::write(&not_png, "not a picture").expect("write");
    let with_text = ["--seal-image".as_ref(), not_png.as_os_str()];
    let refused = issue_with(&template, &data, "IMAGE-2", &with_text);
    assert_eq!(refused.run.code, Some(2), "{}", refused.run.describe());
    assert!(!refused.pdf.exists(), "a refused licence left a file");
    assert!(
        refused.run.stderr.contains("not a readable PNG"),
        "{}",
        refused.run.stderr
    );
}

/// Every text field of every template filled to its `max_chars` with rare name characters
/// (an Extension B one among them): the manifest promises any allowed value fits its box, and
/// pdftotext must return each exactly.
#[test]
fn the_longest_allowed_values_fit_and_round_trip() {
    const RARE: &str = "喆堃赟珺昇甦犇淼鑫𠇔";
    for template in templates() {
        let manifest = std::fs::read_to_string(template.join("template.toml")).expect("manifest");
        let value: toml::Value = toml::from_str(&manifest).expect("toml");
        let mut data = example(&template);
        for field in value["field"].as_array().expect("fields") {
            let kind = field["kind"].as_str().unwrap_or("");
            let has_pattern = field.get("pattern").is_some();
            if !matches!(kind, "text" | "multiline") || has_pattern {
                continue;
            }
            let max = field
                .get("max_chars")
                .and_then(toml::Value::as_integer)
                .unwrap_or(200) as usize;
            let long: String = RARE.chars().cycle().take(max).collect();
            data.insert(
                field["name"].as_str().unwrap().to_string(),
                Value::from(long),
            );
        }
        let issued = issue(&template, &Value::Object(data.clone()), "LONGEST-1");
        assert!(
            issued.run.ok(),
            "{}: {}",
            template.display(),
            issued.run.describe()
        );
        assert_text_round_trips(&issued.pdf, &data);
    }
}
