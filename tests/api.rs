//! The seal service end to end, on a real server on loopback, on SQLite and on PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::service::{
    Database, Service, bundle_parts, expect_error, issued_pdf, multipart_body, token_id,
};
use serde_json::{Value, json};

both_databases! {
    whole_flow_upload_approve_issue_verify_revoke => whole_flow;
    authorisation_matrix_every_endpoint_every_role => authorisation_matrix;
    audit_trail_records_every_change_and_detects_tampering => audit_trail;
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

/// Who may call an endpoint.
#[derive(Clone, Copy, Debug)]
enum Access {
    /// Anyone, with or without a token (a token, even a bad one, is ignored).
    Public,
    /// A valid token of one of these roles; other roles 403, no or bad token 401.
    Roles(&'static [&'static str]),
}

/// What a request to the endpoint carries (always valid, so the allowed roles must succeed).
#[derive(Clone, Copy, Debug)]
enum Payload {
    Nothing,
    /// The shipped food-business-licence bundle, multipart.
    Bundle,
    /// `{template, data, delivery}` with the shipped example data.
    Issuance,
    /// `{reason}`.
    Reason,
    /// `{role, name}` of a new auditor token.
    NewToken,
    /// An issued licence, `application/pdf`.
    Licence,
    /// `{kind: "holiday", name}` for a calendar day.
    CalendarDay,
    /// A dishonesty-list entry.
    Listing,
    /// A webhook subscriber.
    Webhook,
    /// The development seal's root's CRL, `application/pkix-crl` (`oneseal ca crl`).
    Crl,
    /// A DER TimeStampReq (RFC 3161 §2.4.1) for a SHA-256 imprint.
    TimeStampQuery,
    /// An archive renewal run over every licence.
    Renewal,
}

const EVERY_ROLE: &[&str] = &["department", "reviewer", "issuer", "admin", "auditor"];

