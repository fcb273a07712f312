//! Listing and searching certificates (issue 5 item 4): by serial, holder, credit code, template
//! and issue date, on SQLite and on PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::service::{Database, Service, shipped_template};
use serde_json::{Value, json};

both_databases! {
    search_finds_by_every_term => search_finds_by_every_term;
}

fn serials(service: &Service, token: &str, query: &str) -> Vec<String> {
    let response = service.get(&format!("/api/v1/certificates{query}"), Some(token));
    assert_eq!(response.status(), 200, "{query}");
    let body: Value = response.json().unwrap();
    let mut found: Vec<String> = body["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["serial"].as_str().unwrap().to_string())
        .collect();
    found.sort();
    found
}

fn search_finds_by_every_term(database: Database) {
    let service = Service::start(database);
    service.install_template("food-business-licence", "市场监督管理局");
    service.install_template("construction-planning-permit", "自然资源和规划局");
    let issuer = service.token("issuer", None, "窗口");
    let auditor = service.token("auditor", None, "审计");

    let food: Value = service
        .issue_example(&issuer, "food-business-licence")
        .json()
        .unwrap();
    // The permit needs 住房和城乡建设局's sign-off: it is issued through a request.
    let permit = json!({
        "serial": service.issue_example_via_request(&issuer, "construction-planning-permit")
    });
    // A second food licence for another company (50% literal: LIKE wildcards must be literal).
    let mut data: Value = serde_json::from_slice(
        &std::fs::read(shipped_template("food-business-licence").join("example.json")).unwrap(),
    )
    .unwrap();
    data["operator_name"] = json!("新乡市百分之50%_食品有限公司");
    data["credit_code"] = json!("91410700MA9H2DRW9H");
    let other = service.post_json(
        "/api/v1/certificates",
        Some(&issuer),
        &json!({ "template": "food-business-licence", "data": data, "delivery": "mail" }),
    );
    assert_eq!(other.status(), 201, "{:?}", other.text());
    let other: Value = other.json().unwrap();

    let serial = |v: &Value| v["serial"].as_str().unwrap().to_string();
    let mut all = vec![serial(&food), serial(&permit), serial(&other)];
    all.sort();

    assert_eq!(serials(&service, &auditor, ""), all);
    assert_eq!(
        serials(&service, &issuer, &format!("?serial={}", serial(&permit))),
        vec![serial(&permit)]
    );
    assert_eq!(
        serials(&service, &issuer, "?holder=%E5%8D%8E%E8%BE%B0"), // 华辰
        vec![serial(&food)]
    );
    assert_eq!(
        serials(&service, &issuer, "?holder=50%25_"),
        vec![serial(&other)],
        "% and _ in the holder term match themselves"
    );
    assert!(serials(&service, &issuer, "?holder=%25").len() == 1);
    assert_eq!(
        serials(&service, &issuer, "?credit_code=91410700MA9H2DRW9H"),
        {
            let mut both = vec![serial(&permit), serial(&other)];
            both.sort();
            both
        }
    );
    assert_eq!(
        serials(&service, &issuer, "?template=construction-planning-permit"),
        vec![serial(&permit)]
    );
    // Today (the bureau's day) holds all three; yesterday none.
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
        .date();
    let day = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    assert_eq!(
        serials(
            &service,
            &issuer,
            &format!("?from={}&until={}", day(today), day(today))
        ),
        all
    );
    let yesterday = today.previous_day().unwrap();
    assert!(serials(&service, &issuer, &format!("?until={}", day(yesterday))).is_empty());
    assert_eq!(serials(&service, &issuer, "?limit=1").len(), 1);

    // Bad terms are refused in the one error shape.
    for bad in ["?from=2026-13-01", "?limit=x", "?colour=red"] {
        let response = service.get(&format!("/api/v1/certificates{bad}"), Some(&issuer));
        assert_eq!(response.status(), 400, "{bad}");
        let body: Value = response.json().unwrap();
        assert!(body["error"]["code"].is_string(), "{bad}: {body}");
    }
}
