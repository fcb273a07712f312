//! Fuzz target: the HTTP service in-process. Each input is a few requests, each sent with
//! `tower::ServiceExt::oneshot` to the real `http::router` over a real `Bureau` (SQLite registry
//! in a temp dir, the fixed test-only key of fuzz/keys/, the food-business-licence and
//! construction-planning-permit templates approved, a token per role, and an issuance request
//! of each: the licence's `ready` for the seal, the permit's in `review` by 住房和城乡建设局).
//!
//! Input layout (docs/fuzzing.md, "API target"; tests/api_fuzz_regressions.rs mirrors it): up
//! to four requests separated by `\n#NEXT#\n`, each
//! - byte 0 picks the route and method (`ROUTES`, modulo its length);
//! - byte 1 picks the token (bits 0–2), the content type (bits 3–5) and how the Authorization
//!   header is written (bits 6–7); token 6 is the 卫生健康委员会 department's with bit 6 clear
//!   and the 住房和城乡建设局 reviewer's with bit 6 set;
//! - the rest is `target NUL body`: the target holds the path parameters separated by `|`, then
//!   optionally `?query`; without a NUL byte all of it is the body. `$S`, `$R`, `$L` and `$K` in
//!   the target become the issued, revoked and latest serial and a spare token's id, `$I` and
//!   `$V` the id and version of the last template uploaded, `$Q`, `$W` and `$N` the food
//!   licence's ready request, the permit's request in review and the latest request opened,
//!   `$B` the last dishonesty listing added;
//!   `$PDF:S`,
//!   `$PDF:R`, `$PDF:L` and `$BLANK` in the body become those certificates' PDFs and the food
//!   licence's blank, so small inputs reach the registry's issued/revoked paths.
//!
//! Oracle: no panic (libFuzzer aborts on one, also inside handlers); never a 500 and no 5xx but
//! 503 `service.busy`; every 4xx/5xx that is not an HTML page has exactly the body
//! `{"error":{"code","message","request_id"[,"problems"]}}` with the `x-request-id` header's id;
//! a 4xx changes nothing (audit length and certificate count as before); a 201 issuance adds
//! one certificate and carries serial, sha256 and a base64 PDF whose SHA-256 is `sha256`; a 2xx
//! on a request (open, sign-off, seal) adds exactly the certificate it reports, never a second
//! one for the same request, and a sign-off never reports a failed seal; no other answer adds a
//! certificate; and the audit chain stays whole.
#![no_main]

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use oneseal::http::{AppState, HttpSettings, router};
use oneseal::registry::{Registry, RequestStatus, Role, TemplateFiles};
use oneseal::seal::KeyFileSigner;
use oneseal::service::auth::{TokenRequest, create_token, revoke_token};
use oneseal::service::certificates::{CertificateRequest, Delivery};
use oneseal::service::requests::NewRequest;
use oneseal::service::{Bureau, BureauSettings};
use sha2::Digest;
use tokio::runtime::Runtime;
use tower::ServiceExt;

// TEST-ONLY key and chain, made with `oneseal keygen` for fuzzing; they protect nothing.
const KEY_PEM: &[u8] = include_bytes!("../keys/seal-key.pem");
const CHAIN_PEM: &[u8] = include_bytes!("../keys/seal-cert.pem");
const MANIFEST: &[u8] = include_bytes!("../../templates/food-business-licence/template.toml");
const BLANK: &[u8] = include_bytes!("../../templates/food-business-licence/template.pdf");
const EXAMPLE: &[u8] = include_bytes!("../../templates/food-business-licence/example.json");
const PERMIT_MANIFEST: &[u8] =
    include_bytes!("../../templates/construction-planning-permit/template.toml");
const PERMIT_BLANK: &[u8] =
    include_bytes!("../../templates/construction-planning-permit/template.pdf");
const PERMIT_EXAMPLE: &[u8] =
    include_bytes!("../../templates/construction-planning-permit/example.json");

// ROUTES, CONTENT_TYPES and NEXT: the input layout shared with the regression test.
include!("../api_layout.rs");
/// Requests taken from one input.
const MAX_REQUESTS: usize = 4;

/// Rebuild the world when its database grows past this (issuances archive their PDFs).
const MAX_DATABASE_BYTES: u64 = 192 << 20;
/// Check the audit chain (and the database size) every this many inputs.
const CHECK_EVERY: u64 = 2048;

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

