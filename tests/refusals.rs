//! What `oneseal sign` must refuse: exit status 2, one line on stderr starting with "oneseal:" that
//! names the problem, and no output file (an existing one left untouched).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;

use common::Run;
use tempfile::TempDir;

/// What an existing --out file holds before a refused run; it must still hold it afterwards.
const SENTINEL: &[u8] = b"pre-existing output file: must not be clobbered by a refused run\n";

/// Checks the refusal contract; `words` are alternatives, one of which the message must contain.
fn assert_refused(label: &str, result: &Run, words: &[&str]) {
    let described = result.describe();
    assert_eq!(
        result.code,
        Some(2),
        "[{label}] expected exit status 2:\n{described}"
    );
    let stderr = result.stderr.trim_end();
    assert_eq!(
        stderr.lines().count(),
        1,
        "[{label}] stderr should be exactly one line:\n{described}"
    );
    assert!(
        stderr.starts_with("oneseal:"),
        "[{label}] stderr should start with \"oneseal:\":\n{described}"
    );
    assert!(
        !stderr.contains("panicked"),
        "[{label}] oneseal panicked:\n{described}"
    );
    let lower = stderr.to_lowercase();
    assert!(
        words.iter().any(|w| lower.contains(&w.to_lowercase())),
        "[{label}] message should mention one of {words:?}:\n{described}"
    );
    assert!(
        result.stdout.is_empty(),
        "[{label}] a refusal should print nothing on stdout:\n{described}"
    );
}

/// Signs `input` twice: to a fresh path (must not appear) and over an existing file (must survive).
fn refuse_both_ways(label: &str, input: &Path, keys: &Path, extra: &[&str], words: &[&str]) {
    let tmp = TempDir::new().expect("temp dir");
    let fresh = tmp.path().join("out.pdf");
    let result = common::sign(input, &fresh, keys, extra);
    assert_refused(label, &result, words);
    assert!(
        !fresh.exists(),
        "[{label}] refused but left {}:\n{}",
        fresh.display(),
        result.describe()
    );
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("list temp dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        leftovers.is_empty(),
        "[{label}] refused but left files in the output directory: {leftovers:?}"
    );

    let existing = tmp.path().join("existing.pdf");
    std::fs::write(&existing, SENTINEL).expect("write sentinel");
    let result = common::sign(input, &existing, keys, extra);
    assert_refused(&format!("{label}, existing --out"), &result, words);
    let after = std::fs::read(&existing).expect("read existing output");
    assert_eq!(
        after,
        SENTINEL,
        "[{label}] a refused run clobbered the existing --out file:\n{}",
        result.describe()
    );
}

const DAMAGED: &[&str] = &[
    "xref",
    "cross-reference",
    "damaged",
    "corrupt",
    "truncated",
    "startxref",
    "trailer",
    "malformed",
    "invalid",
];
const NOT_PDF: &[&str] = &["not a pdf", "pdf header", "%pdf", "header"];
const ENCRYPTED: &[&str] = &["encrypt"];

macro_rules! refusal_tests {
    ($($test:ident: $file:literal, $words:expr;)*) => {$(
        #[test]
        fn $test() {
            let keys = common::keygen(&[]);
            refuse_both_ways($file, &common::fixture($file), &keys.dir, &[], $words);
        }
    )*};
}

refusal_tests! {
    text_file_is_refused: "refuse-not-pdf.txt", NOT_PDF;
    empty_file_is_refused: "refuse-empty.pdf", &["empty", "header", "not a pdf", "%pdf"];
    junk_before_header_is_refused: "refuse-junk-prefix.pdf", &["header", "%pdf", "before", "junk", "offset 0"];
    truncated_file_is_refused: "refuse-truncated.pdf", DAMAGED;
    truncated_object_stream_file_is_refused: "refuse-truncated-objstm.pdf", DAMAGED;
    bad_startxref_is_refused: "refuse-bad-startxref.pdf", DAMAGED;
    encrypted_aes256_is_refused: "refuse-encrypted-aes256.pdf", ENCRYPTED;
    encrypted_empty_user_password_is_refused: "refuse-encrypted-empty-user.pdf", ENCRYPTED;
    encrypted_rc4_is_refused: "refuse-encrypted-rc4.pdf", ENCRYPTED;
}

const TOO_LARGE: &[&str] = &["size", "large", "limit", "bytes"];

#[test]
fn file_over_max_size_option_is_refused() {
    let keys = common::keygen(&[]);
    let input = common::fixture("rl-multipage.pdf");
    refuse_both_ways(
        "rl-multipage.pdf --max-size 1000",
        &input,
        &keys.dir,
        &["--max-size", "1000"],
        TOO_LARGE,
    );
}

#[test]
fn file_over_max_size_env_is_refused() {
    let keys = common::keygen(&[]);
    let input = common::fixture("rl-multipage.pdf");
    let tmp = TempDir::new().expect("temp dir");
    let out = tmp.path().join("out.pdf");
    let result = common::sign_env(
        &input,
        &out,
        &keys.dir,
        &[],
        &[("ONESEAL_MAX_PDF_BYTES", "1000")],
    );
    assert_refused(
        "rl-multipage.pdf ONESEAL_MAX_PDF_BYTES=1000",
        &result,
        TOO_LARGE,
    );
    assert!(!out.exists(), "refused but left {}", out.display());
}

