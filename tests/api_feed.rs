//! The results feed (审批结果推送, 监管抄告) and its webhooks, end to end on a real server, on
//! SQLite and PostgreSQL: the feed agrees with what happened (order, paging, who sees what), and
//! webhook deliveries, checked by a receiver in Python (tests/tools/webhook_receiver.py, whose
//! HMAC is Python's own), survive a receiver that is down and a kill -9 of the service: every
//! event up to the head arrives, in order, at least once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::service::{Database, Service, expect_error};
use common::webhooks::{Receiver, delivered_ids, subscribe};
use serde_json::{Value, json};

both_databases! {
    the_feed_is_ordered_paged_and_shows_each_department_its_own => feed_order_paging_roles;
    webhook_delivery_survives_a_receiver_that_is_down_for_a_while => receiver_down_for_a_while;
    nothing_is_lost_when_the_service_is_killed_while_the_receiver_is_down => killed_while_down;
    webhooks_are_checked_admin_only_secret_once_and_removable => subscribers;
}

const FOOD: &str = "food-business-licence";
const FOOD_DEPARTMENT: &str = "市场监督管理局";
const APPROVAL: &str = "approval-document";
const APPROVAL_DEPARTMENT: &str = "发展和改革局";
/// The departments whose sign-off approval-document needs; the last one's seals it.
const SIGN_OFF_DEPARTMENTS: [&str; 3] = ["自然资源和规划局", "住房和城乡建设局", "生态环境分局"];
/// Retries at most a second apart, so a receiver's recovery is seen within seconds.
const FAST_RETRIES: &[(&str, &str)] = &[("ONESEAL_WEBHOOK_MAX_BACKOFF_SECONDS", "1")];

