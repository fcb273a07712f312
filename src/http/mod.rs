//! The HTTP shell: axum routes, the bearer-token extractor, rate limits, security headers and
//! the one error shape. Handlers extract, call one service function and map the result.

pub mod api;
mod error;
mod feed;
mod limits;
pub mod openapi;
mod ops;
pub mod pages;
mod renewal;
mod revocation;
mod tsa;
mod workflow;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post, put};
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

pub use error::ApiError;
use error::{ErrorBody, ErrorDetail, PendingError, code_for_status};
pub use limits::RateLimits;

use crate::service::{Bureau, Identity, ServiceError};

/// What the HTTP shell is configured with.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Largest JSON body.
    pub max_json_bytes: usize,
    /// Largest template bundle upload (all three parts).
    pub max_upload_bytes: usize,
    /// Largest PDF uploaded for verification.
    pub max_verify_bytes: usize,
    /// A request not answered within this is answered 408 (or 503 while its work finishes).
    pub request_timeout: Duration,
    /// Issuances per second allowed per token and per client address.
    pub issue_per_second: u32,
    /// Public verifications (upload and page views) per minute per client address.
    pub verify_per_minute: u32,
    /// Whether TLS is on (adds Strict-Transport-Security).
    pub tls: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_json_bytes: 1 << 20,
            max_upload_bytes: 16 << 20,
            max_verify_bytes: 20 << 20,
            request_timeout: Duration::from_secs(60),
            issue_per_second: 1000,
            verify_per_minute: 600,
            tls: false,
        }
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub bureau: Arc<Bureau>,
    pub settings: Arc<HttpSettings>,
    pub limits: Arc<RateLimits>,
    pub metrics: Option<PrometheusHandle>,
}

impl AppState {
    pub fn new(
        bureau: Arc<Bureau>,
        settings: HttpSettings,
        metrics: Option<PrometheusHandle>,
    ) -> Self {
        let limits = Arc::new(RateLimits::new(&settings));
        Self {
            bureau,
            settings: Arc::new(settings),
            limits,
            metrics,
        }
    }
}

/// Every route of the service (docs: `/api/v1/openapi.json`, which a test keeps in step).
pub fn router(state: AppState) -> Router {
    let settings = Arc::clone(&state.settings);
    let api = Router::new()
        .route(
            "/api/v1/templates",
            post(api::submit_template).get(api::templates),
        )
        .route(
            "/api/v1/templates/{id}/versions/{version}/approve",
            post(api::approve_template),
        )
        .route(
            "/api/v1/templates/{id}/versions/{version}/template.pdf",
            get(api::template_blank),
        )
        .layer(DefaultBodyLimit::max(settings.max_upload_bytes))
        .merge(
            Router::new()
                .route(
                    "/api/v1/certificates",
                    post(api::issue_certificate).get(api::search_certificates),
                )
                .route("/api/v1/certificates/{serial}", get(api::certificate))
                .route(
                    "/api/v1/certificates/{serial}/pdf",
                    get(api::certificate_pdf),
                )
                .route(
                    "/api/v1/certificates/{serial}/revoke",
                    post(api::revoke_certificate),
                )
                .route("/api/v1/audit", get(api::audit))
                .route("/api/v1/audit/verify", get(api::verify_audit))
                .route("/api/v1/tokens", post(api::create_token).get(api::tokens))
                .route("/api/v1/tokens/{id}/revoke", post(api::revoke_token))
                .route("/api/v1/seal/certificate", get(api::seal_certificate))
                .route(
                    "/api/v1/requests",
                    post(workflow::open_request).get(workflow::requests),
                )
                .route("/api/v1/requests/{id}", get(workflow::request))
                .route("/api/v1/requests/{id}/sign-off", post(workflow::sign_off))
                .route("/api/v1/requests/{id}/seal", post(workflow::apply_seal))
                .route(
                    "/api/v1/requests/{id}/materials",
                    post(workflow::supply_materials),
                )
                .route("/api/v1/calendar", get(workflow::calendar))
                .route("/api/v1/calendar/{day}", put(workflow::set_calendar_day))
                .route(
                    "/api/v1/blacklist",
                    post(workflow::add_to_blacklist).get(workflow::blacklist),
                )
                .route(
                    "/api/v1/blacklist/{id}/remove",
                    post(workflow::remove_from_blacklist),
                )
                .route("/api/v1/applicants/{credit_code}", get(workflow::applicant))
                .route(
                    "/api/v1/reports/efficiency",
                    get(workflow::efficiency_report),
                )
                .route("/api/v1/events", get(feed::events))
                .route(
                    "/api/v1/webhooks",
                    post(feed::create_webhook).get(feed::webhooks),
                )
                .route("/api/v1/webhooks/{id}/remove", post(feed::remove_webhook))
                .route("/api/v1/archive/renewals", post(renewal::renew))
                .layer(DefaultBodyLimit::max(settings.max_json_bytes)),
        )
        .merge(
            Router::new()
                .route("/api/v1/verify", post(api::verify))
                .layer(DefaultBodyLimit::max(settings.max_verify_bytes)),
        )
        .merge(
            Router::new()
                .route("/api/v1/crl", put(revocation::publish))
                .layer(DefaultBodyLimit::max(crate::pki::MAX_CRL_BYTES * 2)),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let public = Router::new()
        .route("/verify", get(pages::verify_form))
        .route("/verify/{serial}", get(pages::certificate_page))
        .route("/static/{file}", get(pages::static_asset))
        .route("/crl/{crl_file}", get(revocation::crl))
        .route("/healthz", get(ops::health))
        .route("/metrics", get(ops::metrics))
        .route("/api/v1/openapi.json", get(ops::openapi))
        .layer(DefaultBodyLimit::max(settings.max_json_bytes))
        .merge(
            Router::new()
                .route("/tsa", post(tsa::timestamp))
                .layer(DefaultBodyLimit::max(crate::cms::tsp::MAX_REQUEST_BYTES)),
        );
    let mut router = api
        .merge(public)
        .fallback(|| async { StatusCode::NOT_FOUND })
        // A panic becomes a 500 in the one error shape instead of a dropped connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(middleware::from_fn(request_context))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            settings.request_timeout,
        ));
    for (name, value) in security_headers() {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    if settings.tls {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    router.with_state(state)
}

/// Sent on every response: no sniffing, no framing, no referrer, and pages may load only their
/// own scripts and styles.
fn security_headers() -> Vec<(HeaderName, HeaderValue)> {
    vec![
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ),
    ]
}

