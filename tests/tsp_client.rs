//! The pure RFC 3161 client (`cms::tsp::build_request`, `verify::tsp_client::check_response`)
//! against a TSA we did not write: `openssl ts -reply` with a throwaway root and TSA
//! certificate made by `openssl req`/`x509` in a temp dir. openssl also reads our queries.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;
use std::process::Command;

use oneseal::cms::tsp::{ImprintAlgorithm, PolicyId, build_request};
use oneseal::verify::TrustAnchors;
use oneseal::verify::tsp_client::{ExpectedStamp, TsaTrust, TspClientError, check_response};
use time::OffsetDateTime;

use common::{require_tool, run};

/// The policy the openssl TSA names (its config's default_policy).
const POLICY: &str = "1.2.3.4.1";
/// The serial file: wider than 64 bits, as many TSAs use. openssl increments it (in hex)
/// before stamping, so the first token has `ISSUED`.
const SERIAL: &str = "0123456789ABCDEF0123456789ABCDEF";
const ISSUED: &str = "0123456789ABCDEF0123456789ABCDF0";
const NONCE: [u8; 16] = [0xf0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

fn openssl(dir: &Path, args: &[&str]) -> String {
    let run = run(Command::new(require_tool("openssl"))
        .current_dir(dir)
        .args(args));
    assert!(run.ok(), "{}", run.describe());
    run.stdout
}

/// A root CA and a TSA certificate under it (EKU timeStamping alone, critical: RFC 3161
/// §2.3), both P-256, and an `openssl ts` config naming `ess_cert_id_alg` (sha256 gives
/// signingCertificateV2, sha1 signingCertificate).
fn openssl_tsa(dir: &Path, ess_cert_id_alg: &str) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut root = vec!["req", "-x509", "-new"];
    root.extend(ec);
    root.extend([
        "-keyout",
        "root.key",
        "-out",
        "root.pem",
        "-subj",
        "/CN=Test TSA Root",
        "-days",
        "3650",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &root);
    let mut request = vec!["req", "-new"];
    request.extend(ec);
    request.extend([
        "-keyout",
        "tsa.key",
        "-out",
        "tsa.csr",
        "-subj",
        "/CN=Test TSA",
    ]);
    openssl(dir, &request);
    std::fs::write(
        dir.join("tsa_ext.cnf"),
        "[tsa]\n\
         basicConstraints = critical,CA:FALSE\n\
         keyUsage = critical,digitalSignature,nonRepudiation\n\
         extendedKeyUsage = critical,timeStamping\n\
         subjectKeyIdentifier = hash\n\
         authorityKeyIdentifier = keyid\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "tsa.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-CAcreateserial",
            "-days",
            "365",
            "-extfile",
            "tsa_ext.cnf",
            "-extensions",
            "tsa",
            "-out",
            "tsa.pem",
        ],
    );
    openssl(
        dir,
        &[
            "x509", "-in", "tsa.pem", "-outform", "DER", "-out", "tsa.der",
        ],
    );
    std::fs::write(dir.join("serial"), format!("{SERIAL}\n")).unwrap();
    let config = format!(
        "[tsa]\n\
         default_tsa = tsa_config\n\
         [tsa_config]\n\
         dir = {dir}\n\
         serial = $dir/serial\n\
         crypto_device = builtin\n\
         signer_cert = $dir/tsa.pem\n\
         certs = $dir/root.pem\n\
         signer_key = $dir/tsa.key\n\
         signer_digest = sha256\n\
         default_policy = {POLICY}\n\
         digests = sha256, sha384, sha512\n\
         accuracy = secs:1, millisecs:500, microsecs:100\n\
         clock_precision_digits = 3\n\
         ordering = yes\n\
         tsa_name = yes\n\
         ess_cert_id_chain = no\n\
         ess_cert_id_alg = {ess_cert_id_alg}\n",
        dir = dir.display()
    );
    std::fs::write(dir.join("ts.cnf"), config).unwrap();
}

/// openssl's reply to `query` (DER), written by `openssl ts -reply`.
fn reply(dir: &Path, query: &[u8]) -> Vec<u8> {
    std::fs::write(dir.join("ours.tsq"), query).unwrap();
    openssl(
        dir,
        &[
            "ts",
            "-reply",
            "-config",
            "ts.cnf",
            "-queryfile",
            "ours.tsq",
            "-out",
            "reply.tsr",
        ],
    );
    std::fs::read(dir.join("reply.tsr")).unwrap()
}

fn document_digest() -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, b"a document to stamp")
        .as_ref()
        .to_vec()
}

fn anchors(dir: &Path) -> TrustAnchors {
    let mut anchors = TrustAnchors::new();
    anchors
        .add_pem_or_der(&std::fs::read(dir.join("root.pem")).unwrap())
        .unwrap();
    anchors
}

