//! The built-in TSA (`POST /tsa`, docs/tsa.md) judged by clients we did not write: `openssl ts`
//! makes the queries and verifies the replies, pyHanko timestamps a PDF signature through it and
//! validates the result; hostile queries get the right rejection or HTTP status and nothing is
//! signed for them; serials stay unique and increasing under concurrency and across restarts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::service::{Database, Service};

/// The policy docs/tsa.md states.
const POLICY: &str = "2.25.76300465929542345528438199442665156440";

both_databases! {
    serials_are_unique_and_increasing_under_concurrency => concurrent_timestamps;
}

#[test]
fn openssl_verifies_tokens_and_serials_increase_across_a_restart() {
    let mut service = Service::start(Database::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("document.txt");
    std::fs::write(&data, "营业执照 2026-11-26").unwrap();
    let (root, tsa_chain) = trust_files(&service);

    let mut serials = Vec::new();
    for (round, with_certificate) in [(0, true), (1, false), (2, true)] {
        let query = dir.path().join(format!("q{round}.tsq"));
        let mut args = vec![
            "ts",
            "-query",
            "-data",
            path(&data),
            "-sha256",
            "-out",
            path(&query),
        ];
        if with_certificate {
            args.push("-cert");
        }
        openssl(&args);
        let reply = ask(&service, &query, dir.path(), round);
        let text = openssl(&["ts", "-reply", "-in", path(&reply), "-text"]).stdout;
        assert!(text.contains("Status: Granted."), "{text}");
        assert!(text.contains(&format!("Policy OID: {POLICY}")), "{text}");
        let query_text = openssl(&["ts", "-query", "-in", path(&query), "-text"]).stdout;
        let nonce = line_after(&query_text, "Nonce: ");
        assert_eq!(line_after(&text, "Nonce: "), nonce, "the nonce is echoed");
        assert!(text.contains("Accuracy: 0x01 seconds"), "{text}");
        serials.push(serial_of(&text));
        let verified = run_openssl(&[
            "ts",
            "-verify",
            "-data",
            path(&data),
            "-in",
            path(&reply),
            "-CAfile",
            path(&root),
            "-untrusted",
            path(&tsa_chain),
        ]);
        assert!(
            verified.stdout.contains("Verification: OK"),
            "certReq {with_certificate}: {}",
            verified.describe()
        );
        // The certificate travels in the token only when asked for (RFC 3161 §2.4.1 certReq).
        let token = dir.path().join(format!("t{round}.der"));
        openssl(&[
            "ts",
            "-reply",
            "-in",
            path(&reply),
            "-token_out",
            "-out",
            path(&token),
        ]);
        let certificates = openssl(&[
            "pkcs7",
            "-inform",
            "DER",
            "-in",
            path(&token),
            "-print_certs",
        ])
        .stdout;
        assert_eq!(certificates.contains("BEGIN CERTIFICATE"), with_certificate);
        let tampered = dir.path().join("tampered.txt");
        std::fs::write(&tampered, "营业执照 2026-11-27").unwrap();
        let refused = run_openssl(&[
            "ts",
            "-verify",
            "-data",
            path(&tampered),
            "-in",
            path(&reply),
            "-CAfile",
            path(&root),
            "-untrusted",
            path(&tsa_chain),
        ]);
        assert!(
            !refused.ok(),
            "a tampered file verified: {}",
            refused.describe()
        );
        assert!(
            refused.stdout.contains("Verification: FAILED"),
            "{}",
            refused.describe()
        );
    }
    service.restart();
    let query = dir.path().join("after-restart.tsq");
    openssl(&[
        "ts",
        "-query",
        "-data",
        path(&data),
        "-sha512",
        "-out",
        path(&query),
    ]);
    let reply = ask(&service, &query, dir.path(), 9);
    let text = openssl(&["ts", "-reply", "-in", path(&reply), "-text"]).stdout;
    assert!(text.contains("Hash Algorithm: sha512"), "{text}");
    serials.push(serial_of(&text));
    assert!(
        serials.windows(2).all(|pair| pair[0] < pair[1]),
        "serials {serials:?}"
    );
    let recorded =
        service.sql("SELECT serial, hash_algorithm, policy FROM timestamps ORDER BY serial");
    assert_eq!(recorded.lines().count(), 4, "{recorded}");
    assert!(
        recorded.lines().all(|line| line.ends_with(POLICY)),
        "{recorded}"
    );
}

#[test]
fn pyhanko_timestamps_a_signature_through_the_tsa_and_trusts_it() {
    let service = Service::start(Database::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    let (root, _) = trust_files(&service);
    // pyHanko's own signer: a throwaway P-256 key with a self-signed certificate.
    let key = dir.path().join("signer-key.pem");
    let cert = dir.path().join("signer-cert.pem");
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        path(&key),
        "-out",
        path(&cert),
        "-subj",
        "/CN=pyHanko test signer",
        "-days",
        "2",
        "-addext",
        "keyUsage=critical,digitalSignature,nonRepudiation",
    ]);
    let pdf = dir.path().join("in.pdf");
    std::fs::write(
        &pdf,
        common::classic_pdf(&[
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        ]),
    )
    .unwrap();
    let signed = dir.path().join("signed.pdf");
    let url = format!("{}/tsa", service.url);
    let (verdict, run) = common::python_tool(
        "timestamp_sign.py",
        &[
            pdf.as_os_str(),
            signed.as_os_str(),
            key.as_os_str(),
            cert.as_os_str(),
            url.as_ref(),
            root.as_os_str(),
            cert.as_os_str(),
        ],
    );
    let stamp = verdict.get("timestamp");
    assert_eq!(
        verdict.get("intact").as_bool(),
        Some(true),
        "{}",
        run.describe()
    );
    for key in ["intact", "valid", "trusted"] {
        assert_eq!(
            stamp.get(key).as_bool(),
            Some(true),
            "{key}: {}",
            run.describe()
        );
    }
    assert_eq!(
        stamp.get("policy").as_str(),
        Some(POLICY),
        "{}",
        run.describe()
    );
    // pyHanko asks once for a dummy token (to size /Contents), then for the real one.
    let serial = stamp.get("serial").as_f64().unwrap();
    let recorded = service.sql("SELECT COUNT(*), MAX(serial) FROM timestamps");
    assert_eq!(
        recorded.trim(),
        format!("{serial}|{serial}"),
        "{}",
        run.describe()
    );
}

