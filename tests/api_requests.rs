//! Issuance requests end to end on a real `oneseal serve`: departments sign off in parallel,
//! the seal is applied exactly once, who did what is in the registry and the trail, reviewers
//! see only their department's cases, whoever opened a case cannot sign it off, a rejection
//! closes it, and a stop at any point loses nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::{Arc, Barrier};

use common::service::{Database, Service, expect_error, token_id};
use serde_json::{Value, json};

both_databases! {
    parallel_sign_off_seals_exactly_once => parallel_sign_off_seals_exactly_once;
    a_stop_at_any_point_of_a_request_loses_nothing => a_stop_at_any_point_of_a_request_loses_nothing;
}

/// The three departments approval-document needs, and its own.
const DEPARTMENTS: [&str; 3] = ["自然资源和规划局", "住房和城乡建设局", "生态环境分局"];
const OWNER: &str = "发展和改革局";

fn open(service: &Service, issuer: &str, template: &str) -> Value {
    let opened = service.post_json(
        "/api/v1/requests",
        Some(issuer),
        &json!({ "template": template, "data": Service::example_data(template) }),
    );
    assert_eq!(opened.status(), 201, "{:?}", opened.text());
    opened.json().unwrap()
}

fn decide(service: &Service, reviewer: &str, id: &str, decision: &str, comment: &str) -> Value {
    let decided = service.post_json(
        &format!("/api/v1/requests/{id}/sign-off"),
        Some(reviewer),
        &json!({ "decision": decision, "comment": comment }),
    );
    assert_eq!(decided.status(), 200, "{:?}", decided.text());
    decided.json().unwrap()
}

fn request(service: &Service, token: &str, id: &str) -> Value {
    let found = service.get(&format!("/api/v1/requests/{id}"), Some(token));
    assert_eq!(found.status(), 200, "{:?}", found.text());
    found.json().unwrap()
}

/// Every audit entry, oldest first.
fn trail(service: &Service, auditor: &str) -> Vec<Value> {
    let body: Value = service
        .get("/api/v1/audit?limit=1000", Some(auditor))
        .json()
        .unwrap();
    body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let mut entry = entry.clone();
            entry["details"] = serde_json::from_str(entry["details"].as_str().unwrap()).unwrap();
            entry
        })
        .collect()
}

fn entries<'a>(trail: &'a [Value], action: &str, subject: &str) -> Vec<&'a Value> {
    trail
        .iter()
        .filter(|e| e["action"] == action && e["subject"] == subject)
        .collect()
}

fn reviewers(service: &Service) -> Vec<String> {
    DEPARTMENTS
        .iter()
        .map(|department| {
            service.token(
                "reviewer",
                Some(department),
                &format!("审查员 {department}"),
            )
        })
        .collect()
}