/// One service with its registry and the values inputs refer to.
struct World {
    router: Router,
    registry: Registry,
    dir: PathBuf,
    /// By bits 0–2 of byte 1: none, department, reviewer, issuer, admin, auditor, a department
    /// token of another department, a revoked admin token.
    tokens: [Option<String>; 8],
    /// Token 6 when bit 6 of byte 1 is set: the reviewer of 住房和城乡建设局.
    housing_reviewer: String,
    spare_token_id: String,
    issued: (String, Vec<u8>),
    revoked: (String, Vec<u8>),
    latest: (String, Vec<u8>),
    /// The id and version of the last template uploaded (`$I`, `$V`).
    submitted: (String, String),
    /// The food licence's request (`$Q`, ready), the permit's (`$W`, in review), the latest
    /// opened (`$N`).
    ready_request: String,
    review_request: String,
    latest_request: String,
    /// The last dishonesty listing added (`$B`; a well-formed unknown id until then).
    listing: String,
    /// Requests a certificate was issued for.
    sealed_requests: HashSet<String>,
    inputs: u64,
}

fn world() -> &'static Mutex<Option<World>> {
    static WORLD: Mutex<Option<World>> = Mutex::new(None);
    &WORLD
}

async fn build_world(generation: u64) -> World {
    let dir = std::env::temp_dir().join(format!(
        "oneseal-fuzz-api-{}-{generation}",
        std::process::id()
    ));
    remove_stale_worlds();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the fuzz world's temp dir");
    let url = format!("sqlite://{}/f.db?mode=rwc", dir.display());
    let registry = Registry::open(&url).await.expect("the fuzz registry opens");
    let signer = KeyFileSigner::from_pem(KEY_PEM, CHAIN_PEM, None).expect("the test-only key");
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
    .expect("the bureau");
    let department = "市场监督管理局";
    let token = |role: Role, department: Option<&str>, name: &str| {
        let request = TokenRequest {
            role,
            department: department.map(str::to_string),
            name: name.to_string(),
        };
        let registry = registry.clone();
        async move {
            let made = create_token(&registry, &request, "fuzz-setup")
                .await
                .expect("a fuzz token");
            (made.record.id.clone(), made.token.to_string())
        }
    };
    let (_, department_token) = token(Role::Department, Some(department), "dept").await;
    let (_, reviewer) = token(Role::Reviewer, Some(department), "reviewer").await;
    let (_, issuer) = token(Role::Issuer, None, "issuer").await;
    let (_, admin) = token(Role::Admin, None, "admin").await;
    let (_, auditor) = token(Role::Auditor, None, "auditor").await;
    let (_, other_department) = token(Role::Department, Some("卫生健康委员会"), "other").await;
    let (revoked_id, revoked_admin) = token(Role::Admin, None, "revoked").await;
    let (spare_token_id, _) = token(Role::Auditor, None, "spare").await;
    let (_, planner) = token(Role::Department, Some("自然资源和规划局"), "planning").await;
    let (_, housing_reviewer) = token(Role::Reviewer, Some("住房和城乡建设局"), "housing").await;
    revoke_token(&registry, &revoked_id, "fuzz-setup")
        .await
        .expect("revoke the fuzz token");

    let submitter = bureau
        .authenticate(&department_token)
        .await
        .expect("department");
    let approver = bureau.authenticate(&admin).await.expect("admin identity");
    let clerk = bureau.authenticate(&issuer).await.expect("issuer identity");
    let files = TemplateFiles {
        blank: BLANK.to_vec(),
        manifest: MANIFEST.to_vec(),
        example: EXAMPLE.to_vec(),
    };
    let version = bureau
        .submit_template(&submitter, files)
        .await
        .expect("submit the food licence");
    bureau
        .approve_template(&approver, &version.id, version.version)
        .await
        .expect("approve the food licence");
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
    let issued = issue().await.expect("issue the first licence");
    let revoked = issue().await.expect("issue the second licence");
    bureau
        .revoke_certificate(&approver, &revoked.record.serial, "fuzz setup")
        .await
        .expect("revoke the second licence");

    let (ready_request, review_request) =
        open_requests(&bureau, &planner, &approver, &clerk, &version.id).await;

    // fuzz/seed.sh asks for a real issued licence to seed POST /api/v1/verify with.
    if let Some(path) = std::env::var_os("ONESEAL_FUZZ_WRITE_ISSUED") {
        std::fs::write(path, &issued.pdf).expect("write the issued licence");
    }
    let settings = HttpSettings {
        max_json_bytes: 1 << 20,
        max_upload_bytes: 16 << 20,
        max_verify_bytes: 20 << 20,
        request_timeout: Duration::from_secs(30),
        issue_per_second: 1_000_000,
        verify_per_minute: 100_000_000,
        tls: false,
    };
    let router = router(AppState::new(Arc::new(bureau), settings, None));
    let issued = (issued.record.serial, issued.pdf);
    World {
        router,
        registry,
        dir,
        tokens: [
            None,
            Some(department_token),
            Some(reviewer),
            Some(issuer),
            Some(admin),
            Some(auditor),
            Some(other_department),
            Some(revoked_admin),
        ],
        housing_reviewer,
        spare_token_id,
        latest: issued.clone(),
        submitted: (version.id.clone(), version.version.to_string()),
        issued,
        revoked: (revoked.record.serial, revoked.pdf),
        latest_request: ready_request.clone(),
        ready_request,
        review_request,
        listing: "0123456789abcdef".into(),
        sealed_requests: HashSet::new(),
        inputs: 0,
    }
}

