//! Archive renewal in bulk (docs/archive-renewal.md): `POST /api/v1/archive/renewals` extends
//! every due licence (issued or revoked) with the validation data of its last timestamp and a
//! new document timestamp (PAdES B-LTA, judged by pyHanko and qpdf), stores it as the licence's
//! next generation with a `certificate.renewed` entry, serves it as the licence's PDF, and
//! every version still verifies as the same licence. Admins only; hostile bodies get a clean 4xx.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use common::service::{Database, Service, expect_error, issued_pdf};
use common::{Json, python_tool, require_tool, run};
use serde_json::{Value, json};

const TEMPLATE: &str = "food-business-licence";
const DEPARTMENT: &str = "市场监督管理局";
const RENEWALS: &str = "/api/v1/archive/renewals";

both_databases! {
    renewal_extends_every_licence_and_keeps_each_version_verifiable => renewal_flow;
}

/// Two licences (one revoked), renewed twice: generations 1 then 2, each a B-LTA file that
/// extends the one before byte for byte, found by verification as the same licence, with the
/// trail whole and recording each renewal.
fn renewal_flow(database: Database) {
    let service = Service::start(database);
    service.install_template(TEMPLATE, DEPARTMENT);
    let issuer = service.token("issuer", Some(DEPARTMENT), "窗口");
    let admin = service.token("admin", None, "管理员");
    let auditor = service.token("auditor", None, "审计");
    let originals: Vec<(String, Vec<u8>)> = (0..2).map(|_| issue_one(&service, &issuer)).collect();
    let revoked = &originals[1].0;
    let revocation = service.post_json(
        &format!("/api/v1/certificates/{revoked}/revoke"),
        Some(&admin),
        &json!({ "reason": "许可事项注销" }),
    );
    assert_eq!(revocation.status(), 200);

    // Nothing is a year old yet.
    let none = renew(&service, &admin, &json!({ "older_than_days": 365 }));
    assert_eq!(
        (none["selected"].as_u64(), none["renewed"].as_u64()),
        (Some(0), Some(0))
    );

    let first = renew(
        &service,
        &admin,
        &json!({ "older_than_days": 0, "limit": 10 }),
    );
    assert_renewed(&first, &originals, 1);
    let work = tempfile::tempdir().unwrap();
    let root = service
        .data
        .path()
        .join("data/development-seal/root-ca.pem");
    let mut previous = Vec::new();
    for (serial, original) in &originals {
        let renewed = download(&service, &admin, serial);
        check_renewed(
            &work.path().join(format!("{serial}-1.pdf")),
            original,
            &renewed,
            &root,
            1,
        );
        for version in [original, &renewed] {
            let found = verify(&service, version);
            assert_eq!(found["registry"]["serial"], serial.as_str(), "{found:#}");
            assert_eq!(found["registry"]["matches_archive"], true, "{found:#}");
        }
        let status = if serial == revoked {
            "revoked"
        } else {
            "issued"
        };
        assert_eq!(verify(&service, &renewed)["registry"]["status"], status);
        // Both verify at the service: the original at the level it was issued (B-LT), the
        // renewed file at B-LTA (pyHanko's verdict is above).
        for (version, level) in [(original, "B-LT"), (&renewed, "B-LTA")] {
            let report = verify(&service, version);
            assert_eq!(report["indication"], "TOTAL-PASSED", "{report:#}");
            assert_eq!(report["signatures"][0]["pades_level"], level, "{report:#}");
        }
        previous.push(renewed);
    }

    // A second run renews the renewed: generation 2 extends generation 1.
    let second = renew(&service, &admin, &json!({ "older_than_days": 0 }));
    assert_renewed(&second, &originals, 2);
    for ((serial, _), before) in originals.iter().zip(&previous) {
        let renewed = download(&service, &admin, serial);
        check_renewed(
            &work.path().join(format!("{serial}-2.pdf")),
            before,
            &renewed,
            &root,
            2,
        );
        assert_eq!(
            verify(&service, &renewed)["registry"]["serial"],
            serial.as_str()
        );
        assert_eq!(
            verify(&service, before)["registry"]["serial"],
            serial.as_str()
        );
    }

    let chain: Value = service
        .get("/api/v1/audit/verify", Some(&auditor))
        .json()
        .unwrap();
    assert_eq!(chain["whole"], true, "{chain}");
    let trail: Value = service
        .get("/api/v1/audit?limit=1000", Some(&auditor))
        .json()
        .unwrap();
    let entries = trail["entries"].as_array().unwrap();
    let renewed: Vec<Value> = entries
        .iter()
        .filter(|e| e["action"] == "certificate.renewed")
        .map(|e| serde_json::from_str(e["details"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(renewed.len(), 4, "{trail:#}");
    for details in &renewed {
        for key in ["sha256_before", "sha256_after"] {
            assert_eq!(details[key].as_str().unwrap().len(), 64, "{details}");
        }
        assert_ne!(details["sha256_before"], details["sha256_after"]);
    }
    let generations: Vec<u64> = renewed
        .iter()
        .map(|d| d["generation"].as_u64().unwrap())
        .collect();
    assert_eq!(generations, [1, 1, 2, 2]);
    let runs = entries
        .iter()
        .filter(|e| e["action"] == "archive.renewal")
        .count();
    assert_eq!(runs, 3, "{trail:#}");
}

/// One licence issued with the template's example: its serial and PDF.
fn issue_one(service: &Service, issuer: &str) -> (String, Vec<u8>) {
    let issued = service.issue_example(issuer, TEMPLATE);
    assert_eq!(issued.status(), 201);
    let body: Value = issued.json().unwrap();
    (
        body["serial"].as_str().unwrap().to_string(),
        issued_pdf(&body),
    )
}

/// `POST /api/v1/archive/renewals` as `token` with `body`: 200, the summary.
fn renew(service: &Service, token: &str, body: &Value) -> Value {
    let response = service.post_json(RENEWALS, Some(token), body);
    let status = response.status().as_u16();
    let text = response.text().unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// Every licence renewed to `generation`, nothing failed, nothing stopped.
fn assert_renewed(summary: &Value, licences: &[(String, Vec<u8>)], generation: u64) {
    assert_eq!(
        summary["selected"].as_u64(),
        Some(licences.len() as u64),
        "{summary:#}"
    );
    assert_eq!(
        summary["renewed"].as_u64(),
        Some(licences.len() as u64),
        "{summary:#}"
    );
    assert_eq!(summary["failed"], 0, "{summary:#}");
    assert!(summary["stopped"].is_null(), "{summary:#}");
    for (serial, _) in licences {
        let renewal = summary["renewals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["serial"] == serial.as_str())
            .unwrap_or_else(|| panic!("{serial} not renewed: {summary:#}"));
        assert_eq!(
            renewal["generation"].as_u64(),
            Some(generation),
            "{summary:#}"
        );
    }
}

fn download(service: &Service, token: &str, serial: &str) -> Vec<u8> {
    let response = service.get(&format!("/api/v1/certificates/{serial}/pdf"), Some(token));
    assert_eq!(response.status(), 200);
    response.bytes().unwrap().to_vec()
}

fn verify(service: &Service, pdf: &[u8]) -> Value {
    let response = service.verify(pdf);
    assert_eq!(response.status(), 200);
    response.json().unwrap()
}

/// `renewed` keeps every byte of `before` and adds revisions ending in its `timestamps`-th
/// document timestamp; pyHanko sees the seal at B-LTA, qpdf finds the file sound.
fn check_renewed(path: &Path, before: &[u8], renewed: &[u8], root: &Path, timestamps: u32) {
    assert!(
        renewed.starts_with(before),
        "an incremental update keeps every byte"
    );
    let revisions = |pdf: &[u8]| pdf.windows(5).filter(|w| w == b"%%EOF").count();
    assert!(revisions(renewed) > revisions(before));
    std::fs::write(path, renewed).unwrap();
    let (report, _) = python_tool(
        "validate_ltv.py",
        &[OsStr::new("--root"), root.as_os_str(), path.as_os_str()],
    );
    assert_eq!(
        report.get("document_timestamps").as_f64(),
        Some(f64::from(timestamps)),
        "{report}"
    );
    let signatures = report.get("signatures").array();
    assert_eq!(signatures.len(), 1, "{report}");
    assert_eq!(
        signatures[0].get("level"),
        &Json::String("B-LTA".into()),
        "{report}"
    );
    let checked = run(Command::new(require_tool("qpdf")).arg("--check").arg(path));
    assert!(checked.ok(), "{}", checked.describe());
}

/// Only admins renew; every other role is refused before its body is read, and hostile bodies
/// are refused in the one error shape without renewing anything.
#[test]
fn only_admins_renew_and_hostile_bodies_get_a_clean_refusal() {
    let service = Service::start(Database::Sqlite);
    service.install_template(TEMPLATE, DEPARTMENT);
    let admin = service.token("admin", None, "管理员");
    for (role, department) in [
        ("department", Some(DEPARTMENT)),
        ("reviewer", Some(DEPARTMENT)),
        ("issuer", Some(DEPARTMENT)),
        ("auditor", None),
    ] {
        let token = service.token(role, department, role);
        let refused = service.post_json(RENEWALS, Some(&token), &json!({ "older_than_days": 0 }));
        expect_error(refused, 403, "auth.forbidden");
        let unread = service
            .request(reqwest::Method::POST, RENEWALS, Some(&token))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .unwrap();
        expect_error(unread, 403, "auth.forbidden");
    }
    expect_error(
        service.post_json(RENEWALS, None, &json!({})),
        401,
        "auth.unauthenticated",
    );

    let unprocessable = [
        json!({ "older_than_days": -1 }),
        json!({ "limit": -5 }),
        json!({ "limit": 0 }),
        json!({ "limit": 1001 }),
        json!({ "limit": 1e30 }),
        json!({ "limit": 1.5 }),
        json!({ "older_than_days": 99_999_999_999u64 }),
        json!({ "older_than_days": 36_501 }),
        json!({ "older_than_days": "0" }),
        json!({ "older_than_days": null, "limit": [1] }),
        json!({ "older_than_days": 0, "everything": true }),
        json!([1, 2]),
        json!("renew"),
    ];
    for body in unprocessable {
        let response = service.post_json(RENEWALS, Some(&admin), &body);
        let status = response.status().as_u16();
        let error = response.json::<Value>().unwrap();
        assert_eq!(status, 422, "{body}: {error}");
        let code = error["error"]["code"].as_str().unwrap();
        assert!(
            matches!(code, "request.invalid" | "renewal.invalid"),
            "{body}: {error}"
        );
        assert!(!error["error"]["request_id"].as_str().unwrap().is_empty());
    }
    let send = |content_type: &str, body: Vec<u8>| {
        service
            .request(reqwest::Method::POST, RENEWALS, Some(&admin))
            .header("content-type", content_type)
            .body(body)
            .send()
            .unwrap()
    };
    expect_error(
        send("application/json", b"{\"limit\": ".to_vec()),
        400,
        "request.invalid",
    );
    expect_error(send("application/json", Vec::new()), 400, "request.invalid");
    expect_error(
        send("text/plain", b"{}".to_vec()),
        415,
        "request.unsupported_media_type",
    );
    let huge = format!("{{\"limit\": 1, \"pad\": \"{}\"}}", "x".repeat(2 << 20));
    expect_error(
        send("application/json", huge.into_bytes()),
        413,
        "request.too_large",
    );

    // None of that renewed anything or left an entry; an empty archive renews nothing.
    let empty = renew(&service, &admin, &json!({ "older_than_days": 0 }));
    assert_eq!(empty["selected"], 0, "{empty}");
    assert_eq!(empty["renewals"], json!([]), "{empty}");
}

/// With no time-stamping authority (a service asked for B-B has none in use), the run stops at
/// its first licence and says why; nothing is stored, the licences stay due and the PDF served
/// is the one issued.
#[test]
fn a_run_without_a_timestamp_stops_and_changes_nothing() {
    let service = Service::start_with(Database::Sqlite, &[("ONESEAL_TIMESTAMP_LEVEL", "B-B")]);
    service.install_template(TEMPLATE, DEPARTMENT);
    let issuer = service.token("issuer", Some(DEPARTMENT), "窗口");
    let admin = service.token("admin", None, "管理员");
    let licences: Vec<(String, Vec<u8>)> = (0..2).map(|_| issue_one(&service, &issuer)).collect();
    for _ in 0..2 {
        let summary = renew(&service, &admin, &json!({ "older_than_days": 0 }));
        assert_eq!(summary["selected"], 1, "{summary:#}");
        assert_eq!(
            (summary["renewed"].as_u64(), summary["failed"].as_u64()),
            (Some(0), Some(0))
        );
        let stopped = summary["stopped"].as_str().unwrap();
        assert!(stopped.contains("time-stamping authority"), "{summary:#}");
    }
    for (serial, original) in &licences {
        assert_eq!(&download(&service, &admin, serial), original);
    }
    assert_eq!(
        service.sql("SELECT COUNT(*) FROM archive_renewals").trim(),
        "0"
    );
    let entries = service.sql("SELECT action FROM audit WHERE action LIKE '%renew%'");
    assert_eq!(
        entries.lines().collect::<Vec<_>>(),
        ["archive.renewal", "archive.renewal"]
    );
}
