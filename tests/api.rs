//! The seal service end to end, on a real server on loopback, on SQLite and on PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::service::{Database, Service, issued_pdf};
use serde_json::{Value, json};

both_databases! {
    whole_flow_upload_approve_issue_verify_revoke => whole_flow;
}

/// upload → approve → issue → verify (issued, matches archive) → revoke → verify shows revoked.
fn whole_flow(database: Database) {
    let service = Service::start(database);
    service.install_template("food-business-licence", "市场监督管理局");
    let issuer = service.token("issuer", None, "窗口 1");
    let admin = service.token("admin", None, "局长办公室");

    let issued = service.issue_example(&issuer, "food-business-licence");
    assert_eq!(issued.status(), 201);
    let body: Value = issued.json().unwrap();
    let serial = body["serial"].as_str().unwrap().to_string();
    let pdf = issued_pdf(&body);

    let verified: Value = service.verify(&pdf).json().unwrap();
    assert_eq!(verified["indication"], "TOTAL-PASSED", "{verified}");
    assert_eq!(verified["registry"]["status"], "issued");
    assert_eq!(verified["registry"]["matches_archive"], true);
    assert_eq!(verified["registry"]["serial"], serial.as_str());

    let archived = service
        .get(&format!("/api/v1/certificates/{serial}/pdf"), Some(&issuer))
        .bytes()
        .unwrap();
    assert_eq!(archived.as_ref(), pdf.as_slice());

    let revoked = service.post_json(
        &format!("/api/v1/certificates/{serial}/revoke"),
        Some(&admin),
        &json!({ "reason": "经营场所变更，原证收回" }),
    );
    assert_eq!(revoked.status(), 200);
    let verified: Value = service.verify(&pdf).json().unwrap();
    assert_eq!(verified["registry"]["status"], "revoked", "{verified}");
    assert_eq!(
        verified["registry"]["revocation_reason"],
        "经营场所变更，原证收回"
    );

    let page = service
        .get(&format!("/verify/{serial}"), None)
        .text()
        .unwrap();
    assert!(page.contains("已被撤销"), "{page}");

    let audit = service.oneseal(&["audit", "verify"]);
    assert!(audit.ok(), "{}", audit.describe());
}
