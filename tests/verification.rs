//! `oneseal verify`: the tamper suite and the cross-producer checks. Each case asserts its exit status
//! (0 all signatures pass and nothing impermissible changed; 1 a signature fails, is indeterminate,
//! the document changed after signing, or there is none; 2 the input cannot be read) and the ETSI
//! EN 319 102-1 indication and sub-indication of the `--json` report (docs/verify-report.md).
//!
//! Files signed by oneseal are made here with the built binary and damaged here; files from pyHanko
//! and Poppler's pdfsig, and the certificates with defects, come from tests/data/make_verify_fixtures.sh
//! (run by `scripts/test`); the incremental edits are written by tests/data/make_verify_fixtures.py.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Json, Keys, Run};
use tempfile::TempDir;

/// A fixture of tests/data/generated/verify/.
fn vfix(name: &str) -> PathBuf {
    common::fixture(&format!("verify/{name}"))
}

/// What `oneseal verify` printed, with its `--json` report parsed when it printed one.
struct Verdict {
    label: String,
    run: Run,
    json: Json,
}

impl Verdict {
    fn describe(&self) -> String {
        format!("[{}]\n{}", self.label, self.run.describe())
    }

    fn signatures(&self) -> &[Json] {
        self.json.get("signatures").array()
    }

    /// Signature `n` (0-based, file order); fails when the report has fewer.
    fn signature(&self, n: usize) -> &Json {
        let signatures = self.signatures();
        assert!(
            n < signatures.len(),
            "expected at least {} signature(s) in the report, found {}\n{}",
            n + 1,
            signatures.len(),
            self.describe()
        );
        &signatures[n]
    }

    fn expect_exit(&self, code: i32) -> &Self {
        assert_eq!(
            self.run.code,
            Some(code),
            "wrong exit status (want {code})\n{}",
            self.describe()
        );
        self
    }

    fn expect_top(&self, indications: &[&str]) -> &Self {
        let top = self.json.get("indication").str();
        assert!(
            indications.contains(&top),
            "top-level indication {top:?}, want one of {indications:?}\n{}",
            self.describe()
        );
        self
    }

    /// Signature `n` has one of `indications` and one of `subs` (None: sub_indication is null).
    fn expect_sig(&self, n: usize, indications: &[&str], subs: &[Option<&str>]) -> &Self {
        let signature = self.signature(n);
        let indication = signature.get("indication").str();
        let sub = signature.get("sub_indication").as_str();
        assert!(
            indications.contains(&indication) && subs.contains(&sub),
            "signature #{} ({}) is {indication:?}/{sub:?}, want one of {indications:?} with one of {subs:?}\n{}",
            n + 1,
            signature.get("field").str(),
            self.describe()
        );
        self
    }

    fn expect_count(&self, count: usize) -> &Self {
        assert_eq!(
            self.signatures().len(),
            count,
            "wrong number of signatures in the report\n{}",
            self.describe()
        );
        self
    }

    fn expect_covers_whole_file(&self, n: usize, whole: bool) -> &Self {
        let covers = self.signature(n).get("covers_whole_file").as_bool();
        assert_eq!(
            covers,
            Some(whole),
            "signature #{} covers_whole_file\n{}",
            n + 1,
            self.describe()
        );
        self
    }

    /// Everything about signature `n` a reader of the report needs for a clean pass.
    fn expect_passed(&self, n: usize) -> &Self {
        self.expect_sig(n, &["TOTAL-PASSED"], &[None]);
        let signature = self.signature(n);
        let refused: Vec<&Json> = signature
            .get("modifications")
            .array()
            .iter()
            .filter(|m| m.get("permitted").as_bool() != Some(true))
            .collect();
        assert!(
            refused.is_empty(),
            "a passed signature lists impermissible modifications {refused:?}\n{}",
            self.describe()
        );
        self
    }

    /// Some later change to signature `n`'s document is listed as not permitted, and its
    /// description mentions one of `words` (case-insensitive).
    fn expect_forbidden_change(&self, n: usize, words: &[&str]) -> &Self {
        let modifications = self.signature(n).get("modifications").array();
        let found = modifications.iter().any(|m| {
            let description = m.get("description").str().to_lowercase();
            m.get("permitted").as_bool() == Some(false)
                && words
                    .iter()
                    .any(|w| description.contains(&w.to_lowercase()))
        });
        assert!(
            found,
            "signature #{}: no modification with permitted=false mentioning one of {words:?}\n{}",
            n + 1,
            self.describe()
        );
        self
    }
}

