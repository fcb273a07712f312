//! The OpenAPI document (src/http/openapi.json) kept in step with the service: it is valid
//! OpenAPI 3.1 (openapi-spec-validator), it names exactly the routes `router()` in src/http/mod.rs
//! declares, and a real server answers every documented operation as documented: public ones
//! without a token, the others 401 without one and 403 exactly for the roles `x-roles` leaves out.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::repo_root;
use common::service::{Database, Service, shipped_template};
use serde_json::Value;

const ROLES: [&str; 5] = ["department", "reviewer", "issuer", "admin", "auditor"];
/// The HTTP methods axum's routing functions are named after.
const METHODS: [&str; 7] = ["get", "post", "put", "delete", "patch", "head", "options"];

#[test]
fn the_document_is_valid_openapi_3_1_and_says_who_may_call_what() {
    let document = document();
    assert_eq!(document["openapi"], "3.1.0");
    let path = repo_root().join("src/http/openapi.json");
    let (verdict, _) = common::python_tool("openapi_check.py", &[path.as_os_str()]);
    assert_eq!(
        verdict.get("valid").as_bool(),
        Some(true),
        "openapi-spec-validator: {}",
        verdict.get("error")
    );

    let scheme = &document["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    let mut ids = BTreeSet::new();
    for (method, path, operation) in operations(&document) {
        let name = format!("{} {path}", method.to_uppercase());
        assert!(
            ids.insert(operation["operationId"].as_str().unwrap().to_string()),
            "{name}: operationId repeated"
        );
        let description = operation["description"].as_str().unwrap();
        assert!(
            description.starts_with("**Roles:** "),
            "{name}: {description}"
        );
        let security = operation["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no security"));
        let roles = operation["x-roles"].as_array();
        if security.is_empty() {
            assert!(description.contains("public, no token"), "{name}");
            assert!(roles.is_none(), "{name}: public yet x-roles");
        } else {
            assert_eq!(
                security,
                &[serde_json::json!({ "bearerAuth": [] })],
                "{name}"
            );
            let roles = roles.unwrap_or_else(|| panic!("{name}: no x-roles"));
            assert!(!roles.is_empty(), "{name}");
            for role in roles {
                let role = role.as_str().unwrap();
                assert!(ROLES.contains(&role), "{name}: unknown role {role}");
                assert!(
                    description.contains(role),
                    "{name}: {role} not in the description"
                );
            }
            for status in ["401", "403"] {
                let documented = operation["responses"].get(status).is_some();
                let any_role = roles.len() == ROLES.len();
                assert!(
                    documented || (status == "403" && any_role),
                    "{name}: {status} undocumented"
                );
            }
        }
        for (status, response) in operation["responses"].as_object().unwrap() {
            let error = response["$ref"]
                .as_str()
                .is_some_and(|r| r.starts_with("#/components/responses/"));
            assert!(
                status.starts_with('2') || error || response["content"].is_object(),
                "{name} {status}: neither the error shape nor a body"
            );
        }
    }
}

#[test]
fn the_document_names_exactly_the_routes_of_router() {
    let source = std::fs::read_to_string(repo_root().join("src/http/mod.rs")).unwrap();
    let routed = routes_in(&source);
    assert!(routed.len() >= 20, "the route parser found only {routed:?}");
    let documented: BTreeSet<(String, String)> = operations(&document())
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routed but not documented: {undocumented:?}\ndocumented but not routed: {unrouted:?}"
    );
}