fn parallel_sign_off_seals_exactly_once(database: Database) {
    let service = Arc::new(Service::start(database));
    service.install_template("approval-document", OWNER);
    let intake = service.token("issuer", None, "窗口 王芳");
    let auditor = service.token("auditor", None, "审计");
    let reviewers = Arc::new(reviewers(&service));

    for round in 0..3 {
        let opened = open(&service, &intake, "approval-document");
        let id = opened["id"].as_str().unwrap().to_string();
        assert_eq!(opened["status"], "review");
        assert_eq!(opened["seal"], "automatic");
        assert_eq!(opened["time_limit_days"], 15);
        assert_eq!(opened["sign_offs"].as_array().unwrap().len(), 3);
        assert!(
            opened["sign_offs"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["decision"] == "pending")
        );
        assert_eq!(opened["time_left"]["overdue"], false);

        // All three departments approve at the same instant.
        let barrier = Arc::new(Barrier::new(DEPARTMENTS.len()));
        let answers: Vec<Value> = (0..DEPARTMENTS.len())
            .map(|index| {
                let (service, reviewers, barrier, id) = (
                    Arc::clone(&service),
                    Arc::clone(&reviewers),
                    Arc::clone(&barrier),
                    id.clone(),
                );
                std::thread::spawn(move || {
                    barrier.wait();
                    decide(&service, &reviewers[index], &id, "approve", "同意")
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .collect();
        let sealed: Vec<&Value> = answers
            .iter()
            .filter(|a| !a["certificate"].is_null())
            .collect();
        assert_eq!(
            sealed.len(),
            1,
            "round {round}: one decision applies the seal: {answers:#?}"
        );
        let serial = sealed[0]["certificate"]["serial"]
            .as_str()
            .unwrap()
            .to_string();

        let done = request(&service, &intake, &id);
        assert_eq!(done["status"], "issued");
        assert_eq!(done["serial"], serial.as_str());
        assert!(done["closed_at"].is_string() && done["time_left"].is_null());

        // The registry says who signed off for each department (谁审查谁签批).
        let certificate: Value = service
            .get(&format!("/api/v1/certificates/{serial}"), Some(&intake))
            .json()
            .unwrap();
        assert_eq!(certificate["request"], id.as_str());
        let sign_offs = certificate["sign_offs"].as_array().unwrap();
        let mut departments: Vec<&str> = sign_offs
            .iter()
            .map(|s| s["department"].as_str().unwrap())
            .collect();
        departments.sort_unstable();
        let mut expected = DEPARTMENTS.to_vec();
        expected.sort_unstable();
        assert_eq!(departments, expected);
        for sign_off in sign_offs {
            assert_eq!(sign_off["decision"], "approved");
            let department = sign_off["department"].as_str().unwrap();
            assert!(
                sign_off["reviewer"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("审查员 {department}")),
                "{sign_off}"
            );
        }

        // The trail: opened by the window, three sign-offs by their reviewers, one seal.
        let trail = trail(&service, &auditor);
        let opened_entries = entries(&trail, "request.opened", &id);
        assert_eq!(opened_entries.len(), 1);
        assert!(
            opened_entries[0]["actor"]
                .as_str()
                .unwrap()
                .contains(token_id(&intake))
        );
        let signed_off = entries(&trail, "request.signed_off", &id);
        assert_eq!(signed_off.len(), 3);
        for (reviewer, department) in reviewers.iter().zip(DEPARTMENTS) {
            assert!(
                signed_off.iter().any(|e| e["actor"]
                    .as_str()
                    .unwrap()
                    .contains(token_id(reviewer))
                    && e["details"]["department"] == department),
                "{department}'s sign-off is not in the trail"
            );
        }
        assert_eq!(entries(&trail, "certificate.signing", &serial).len(), 1);
        let issued = entries(&trail, "certificate.issued", &serial);
        assert_eq!(issued.len(), 1);
        assert_eq!(issued[0]["details"]["request"], id.as_str());
        assert_eq!(issued[0]["actor"], "oneseal:automatic-seal");
    }
    let issued_count = trail(&service, &auditor)
        .iter()
        .filter(|e| e["action"] == "certificate.issued")
        .count();
    assert_eq!(issued_count, 3, "three requests, three seals");

    // The licence is genuine and registered.
    let serial = {
        let body: Value = service
            .get("/api/v1/certificates", Some(&auditor))
            .json()
            .unwrap();
        body["certificates"][0]["serial"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let admin = service.token("admin", None, "管理员");
    let pdf = service
        .get(&format!("/api/v1/certificates/{serial}/pdf"), Some(&admin))
        .bytes()
        .unwrap();
    let verified: Value = service.verify(&pdf).json().unwrap();
    assert_eq!(verified["registry"]["status"], "issued", "{verified}");
    assert!(service.oneseal(&["audit", "verify"]).ok());
}

#[test]
fn an_issuer_applies_the_seal_once_after_sign_off() {
    let service = Arc::new(Service::start(Database::Sqlite));
    service.install_template("construction-planning-permit", "自然资源和规划局");
    let intake = service.token("issuer", None, "窗口 赵敏");
    let issuers: Vec<String> = (0..2)
        .map(|n| service.token("issuer", None, &format!("发证 {n}")))
        .collect();
    let reviewer = service.token("reviewer", Some("住房和城乡建设局"), "住建 审查员");
    let colleague = service.token("reviewer", Some("住房和城乡建设局"), "住建 另一审查员");

    // Nothing skips the sign-off: direct issuance is refused for this template.
    let direct = service.issue_example(&intake, "construction-planning-permit");
    let body = expect_error(direct, 409, "conflict");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("住房和城乡建设局"),
        "{body}"
    );

    let opened = open(&service, &intake, "construction-planning-permit");
    let id = opened["id"].as_str().unwrap().to_string();
    assert_eq!(opened["seal"], "issuer");
    // Not ready yet.
    expect_error(
        service.post_json(
            &format!("/api/v1/requests/{id}/seal"),
            Some(&intake),
            &json!({}),
        ),
        409,
        "conflict",
    );
    let decided = decide(&service, &reviewer, &id, "approve", "符合规划条件");
    assert_eq!(decided["request"]["status"], "ready");
    assert!(decided["certificate"].is_null());
    // The department has answered: a colleague cannot answer again.
    let again = service.post_json(
        &format!("/api/v1/requests/{id}/sign-off"),
        Some(&colleague),
        &json!({ "decision": "reject", "comment": "不同意" }),
    );
    let body = expect_error(again, 409, "conflict");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("already approved"),
        "{body}"
    );

    // Two issuers press "seal" at once: one licence.
    let barrier = Arc::new(Barrier::new(2));
    let statuses: Vec<u16> = issuers
        .iter()
        .cloned()
        .map(|issuer| {
            let (service, barrier, id) = (Arc::clone(&service), Arc::clone(&barrier), id.clone());
            std::thread::spawn(move || {
                barrier.wait();
                service
                    .post_json(
                        &format!("/api/v1/requests/{id}/seal"),
                        Some(&issuer),
                        &json!({}),
                    )
                    .status()
                    .as_u16()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect();
    let mut sorted = statuses.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![201, 409], "{statuses:?}");
    let done = request(&service, &intake, &id);
    assert_eq!(done["status"], "issued");
    let certificates: Value = service
        .get("/api/v1/certificates", Some(&intake))
        .json()
        .unwrap();
    assert_eq!(certificates["certificates"].as_array().unwrap().len(), 1);
}

#[test]
fn reviewers_see_their_own_department_and_cannot_sign_off_their_own_case() {
    let service = Service::start(Database::Sqlite);
    service.install_template("construction-planning-permit", "自然资源和规划局");
    let intake = service.token("issuer", None, "李明");
    let housing = service.token("reviewer", Some("住房和城乡建设局"), "住建 审查员");
    let ecology = service.token("reviewer", Some("生态环境分局"), "生态 审查员");
    let department = service.token("department", Some("自然资源和规划局"), "规划局");
    let opened = open(&service, &intake, "construction-planning-permit");
    let id = opened["id"].as_str().unwrap();

    // Housing sees it; ecology neither finds nor lists it; a department token may not list.
    let listed: Value = service
        .get("/api/v1/requests", Some(&housing))
        .json()
        .unwrap();
    assert_eq!(listed["requests"].as_array().unwrap().len(), 1);
    let listed: Value = service
        .get("/api/v1/requests", Some(&ecology))
        .json()
        .unwrap();
    assert!(listed["requests"].as_array().unwrap().is_empty());
    expect_error(
        service.get(&format!("/api/v1/requests/{id}"), Some(&ecology)),
        404,
        "not_found",
    );
    expect_error(
        service.post_json(
            &format!("/api/v1/requests/{id}/sign-off"),
            Some(&ecology),
            &json!({ "decision": "approve" }),
        ),
        404,
        "not_found",
    );
    expect_error(
        service.get("/api/v1/requests", Some(&department)),
        403,
        "auth.forbidden",
    );
    // An issuer cannot sign off, and a reviewer cannot open or seal.
    expect_error(
        service.post_json(
            &format!("/api/v1/requests/{id}/sign-off"),
            Some(&intake),
            &json!({ "decision": "approve" }),
        ),
        403,
        "auth.forbidden",
    );
    expect_error(
        service.post_json(
            "/api/v1/requests",
            Some(&housing),
            &json!({ "template": "construction-planning-permit", "data": Service::example_data("construction-planning-permit") }),
        ),
        403,
        "auth.forbidden",
    );

    // The clerk who opened the case holds a reviewer token too: separation of duties refuses it.
    let same_person = service.token("reviewer", Some("住房和城乡建设局"), " 李 明 ");
    let refused = service.post_json(
        &format!("/api/v1/requests/{id}/sign-off"),
        Some(&same_person),
        &json!({ "decision": "approve", "comment": "同意" }),
    );
    expect_error(refused, 403, "request.separation_of_duties");
    assert_eq!(
        request(&service, &housing, id)["sign_offs"][0]["decision"],
        "pending"
    );
    // Undecided, a malformed decision and a rejection without reasons are refused.
    expect_error(
        service.post_json(
            &format!("/api/v1/requests/{id}/sign-off"),
            Some(&housing),
            &json!({ "decision": "maybe" }),
        ),
        422,
        "request.invalid",
    );
    expect_error(
        service.post_json(
            &format!("/api/v1/requests/{id}/sign-off"),
            Some(&housing),
            &json!({ "decision": "reject" }),
        ),
        422,
        "request.invalid_comment",
    );
    for bad in ["../etc/passwd", "REQ-20261126-ZZZZZZZZZZ", "REQ-%00"] {
        let found = service.get(&format!("/api/v1/requests/{bad}"), Some(&intake));
        assert!(
            matches!(found.status().as_u16(), 400 | 404),
            "{bad}: {}",
            found.status()
        );
    }
}

#[test]
fn a_rejection_closes_the_request_with_its_reasons() {
    let service = Service::start(Database::Sqlite);
    service.install_template("approval-document", OWNER);
    let intake = service.token("issuer", None, "窗口");
    let auditor = service.token("auditor", None, "审计");
    let reviewers = reviewers(&service);
    let opened = open(&service, &intake, "approval-document");
    let id = opened["id"].as_str().unwrap();

    decide(&service, &reviewers[0], id, "approve", "同意");
    let rejected = decide(
        &service,
        &reviewers[1],
        id,
        "reject",
        "  建筑退线不满足要求。\n请修改后重新申报。 ",
    );
    assert_eq!(rejected["request"]["status"], "rejected");
    assert!(rejected["certificate"].is_null());
    let closed = &rejected["request"];
    assert!(
        closed["closed_by"]
            .as_str()
            .unwrap()
            .contains(token_id(&reviewers[1]))
    );
    let housing = closed["sign_offs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["department"] == DEPARTMENTS[1])
        .unwrap();
    assert_eq!(housing["decision"], "rejected");
    assert_eq!(
        housing["comment"],
        "建筑退线不满足要求。\n请修改后重新申报。"
    );

    // Closed: the third department's decision and the seal are refused; nothing was issued.
    let late = service.post_json(
        &format!("/api/v1/requests/{id}/sign-off"),
        Some(&reviewers[2]),
        &json!({ "decision": "approve" }),
    );
    let body = expect_error(late, 409, "conflict");
    assert!(
        body["message"].as_str().unwrap().contains("rejected"),
        "{body}"
    );
    expect_error(
        service.post_json(
            &format!("/api/v1/requests/{id}/seal"),
            Some(&intake),
            &json!({}),
        ),
        409,
        "conflict",
    );
    let certificates: Value = service
        .get("/api/v1/certificates", Some(&auditor))
        .json()
        .unwrap();
    assert!(certificates["certificates"].as_array().unwrap().is_empty());
    let trail = trail(&service, &auditor);
    let closing = entries(&trail, "request.rejected", id);
    assert_eq!(closing.len(), 1);
    assert_eq!(closing[0]["details"]["department"], DEPARTMENTS[1]);
    assert!(
        closing[0]["details"]["reason"]
            .as_str()
            .unwrap()
            .contains("建筑退线")
    );
    let listed: Value = service
        .get("/api/v1/requests?status=rejected", Some(&auditor))
        .json()
        .unwrap();
    assert_eq!(listed["requests"][0]["id"], id);
}

fn a_stop_at_any_point_of_a_request_loses_nothing(database: Database) {
    let mut service = Service::start(database);
    service.install_template("approval-document", OWNER);
    let intake = service.token("issuer", None, "窗口");
    let reviewers = reviewers(&service);

    // 1. Killed between two sign-offs: the first stands, the rest complete the case.
    let id = open(&service, &intake, "approval-document")["id"]
        .as_str()
        .unwrap()
        .to_string();
    decide(&service, &reviewers[0], &id, "approve", "同意");
    service.kill9();
    service.restart();
    let after = request(&service, &intake, &id);
    assert_eq!(after["status"], "review");
    assert_eq!(
        after["sign_offs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["decision"] == "approved")
            .count(),
        1
    );
    decide(&service, &reviewers[1], &id, "approve", "同意");
    let last = decide(&service, &reviewers[2], &id, "approve", "同意");
    assert_eq!(last["request"]["status"], "issued", "{last}");

    // 2. Killed after the last approval committed but before the seal began (the state is made
    //    in the database: the decision's commit, then nothing): the next start seals it.
    let id = open(&service, &intake, "approval-document")["id"]
        .as_str()
        .unwrap()
        .to_string();
    decide(&service, &reviewers[0], &id, "approve", "同意");
    decide(&service, &reviewers[1], &id, "approve", "同意");
    service.kill9();
    service.sql(&format!(
        "UPDATE sign_offs SET decision = 'approved', reviewer = 'test', decided_at_ms = 1 \
         WHERE request_id = '{id}'"
    ));
    service.sql(&format!(
        "UPDATE requests SET status = 'sealing' WHERE id = '{id}'"
    ));
    service.restart();
    let resumed = wait_for_status(&service, &intake, &id, "issued");
    assert!(resumed["serial"].is_string());

    // 3. The seal's serial reserved and the licence signed, but its record refused: the
    //    reviewer's decision stands (200, with the seal's error), the request stays sealing,
    //    and the next start signs it again under the same serial and completes it.
    let id = open(&service, &intake, "approval-document")["id"]
        .as_str()
        .unwrap()
        .to_string();
    decide(&service, &reviewers[0], &id, "approve", "同意");
    decide(&service, &reviewers[1], &id, "approve", "同意");
    service.refuse_audit_entries("certificate.issued");
    let last = decide(&service, &reviewers[2], &id, "approve", "同意");
    assert!(last["certificate"].is_null(), "{last}");
    assert!(
        last["seal_error"].as_str().unwrap().contains("registry"),
        "{last}"
    );
    assert_eq!(last["request"]["status"], "sealing");
    let reserved = last["request"]["serial"].as_str().unwrap().to_string();
    service.allow_audit_entries();
    service.restart();
    let resumed = wait_for_status(&service, &intake, &id, "issued");
    assert_eq!(
        resumed["serial"],
        reserved.as_str(),
        "the reserved serial is the one used"
    );
    let admin = service.token("admin", None, "管理员");
    let pdf = service
        .get(
            &format!("/api/v1/certificates/{reserved}/pdf"),
            Some(&admin),
        )
        .bytes()
        .unwrap();
    let verified: Value = service.verify(&pdf).json().unwrap();
    assert_eq!(verified["registry"]["status"], "issued", "{verified}");
    let audit = service.oneseal(&["audit", "verify"]);
    assert!(audit.ok(), "{}", audit.describe());
}

fn wait_for_status(service: &Service, token: &str, id: &str, status: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let found = request(service, token, id);
        if found["status"] == status {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{id} stayed {}: {}",
            found["status"],
            service.logs()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// An automatic seal refused by a rule that changed after the approvals (the applicant was
/// listed as dishonest in between) hands the request back to an issuer instead of leaving it
/// sealing for good; once the materials are recorded, the issuer seals it.
#[test]
fn a_refused_automatic_seal_goes_back_to_an_issuer() {
    let mut service = Service::start(Database::Sqlite);
    service.install_template("food-business-licence", "市场监督管理局");
    let clerk = service.token("issuer", None, "窗口");
    let admin = service.token("admin", None, "管理员");
    let auditor = service.token("auditor", None, "审计");
    let data = Service::example_data("food-business-licence");
    let opened = open_with(
        &service,
        &clerk,
        json!({
            "template": "food-business-licence",
            "data": data,
            "missing_materials": ["从业人员健康证明"],
            "commitment": { "signatory": "王建国", "signed_on": "2026-11-26" },
        }),
    );
    let id = opened["id"].as_str().unwrap().to_string();
    let listed = service.post_json(
        "/api/v1/blacklist",
        Some(&admin),
        &json!({ "credit_code": data["credit_code"], "name": "申请人", "reason": "虚假承诺" }),
    );
    assert_eq!(listed.status(), 201);
    // The state an automatic seal leaves after the last approval, cut off by a stop.
    service.kill9();
    service.sql(&format!(
        "UPDATE requests SET status = 'sealing' WHERE id = '{id}'"
    ));
    service.restart();
    let back = wait_for_status(&service, &clerk, &id, "ready");
    assert!(back["serial"].is_null());
    let trail = trail(&service, &auditor);
    let refused = entries(&trail, "request.seal_refused", &id);
    assert_eq!(refused.len(), 1);
    assert!(
        refused[0]["details"]["reason"]
            .as_str()
            .unwrap()
            .contains("虚假承诺")
    );

    // Still barred: the issuer cannot seal it with materials owed.
    expect_error(
        service.post_json(
            &format!("/api/v1/requests/{id}/seal"),
            Some(&clerk),
            &json!({}),
        ),
        409,
        "request.applicant_barred",
    );
    let supplied = service.post_json(
        &format!("/api/v1/requests/{id}/materials"),
        Some(&clerk),
        &json!({ "materials": ["从业人员健康证明"] }),
    );
    assert_eq!(supplied.status(), 200, "{:?}", supplied.text());
    let sealed = service.post_json(
        &format!("/api/v1/requests/{id}/seal"),
        Some(&clerk),
        &json!({}),
    );
    assert_eq!(sealed.status(), 201, "{:?}", sealed.text());
}

fn open_with(service: &Service, issuer: &str, body: Value) -> Value {
    let opened = service.post_json("/api/v1/requests", Some(issuer), &body);
    assert_eq!(opened.status(), 201, "{:?}", opened.text());
    opened.json().unwrap()
}
