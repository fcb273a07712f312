//! Inputs the fuzzers (fuzz/, docs/fuzzing.md) found to panic, abort, hang or exhaust memory:
//! each must now return, `Ok` or `Err`, without panicking.
//!
//! Files live in tests/data/fuzz/ as `<target>-<short-name>.pdf`. A `pdf_open-*` file is a PDF
//! for `PdfFile::open` and the lookups signing makes after it; a `sign_pdf-*` file is the raw
//! fuzz input of the `sign_pdf` target: its first byte picks the request (see `request` below,
//! which mirrors fuzz/fuzz_targets/sign_pdf.rs), the rest is the PDF. A `verify_pdf-*` file is a
//! PDF for `verify::verify` with the fuzz chain as trust anchors (fuzz/fuzz_targets/verify_pdf.rs);
//! a `cms_parse-*` file is raw `/Contents` bytes for `cms::parse_signature` and
//! `x509_cert::Certificate::from_der`. A `template_inputs-*` file (`.bin`) is the raw fuzz input
//! of the `template_inputs` target: its first byte picks the reader (`template_fuzz_input` below,
//! which mirrors fuzz/fuzz_targets/template_inputs.rs), the rest is a template.toml, a blank
//! template.pdf or issuance JSON. There are no timing assertions: a hang shows up as a test
//! that does not finish.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use oneseal::pdf::{Limits, ObjectId, PdfFile};
use oneseal::seal::KeyFileSigner;
use oneseal::sign::{DocMdpPermission, SignatureRequest, VisibleSignature, sign_pdf};
use oneseal::template::bundle::{BlankLimits, check_blank};
use oneseal::template::data::check_data;
use oneseal::template::font::SourceFont;
use oneseal::template::manifest::parse_manifest;
use oneseal::template::render::{IssuerValues, render};
use oneseal::template::{Bundle, LicenceSerial};
use oneseal::verify::{Indication, Policy, TrustAnchors, verify};
use time::OffsetDateTime;

// TEST-ONLY key and chain shared with the fuzz targets; they protect nothing.
const KEY_PEM: &[u8] = include_bytes!("../fuzz/keys/seal-key.pem");
const CHAIN_PEM: &[u8] = include_bytes!("../fuzz/keys/seal-cert.pem");

fn input(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the `pdf_open` target does with one input.
fn open_and_look_around(bytes: &[u8]) {
    let Ok(file) = PdfFile::open(bytes, Limits::default()) else {
        return;
    };
    let _ = file.xref_form();
    let _ = file.newest_xref_offset();
    let size = file.size();
    let _ = file.catalog();
    let _ = file.page(1);
    let _ = file.page(2);
    for number in 0..size.min(64) {
        let _ = file.object(ObjectId::new(number, 0));
    }
}

/// What the `verify_pdf` target does with one input: verify against the fuzz chain at a fixed
/// time inside its validity (2027-06-01T00:00:00Z); a passed report must have only passed
/// signatures.
fn verify_fuzz_input(pdf: &[u8]) {
    let mut anchors = TrustAnchors::new();
    anchors.add_pem_or_der(CHAIN_PEM).unwrap();
    let policy = Policy::new(OffsetDateTime::from_unix_timestamp(1_811_808_000).unwrap());
    if let Ok(report) = verify(pdf, &anchors, &policy) {
        if report.passed() {
            assert!(!report.signatures.is_empty());
            assert!(
                report
                    .signatures
                    .iter()
                    .all(|s| s.indication == Indication::TotalPassed)
            );
        }
        let _ = oneseal::verify::text::render(&report, oneseal::verify::text::Language::English);
    }
}

/// What the `cms_parse` target does with one input.
fn parse_cms_fuzz_input(bytes: &[u8]) {
    use der::Decode;
    let _ = oneseal::cms::parse_signature(bytes);
    let _ = x509_cert::Certificate::from_der(bytes);
}

/// What the `template_inputs` target does with one input: byte 0 picks the reader (mod 3), the
/// rest is a manifest, a blank, or issuance JSON for the food-business-licence template, drawn
/// onto its blank when the data passes.
fn template_fuzz_input(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
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
            let manifest = include_bytes!("../templates/food-business-licence/template.toml");
            let blank = include_bytes!("../templates/food-business-licence/template.pdf");
            let font = SourceFont::shipped().unwrap();
            let bundle = Bundle::load(manifest, blank.to_vec(), None, font).unwrap();
            if let Ok(values) = check_data(&bundle.manifest, rest, font) {
                let serial = LicenceSerial::parse("FUZZ-1").unwrap();
                let issuer = IssuerValues {
                    serial: &serial,
                    issued_at: OffsetDateTime::UNIX_EPOCH,
                    verification_url: "https://example.gov.cn/v/FUZZ-1",
                    organization: "新乡经济技术开发区管理委员会",
                    seal_name: "行政审批专用章",
                    seal_image: None,
                };
                let _ = render(&bundle, &values, &issuer, font);
            }
        }
    }
}

