//! `oneseal sign` on files from many producers, judged by tools we did not write: pyHanko, Poppler's
//! pdfsig, openssl cms and qpdf. Run through `scripts/test`, which prepares the tools and fixtures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};

use common::{Json, Keys};
use tempfile::TempDir;

/// pyHanko's names for the changes a later revision may make without breaking an earlier
/// signature (adding a signature is FORM_FILLING; DSS/timestamps are LTA_UPDATES).
const PERMITTED_MODIFICATIONS: &[&str] = &["NONE", "LTA_UPDATES", "FORM_FILLING"];

/// The visible-signature box of the tests: page 1, x 100, y 100, 200 wide, 80 high.
const VISIBLE: &str = "1,100,100,200,80";

/// A file signed by oneseal in a temporary directory, with what signed it.
struct Signed {
    label: String,
    input: PathBuf,
    output: PathBuf,
    keys: Keys,
    tmp: TempDir,
}

/// Signs `input` with fresh keys; fails the test with oneseal's output if signing fails.
fn sign_with_new_keys(label: &str, input: &Path, extra: &[&str]) -> Signed {
    let keys = common::keygen(&[]);
    sign_with(label, input, keys, extra)
}

fn sign_with(label: &str, input: &Path, keys: Keys, extra: &[&str]) -> Signed {
    let tmp = TempDir::new().expect("temp dir");
    let output = tmp.path().join("signed.pdf");
    let result = common::sign(input, &output, &keys.dir, extra);
    assert!(
        result.ok(),
        "[{label}] oneseal sign failed:\n{}",
        result.describe()
    );
    assert!(
        output.is_file(),
        "[{label}] oneseal sign exited 0 but wrote no file\n{}",
        result.describe()
    );
    Signed {
        label: label.to_owned(),
        input: input.to_owned(),
        output,
        keys,
        tmp,
    }
}

/// What the judges should find in a signed file.
struct Expect<'a> {
    /// Signatures the input already had (they must stay valid).
    prior: usize,
    /// Read with pyHanko's strict=False (needed for hybrid-reference files).
    lenient: bool,
    /// Expected DocMDP permission of the document, if certified.
    certified: Option<&'a str>,
}

const PLAIN: Expect<'static> = Expect {
    prior: 0,
    lenient: false,
    certified: None,
};

/// Runs every judge on `signed` and fails with all their complaints at once; returns pyHanko's report.
fn judge(signed: &Signed, expect: &Expect) -> Json {
    let label = &signed.label;
    let fixture_root = common::fixture("pyhanko-ca.pem");
    let roots = [signed.keys.root.as_path(), fixture_root.as_path()];
    let input = std::fs::read(&signed.input).expect("read input");
    let output = std::fs::read(&signed.output).expect("read output");
    let mut failures = Vec::new();

    if !output.starts_with(&input) {
        let differs_at = input
            .iter()
            .zip(&output)
            .position(|(a, b)| a != b)
            .unwrap_or(output.len());
        failures.push(format!(
            "output does not begin with the input's bytes (first difference at byte {differs_at})"
        ));
    }
    let appended = output.get(input.len()..).unwrap_or_default();
    if !contains(appended, b"/ETSI.CAdES.detached") {
        failures.push("appended update has no /SubFilter /ETSI.CAdES.detached".to_owned());
    }

    let report = common::pyhanko_validate(&signed.output, &roots, expect.lenient);
    failures.extend(check_pyhanko(&report, &output, expect));

    let new_field = report
        .get("signatures")
        .array()
        .last()
        .map(|s| s.get("field").str())
        .unwrap_or_default();
    let (pdfsig, pdfsig_run) = common::pdfsig_validate(&signed.output, &roots);
    failures.extend(
        check_pdfsig(&pdfsig, expect.prior + 1, new_field)
            .into_iter()
            .map(|f| format!("{f}\n{}", pdfsig_run.describe())),
    );

    let cms = common::openssl_cms_verify(&signed.output, &roots);
    if cms.len() != expect.prior + 1 {
        failures.push(format!(
            "openssl: found {} signatures to verify, expected {}",
            cms.len(),
            expect.prior + 1
        ));
    }
    failures.extend(
        cms.into_iter()
            .filter_map(Result::err)
            .map(|e| format!("openssl cms -verify failed for {e}")),
    );

    if let Err(problem) = common::qpdf_check_no_new_problems(&signed.input, &signed.output) {
        failures.push(problem);
    }

    if !failures.is_empty() {
        let kept = keep_for_inspection(signed);
        panic!(
            "[{label}] {} problem(s); input, output and keys kept in {}\n\n{}\n\npyHanko report: {report}",
            failures.len(),
            kept.display(),
            failures.join("\n\n")
        );
    }
    report
}