#[test]
fn encrypted_keys_without_or_with_a_wrong_passphrase_are_refused() {
    let passphrase = [("ONESEAL_KEY_PASSPHRASE", "审批 passphrase 2026")];
    let keys = common::keygen_env(&[], &passphrase);
    let input = common::fixture("rl-basic.pdf");
    for (label, env) in [
        ("no passphrase", &[][..]),
        (
            "wrong passphrase",
            &[("ONESEAL_KEY_PASSPHRASE", "wrong")][..],
        ),
    ] {
        let tmp = TempDir::new().expect("temp dir");
        let out = tmp.path().join("out.pdf");
        let result = common::sign_env(&input, &out, &keys.dir, &[], env);
        assert_refused(
            &format!("encrypted keys, {label}"),
            &result,
            &["passphrase", "decrypt", "encrypted"],
        );
        assert!(
            !out.exists(),
            "[encrypted keys, {label}] refused but left {}",
            out.display()
        );
    }
}

#[test]
fn file_exactly_at_max_size_is_accepted() {
    let keys = common::keygen(&[]);
    let input = common::fixture("rl-multipage.pdf");
    let size = std::fs::metadata(&input)
        .expect("fixture size")
        .len()
        .to_string();
    let tmp = TempDir::new().expect("temp dir");
    let out = tmp.path().join("out.pdf");
    let result = common::sign(&input, &out, &keys.dir, &["--max-size", &size]);
    assert!(
        result.ok() && out.is_file(),
        "[rl-multipage.pdf --max-size <its own size>] should be accepted:\n{}",
        result.describe()
    );
}

#[test]
fn certify_on_pyhanko_signed_file_is_refused() {
    let keys = common::keygen(&[]);
    for name in ["pyhanko-signed.pdf", "pyhanko-certified.pdf"] {
        refuse_both_ways(
            &format!("{name} --certify"),
            &common::fixture(name),
            &keys.dir,
            &["--certify"],
            &["sign", "certif"],
        );
    }
}

#[test]
fn certify_on_oneseal_signed_file_is_refused() {
    let keys = common::keygen(&[]);
    let tmp = TempDir::new().expect("temp dir");
    let signed = tmp.path().join("signed.pdf");
    let result = common::sign(&common::fixture("rl-basic.pdf"), &signed, &keys.dir, &[]);
    assert!(
        result.ok(),
        "[rl-basic.pdf] first signature failed:\n{}",
        result.describe()
    );
    refuse_both_ways(
        "rl-basic.pdf signed, then --certify",
        &signed,
        &keys.dir,
        &["--certify"],
        &["sign", "certif"],
    );
}

#[test]
fn missing_keys_directory_is_refused() {
    let tmp = TempDir::new().expect("temp dir");
    let missing = tmp.path().join("no-such-keys");
    refuse_both_ways(
        "--keys <missing dir>",
        &common::fixture("rl-basic.pdf"),
        &missing,
        &[],
        &["key", "no-such-keys"],
    );
}

#[test]
fn keys_directory_without_seal_key_is_refused() {
    let keys = common::keygen(&[]);
    std::fs::remove_file(keys.dir.join("seal-key.pem")).expect("remove seal key");
    refuse_both_ways(
        "--keys <dir without seal-key.pem>",
        &common::fixture("rl-basic.pdf"),
        &keys.dir,
        &[],
        &["seal-key", "key"],
    );
}

#[test]
fn missing_input_file_is_refused() {
    let keys = common::keygen(&[]);
    let tmp = TempDir::new().expect("temp dir");
    let missing = tmp.path().join("no-such-input.pdf");
    refuse_both_ways(
        "<missing input>",
        &missing,
        &keys.dir,
        &[],
        &["no-such-input", "not found", "no such file"],
    );
}

/// No signature without a record: when the audit trail cannot be written, nothing is signed.
#[test]
fn nothing_is_signed_when_the_audit_trail_cannot_be_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let blocked = dir.path().join("not-a-directory");
    std::fs::write(&blocked, b"a file where the data directory should be").expect("write");
    let input = common::repo_root().join("docs/examples/approval-notice.pdf");
    let output = dir.path().join("signed.pdf");
    let keys = common::repo_root().join("keys-example");
    let sign_with_trail = |trail: &Path| {
        common::oneseal_env(
            [
                "sign".as_ref(),
                input.as_os_str(),
                "--out".as_ref(),
                output.as_os_str(),
                "--keys".as_ref(),
                keys.as_os_str(),
            ],
            &[("ONESEAL_DATA_DIR", trail.to_str().expect("UTF-8 path"))],
        )
    };
    let result = sign_with_trail(&blocked);
    assert_eq!(result.code, Some(2), "{}", result.describe());
    assert!(
        result.stderr.contains("audit") || result.stderr.contains("data directory"),
        "{}",
        result.describe()
    );
    assert!(
        !output.exists(),
        "a signed file was written without a record"
    );

    // With a writable trail the same command signs and leaves two entries that verify.
    let trail = dir.path().join("trail");
    let signed = sign_with_trail(&trail);
    assert!(signed.ok(), "{}", signed.describe());
    let audit = common::oneseal_env(
        ["audit", "verify"],
        &[("ONESEAL_DATA_DIR", trail.to_str().expect("UTF-8 path"))],
    );
    assert!(
        audit.ok() && audit.stdout.contains("2 entries"),
        "{}",
        audit.describe()
    );
}
