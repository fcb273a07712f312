//! Licences issued with long-term validity (docs/ltv.md): the seal's signature carries a
//! timestamp from the TSA (PAdES B-T) and the file the validation data (B-LT), checked by
//! openssl and pyHanko; `oneseal ltv extend` adds document timestamps (B-LTA).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::service::{Database, Service, issued_pdf};

#[test]
fn dump_licence() {
    let service = Service::start(Database::Sqlite);
    service.install_template("food-business-licence", "市场监督管理局");
    let issuer = service.token("issuer", Some("市场监督管理局"), "窗口");
    let issued = service.issue_example(&issuer, "food-business-licence");
    assert_eq!(issued.status(), 201);
    let body: serde_json::Value = issued.json().unwrap();
    std::fs::write("/tmp/ltv/licence.pdf", issued_pdf(&body)).unwrap();
    for f in [
        "development-seal/root-ca.pem",
        "development-tsa/seal-cert.pem",
    ] {
        std::fs::copy(
            service.data.path().join("data").join(f),
            format!("/tmp/ltv/{}", f.replace('/', "-")),
        )
        .unwrap();
    }
}
