//! Helpers for the long-term validity tests: licences from a service, pyHanko's verdicts
//! (tests/tools/validate_ltv.py) and openssl's check of a timestamp token.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::service::{Service, issued_pdf};
use super::{python_tool, require_tool, run};

pub const TEMPLATE: &str = "food-business-licence";

/// A licence issued by `service` with the template's example data, written to `dir`.
pub fn issue(service: &Service, dir: &Path, name: &str) -> PathBuf {
    let issuer = service.token("issuer", None, "窗口");
    let issued = service.issue_example(&issuer, TEMPLATE);
    assert_eq!(issued.status(), 201, "{:?}", issued.text());
    let body: Value = issued.json().unwrap();
    let path = dir.join(name);
    std::fs::write(&path, issued_pdf(&body)).unwrap();
    path
}

/// The development root and TSA certificate of `service`.
pub fn development_trust(service: &Service) -> (PathBuf, PathBuf) {
    let data = service.data.path().join("data");
    (
        data.join("development-seal/root-ca.pem"),
        data.join("development-tsa/seal-cert.pem"),
    )
}

/// tests/tools/validate_ltv.py's report on `pdf`, with any extra arguments.
pub fn pyhanko_ltv(pdf: &Path, root: &Path, extra: &[&OsStr]) -> Value {
    let mut args = vec![OsStr::new("--root"), root.as_os_str()];
    args.extend_from_slice(extra);
    args.push(pdf.as_os_str());
    let (_, done) = python_tool("validate_ltv.py", &args);
    serde_json::from_str(&done.stdout).unwrap_or_else(|_| panic!("{}", done.describe()))
}

/// `openssl ts -verify` of a signature timestamp token against the signature value it stamps.
pub fn openssl_verifies(value: &Path, token: &Path, root: &Path, tsa: &Path) -> bool {
    let openssl = require_tool("openssl");
    let checked = run(Command::new(openssl).args([
        OsStr::new("ts"),
        OsStr::new("-verify"),
        OsStr::new("-data"),
        value.as_os_str(),
        OsStr::new("-in"),
        token.as_os_str(),
        OsStr::new("-token_in"),
        OsStr::new("-CAfile"),
        root.as_os_str(),
        OsStr::new("-untrusted"),
        tsa.as_os_str(),
    ]));
    checked.ok() && checked.stdout.contains("Verification: OK")
}

/// Ten years and a month from now, when the development seal certificate (one year) has long
/// expired and the TSA certificate (twelve years) has not.
pub fn ten_years_on() -> String {
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(3683);
    later
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// `oneseal verify FILE --trust ROOT [--at TIME] --json`: the exit code and the report.
pub fn our_verdict(pdf: &Path, root: &Path, at: Option<&str>) -> (Option<i32>, Value) {
    let mut args = vec![
        OsStr::new("verify"),
        pdf.as_os_str(),
        OsStr::new("--trust"),
        root.as_os_str(),
        OsStr::new("--json"),
    ];
    if let Some(at) = at {
        args.extend([OsStr::new("--at"), OsStr::new(at)]);
    }
    let done = super::oneseal(&args);
    let report =
        serde_json::from_str(&done.stdout).unwrap_or_else(|_| panic!("{}", done.describe()));
    (done.code, report)
}

/// `oneseal issue` of the shipped template's example with the seal in `keys`, written to
/// `out`, with `extra` arguments; the run is checked to succeed.
pub fn issue_with_cli(keys: &Path, out: &Path, extra: &[&OsStr]) {
    let template = super::service::shipped_template(TEMPLATE);
    let data = template.join("example.json");
    let mut args = vec![
        OsStr::new("issue"),
        OsStr::new("--template"),
        template.as_os_str(),
        OsStr::new("--data"),
        data.as_os_str(),
        OsStr::new("--keys"),
        keys.as_os_str(),
        OsStr::new("--out"),
        out.as_os_str(),
    ];
    args.extend_from_slice(extra);
    let issued = super::oneseal(&args);
    assert!(issued.ok(), "{}", issued.describe());
}
