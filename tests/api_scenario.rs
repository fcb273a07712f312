//! Issue 6 as it will be checked: an intake clerk and the reviewers of two departments drive
//! requests through the API at once, on a holiday calendar, with a 容缺 case whose deadline
//! passes, a blacklisted applicant, and a webhook receiver that fails and recovers. At the end
//! the efficiency report, the feed and what the receiver got must agree with what happened.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};

use common::service::{Database, Service, bundle_parts, bureau_day, day_text, expect_error};
use common::webhooks::{Receiver, delivered_ids, subscribe};
use serde_json::{Value, json};
use time::{Date, Duration, Weekday};

/// A permit needing two departments' sign-off, sealed as soon as both approve.
const JOINT: &str = "joint-planning-permit";
const OWNER: &str = "自然资源和规划局";
const HOUSING: &str = "住房和城乡建设局";
const ECOLOGY: &str = "生态环境分局";
const FOOD: &str = "food-business-licence";
const BARRED_CODE: &str = "91410700MA9H2DRW9H";

/// The joint permit: the shipped construction permit with a second department and an automatic
/// seal, uploaded by its department and approved.
fn install_joint_permit(service: &Service) {
    let department = service.token("department", Some(OWNER), "规划局 科室");
    let admin = service.token("admin", None, "审批局 管理员");
    let parts: Vec<(&str, Vec<u8>)> = bundle_parts("construction-planning-permit")
        .into_iter()
        .map(|(name, bytes)| {
            if name != "template.toml" {
                return (name, bytes);
            }
            let text = String::from_utf8(bytes).unwrap();
            let text = text
                .replace(
                    "id = \"construction-planning-permit\"",
                    &format!("id = \"{JOINT}\""),
                )
                .replace(
                    "sign_off = [\"住房和城乡建设局\"]",
                    "sign_off = [\"住房和城乡建设局\", \"生态环境分局\"]",
                )
                .replace(
                    "seal_after_sign_off = \"issuer\"",
                    "seal_after_sign_off = \"automatic\"",
                );
            assert!(text.contains(JOINT) && text.contains(ECOLOGY) && text.contains("automatic"));
            (name, text.into_bytes())
        })
        .collect();
    let uploaded = service.upload_parts(Some(&department), &parts);
    assert_eq!(uploaded.status(), 201, "{:?}", uploaded.text());
    let version = uploaded.json::<Value>().unwrap()["version"]
        .as_i64()
        .unwrap();
    let approved = service.post_json(
        &format!("/api/v1/templates/{JOINT}/versions/{version}/approve"),
        Some(&admin),
        &json!({}),
    );
    assert_eq!(approved.status(), 200, "{:?}", approved.text());
}

fn open(service: &Service, token: &str, body: Value) -> Value {
    let opened = service.post_json("/api/v1/requests", Some(token), &body);
    assert_eq!(opened.status(), 201, "{:?}", opened.text());
    opened.json().unwrap()
}

fn sign_off(service: &Service, token: &str, id: &str, decision: &str, comment: &str) -> Value {
    let answer = service.post_json(
        &format!("/api/v1/requests/{id}/sign-off"),
        Some(token),
        &json!({ "decision": decision, "comment": comment }),
    );
    assert_eq!(answer.status(), 200, "{:?}", answer.text());
    answer.json().unwrap()
}

/// Every event of the feed, following `next`.
fn feed(service: &Service, token: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let page: Value = service
            .get(
                &format!("/api/v1/events?after={after}&limit=100"),
                Some(token),
            )
            .json()
            .unwrap();
        let batch = page["events"].as_array().unwrap().clone();
        if batch.is_empty() {
            return events;
        }
        after = page["next"].as_i64().unwrap();
        events.extend(batch);
    }
}

fn kinds(events: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut kinds: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for event in events {
        kinds
            .entry(event["kind"].as_str().unwrap().to_string())
            .or_default()
            .push(event["subject"].as_str().unwrap().to_string());
    }
    kinds
}

/// The `n`th working day after `start`, with `holidays` off: an independent count.
fn working_day_after(start: Date, n: u32, holidays: &[Date]) -> Date {
    let mut date = start;
    let mut left = n;
    while left > 0 {
        date = date.next_day().unwrap();
        let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
        if !weekend && !holidays.contains(&date) {
            left -= 1;
        }
    }
    date
}