/// Issued and revoked certificates appear in the feed in the order they happened; paging by
/// `next` reads the same events; admins and auditors see all, a department or reviewer only its
/// own department's, an issuer nothing (403).
fn feed_order_paging_roles(database: Database) {
    let service = Service::start(database);
    service.install_template(FOOD, FOOD_DEPARTMENT);
    service.install_template(APPROVAL, APPROVAL_DEPARTMENT);
    let issuer = service.token("issuer", None, "窗口");
    let admin = service.token("admin", None, "管理员");
    let auditor = service.token("auditor", None, "审计");
    let food = service.token("department", Some(FOOD_DEPARTMENT), "市场监管");
    let food_reviewer = service.token("reviewer", Some(FOOD_DEPARTMENT), "市场监管 审核");
    let approval = service.token("department", Some(APPROVAL_DEPARTMENT), "发改");
    let stranger = service.token("department", Some("市容环境卫生管理局"), "市容");
    let reviewers = sign_off_reviewers(&service);

    assert_eq!(
        feed(&service, &admin, 100),
        Vec::<Value>::new(),
        "a new registry's feed is empty"
    );
    let mut happened = Vec::new();
    for template in [FOOD, APPROVAL, FOOD, FOOD, APPROVAL] {
        let serial = match template {
            FOOD => issue(&service, &issuer, FOOD),
            _ => issue_after_sign_off(&service, &issuer, &reviewers),
        };
        happened.push(("certificate.issued", serial));
    }
    let revoked = happened[2].1.clone();
    revoke(&service, &admin, &revoked);
    happened.push(("certificate.revoked", revoked));

    let all = feed(&service, &admin, 100);
    let seen: Vec<(&str, String)> = all
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(seen, happened, "the feed is what happened, in order");
    let ids: Vec<i64> = all.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    for event in &all {
        assert!(event["time"].as_str().unwrap().ends_with('Z'), "{event}");
        assert!(event["data"].is_object(), "{event}");
    }
    // Each id is the audit entry that recorded it.
    let trail: Value = service
        .get("/api/v1/audit?limit=1000", Some(&auditor))
        .json()
        .unwrap();
    for event in &all {
        let entry = trail["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|entry| entry["sequence"] == event["id"])
            .unwrap_or_else(|| panic!("no audit entry {}", event["id"]));
        assert_eq!(entry["action"], event["kind"], "{entry} vs {event}");
    }

    assert_eq!(
        feed(&service, &admin, 2),
        all,
        "paging by `next` reads the same"
    );
    assert_eq!(feed(&service, &auditor, 4), all);
    let last = *ids.last().unwrap();
    let end: Value = service
        .get(&format!("/api/v1/events?after={last}"), Some(&admin))
        .json()
        .unwrap();
    assert_eq!(end, json!({ "events": [], "next": last }), "at the head");

    let of = |department: &str| -> Vec<Value> {
        all.iter()
            .filter(|e| {
                e["departments"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(department))
            })
            .cloned()
            .collect()
    };
    assert_eq!(of(FOOD_DEPARTMENT).len(), 4);
    assert_eq!(feed(&service, &food, 1), of(FOOD_DEPARTMENT));
    assert_eq!(feed(&service, &food_reviewer, 100), of(FOOD_DEPARTMENT));
    assert_eq!(feed(&service, &approval, 100), of(APPROVAL_DEPARTMENT));
    assert_eq!(of(APPROVAL_DEPARTMENT).len(), 2);
    // A department whose sign-off the licence needed is told of it too.
    assert_eq!(feed(&service, &reviewers[1], 100), of(APPROVAL_DEPARTMENT));
    assert_eq!(feed(&service, &stranger, 100), Vec::<Value>::new());
    expect_error(
        service.get("/api/v1/events", Some(&issuer)),
        403,
        "auth.forbidden",
    );
    expect_error(
        service.get("/api/v1/events", None),
        401,
        "auth.unauthenticated",
    );
    expect_error(
        service.get("/api/v1/events?after=soon", Some(&admin)),
        400,
        "request.invalid",
    );
}

/// Deliveries to a receiver that answers 503 are retried with backoff (spaced, not hammered);
/// once it is back, every event arrives in order with a signature Python's hmac accepts. A
/// subscriber for one kind gets only that kind; one for a department only its events.
fn receiver_down_for_a_while(database: Database) {
    let service = Service::start_with(database, FAST_RETRIES);
    service.install_template(FOOD, FOOD_DEPARTMENT);
    service.install_template(APPROVAL, APPROVAL_DEPARTMENT);
    let issuer = service.token("issuer", None, "窗口");
    let admin = service.token("admin", None, "管理员");
    let reviewers = sign_off_reviewers(&service);
    let receiver = Receiver::start();
    let all = subscribe(&service, &admin, &receiver, "/all", json!({}));
    let revocations = subscribe(
        &service,
        &admin,
        &receiver,
        "/revoked",
        json!({ "kinds": ["certificate.revoked"] }),
    );
    subscribe(
        &service,
        &admin,
        &receiver,
        "/approval",
        json!({ "department": APPROVAL_DEPARTMENT }),
    );
    assert_ne!(all, revocations);

    let first = issue(&service, &issuer, FOOD);
    receiver.wait_delivered("/all", 1);
    receiver.set_down(true);
    let mut serials = vec![first];
    serials.push(issue(&service, &issuer, FOOD));
    serials.push(issue_after_sign_off(&service, &issuer, &reviewers));
    serials.push(issue(&service, &issuer, FOOD));
    revoke(&service, &admin, &serials[2]);
    // Refused at least three times, each after a wait: retried with backoff, not dropped.
    let refused = receiver.wait_for("three refused attempts", |received| {
        received
            .iter()
            .filter(|r| r["path"] == "/all" && r["status"] == 503)
            .count()
            >= 3
    });
    let attempts: Vec<&Value> = refused
        .iter()
        .filter(|r| r["path"] == "/all" && r["status"] == 503)
        .collect();
    assert!(
        attempts.iter().all(|r| r["id"] == attempts[0]["id"]),
        "only the oldest undelivered event is tried while the receiver is down: {attempts:?}"
    );
    for pair in attempts.windows(2) {
        let gap = pair[1]["at"].as_f64().unwrap() - pair[0]["at"].as_f64().unwrap();
        assert!(gap >= 0.5, "retried after {gap:.2} s: {attempts:?}");
    }
    let listed: Value = service
        .get("/api/v1/webhooks", Some(&admin))
        .json()
        .unwrap();
    let status = listed["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == all.as_str())
        .unwrap()["delivery"]
        .clone();
    assert!(status["attempts"].as_i64().unwrap() >= 1, "{status}");
    assert_eq!(
        status["last_error"], "the receiver answered 503",
        "{status}"
    );

    receiver.set_down(false);
    let events = feed(&service, &admin, 100);
    assert_eq!(events.len(), 5, "{events:?}");
    receiver.wait_delivered("/all", events.len());
    receiver.wait_delivered("/approval", 1);
    receiver.wait_delivered("/revoked", 1);
    let received = receiver.received();
    assert_eq!(delivered_ids(&received, "/all"), ids(&events));
    let revoked_only: Vec<i64> = ids(&events)
        .into_iter()
        .zip(&events)
        .filter(|(_, e)| e["kind"] == "certificate.revoked")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(delivered_ids(&received, "/revoked"), revoked_only);
    let approval_only: Vec<i64> = ids(&events)
        .into_iter()
        .zip(&events)
        .filter(|(_, e)| {
            e["departments"]
                .as_array()
                .unwrap()
                .contains(&json!(APPROVAL_DEPARTMENT))
        })
        .map(|(id, _)| id)
        .collect();
    assert_eq!(delivered_ids(&received, "/approval"), approval_only);
    assert_eq!(approval_only.len(), 2, "issued and revoked: {events:?}");
    assert!(
        received
            .iter()
            .all(|r| r["signature_ok"] == true && r["consistent"] == true),
        "every delivery verifies and its headers match its body: {received:?}"
    );
    // Caught up: no attempts pending, the error cleared.
    let listed: Value = service
        .get("/api/v1/webhooks", Some(&admin))
        .json()
        .unwrap();
    for webhook in listed["webhooks"].as_array().unwrap() {
        let delivery = &webhook["delivery"];
        assert_eq!(delivery["attempts"], 0, "{webhook}");
        assert_eq!(delivery["last_error"], Value::Null, "{webhook}");
        assert_eq!(
            delivery["delivered_through"].as_i64().unwrap(),
            *ids(&events).last().unwrap(),
            "{webhook}"
        );
    }
}

/// kill -9 while the receiver is down, restart, more events, receiver back: every event up to
/// the head is delivered at least once and in order (first arrivals), none lost.
fn killed_while_down(database: Database) {
    let mut service = Service::start_with(database, FAST_RETRIES);
    service.install_template(FOOD, FOOD_DEPARTMENT);
    let issuer = service.token("issuer", None, "窗口");
    let admin = service.token("admin", None, "管理员");
    let receiver = Receiver::start();
    subscribe(&service, &admin, &receiver, "/all", json!({}));
    issue(&service, &issuer, FOOD);
    receiver.wait_delivered("/all", 1);

    receiver.set_down(true);
    let serials: Vec<String> = (0..3).map(|_| issue(&service, &issuer, FOOD)).collect();
    revoke(&service, &admin, &serials[0]);
    receiver.wait_for("a refused attempt", |received| {
        received.iter().any(|r| r["status"] == 503)
    });
    service.kill9();
    service.restart();
    issue(&service, &issuer, FOOD);
    receiver.wait_for("a refused attempt after the restart", |received| {
        received.iter().filter(|r| r["status"] == 503).count() >= 3
    });
    receiver.set_down(false);

    let events = feed(&service, &admin, 100);
    assert_eq!(events.len(), 6, "{events:?}");
    receiver.wait_delivered("/all", events.len());
    let received = receiver.received();
    assert_eq!(
        delivered_ids(&received, "/all"),
        ids(&events),
        "every event up to the head, in order"
    );
    assert!(
        received.iter().all(|r| r["signature_ok"] == true),
        "{received:?}"
    );
}

/// Only admins manage subscribers; a bad URL is a clear 400; the secret is shown once, never
/// listed, logged or audited; removal is audited and stops delivery.
fn subscribers(database: Database) {
    let service = Service::start_with(database, FAST_RETRIES);
    service.install_template(FOOD, FOOD_DEPARTMENT);
    let issuer = service.token("issuer", None, "窗口");
    let admin = service.token("admin", None, "管理员");
    let auditor = service.token("auditor", None, "审计");

    for (url, names) in [
        ("ftp://example.com/hook", "http or https"),
        ("https://user:password@example.com/hook", "credentials"),
        ("/relative/hook", "absolute"),
        ("https://exa mple.com/hook", "spaces"),
    ] {
        let error = expect_error(
            service.post_json(
                "/api/v1/webhooks",
                Some(&admin),
                &json!({ "name": "坏地址", "url": url }),
            ),
            400,
            "webhook.invalid",
        );
        assert!(
            error["message"].as_str().unwrap().contains(names),
            "{url}: {error}"
        );
    }
    let long = format!("https://example.com/{}", "a".repeat(2000));
    let error = expect_error(
        service.post_json(
            "/api/v1/webhooks",
            Some(&admin),
            &json!({ "name": "长", "url": long }),
        ),
        400,
        "webhook.invalid",
    );
    assert!(
        error["message"].as_str().unwrap().contains("2000"),
        "{error}"
    );
    let error = expect_error(
        service.post_json(
            "/api/v1/webhooks",
            Some(&admin),
            &json!({ "name": "未知", "url": "https://example.com/", "kinds": ["certificate.lost"] }),
        ),
        400,
        "webhook.invalid",
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("certificate.issued"),
        "{error}"
    );
    for role in [&issuer, &auditor] {
        expect_error(
            service.post_json(
                "/api/v1/webhooks",
                Some(role),
                &json!({ "name": "x", "url": "https://example.com/" }),
            ),
            403,
            "auth.forbidden",
        );
        expect_error(
            service.get("/api/v1/webhooks", Some(role)),
            403,
            "auth.forbidden",
        );
    }

    let receiver = Receiver::start();
    let created = service.post_json(
        "/api/v1/webhooks",
        Some(&admin),
        &json!({ "name": "监管抄告", "url": format!("{}/all", receiver.url) }),
    );
    assert_eq!(created.status(), 201);
    let created: Value = created.json().unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 6 + 43,
        "{created}"
    );
    receiver.set_secret("/all", &secret);
    let id = created["webhook"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        created["webhook"]["kinds"].as_array().unwrap().len(),
        6,
        "every kind by default: {created}"
    );

    issue(&service, &issuer, FOOD);
    receiver.wait_delivered("/all", 1);
    let listed = service
        .get("/api/v1/webhooks", Some(&admin))
        .text()
        .unwrap();
    assert!(listed.contains(&id), "{listed}");
    assert!(
        !listed.contains(&secret) && !listed.contains("whsec_"),
        "{listed}"
    );

    let remove = format!("/api/v1/webhooks/{id}/remove");
    expect_error(
        service.post_json(&remove, Some(&auditor), &json!({})),
        403,
        "auth.forbidden",
    );
    assert_eq!(
        service
            .post_json(&remove, Some(&admin), &json!({}))
            .status(),
        204
    );
    expect_error(
        service.post_json(&remove, Some(&admin), &json!({})),
        409,
        "conflict",
    );
    expect_error(
        service.post_json(
            "/api/v1/webhooks/0123456789abcdef/remove",
            Some(&admin),
            &json!({}),
        ),
        404,
        "not_found",
    );
    let listed: Value = service
        .get("/api/v1/webhooks", Some(&admin))
        .json()
        .unwrap();
    assert_eq!(listed["webhooks"], json!([]), "{listed}");

    issue(&service, &issuer, FOOD);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        delivered_ids(&receiver.received(), "/all").len(),
        1,
        "nothing is sent after the removal"
    );

    let trail = service
        .get("/api/v1/audit?limit=1000", Some(&auditor))
        .text()
        .unwrap();
    assert!(
        trail.contains("webhook.created") && trail.contains("webhook.removed"),
        "{trail}"
    );
    assert!(
        !trail.contains(&secret),
        "the secret is not in the audit trail"
    );
    assert!(
        !service.logs().contains(&secret),
        "the secret is not logged"
    );
}

