//! Licences issued with long-term validity (docs/ltv.md): the seal's signature carries a
//! timestamp from the TSA (PAdES B-T) and the file the validation data (B-LT), judged by openssl
//! and pyHanko; a service asked for B-LTA adds a document timestamp, and pyHanko's simulation of
//! a validation ten years on finds everything it needs in the file.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::service::{Database, Service};
use common::{require_tool, run};
use serde_json::Value;

use common::ltv::{
    TEMPLATE, development_trust, issue, openssl_verifies, our_verdict, pyhanko_ltv, ten_years_on,
};

/// A service started with `env`, and one licence it issued: (service, work dir, licence, root).
fn licence_from(env: &[(&str, &str)]) -> (Service, tempfile::TempDir, PathBuf, PathBuf) {
    let service = Service::start_with(Database::Sqlite, env);
    service.install_template(TEMPLATE, "市场监督管理局");
    let work = tempfile::tempdir().unwrap();
    let licence = issue(&service, work.path(), "licence.pdf");
    let (root, _) = development_trust(&service);
    (service, work, licence, root)
}

#[test]
fn a_licence_is_b_lt_its_timestamp_verified_by_openssl_and_pyhanko_offline() {
    let (service, work, licence, root) = licence_from(&[]);
    let (_, tsa) = development_trust(&service);

    let report = pyhanko_ltv(
        &licence,
        &root,
        &[OsStr::new("--tokens"), work.path().as_os_str()],
    );
    let signature = &report["signatures"][0];
    assert_eq!(signature["bottom_line"], true, "{report:#}");
    assert_eq!(signature["timestamp"]["valid"], true, "{report:#}");
    assert_eq!(signature["timestamp"]["trusted"], true, "{report:#}");
    assert_eq!(signature["dss"], true, "{report:#}");
    // The DSS revision is one a DocMDP P=1 certification allows.
    assert_eq!(signature["modification_level"], "LTA_UPDATES", "{report:#}");
    assert_eq!(signature["level"], "B-LT", "{report:#}");
    assert_eq!(report["document_timestamps"], 0, "{report:#}");
    // pyHanko's AdES validation found the signature timestamp too.
    assert_eq!(signature["lta"]["signature_timestamp"], true, "{report:#}");
    // Our verifier: B-LT now, and still passing ten years on, while the timestamp's TSA
    // certificate (twelve years) is valid (ETSI EN 319 102-1 past signature validation).
    for at in [None, Some(ten_years_on())] {
        let (code, ours) = our_verdict(&licence, &root, at.as_deref());
        assert_eq!(code, Some(0), "{at:?}: {ours:#}");
        assert_eq!(ours["signatures"][0]["pades_level"], "B-LT", "{ours:#}");
    }

    let value = work.path().join("value-1.bin");
    let token = work.path().join("token-1.der");
    assert!(openssl_verifies(&value, &token, &root, &tsa));
    // The token stamps this signature value and no other.
    let mut other = std::fs::read(&value).unwrap();
    other[10] ^= 1;
    let tampered = work.path().join("other-value.bin");
    std::fs::write(&tampered, other).unwrap();
    assert!(!openssl_verifies(&tampered, &token, &root, &tsa));

    // The built-in TSA recorded the timestamp it gave the licence.
    assert_eq!(
        service.sql("SELECT COUNT(*) FROM timestamps").trim(),
        "1",
        "one timestamp recorded"
    );
    let qpdf = run(Command::new(require_tool("qpdf"))
        .arg("--check")
        .arg(&licence));
    assert!(qpdf.ok(), "{}", qpdf.describe());
}

#[test]
fn a_service_asked_for_b_lta_adds_a_document_timestamp_that_outlasts_the_seal_certificate() {
    let (_service, _work, licence, root) = licence_from(&[("ONESEAL_TIMESTAMP_LEVEL", "B-LTA")]);
    let future = ten_years_on();

    let report = pyhanko_ltv(
        &licence,
        &root,
        &[OsStr::new("--future"), OsStr::new(&future)],
    );
    let signature = &report["signatures"][0];
    assert_eq!(report["document_timestamps"], 1, "{report:#}");
    assert_eq!(signature["level"], "B-LTA", "{report:#}");
    assert_eq!(signature["modification_level"], "LTA_UPDATES", "{report:#}");
    assert_eq!(signature["future"]["indication"], true, "{report:#}");

    // Our verifier, offline, now and ten years on: the seal certificate (one year) has expired
    // by then, and the timestamps prove the seal was applied while it was valid.
    for at in [None, Some(future.as_str())] {
        let (code, report) = our_verdict(&licence, &root, at);
        assert_eq!(code, Some(0), "{at:?}: {report:#}");
        assert_eq!(report["indication"], "TOTAL-PASSED", "{at:?}: {report:#}");
        assert_eq!(
            report["signatures"][0]["pades_level"], "B-LTA",
            "{report:#}"
        );
    }
}

#[test]
fn a_service_asked_for_b_b_issues_without_a_timestamp() {
    let (service, _work, licence, root) = licence_from(&[("ONESEAL_TIMESTAMP_LEVEL", "B-B")]);
    let report = pyhanko_ltv(&licence, &root, &[]);
    assert_eq!(report["signatures"][0]["level"], "B-B", "{report:#}");
    assert_eq!(report["signatures"][0]["timestamp"], Value::Null);
    assert_eq!(service.sql("SELECT COUNT(*) FROM timestamps").trim(), "0");

    // Ten years on, nothing proves when it was sealed: its certificate expired long before.
    let (_, report) = our_verdict(&licence, &root, None);
    assert_eq!(report["signatures"][0]["pades_level"], "B-B", "{report:#}");
    let (code, report) = our_verdict(&licence, &root, Some(&ten_years_on()));
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(report["indication"], "INDETERMINATE", "{report:#}");
}

