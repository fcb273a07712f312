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

/// Makes the registry refuse audit entries whose action is `action`.
fn refuse_entries(service: &Service, action: &str) {
    service.sql(&match service.database {
        Database::Sqlite => format!(
            "CREATE TRIGGER refuse BEFORE INSERT ON audit WHEN NEW.action = '{action}' \
             BEGIN SELECT RAISE(ABORT, 'the audit disk is full'); END;"
        ),
        Database::Postgres => format!(
            "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger AS $$ BEGIN \
             IF NEW.action = '{action}' THEN RAISE EXCEPTION 'the audit disk is full'; \
             END IF; RETURN NEW; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION refuse();"
        ),
    });
}

fn allow_entries(service: &Service) {
    service.sql(match service.database {
        Database::Sqlite => "DROP TRIGGER refuse;",
        Database::Postgres => "DROP TRIGGER refuse ON audit;",
    });
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
    refuse_entries(&service, "certificate.signing");
    let refused = service.issue_example(&issuer, "food-business-licence");
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().unwrap();
    assert_eq!(body["error"]["code"], "registry.unavailable", "{body}");
    assert!(body.get("pdf").is_none() && body.get("serial").is_none());
    assert!(
        !body.to_string().contains("audit disk"),
        "the database's message reached the client: {body}"
    );
    allow_entries(&service);

    // After signing: the final entry is refused, so the signed PDF is never returned, and the
    // reserved serial is not shown as issued.
    refuse_entries(&service, "certificate.issued");
    let refused = service.issue_example(&issuer, "food-business-licence");
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().unwrap();
    assert!(body.get("pdf").is_none(), "{body}");
    allow_entries(&service);
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