/// Approves the construction planning permit (sign-off by 住房和城乡建设局, then an issuer's
/// seal) and opens a request with each template's example: the food licence's is `ready`, the
/// permit's in `review`.
async fn open_requests(
    bureau: &Bureau,
    planner: &str,
    approver: &oneseal::service::Identity,
    clerk: &oneseal::service::Identity,
    food: &str,
) -> (String, String) {
    let planner = bureau.authenticate(planner).await.expect("planning");
    let files = TemplateFiles {
        blank: PERMIT_BLANK.to_vec(),
        manifest: PERMIT_MANIFEST.to_vec(),
        example: PERMIT_EXAMPLE.to_vec(),
    };
    let permit = bureau
        .submit_template(&planner, files)
        .await
        .expect("submit the planning permit");
    bureau
        .approve_template(approver, &permit.id, permit.version)
        .await
        .expect("approve the planning permit");
    let open = |template: &str, data: &[u8]| {
        bureau.open_request(
            clerk,
            NewRequest {
                template: template.to_string(),
                data: String::from_utf8_lossy(data).into_owned(),
                delivery: Delivery::Window,
                missing_materials: Vec::new(),
                commitment: None,
            },
        )
    };
    let ready = open(food, EXAMPLE).await.expect("open the licence request");
    assert_eq!(ready.status, RequestStatus::Ready, "the licence request");
    let review = open(&permit.id, PERMIT_EXAMPLE)
        .await
        .expect("open the permit request");
    assert_eq!(review.status, RequestStatus::Review, "the permit request");
    (ready.id, review.id)
}

