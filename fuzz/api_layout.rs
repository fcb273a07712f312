// The api_requests target's input layout and how a request's target becomes its URI, included
// by the target and by tests/api_fuzz_regressions.rs, so a saved input means the same to both.

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

/// `bytes` with each `$` marker replaced by its value (the first marker that matches).
fn replace(bytes: &[u8], markers: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    'scan: while let Some((&first, tail)) = rest.split_first() {
        if first == b'$' {
            for (marker, with) in markers {
                if let Some(after) = rest.strip_prefix(*marker) {
                    out.extend_from_slice(with);
                    rest = after;
                    continue 'scan;
                }
            }
        }
        out.push(first);
        rest = tail;
    }
    out
}

/// Appends `bytes` to `uri`, percent-encoding what a URI cannot carry (`also` is kept too).
fn encode(uri: &mut String, bytes: &[u8], also: &[u8]) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@%/".contains(&b) || also.contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The route's path with the target's parameters (separated by `|`) and query, its markers
/// already replaced; percent-encoded where a URI needs it (a `%` is kept, so bad escapes
/// reach the extractors).
fn target_uri(template: &str, target: &[u8]) -> String {
    let (path, query) = match target.iter().position(|&b| b == b'?') {
        Some(at) => (&target[..at], Some(&target[at + 1..])),
        None => (target, None),
    };
    let mut uri = String::new();
    if template == "{}" {
        if path.first() != Some(&b'/') {
            uri.push('/');
        }
        encode(&mut uri, path, b"");
    } else {
        let mut parameters = path.split(|&b| b == b'|');
        let mut pieces = template.split("{}");
        uri.push_str(pieces.next().unwrap_or_default());
        for piece in pieces {
            encode(&mut uri, parameters.next().unwrap_or_default(), b"");
            uri.push_str(piece);
        }
    }
    if let Some(query) = query {
        uri.push('?');
        encode(&mut uri, query, b"?");
    }
    uri
}