/// Copies a failing case out of its temp dir to target/tmp/failures/LABEL/ for reproduction.
fn keep_for_inspection(signed: &Signed) -> PathBuf {
    let name: String = signed
        .label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("failures")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let copied = std::fs::create_dir_all(dir.join("keys")).is_ok()
        && std::fs::copy(&signed.input, dir.join("input.pdf")).is_ok()
        && std::fs::copy(&signed.output, dir.join("output.pdf")).is_ok();
    for entry in std::fs::read_dir(&signed.keys.dir)
        .into_iter()
        .flatten()
        .flatten()
    {
        let _ = std::fs::copy(entry.path(), dir.join("keys").join(entry.file_name()));
    }
    if copied {
        dir
    } else {
        signed.tmp.path().to_owned()
    }
}

fn check_pyhanko(report: &Json, output: &[u8], expect: &Expect) -> Vec<String> {
    let mut failures = Vec::new();
    let signatures = report.get("signatures").array();
    if signatures.len() != expect.prior + 1 {
        failures.push(format!(
            "pyHanko: found {} signatures, expected {}",
            signatures.len(),
            expect.prior + 1
        ));
    }
    for (n, signature) in signatures.iter().enumerate() {
        let field = signature.get("field").str();
        if let Some(error) = signature.get("error").as_str() {
            failures.push(format!(
                "pyHanko: signature #{} ({field}) could not be validated: {error}",
                n + 1
            ));
            continue;
        }
        for flag in ["intact", "valid", "trusted"] {
            if signature.get(flag).as_bool() != Some(true) {
                failures.push(format!(
                    "pyHanko: signature #{} ({field}) not {flag}: {}",
                    n + 1,
                    signature.get("summary")
                ));
            }
        }
        if signature.get("docmdp_ok").as_bool() == Some(false) {
            failures.push(format!(
                "pyHanko: signature #{} ({field}) docmdp_ok is false",
                n + 1
            ));
        }
        let level = signature.get("modification_level").str();
        if n + 1 < signatures.len() && !PERMITTED_MODIFICATIONS.contains(&level) {
            failures.push(format!(
                "pyHanko: earlier signature #{} ({field}) sees modification level {level}",
                n + 1
            ));
        }
    }
    if let Some(last) = signatures.last().filter(|s| s.get("error").is_null()) {
        failures.extend(check_new_signature(last, output));
    }
    let certification = report.get("certification").as_str();
    if certification != expect.certified {
        failures.push(format!(
            "pyHanko: document certification {certification:?}, expected {:?}",
            expect.certified
        ));
    }
    failures
}