/// The request's id, in its extensions and the `x-request-id` response header.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn next_request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        use ring::rand::SecureRandom;
        let mut bytes = [0u8; 4];
        let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
        crate::registry::audit::hex(&bytes)
    });
    format!("{prefix}-{:08x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Gives the request an id, gives every error the one shape, logs one line and records metrics.
async fn request_context(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = next_request_id();
    request.extensions_mut().insert(RequestId(id.clone()));
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let carries_body = carries_body(request.headers());
    let mut response = next.run(request).await;
    // A refusal may come before the body is read (wrong role, too large). hyper then closes
    // the connection without saying so, and a client that pools it sends its next request into
    // a closed socket. Saying `Connection: close` keeps it from reusing the connection.
    if carries_body && response.status().is_client_error() {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    let status = response.status();
    let pending = response.extensions_mut().remove::<PendingError>();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if let Some(pending) = pending {
        if let Some(cause) = &pending.cause {
            tracing::error!(request_id = %id, %route, %cause, "request failed");
        }
        response = with_request_id(response, pending.body, &id).await;
    } else if (status.is_client_error() || status.is_server_error()) && !is_html {
        response = foreign_error(response, &id).await;
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    let elapsed = started.elapsed();
    let status_label = status.as_u16().to_string();
    metrics::histogram!("oneseal_http_request_duration_seconds", "route" => route.clone(), "status" => status_label.clone())
        .record(elapsed.as_secs_f64());
    metrics::counter!("oneseal_http_requests_total", "route" => route.clone(), "status" => status_label)
        .increment(1);
    tracing::info!(request_id = %id, %method, %route, status = status.as_u16(), ms = elapsed.as_millis() as u64, "request");
    response
}

/// Whether a request comes with a body (a non-zero `Content-Length`, or chunked).
fn carries_body(headers: &axum::http::HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|length| length.trim() != "0")
}

async fn with_request_id(response: Response, mut body: ErrorBody, id: &str) -> Response {
    body.error.request_id = id.to_string();
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let json = serde_json::to_vec(&body).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(json))
}

/// Routing, body-limit and extractor failures, reshaped: their plain-text reason becomes the
/// message (cut short; it names what was wrong, never our internals).
async fn foreign_error(response: Response, id: &str) -> Response {
    let status = response.status();
    let (parts, body) = response.into_parts();
    if parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
    {
        return Response::from_parts(parts, body);
    }
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let mut message: String = String::from_utf8_lossy(&text).chars().take(300).collect();
    if message.trim().is_empty() || status.is_server_error() {
        message = status.canonical_reason().unwrap_or("error").to_lowercase();
    }
    let body = ErrorBody {
        error: ErrorDetail {
            code: code_for_status(status),
            message,
            problems: Vec::new(),
            request_id: id.to_string(),
        },
    };
    let mut parts = parts;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(
        parts,
        Body::from(serde_json::to_vec(&body).unwrap_or_default()),
    )
}

/// The caller proven by `Authorization: Bearer <token>`; 401 without one, and with more than
/// one (a proxy and the service could otherwise each read a different one).
pub struct Caller(pub Identity);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
        let (first, second) = (values.next(), values.next());
        let token = first
            .filter(|_| second.is_none())
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or(ServiceError::Unauthenticated)?;
        Ok(Caller(state.bureau.authenticate(token).await?))
    }
}

/// The client's address as the connection reports it (proxies' headers are not trusted).
pub struct ClientAddress(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
        Ok(ClientAddress(address))
    }
}