/// The authorisation policy as ONE table: method, path, who may call, what the request
/// carries, the success status. Rows run in this order (each row's refused callers first, so a
/// state change happens only once and only by an allowed role). Placeholders: `{template}`,
/// `{pending}` (a version awaiting approval), `{serial}` (an issued certificate), `{revocable}`
/// (another one, revoked by the row that allows it), `{victim}` (a token to revoke), `{ready}`
/// (a request ready for the seal) and `{crl}` (the seal's root's CRL, published by its row).
#[rustfmt::skip]
const MATRIX: &[(&str, &str, Access, Payload, u16)] = &[
    ("POST", "/api/v1/templates", Access::Roles(&["department"]), Payload::Bundle, 201),
    ("GET", "/api/v1/templates", Access::Roles(EVERY_ROLE), Payload::Nothing, 200),
    // The blank, while pending: its own department and the admin (before the approve row).
    ("GET", "/api/v1/templates/{template}/versions/{pending}/template.pdf",
        Access::Roles(&["department", "admin"]), Payload::Nothing, 200),
    ("POST", "/api/v1/templates/{template}/versions/{pending}/approve",
        Access::Roles(&["admin"]), Payload::Nothing, 200),
    ("POST", "/api/v1/certificates", Access::Roles(&["issuer"]), Payload::Issuance, 201),
    ("GET", "/api/v1/certificates", Access::Roles(&["issuer", "admin", "auditor"]),
        Payload::Nothing, 200),
    ("GET", "/api/v1/certificates/{serial}", Access::Roles(&["issuer", "admin", "auditor"]),
        Payload::Nothing, 200),
    ("GET", "/api/v1/certificates/{serial}/pdf", Access::Roles(&["issuer", "admin"]),
        Payload::Nothing, 200),
    ("POST", "/api/v1/certificates/{revocable}/revoke", Access::Roles(&["admin"]),
        Payload::Reason, 200),
    ("GET", "/api/v1/audit", Access::Roles(&["auditor"]), Payload::Nothing, 200),
    ("GET", "/api/v1/audit/verify", Access::Roles(&["auditor"]), Payload::Nothing, 200),
    ("POST", "/api/v1/tokens", Access::Roles(&["admin"]), Payload::NewToken, 201),
    ("GET", "/api/v1/tokens", Access::Roles(&["admin"]), Payload::Nothing, 200),
    ("POST", "/api/v1/tokens/{victim}/revoke", Access::Roles(&["admin"]), Payload::Nothing, 204),
    ("POST", "/api/v1/requests", Access::Roles(&["issuer"]), Payload::Issuance, 201),
    ("GET", "/api/v1/requests", Access::Roles(&["reviewer", "issuer", "admin", "auditor"]),
        Payload::Nothing, 200),
    // A request for a template needing no sign-off is ready at once; only an issuer seals it.
    ("POST", "/api/v1/requests/{ready}/seal", Access::Roles(&["issuer"]), Payload::Nothing, 201),
    ("GET", "/api/v1/calendar", Access::Roles(EVERY_ROLE), Payload::Nothing, 200),
    ("PUT", "/api/v1/calendar/2026-10-01", Access::Roles(&["admin"]), Payload::CalendarDay, 200),
    ("GET", "/api/v1/blacklist", Access::Roles(&["issuer", "admin", "auditor"]),
        Payload::Nothing, 200),
    ("POST", "/api/v1/blacklist", Access::Roles(&["admin"]), Payload::Listing, 201),
    ("GET", "/api/v1/applicants/91410700MA9H2DRW9H",
        Access::Roles(&["issuer", "admin", "auditor"]), Payload::Nothing, 200),
    ("GET", "/api/v1/reports/efficiency", Access::Roles(&["admin", "auditor"]),
        Payload::Nothing, 200),
    ("GET", "/api/v1/events", Access::Roles(&["department", "reviewer", "admin", "auditor"]),
        Payload::Nothing, 200),
    ("POST", "/api/v1/webhooks", Access::Roles(&["admin"]), Payload::Webhook, 201),
    ("GET", "/api/v1/webhooks", Access::Roles(&["admin"]), Payload::Nothing, 200),
    ("POST", "/api/v1/verify", Access::Public, Payload::Licence, 200),
    ("GET", "/api/v1/seal/certificate", Access::Public, Payload::Nothing, 200),
    ("PUT", "/api/v1/crl", Access::Roles(&["admin"]), Payload::Crl, 201),
    ("POST", "/api/v1/archive/renewals", Access::Roles(&["admin"]), Payload::Renewal, 200),
    ("GET", "/crl/{crl}", Access::Public, Payload::Nothing, 200),
    ("POST", "/tsa", Access::Public, Payload::TimeStampQuery, 200),
    ("GET", "/verify", Access::Public, Payload::Nothing, 200),
    ("GET", "/verify/{serial}", Access::Public, Payload::Nothing, 200),
    ("GET", "/healthz", Access::Public, Payload::Nothing, 200),
    ("GET", "/metrics", Access::Public, Payload::Nothing, 200),
    ("GET", "/api/v1/openapi.json", Access::Public, Payload::Nothing, 200),
];

const TEMPLATE: &str = "food-business-licence";
const DEPARTMENT: &str = "市场监督管理局";