/// The PAdES B-B shape of oneseal's own signature (ETSI EN 319 142-1 §6.3, ISO 32000-2 §12.8).
fn check_new_signature(signature: &Json, output: &[u8]) -> Vec<String> {
    let mut failures = Vec::new();
    let mut expect_eq = |what: &str, found: &Json, wanted: &str| {
        if found.as_str() != Some(wanted) {
            failures.push(format!(
                "pyHanko: new signature {what} is {found}, expected {wanted}"
            ));
        }
    };
    expect_eq("coverage", signature.get("coverage"), "ENTIRE_FILE");
    expect_eq("/Type", signature.get("type"), "/Sig");
    expect_eq("/Filter", signature.get("filter"), "/Adobe.PPKLite");
    expect_eq(
        "/SubFilter",
        signature.get("subfilter"),
        "/ETSI.CAdES.detached",
    );
    expect_eq("digest", signature.get("md_algorithm"), "sha256");
    if signature.get("has_cert_entry").as_bool() != Some(false) {
        failures.push("new signature dictionary has a /Cert entry (PAdES forbids it)".to_owned());
    }
    if signature.get("m").is_null() {
        failures.push("new signature dictionary has no /M".to_owned());
    }
    let attrs: Vec<&str> = signature
        .get("signed_attrs")
        .array()
        .iter()
        .map(Json::str)
        .collect();
    for wanted in ["content_type", "message_digest", "signing_certificate_v2"] {
        if !attrs.contains(&wanted) {
            failures.push(format!(
                "new signature lacks signed attribute {wanted} (has {attrs:?})"
            ));
        }
    }
    if signature.get("signed_attrs_der_order").as_bool() != Some(true) {
        failures.push(format!(
            "new signature's signed attributes are not in DER SET OF order: {attrs:?}"
        ));
    }
    if attrs.contains(&"signing_time") {
        failures.push(
            "new signature has a signing-time attribute (PAdES B-B: the time lives in /M)"
                .to_owned(),
        );
    }
    let mechanism = signature.get("signature_mechanism").str();
    if !mechanism.contains("ecdsa") {
        failures.push(format!(
            "new signature mechanism {mechanism}, expected ECDSA"
        ));
    }
    failures.extend(check_byte_range(signature.get("byte_range"), output));
    failures
}

/// ByteRange [0 a b c]: covers the whole file except exactly the /Contents hex string, brackets included.
fn check_byte_range(byte_range: &Json, output: &[u8]) -> Vec<String> {
    let numbers: Vec<usize> = byte_range
        .array()
        .iter()
        .filter_map(Json::as_f64)
        .map(|n| n as usize)
        .collect();
    let [start, first_len, second_start, second_len] = numbers[..] else {
        return vec![format!(
            "new signature /ByteRange is {byte_range}, expected four numbers"
        )];
    };
    let mut failures = Vec::new();
    if start != 0 || second_start + second_len != output.len() || second_start <= first_len {
        failures.push(format!(
            "/ByteRange {byte_range} does not span the file of {} bytes",
            output.len()
        ));
    } else {
        let gap = &output[first_len..second_start];
        let hex = gap.len() >= 2 && gap[1..gap.len() - 1].iter().all(u8::is_ascii_hexdigit);
        if gap.first() != Some(&b'<') || gap.last() != Some(&b'>') || !hex {
            failures.push(format!("/ByteRange gap [{first_len}, {second_start}) is not exactly the <hex> /Contents string"));
        }
    }
    failures
}

/// pdfsig lists fields in field order, not signing order: the new signature is found by name.
fn check_pdfsig(all: &[common::PdfsigSignature], expected: usize, new_field: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let signatures: Vec<_> = all.iter().filter(|s| s.signed).collect();
    if signatures.len() != expected {
        failures.push(format!(
            "pdfsig: found {} signatures, expected {expected}",
            signatures.len()
        ));
    }
    for signature in &signatures {
        let field = &signature.field;
        if !signature.signature_valid {
            failures.push(format!(
                "pdfsig: signature {field} is not \"Signature is Valid\""
            ));
        }
        if !signature.certificate_trusted {
            failures.push(format!(
                "pdfsig: signature {field} is not \"Certificate is Trusted\""
            ));
        }
    }
    match signatures.iter().find(|s| s.field == new_field) {
        None => failures.push(format!(
            "pdfsig: does not list the new signature field {new_field:?}"
        )),
        Some(new) if !new.total_document_signed => failures.push(format!(
            "pdfsig: new signature ({new_field}) is not \"Total document signed\""
        )),
        Some(_) => {}
    }
    failures
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn last_signature(report: &Json) -> &Json {
    report
        .get("signatures")
        .array()
        .last()
        .expect("pyHanko found no signature")
}

/// The sig widget of `field` in sigparts.py's report.
fn widget<'a>(parts: &'a Json, field: &str) -> Option<&'a Json> {
    parts
        .get("widgets")
        .array()
        .iter()
        .find(|w| w.get("field").str() == field && w.get("ft").str() == "/Sig")
}