fn ids(events: &[Value]) -> Vec<i64> {
    events.iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

/// Every event the caller may see, read `page` at a time by following `next`.
fn feed(service: &Service, token: &str, page: usize) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let response = service.get(
            &format!("/api/v1/events?after={after}&limit={page}"),
            Some(token),
        );
        assert_eq!(response.status(), 200);
        let body: Value = response.json().unwrap();
        let got = body["events"].as_array().unwrap().clone();
        let next = body["next"].as_i64().unwrap();
        if got.is_empty() {
            assert_eq!(next, after, "{body}");
            return events;
        }
        assert!(got.len() <= page);
        assert_eq!(next, got.last().unwrap()["id"].as_i64().unwrap(), "{body}");
        events.extend(got);
        after = next;
    }
}

fn issue(service: &Service, issuer: &str, template: &str) -> String {
    let issued = service.issue_example(issuer, template);
    assert_eq!(issued.status(), 201, "{:?}", issued.text());
    issued.json::<Value>().unwrap()["serial"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A reviewer token for each department approval-document needs.
fn sign_off_reviewers(service: &Service) -> Vec<String> {
    SIGN_OFF_DEPARTMENTS
        .iter()
        .map(|department| service.token("reviewer", Some(department), department))
        .collect()
}

/// An approval-document through its issuance request: opened by `issuer`, approved by every
/// reviewer, sealed automatically by the last approval. Returns its serial.
fn issue_after_sign_off(service: &Service, issuer: &str, reviewers: &[String]) -> String {
    let opened = service.post_json(
        "/api/v1/requests",
        Some(issuer),
        &json!({ "template": APPROVAL, "data": Service::example_data(APPROVAL) }),
    );
    assert_eq!(opened.status(), 201, "{:?}", opened.text());
    let id = opened.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for reviewer in reviewers {
        let decided = service.post_json(
            &format!("/api/v1/requests/{id}/sign-off"),
            Some(reviewer),
            &json!({ "decision": "approve", "comment": "同意" }),
        );
        assert_eq!(decided.status(), 200, "{:?}", decided.text());
    }
    let done: Value = service
        .get(&format!("/api/v1/requests/{id}"), Some(issuer))
        .json()
        .unwrap();
    assert_eq!(done["status"], "issued", "{done}");
    done["serial"].as_str().unwrap().to_string()
}

fn revoke(service: &Service, admin: &str, serial: &str) {
    let revoked = service.post_json(
        &format!("/api/v1/certificates/{serial}/revoke"),
        Some(admin),
        &json!({ "reason": "许可事项注销" }),
    );
    assert_eq!(revoked.status(), 200, "{:?}", revoked.text());
}