/// The request the `sign_pdf` target derives from its first input byte.
fn request(selector: u8) -> SignatureRequest {
    let time = OffsetDateTime::from_unix_timestamp(1_764_000_000).unwrap();
    let mut request = SignatureRequest::new(time);
    request.certify = match selector & 0b11 {
        1 => Some(DocMdpPermission::NoChanges),
        2 => Some(DocMdpPermission::FormFilling),
        3 => Some(DocMdpPermission::Annotations),
        _ => None,
    };
    if selector & 0b100 != 0 {
        request.visible = Some(VisibleSignature {
            page: if selector & 0b1000 != 0 { 2 } else { 1 },
            x: 72.0,
            y: 72.0,
            width: 180.0,
            height: 60.0,
        });
    }
    request.field_name = match (selector >> 4) & 0b11 {
        1 => Some("Signature1".into()),
        2 => Some("Approval".into()),
        3 => Some("Sig1".into()),
        _ => None,
    };
    if selector & 0b0100_0000 != 0 {
        request.reason = Some("审批 approval".into());
        request.location = Some("Xinxiang".into());
    }
    if selector & 0b1000_0000 != 0 {
        request.timestamp_reserve = 64;
    }
    request
}

/// What the `sign_pdf` target does with one input; an `Ok` output must reopen.
fn sign_fuzz_input(data: &[u8]) {
    let Some((&selector, pdf)) = data.split_first() else {
        return;
    };
    let signer = KeyFileSigner::from_pem(KEY_PEM, CHAIN_PEM, None).unwrap();
    if let Ok(signed) = sign_pdf(pdf, &signer, &request(selector)) {
        assert!(signed.starts_with(pdf));
        if let Err(error) = PdfFile::open(&signed, Limits::default()) {
            panic!("our own signed output does not reopen: {error}");
        }
    }
}

/// Signs a `pdf_open-*` PDF too, with the plain request and a visible one.
fn sign_plain_pdf(pdf: &[u8]) {
    for selector in [0x00, 0x04] {
        sign_fuzz_input(&[&[selector][..], pdf].concat());
    }
}

// F1 (fixed in 691f9a6): an object stream whose /Length is an object inside that same stream
// recursed without end (PdfFile::object_stream -> object_at -> direct_length ->
// object_in_stream -> object_stream): stack overflow, the process aborted.
#[test]
fn object_stream_length_inside_itself_returns() {
    let pdf = input("pdf_open-objstm-length-loop.pdf");
    open_and_look_around(&pdf);
    sign_plain_pdf(&pdf);
}

// F2: many /Prev sections naming the same /XRefStm each decoded it again and kept the copy, so
// memory and time grew with sections x decoded size, past every per-stream limit. Full size
// (`python3 fuzz/regressions-src/xrefstm_shared.py out.pdf 40 60000000`): 61 kB in, 2.6 GB
// and 14 s. The saved input is a small one (4 x 8 MB) that keeps the test quick.
#[test]
fn shared_xref_stream_bomb_returns() {
    let pdf = input("pdf_open-shared-xrefstm-bomb.pdf");
    open_and_look_around(&pdf);
}

// F3: every cross-reference entry was collected before max_objects was checked. Full size
// (`python3 fuzz/regressions-src/xrefstm_entries.py out.pdf 67000000`): 65 kB in, 1.1 GB
// before the refusal. The saved input has 8 M rows, twice the limit.
#[test]
fn xref_entries_over_the_limit_return() {
    let pdf = input("pdf_open-xref-entries-before-limit.pdf");
    open_and_look_around(&pdf);
}

// F4: objects in the file body were re-read from the bytes on every resolve, and nothing bounded
// the total: /Kids naming one large node N times cost N x its size. Full size
// (`python3 fuzz/regressions-src/kids_reparse.py out.pdf 16000 50000`): 196 kB in, 4 s in
// `page(1)`, so in every `sign_pdf`. The saved input is a small one (2000 x 20 kB).
#[test]
fn repeated_large_kid_returns() {
    let pdf = input("pdf_open-kids-reparse.pdf");
    open_and_look_around(&pdf);
    sign_plain_pdf(&pdf);
}

// F5: the trailer's /Size seeded new object numbers unchecked: /Size 4294967295 overflowed
// `IncrementalUpdate::allocate` (src/pdf/write.rs:42). Debug builds panicked; release wrapped to
// object 0 and then reused 1 (the catalog's number) for the new /AcroForm, writing a corrupt
// revision with no error (fixed in c6e68d0).
#[test]
fn trailer_size_at_u32_max_returns() {
    sign_fuzz_input(&input("sign_pdf-size-overflow.pdf"));
}

// V1 (fixed in e83d46a): form_fields (src/pdf/form.rs) stores every visited field's fully qualified name and
// clones it onto the stack once per kid. A DAG of 32 field objects, each with a long /T and /Kids
// naming the next level twice, unfolds to 2^32 nodes; the 50 000-visit cap stops the walk only
// after 50 000 names of up to 32 x |T| bytes were built. Full size
// (`python3 fuzz/regressions-src/field_names.py out.pdf 32 2 4000`): 131 kB in, killed at 4 GB
// (release CLI). Reached by verify (find_signatures) and by signing (src/sign/form.rs). The saved
// input has a 64-byte /T.
#[test]
fn deep_field_names_return() {
    let pdf = input("verify_pdf-field-name-growth.pdf");
    verify_fuzz_input(&pdf);
    sign_plain_pdf(&pdf);
}