#[test]
fn the_report_the_feed_and_the_receiver_agree_with_what_happened() {
    let service = Service::start_with(
        Database::Postgres,
        &[
            ("ONESEAL_WEBHOOK_MAX_BACKOFF_SECONDS", "1"),
            ("ONESEAL_SWEEP_INTERVAL_SECONDS", "1"),
        ],
    );
    install_joint_permit(&service);
    service.install_template(FOOD, "市场监督管理局");
    let admin = service.token("admin", None, "审批局 管理员 2");
    let auditor = service.token("auditor", None, "审计");
    let clerk = service.token("issuer", None, "窗口 受理员 陈静");
    let housing = service.token("reviewer", Some(HOUSING), "住建 审查员 刘洋");
    let ecology = service.token("reviewer", Some(ECOLOGY), "生态 审查员 孙丽");

    // The receiver is down from the start; the subscriber is made before anything happens.
    let receiver = Receiver::start();
    receiver.set_down(true);
    subscribe(&service, &admin, &receiver, "/supervision", json!({}));

    // A holiday calendar: the next two weekdays are off.
    let today = bureau_day(0);
    let holidays: Vec<Date> = (1..10)
        .map(|n| today + Duration::days(n))
        .filter(|d| !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday))
        .take(2)
        .collect();
    for holiday in &holidays {
        let set = service.request(
            reqwest::Method::PUT,
            &format!("/api/v1/calendar/{}", day_text(*holiday)),
            Some(&admin),
        );
        let set = set
            .json(&json!({ "kind": "holiday", "name": "节假日" }))
            .send()
            .unwrap();
        assert_eq!(set.status(), 200, "{:?}", set.text());
    }

    // A: the clerk opens a joint permit; both departments approve at the same instant.
    let joint = |service: &Service| {
        open(
            service,
            &clerk,
            json!({ "template": JOINT, "data": Service::example_data("construction-planning-permit") }),
        )
    };
    let a = joint(&service);
    let a_id = a["id"].as_str().unwrap().to_string();
    let due = working_day_after(today, 10, &holidays);
    // 24:00 China Standard Time is 16:00 UTC the same day.
    assert_eq!(
        a["deadline"],
        format!("{}T16:00:00Z", day_text(due)),
        "the deadline is the end of the 10th working day after today, holidays off"
    );
    let service_arc = Arc::new(service);
    let barrier = Arc::new(Barrier::new(2));
    let answers: Vec<Value> = [housing.clone(), ecology.clone()]
        .into_iter()
        .map(|token| {
            let (service, barrier, id) =
                (Arc::clone(&service_arc), Arc::clone(&barrier), a_id.clone());
            std::thread::spawn(move || {
                barrier.wait();
                sign_off(&service, &token, &id, "approve", "同意")
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect();
    let mut service = Arc::try_unwrap(service_arc).unwrap_or_else(|_| panic!("threads done"));
    let sealed: Vec<&Value> = answers
        .iter()
        .filter(|answer| !answer["certificate"].is_null())
        .collect();
    assert_eq!(sealed.len(), 1, "exactly one seal: {answers:#?}");
    let a_serial = sealed[0]["certificate"]["serial"]
        .as_str()
        .unwrap()
        .to_string();

    // B: a 容缺 food licence, one material owed against a signed commitment.
    let b = open(
        &service,
        &clerk,
        json!({
            "template": FOOD,
            "data": Service::example_data(FOOD),
            "missing_materials": ["从业人员健康证明"],
            "commitment": { "signatory": "王建国", "signed_on": day_text(today), "reference": "XC-001" },
        }),
    );
    let b_id = b["id"].as_str().unwrap().to_string();
    let sealed = service.post_json(
        &format!("/api/v1/requests/{b_id}/seal"),
        Some(&clerk),
        &json!({}),
    );
    assert_eq!(sealed.status(), 201, "{:?}", sealed.text());
    let b_serial = sealed.json::<Value>().unwrap()["serial"]
        .as_str()
        .unwrap()
        .to_string();

    // C: a blacklisted applicant cannot take the 容缺 path.
    let listed = service.post_json(
        "/api/v1/blacklist",
        Some(&admin),
        &json!({ "credit_code": BARRED_CODE, "name": "新乡市某食品有限公司", "reason": "虚假承诺" }),
    );
    assert_eq!(listed.status(), 201, "{:?}", listed.text());
    let mut barred = Service::example_data(FOOD);
    barred["credit_code"] = json!(BARRED_CODE);
    let refused = service.post_json(
        "/api/v1/requests",
        Some(&clerk),
        &json!({
            "template": FOOD,
            "data": barred,
            "missing_materials": ["从业人员健康证明"],
            "commitment": { "signatory": "李四", "signed_on": day_text(today) },
        }),
    );
    let refusal = expect_error(refused, 409, "request.applicant_barred");
    assert!(refusal["message"].as_str().unwrap().contains("虚假承诺"));

    // D: housing rejects a joint permit with its reasons. E: one is left open.
    let d_id = joint(&service)["id"].as_str().unwrap().to_string();
    let rejected = sign_off(&service, &housing, &d_id, "reject", "规划条件不符");
    assert_eq!(rejected["request"]["status"], "rejected");
    let e_id = joint(&service)["id"].as_str().unwrap().to_string();
    sign_off(&service, &ecology, &e_id, "approve", "同意");

    // Sixty days later (the development clock): E is overdue, B's commitment missed.
    service.env.push((
        "ONESEAL_CLOCK_OFFSET_SECONDS".into(),
        (60 * 86_400).to_string(),
    ));
    service.restart();
    let wait = std::time::Instant::now();
    let events = loop {
        let events = feed(&service, &auditor);
        let kinds = kinds(&events);
        if kinds.contains_key("request.overdue") && kinds.contains_key("commitment.missed") {
            break events;
        }
        assert!(
            wait.elapsed() < std::time::Duration::from_secs(30),
            "the sweep flagged nothing: {kinds:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let kinds = kinds(&events);
    let mut issued = kinds["certificate.issued"].clone();
    issued.sort();
    let mut expected_issued = vec![a_serial.clone(), b_serial.clone()];
    expected_issued.sort();
    assert_eq!(issued, expected_issued);
    assert_eq!(kinds["request.rejected"], vec![d_id.clone()]);
    assert_eq!(kinds["request.overdue"], vec![e_id.clone()]);
    assert_eq!(kinds["commitment.missed"], vec![b_serial.clone()]);
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    let applicant: Value = service
        .get(
            &format!(
                "/api/v1/applicants/{}",
                Service::example_data(FOOD)["credit_code"].as_str().unwrap()
            ),
            Some(&admin),
        )
        .json()
        .unwrap();
    assert_eq!(applicant["barred"], true, "{applicant}");

    // The receiver recovers: it gets every event, in order, each signature checked by Python.
    receiver.set_down(false);
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    receiver.wait_delivered("/supervision", ids.len());
    assert_eq!(delivered_ids(&receiver.received(), "/supervision"), ids);
    assert!(
        receiver
            .received()
            .iter()
            .filter(|r| r["status"] == 200)
            .all(|r| r["signature_ok"] == true),
        "every accepted delivery was signed right"
    );

    // The report over the days the requests were opened agrees with the feed.
    let report: Value = service
        .get(
            &format!(
                "/api/v1/reports/efficiency?from={}&until={}",
                day_text(today - Duration::days(1)),
                day_text(today + Duration::days(1))
            ),
            Some(&auditor),
        )
        .json()
        .unwrap();
    let row = |scope: &str, key: &str| -> Value {
        report[scope]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == key)
            .unwrap_or_else(|| panic!("no {scope} row {key}: {report}"))
            .clone()
    };
    let joint_row = row("templates", JOINT);
    let food_row = row("templates", FOOD);
    for (name, row, counts) in [
        ("joint", &joint_row, [3, 1, 1, 1, 1, 0]),
        ("food", &food_row, [1, 1, 0, 0, 0, 1]),
    ] {
        let got: Vec<i64> = [
            "requests",
            "issued",
            "rejected",
            "open",
            "overdue",
            "commitments_missed",
        ]
        .iter()
        .map(|key| row[key].as_i64().unwrap())
        .collect();
        assert_eq!(got, counts, "{name}: {row}");
    }
    let total = |key: &str| joint_row[key].as_i64().unwrap() + food_row[key].as_i64().unwrap();
    assert_eq!(total("issued"), kinds["certificate.issued"].len() as i64);
    assert_eq!(total("rejected"), kinds["request.rejected"].len() as i64);
    assert_eq!(total("overdue"), kinds["request.overdue"].len() as i64);
    assert_eq!(
        total("commitments_missed"),
        kinds["commitment.missed"].len() as i64
    );
    let housing_row = row("departments", HOUSING);
    assert_eq!(housing_row["sign_offs"], 2, "{housing_row}");
    assert_eq!(housing_row["sign_offs_rejected"], 1, "{housing_row}");
    let ecology_row = row("departments", ECOLOGY);
    assert_eq!(ecology_row["sign_offs"], 2, "{ecology_row}");
    assert_eq!(ecology_row["overdue"], 1, "{ecology_row}");

    // Who signed off is on the licence's record, and the trail is whole.
    let certificate: Value = service
        .get(&format!("/api/v1/certificates/{a_serial}"), Some(&admin))
        .json()
        .unwrap();
    let reviewers: Vec<&str> = certificate["sign_offs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reviewer"].as_str().unwrap())
        .collect();
    assert!(
        reviewers.iter().any(|r| r.contains("刘洋"))
            && reviewers.iter().any(|r| r.contains("孙丽"))
    );
    let whole: Value = service
        .get("/api/v1/audit/verify", Some(&auditor))
        .json()
        .unwrap();
    assert_eq!(whole["whole"], true);
}