/// Checks the visible widget of the newest signature: on `page`, at `rect`, with an appearance that
/// shows when the page is rendered (pixels inside the box differ from the unsigned page).
fn check_visible(signed: &Signed, report: &Json, page: u32, rect: [f64; 4]) {
    let label = &signed.label;
    let field = last_signature(report).get("field").str().to_owned();
    let parts = common::sig_parts(&signed.output);
    let widget = widget(&parts, &field)
        .unwrap_or_else(|| panic!("[{label}] pypdf: no widget for field {field}: {parts}"));
    assert_eq!(
        widget.get("page").as_f64(),
        Some(f64::from(page)),
        "[{label}] pypdf: widget on wrong page: {widget}"
    );
    let found: Vec<f64> = widget
        .get("rect")
        .array()
        .iter()
        .filter_map(Json::as_f64)
        .collect();
    assert!(
        found.len() == 4 && found.iter().zip(rect).all(|(a, b)| (a - b).abs() < 0.01),
        "[{label}] pypdf: widget /Rect {found:?}, expected {rect:?}"
    );
    assert_eq!(
        widget.get("has_appearance").as_bool(),
        Some(true),
        "[{label}] pypdf: widget has no /AP /N: {widget}"
    );
    let before = common::render_page_gray(&signed.input, page)
        .unwrap_or_else(|e| panic!("[{label}] pdftoppm on input: {e}"));
    let after = common::render_page_gray(&signed.output, page)
        .unwrap_or_else(|e| panic!("[{label}] pdftoppm on output: {e}"));
    let rotate = widget.get("page_rotate").as_f64().unwrap_or(0.0) as u32;
    let changed = (rect[0] as usize..rect[2] as usize)
        .flat_map(|x| (rect[1] as usize..rect[3] as usize).map(move |y| (x, y)))
        .filter(|&(x, y)| before.at_pdf(x, y, rotate) != after.at_pdf(x, y, rotate))
        .count();
    assert!(
        changed > 100,
        "[{label}] pdftoppm: rendering shows nothing new inside the signature box ({changed} pixels changed)"
    );
}

// ---------------------------------------------------------------------------------------------
// Every accepted fixture, signed plainly and signed certified + visible.

macro_rules! fixture_tests {
    ($($plain:ident, $certified_visible:ident: $file:literal, lenient: $lenient:literal;)*) => {$(
        #[test]
        fn $plain() {
            let signed = sign_with_new_keys($file, &common::fixture($file), &[]);
            judge(&signed, &Expect { lenient: $lenient, ..PLAIN });
        }

        #[test]
        fn $certified_visible() {
            let label = concat!($file, " (--certify --visible)");
            let signed = sign_with_new_keys(label, &common::fixture($file), &["--certify", "--visible", VISIBLE]);
            let report = judge(&signed, &Expect { lenient: $lenient, certified: Some("FILL_FORMS"), ..PLAIN });
            check_visible(&signed, &report, 1, [100.0, 100.0, 300.0, 180.0]);
        }
    )*};
}

fixture_tests! {
    reportlab_basic, reportlab_basic_certified_visible: "rl-basic.pdf", lenient: false;
    reportlab_cjk, reportlab_cjk_certified_visible: "rl-cjk.pdf", lenient: false;
    reportlab_multipage, reportlab_multipage_certified_visible: "rl-multipage.pdf", lenient: false;
    reportlab_acroform, reportlab_acroform_certified_visible: "rl-acroform.pdf", lenient: false;
    ghostscript_pdfwrite, ghostscript_pdfwrite_certified_visible: "gs-pdfwrite.pdf", lenient: false;
    hybrid_xrefstm, hybrid_xrefstm_certified_visible: "hybrid-xrefstm.pdf", lenient: true;
    qpdf_object_streams, qpdf_object_streams_certified_visible: "qpdf-objstm.pdf", lenient: false;
    qpdf_pdf13_classic, qpdf_pdf13_classic_certified_visible: "qpdf-v13-classic.pdf", lenient: false;
    qpdf_linearized, qpdf_linearized_certified_visible: "qpdf-linearized.pdf", lenient: false;
    qpdf_linearized_object_streams, qpdf_linearized_object_streams_certified_visible: "qpdf-linearized-objstm.pdf", lenient: false;
    qpdf_qdf, qpdf_qdf_certified_visible: "qpdf-qdf.pdf", lenient: false;
    qpdf_pdf20, qpdf_pdf20_certified_visible: "qpdf-pdf20.pdf", lenient: false;
    pypdf_incremental, pypdf_incremental_certified_visible: "pypdf-incremental.pdf", lenient: false;
    handmade_indirect_arrays, handmade_indirect_arrays_certified_visible: "hm-indirect-arrays.pdf", lenient: false;
    handmade_indirect_kids, handmade_indirect_kids_certified_visible: "hm-indirect-kids.pdf", lenient: false;
    handmade_cr_line_endings, handmade_cr_line_endings_certified_visible: "hm-cr-eol.pdf", lenient: false;
    pyhanko_empty_field_left_alone, pyhanko_empty_field_left_alone_certified_visible: "pyhanko-emptyfield.pdf",
        lenient: false;
}

