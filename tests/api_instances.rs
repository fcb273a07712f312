//! Several instances sharing one PostgreSQL registry: serials stay unique and the audit trail
//! stays one unbroken chain while both issue at once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashSet;

use common::repo_root;
use common::service::{Database, Service};
use serde_json::Value;

#[test]
fn two_instances_issue_concurrently_into_one_registry() {
    let keys = repo_root().join("keys-example");
    let keys = keys.to_str().unwrap();
    let first = Service::start_with(Database::Postgres, &[("ONESEAL_SEAL_KEYS", keys)]);
    let second = Service::start_sharing(&first, &[("ONESEAL_SEAL_KEYS", keys)]);
    first.install_template("food-business-licence", "市场监督管理局");
    let issuer = first.token("issuer", None, "两个实例的窗口");

    let per_thread = 15;
    let serials: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = [&first, &second, &first, &second]
            .into_iter()
            .map(|service| {
                let issuer = issuer.clone();
                scope.spawn(move || {
                    (0..per_thread)
                        .map(|_| {
                            let response = service.issue_example(&issuer, "food-business-licence");
                            assert_eq!(response.status(), 201);
                            let body: Value = response.json().unwrap();
                            body["serial"].as_str().unwrap().to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let unique: HashSet<&String> = serials.iter().collect();
    assert_eq!(unique.len(), 4 * per_thread, "a serial was issued twice");

    // Each instance sees what the other issued, and the chain is whole.
    for serial in &serials {
        let found = second.get(&format!("/api/v1/certificates/{serial}"), Some(&issuer));
        assert_eq!(found.status(), 200, "{serial}");
    }
    let audit = first.oneseal(&["audit", "verify"]);
    assert!(audit.ok(), "{}", audit.describe());
    // The seal brought into service (once, by whichever instance started first), two tokens,
    // submit and approve, the issuer token; then two entries per certificate.
    assert!(
        audit
            .stdout
            .contains(&format!("{} entries", 6 + 2 * 4 * per_thread)),
        "{}",
        audit.stdout
    );
}