/// Deletes the databases of fuzzer processes that have ended (libFuzzer exits without running
/// destructors, so each run leaves its last world behind).
fn remove_stale_worlds() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("oneseal-fuzz-api-")
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        if !PathBuf::from("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl World {
    /// Sends one request and holds the answer to the oracle.
    fn send(&mut self, runtime: &Runtime, input: &[u8]) {
        let Some((method, uri, request)) = self.request(input) else {
            return;
        };
        let router = self.router.clone();
        let registry = self.registry.clone();
        let (status, headers, body, before, after) = runtime.block_on(async move {
            let before = registry_counts(&registry).await;
            let response = router
                .oneshot(request)
                .await
                .expect("the router is infallible");
            let (parts, body) = response.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .expect("a response body");
            let after = registry_counts(&registry).await;
            (parts.status, parts.headers, body, before, after)
        });
        if std::env::var_os("ONESEAL_FUZZ_TRACE").is_some() {
            let shown =
                String::from_utf8_lossy(body.get(..body.len().min(200)).unwrap_or_default());
            eprintln!("{method} {uri} -> {status} {shown}");
        }
        check_response(&method, &uri, status, &headers, &body);
        // Refused input changes nothing: no audit entry, no certificate.
        if status.is_client_error() {
            assert_eq!(
                before, after,
                "{method} {uri}: {status} changed the registry"
            );
        }
        let path = uri.split('?').next().unwrap_or_default();
        let mut certificates = 0;
        if method == Method::POST && status == StatusCode::CREATED {
            if path == "/api/v1/certificates" {
                certificates = 1;
                self.latest = check_issued(&body);
            } else if path == "/api/v1/templates" {
                self.submitted = submitted_version(&body);
            } else if path == "/api/v1/blacklist" {
                let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let id = value["id"].as_str().expect("201 listing has an id");
                self.listing = id.to_string();
            }
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
    }

    /// A 2xx on opening, signing off or sealing a request: the certificates it reports (0 or
    /// 1), each for a request that had none.
    fn check_request_answer(&mut self, path: &str, body: &[u8]) -> i64 {
        let text = String::from_utf8_lossy(body);
        let value: serde_json::Value = serde_json::from_slice(body)
            .unwrap_or_else(|e| panic!("POST {path}: 2xx not JSON ({e}): {text}"));
        let (request, sealed) = if path == "/api/v1/requests" {
            let id = value["id"].as_str().expect("an opened request has an id");
            assert_ne!(
                value["status"], "sealing",
                "POST {path}: the automatic seal failed on opening: {text}"
            );
            self.latest_request = id.to_string();
            (id.to_string(), !value["serial"].is_null())
        } else if path.ends_with("/seal") {
            self.latest = check_issued(body);
            let id = value["request"].as_str();
            (id.expect("a sealed request's id").to_string(), true)
        } else if path.ends_with("/sign-off") {
            assert!(
                value["seal_error"].is_null(),
                "POST {path}: the seal failed after the last approval: {text}"
            );
            let id = value["request"]["id"].as_str();
            let id = id.expect("a signed-off request's id").to_string();
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

    /// The request `input` describes, or `None` when it makes no valid URI.
    fn request(&self, input: &[u8]) -> Option<(Method, String, Request<Body>)> {
        let (&route, rest) = input.split_first()?;
        let (&options, rest) = rest.split_first()?;
        let (target, body) = match rest.iter().position(|&b| b == 0) {
            Some(at) => (rest.get(..at)?, rest.get(at + 1..)?),
            None => (&[][..], rest),
        };
        let (method, template) = ROUTES.get(usize::from(route) % ROUTES.len())?;
        let method = Method::from_bytes(method.as_bytes()).ok()?;
        let uri = self.uri(template, target);
        let mut builder = Request::builder().method(method.clone()).uri(&uri);
        let token = match options & 0b111 {
            6 if options & 0b0100_0000 != 0 => Some(self.housing_reviewer.clone()),
            slot => self.tokens.get(usize::from(slot)).cloned().flatten(),
        };
        if let Some(token) = token {
            let value = match options >> 6 {
                0 => format!("Bearer {token}"),
                1 => format!("bearer   {token}  "),
                2 => format!("Basic {token}"),
                // Well-formed, but the last character of the secret changed.
                _ => format!("Bearer {}x", token.get(..token.len() - 1)?),
            };
            builder = builder.header(header::AUTHORIZATION, value);
        }
        if let Some(Some(content_type)) = CONTENT_TYPES.get(usize::from((options >> 3) & 0b111)) {
            builder = builder.header(header::CONTENT_TYPE, *content_type);
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

    /// The route's path with the target's parameters and query, percent-encoded where a URI
    /// needs it (a `%` is kept, so bad escapes reach the extractors).
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

    /// Is it time to start over (the database has grown too big)?
    fn worn(&self) -> bool {
        let size = |name: &str| std::fs::metadata(self.dir.join(name)).map_or(0, |m| m.len());
        size("f.db") + size("f.db-wal") > MAX_DATABASE_BYTES
    }

    async fn check_audit_chain(&self) {
        match self.registry.verify_audit_chain().await {
            Ok(Ok(_)) => {}
            Ok(Err(broken)) => panic!("the audit chain broke: {broken}"),
            Err(error) => panic!("the audit chain cannot be read: {error}"),
        }
    }
}



fuzz_target!(|input: &[u8]| {
    let runtime = runtime();
    let mut guard = world().lock().unwrap_or_else(PoisonError::into_inner);
    let fresh = match guard.as_mut() {
        None => true,
        Some(world) => {
            world.inputs += 1;
            if world.inputs % CHECK_EVERY == 0 {
                runtime.block_on(world.check_audit_chain());
                world.worn()
            } else {
                false
            }
        }
    };
    if fresh {
        if let Some(old) = guard.take() {
            runtime.block_on(old.registry.close());
            let _ = std::fs::remove_dir_all(&old.dir);
        }
        static GENERATION: AtomicU64 = AtomicU64::new(0);
        let generation = GENERATION.fetch_add(1, Ordering::Relaxed);
        *guard = Some(runtime.block_on(build_world(generation)));
    }
    let Some(world) = guard.as_mut() else {
        return;
    };
    for request in split(input).take(MAX_REQUESTS) {
        world.send(runtime, request);
    }
});

/// An input's requests: the parts between `NEXT` separators.
fn split(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(input);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.windows(NEXT.len()).position(|w| w == NEXT) {
            Some(at) => {
                rest = current.get(at + NEXT.len()..);
                current.get(..at)
            }
            None => rest.take(),
        }
    })
}

/// A 201 template upload's id and version.
fn submitted_version(body: &[u8]) -> (String, String) {
    let value: serde_json::Value = serde_json::from_slice(body).expect("201 upload is JSON");
    let id = value["id"].as_str().expect("201 upload has an id");
    let version = value["version"].as_i64().expect("201 upload has a version");
    assert_eq!(value["status"], "pending", "201 upload is not pending");
    (id.to_string(), version.to_string())
}

/// The audit chain's length and the number of certificates issued.
async fn registry_counts(registry: &Registry) -> (i64, i64) {
    let audit = registry.audit_length().await.expect("the audit length");
    let certificates = registry
        .certificate_count()
        .await
        .expect("the certificates");
    (audit, certificates)
}

/// The oracle every response must pass.
fn check_response(
    method: &Method,
    uri: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{method} {uri}: {status} without an x-request-id"));
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let html = content_type.starts_with("text/html");
    let text = String::from_utf8_lossy(body);
    if status.is_server_error() {
        let busy = status == StatusCode::SERVICE_UNAVAILABLE
            && !html
            && serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .is_some_and(|v| v["error"]["code"] == "service.busy");
        assert!(busy, "{method} {uri}: {status} {text}");
    }
    if *method == Method::HEAD {
        return;
    }
    if status.is_client_error() || status.is_server_error() {
        if html {
            return;
        }
        assert!(
            content_type == "application/json",
            "{method} {uri}: {status} with content type {content_type:?}: {text}"
        );
        check_error_shape(body, request_id)
            .unwrap_or_else(|why| panic!("{method} {uri}: {status}: {why}: {text}"));
    } else if content_type.starts_with("application/json") {
        assert!(
            serde_json::from_slice::<serde_json::Value>(body).is_ok(),
            "{method} {uri}: {status} says JSON but is not: {text}"
        );
    }
}

/// `{"error":{"code":…,"message":…,"request_id":…}}`, `problems` optional, nothing else.
fn check_error_shape(body: &[u8], request_id: &str) -> Result<(), String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("not JSON ({e})"))?;
    let outer = value.as_object().ok_or("not an object")?;
    if outer.len() != 1 {
        return Err("keys besides \"error\"".into());
    }
    let error = outer
        .get("error")
        .and_then(|e| e.as_object())
        .ok_or("no \"error\" object")?;
    for key in error.keys() {
        if !["code", "message", "request_id", "problems"].contains(&key.as_str()) {
            return Err(format!("unexpected key {key:?}"));
        }
    }
    let text = |key: &str| {
        error
            .get(key)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .ok_or(format!("{key} is not a non-empty string"))
    };
    text("code")?;
    text("message")?;
    if text("request_id")? != request_id {
        return Err("request_id differs from x-request-id".into());
    }
    if let Some(problems) = error.get("problems") {
        let well_formed = problems.as_array().is_some_and(|list| {
            list.iter().all(|p| {
                p.get("place").is_some_and(|v| v.is_string())
                    && p.get("message").is_some_and(|v| v.is_string())
            })
        });
        if !well_formed {
            return Err("problems is not a list of {place, message}".into());
        }
    }
    Ok(())
}

/// A 201 issuance: serial, sha256 and the PDF (base64) it is the hash of.
fn check_issued(body: &[u8]) -> (String, Vec<u8>) {
    let text = String::from_utf8_lossy(body);
    let value: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("201 issuance not JSON ({e}): {text}"));
    let field = |key: &str| {
        value[key]
            .as_str()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| panic!("201 issuance without {key}: {text}"))
            .to_string()
    };
    let serial = field("serial");
    let sha256 = field("sha256");
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(field("pdf"))
        .unwrap_or_else(|e| panic!("201 issuance: pdf is not base64 ({e})"));
    assert!(pdf.starts_with(b"%PDF-"), "201 issuance: pdf is not a PDF");
    let digest: String = sha2::Sha256::digest(&pdf)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(digest, sha256, "201 issuance: sha256 is not the PDF's");
    (serial, pdf)
}