/// Runs `oneseal verify PDF --trust ROOT... EXTRA...` with `env` of oneseal's variables.
fn verify_run(pdf: &Path, roots: &[&Path], extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut args: Vec<&std::ffi::OsStr> = vec!["verify".as_ref(), pdf.as_os_str()];
    for root in roots {
        args.push("--trust".as_ref());
        args.push(root.as_os_str());
    }
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    common::oneseal_env(&args, env)
}

/// `oneseal verify --json`; its stdout must be one JSON object unless it exits 2.
fn verify(label: &str, pdf: &Path, roots: &[&Path]) -> Verdict {
    let run = verify_run(pdf, roots, &["--json"], &[]);
    let json = match Json::parse(&run.stdout) {
        Ok(json) => json,
        Err(_) if run.code == Some(2) => Json::Null,
        Err(error) => panic!(
            "[{label}] --json printed no JSON report ({error})\n{}",
            run.describe()
        ),
    };
    Verdict {
        label: label.to_owned(),
        run,
        json,
    }
}

/// An input the verifier cannot read: exit 2, whatever it prints.
fn expect_unreadable(label: &str, pdf: &Path, roots: &[&Path], env: &[(&str, &str)]) {
    for extra in [&["--json"][..], &[][..]] {
        let run = verify_run(pdf, roots, extra, env);
        assert_eq!(
            run.code,
            Some(2),
            "[{label}] an unreadable input must exit 2\n{}",
            run.describe()
        );
        assert!(
            !run.stderr.trim().is_empty(),
            "[{label}] exit 2 must say why on stderr\n{}",
            run.describe()
        );
        assert!(
            run.stdout.trim().is_empty(),
            "[{label}] exit 2 prints nothing on stdout (docs/verify-report.md)\n{}",
            run.describe()
        );
        // clap also exits 2, on a usage error: that is not a refusal of the file.
        assert!(
            !run.stderr.contains("Usage:"),
            "[{label}] exit 2 came from a command-line error, not from reading the file\n{}",
            run.describe()
        );
    }
}

// --- Making and damaging files ----------------------------------------------------------------

/// A file signed by oneseal in a temporary directory.
struct Signed {
    keys: Keys,
    path: PathBuf,
    tmp: TempDir,
}

impl Signed {
    fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).expect("read signed file")
    }

    /// Writes `data` next to the signed file as NAME and returns its path.
    fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        let path = self.tmp.path().join(name);
        std::fs::write(&path, data).expect("write damaged file");
        path
    }

    fn root(&self) -> &Path {
        &self.keys.root
    }
}

/// Signs `input` with `keys` (fresh ones when None).
fn sign(input: &Path, keys: Option<Keys>, extra: &[&str]) -> Signed {
    let keys = keys.unwrap_or_else(|| common::keygen(&[]));
    let tmp = TempDir::new().expect("temp dir");
    let path = tmp.path().join("signed.pdf");
    let result = common::sign(input, &path, &keys.dir, extra);
    assert!(result.ok(), "oneseal sign failed:\n{}", result.describe());
    Signed { keys, path, tmp }
}

/// Signs the output of `first` again, with the same keys, into `name`.
fn sign_again(first: &Signed, name: &str, extra: &[&str]) -> PathBuf {
    let path = first.tmp.path().join(name);
    let result = common::sign(&first.path, &path, &first.keys.dir, extra);
    assert!(
        result.ok(),
        "second oneseal sign failed:\n{}",
        result.describe()
    );
    path
}

