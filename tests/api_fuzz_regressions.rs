//! Inputs the `api_requests` fuzz target (fuzz/fuzz_targets/api_requests.rs, docs/fuzzing.md)
//! found to break the service's promises: each must now pass the target's oracle.
//!
//! Files live in tests/data/fuzz/ as `api_requests-<short-name>.bin`, each one raw fuzz input:
//! up to four requests joined by `\n#NEXT#\n`, each byte 0 the route, byte 1 the token, content
//! type and Authorization form, then `target NUL body` with the target's markers (`$S`, `$V`,
//! `$PDF:S`, `$BLANK`, …). `World` below mirrors the target's: the real router over a real
//! `Bureau` on SQLite in a temp dir, the test-only fuzz key, the food licence and the
//! construction planning permit approved, a token per role (token 6 with bit 6 set: the
//! 住房和城乡建设局 reviewer), one licence issued and one revoked, and a request of each template
//! (`$Q` ready, `$W` in review; `$N` the latest opened, `$B` the last listing). Files numbered `-1-`, `-2-`, … are steps of one
//! finding, replayed in name order in one world.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use oneseal::http::{AppState, HttpSettings, router};
use oneseal::registry::{Registry, RequestStatus, Role, TemplateFiles};
use oneseal::seal::KeyFileSigner;
use oneseal::service::auth::{TokenRequest, create_token, revoke_token};
use oneseal::service::certificates::{CertificateRequest, Delivery};
use oneseal::service::requests::NewRequest;
use oneseal::service::{Bureau, BureauSettings};
use serde_json::Value;
use tempfile::TempDir;
use tokio::runtime::Runtime;
use tower::ServiceExt;

// TEST-ONLY key and chain shared with the fuzz targets; they protect nothing.
const KEY_PEM: &[u8] = include_bytes!("../fuzz/keys/seal-key.pem");
const CHAIN_PEM: &[u8] = include_bytes!("../fuzz/keys/seal-cert.pem");
const MANIFEST: &[u8] = include_bytes!("../templates/food-business-licence/template.toml");
const BLANK: &[u8] = include_bytes!("../templates/food-business-licence/template.pdf");
const EXAMPLE: &[u8] = include_bytes!("../templates/food-business-licence/example.json");
const PERMIT_MANIFEST: &[u8] =
    include_bytes!("../templates/construction-planning-permit/template.toml");
const PERMIT_BLANK: &[u8] =
    include_bytes!("../templates/construction-planning-permit/template.pdf");
const PERMIT_EXAMPLE: &[u8] =
    include_bytes!("../templates/construction-planning-permit/example.json");

// ROUTES, NEXT and CONTENT_TYPES: the fuzz target's own input layout.
include!("../fuzz/api_layout.rs");

struct World {
    runtime: Runtime,
    router: Router,
    registry: Registry,
    _dir: TempDir,
    tokens: [Option<String>; 8],
    housing_reviewer: String,
    spare_token_id: String,
    issued: (String, Vec<u8>),
    revoked: (String, Vec<u8>),
    latest: (String, Vec<u8>),
    submitted: (String, String),
    ready_request: String,
    review_request: String,
    latest_request: String,
    listing: String,
    sealed_requests: HashSet<String>,
}

/// What one input got back.
struct Answer {
    method: Method,
    uri: String,
    status: StatusCode,
    body: Vec<u8>,
}

impl World {
    fn new() -> World {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = TempDir::new().unwrap();
        let url = format!("sqlite://{}/f.db?mode=rwc", dir.path().display());
        let registry = runtime.block_on(Registry::open(&url)).unwrap();
        let signer = KeyFileSigner::from_pem(KEY_PEM, CHAIN_PEM, None).unwrap();
        let bureau = Bureau::new(
            registry.clone(),
            Arc::new(signer),
            None,
            BureauSettings {
                base_url: "https://fuzz.example.gov.cn/verify/".into(),
                max_concurrent_verifications: 2,
                verification_timeout: Duration::from_secs(20),
                max_verify_bytes: 20 << 20,
                clock_offset_ms: 0,
            },
        )
        .unwrap();
        let (tokens, spare_token_id, issued, revoked) =
            runtime.block_on(populate(&registry, &bureau));
        let (housing_reviewer, ready_request, review_request) =
            runtime.block_on(open_requests(&registry, &bureau, &tokens));
        let settings = HttpSettings {
            request_timeout: Duration::from_secs(30),
            issue_per_second: 1_000_000,
            verify_per_minute: 100_000_000,
            ..HttpSettings::default()
        };
        let router = router(AppState::new(Arc::new(bureau), settings, None));
        World {
            runtime,
            router,
            registry,
            _dir: dir,
            tokens,
            housing_reviewer,
            spare_token_id,
            latest: issued.clone(),
            submitted: ("food-business-licence".into(), "1".into()),
            issued,
            revoked,
            latest_request: ready_request.clone(),
            ready_request,
            review_request,
            listing: "0123456789abcdef".into(),
            sealed_requests: HashSet::new(),
        }
    }