/// Every endpoint against every role, no token and bad tokens: allowed callers succeed with the
/// expected status, refused ones get exactly 403 `auth.forbidden`, and no, malformed, unknown,
/// wrong-secret or revoked tokens get 401 with `WWW-Authenticate: Bearer`.
fn authorisation_matrix(database: Database) {
    let service = Service::start(database);
    service.install_template(TEMPLATE, DEPARTMENT);
    let roles: Vec<(&str, String)> = EVERY_ROLE
        .iter()
        .map(|role| {
            let department = matches!(*role, "department" | "reviewer").then_some(DEPARTMENT);
            (
                *role,
                service.token(role, department, &format!("matrix {role}")),
            )
        })
        .collect();
    let token = |role: &str| roles.iter().find(|(r, _)| *r == role).unwrap().1.clone();
    let pending = service.upload_parts(Some(&token("department")), &bundle_parts(TEMPLATE));
    assert_eq!(pending.status(), 201);
    let pending = pending.json::<Value>().unwrap()["version"].to_string();
    let issued: Vec<Value> = (0..2)
        .map(|_| {
            let response = service.issue_example(&token("issuer"), TEMPLATE);
            assert_eq!(response.status(), 201);
            response.json().unwrap()
        })
        .collect();
    let licence = issued_pdf(&issued[0]);
    let ready = service.post_json(
        "/api/v1/requests",
        Some(&token("issuer")),
        &json!({ "template": TEMPLATE, "data": Service::example_data(TEMPLATE) }),
    );
    assert_eq!(ready.status(), 201);
    let ready: Value = ready.json().unwrap();
    assert_eq!(ready["status"], "ready");
    let victim = service.token("auditor", None, "to be revoked by the matrix");
    let revoked = service.token("issuer", None, "revoked before the matrix");
    let revoke = service.oneseal(&["token", "revoke", token_id(&revoked)]);
    assert!(revoke.ok(), "{}", revoke.describe());
    let seal_dir = service.data.path().join("data/development-seal");
    let issued_crl = service.oneseal(&["ca", "crl", "--ca", seal_dir.to_str().unwrap()]);
    assert!(issued_crl.ok(), "{}", issued_crl.describe());
    let crl = std::fs::read(seal_dir.join("root-ca.crl")).unwrap();
    let root = std::fs::read(seal_dir.join("root-ca.pem")).unwrap();
    let (_, root) = x509_parser::pem::parse_x509_pem(&root).unwrap();
    let crl_file = format!(
        "{}.crl",
        oneseal::pki::root_key_identifier_hex(&root.contents).unwrap()
    );
    let places = [
        ("{crl}", crl_file),
        ("{template}", TEMPLATE.to_string()),
        ("{pending}", pending.clone()),
        (
            "{serial}",
            issued[0]["serial"].as_str().unwrap().to_string(),
        ),
        (
            "{revocable}",
            issued[1]["serial"].as_str().unwrap().to_string(),
        ),
        ("{victim}", token_id(&victim).to_string()),
        ("{ready}", ready["id"].as_str().unwrap().to_string()),
    ];
    let unknown = format!("oneseal_0123456789abcdef_{}", "A".repeat(43));
    let wrong_secret = format!("oneseal_{}_{}", token_id(&token("admin")), "A".repeat(43));
    let unauthenticated: [(&str, Option<&str>); 5] = [
        ("no token", None),
        ("a malformed token", Some("not-a-token")),
        ("an unknown token", Some(&unknown)),
        ("the admin's id with a wrong secret", Some(&wrong_secret)),
        ("a revoked token", Some(&revoked)),
    ];

    let mut checked = 0;
    for &(method, template, access, payload, success) in MATRIX {
        let path = places
            .iter()
            .fold(template.to_string(), |path, (from, to)| {
                path.replace(from, to)
            });
        let send = |token: Option<&str>| {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let request = service.request(method, &path, token);
            let request = match payload {
                Payload::Nothing => request,
                Payload::Bundle => {
                    let (content_type, body) = multipart_body(&bundle_parts(TEMPLATE));
                    request.header("content-type", content_type).body(body)
                }
                Payload::Issuance => request.json(&json!({
                    "template": TEMPLATE,
                    "data": Service::example_data(TEMPLATE),
                    "delivery": "mail",
                })),
                Payload::Reason => request.json(&json!({ "reason": "许可事项注销" })),
                Payload::NewToken => request.json(&json!({ "role": "auditor", "name": "审计 2" })),
                Payload::Licence => request
                    .header("content-type", "application/pdf")
                    .body(licence.clone()),
                Payload::CalendarDay => {
                    request.json(&json!({ "kind": "holiday", "name": "国庆节" }))
                }
                Payload::Listing => request.json(&json!({
                    "credit_code": "91410700MA9H2DRW9H",
                    "name": "新乡市某食品有限公司",
                    "reason": "虚假承诺",
                })),
                Payload::Webhook => request.json(&json!({
                    "name": "市场监管局 监管抄告",
                    "url": "http://127.0.0.1:9/hook",
                })),
                Payload::Crl => request
                    .header("content-type", "application/pkix-crl")
                    .body(crl.clone()),
                Payload::TimeStampQuery => {
                    // SEQUENCE { INTEGER 1, MessageImprint { sha256, OCTET STRING (32) } }
                    let mut query = vec![0x30, 0x34, 0x02, 0x01, 0x01, 0x30, 0x2f, 0x30, 0x0b];
                    query.extend([
                        0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
                    ]);
                    query.extend([0x04, 0x20]);
                    query.extend([0x5a; 32]);
                    request
                        .header("content-type", "application/timestamp-query")
                        .body(query)
                }
                Payload::Renewal => request.json(&json!({ "older_than_days": 0, "limit": 10 })),
            };
            request.send().unwrap()
        };
        let expect_success = |who: &str, response: reqwest::blocking::Response| {
            let status = response.status().as_u16();
            assert_eq!(
                status,
                success,
                "{method} {path} as {who}: {:?}",
                response.text()
            );
        };
        match access {
            Access::Public => {
                for (who, token) in unauthenticated {
                    expect_success(who, send(token));
                }
                for (role, token) in &roles {
                    expect_success(role, send(Some(token)));
                }
            }
            Access::Roles(allowed) => {
                for (who, token) in unauthenticated {
                    let response = send(token);
                    let challenge = response
                        .headers()
                        .get("www-authenticate")
                        .map(|v| v.to_str().unwrap().to_string());
                    assert_eq!(
                        challenge.as_deref(),
                        Some("Bearer"),
                        "{method} {path} as {who}"
                    );
                    expect_error(response, 401, "auth.unauthenticated");
                }
                let (permitted, refused): (Vec<_>, Vec<_>) =
                    roles.iter().partition(|(role, _)| allowed.contains(role));
                for (role, token) in refused {
                    let error = expect_error(send(Some(token)), 403, "auth.forbidden");
                    assert!(
                        error["message"].as_str().unwrap().contains(role),
                        "{method} {path} as {role}: {error}"
                    );
                }
                for (role, token) in permitted {
                    expect_success(role, send(Some(token)));
                }
            }
        }
        checked += unauthenticated.len() + roles.len();
    }
    assert_eq!(checked, MATRIX.len() * 10);

    // Once approved, the submitting department no longer gets the blank; another department
    // never learns that a template of someone else's exists.
    let blank = format!("/api/v1/templates/{TEMPLATE}/versions/{pending}/template.pdf");
    expect_error(
        service.get(&blank, Some(&token("department"))),
        403,
        "auth.forbidden",
    );
    assert_eq!(service.get(&blank, Some(&token("admin"))).status(), 200);
    let stranger = service.token("department", Some("住房和城乡建设局"), "另一个部门");
    expect_error(service.get(&blank, Some(&stranger)), 404, "not_found");
    let listed: Value = service
        .get("/api/v1/templates", Some(&stranger))
        .json()
        .unwrap();
    assert_eq!(listed["templates"], json!([]), "{listed}");
    // The token revoked by the matrix is refused from now on.
    expect_error(
        service.get("/api/v1/audit", Some(&victim)),
        401,
        "auth.unauthenticated",
    );
    // Refusals changed nothing: the chain is whole.
    let chain: Value = service
        .get("/api/v1/audit/verify", Some(&token("auditor")))
        .json()
        .unwrap();
    assert_eq!(chain["whole"], true, "{chain}");
}