#[test]
fn hostile_queries_are_refused_and_nothing_is_signed() {
    let service = Service::start(Database::Sqlite);
    let sha256 = oid(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]);
    let sha1 = oid(&[0x2b, 0x0e, 0x03, 0x02, 0x1a]);
    let extension = tlv(0x30, &[oid(&[0x2a, 0x03, 0x04]), tlv(0x04, &[])].concat());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "garbage",
            b"GET / HTTP/1.1\r\n\r\n".to_vec(),
            "wrong format",
        ),
        ("empty", Vec::new(), "wrong format"),
        ("a lone SEQUENCE", vec![0x30, 0x00], "wrong format"),
        (
            "BER, indefinite length",
            vec![0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00],
            "wrong format",
        ),
        (
            "a short SHA-256 digest",
            query(&sha256, &[1; 20], &[]),
            "wrong format",
        ),
        (
            "SHA-1",
            query(&sha1, &[1; 20], &[]),
            "unsupported algorithm identifier",
        ),
        (
            "an unknown hash OID",
            query(&oid(&[0x2a, 0x03]), &[1; 32], &[]),
            "unsupported algorithm identifier",
        ),
        (
            "extensions",
            query(&sha256, &[1; 32], &tlv(0xa0, &extension)),
            "extension is not supported",
        ),
        (
            "another policy",
            query(&sha256, &[1; 32], &oid(&[0x2a, 0x03, 0x04])),
            "policy is not supported",
        ),
        (
            "version 2",
            {
                let mut bytes = query(&sha256, &[1; 32], &[]);
                bytes[4] = 2;
                bytes
            },
            "transaction not permitted or supported",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, body, failure) in cases {
        let response = post(&service, body, "application/timestamp-query");
        assert_eq!(response.status(), 200, "{name}");
        assert_eq!(
            response.headers()["content-type"],
            "application/timestamp-reply",
            "{name}"
        );
        let reply = dir.path().join("reply.tsr");
        std::fs::write(&reply, response.bytes().unwrap()).unwrap();
        let text = openssl(&["ts", "-reply", "-in", path(&reply), "-text"]).stdout;
        assert!(text.contains("Status: Rejected."), "{name}: {text}");
        assert!(text.contains(failure), "{name}: {text}");
    }
    let huge = post(
        &service,
        vec![0x30; 64 << 10],
        "application/timestamp-query",
    );
    common::service::expect_error(huge, 413, "request.too_large");
    let wrong_type = post(
        &service,
        query(&sha256, &[1; 32], &[]),
        "application/octet-stream",
    );
    common::service::expect_error(wrong_type, 415, "request.unsupported_media_type");
    let no_type = service
        .request(reqwest::Method::POST, "/tsa", None)
        .body(query(&sha256, &[1; 32], &[]))
        .send()
        .unwrap();
    common::service::expect_error(no_type, 415, "request.unsupported_media_type");
    service.assert_healthy();
    assert_eq!(
        service.sql("SELECT COUNT(*) FROM timestamps").trim(),
        "0",
        "a refused query was recorded or signed"
    );
    let granted = post(
        &service,
        query(&sha256, &[1; 32], &[]),
        "application/timestamp-query",
    );
    assert!(is_granted(&granted.bytes().unwrap()));
}