    /// Sends each request of `input` (up to four, split at `\n#NEXT#\n`) as the target does.
    fn replay_all(&mut self, input: &[u8]) -> Vec<Answer> {
        let mut answers = Vec::new();
        let mut rest = input;
        for _ in 0..4 {
            let (request, next) = match rest.windows(NEXT.len()).position(|w| w == NEXT) {
                Some(at) => (&rest[..at], Some(&rest[at + NEXT.len()..])),
                None => (rest, None),
            };
            answers.extend(self.replay(request));
            let Some(next) = next else { break };
            rest = next;
        }
        answers
    }

    /// Sends one request as the target does and applies the target's oracle.
    fn replay(&mut self, input: &[u8]) -> Option<Answer> {
        let (method, uri, request) = self.request(input)?;
        let router = self.router.clone();
        let registry = self.registry.clone();
        let (status, headers, body, before, after) = self.runtime.block_on(async move {
            let before = counts(&registry).await;
            let response = router.oneshot(request).await.unwrap();
            let (parts, body) = response.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let after = counts(&registry).await;
            (parts.status, parts.headers, body.to_vec(), before, after)
        });
        check_response(&method, &uri, status, &headers, &body);
        if status.is_client_error() {
            assert_eq!(
                before, after,
                "{method} {uri}: {status} changed the registry"
            );
        }
        let path = uri.split('?').next().unwrap_or_default();
        let mut certificates = 0;
        if method == Method::POST && path == "/api/v1/certificates" && status == 201 {
            certificates = 1;
            self.latest = check_issued(&body);
        }
        if method == Method::POST && path == "/api/v1/blacklist" && status == 201 {
            let value: Value = serde_json::from_slice(&body).unwrap();
            self.listing = value["id"].as_str().unwrap().to_string();
        }
        if method == Method::POST && status.is_success() && path.starts_with("/api/v1/requests") {
            certificates = self.check_request_answer(path, &body);
        }
        assert_eq!(
            after.1,
            before.1 + certificates,
            "{method} {uri}: {status} added {} certificates, reported {certificates}",
            after.1 - before.1
        );
        if method == Method::POST && path == "/api/v1/templates" && status == 201 {
            let value: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(value["status"], "pending");
            self.submitted = (
                value["id"].as_str().unwrap().to_string(),
                value["version"].as_i64().unwrap().to_string(),
            );
        }
        let verified = self.runtime.block_on(self.registry.verify_audit_chain());
        assert!(matches!(verified, Ok(Ok(_))), "the audit chain broke");
        Some(Answer {
            method,
            uri,
            status,
            body,
        })
    }

    /// The target's request oracle: a 2xx open, sign-off or seal adds the certificate it
    /// reports, never a second for one request, and reports no failed seal.
    fn check_request_answer(&mut self, path: &str, body: &[u8]) -> i64 {
        let text = String::from_utf8_lossy(body);
        let value: Value = serde_json::from_slice(body).unwrap();
        let (request, sealed) = if path == "/api/v1/requests" {
            assert_ne!(value["status"], "sealing", "{text}");
            self.latest_request = value["id"].as_str().unwrap().to_string();
            (self.latest_request.clone(), !value["serial"].is_null())
        } else if path.ends_with("/seal") {
            self.latest = check_issued(body);
            (value["request"].as_str().unwrap().to_string(), true)
        } else if path.ends_with("/sign-off") {
            assert!(value["seal_error"].is_null(), "{text}");
            let id = value["request"]["id"].as_str().unwrap().to_string();
            (id, !value["certificate"].is_null())
        } else {
            return 0;
        };
        if !sealed {
            return 0;
        }
        assert!(
            self.sealed_requests.insert(request.clone()),
            "POST {path}: a second certificate for request {request}: {text}"
        );
        1
    }

