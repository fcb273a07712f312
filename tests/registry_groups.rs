//! The registry's group commit on SQLite and on PostgreSQL: many writes at once, one of them
//! colliding, are committed together; the collision alone is refused and the chain stays whole.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::service::{Database, fresh_postgres_database, postgres_admin_url, psql};
use oneseal::registry::{AuditRecord, Registry, RegistryError, Reservation};

both_databases! {
    concurrent_reservations_with_a_colliding_serial => colliding_serial;
}

const WRITES: usize = 40;

/// 40 reservations at once, the 31st reusing the 11th's serial: exactly one is refused as a
/// conflict (in PostgreSQL its failed INSERT aborts the group's transaction, so the others must
/// be run again), the other 39 are committed with 39 chained audit entries.
fn colliding_serial(database: Database) {
    let dir = tempfile::tempdir().unwrap();
    let url = match database {
        Database::Sqlite => format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display()),
        Database::Postgres => fresh_postgres_database(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let registry = Registry::open(&url).await.unwrap();
        let mut writes = Vec::new();
        for n in 0..WRITES {
            let registry = registry.clone();
            let serial = format!("20261126-T{:09}", if n == 30 { 10 } else { n });
            writes.push(tokio::spawn(async move {
                let audit = AuditRecord::new(
                    "test",
                    "certificate.signing",
                    serial.clone(),
                    serde_json::json!({}),
                );
                registry
                    .reserve_serial(&reservation(&serial), &audit, 1)
                    .await
            }));
        }
        let mut sequences = Vec::new();
        let mut conflicts = Vec::new();
        for write in writes {
            match write.await.unwrap() {
                Ok(entry) => sequences.push(entry.sequence),
                Err(RegistryError::Conflict(what)) => conflicts.push(what),
                Err(other) => panic!("{other}"),
            }
        }
        assert_eq!(conflicts, ["serial 20261126-T000000010"]);
        sequences.sort_unstable();
        assert_eq!(sequences, (1..WRITES as i64).collect::<Vec<_>>());
        assert_eq!(
            registry.verify_audit_chain().await.unwrap(),
            Ok(WRITES as i64 - 1)
        );
        registry.close().await;
    });
    if database == Database::Postgres {
        let name = url.rsplit_once('/').unwrap().1;
        psql(
            &postgres_admin_url(),
            &format!("DROP DATABASE {name} WITH (FORCE)"),
        );
    }
}

fn reservation(serial: &str) -> Reservation {
    Reservation {
        serial: serial.to_string(),
        template_id: "food-business-licence".into(),
        template_version: 1,
        template_title: "食品经营许可证".into(),
        data: "{}".into(),
        holder: "测试".into(),
        credit_code: None,
        delivery: "window".into(),
        issuer: "test".into(),
        issued_at_ms: 1,
        request_id: None,
        sign_offs: None,
        departments: vec!["市场监督管理局".into()],
        seal_fingerprint: None,
    }
}