#[test]
fn openssl_reads_our_query_and_its_reply_passes_our_checks() {
    for ess_cert_id_alg in ["sha256", "sha1"] {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        openssl_tsa(dir, ess_cert_id_alg);
        let digest = document_digest();
        let query =
            build_request(ImprintAlgorithm::Sha256, &digest, Some(&NONCE), true, None).unwrap();
        std::fs::write(dir.join("ours.tsq"), &query).unwrap();
        let text = openssl(dir, &["ts", "-query", "-in", "ours.tsq", "-text"]);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let shown: String = text
            .split("Message data:")
            .nth(1)
            .unwrap_or_default()
            .lines()
            .take_while(|line| !line.contains("Policy OID"))
            .flat_map(|line| line.split_whitespace().skip(1).take(16))
            .flat_map(|group| group.split('-'))
            .collect::<Vec<_>>()
            .concat();
        assert!(text.contains("Version: 1"), "{text}");
        assert!(text.contains("sha256"), "{text}");
        assert!(shown.starts_with(&hex), "{shown} vs {hex}\n{text}");
        assert!(
            text.contains("Nonce: 0xF0010203040506070809") && text.contains("yes"),
            "{text}"
        );

        let response = reply(dir, &query);
        // openssl itself agrees the reply answers our query.
        openssl(
            dir,
            &[
                "ts",
                "-verify",
                "-queryfile",
                "ours.tsq",
                "-in",
                "reply.tsr",
                "-CAfile",
                "root.pem",
            ],
        );
        let anchors = anchors(dir);
        let now = OffsetDateTime::now_utc();
        let trust = TsaTrust {
            anchors: &anchors,
            certificates: &[],
            validation_time: now,
        };
        let expected = ExpectedStamp {
            algorithm: ImprintAlgorithm::Sha256,
            digest: &digest,
            nonce: Some(&NONCE),
            policy: None,
        };
        let checked = check_response(&response, &expected, &trust)
            .unwrap_or_else(|e| panic!("{ess_cert_id_alg}: {e}"));
        assert!((checked.generation_time - now).abs() < time::Duration::minutes(2));
        let serial: String = checked.serial.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(serial, ISSUED, "the serial file's next value");
        assert_eq!(checked.policy, PolicyId::from_oid(&POLICY.parse().unwrap()));
        assert_eq!(
            checked.tsa_certificate,
            std::fs::read(dir.join("tsa.der")).unwrap()
        );

        // Another nonce than ours: the answer is not for this request.
        let other = ExpectedStamp {
            nonce: Some(&[1; 16]),
            ..expected
        };
        assert_eq!(
            check_response(&response, &other, &trust).unwrap_err(),
            TspClientError::NonceMismatch
        );
    }
}

#[test]
fn without_cert_req_the_caller_gives_the_tsa_certificate() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    openssl_tsa(dir, "sha256");
    let digest = document_digest();
    let query = build_request(ImprintAlgorithm::Sha256, &digest, None, false, None).unwrap();
    let response = reply(dir, &query);
    let anchors = anchors(dir);
    let expected = ExpectedStamp {
        algorithm: ImprintAlgorithm::Sha256,
        digest: &digest,
        nonce: None,
        policy: None,
    };
    let mut trust = TsaTrust {
        anchors: &anchors,
        certificates: &[],
        validation_time: OffsetDateTime::now_utc(),
    };
    assert!(matches!(
        check_response(&response, &expected, &trust).unwrap_err(),
        TspClientError::Signature(_)
    ));
    let given = [std::fs::read(dir.join("tsa.der")).unwrap()];
    trust.certificates = &given;
    check_response(&response, &expected, &trust).unwrap();
}

#[test]
fn an_openssl_rejection_is_named() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    openssl_tsa(dir, "sha256");
    let digest = document_digest();
    let policy = PolicyId::from_oid(&"1.2.3.4.99".parse().unwrap());
    let query = build_request(
        ImprintAlgorithm::Sha256,
        &digest,
        Some(&NONCE),
        true,
        Some(&policy),
    )
    .unwrap();
    let response = reply(dir, &query);
    let anchors = anchors(dir);
    let trust = TsaTrust {
        anchors: &anchors,
        certificates: &[],
        validation_time: OffsetDateTime::now_utc(),
    };
    let expected = ExpectedStamp {
        algorithm: ImprintAlgorithm::Sha256,
        digest: &digest,
        nonce: Some(&NONCE),
        policy: None,
    };
    let error = check_response(&response, &expected, &trust).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, TspClientError::Rejected { ref failures, .. } if failures == &["unacceptedPolicy"]),
        "{message}"
    );
    assert!(message.contains("rejection"), "{message}");
}