    fn request(&self, input: &[u8]) -> Option<(Method, String, Request<Body>)> {
        let (&route, rest) = input.split_first()?;
        let (&options, rest) = rest.split_first()?;
        let (target, body) = match rest.iter().position(|&b| b == 0) {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (&[][..], rest),
        };
        let (method, template) = ROUTES[usize::from(route) % ROUTES.len()];
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let uri = self.uri(template, target);
        let mut builder = Request::builder().method(method.clone()).uri(&uri);
        let token = match options & 0b111 {
            6 if options & 0b0100_0000 != 0 => Some(&self.housing_reviewer),
            slot => self.tokens[usize::from(slot)].as_ref(),
        };
        if let Some(token) = token {
            let value = match options >> 6 {
                0 => format!("Bearer {token}"),
                1 => format!("bearer   {token}  "),
                2 => format!("Basic {token}"),
                _ => format!("Bearer {}x", &token[..token.len() - 1]),
            };
            builder = builder.header(header::AUTHORIZATION, value);
        }
        if let Some(content_type) = CONTENT_TYPES[usize::from((options >> 3) & 0b111)] {
            builder = builder.header(header::CONTENT_TYPE, content_type);
        }
        let body = replace(
            body,
            &[
                (b"$PDF:S", &self.issued.1),
                (b"$PDF:R", &self.revoked.1),
                (b"$PDF:L", &self.latest.1),
                (b"$BLANK", BLANK),
            ],
        );
        let request = builder.body(Body::from(body)).ok()?;
        Some((method, uri, request))
    }

    fn uri(&self, template: &str, target: &[u8]) -> String {
        let target = replace(
            target,
            &[
                (b"$S", self.issued.0.as_bytes()),
                (b"$R", self.revoked.0.as_bytes()),
                (b"$L", self.latest.0.as_bytes()),
                (b"$K", self.spare_token_id.as_bytes()),
                (b"$I", self.submitted.0.as_bytes()),
                (b"$V", self.submitted.1.as_bytes()),
                (b"$Q", self.ready_request.as_bytes()),
                (b"$W", self.review_request.as_bytes()),
                (b"$N", self.latest_request.as_bytes()),
                (b"$B", self.listing.as_bytes()),
            ],
        );
        target_uri(template, &target)
    }
}

type Tokens = [Option<String>; 8];

/// Tokens (none, department, reviewer, issuer, admin, auditor, another department, revoked), a
/// spare token's id, the approved food licence, one licence issued and one revoked.
async fn populate(
    registry: &Registry,
    bureau: &Bureau,
) -> (Tokens, String, (String, Vec<u8>), (String, Vec<u8>)) {
    let department = "市场监督管理局";
    let mut made = Vec::new();
    for (role, department, name) in [
        (Role::Department, Some(department), "dept"),
        (Role::Reviewer, Some(department), "reviewer"),
        (Role::Issuer, None, "issuer"),
        (Role::Admin, None, "admin"),
        (Role::Auditor, None, "auditor"),
        (Role::Department, Some("卫生健康委员会"), "other"),
        (Role::Admin, None, "revoked"),
        (Role::Auditor, None, "spare"),
    ] {
        let request = TokenRequest {
            role,
            department: department.map(str::to_string),
            name: name.to_string(),
        };
        let token = create_token(registry, &request, "fuzz-setup")
            .await
            .unwrap();
        made.push((token.record.id.clone(), token.token.to_string()));
    }
    revoke_token(registry, &made[6].0, "fuzz-setup")
        .await
        .unwrap();
    let identity = |index: usize| bureau.authenticate(&made[index].1);
    let (submitter, clerk, approver) = (
        identity(0).await.unwrap(),
        identity(2).await.unwrap(),
        identity(3).await.unwrap(),
    );
    let files = TemplateFiles {
        blank: BLANK.to_vec(),
        manifest: MANIFEST.to_vec(),
        example: EXAMPLE.to_vec(),
    };
    let version = bureau.submit_template(&submitter, files).await.unwrap();
    bureau
        .approve_template(&approver, &version.id, version.version)
        .await
        .unwrap();
    let issue = || {
        bureau.issue_certificate(
            &clerk,
            CertificateRequest {
                template: version.id.clone(),
                data: String::from_utf8_lossy(EXAMPLE).into_owned(),
                delivery: Delivery::Window,
            },
        )
    };
    let issued = issue().await.unwrap();
    let revoked = issue().await.unwrap();
    bureau
        .revoke_certificate(&approver, &revoked.record.serial, "fuzz setup")
        .await
        .unwrap();
    let tokens = std::array::from_fn(|index| match index {
        0 => None,
        n => Some(made[n - 1].1.clone()),
    });
    (
        tokens,
        made[7].0.clone(),
        (issued.record.serial, issued.pdf),
        (revoked.record.serial, revoked.pdf),
    )
}