/// Every state change leaves exactly its audit entries, in order, and refusals leave none; the
/// chain verifies over the API and with `oneseal audit verify`, and each kind of tampering with
/// the database behind the service's back is caught, naming the first broken entry.
fn audit_trail(database: Database) {
    let service = Service::start(database);
    let department = service.token("department", Some(DEPARTMENT), "审计 部门");
    let admin = service.token("admin", None, "审计 管理员");
    let issuer = service.token("issuer", None, "审计 窗口");
    let auditor = service.token("auditor", None, "审计 审计员");
    let by = |token: &str| format!("token:{} (", token_id(token));

    let uploaded = service.upload_parts(Some(&department), &bundle_parts(TEMPLATE));
    assert_eq!(uploaded.status(), 201);
    let version = uploaded.json::<Value>().unwrap()["version"]
        .as_i64()
        .unwrap();
    let subject = format!("template/{TEMPLATE}/{version}");
    let approve = format!("/api/v1/templates/{TEMPLATE}/versions/{version}/approve");
    let post = |path: &str, token: &str| {
        service
            .request(reqwest::Method::POST, path, Some(token))
            .send()
            .unwrap()
    };
    expect_error(post(&approve, &issuer), 403, "auth.forbidden");
    assert_eq!(post(&approve, &admin).status(), 200);
    expect_error(post(&approve, &admin), 409, "conflict");

    let issued = service.issue_example(&issuer, TEMPLATE);
    assert_eq!(issued.status(), 201);
    let issued: Value = issued.json().unwrap();
    let serial = issued["serial"].as_str().unwrap().to_string();
    let mut bad_data = Service::example_data(TEMPLATE);
    bad_data["valid_until"] = json!("明年");
    let refused = service.post_json(
        "/api/v1/certificates",
        Some(&issuer),
        &json!({ "template": TEMPLATE, "data": bad_data }),
    );
    expect_error(refused, 422, "certificate.invalid_data");
    expect_error(
        service.issue_example(&admin, TEMPLATE),
        403,
        "auth.forbidden",
    );
    assert_eq!(service.verify(&issued_pdf(&issued)).status(), 200);

    let revoke = format!("/api/v1/certificates/{serial}/revoke");
    let reason = json!({ "reason": "持证主体申请注销" });
    expect_error(
        service.post_json(&revoke, Some(&issuer), &reason),
        403,
        "auth.forbidden",
    );
    assert_eq!(
        service.post_json(&revoke, Some(&admin), &reason).status(),
        200
    );
    expect_error(
        service.post_json(&revoke, Some(&admin), &reason),
        409,
        "conflict",
    );

    let created = service.post_json(
        "/api/v1/tokens",
        Some(&admin),
        &json!({ "role": "issuer", "name": "窗口 2" }),
    );
    assert_eq!(created.status(), 201);
    let created: Value = created.json().unwrap();
    let created_id = created["id"].as_str().unwrap().to_string();
    let revoke_token = format!("/api/v1/tokens/{created_id}/revoke");
    assert_eq!(post(&revoke_token, &admin).status(), 204);
    expect_error(post(&revoke_token, &admin), 409, "conflict");
    expect_error(
        service.post_json(
            "/api/v1/tokens",
            Some(&auditor),
            &json!({ "role": "admin", "name": "x" }),
        ),
        403,
        "auth.forbidden",
    );

    let console = "console".to_string();
    let (seal, root_key_id) = development_seal(&service);
    let expected: Vec<(&str, String, String)> = vec![
        // The first start brings its seal into service (the first seal of this registry), and
        // the development root publishes its CRL where the seal certificate says it is.
        ("seal.activated", seal, "oneseal:serve".to_string()),
        (
            "crl.published",
            format!("crl/{root_key_id}/1"),
            "oneseal:serve".to_string(),
        ),
        (
            "token.created",
            format!("token:{}", token_id(&department)),
            console.clone(),
        ),
        (
            "token.created",
            format!("token:{}", token_id(&admin)),
            console.clone(),
        ),
        (
            "token.created",
            format!("token:{}", token_id(&issuer)),
            console.clone(),
        ),
        (
            "token.created",
            format!("token:{}", token_id(&auditor)),
            console,
        ),
        ("template.submitted", subject.clone(), by(&department)),
        ("template.approved", subject, by(&admin)),
        ("certificate.signing", serial.clone(), by(&issuer)),
        ("certificate.issued", serial.clone(), by(&issuer)),
        ("certificate.revoked", serial, by(&admin)),
        ("token.created", format!("token:{created_id}"), by(&admin)),
        ("token.revoked", format!("token:{created_id}"), by(&admin)),
    ];
    let trail: Value = service
        .get("/api/v1/audit?limit=1000", Some(&auditor))
        .json()
        .unwrap();
    let entries = trail["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    let wanted: Vec<&str> = expected.iter().map(|(action, _, _)| *action).collect();
    assert_eq!(actions, wanted, "{trail:#}");
    assert_eq!(trail["length"], json!(expected.len()));
    let mut previous = "0".repeat(64);
    for (index, (entry, (action, subject, actor))) in entries.iter().zip(&expected).enumerate() {
        assert_eq!(entry["sequence"], json!(index + 1), "{entry}");
        assert_eq!(
            entry["subject"].as_str().unwrap(),
            subject,
            "{action}: {entry}"
        );
        assert!(
            entry["actor"].as_str().unwrap().starts_with(actor.as_str()),
            "{action}: {entry}"
        );
        assert_eq!(
            entry["previous_hash"].as_str().unwrap(),
            previous,
            "{entry}"
        );
        previous = entry["hash"].as_str().unwrap().to_string();
    }
    let details = |index: usize| -> Value {
        serde_json::from_str(entries[index]["details"].as_str().unwrap()).unwrap()
    };
    assert_eq!(details(0)["replaces"], Value::Null);
    assert_eq!(details(1)["revoked"], json!([]));
    assert_eq!(details(9)["sha256"], issued["sha256"]);
    assert_eq!(details(10)["reason"], "持证主体申请注销");

    let length = expected.len();
    assert_chain(&service, &auditor, Ok(&format!("{length} entries")));
    let last = length;
    let before_last = length - 1;
    // (what is done, the SQL doing it, the SQL undoing it, what verification must say)
    let tampering: Vec<(&str, Vec<String>, Vec<String>, String)> = vec![
        (
            "one entry's details changed",
            vec!["UPDATE audit SET details = details || ' ' WHERE sequence = 6".into()],
            vec![
                "UPDATE audit SET details = substr(details, 1, length(details) - 1) \
                 WHERE sequence = 6"
                    .into(),
            ],
            "entry 6 was altered".into(),
        ),
        (
            "an entry deleted",
            vec![
                "CREATE TABLE audit_saved AS SELECT * FROM audit WHERE sequence = 7".into(),
                "DELETE FROM audit WHERE sequence = 7".into(),
            ],
            vec![
                "INSERT INTO audit SELECT * FROM audit_saved".into(),
                "DROP TABLE audit_saved".into(),
            ],
            "entry 7 is missing".into(),
        ),
        (
            "the last entry deleted",
            vec![
                format!("CREATE TABLE audit_saved AS SELECT * FROM audit WHERE sequence = {last}"),
                format!("DELETE FROM audit WHERE sequence = {last}"),
            ],
            vec![
                "INSERT INTO audit SELECT * FROM audit_saved".into(),
                "DROP TABLE audit_saved".into(),
            ],
            format!("entry {last} is missing"),
        ),
        (
            "the head's hash replaced",
            vec!["UPDATE audit_head SET hash = (SELECT hash FROM audit WHERE sequence = 1)".into()],
            vec![format!(
                "UPDATE audit_head SET hash = (SELECT hash FROM audit WHERE sequence = {last})"
            )],
            format!("does not match entry {last}"),
        ),
        (
            "the head moved back over the last entry",
            vec![format!(
                "UPDATE audit_head SET length = {before_last}, \
                 hash = (SELECT hash FROM audit WHERE sequence = {before_last})"
            )],
            vec![format!(
                "UPDATE audit_head SET length = {last}, \
                 hash = (SELECT hash FROM audit WHERE sequence = {last})"
            )],
            format!("entry {last} lies beyond the chain head"),
        ),
    ];
    for (what, tamper, undo, named) in &tampering {
        for sql in tamper {
            service.sql(sql);
        }
        assert_chain(&service, &auditor, Err(named));
        for sql in undo {
            service.sql(sql);
        }
        assert_chain(&service, &auditor, Ok(&format!("{length} entries")));
        eprintln!("caught: {what}");
    }
}

/// SHA-256 of the development seal's certificate, as the registry names the seal, and its
/// root's key identifier, as the CRL is named.
fn development_seal(service: &Service) -> (String, String) {
    let dir = service.data.path().join("data/development-seal");
    let pem = std::fs::read(dir.join("seal-cert.pem")).unwrap();
    let (_, block) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    let fingerprint = ring::digest::digest(&ring::digest::SHA256, &block.contents)
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let root = std::fs::read(dir.join("root-ca.pem")).unwrap();
    let (_, root) = x509_parser::pem::parse_x509_pem(&root).unwrap();
    let key_id = oneseal::pki::root_key_identifier_hex(&root.contents).unwrap();
    (fingerprint, key_id)
}

/// `oneseal audit verify` and `GET /api/v1/audit/verify` agree: whole (exit 0, saying `whole`)
/// or broken (exit 1, naming `broken`).
fn assert_chain(service: &Service, auditor: &str, expected: Result<&str, &str>) {
    let run = service.oneseal(&["audit", "verify"]);
    let answer: Value = service
        .get("/api/v1/audit/verify", Some(auditor))
        .json()
        .unwrap();
    match expected {
        Ok(whole) => {
            assert_eq!(run.code, Some(0), "{}", run.describe());
            assert!(run.stdout.contains(whole), "{}", run.describe());
            assert_eq!(answer["whole"], true, "{answer}");
        }
        Err(broken) => {
            assert_eq!(run.code, Some(1), "{}", run.describe());
            assert!(
                run.stdout.contains(broken),
                "wanted {broken:?}: {}",
                run.describe()
            );
            assert_eq!(answer["whole"], false, "{answer}");
            assert!(
                answer["first_break"].as_str().unwrap().contains(broken),
                "wanted {broken:?}: {answer}"
            );
        }
    }
}