// V2 (fixed in e83d46a): verify() rebuilds changes::Context (catalog and page tree cloned, every page's
// annotations and appearances resolved) once per signature, and find_signatures compares each
// /ByteRange with all found before, so the cost is signatures x document size. Full size
// (`python3 fuzz/regressions-src/many_signatures.py out.pdf 3000 10000`): 235 kB in, 42 s in
// release. The saved input has 400 signatures and 200 annotations.
#[test]
fn many_signatures_return() {
    verify_fuzz_input(&input("verify_pdf-many-signatures.pdf"));
}

// V3 (fixed in e83d46a): changes::revisions re-opens the prefix ending at every %%EOF; prefixes with no new
// section are skipped without counting against Policy::max_revisions, so repeated
// `startxref N %%EOF` lines cost repeats x xref size. Full size
// (`python3 fuzz/regressions-src/eof_repeat.py out.pdf 20000 20000`): 1.3 MB in, 14 s in release.
// The saved input has 1000 objects and 600 repeats.
#[test]
fn repeated_eof_markers_return() {
    verify_fuzz_input(&input("verify_pdf-eof-repeat.pdf"));
}

// V4 (fixed in e83d46a): changes::Context::new visits every entry page_ids returns, repeats included, and for
// each resolves the page's /Annots array and up to 10 000 annotations in it, with no total
// budget: /Kids naming one page N times whose shared /Annots names a widget M times costs N x M
// resolves (each cloning the array) per signature. Full size
// (`python3 fuzz/regressions-src/shared_annots.py out.pdf 20000 10000`): 181 kB in, over 60 s in
// release (the CLI's watchdog refused it). The saved input is 400 x 400.
#[test]
fn shared_annotation_arrays_return() {
    verify_fuzz_input(&input("verify_pdf-shared-annots.pdf"));
}

// T1: every field pattern of a template.toml was compiled twice (alone, then anchored) with a
// 1 MB size limit each, and a manifest may have 100 fields: 99 patterns `\w{20}` (9 kB, under
// the 64 kB limit) took 3 s in the fuzz build to parse. Generator:
// `python3 fuzz/regressions-src/manifest_patterns.py out.bin 99`; the saved input is that one.
#[test]
fn many_large_field_patterns_return() {
    template_fuzz_input(&input("template_inputs-pattern-compile.bin"));
}

// T2: PdfFile::object parsed each object once (F4) but handed out a fresh copy on every read, so
// one large object named many times was copied as often. A blank page whose /Annots names one
// annotation 1000 times, the annotation carrying 100 000 integers (206 kB), took 2 s in
// check_blank (fuzz build); at 2 MB, 27 s. The page tree has the same shape: /Kids naming a
// large empty /Pages node 2000 times before the page (212 kB) took 3.8 s to find page 1, in
// check_blank and in everything that signs. Generators: fuzz/regressions-src/shared_annotation.py
// (`out.bin 1 1000 100000`) and kids_array_copies.py (`out.bin 2000 100000`).
#[test]
fn large_objects_named_many_times_return() {
    template_fuzz_input(&input("template_inputs-shared-annotation.bin"));
    let kids = input("template_inputs-kids-array-copies.bin");
    template_fuzz_input(&kids);
    let pdf = kids.get(1..).unwrap();
    open_and_look_around(pdf);
    sign_plain_pdf(pdf);
}

/// Inputs with a test of their own above; the sweep skips them so nothing heavy runs twice.
const NAMED: [&str; 12] = [
    "template_inputs-kids-array-copies.bin",
    "template_inputs-pattern-compile.bin",
    "template_inputs-shared-annotation.bin",
    "verify_pdf-shared-annots.pdf",
    "verify_pdf-field-name-growth.pdf",
    "verify_pdf-many-signatures.pdf",
    "verify_pdf-eof-repeat.pdf",
    "sign_pdf-size-overflow.pdf",
    "pdf_open-kids-reparse.pdf",
    "pdf_open-objstm-length-loop.pdf",
    "pdf_open-shared-xrefstm-bomb.pdf",
    "pdf_open-xref-entries-before-limit.pdf",
];

/// Every other saved input, such as ones added later without a test of their own.
#[test]
fn every_other_saved_fuzz_input_returns() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if NAMED.contains(&name.as_str()) {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        if name.starts_with("pdf_open-") {
            open_and_look_around(&bytes);
        } else if name.starts_with("sign_pdf-") {
            sign_fuzz_input(&bytes);
        } else if name.starts_with("verify_pdf-") {
            verify_fuzz_input(&bytes);
        } else if name.starts_with("cms_parse-") {
            parse_cms_fuzz_input(&bytes);
        } else if name.starts_with("template_inputs-") {
            template_fuzz_input(&bytes);
        }
    }
}