/// The construction planning permit approved (made by 自然资源和规划局, signed off by
/// 住房和城乡建设局), and a request of each template opened by the issuer: the 住建局 reviewer's
/// token, the food licence's request (ready) and the permit's (in review).
async fn open_requests(
    registry: &Registry,
    bureau: &Bureau,
    tokens: &Tokens,
) -> (String, String, String) {
    let mut made = Vec::new();
    for (role, department, name) in [
        (Role::Department, "自然资源和规划局", "planning"),
        (Role::Reviewer, "住房和城乡建设局", "housing"),
    ] {
        let request = TokenRequest {
            role,
            department: Some(department.to_string()),
            name: name.to_string(),
        };
        let token = create_token(registry, &request, "fuzz-setup")
            .await
            .unwrap();
        made.push(token.token.to_string());
    }
    let planner = bureau.authenticate(&made[0]).await.unwrap();
    let approver = bureau
        .authenticate(tokens[4].as_ref().unwrap())
        .await
        .unwrap();
    let clerk = bureau
        .authenticate(tokens[3].as_ref().unwrap())
        .await
        .unwrap();
    let files = TemplateFiles {
        blank: PERMIT_BLANK.to_vec(),
        manifest: PERMIT_MANIFEST.to_vec(),
        example: PERMIT_EXAMPLE.to_vec(),
    };
    let permit = bureau.submit_template(&planner, files).await.unwrap();
    bureau
        .approve_template(&approver, &permit.id, permit.version)
        .await
        .unwrap();
    let open = |template: &str, data: &[u8]| {
        bureau.open_request(
            &clerk,
            NewRequest {
                template: template.to_string(),
                data: String::from_utf8_lossy(data).into_owned(),
                delivery: Delivery::Window,
                missing_materials: Vec::new(),
                commitment: None,
            },
        )
    };
    let ready = open("food-business-licence", EXAMPLE).await.unwrap();
    assert_eq!(ready.status, RequestStatus::Ready);
    let review = open(&permit.id, PERMIT_EXAMPLE).await.unwrap();
    assert_eq!(review.status, RequestStatus::Review);
    (made[1].clone(), ready.id, review.id)
}

async fn counts(registry: &Registry) -> (i64, i64) {
    (
        registry.audit_length().await.unwrap(),
        registry.certificate_count().await.unwrap(),
    )
}

/// The target's oracle: no 500 (no 5xx but 503 `service.busy`), every non-HTML error in the
/// one shape with the `x-request-id` header's id.
fn check_response(
    method: &Method,
    uri: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) {
    let text = String::from_utf8_lossy(body);
    let request_id = headers["x-request-id"].to_str().unwrap();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map_or("", |v| v.to_str().unwrap());
    let html = content_type.starts_with("text/html");
    if status.is_server_error() {
        let code = serde_json::from_slice::<Value>(body).map(|v| v["error"]["code"].clone());
        assert!(
            status == 503 && !html && code.is_ok_and(|c| c == "service.busy"),
            "{method} {uri}: {status} {text}"
        );
    }
    if *method == Method::HEAD || !(status.is_client_error() || status.is_server_error()) || html {
        return;
    }
    assert_eq!(content_type, "application/json", "{method} {uri}: {text}");
    let value: Value = serde_json::from_slice(body).unwrap();
    let outer = value.as_object().unwrap();
    assert_eq!(outer.len(), 1, "{text}");
    let error = outer["error"].as_object().unwrap();
    for key in error.keys() {
        assert!(
            ["code", "message", "request_id", "problems"].contains(&key.as_str()),
            "{text}"
        );
    }
    for key in ["code", "message", "request_id"] {
        assert!(error[key].as_str().is_some_and(|s| !s.is_empty()), "{text}");
    }
    assert_eq!(error["request_id"], request_id, "{text}");
    if let Some(problems) = error.get("problems") {
        for problem in problems.as_array().unwrap() {
            assert!(problem["place"].is_string() && problem["message"].is_string());
        }
    }
}