/// Signing into an existing empty signature field fills it: no new field, its widget unchanged.
fn sign_into_empty_field(name: &str, expect: &Expect) {
    let label = format!("{name} (--field ApprovalSeal)");
    let fixture = common::fixture(name);
    let signed = sign_with_new_keys(&label, &fixture, &["--field", "ApprovalSeal"]);
    let report = judge(&signed, expect);
    assert_eq!(
        last_signature(&report).get("field").str(),
        "ApprovalSeal",
        "[{label}] pyHanko: {report}"
    );
    let before = common::sig_parts(&fixture);
    let after = common::sig_parts(&signed.output);
    let fields = |parts: &Json| {
        parts
            .get("signatures")
            .array()
            .iter()
            .map(|s| s.get("field").str().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        fields(&before),
        fields(&after),
        "[{label}] pypdf: signature fields changed: {after}"
    );
    assert_eq!(
        widget(&before, "ApprovalSeal").map(|w| w.get("rect")),
        widget(&after, "ApprovalSeal").map(|w| w.get("rect")),
        "[{label}] pypdf: widget moved"
    );
}

#[test]
fn pyhanko_empty_field_is_filled() {
    sign_into_empty_field("pyhanko-emptyfield.pdf", &PLAIN);
}

#[test]
fn pyhanko_certified_empty_field_is_filled() {
    sign_into_empty_field(
        "pyhanko-certified-emptyfield.pdf",
        &Expect {
            prior: 1,
            certified: Some("FILL_FORMS"),
            ..PLAIN
        },
    );
}

#[test]
fn pyhanko_signed() {
    let signed = sign_with_new_keys(
        "pyhanko-signed.pdf",
        &common::fixture("pyhanko-signed.pdf"),
        &[],
    );
    judge(&signed, &Expect { prior: 1, ..PLAIN });
}

#[test]
fn pyhanko_signed_visible() {
    let label = "pyhanko-signed.pdf (--visible)";
    let signed = sign_with_new_keys(
        label,
        &common::fixture("pyhanko-signed.pdf"),
        &["--visible", VISIBLE],
    );
    let report = judge(&signed, &Expect { prior: 1, ..PLAIN });
    check_visible(&signed, &report, 1, [100.0, 100.0, 300.0, 180.0]);
}

#[test]
fn pyhanko_certified() {
    let signed = sign_with_new_keys(
        "pyhanko-certified.pdf",
        &common::fixture("pyhanko-certified.pdf"),
        &[],
    );
    judge(
        &signed,
        &Expect {
            prior: 1,
            certified: Some("FILL_FORMS"),
            ..PLAIN
        },
    );
}

/// Signs `name` with `args`: a clean refusal (exit 2, one `oneseal:` line, no output) passes, and
/// so does a file every judge accepts; returns the signed file in the second case.
fn refused_or_valid(
    label: &str,
    name: &str,
    args: &[&str],
    expect: &Expect,
) -> Option<(Signed, Json)> {
    let fixture = common::fixture(name);
    let keys = common::keygen(&[]);
    let tmp = TempDir::new().expect("temp dir");
    let output = tmp.path().join("signed.pdf");
    let result = common::sign(&fixture, &output, &keys.dir, args);
    if result.code == Some(2) {
        let stderr = result.stderr.trim_end();
        let clean =
            stderr.lines().count() == 1 && stderr.starts_with("oneseal:") && !output.exists();
        assert!(
            clean,
            "[{label}] refusal is not one oneseal: line, or left an output file:\n{}",
            result.describe()
        );
        return None;
    }
    let signed = sign_with(label, &fixture, keys, args);
    let report = judge(&signed, expect);
    Some((signed, report))
}

/// A new visible signature field on a certified (P=2) document is a change pyHanko's default
/// policy (like Acrobat) rejects as OTHER. oneseal may refuse it cleanly or do it validly; a file
/// that breaks the certification is the one wrong answer.
#[test]
fn pyhanko_certified_visible_is_refused_or_valid() {
    let expect = Expect {
        prior: 1,
        certified: Some("FILL_FORMS"),
        ..PLAIN
    };
    let label = "pyhanko-certified.pdf (--visible)";
    if let Some((signed, report)) = refused_or_valid(
        label,
        "pyhanko-certified.pdf",
        &["--visible", VISIBLE],
        &expect,
    ) {
        check_visible(&signed, &report, 1, [100.0, 100.0, 300.0, 180.0]);
    }
}

/// A trailer /Size far beyond the objects present: new objects numbered from it exceed what
/// readers accept (ISO 32000-1 Annex C, 8,388,607 objects); refuse, or number them sensibly.
#[test]
fn oversized_trailer_size_is_refused_or_valid() {
    refused_or_valid(
        "hm-size-too-large.pdf",
        "hm-size-too-large.pdf",
        &[],
        &PLAIN,
    );
}

// ---------------------------------------------------------------------------------------------
// Sequences and options.

#[test]
fn signed_twice_both_signatures_stay_valid() {
    let first = sign_with_new_keys("rl-basic.pdf (1st)", &common::fixture("rl-basic.pdf"), &[]);
    let first_report = judge(&first, &PLAIN);
    let second = sign_with(
        "rl-basic.pdf (2nd, on the signed output)",
        &first.output,
        first.keys,
        &[],
    );
    let report = judge(&second, &Expect { prior: 1, ..PLAIN });
    let signatures = report.get("signatures").array();
    assert_ne!(
        signatures[0].get("field"),
        signatures[1].get("field"),
        "[rl-basic.pdf signed twice] both signatures use the same field: {report}"
    );
    assert_eq!(
        signatures[0].get("field"),
        last_signature(&first_report).get("field")
    );
    assert_ne!(
        signatures[0].get("coverage").str(),
        "ENTIRE_FILE",
        "[rl-basic.pdf signed twice] pyHanko: {report}"
    );
}

#[test]
fn certified_then_approved() {
    let fixture = common::fixture("rl-acroform.pdf");
    let certified = sign_with_new_keys("rl-acroform.pdf (--certify)", &fixture, &["--certify"]);
    let report = judge(
        &certified,
        &Expect {
            certified: Some("FILL_FORMS"),
            ..PLAIN
        },
    );
    let label = &certified.label;
    assert_eq!(
        last_signature(&report).get("docmdp_level").str(),
        "FILL_FORMS",
        "[{label}] pyHanko: {report}"
    );
    let parts = common::sig_parts(&certified.output);
    assert_eq!(
        parts.get("perms_docmdp").as_bool(),
        Some(true),
        "[{label}] pypdf: catalog has no /Perms /DocMDP: {parts}"
    );

    let approved = sign_with(
        "rl-acroform.pdf (certified, then approval)",
        &certified.output,
        certified.keys,
        &[],
    );
    let report = judge(
        &approved,
        &Expect {
            prior: 1,
            certified: Some("FILL_FORMS"),
            ..PLAIN
        },
    );
    let first = &report.get("signatures").array()[0];
    assert_eq!(
        first.get("docmdp_ok").as_bool(),
        Some(true),
        "[{}] pyHanko: {report}",
        approved.label
    );
    assert!(
        last_signature(&report).get("docmdp_level").is_null(),
        "[{}] approval signature claims DocMDP: {report}",
        approved.label
    );
}

#[test]
fn visible_signature_on_a_later_page() {
    let signed = sign_with_new_keys(
        "gs-pdfwrite.pdf (--visible 2,...)",
        &common::fixture("gs-pdfwrite.pdf"),
        &["--visible", "2,300,500,150,60"],
    );
    let report = judge(&signed, &PLAIN);
    check_visible(&signed, &report, 2, [300.0, 500.0, 450.0, 560.0]);
}

#[test]
fn reason_location_contact_reach_the_signature_dictionary() {
    let reason = "准予行政许可 (approved)";
    let location = "某市行政审批局";
    let contact = "审批科 +86 10 1234 5678";
    let args = [
        "--reason",
        reason,
        "--location",
        location,
        "--contact",
        contact,
    ];
    let signed = sign_with_new_keys(
        "rl-cjk.pdf (--reason/--location/--contact)",
        &common::fixture("rl-cjk.pdf"),
        &args,
    );
    let report = judge(&signed, &PLAIN);
    let signature = last_signature(&report);
    for (key, wanted) in [
        ("reason", reason),
        ("location", location),
        ("contact", contact),
    ] {
        assert_eq!(
            signature.get(key).str(),
            wanted,
            "[{}] pyHanko: /{key} wrong in {signature}",
            signed.label
        );
    }
}

#[test]
fn field_option_names_the_signature_field() {
    let signed = sign_with_new_keys(
        "rl-basic.pdf (--field)",
        &common::fixture("rl-basic.pdf"),
        &["--field", "BureauApproval"],
    );
    let report = judge(&signed, &PLAIN);
    assert_eq!(
        last_signature(&report).get("field").str(),
        "BureauApproval",
        "[{}] pyHanko: {report}",
        signed.label
    );
}

#[test]
fn existing_form_fields_are_preserved() {
    let cases: [(&str, &[&str]); 3] = [
        ("rl-acroform.pdf", &["--visible", VISIBLE]),
        ("qpdf-pdf20.pdf", &["--visible", VISIBLE]),
        ("pyhanko-certified.pdf", &[]),
    ];
    for (name, args) in cases {
        let fixture = common::fixture(name);
        let signed = sign_with_new_keys(name, &fixture, args);
        let before = common::sig_parts(&fixture);
        let after = common::sig_parts(&signed.output);
        assert_eq!(
            before.get("form_fields"),
            after.get("form_fields"),
            "[{name}] pypdf: form fields changed by signing"
        );
        for widget in before.get("widgets").array() {
            assert!(
                after.get("widgets").array().contains(widget),
                "[{name}] pypdf: widget lost or changed: {widget}\nafter: {after}"
            );
        }
        assert!(
            after.get("acroform_sigflags").as_f64() == Some(3.0),
            "[{name}] pypdf: /SigFlags should be 3: {after}"
        );
    }
}

#[test]
fn example_keys_sign_and_validate() {
    let root = common::repo_root();
    let keys_dir = root.join("keys-example");
    let example_root = root.join("certs/example-root-ca.pem");
    assert!(
        keys_dir.join("seal-key.pem").is_file(),
        "keys-example/seal-key.pem missing from the repository"
    );
    assert!(
        example_root.is_file(),
        "certs/example-root-ca.pem missing from the repository"
    );
    let keys = Keys::existing(keys_dir, example_root);
    let signed = sign_with(
        "rl-basic.pdf (keys-example)",
        &common::fixture("rl-basic.pdf"),
        keys,
        &[],
    );
    judge(&signed, &PLAIN);
}

#[test]
fn keygen_options_reach_the_seal_certificate() {
    let org = "某市行政审批局";
    let seal_name = "某市行政审批局行政审批专用章";
    let keys = common::keygen(&[
        "--org",
        org,
        "--seal-name",
        seal_name,
        "--credit-code",
        "91110000MA0000001L",
        "--days",
        "30",
    ]);
    let signed = sign_with(
        "rl-basic.pdf (keygen --org --seal-name --credit-code)",
        &common::fixture("rl-basic.pdf"),
        keys,
        &[],
    );
    let report = judge(&signed, &PLAIN);
    let subject = last_signature(&report).get("signer_subject").str();
    assert!(
        subject.contains(org) && subject.contains(seal_name),
        "[{}] signer subject {subject:?} lacks the org or seal name",
        signed.label
    );
}

/// The judges are wired right: a signed file with one covered byte changed must fail every one.
#[test]
fn judges_reject_a_tampered_file() {
    let signed = sign_with_new_keys(
        "rl-basic.pdf (then tampered)",
        &common::fixture("rl-basic.pdf"),
        &[],
    );
    let mut bytes = std::fs::read(&signed.output).expect("read output");
    assert!(
        bytes.starts_with(b"%PDF-1.4"),
        "rl-basic.pdf should start with %PDF-1.4"
    );
    bytes[7] = b'5'; // inside the first ByteRange span
    let tampered = signed.tmp.path().join("tampered.pdf");
    std::fs::write(&tampered, &bytes).expect("write tampered");
    let fixture_root = common::fixture("pyhanko-ca.pem");
    let roots = [signed.keys.root.as_path(), fixture_root.as_path()];

    let report = common::pyhanko_validate(&tampered, &roots, false);
    assert_eq!(
        last_signature(&report).get("intact").as_bool(),
        Some(false),
        "pyHanko accepts a tampered file: {report}"
    );
    let (pdfsig, run) = common::pdfsig_validate(&tampered, &roots);
    assert!(
        pdfsig.len() == 1 && !pdfsig[0].signature_valid,
        "pdfsig accepts a tampered file:\n{}",
        run.describe()
    );
    let cms = common::openssl_cms_verify(&tampered, &roots);
    assert!(
        cms.len() == 1 && cms[0].is_err(),
        "openssl accepts a tampered file: {cms:?}"
    );

    let untrusted = common::keygen(&[]);
    let report = common::pyhanko_validate(&signed.output, &[untrusted.root.as_path()], false);
    assert_eq!(
        last_signature(&report).get("trusted").as_bool(),
        Some(false),
        "pyHanko trusts an unrelated root: {report}"
    );
    let (pdfsig, run) = common::pdfsig_validate(&signed.output, &[untrusted.root.as_path()]);
    assert!(
        pdfsig.len() == 1 && !pdfsig[0].certificate_trusted,
        "pdfsig trusts an unrelated root:\n{}",
        run.describe()
    );
    let cms = common::openssl_cms_verify(&signed.output, &[untrusted.root.as_path()]);
    assert!(
        cms.len() == 1 && cms[0].is_err(),
        "openssl trusts an unrelated root: {cms:?}"
    );
}

#[test]
fn encrypted_keys_sign_with_the_passphrase() {
    let passphrase = [("ONESEAL_KEY_PASSPHRASE", "审批 passphrase 2026")];
    let keys = common::keygen_env(&[], &passphrase);
    let key = std::fs::read_to_string(keys.dir.join("seal-key.pem")).expect("read seal key");
    assert!(
        key.contains("ENCRYPTED PRIVATE KEY"),
        "keygen with ONESEAL_KEY_PASSPHRASE wrote an unencrypted key"
    );
    let input = common::fixture("rl-basic.pdf");
    let tmp = TempDir::new().expect("temp dir");
    let output = tmp.path().join("signed.pdf");
    let result = common::sign_env(&input, &output, &keys.dir, &[], &passphrase);
    assert!(
        result.ok(),
        "[rl-basic.pdf, encrypted keys] oneseal sign failed:\n{}",
        result.describe()
    );
    let signed = Signed {
        label: "rl-basic.pdf (encrypted keys)".to_owned(),
        input,
        output,
        keys,
        tmp,
    };
    judge(&signed, &PLAIN);
}

/// A second signature on oneseal's own output, across cross-reference styles: the update must
/// chain onto an update oneseal wrote itself.
#[test]
fn signed_twice_across_producers() {
    let cases = [
        ("qpdf-objstm.pdf", false),
        ("qpdf-linearized.pdf", false),
        ("qpdf-linearized-objstm.pdf", false),
        ("hybrid-xrefstm.pdf", true),
        ("hm-cr-eol.pdf", false),
        ("pypdf-incremental.pdf", false),
    ];
    for (name, lenient) in cases {
        let first = sign_with_new_keys(
            &format!("{name} (1st, --certify)"),
            &common::fixture(name),
            &["--certify"],
        );
        judge(
            &first,
            &Expect {
                lenient,
                certified: Some("FILL_FORMS"),
                ..PLAIN
            },
        );
        let label = format!("{name} (2nd, on the certified output)");
        let second = sign_with(&label, &first.output, first.keys, &["--reason", "second"]);
        judge(
            &second,
            &Expect {
                prior: 1,
                lenient,
                certified: Some("FILL_FORMS"),
            },
        );
    }
}
