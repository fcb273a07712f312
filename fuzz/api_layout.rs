// The api_requests target's input layout, included by the target and by
// tests/api_fuzz_regressions.rs, so a saved input means the same to both.

/// Every route of `http::router`, and a raw path (`{}` alone) under each method. The request
/// routes (issue 6) come last so that bytes 0–28 keep the meaning saved inputs were made with.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/templates"),
    ("GET", "/api/v1/templates"),
    ("POST", "/api/v1/templates/{}/versions/{}/approve"),
    ("GET", "/api/v1/templates/{}/versions/{}/template.pdf"),
    ("POST", "/api/v1/certificates"),
    ("GET", "/api/v1/certificates"),
    ("GET", "/api/v1/certificates/{}"),
    ("GET", "/api/v1/certificates/{}/pdf"),
    ("POST", "/api/v1/certificates/{}/revoke"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/audit/verify"),
    ("POST", "/api/v1/tokens"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens/{}/revoke"),
    ("GET", "/api/v1/seal/certificate"),
    ("POST", "/api/v1/verify"),
    ("GET", "/verify"),
    ("GET", "/verify/{}"),
    ("GET", "/static/{}"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "{}"),
    ("POST", "{}"),
    ("PUT", "{}"),
    ("DELETE", "{}"),
    ("HEAD", "{}"),
    ("OPTIONS", "{}"),
    ("PATCH", "{}"),
    ("POST", "/api/v1/requests"),
    ("GET", "/api/v1/requests"),
    ("GET", "/api/v1/requests/{}"),
    ("POST", "/api/v1/requests/{}/sign-off"),
    ("POST", "/api/v1/requests/{}/seal"),
    ("POST", "/api/v1/requests/{}/materials"),
    ("GET", "/api/v1/calendar"),
    ("PUT", "/api/v1/calendar/{}"),
    ("GET", "/api/v1/blacklist"),
    ("POST", "/api/v1/blacklist"),
    ("POST", "/api/v1/blacklist/{}/remove"),
    ("GET", "/api/v1/applicants/{}"),
    ("GET", "/api/v1/reports/efficiency"),
];

/// Content types by bits 3–5 of byte 1; the seeds' multipart bodies use boundary `XFUZZ`.
const CONTENT_TYPES: [Option<&str>; 8] = [
    None,
    Some("application/json"),
    Some("multipart/form-data; boundary=XFUZZ"),
    Some("application/pdf"),
    Some("application/octet-stream"),
    Some("text/plain; charset=utf-8"),
    Some("multipart/form-data"),
    Some("application/json; charset=utf-8"),
];

/// Separates the requests of one input.
const NEXT: &[u8] = b"\n#NEXT#\n";