fn check_issued(body: &[u8]) -> (String, Vec<u8>) {
    use base64::Engine;
    use sha2::Digest;
    let value: Value = serde_json::from_slice(body).unwrap();
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(value["pdf"].as_str().unwrap())
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let digest: String = sha2::Sha256::digest(&pdf)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(value["sha256"], digest.as_str());
    (value["serial"].as_str().unwrap().to_string(), pdf)
}

fn input(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Replays `api_requests-<prefix>-*.bin` in name order in one world.
fn replay_sequence(world: &mut World, prefix: &str) -> Vec<Answer> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(&format!("api_requests-{prefix}-")))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no inputs api_requests-{prefix}-*");
    names
        .iter()
        .flat_map(|name| world.replay_all(&input(name)))
        .collect()
}

// A1: Bundle::load checks that the example's values fit their boxes, but nothing checked the
// values the issuer fills in itself (the serial, the issue date). A food licence whose serial
// (or issue-date) box is 30 pt wide passed upload and approval; from then on every issuance
// took a serial, wrote its audit entry, failed to draw the licence and answered 500. Upload
// and approval now draw the example as an issuance would (the widest serial, this bureau's
// seal and URL) and refuse the bundle with 422 template.invalid naming the field.
#[test]
fn issuer_filled_fields_that_cannot_fit_are_refused_at_upload() {
    let mut world = World::new();
    for (kind, field) in [("serial", "licence_no"), ("date", "issue_date")] {
        let answers = replay_sequence(&mut world, &format!("{kind}-box"));
        let [submit, approve, issue] = &answers[..] else {
            panic!("three steps for {kind}");
        };
        assert_eq!(
            submit.status,
            422,
            "{}",
            String::from_utf8_lossy(&submit.body)
        );
        let body: Value = serde_json::from_slice(&submit.body).unwrap();
        assert_eq!(body["error"]["code"], "template.invalid");
        assert!(
            body["error"]["problems"][0]["place"]
                .as_str()
                .unwrap()
                .contains(field),
            "{body}"
        );
        assert_eq!(approve.status, 404, "{}", approve.uri);
        assert_eq!(issue.status, 201, "{} {}", issue.method, issue.uri);
    }
}

// A2: an automatically sealed request whose applicant took the 容缺 path (a material missing,
// a commitment signed) and was listed as dishonest after opening. The last approval committed,
// then the seal refused the barred applicant: 200 with a seal_error, and the request stayed
// `sealing` for good (materials cannot be recorded then, nor can an issuer seal it; every
// restart tried again). The approval that would seal is now refused with 409
// request.applicant_barred, the clerk records the material, and the next approval seals.
#[test]
fn a_barred_applicant_stops_the_approval_before_an_automatic_seal() {
    let mut world = World::new();
    let answers = replay_sequence(&mut world, "barred-automatic-seal");
    let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    assert_eq!(statuses, [201, 200, 201, 201, 409, 200, 200, 200]);
    let body = |index: usize| serde_json::from_slice::<Value>(&answers[index].body).unwrap();
    assert_eq!(body(4)["error"]["code"], "request.applicant_barred");
    assert_eq!(body(5)["missing_materials"], serde_json::json!([]));
    assert!(body(6)["certificate"]["serial"].is_string(), "{}", body(6));
    assert_eq!(body(7)["status"], "issued");
}

/// Inputs with a test of their own above.
const NAMED: [&str; 3] = [
    "api_requests-serial-box-",
    "api_requests-date-box-",
    "api_requests-barred-automatic-seal-",
];

/// Every other saved input, in name order in one world.
#[test]
fn every_other_saved_api_input_passes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("api_requests-"))
        .filter(|name| !NAMED.iter().any(|prefix| name.starts_with(prefix)))
        .collect();
    names.sort();
    let mut world = World::new();
    for name in names {
        world.replay_all(&input(&name));
    }
}