#[test]
fn a_service_without_a_tsa_answers_404() {
    // A configured seal and no `[tsa] keys`: no development TSA is made either.
    let keys = common::repo_root().join("keys-example");
    let service = Service::start_with(Database::Sqlite, &[("ONESEAL_SEAL_KEYS", path(&keys))]);
    let response = post(&service, vec![0x30, 0x00], "application/timestamp-query");
    common::service::expect_error(response, 404, "tsa.not_configured");
}

/// 4 threads × 25 queries at once: every one granted, serials 1 to 100 each once, genTime never
/// earlier for a later serial.
fn concurrent_timestamps(database: Database) {
    let service = Service::start(database);
    let sha256 = oid(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]);
    std::thread::scope(|scope| {
        for thread in 0..4u8 {
            let (service, sha256) = (&service, &sha256);
            scope.spawn(move || {
                for n in 0..25u8 {
                    let body = query(sha256, &[thread.wrapping_mul(31) ^ n; 32], &[]);
                    let response = post(service, body, "application/timestamp-query");
                    assert_eq!(response.status(), 200);
                    assert!(
                        is_granted(&response.bytes().unwrap()),
                        "thread {thread} #{n}"
                    );
                }
            });
        }
    });
    assert_eq!(
        service
            .sql(
                "SELECT COUNT(*), COUNT(DISTINCT serial), MIN(serial), MAX(serial) FROM timestamps"
            )
            .trim(),
        "100|100|1|100"
    );
    assert_eq!(
        service
            .sql(
                "SELECT COUNT(*) FROM timestamps a JOIN timestamps b ON b.serial = a.serial + 1 \
                 WHERE b.time_ms < a.time_ms"
            )
            .trim(),
        "0"
    );
    assert_eq!(
        service.sql("SELECT last_serial FROM tsa_head").trim(),
        "100"
    );
}

fn trust_files(service: &Service) -> (PathBuf, PathBuf) {
    let data = service.data.path().join("data");
    (
        data.join("development-seal/root-ca.pem"),
        data.join("development-tsa/seal-cert.pem"),
    )
}

fn ask(service: &Service, query: &Path, dir: &Path, round: u32) -> PathBuf {
    let response = post(
        service,
        std::fs::read(query).unwrap(),
        "application/timestamp-query",
    );
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/timestamp-reply"
    );
    let reply = dir.join(format!("r{round}.tsr"));
    std::fs::write(&reply, response.bytes().unwrap()).unwrap();
    reply
}

fn post(service: &Service, body: Vec<u8>, content_type: &str) -> reqwest::blocking::Response {
    service
        .request(reqwest::Method::POST, "/tsa", None)
        .header("content-type", content_type)
        .body(body)
        .send()
        .unwrap()
}

/// TimeStampResp { PKIStatusInfo { status 0 } … }: the status sits right after the outer header.
fn is_granted(response: &[u8]) -> bool {
    let header = if response.get(1).is_some_and(|b| b & 0x80 != 0) {
        2 + usize::from(response[1] & 0x7f)
    } else {
        2
    };
    response.get(header..header + 5) == Some(&[0x30, 0x03, 0x02, 0x01, 0x00][..])
}

/// A TimeStampReq v1 for `digest` under `algorithm`, then `rest` (policy, extensions) verbatim.
fn query(algorithm: &[u8], digest: &[u8], rest: &[u8]) -> Vec<u8> {
    let imprint = tlv(0x30, &[tlv(0x30, algorithm), tlv(0x04, digest)].concat());
    tlv(
        0x30,
        &[vec![0x02, 0x01, 0x01], imprint, rest.to_vec()].concat(),
    )
}

fn oid(value: &[u8]) -> Vec<u8> {
    tlv(0x06, value)
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    assert!(content.len() < 128, "short form only");
    [vec![tag, content.len() as u8], content.to_vec()].concat()
}

fn serial_of(text: &str) -> u64 {
    let hex = line_after(text, "Serial number: 0x");
    u64::from_str_radix(&hex, 16).unwrap()
}

fn line_after(text: &str, prefix: &str) -> String {
    text.lines()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in {text}"))
        .trim()
        .to_string()
}

fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn run_openssl(args: &[&str]) -> common::Run {
    common::run(Command::new("openssl").args(args))
}

fn openssl(args: &[&str]) -> common::Run {
    let run = run_openssl(args);
    assert!(run.ok(), "{}", run.describe());
    run
}