/// A TSA that accepts connections and never answers.
fn silent_tsa() -> (String, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tsa", listener.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming().take(4) {
            open.push(stream);
        }
        std::thread::sleep(std::time::Duration::from_secs(5));
    });
    (url, held)
}

/// A TSA that answers every request with 200 and five bytes of garbage.
fn garbage_tsa() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tsa", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten().take(4) {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
            );
        }
    });
    url
}

/// A configuration file naming `urls` as the outside TSAs, with short timeouts.
fn tsa_config(dir: &Path, urls: &[&str], required: bool, trust: Option<&Path>) -> PathBuf {
    let list: Vec<String> = urls.iter().map(|url| format!("{url:?}")).collect();
    let mut text = format!(
        "[timestamping]\nurls = [{}]\nrequired = {required}\nattempt_timeout_ms = 600\ntotal_timeout_ms = 5000\n",
        list.join(", ")
    );
    if let Some(trust) = trust {
        text.push_str(&format!("trust_pem = {:?}\n", trust.display().to_string()));
    }
    let path = dir.join("oneseal.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn when_no_tsa_answers_the_issuance_fails_with_503_and_the_trail_names_each_failure() {
    let work = tempfile::tempdir().unwrap();
    let (silent, _held) = silent_tsa();
    let garbage = garbage_tsa();
    let down = "http://127.0.0.1:9/tsa";
    let config = tsa_config(work.path(), &[down, &silent, &garbage], true, None);
    let service = Service::start_with(
        Database::Sqlite,
        &[("ONESEAL_CONFIG", config.to_str().unwrap())],
    );
    service.install_template(TEMPLATE, "市场监督管理局");
    let issuer = service.token("issuer", None, "窗口");
    let started = std::time::Instant::now();
    let refused = service.issue_example(&issuer, TEMPLATE);
    let elapsed = started.elapsed();
    let body = common::service::expect_error(refused, 503, "timestamp.unavailable");
    common::service::assert_safe_message(body["message"].as_str().unwrap());
    // Three attempts of at most 0.6 s each, not the slow TSA's whole silence.
    assert!(elapsed < std::time::Duration::from_secs(4), "{elapsed:?}");

    let trail = service.sql(
        "SELECT action || ' ' || details FROM audit WHERE action LIKE 'certificate.%' ORDER BY sequence",
    );
    assert!(trail.contains("certificate.signing"), "{trail}");
    let abandoned = trail
        .lines()
        .find(|line| line.starts_with("certificate.abandoned"))
        .unwrap_or_else(|| panic!("no abandoned entry: {trail}"));
    for named in ["127.0.0.1:9", silent.as_str(), garbage.as_str()] {
        let host = named.trim_start_matches("http://").trim_end_matches("/tsa");
        assert!(abandoned.contains(host), "{host} not in {abandoned}");
    }
    assert!(!trail.contains("certificate.issued"), "{trail}");
    assert_eq!(
        service
            .sql("SELECT COUNT(*) FROM certificates WHERE pdf IS NOT NULL")
            .trim(),
        "0"
    );
}

#[test]
fn without_required_timestamps_a_licence_goes_out_b_b_when_no_tsa_answers() {
    let work = tempfile::tempdir().unwrap();
    let garbage = garbage_tsa();
    let config = tsa_config(work.path(), &[&garbage], false, None);
    let service = Service::start_with(
        Database::Sqlite,
        &[("ONESEAL_CONFIG", config.to_str().unwrap())],
    );
    service.install_template(TEMPLATE, "市场监督管理局");
    let licence = issue(&service, work.path(), "licence.pdf");
    let (root, _) = development_trust(&service);
    let report = pyhanko_ltv(&licence, &root, &[]);
    assert_eq!(report["signatures"][0]["bottom_line"], true, "{report:#}");
    assert_eq!(report["signatures"][0]["level"], "B-B", "{report:#}");
}

#[test]
fn an_outside_tsa_after_a_dead_one_timestamps_the_licence() {
    // The outside TSA is another oneseal's built-in one, under a root of its own.
    let outside = Service::start(Database::Sqlite);
    let (outside_root, outside_tsa) = development_trust(&outside);
    let work = tempfile::tempdir().unwrap();
    let url = format!("{}/tsa", outside.url);
    let config = tsa_config(
        work.path(),
        &["http://127.0.0.1:9/tsa", &url],
        true,
        Some(&outside_root),
    );
    let service = Service::start_with(
        Database::Sqlite,
        &[("ONESEAL_CONFIG", config.to_str().unwrap())],
    );
    service.install_template(TEMPLATE, "市场监督管理局");
    let licence = issue(&service, work.path(), "licence.pdf");
    let (root, _) = development_trust(&service);
    let report = pyhanko_ltv(
        &licence,
        &root,
        &[
            OsStr::new("--root"),
            outside_root.as_os_str(),
            OsStr::new("--tokens"),
            work.path().as_os_str(),
        ],
    );
    let signature = &report["signatures"][0];
    assert_eq!(signature["timestamp"]["trusted"], true, "{report:#}");
    assert_eq!(signature["level"], "B-LT", "{report:#}");
    assert!(openssl_verifies(
        &work.path().join("value-1.bin"),
        &work.path().join("token-1.der"),
        &outside_root,
        &outside_tsa
    ));
    // The outside TSA recorded it; this service's own TSA did not stamp.
    assert_eq!(outside.sql("SELECT COUNT(*) FROM timestamps").trim(), "1");
    assert_eq!(service.sql("SELECT COUNT(*) FROM timestamps").trim(), "0");
}
