//! `oneseal keygen` end to end: the built binary writes the files, and outside tools (openssl)
//! and our own `KeyFileSigner` judge them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use oneseal::seal::{KeyFileSigner, SealError, Signer, load_key_directory};
use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};

const FILES: [&str; 4] = [
    "root-ca.pem",
    "root-ca-key.pem",
    "seal-cert.pem",
    "seal-key.pem",
];
const CREDIT_CODE: &str = "91350100M000100Y43";
const PASSPHRASE: &str = "长城 long wall 2026";

fn keygen(out: &Path, extra: &[&str], passphrase: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_oneseal"));
    command.arg("keygen").arg("--out").arg(out).args(extra);
    command.env_remove("ONESEAL_KEY_PASSPHRASE");
    if let Some(passphrase) = passphrase {
        command.env("ONESEAL_KEY_PASSPHRASE", passphrase);
    }
    command.output().unwrap()
}

/// A fresh key directory (inside a temporary directory kept alive by the caller).
fn generated(extra: &[&str], passphrase: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("keys");
    let output = keygen(&out, extra, passphrase);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (temp, out)
}

fn openssl(args: &[&str]) -> Output {
    Command::new("/usr/bin/openssl")
        .args(args)
        .output()
        .unwrap()
}

fn openssl_text(args: &[&str]) -> String {
    let output = openssl(args);
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn writes_the_four_files_with_private_keys_mode_0600() {
    let (_temp, out) = generated(&[], None);
    for name in FILES {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    for name in ["root-ca-key.pem", "seal-key.pem"] {
        let mode = fs::metadata(out.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
        let pem = fs::read_to_string(out.join(name)).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{name}");
        openssl_text(&["pkey", "-in", path_str(&out.join(name)), "-noout"]);
    }
    let chain = fs::read_to_string(out.join("seal-cert.pem")).unwrap();
    assert_eq!(chain.matches("-----BEGIN CERTIFICATE-----").count(), 2);
    let root = fs::read_to_string(out.join("root-ca.pem")).unwrap();
    assert!(chain.ends_with(&root), "the chain ends with the root");
}

#[test]
fn seal_certificate_has_the_seal_profile() {
    let (_temp, out) = generated(&["--credit-code", CREDIT_CODE], None);
    let seal = path_str(&out.join("seal-cert.pem")).to_owned();
    let text = openssl_text(&["x509", "-in", &seal, "-noout", "-text", "-nameopt", "utf8"]);
    for expected in [
        "X509v3 Key Usage: critical\n                Digital Signature, Non Repudiation\n",
        "X509v3 Extended Key Usage: \n                E-mail Protection, 1.3.6.1.5.5.7.3.36\n",
        "X509v3 Basic Constraints: critical\n                CA:FALSE",
        "X509v3 Subject Key Identifier",
        "X509v3 Authority Key Identifier",
        "ecdsa-with-SHA256",
        "ASN1 OID: prime256v1",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    for absent in [
        "Authority Information Access",
        "CRL Distribution Points",
        "OCSP",
    ] {
        assert!(!text.contains(absent), "unexpected {absent} in\n{text}");
    }
    let subject = openssl_text(&[
        "x509", "-in", &seal, "-noout", "-subject", "-nameopt", "utf8",
    ]);
    assert!(
        subject.contains(&format!("organizationIdentifier={CREDIT_CODE}")),
        "{subject}"
    );
    assert!(
        subject.contains("CN=新乡经济技术开发区行政审批局行政审批专用章"),
        "{subject}"
    );
    assert!(
        subject.contains("O=新乡经济技术开发区行政审批局,"),
        "{subject}"
    );
    assert!(subject.contains("C=CN"), "{subject}");

    let serial = openssl_text(&["x509", "-in", &seal, "-noout", "-serial"]);
    let hex = serial.trim().trim_start_matches("serial=");
    assert!(
        hex.len() <= 32 && hex.len() >= 28,
        "128-bit serial expected: {hex}"
    );
}

#[test]
fn root_is_a_self_signed_ca() {
    let (_temp, out) = generated(&["--org", "测试机关"], None);
    let root = path_str(&out.join("root-ca.pem")).to_owned();
    let text = openssl_text(&["x509", "-in", &root, "-noout", "-text", "-nameopt", "utf8"]);
    for expected in [
        "X509v3 Basic Constraints: critical\n                CA:TRUE",
        "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign",
        "X509v3 Subject Key Identifier",
        "Subject: C=CN, O=测试机关, CN=测试机关 电子印章根证书",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    openssl_text(&["verify", "-CAfile", &root, &root]);
}

#[test]
fn openssl_verifies_the_seal_certificate_against_the_root() {
    let (_temp, out) = generated(&["--days", "30"], None);
    let verified = openssl_text(&[
        "verify",
        "-CAfile",
        path_str(&out.join("root-ca.pem")),
        path_str(&out.join("seal-cert.pem")),
    ]);
    assert!(verified.contains(": OK"), "{verified}");
    // The root outlives the seal certificate: ten years against thirty days.
    let root_end = openssl_text(&[
        "x509",
        "-in",
        path_str(&out.join("root-ca.pem")),
        "-noout",
        "-enddate",
    ]);
    assert!(!root_end.is_empty());
    let checked = openssl(&[
        "x509",
        "-in",
        path_str(&out.join("root-ca.pem")),
        "-noout",
        "-checkend",
        &(9 * 365 * 24 * 3600).to_string(),
    ]);
    assert!(checked.status.success(), "root should last about ten years");
}

#[test]
fn bad_credit_code_is_refused_before_anything_is_written() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("keys");
    let output = keygen(&out, &["--credit-code", "91350100M000100Y44"], None);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("credit code"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(!out.exists(), "nothing may be created");
}

#[test]
fn refuses_to_overwrite_existing_files() {
    let (_temp, out) = generated(&[], None);
    let before: Vec<Vec<u8>> = FILES
        .iter()
        .map(|name| fs::read(out.join(name)).unwrap())
        .collect();
    let output = keygen(&out, &[], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));
    let after: Vec<Vec<u8>> = FILES
        .iter()
        .map(|name| fs::read(out.join(name)).unwrap())
        .collect();
    assert_eq!(before, after);

    // One existing file is enough to stop it, and nothing else appears.
    let temp = tempfile::tempdir().unwrap();
    fs::write(temp.path().join("seal-key.pem"), b"mine").unwrap();
    let output = keygen(temp.path(), &[], None);
    assert_eq!(output.status.code(), Some(2));
    let names: Vec<_> = fs::read_dir(temp.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, ["seal-key.pem"]);
    assert_eq!(fs::read(temp.path().join("seal-key.pem")).unwrap(), b"mine");
}

#[test]
fn plain_key_directory_loads_and_signs() {
    let (_temp, out) = generated(&[], None);
    let signer = load_key_directory(&out).unwrap();
    let chain = signer.certificate_chain();
    assert_eq!(chain.len(), 2);
    let pem = fs::read(out.join("seal-cert.pem")).unwrap();
    let first = x509_parser::pem::Pem::iter_from_buffer(&pem)
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(
        chain[0], first.contents,
        "seal certificate first, bytes as stored"
    );
    assert_signature_verifies(&signer);

    let debug = format!("{signer:?}");
    assert!(debug.contains("EcdsaP256Sha256"), "{debug}");
    assert!(
        debug.contains("新乡经济技术开发区行政审批局行政审批专用章"),
        "{debug}"
    );
    assert!(debug.len() < 400, "{debug}");
}

#[test]
fn encrypted_keys_are_read_by_openssl_and_by_key_file_signer() {
    let (_temp, out) = generated(&[], Some(PASSPHRASE));
    for name in ["root-ca-key.pem", "seal-key.pem"] {
        let path = out.join(name);
        let pem = fs::read_to_string(&path).unwrap();
        assert!(
            pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"),
            "{name}"
        );
        let output = Command::new("/usr/bin/openssl")
            .args([
                "pkey",
                "-in",
                path_str(&path),
                "-passin",
                "env:ONESEAL_KEY_PASSPHRASE",
                "-noout",
            ])
            .env("ONESEAL_KEY_PASSPHRASE", PASSPHRASE)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let key = fs::read(out.join("seal-key.pem")).unwrap();
    let chain = fs::read(out.join("seal-cert.pem")).unwrap();
    let signer = KeyFileSigner::from_pem(&key, &chain, Some(PASSPHRASE.as_bytes())).unwrap();
    assert_signature_verifies(&signer);

    let missing = KeyFileSigner::from_pem(&key, &chain, None).unwrap_err();
    assert!(
        matches!(missing, SealError::PassphraseRequired { .. }),
        "{missing}"
    );
    assert!(
        missing.to_string().contains("ONESEAL_KEY_PASSPHRASE"),
        "{missing}"
    );

    let wrong = KeyFileSigner::from_pem(&key, &chain, Some(b"not the passphrase")).unwrap_err();
    assert!(
        matches!(wrong, SealError::WrongPassphrase { .. }),
        "{wrong}"
    );
    assert!(wrong.to_string().contains("wrong passphrase"), "{wrong}");
}

#[test]
fn keys_encrypted_by_openssl_load_too() {
    let (temp, out) = generated(&[], None);
    let encrypted = temp.path().join("openssl-encrypted.pem");
    let output = Command::new("/usr/bin/openssl")
        .args([
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "env:PW",
            "-in",
        ])
        .arg(out.join("seal-key.pem"))
        .arg("-out")
        .arg(&encrypted)
        .env("PW", "interop")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let key = fs::read(&encrypted).unwrap();
    let chain = fs::read(out.join("seal-cert.pem")).unwrap();
    let signer = KeyFileSigner::from_pem(&key, &chain, Some(b"interop")).unwrap();
    assert_signature_verifies(&signer);
}

#[test]
fn a_key_that_does_not_match_the_certificate_is_refused() {
    let (_first, one) = generated(&[], None);
    let (_second, other) = generated(&[], None);
    let key = fs::read(one.join("seal-key.pem")).unwrap();
    let chain = fs::read(other.join("seal-cert.pem")).unwrap();
    let error = KeyFileSigner::from_pem(&key, &chain, None).unwrap_err();
    assert!(matches!(error, SealError::BadCertificate { .. }), "{error}");
    assert!(
        error.to_string().contains("not for this private key"),
        "{error}"
    );

    let not_a_key = KeyFileSigner::from_pem(&chain, &chain, None).unwrap_err();
    assert!(matches!(not_a_key, SealError::BadKey { .. }), "{not_a_key}");
}

/// The signature verifies under the seal certificate's public key, as a CMS verifier would check.
fn assert_signature_verifies(signer: &dyn Signer) {
    let message = b"\x31\x03signed attributes stand-in";
    let signature = signer.sign(message).unwrap();
    let (_, certificate) =
        x509_parser::parse_x509_certificate(&signer.certificate_chain()[0]).unwrap();
    let public_key = certificate.public_key().subject_public_key.data.to_vec();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, public_key)
        .verify(message, &signature)
        .unwrap();
    assert!(signature.len() <= signer.algorithm().max_signature_len());
}

#[test]
fn ca_issues_from_an_existing_root_and_crl_base_url_names_its_crl() {
    let (temp, root_dir) = generated(&[], Some(PASSPHRASE));
    let out = temp.path().join("next");
    let output = keygen(
        &out,
        &[
            "--ca",
            path_str(&root_dir),
            "--crl-base-url",
            "https://zwfw.example.gov.cn/",
        ],
        Some(PASSPHRASE),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Only the seal's files: the root stays where it is.
    let mut names: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["seal-cert.pem", "seal-key.pem"]);
    let verified = openssl_text(&[
        "verify",
        "-CAfile",
        path_str(&root_dir.join("root-ca.pem")),
        path_str(&out.join("seal-cert.pem")),
    ]);
    assert!(verified.contains(": OK"), "{verified}");
    let text = openssl_text(&[
        "x509",
        "-in",
        path_str(&out.join("seal-cert.pem")),
        "-noout",
        "-text",
    ]);
    let root_text = openssl_text(&[
        "x509",
        "-in",
        path_str(&root_dir.join("root-ca.pem")),
        "-noout",
        "-text",
    ]);
    let ski: String = root_text
        .split("X509v3 Subject Key Identifier: \n")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .replace(':', "")
        .to_lowercase();
    assert!(
        text.contains(&format!("URI:https://zwfw.example.gov.cn/crl/{ski}.crl")),
        "{text}"
    );
    assert!(
        fs::read_to_string(out.join("seal-key.pem"))
            .unwrap()
            .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    );

    // The root key's passphrase is needed, and a wrong one is named.
    let wrong = keygen(
        &temp.path().join("x"),
        &["--ca", path_str(&root_dir)],
        Some("wrong"),
    );
    assert_eq!(wrong.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        stderr.contains("root-ca-key.pem: wrong passphrase"),
        "{stderr}"
    );
}

#[test]
fn the_passphrase_comes_from_a_private_file_never_from_one_others_can_read() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("passphrase");
    fs::write(&file, format!("{PASSPHRASE}\n")).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    let run = |out: &Path| {
        Command::new(env!("CARGO_BIN_EXE_oneseal"))
            .args(["keygen", "--out"])
            .arg(out)
            .env_remove("ONESEAL_KEY_PASSPHRASE")
            .env("ONESEAL_KEY_PASSPHRASE_FILE", &file)
            .output()
            .unwrap()
    };
    let refused = run(&temp.path().join("a"));
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("others may read it: chmod 600"), "{stderr}");
    assert!(!stderr.contains(PASSPHRASE), "{stderr}");
    assert!(!temp.path().join("a").exists());

    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    let out = temp.path().join("b");
    let made = run(&out);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let key = fs::read(out.join("seal-key.pem")).unwrap();
    let chain = fs::read(out.join("seal-cert.pem")).unwrap();
    KeyFileSigner::from_pem(&key, &chain, Some(PASSPHRASE.as_bytes())).unwrap();
    // openssl agrees on the passphrase (the trailing newline is not part of it).
    openssl_text(&[
        "pkey",
        "-in",
        path_str(&out.join("seal-key.pem")),
        "-passin",
        &format!("pass:{PASSPHRASE}"),
        "-noout",
    ]);
}