#[test]
fn every_documented_operation_answers_as_documented() {
    let service = Service::start(Database::Sqlite);
    service.install_template("food-business-licence", "市场监督管理局");
    let tokens: BTreeMap<&str, String> = ROLES
        .iter()
        .map(|role| {
            let department = matches!(*role, "department" | "reviewer").then_some("市场监督管理局");
            (
                *role,
                service.token(role, department, &format!("openapi {role}")),
            )
        })
        .collect();
    // Version 2, pending: the documented example, whose blank its department may still fetch.
    let resubmitted = service.upload_template(
        &tokens["department"],
        &shipped_template("food-business-licence"),
    );
    assert_eq!(resubmitted.status(), 201);
    assert_eq!(resubmitted.json::<Value>().unwrap()["version"], 2);
    let issued = service.issue_example(&tokens["issuer"], "food-business-licence");
    assert_eq!(issued.status(), 201);
    let serial = issued.json::<Value>().unwrap()["serial"]
        .as_str()
        .unwrap()
        .to_string();
    // The development seal's root publishes a CRL, so `/crl/{crl_file}` has one to serve.
    let seal_dir = service.data.path().join("data/development-seal");
    for args in [
        vec!["ca", "crl", "--ca", seal_dir.to_str().unwrap()],
        vec![
            "crl",
            "publish",
            seal_dir.join("root-ca.crl").to_str().unwrap(),
        ],
    ] {
        let done = service.oneseal(&args);
        assert!(done.ok(), "{}", done.describe());
    }
    let root = std::fs::read(seal_dir.join("root-ca.pem")).unwrap();
    let (_, root) = x509_parser::pem::parse_x509_pem(&root).unwrap();
    let crl_file = format!(
        "{}.crl",
        oneseal::pki::root_key_identifier_hex(&root.contents).unwrap()
    );

    let served: Value = service.get("/api/v1/openapi.json", None).json().unwrap();
    let document = document();
    assert_eq!(
        served, document,
        "the served document is not src/http/openapi.json"
    );

    for (method, path, operation) in operations(&document) {
        let url = concrete(&path, operation, &serial, &crl_file);
        let name = format!("{} {url}", method.to_uppercase());
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let anonymous = service.request(method.clone(), &url, None).send().unwrap();
        let status = anonymous.status().as_u16();
        assert!(
            !matches!(status, 404 | 405),
            "{name}: {status} without a token"
        );
        assert!(
            operation["responses"].get(status.to_string()).is_some(),
            "{name}: {status} is not among the documented responses"
        );
        let public = operation["security"].as_array().unwrap().is_empty();
        assert_eq!(status == 401, !public, "{name}: {status} without a token");

        // Reads reach the role check with no body to get past; writes are the authorization
        // matrix's (tests/api.rs), which sends them real bodies.
        if public || method != reqwest::Method::GET {
            continue;
        }
        let allowed: Vec<&str> = operation["x-roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        for role in ROLES {
            let status = service
                .request(method.clone(), &url, Some(&tokens[role]))
                .send()
                .unwrap()
                .status()
                .as_u16();
            assert_eq!(
                status == 403,
                !allowed.contains(&role),
                "{name} as {role}: {status}, documented roles {allowed:?}"
            );
        }
    }
}

/// src/http/openapi.json, parsed.
fn document() -> Value {
    let text = std::fs::read_to_string(repo_root().join("src/http/openapi.json")).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("src/http/openapi.json: {e}"))
}

/// Every (method, path, operation) of the document, methods in lowercase.
fn operations(document: &Value) -> Vec<(String, String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            assert!(METHODS.contains(&method.as_str()), "{path}: {method}");
            found.push((method.clone(), path.clone(), operation));
        }
    }
    found
}

/// `path` with each parameter replaced by its documented example, `{serial}` by a real licence
/// and `{crl_file}` by the name of a published CRL.
fn concrete(path: &str, operation: &Value, serial: &str, crl_file: &str) -> String {
    let mut url = path.to_string();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        if parameter["in"] != "path" {
            continue;
        }
        let name = parameter["name"].as_str().unwrap();
        let example = &parameter["example"];
        let value = match (name, example) {
            ("serial", _) => serial.to_string(),
            ("crl_file", _) => crl_file.to_string(),
            (_, Value::String(text)) => text.clone(),
            (_, Value::Number(number)) => number.to_string(),
            _ => panic!("{path}: parameter {name} has no example"),
        };
        url = url.replace(&format!("{{{name}}}"), &value);
    }
    assert!(!url.contains('{'), "{path}: undocumented path parameter");
    url
}

/// The (method, path) pairs of every `.route("path", get(…).post(…))` call in `source`.
fn routes_in(source: &str) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (at, _) in source.match_indices(".route(") {
        let call = balanced(&source[at + ".route".len()..]);
        let path = call
            .split('"')
            .nth(1)
            .unwrap_or_else(|| panic!("no path literal in .route{call}"));
        let mut methods = 0;
        for (start, word) in identifiers(call) {
            let called = call[start + word.len()..].starts_with('(');
            let qualified = call[..start].ends_with("::");
            if called && !qualified && METHODS.contains(&word) {
                routes.insert((word.to_string(), path.to_string()));
                methods += 1;
            }
        }
        assert!(methods > 0, "no method in .route{call}");
    }
    routes
}

/// The parenthesised text at the start of `text`, up to its matching `)`.
fn balanced(text: &str) -> &str {
    let mut depth = 0;
    let mut in_string = false;
    for (at, c) in text.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return &text[..=at];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced: {}", &text[..text.len().min(200)]);
}

/// Each identifier in `text` with its byte offset.
fn identifiers(text: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices().chain([(text.len(), ' ')]) {
        let part = c.is_ascii_alphanumeric() || c == '_';
        match (part, start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                found.push((from, &text[from..at]));
                start = None;
            }
            _ => {}
        }
    }
    found
}