/// Runs `make_verify_fixtures.py COMMAND ARGS` (the incremental edits) with the venv's Python.
fn edit(command: &str, args: &[&std::ffi::OsStr]) {
    let python = common::venv_bin().join("python");
    let result = common::run(
        Command::new(python)
            .arg(common::repo_root().join("tests/data/make_verify_fixtures.py"))
            .arg(command)
            .args(args),
    );
    assert!(
        result.ok(),
        "make_verify_fixtures.py {command} failed:\n{}",
        result.describe()
    );
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// The last signature's /ByteRange: its four numbers, and where the array's text sits.
fn last_byte_range(data: &[u8]) -> ([usize; 4], std::ops::Range<usize>) {
    let at = rfind(data, b"/ByteRange").expect("no /ByteRange");
    let open = at + find(&data[at..], b"[").expect("no [ after /ByteRange");
    let close = open + find(&data[open..], b"]").expect("no ] after /ByteRange");
    let text = std::str::from_utf8(&data[open + 1..close]).expect("ByteRange text");
    let numbers: Vec<usize> = text
        .split_whitespace()
        .map(|n| n.parse().expect("ByteRange number"))
        .collect();
    let numbers: [usize; 4] = numbers.try_into().expect("four ByteRange numbers");
    (numbers, open + 1..close)
}

/// The hex digits of the last signature's /Contents (between the angle brackets).
fn contents_hex(data: &[u8]) -> std::ops::Range<usize> {
    let ([_, a, b, _], _) = last_byte_range(data);
    assert_eq!(data[a], b'<', "ByteRange gap does not start at '<'");
    assert_eq!(data[b - 1], b'>', "ByteRange gap does not end at '>'");
    a + 1..b - 1
}

/// Length in bytes of the DER value at the start of the hex digits `hex`.
fn der_length(hex: &[u8]) -> usize {
    let byte = |i: usize| {
        u8::from_str_radix(std::str::from_utf8(&hex[2 * i..2 * i + 2]).unwrap(), 16).unwrap()
    };
    assert_eq!(byte(0), 0x30, "/Contents does not start with a SEQUENCE");
    let first = byte(1);
    if first < 0x80 {
        return 2 + usize::from(first);
    }
    let count = usize::from(first & 0x7f);
    2 + count + (0..count).fold(0, |n, i| n * 256 + usize::from(byte(2 + i)))
}

/// `data` with the byte at `at` replaced by `value`.
fn with_byte(data: &[u8], at: usize, value: u8) -> Vec<u8> {
    assert_ne!(data[at], value, "the flip must change the byte");
    let mut out = data.to_vec();
    out[at] = value;
    out
}

/// A different hex digit in place of `digit`.
fn other_hex_digit(digit: u8) -> u8 {
    if digit == b'0' { b'1' } else { b'0' }
}

fn rl(name: &str) -> PathBuf {
    common::fixture(name)
}

// --- oneseal-signed files ---------------------------------------------------------------------

#[test]
fn oneseal_signature_passes_with_its_report_fields() {
    let signed = sign(
        &rl("rl-basic.pdf"),
        None,
        &[
            "--reason",
            "Approval of the licence",
            "--location",
            "Xinxiang",
            "--field",
            "ApprovalSeal",
        ],
    );
    let v = verify("oneseal signature", &signed.path, &[signed.root()]);
    v.expect_exit(0)
        .expect_top(&["TOTAL-PASSED"])
        .expect_count(1)
        .expect_passed(0)
        .expect_covers_whole_file(0, true);
    let s = v.signature(0);
    let cert_pem = signed.keys.dir.join("seal-cert.pem");
    let checks: Vec<(&str, bool)> = vec![
        ("field", s.get("field").str() == "ApprovalSeal"),
        ("reason", s.get("reason").str() == "Approval of the licence"),
        ("location", s.get("location").str() == "Xinxiang"),
        (
            "sub_filter",
            s.get("sub_filter").str().trim_start_matches('/') == "ETSI.CAdES.detached",
        ),
        (
            "certification_level",
            s.get("certification_level").is_null(),
        ),
        ("signer", !s.get("signer").str().is_empty()),
        ("signing_time", !s.get("signing_time").str().is_empty()),
        ("revision", s.get("revision").as_f64() == Some(2.0)),
        ("schema", v.json.get("schema").as_f64() == Some(1.0)),
        ("revisions", v.json.get("revisions").as_f64() == Some(2.0)),
        (
            "serial",
            s.get("serial").str() == cert_serial_hex(&cert_pem),
        ),
        (
            "sha256_fingerprint",
            s.get("sha256_fingerprint").str() == cert_fingerprint_hex(&cert_pem),
        ),
    ];
    let wrong: Vec<&str> = checks.iter().filter(|c| !c.1).map(|c| c.0).collect();
    assert!(
        wrong.is_empty(),
        "report fields wrong: {wrong:?} (serial {}, fingerprint {})\n{}",
        cert_serial_hex(&cert_pem),
        cert_fingerprint_hex(&cert_pem),
        v.describe()
    );
}

/// The first certificate of a PEM file, as openssl reports it.
fn openssl_x509(pem: &Path, args: &[&str]) -> String {
    let result = common::run(
        Command::new(common::require_tool("openssl"))
            .args(["x509", "-noout", "-in"])
            .arg(pem)
            .args(args),
    );
    assert!(result.ok(), "openssl x509 failed:\n{}", result.describe());
    result
        .stdout
        .trim()
        .split_once('=')
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

/// The serial number, uppercase hex as openssl prints it.
fn cert_serial_hex(pem: &Path) -> String {
    openssl_x509(pem, &["-serial"])
}

/// SHA-256 of the certificate's DER, uppercase hex without colons.
fn cert_fingerprint_hex(pem: &Path) -> String {
    openssl_x509(pem, &["-fingerprint", "-sha256"]).replace(':', "")
}

#[test]
fn flipped_byte_in_signed_range_is_hash_failure() {
    let signed = sign(&rl("rl-basic.pdf"), None, &["--reason", "Reason A"]);
    let data = signed.bytes();
    let ([_, a, b, _], _) = last_byte_range(&data);
    // First range: a comment in the file header (parsing is unaffected).
    let at = find(&data, b"ReportLab Generated").expect("reportlab header comment");
    assert!(at < a);
    let first = signed.write("flip-first-range.pdf", &with_byte(&data, at, b'r'));
    // Second range: the /Reason string of the signature dictionary itself.
    let at = rfind(&data, b"(Reason A)").expect("reason") + 8;
    assert!(at > b);
    let second = signed.write("flip-second-range.pdf", &with_byte(&data, at, b'B'));
    for (label, path) in [("flip in range 1", first), ("flip in range 2", second)] {
        verify(label, &path, &[signed.root()])
            .expect_exit(1)
            .expect_top(&["TOTAL-FAILED"])
            .expect_sig(0, &["TOTAL-FAILED"], &[Some("HASH_FAILURE")]);
    }
}

#[test]
fn flipped_byte_in_cms_signature_value_fails() {
    let signed = sign(&rl("rl-basic.pdf"), None, &[]);
    let data = signed.bytes();
    let hex = contents_hex(&data);
    let der_hex_len = 2 * der_length(&data[hex.clone()]);
    // The signature value is the last field of the SignerInfo, at the end of the DER.
    let at = hex.start + der_hex_len - 10;
    let damaged = signed.write(
        "flip-cms.pdf",
        &with_byte(&data, at, other_hex_digit(data[at])),
    );
    verify("flip in CMS signature value", &damaged, &[signed.root()])
        .expect_exit(1)
        .expect_top(&["TOTAL-FAILED"])
        .expect_sig(
            0,
            &["TOTAL-FAILED"],
            &[Some("SIG_CRYPTO_FAILURE"), Some("FORMAT_FAILURE")],
        );
    // One byte in the middle of the embedded certificates (the signer certificate's bytes).
    let at = hex.start + der_hex_len / 2;
    let damaged = signed.write(
        "flip-cms-middle.pdf",
        &with_byte(&data, at, other_hex_digit(data[at])),
    );
    let v = verify("flip in CMS middle", &damaged, &[signed.root()]);
    v.expect_exit(1);
    assert_ne!(
        v.json.get("indication").str(),
        "TOTAL-PASSED",
        "{}",
        v.describe()
    );
}

#[test]
fn changed_byte_range_fails() {
    let signed = sign(&rl("rl-basic.pdf"), None, &[]);
    let data = signed.bytes();
    let ([o, a, b, c], text) = last_byte_range(&data);
    // Same width as before, so no offset moves: the last range one byte shorter, or the gap moved.
    let variants = [
        ("ByteRange shortened", [o, a, b, c - 1]),
        ("ByteRange gap moved", [o, a - 1, b - 1, c]),
        ("ByteRange covering part of /Contents", [o, a + 2, b, c]),
    ];
    for (label, numbers) in variants {
        let mut array = format!(
            "{} {} {} {}",
            numbers[0], numbers[1], numbers[2], numbers[3]
        );
        assert!(array.len() <= text.len(), "new ByteRange too wide");
        while array.len() < text.len() {
            array.push(' ');
        }
        let mut damaged = data.clone();
        damaged.splice(text.clone(), array.into_bytes());
        let path = signed.write("byterange.pdf", &damaged);
        let v = verify(label, &path, &[signed.root()]);
        v.expect_exit(1).expect_top(&["TOTAL-FAILED"]).expect_sig(
            0,
            &["TOTAL-FAILED"],
            &[Some("FORMAT_FAILURE"), Some("HASH_FAILURE")],
        );
    }
}

#[test]
fn appended_page_content_edit_is_not_permitted() {
    let signed = sign(&rl("rl-basic.pdf"), None, &[]);
    let edited = signed.tmp.path().join("edited.pdf");
    edit(
        "edit-content",
        &[signed.path.as_os_str(), edited.as_os_str()],
    );
    let v = verify(
        "page content edited after signing",
        &edited,
        &[signed.root()],
    );
    v.expect_exit(1)
        .expect_top(&["TOTAL-FAILED"])
        .expect_sig(0, &["TOTAL-FAILED"], &[Some("SIG_CONSTRAINTS_FAILURE")])
        .expect_covers_whole_file(0, false)
        .expect_forbidden_change(0, &["content", "page"]);
    assert_ne!(
        v.json.get("indication").str(),
        "TOTAL-PASSED",
        "{}",
        v.describe()
    );
}

#[test]
fn second_signature_keeps_first_valid() {
    let first = sign(&rl("rl-basic.pdf"), None, &["--field", "SealA"]);
    let twice = sign_again(&first, "twice.pdf", &["--field", "SealB"]);
    let v = verify("signed twice", &twice, &[first.root()]);
    v.expect_exit(0)
        .expect_top(&["TOTAL-PASSED"])
        .expect_count(2)
        .expect_passed(0)
        .expect_passed(1)
        .expect_covers_whole_file(0, false)
        .expect_covers_whole_file(1, true);
    let fields: Vec<&str> = v
        .signatures()
        .iter()
        .map(|s| s.get("field").str())
        .collect();
    assert_eq!(fields, ["SealA", "SealB"], "{}", v.describe());
    let revisions: Vec<Option<f64>> = v
        .signatures()
        .iter()
        .map(|s| s.get("revision").as_f64())
        .collect();
    assert!(
        matches!(revisions[..], [Some(r1), Some(r2)] if r1 < r2),
        "revisions {revisions:?} must increase\n{}",
        v.describe()
    );
}

#[test]
fn certified_p2_then_form_filled_passes() {
    // oneseal's certification (P=2), then pypdf fills a text field in a new revision.
    let signed = sign(&rl("rl-acroform.pdf"), None, &["--certify"]);
    let filled = signed.tmp.path().join("filled.pdf");
    edit(
        "fill-field",
        &[
            signed.path.as_os_str(),
            filled.as_os_str(),
            "applicant".as_ref(),
            "Filled after certification".as_ref(),
        ],
    );
    let v = verify("oneseal P=2 then form filled", &filled, &[signed.root()]);
    v.expect_exit(0)
        .expect_top(&["TOTAL-PASSED"])
        .expect_passed(0)
        .expect_covers_whole_file(0, false);
    assert_eq!(
        v.signature(0).get("certification_level").as_f64(),
        Some(2.0),
        "{}",
        v.describe()
    );
    // pyHanko's P=2 certification, filled the same way.
    let root = vfix("root.pem");
    let v = verify(
        "pyHanko P=2 then form filled",
        &vfix("pyh-certified-p2-filled.pdf"),
        &[&root],
    );
    v.expect_exit(0)
        .expect_top(&["TOTAL-PASSED"])
        .expect_passed(0)
        .expect_covers_whole_file(0, false);
    assert_eq!(
        v.signature(0).get("certification_level").as_f64(),
        Some(2.0),
        "{}",
        v.describe()
    );
}

#[test]
fn certified_then_page_content_edit_fails() {
    let signed = sign(&rl("rl-acroform.pdf"), None, &["--certify"]);
    let edited = signed.tmp.path().join("edited.pdf");
    edit(
        "edit-content",
        &[signed.path.as_os_str(), edited.as_os_str()],
    );
    let v = verify("oneseal P=2 then page edited", &edited, &[signed.root()]);
    v.expect_exit(1)
        .expect_sig(0, &["TOTAL-FAILED"], &[Some("SIG_CONSTRAINTS_FAILURE")])
        .expect_forbidden_change(0, &["content", "page"]);
}

#[test]
fn certified_p1_passes_alone_and_fails_once_form_filled() {
    let root = vfix("root.pem");
    let v = verify("pyHanko P=1", &vfix("pyh-certified-p1.pdf"), &[&root]);
    v.expect_exit(0)
        .expect_top(&["TOTAL-PASSED"])
        .expect_passed(0)
        .expect_covers_whole_file(0, true);
    assert_eq!(
        v.signature(0).get("certification_level").as_f64(),
        Some(1.0),
        "{}",
        v.describe()
    );
    let v = verify(
        "pyHanko P=1 then form filled",
        &vfix("pyh-certified-p1-filled.pdf"),
        &[&root],
    );
    v.expect_exit(1)
        .expect_sig(0, &["TOTAL-FAILED"], &[Some("SIG_CONSTRAINTS_FAILURE")])
        .expect_covers_whole_file(0, false);
    assert_ne!(
        v.json.get("indication").str(),
        "TOTAL-PASSED",
        "{}",
        v.describe()
    );
    let refused = v
        .signature(0)
        .get("modifications")
        .array()
        .iter()
        .any(|m| m.get("permitted").as_bool() == Some(false));
    assert!(
        refused,
        "P=1 allows no change: the form filling must be listed as not permitted\n{}",
        v.describe()
    );
}

#[test]
fn wrong_trust_anchor_is_no_certificate_chain_found() {
    let signed = sign(&rl("rl-basic.pdf"), None, &[]);
    let example_root = common::repo_root().join("keys-example/root-ca.pem");
    verify("oneseal, wrong root", &signed.path, &[&example_root])
        .expect_exit(1)
        .expect_top(&["INDETERMINATE"])
        .expect_sig(0, &["INDETERMINATE"], &[Some("NO_CERTIFICATE_CHAIN_FOUND")]);
    // The right root among several --trust passes.
    verify(
        "oneseal, wrong and right roots",
        &signed.path,
        &[&example_root, signed.root()],
    )
    .expect_exit(0)
    .expect_top(&["TOTAL-PASSED"]);
}

#[test]
fn expired_signer_certificate() {
    let root = vfix("root.pem");
    verify(
        "expired signer certificate",
        &vfix("pyh-expired.pdf"),
        &[&root],
    )
    .expect_exit(1)
    .expect_top(&["INDETERMINATE", "TOTAL-FAILED"])
    .expect_sig(
        0,
        &["INDETERMINATE", "TOTAL-FAILED"],
        &[Some("OUT_OF_BOUNDS_NO_POE"), Some("EXPIRED")],
    );
}

#[test]
fn signer_certificate_without_signing_key_usage() {
    let root = vfix("root.pem");
    verify(
        "keyUsage keyEncipherment only",
        &vfix("pyh-nokeyusage.pdf"),
        &[&root],
    )
    .expect_exit(1)
    .expect_top(&["INDETERMINATE", "TOTAL-FAILED"])
    .expect_sig(
        0,
        &["INDETERMINATE", "TOTAL-FAILED"],
        &[
            Some("SIG_CONSTRAINTS_FAILURE"),
            Some("CHAIN_CONSTRAINTS_FAILURE"),
        ],
    );
}

#[test]
fn cms_of_another_document_is_hash_failure() {
    // Two signings with the same keys of documents that differ by one letter of /Reason: the same
    // layout and /Contents size; the second's CMS holds the digest of other bytes.
    let a = sign(&rl("rl-basic.pdf"), None, &["--reason", "Reason A"]);
    let b_path = a.tmp.path().join("b.pdf");
    let result = common::sign(
        &rl("rl-basic.pdf"),
        &b_path,
        &a.keys.dir,
        &["--reason", "Reason B"],
    );
    assert!(result.ok(), "{}", result.describe());
    let a_data = a.bytes();
    let b_data = std::fs::read(&b_path).unwrap();
    let (a_hex, b_hex) = (contents_hex(&a_data), contents_hex(&b_data));
    assert_eq!(a_hex.len(), b_hex.len(), "/Contents sizes differ");
    let mut spliced = a_data.clone();
    spliced.splice(a_hex, b_data[b_hex].iter().copied());
    let path = a.write("spliced.pdf", &spliced);
    verify("CMS from another signing", &path, &[a.root()])
        .expect_exit(1)
        .expect_top(&["TOTAL-FAILED"])
        .expect_sig(0, &["TOTAL-FAILED"], &[Some("HASH_FAILURE")]);
}

#[test]
fn substituted_signer_certificate_fails() {
    // pyh-rsa.pdf with the signer certificate swapped for one of the same issuer and serial but
    // another key: the signature does not verify under it, and signingCertificateV2 does not match.
    let root = vfix("root.pem");
    verify(
        "substituted signer certificate",
        &vfix("pyh-substituted-cert.pdf"),
        &[&root],
    )
    .expect_exit(1)
    .expect_top(&["TOTAL-FAILED", "INDETERMINATE"])
    .expect_sig(
        0,
        &["TOTAL-FAILED", "INDETERMINATE"],
        &[
            Some("SIG_CRYPTO_FAILURE"),
            Some("FORMAT_FAILURE"),
            Some("NO_SIGNING_CERTIFICATE_FOUND"),
        ],
    );
}

#[test]
fn unreadable_inputs_exit_2() {
    let root = vfix("root.pem");
    let signed = sign(&rl("rl-basic.pdf"), None, &[]);
    let data = signed.bytes();
    let truncated = signed.write("truncated.pdf", &data[..data.len() * 2 / 3]);
    let cases = [
        ("oneseal file truncated", truncated),
        ("pyHanko file truncated", vfix("pyh-rsa-truncated.pdf")),
        ("not a PDF", rl("refuse-not-pdf.txt")),
        ("empty file", rl("refuse-empty.pdf")),
        ("signed file encrypted", vfix("pyh-rsa-encrypted.pdf")),
        ("encrypted AES-256", rl("refuse-encrypted-aes256.pdf")),
        ("encrypted RC4", rl("refuse-encrypted-rc4.pdf")),
    ];
    for (label, path) in cases {
        expect_unreadable(label, &path, &[&root], &[]);
    }
    expect_unreadable(
        "over ONESEAL_MAX_PDF_BYTES",
        &vfix("pyh-rsa.pdf"),
        &[&root],
        &[("ONESEAL_MAX_PDF_BYTES", "1000")],
    );
}

#[test]
fn unsigned_document_exits_1() {
    let root = vfix("root.pem");
    let v = verify("no signature", &rl("rl-basic.pdf"), &[&root]);
    v.expect_exit(1)
        .expect_count(0)
        .expect_top(&["TOTAL-FAILED"]);
    assert_ne!(
        v.json.get("indication").str(),
        "TOTAL-PASSED",
        "{}",
        v.describe()
    );
    // An empty signature field is not a signature either.
    let v = verify(
        "only an empty signature field",
        &rl("pyhanko-emptyfield.pdf"),
        &[&root],
    );
    v.expect_exit(1);
    assert_ne!(
        v.json.get("indication").str(),
        "TOTAL-PASSED",
        "{}",
        v.describe()
    );
}

// --- Other producers ----------------------------------------------------------------------------

/// (fixture, field, sub_filter) of the files other tools signed.
const FOREIGN: &[(&str, &str, &str)] = &[
    ("pyh-rsa.pdf", "PyhRSA", "ETSI.CAdES.detached"),
    ("pyh-ec.pdf", "PyhECDSA", "ETSI.CAdES.detached"),
    ("pyh-pss.pdf", "PyhPSS", "ETSI.CAdES.detached"),
    ("pyh-pss-salt32.pdf", "PyhPSS32", "ETSI.CAdES.detached"),
    ("pyh-pkcs7.pdf", "PyhPKCS7", "adbe.pkcs7.detached"),
    ("poppler-pkcs7.pdf", "PopplerSig", "adbe.pkcs7.detached"),
    ("pyh-bt.pdf", "PyhBT", "ETSI.CAdES.detached"),
];

#[test]
fn other_producers_pass_with_their_root() {
    let root = vfix("root.pem");
    let mut failures = Vec::new();
    for (file, field, sub_filter) in FOREIGN {
        let v = verify(file, &vfix(file), &[&root]);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            v.expect_exit(0)
                .expect_top(&["TOTAL-PASSED"])
                .expect_count(1)
                .expect_passed(0)
                .expect_covers_whole_file(0, true);
            let s = v.signature(0);
            assert_eq!(s.get("field").str(), *field, "{}", v.describe());
            assert_eq!(
                s.get("sub_filter").str().trim_start_matches('/'),
                *sub_filter,
                "{}",
                v.describe()
            );
        }));
        if let Err(panic) = result {
            failures.push(panic_text(&panic));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn other_producers_fail_with_a_wrong_root() {
    let other = vfix("other-root.pem");
    let mut failures = Vec::new();
    for (file, _, _) in FOREIGN {
        let v = verify(&format!("{file}, wrong root"), &vfix(file), &[&other]);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            v.expect_exit(1).expect_top(&["INDETERMINATE"]).expect_sig(
                0,
                &["INDETERMINATE"],
                &[Some("NO_CERTIFICATE_CHAIN_FOUND")],
            );
        }));
        if let Err(panic) = result {
            failures.push(panic_text(&panic));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "panic".to_owned())
}

