//! No signature without a record: when the audit trail refuses an entry, no certificate is
//! returned, nothing shows as issued, and the chain stays whole. The refusal is made real with a
//! trigger in the registry database itself, on SQLite and on PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::service::{Database, Service};
use serde_json::Value;

both_databases! {
    a_refused_audit_entry_means_no_certificate => a_refused_audit_entry_means_no_certificate;
}

fn certificates(service: &Service, token: &str) -> Vec<Value> {
    let body: Value = service
        .get("/api/v1/certificates", Some(token))
        .json()
        .unwrap();
    body["certificates"].as_array().unwrap().clone()
}

fn a_refused_audit_entry_means_no_certificate(database: Database) {
    let service = Service::start(database);
    service.install_template("food-business-licence", "市场监督管理局");
    let issuer = service.token("issuer", None, "窗口");

    // Before signing: the reservation's entry is refused, so nothing is signed.
    service.refuse_audit_entries("certificate.signing");
    let refused = service.issue_example(&issuer, "food-business-licence");
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().unwrap();
    assert_eq!(body["error"]["code"], "registry.unavailable", "{body}");
    assert!(body.get("pdf").is_none() && body.get("serial").is_none());
    assert!(
        !body.to_string().contains("audit disk"),
        "the database's message reached the client: {body}"
    );
    service.allow_audit_entries();

    // After signing: the final entry is refused, so the signed PDF is never returned, and the
    // reserved serial is not shown as issued.
    service.refuse_audit_entries("certificate.issued");
    let refused = service.issue_example(&issuer, "food-business-licence");
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().unwrap();
    assert!(body.get("pdf").is_none(), "{body}");
    service.allow_audit_entries();
    assert!(certificates(&service, &issuer).is_empty());

    // The cause went to the log, under the request id the client was given.
    let request_id = body["error"]["request_id"].as_str().unwrap();
    let logs = service.logs();
    assert!(
        logs.lines()
            .any(|line| line.contains(request_id) && line.contains("audit disk is full")),
        "no log line with the cause for {request_id}"
    );

    // Issuing works again and the chain is whole.
    let issued = service.issue_example(&issuer, "food-business-licence");
    assert_eq!(issued.status(), 201);
    assert_eq!(certificates(&service, &issuer).len(), 1);
    let audit = service.oneseal(&["audit", "verify"]);
    assert!(audit.ok(), "{}", audit.describe());
}
