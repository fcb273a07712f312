//! The seal service under hostile requests, on a real server on loopback: malformed, oversized
//! and mistyped bodies, bad multipart, path tricks, odd `Authorization` headers, hostile PDFs,
//! rate limits, and secrets kept out of the logs. Every refusal has the one error shape, and the
//! service stays up.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::IpAddr;

use common::service::{
    Database, Service, bundle_parts, client_from, expect_error, issued_pdf, multipart_body,
    token_id, token_secret,
};
use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};

const TEMPLATE: &str = "food-business-licence";
const DEPARTMENT: &str = "市场监督管理局";

/// A hostile body: what it is, its content type, its bytes, the status and code it must get
/// (status 0: any clean 4xx refusal).
type BodyCase<'a> = (&'a str, Option<&'a str>, Vec<u8>, u16, &'a str);

/// `POST path` with a raw body and content type, on a fresh connection.
fn post_raw(
    service: &Service,
    path: &str,
    token: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Response {
    let mut request = client_from(IpAddr::from([127, 0, 0, 1]))
        .post(format!("{}{path}", service.url))
        .bearer_auth(token)
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.send().unwrap()
}

/// Writes `request` on a fresh connection and reads the answer's status line.
fn raw_status_line(service: &Service, request: &[u8]) -> String {
    use std::io::{BufRead, BufReader, Write};
    let address = service.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    // The server may answer and close before reading all of it.
    let _ = stream.write_all(request);
    let mut line = String::new();
    let _ = BufReader::new(stream).read_line(&mut line);
    line
}

/// Fails unless the answer is a 4xx in the one error shape (for inputs whose exact refusal is
/// not the point, only that it is a clean one).
fn expect_refusal(response: Response, what: &str) -> Value {
    let status = response.status().as_u16();
    assert!(
        (400..500).contains(&status),
        "{what}: {status} {:?}",
        response.text()
    );
    expect_error(response, status, "")
}

#[test]
fn hostile_json_bodies_are_refused_in_the_one_shape() {
    let service = Service::start(Database::Sqlite);
    service.install_template(TEMPLATE, DEPARTMENT);
    let issuer = service.token("issuer", None, "窗口");
    let admin = service.token("admin", None, "局长");
    let example = Service::example_data(TEMPLATE);
    let example_text = serde_json::to_string(&example).unwrap();
    let with_data = |data: &str| {
        format!(r#"{{"template":"{TEMPLATE}","data":{data},"delivery":"window"}}"#).into_bytes()
    };
    let duplicated = example_text.replacen('{', r#"{"operator_name":"冒名公司","#, 1);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut long_value = example.clone();
    long_value["business_items"] = json!("食".repeat(100_000));
    let json = Some("application/json");
    let cases: Vec<BodyCase> = vec![
        (
            "malformed JSON",
            json,
            br#"{"template":"#.to_vec(),
            400,
            "request.invalid",
        ),
        ("an empty body", json, Vec::new(), 400, "request.invalid"),
        (
            "bytes that are not UTF-8",
            json,
            b"{\"template\":\"\xff\xfe\",\"data\":{}}".to_vec(),
            400,
            "request.invalid",
        ),
        ("a JSON array", json, b"[]".to_vec(), 422, "request.invalid"),
        (
            "a JSON string",
            json,
            b"\"issue\"".to_vec(),
            422,
            "request.invalid",
        ),
        ("JSON null", json, b"null".to_vec(), 422, "request.invalid"),
        (
            "no template",
            json,
            format!(r#"{{"data":{example_text}}}"#).into_bytes(),
            422,
            "request.invalid",
        ),
        (
            "template twice",
            json,
            format!(r#"{{"template":"{TEMPLATE}","template":"x","data":{example_text}}}"#)
                .into_bytes(),
            422,
            "request.invalid",
        ),
        (
            "an unknown field",
            json,
            format!(r#"{{"template":"{TEMPLATE}","data":{example_text},"serial":"X"}}"#)
                .into_bytes(),
            422,
            "request.invalid",
        ),
        (
            "template a number",
            json,
            format!(r#"{{"template":7,"data":{example_text}}}"#).into_bytes(),
            422,
            "request.invalid",
        ),
        (
            "an unknown delivery",
            json,
            format!(r#"{{"template":"{TEMPLATE}","data":{example_text},"delivery":"drone"}}"#)
                .into_bytes(),
            422,
            "request.invalid",
        ),
        (
            "a key twice in data",
            json,
            with_data(&duplicated),
            422,
            "certificate.invalid_data",
        ),
        (
            "data an array",
            json,
            with_data("[]"),
            422,
            "certificate.invalid_data",
        ),
        (
            "data a string",
            json,
            with_data(r#""{}""#),
            422,
            "certificate.invalid_data",
        ),
        (
            "data null",
            json,
            with_data("null"),
            422,
            "certificate.invalid_data",
        ),
        (
            "data a number",
            json,
            with_data("12"),
            422,
            "certificate.invalid_data",
        ),
        (
            "data values of the wrong type",
            json,
            with_data(r#"{"operator_name":5,"credit_code":[],"legal_rep":{}}"#),
            422,
            "certificate.invalid_data",
        ),
        ("data nested 100000 deep", json, with_data(&deep), 0, ""),
        (
            "a value far over its length",
            json,
            with_data(&serde_json::to_string(&long_value).unwrap()),
            422,
            "certificate.invalid_data",
        ),
        (
            "a body over the JSON limit",
            json,
            with_data(&format!(r#"{{"x":"{}"}}"#, "x".repeat(1 << 20))),
            413,
            "request.too_large",
        ),
        (
            "text/plain",
            Some("text/plain"),
            with_data(&example_text),
            415,
            "request.unsupported_media_type",
        ),
        (
            "no content type",
            None,
            with_data(&example_text),
            415,
            "request.unsupported_media_type",
        ),
        (
            "a form",
            Some("application/x-www-form-urlencoded"),
            b"template=x".to_vec(),
            415,
            "request.unsupported_media_type",
        ),
    ];
    for (what, content_type, body, status, code) in cases {
        let response = post_raw(
            &service,
            "/api/v1/certificates",
            &issuer,
            content_type,
            body,
        );
        let error = if status == 0 {
            expect_refusal(response, what)
        } else {
            expect_error(response, status, code)
        };
        eprintln!("{what}: {error}");
    }
    // The duplicate is named, not silently resolved to one of the two values.
    let error = expect_error(
        post_raw(
            &service,
            "/api/v1/certificates",
            &issuer,
            json,
            with_data(&duplicated),
        ),
        422,
        "certificate.invalid_data",
    );
    assert!(error.to_string().contains("operator_name"), "{error}");

    let revoke_cases: Vec<(&str, Value, &str)> = vec![
        ("no reason", json!({}), "request.invalid"),
        (
            "an empty reason",
            json!({ "reason": "  " }),
            "certificate.invalid_reason",
        ),
        (
            "a reason of 501 characters",
            json!({ "reason": "因".repeat(501) }),
            "certificate.invalid_reason",
        ),
        (
            "a reason with a control character",
            json!({ "reason": "撤销\u{7}" }),
            "certificate.invalid_reason",
        ),
        (
            "a reason of the wrong type",
            json!({ "reason": ["撤销"] }),
            "request.invalid",
        ),
    ];
    let issued: Value = service.issue_example(&issuer, TEMPLATE).json().unwrap();
    let revoke = format!(
        "/api/v1/certificates/{}/revoke",
        issued["serial"].as_str().unwrap()
    );
    for (what, body, code) in revoke_cases {
        let response = service.post_json(&revoke, Some(&admin), &body);
        let error = expect_error(response, 422, code);
        eprintln!("revoke with {what}: {error}");
    }
    let token_cases: Vec<Value> = vec![
        json!({ "role": "root", "name": "x" }),
        json!({ "role": "department", "name": "无部门" }),
        json!({ "role": "issuer", "name": "" }),
        json!({ "role": "issuer", "name": "名".repeat(101) }),
        json!({ "role": "issuer", "name": "a\u{0}b" }),
        json!({ "role": "department", "name": "x", "department": "\n" }),
    ];
    for body in token_cases {
        let response = service.post_json("/api/v1/tokens", Some(&admin), &body);
        expect_error(response, 422, "token.invalid");
    }

    // Issuance requests: lists that would cost per element, and fields of the wrong shape.
    let commitment = json!({ "signatory": "王建国", "signed_on": "2026-11-26" });
    let open = |missing: Value, commitment: Value| {
        json!({ "template": TEMPLATE, "data": example, "missing_materials": missing,
                "commitment": commitment })
    };
    // As many as fit in the 1 MiB JSON limit.
    let many_names: Vec<String> = (0..50_000).map(|n| format!("材料{n}")).collect();
    let request_cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "50,000 distinct missing materials",
            open(json!(many_names), commitment.clone()),
            422,
            "request.invalid_materials",
        ),
        (
            "30,000 copies of one material",
            open(json!(vec!["从业人员健康证明"; 30_000]), commitment.clone()),
            422,
            "request.invalid_materials",
        ),
        (
            "a material that is not secondary",
            open(json!(["营业执照"]), commitment.clone()),
            422,
            "request.invalid_materials",
        ),
        (
            "a commitment with an unknown key",
            open(
                json!(["从业人员健康证明"]),
                json!({ "signatory": "王", "signed_on": "2026-11-26", "x": 1 }),
            ),
            422,
            "request.invalid",
        ),
        (
            "a commitment dated 2026-02-30",
            open(
                json!(["从业人员健康证明"]),
                json!({ "signatory": "王", "signed_on": "2026-02-30" }),
            ),
            422,
            "request.invalid_materials",
        ),
        (
            "a signatory of 10,000 characters",
            open(
                json!(["从业人员健康证明"]),
                json!({ "signatory": "王".repeat(10_000), "signed_on": "2026-11-26" }),
            ),
            422,
            "request.invalid_materials",
        ),
        (
            "missing materials as a string",
            open(json!("从业人员健康证明"), commitment.clone()),
            422,
            "request.invalid",
        ),
    ];
    for (what, body, status, code) in request_cases {
        let response = service.post_json("/api/v1/requests", Some(&issuer), &body);
        let error = expect_error(response, status, code);
        assert!(
            error["problems"].as_array().map_or(0, Vec::len) <= 2,
            "{what}: one refusal, not a problem per element: {}",
            error.to_string().len()
        );
    }
    let ready: Value = service
        .post_json(
            "/api/v1/requests",
            Some(&issuer),
            &json!({ "template": TEMPLATE, "data": example }),
        )
        .json()
        .unwrap();
    let materials = format!(
        "/api/v1/requests/{}/materials",
        ready["id"].as_str().unwrap()
    );
    for body in [
        json!({ "materials": many_names }),
        json!({ "materials": [] }),
        json!({ "materials": ["从业人员健康证明"] }),
    ] {
        let response = service.post_json(&materials, Some(&issuer), &body);
        expect_error(response, 422, "request.invalid_materials");
    }
    for (day, body, code) in [
        (
            "2026-13-01",
            json!({ "kind": "holiday" }),
            "calendar.invalid_day",
        ),
        (
            "2026-10-01",
            json!({ "kind": "weekend" }),
            "calendar.invalid_kind",
        ),
        (
            "2026-10-01",
            json!({ "kind": "holiday", "name": "节".repeat(1000) }),
            "calendar.invalid_name",
        ),
    ] {
        let response = service
            .request(
                reqwest::Method::PUT,
                &format!("/api/v1/calendar/{day}"),
                Some(&admin),
            )
            .json(&body)
            .send()
            .unwrap();
        expect_error(response, 422, code);
    }
    service.assert_healthy();
}

#[test]
fn hostile_uploads_are_refused_in_the_one_shape() {
    let service = Service::start(Database::Sqlite);
    service.install_template(TEMPLATE, DEPARTMENT);
    let department = service.token("department", Some(DEPARTMENT), "食品科");
    let stranger = service.token("department", Some("住房和城乡建设局"), "规划科");
    let bundle = bundle_parts(TEMPLATE);
    let part = |name: &str| bundle.iter().find(|(n, _)| *n == name).unwrap().1.clone();
    let with = |name: &'static str, bytes: Vec<u8>| -> Vec<(&'static str, Vec<u8>)> {
        bundle
            .iter()
            .map(|(n, b)| (*n, if *n == name { bytes.clone() } else { b.clone() }))
            .collect()
    };
    let upload = |token: &str, parts: &[(&str, Vec<u8>)]| {
        let (content_type, body) = multipart_body(parts);
        post_raw(
            &service,
            "/api/v1/templates",
            token,
            Some(&content_type),
            body,
        )
    };
    // Refused before its body is read: the answer says the connection closes, so a client
    // that pools connections does not send its next request into a closed socket.
    let reviewer = service.token("reviewer", Some(DEPARTMENT), "审查");
    let refused = upload(&reviewer, &bundle);
    assert_eq!(
        refused
            .headers()
            .get("connection")
            .and_then(|v| v.to_str().ok()),
        Some("close"),
        "{:?}",
        refused.headers()
    );
    expect_error(refused, 403, "auth.forbidden");
    let raw = |content_type: Option<&str>, body: Vec<u8>| {
        post_raw(
            &service,
            "/api/v1/templates",
            &department,
            content_type,
            body,
        )
    };

    let missing = expect_error(upload(&department, &bundle[..2]), 400, "template.upload");
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("example.json"),
        "{missing}"
    );
    let mut extra = bundle.clone();
    extra.push(("template.js", b"alert(1)".to_vec()));
    expect_error(upload(&department, &extra), 400, "template.upload");
    let mut twice = bundle.clone();
    twice.push(("template.toml", part("template.toml")));
    expect_error(upload(&department, &twice), 400, "template.upload");
    let mut nameless = bundle.clone();
    nameless.push(("", b"x".to_vec()));
    expect_error(upload(&department, &nameless), 400, "template.upload");
    let (content_type, mut body) = multipart_body(&bundle);
    body.truncate(body.len() / 2);
    expect_error(raw(Some(&content_type), body), 400, "template.upload");
    expect_error(
        raw(Some("multipart/form-data"), b"--x\r\n".to_vec()),
        400,
        "request.invalid",
    );
    expect_error(
        raw(Some("application/json"), b"{}".to_vec()),
        415,
        "request.unsupported_media_type",
    );
    expect_error(
        raw(None, b"x".to_vec()),
        415,
        "request.unsupported_media_type",
    );

    // Limits: one part over its own limit, and a body over the upload limit.
    let over_manifest = with("template.toml", vec![b'#'; (64 << 10) + 1]);
    expect_error(
        upload(&department, &over_manifest),
        413,
        "request.too_large",
    );
    let over_upload = with("template.pdf", vec![b'%'; (16 << 20) + 1024]);
    expect_error(upload(&department, &over_upload), 413, "request.too_large");

    // Content: every problem listed; the department is the token's own.
    let hostile_blank =
        std::fs::read(common::repo_root().join("tests/data/bundles/hostile/names-javascript.pdf"))
            .unwrap();
    let invalid = expect_error(
        upload(&department, &with("template.pdf", hostile_blank)),
        422,
        "template.invalid",
    );
    let problems = invalid["problems"].as_array().unwrap();
    assert!(problems.len() >= 2, "{invalid}");
    assert!(
        problems
            .iter()
            .any(|p| p["message"].as_str().unwrap().contains("JavaScript")),
        "{invalid}"
    );
    for (name, bytes) in [
        ("template.toml", b"[template\nid = ".to_vec()),
        ("example.json", b"{\"operator_name\": ".to_vec()),
        ("template.pdf", b"%PDF-1.7\n%%EOF\n".to_vec()),
        ("template.toml", vec![0xff, 0xfe, 0x00]),
    ] {
        expect_error(
            upload(&department, &with(name, bytes)),
            422,
            "template.invalid",
        );
    }
    expect_error(upload(&stranger, &bundle), 403, "auth.forbidden");
    // A department cannot take over another department's template id with its own manifest.
    let manifest = String::from_utf8(part("template.toml"))
        .unwrap()
        .replace(DEPARTMENT, "住房和城乡建设局");
    let takeover = expect_error(
        upload(&stranger, &with("template.toml", manifest.into_bytes())),
        403,
        "auth.forbidden",
    );
    assert!(
        takeover["message"].as_str().unwrap().contains(DEPARTMENT),
        "{takeover}"
    );
    // After all that, an honest upload still works and nothing else was stored.
    assert_eq!(upload(&department, &bundle).status(), 201);
    let admin = service.token("admin", None, "局长");
    let listed: Value = service
        .get("/api/v1/templates", Some(&admin))
        .json()
        .unwrap();
    assert_eq!(listed["templates"].as_array().unwrap().len(), 2, "{listed}");
    service.assert_healthy();
}

/// Path parameters and query strings that are traps (`../`, NUL, 8 KB, unicode, SQL), and
/// every shape of `Authorization` header. On both registries: PostgreSQL refuses NUL in text,
/// which must read as "not found", not as the registry failing.
fn hostile_paths_and_authorization_headers(database: Database) {
    let service = Service::start(database);
    service.install_template(TEMPLATE, DEPARTMENT);
    let issuer = service.token("issuer", None, "窗口");
    let admin = service.token("admin", None, "局长");
    let long = "A".repeat(8000);
    let odd = [
        "..%2F..%2Fetc%2Fpasswd",
        "..%2F..%2F..%2Fdata%2Foneseal.db",
        "%00",
        "abc%00def",
        long.as_str(),
        "%E8%AF%81%E7%85%A7%E7%BC%96%E5%8F%B7",
        "%E2%80%AE%E2%80%8B",
        "%27%3B%20DROP%20TABLE%20certificates%3B%20--",
        "%25n%25s%25x",
    ];
    for segment in odd {
        for (path, token) in [
            (format!("/api/v1/certificates/{segment}"), &issuer),
            (format!("/api/v1/certificates/{segment}/pdf"), &issuer),
            (
                format!("/api/v1/templates/{segment}/versions/1/template.pdf"),
                &admin,
            ),
        ] {
            let error = expect_error(service.get(&path, Some(token)), 404, "not_found");
            assert!(
                error["message"].as_str().unwrap().chars().count() < 200,
                "{error}"
            );
        }
        for (path, token) in [
            (format!("/api/v1/certificates/{segment}/revoke"), &admin),
            (format!("/api/v1/tokens/{segment}/revoke"), &admin),
            (
                format!("/api/v1/templates/{segment}/versions/1/approve"),
                &admin,
            ),
        ] {
            let response = service.post_json(&path, Some(token), &json!({ "reason": "x" }));
            let error = expect_error(response, 404, "not_found");
            assert!(
                error["message"].as_str().unwrap().chars().count() < 200,
                "{error}"
            );
        }
        let page = service.get(&format!("/verify/{segment}"), None);
        assert_eq!(page.status(), 404, "/verify/{segment}");
        let text = page.text().unwrap();
        assert!(!text.contains("<script>alert"), "{text}");
    }
    for version in ["abc", "1.5", "99999999999999999999", "%00", "-"] {
        let path = format!("/api/v1/templates/{TEMPLATE}/versions/{version}/approve");
        let response = service
            .request(Method::POST, &path, Some(&admin))
            .send()
            .unwrap();
        expect_error(response, 400, "request.invalid");
    }
    // Search terms and paging: odd terms find nothing, malformed ones are 400.
    let auditor = service.token("auditor", None, "审计");
    for query in [
        "serial=%00",
        "holder=%00",
        "holder=%25",
        "holder=_",
        "credit_code=a%00",
        "template=%00",
        "holder=%27%20OR%201%3D1%20--",
        "limit=-5",
        "limit=0",
        "offset=-1",
    ] {
        let path = format!("/api/v1/certificates?{query}");
        let response = service.get(&path, Some(&auditor));
        assert_eq!(response.status(), 200, "{path}: {:?}", response.text());
        let found: Value = response.json().unwrap();
        assert_eq!(found["certificates"], json!([]), "{path}: {found}");
    }
    for query in [
        "limit=abc",
        "limit=99999999999999999999",
        "from=2026-02-30",
        "until=tomorrow",
        "from=%00",
        "colour=red",
        "serial=a&serial=b",
    ] {
        let path = format!("/api/v1/certificates?{query}");
        expect_error(service.get(&path, Some(&auditor)), 400, "request.invalid");
    }
    for query in ["after=x", "limit=%00", "after=1e3"] {
        let path = format!("/api/v1/audit?{query}");
        expect_error(service.get(&path, Some(&auditor)), 400, "request.invalid");
    }
    for template in [
        r"\u0000",
        "../food-business-licence",
        "食品",
        "a".repeat(70).as_str(),
    ] {
        let body = format!(r#"{{"template":"{template}","data":{{}}}}"#);
        let response = post_raw(
            &service,
            "/api/v1/certificates",
            &issuer,
            Some("application/json"),
            body.into_bytes(),
        );
        expect_error(response, 404, "not_found");
    }
    for version in ["0", "-1", "9223372036854775807"] {
        let path = format!("/api/v1/templates/{TEMPLATE}/versions/{version}/template.pdf");
        expect_error(service.get(&path, Some(&admin)), 404, "not_found");
    }
    expect_error(
        service.get("/api/v1/nothing-here", None),
        404,
        "route.not_found",
    );
    expect_error(
        service.get("/static/..%2F..%2FCargo.toml", None),
        404,
        "route.not_found",
    );
    let wrong_method = service
        .request(Method::DELETE, "/api/v1/templates", Some(&admin))
        .send()
        .unwrap();
    expect_error(wrong_method, 405, "route.method_not_allowed");
    let put = service
        .request(Method::PUT, "/api/v1/certificates", Some(&admin))
        .send()
        .unwrap();
    expect_error(put, 405, "route.method_not_allowed");
    // A URI too long for the HTTP layer is refused there, and the service stays up.
    // (Sent by hand: HTTP clients refuse to send it at all.)
    let status = raw_status_line(
        &service,
        format!(
            "GET /api/v1/certificates/{} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            "A".repeat(100_000)
        )
        .as_bytes(),
    );
    assert!(status.starts_with("HTTP/1.1 4"), "{status}");
    service.assert_healthy();

    // Authorization headers: only `Bearer <the whole token>` (scheme in any case) is accepted.
    let admin_token = admin.as_str();
    let refused: Vec<(&str, Vec<u8>)> = vec![
        ("no scheme", admin_token.as_bytes().to_vec()),
        ("Basic", b"Basic YWRtaW46YWRtaW4=".to_vec()),
        (
            "another scheme",
            format!("Token {admin_token}").into_bytes(),
        ),
        (
            "the token with trailing junk",
            format!("Bearer {admin_token}x").into_bytes(),
        ),
        (
            "the token then a word",
            format!("Bearer {admin_token} x").into_bytes(),
        ),
        (
            "the token cut short",
            format!("Bearer {}", &admin_token[..admin_token.len() - 1]).into_bytes(),
        ),
        (
            "the secret alone",
            format!("Bearer {}", token_secret(admin_token)).into_bytes(),
        ),
        ("the scheme alone", b"Bearer".to_vec()),
        ("the scheme and a space", b"Bearer ".to_vec()),
        (
            "a comma list",
            format!("Bearer {admin_token}, Bearer {admin_token}").into_bytes(),
        ),
        (
            "10 KB",
            format!("Bearer {}", "a".repeat(10 << 10)).into_bytes(),
        ),
        ("not UTF-8", b"Bearer \xff\xfe\xfd".to_vec()),
        ("unicode", "Bearer 令牌".as_bytes().to_vec()),
    ];
    for (what, value) in refused {
        let response = service
            .request(Method::GET, "/api/v1/tokens", None)
            .header(
                "authorization",
                reqwest::header::HeaderValue::from_bytes(&value).unwrap(),
            )
            .send()
            .unwrap();
        assert_eq!(
            response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap()),
            Some("Bearer"),
            "{what}"
        );
        let error = expect_error(response, 401, "auth.unauthenticated");
        eprintln!("Authorization {what}: {error}");
    }
    for (first, second) in [(admin_token, "Bearer x"), ("Bearer x", admin_token)] {
        let response = service
            .request(Method::GET, "/api/v1/tokens", None)
            .header(
                "authorization",
                format!("Bearer {}", first.trim_start_matches("Bearer ")),
            )
            .header(
                "authorization",
                format!("Bearer {}", second.trim_start_matches("Bearer ")),
            )
            .send()
            .unwrap();
        expect_error(response, 401, "auth.unauthenticated");
    }
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = service
            .request(Method::GET, "/api/v1/tokens", None)
            .header("authorization", format!("{scheme} {admin_token}"))
            .send()
            .unwrap();
        assert_eq!(response.status(), 200, "{scheme}");
    }
    service.assert_healthy();
}

#[test]
fn hostile_verifications_are_judged_or_refused_never_crash() {
    let service = Service::start(Database::Sqlite);
    service.install_template(TEMPLATE, DEPARTMENT);
    let issuer = service.token("issuer", None, "窗口");
    let licence = issued_pdf(&service.issue_example(&issuer, TEMPLATE).json().unwrap());
    let verify = |content_type: Option<&str>, body: Vec<u8>| {
        let mut request = client_from(IpAddr::from([127, 0, 0, 1]))
            .post(format!("{}/api/v1/verify", service.url))
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.send().unwrap()
    };
    let pdf = Some("application/pdf");
    expect_error(
        verify(pdf, b"this is not a PDF".to_vec()),
        422,
        "verify.unreadable",
    );
    expect_error(verify(pdf, Vec::new()), 422, "verify.empty");
    // Half a licence is unreadable, or (when the cut leaves a whole earlier revision) a file
    // without its seal: never a pass.
    let half = verify(pdf, licence[..licence.len() / 2].to_vec());
    match half.status().as_u16() {
        422 => {}
        200 => {
            let report: serde_json::Value = half.json().unwrap();
            assert_eq!(report["indication"], "TOTAL-FAILED", "{report:#}");
        }
        other => panic!("half a licence answered {other}"),
    }
    expect_error(
        verify(pdf, licence[..licence.len() - 10].to_vec()),
        422,
        "verify.",
    );
    expect_error(verify(pdf, b"%PDF-1.7\n".to_vec()), 422, "verify.");
    expect_error(verify(pdf, vec![0u8; 1 << 20]), 422, "verify.");
    expect_error(
        verify(pdf, vec![b'%'; (20 << 20) + 1024]),
        413,
        "request.too_large",
    );
    expect_error(
        verify(Some("text/plain"), licence.clone()),
        415,
        "request.unsupported_media_type",
    );
    expect_error(
        verify(None, licence.clone()),
        415,
        "request.unsupported_media_type",
    );
    let (form, body) = multipart_body(&[("file", licence.clone())]);
    expect_error(
        verify(Some(&form), body),
        415,
        "request.unsupported_media_type",
    );

    // A licence with one byte of its signed content changed: judged, and not this bureau's copy.
    let mut altered = licence.clone();
    let at = altered.len() / 3;
    altered[at] ^= 0x01;
    let judged = verify(pdf, altered);
    let status = judged.status().as_u16();
    if status == 200 {
        let report: Value = judged.json().unwrap();
        assert_ne!(report["indication"], "TOTAL-PASSED", "{report}");
        assert_eq!(report["registry"]["matches_archive"], false, "{report}");
    } else {
        expect_error(judged, 422, "verify.");
    }

    // The fuzzers' regression inputs and the hostile blanks: a verdict or a clean refusal.
    let root = common::repo_root().join("tests/data");
    let mut files: Vec<_> = ["fuzz", "bundles/hostile", "bundles/redteam"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root.join(dir)).unwrap())
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "pdf" || e == "bin"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "{files:?}");
    for file in &files {
        let response = verify(pdf, std::fs::read(file).unwrap());
        let what = file.display().to_string();
        match response.status().as_u16() {
            200 => {
                let report: Value = response.json().unwrap();
                assert!(report["indication"].is_string(), "{what}: {report}");
                assert_eq!(report["registry"]["status"], "unknown", "{what}: {report}");
            }
            _ => {
                expect_error(response, 422, "verify.");
            }
        }
    }
    service.assert_healthy();
    let verified: Value = service.verify(&licence).json().unwrap();
    assert_eq!(verified["indication"], "TOTAL-PASSED", "{verified}");
}

#[test]
fn rate_limits_per_address_and_per_token() {
    let service = Service::start_with(
        Database::Sqlite,
        &[
            ("ONESEAL_VERIFY_PER_MINUTE", "5"),
            ("ONESEAL_ISSUE_PER_SECOND", "2"),
        ],
    );
    service.install_template(TEMPLATE, DEPARTMENT);
    let first = service.token("issuer", None, "窗口 1");
    let second = service.token("issuer", None, "窗口 2");
    let from = |last: u8| client_from(IpAddr::from([127, 0, 0, last]));
    let url = |path: &str| format!("{}{path}", service.url);

    // Verification: five per minute per address, whatever the body; proxies' headers are not
    // trusted to name another address.
    let one = from(1);
    let verify = |client: &reqwest::blocking::Client, forwarded: Option<&str>| {
        let mut request = client
            .post(url("/api/v1/verify"))
            .header("content-type", "application/pdf")
            .body(b"not a pdf".to_vec());
        if let Some(forwarded) = forwarded {
            request = request
                .header("x-forwarded-for", forwarded)
                .header("x-real-ip", forwarded);
        }
        request.send().unwrap()
    };
    for _ in 0..5 {
        expect_error(verify(&one, None), 422, "verify.unreadable");
    }
    let limited = verify(&one, None);
    let retry_after: u64 = limited
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a 429 says when to retry");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    expect_error(limited, 429, "request.rate_limited");
    expect_error(
        verify(&one, Some("203.0.113.9")),
        429,
        "request.rate_limited",
    );
    let page = one.get(url("/verify/AB12")).send().unwrap();
    assert_eq!(
        page.status(),
        429,
        "the QR page shares the verification quota"
    );
    expect_error(verify(&from(2), None), 422, "verify.unreadable");

    // Issuance: two per second per token and per address. Requests naming no approved template
    // pass the limiter and are refused at once, so the quota is spent within milliseconds.
    let issue = |client: &reqwest::blocking::Client, token: &str, template: &str| {
        client
            .post(url("/api/v1/certificates"))
            .bearer_auth(token)
            .json(&json!({ "template": template, "data": Service::example_data(TEMPLATE) }))
            .send()
            .unwrap()
    };
    let (two, three, four) = (from(2), from(3), from(4));
    for _ in 0..2 {
        expect_error(issue(&two, &first, "no-such-template"), 404, "not_found");
    }
    expect_error(issue(&two, &first, TEMPLATE), 429, "request.rate_limited");
    // The same token from a fresh address: still limited (per token).
    expect_error(issue(&three, &first, TEMPLATE), 429, "request.rate_limited");
    // Another token from the spent address: still limited (per address).
    expect_error(issue(&two, &second, TEMPLATE), 429, "request.rate_limited");
    // Another token from another address: issues.
    assert_eq!(issue(&four, &second, TEMPLATE).status(), 201);
    // The quota comes back.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(issue(&two, &first, TEMPLATE).status(), 201);
    service.assert_healthy();
}

both_databases! {
    hostile_paths_and_authorization_headers_are_refused => hostile_paths_and_authorization_headers;
    secrets_never_reach_the_logs => secrets_never_in_logs;
}

/// A full run at the most verbose log level — tokens made, used, revoked, refused; a licence
/// issued, verified and revoked — leaves no token, token secret, seal key or database password
/// in the service's logs, the token list or the audit trail.
fn secrets_never_in_logs(database: Database) {
    let mut service = Service::start_with(database, &[("ONESEAL_LOG", "trace")]);
    service.install_template(TEMPLATE, DEPARTMENT);
    let issuer = service.token("issuer", None, "窗口");
    let admin = service.token("admin", None, "局长");
    let auditor = service.token("auditor", None, "审计");
    let issued: Value = service.issue_example(&issuer, TEMPLATE).json().unwrap();
    let serial = issued["serial"].as_str().unwrap();
    assert_eq!(service.verify(&issued_pdf(&issued)).status(), 200);
    let created: Value = service
        .post_json(
            "/api/v1/tokens",
            Some(&admin),
            &json!({ "role": "issuer", "name": "窗口 2" }),
        )
        .json()
        .unwrap();
    let api_token = created["token"].as_str().unwrap().to_string();
    assert_eq!(
        service
            .get("/api/v1/certificates", Some(&api_token))
            .status(),
        200
    );
    let revoke = format!("/api/v1/tokens/{}/revoke", token_id(&api_token));
    assert_eq!(
        service
            .request(Method::POST, &revoke, Some(&admin))
            .send()
            .unwrap()
            .status(),
        204
    );
    // Refused: a revoked token, a wrong secret, a token under the wrong scheme, one in the URL.
    let wrong = format!("oneseal_{}_{}", token_id(&admin), "B".repeat(43));
    for token in [api_token.as_str(), wrong.as_str(), "not-a-token"] {
        assert_eq!(service.get("/api/v1/tokens", Some(token)).status(), 401);
    }
    let basic = service
        .request(Method::GET, "/api/v1/tokens", None)
        .header("authorization", format!("Token {admin}"))
        .send()
        .unwrap();
    assert_eq!(basic.status(), 401);
    let in_url = service.get(&format!("/api/v1/tokens?token={admin}"), Some(&admin));
    assert_eq!(in_url.status(), 200);
    let revoked = service.post_json(
        &format!("/api/v1/certificates/{serial}/revoke"),
        Some(&admin),
        &json!({ "reason": "测试撤销" }),
    );
    assert_eq!(revoked.status(), 200);
    let tokens_json = service.get("/api/v1/tokens", Some(&admin)).text().unwrap();
    let trail = service
        .get("/api/v1/audit?limit=1000", Some(&auditor))
        .text()
        .unwrap();
    let listed = service.oneseal(&["token", "list"]);
    assert!(listed.ok(), "{}", listed.describe());
    assert!(
        listed.stdout.contains(token_id(&issuer)),
        "{}",
        listed.describe()
    );
    service.terminate();
    let logs = service.logs();
    assert!(
        logs.contains("/api/v1/tokens"),
        "the request log is on:\n{logs}"
    );

    let seal = service.data.path().join("data/development-seal");
    let mut secrets: Vec<(String, String)> = Vec::new();
    for token in [&issuer, &admin, &auditor, &api_token, &wrong] {
        secrets.push((format!("token {}", token_id(token)), token.clone()));
        secrets.push((
            format!("secret of {}", token_id(token)),
            token_secret(token).to_string(),
        ));
    }
    for key in ["seal-key.pem", "root-ca-key.pem"] {
        let pem = std::fs::read_to_string(seal.join(key)).unwrap();
        let body: Vec<&str> = pem
            .lines()
            .filter(|line| !line.starts_with("-----") && !line.trim().is_empty())
            .collect();
        assert!(!body.is_empty(), "{key}");
        for line in &body {
            secrets.push((format!("a line of {key}"), line.to_string()));
        }
        secrets.push((format!("the base64 of {key}"), body.concat()));
    }
    secrets.push(("the PostgreSQL password".into(), "oneseal_test".into()));
    for (what, secret) in &secrets {
        for (place, text) in [
            ("the service's logs", &logs),
            ("GET /api/v1/tokens", &tokens_json),
            ("the audit trail", &trail),
            ("oneseal token list", &listed.stdout),
            ("oneseal token list (stderr)", &listed.stderr),
        ] {
            assert!(!text.contains(secret.as_str()), "{what} appears in {place}");
        }
    }
}