#[test]
fn pyhanko_report_fields() {
    let root = vfix("root.pem");
    let cert = vfix("signer-rsa.pem");
    let v = verify("pyHanko RSA fields", &vfix("pyh-rsa.pdf"), &[&root]);
    v.expect_exit(0);
    let s = v.signature(0);
    assert!(
        s.get("signer").str().contains("Verify fixture signer RSA"),
        "signer\n{}",
        v.describe()
    );
    // Uppercase hex, no separators (docs/verify-report.md); openssl's serial file said 1001 (hex).
    assert_eq!(
        s.get("serial").str(),
        cert_serial_hex(&cert),
        "serial\n{}",
        v.describe()
    );
    assert_eq!(
        s.get("sha256_fingerprint").str(),
        cert_fingerprint_hex(&cert),
        "sha256_fingerprint\n{}",
        v.describe()
    );
    assert_eq!(
        s.get("reason").str(),
        "Verifier fixture signed by pyHanko (pades)",
        "{}",
        v.describe()
    );
    assert_eq!(s.get("location").str(), "Fixture City", "{}", v.describe());
    assert!(!s.get("signing_time").str().is_empty(), "{}", v.describe());
}

// --- Text output --------------------------------------------------------------------------------

#[test]
fn text_report_names_each_signature_and_its_verdict() {
    let first = sign(&rl("rl-basic.pdf"), None, &["--field", "SealA"]);
    let twice = sign_again(&first, "twice.pdf", &["--field", "SealB"]);
    let run = verify_run(&twice, &[first.root()], &[], &[]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    for field in ["SealA", "SealB"] {
        assert!(
            run.stdout.contains(field),
            "text output does not name {field}\n{}",
            run.describe()
        );
    }
    assert!(
        run.stdout.to_uppercase().contains("PASSED"),
        "text output gives no verdict\n{}",
        run.describe()
    );

    // A failing file says so in text too.
    let data = std::fs::read(&twice).unwrap();
    let at = find(&data, b"ReportLab Generated").unwrap();
    let damaged = first.write("damaged.pdf", &with_byte(&data, at, b'r'));
    let run = verify_run(&damaged, &[first.root()], &[], &[]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(
        run.stdout.to_uppercase().contains("FAILED"),
        "text output of a failing file gives no FAILED verdict\n{}",
        run.describe()
    );
}

#[test]
fn chinese_labels_with_lang_zh() {
    let signed = sign(&rl("rl-basic.pdf"), None, &["--field", "SealA"]);
    let run = verify_run(&signed.path, &[signed.root()], &["--lang", "zh"], &[]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(
        run.stdout.contains("签名") || run.stdout.contains("通过"),
        "--lang zh printed no Chinese labels\n{}",
        run.describe()
    );
    assert!(run.stdout.contains("SealA"), "{}", run.describe());
}

#[test]
fn document_timestamp_passes_and_catches_tampering() {
    let root = vfix("root.pem");
    let path = vfix("pyh-doc-timestamp.pdf");
    let v = verify("pyh-doc-timestamp", &path, &[&root]);
    v.expect_exit(0)
        .expect_top(&["TOTAL-PASSED"])
        .expect_count(2)
        .expect_passed(0)
        .expect_passed(1);
    let stamp = v.signature(1);
    assert_eq!(stamp.get("kind").str(), "DocTimeStamp", "{}", v.describe());
    assert_eq!(
        stamp.get("sub_filter").str(),
        "ETSI.RFC3161",
        "{}",
        v.describe()
    );
    assert!(
        v.signature(0)
            .get("modifications")
            .array()
            .iter()
            .all(|m| m.get("permitted").as_bool() == Some(true)),
        "{}",
        v.describe()
    );

    // One byte of the original document changed: both the signature and the timestamp see it.
    let data = std::fs::read(&path).expect("fixture");
    let at = find(&data, b"/MediaBox").expect("a page") + 1;
    let dir = TempDir::new().expect("temp dir");
    let tampered = dir.path().join("tampered.pdf");
    std::fs::write(&tampered, with_byte(&data, at, b'm')).expect("write");
    verify("pyh-doc-timestamp tampered", &tampered, &[&root])
        .expect_exit(1)
        .expect_top(&["TOTAL-FAILED"])
        .expect_sig(1, &["TOTAL-FAILED"], &[Some("HASH_FAILURE")]);
}

/// `--at`: the same signature as of a later moment. Ten years on, the seal certificate (three
/// years) has expired and nothing proves the signature existed while it was valid.
#[test]
fn at_verifies_as_of_another_moment() {
    let signed = sign(&rl("rl-basic.pdf"), None, &[]);
    let now = verify("now", &signed.path, &[signed.root()]);
    now.expect_exit(0).expect_top(&["TOTAL-PASSED"]);

    let later = "2036-11-26T00:00:00+08:00";
    let run = verify_run(
        &signed.path,
        &[signed.root()],
        &["--json", "--at", later],
        &[],
    );
    let report = Json::parse(&run.stdout).unwrap_or_else(|_| panic!("{}", run.describe()));
    let v = Verdict {
        label: "ten years later".into(),
        run,
        json: report,
    };
    v.expect_exit(1).expect_top(&["INDETERMINATE"]).expect_sig(
        0,
        &["INDETERMINATE"],
        &[Some("OUT_OF_BOUNDS_NO_POE")],
    );
    assert_eq!(v.json.get("validation_time").str(), later);

    let bad = verify_run(&signed.path, &[signed.root()], &["--at", "next year"], &[]);
    assert_eq!(bad.code, Some(2), "{}", bad.describe());
    assert!(
        bad.stderr.contains("not an RFC 3339 time"),
        "{}",
        bad.describe()
    );
}
