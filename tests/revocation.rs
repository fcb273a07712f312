//! Revocation of the seal certificate after a key compromise (docs/revocation.md), end to end:
//! a seal whose certificate names the service as its CRL distribution point, `oneseal ca revoke`,
//! publication over the API and from the console, and what verifiers then see: the service's
//! own verification, `oneseal verify --crl`, openssl (`crl`, `verify -crl_check`) and pyHanko
//! fetching the CRL from the URL in the certificate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::service::{Database, Service, expect_error, issued_pdf, token_id};
use common::{oneseal_env, python_tool, require_tool, run};
use oneseal::pki::{CrlContents, CrlNumber, issue_crl, root_key_identifier_hex};
use oneseal::seal::{SecretSources, SoftwareKey};
use serde_json::{Value, json};
use tempfile::TempDir;

const TEMPLATE: &str = "food-business-licence";
const DEPARTMENT: &str = "市场监督管理局";

both_databases! {
    a_revoked_seal_fails_new_signatures_and_keeps_proven_ones => revocation_flow;
}

/// A service signing with a seal whose certificate names this service's CRL URL.
struct Revocable {
    service: Service,
    _keys: TempDir,
    /// The CA's key directory (root-ca.pem, root-ca-key.pem, seal-cert.pem, …).
    keys: PathBuf,
    /// `/crl/{SKI}.crl`.
    crl_path: String,
    /// The seal certificate's serial, uppercase hex.
    seal_serial: String,
}

impl Revocable {
    /// `oneseal keygen --crl-base-url` for a port chosen now, then `oneseal serve` on that port
    /// with that seal: the certificate's CRL distribution point is the running service.
    fn start(database: Database) -> Revocable {
        let keys_dir = TempDir::new().unwrap();
        let keys = keys_dir.path().join("keys");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let origin = format!("http://127.0.0.1:{port}");
        let made = oneseal_env(
            [
                OsStr::new("keygen"),
                OsStr::new("--out"),
                keys.as_os_str(),
                OsStr::new("--crl-base-url"),
                OsStr::new(&origin),
            ],
            &[],
        );
        assert!(made.ok(), "{}", made.describe());
        let root = pem_certificate(&keys.join("root-ca.pem"));
        let crl_path = format!("/crl/{}.crl", root_key_identifier_hex(&root).unwrap());
        assert!(
            made.stdout
                .contains(&format!("CRL distribution point: {origin}{crl_path}")),
            "{}",
            made.describe()
        );
        let seal = pem_certificate(&keys.join("seal-cert.pem"));
        let seal_serial = serial_hex(&seal);
        let service = Service::start_with(
            database,
            &[
                ("ONESEAL_SEAL_KEYS", keys.to_str().unwrap()),
                ("ONESEAL_LISTEN", &format!("127.0.0.1:{port}")),
            ],
        );
        assert_eq!(service.url, origin);
        Revocable {
            service,
            _keys: keys_dir,
            keys,
            crl_path,
            seal_serial,
        }
    }

    /// `oneseal ca ARGS --ca KEYS`, which must succeed.
    fn ca(&self, args: &[&str]) -> common::Run {
        let mut all = vec!["ca"];
        all.extend_from_slice(args);
        let keys = self.keys.to_str().unwrap();
        all.extend(["--ca", keys]);
        let done = self.service.oneseal(&all);
        assert!(done.ok(), "{}", done.describe());
        done
    }

    /// The CA's newest CRL file.
    fn crl_file(&self) -> Vec<u8> {
        std::fs::read(self.keys.join("root-ca.crl")).unwrap()
    }

    fn put_crl(&self, token: Option<&str>, body: &[u8]) -> reqwest::blocking::Response {
        self.service
            .request(reqwest::Method::PUT, "/api/v1/crl", token)
            .header("content-type", "application/pkix-crl")
            .body(body.to_vec())
            .send()
            .unwrap()
    }

    /// Issues the example licence: (serial, PDF).
    fn issue(&self, issuer: &str) -> (String, Vec<u8>) {
        let issued = self.service.issue_example(issuer, TEMPLATE);
        assert_eq!(issued.status(), 201);
        let body: Value = issued.json().unwrap();
        (
            body["serial"].as_str().unwrap().to_string(),
            issued_pdf(&body),
        )
    }

    fn verify(&self, pdf: &[u8]) -> Value {
        let answer = self.service.verify(pdf);
        assert_eq!(answer.status(), 200);
        answer.json().unwrap()
    }
}

/// Before the revocation a licence passes, saying which CRL it was checked against; the seal is
/// revoked (key compromise) and the CRL published; then the licence archived before the
/// revocation still passes with a note, a document signed with the seal key outside the
/// service before the revocation (no proof of when it existed, whatever it claims) fails
/// REVOKED, a licence sealed after the revocation fails REVOKED, and the QR page says
/// which is which. A stale CRL is 409, a forged one 422 and ignored by verification, and every
/// publication is in the audit trail.
fn revocation_flow(database: Database) {
    let bureau = Revocable::start(database);
    let service = &bureau.service;
    service.install_template(TEMPLATE, DEPARTMENT);
    let issuer = service.token("issuer", None, "窗口 1");
    let admin = service.token("admin", None, "局长办公室");
    let auditor = service.token("auditor", None, "审计");

    expect_error(service.get(&bureau.crl_path, None), 404, "crl.not_found");
    bureau.ca(&["crl"]);
    let empty = bureau.crl_file();
    let published = bureau.put_crl(Some(&admin), &empty);
    assert_eq!(published.status(), 201);
    let summary: Value = published.json().unwrap();
    assert_eq!(summary["number"], "1", "{summary}");
    assert_eq!(summary["revoked"], json!([]), "{summary}");
    assert_eq!(summary["path"], bureau.crl_path.as_str(), "{summary}");
    // The same CRL again changes nothing.
    assert_eq!(bureau.put_crl(Some(&admin), &empty).status(), 200);

    let (before, licence_before) = bureau.issue(&issuer);
    let verified = bureau.verify(&licence_before);
    assert_eq!(verified["indication"], "TOTAL-PASSED", "{verified:#}");
    let messages = verified["signatures"][0]["messages"].to_string();
    assert!(
        messages.contains("not revoked according to CRL number 1"),
        "{messages}"
    );

    // Whoever holds the stolen key signs a document of their own, before the revocation too.
    let forgery = TempDir::new().unwrap();
    let forged_pdf = forgery.path().join("forged.pdf");
    let signed = common::sign(
        &common::repo_root().join("docs/examples/approval-notice.pdf"),
        &forged_pdf,
        &bureau.keys,
        &[],
    );
    assert!(signed.ok(), "{}", signed.describe());

    // The revocation's time (whole seconds) must fall after the first licence was archived.
    std::thread::sleep(Duration::from_millis(1100));
    let seal_certificate = bureau.keys.join("seal-cert.pem");
    let revoked = bureau.ca(&[
        "revoke",
        "--certificate",
        seal_certificate.to_str().unwrap(),
    ]);
    assert!(
        revoked.stdout.contains(&bureau.seal_serial),
        "{}",
        revoked.describe()
    );
    let crl_file = bureau.keys.join("root-ca.crl");
    let console = service.oneseal(&["crl", "publish", crl_file.to_str().unwrap()]);
    assert!(console.ok(), "{}", console.describe());
    assert!(
        console.stdout.contains("published CRL number 2")
            && console.stdout.contains(&bureau.seal_serial)
            && console.stdout.contains("keyCompromise"),
        "{}",
        console.describe()
    );
    // Replaying the older list would take the revocation back.
    let stale = expect_error(bureau.put_crl(Some(&admin), &empty), 409, "crl.stale");
    assert!(
        stale["message"].as_str().unwrap().contains("number 2"),
        "{stale}"
    );

    let served = service.get(&bureau.crl_path, None);
    assert_eq!(served.status(), 200);
    let header = |name: &str| {
        served
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(header("content-type"), "application/pkix-crl");
    let max_age: u64 = header("cache-control")
        .strip_prefix("public, max-age=")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("cache-control {:?}", header("cache-control")));
    assert!((1..=3600).contains(&max_age), "{max_age}");
    assert_eq!(
        served.bytes().unwrap().as_ref(),
        bureau.crl_file().as_slice()
    );

    let verified = bureau.verify(&licence_before);
    assert_eq!(verified["indication"], "TOTAL-PASSED", "{verified:#}");
    assert_eq!(verified["registry"]["matches_archive"], true);
    let messages = verified["signatures"][0]["messages"].to_string();
    assert!(
        messages.contains("keyCompromise")
            && messages.contains("after this signature's proven time")
            && messages.contains(&before),
        "{messages}"
    );

    // The forgery claims (/M) it was signed before the revocation; nothing proves it.
    let verified = bureau.verify(&std::fs::read(&forged_pdf).unwrap());
    assert_eq!(verified["indication"], "TOTAL-FAILED", "{verified:#}");
    assert_eq!(verified["signatures"][0]["sub_indication"], "REVOKED");
    assert_eq!(verified["registry"]["status"], "unknown");
    assert!(
        verified["signatures"][0]["messages"]
            .to_string()
            .contains("a claimed signing time is not proof"),
        "{verified:#}"
    );

    let (after, licence_after) = bureau.issue(&issuer);
    let verified = bureau.verify(&licence_after);
    assert_eq!(verified["indication"], "TOTAL-FAILED", "{verified:#}");
    assert_eq!(verified["signatures"][0]["sub_indication"], "REVOKED");
    assert_eq!(verified["registry"]["matches_archive"], true);
    assert!(
        verified["signatures"][0]["messages"]
            .to_string()
            .contains("is not before that"),
        "{verified:#}"
    );

    let page = |serial: &str| {
        service
            .get(&format!("/verify/{serial}"), None)
            .text()
            .unwrap()
    };
    assert!(
        page(&before).contains("撤销不影响本证照"),
        "{}",
        page(&before)
    );
    assert!(
        page(&after).contains("电子印章不能证明其真实性"),
        "{}",
        page(&after)
    );

    forged_crls_are_refused_and_ignored(&bureau, &admin, &licence_before);

    let trail: Value = service
        .get("/api/v1/audit?limit=1000", Some(&auditor))
        .json()
        .unwrap();
    let publications: Vec<(String, String)> = trail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "crl.published")
        .map(|e| {
            (
                e["subject"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let ski = bureau
        .crl_path
        .trim_start_matches("/crl/")
        .trim_end_matches(".crl");
    assert_eq!(publications.len(), 2, "{publications:?}");
    assert_eq!(publications[0].0, format!("crl/{ski}/1"));
    assert!(
        publications[0]
            .1
            .starts_with(&format!("token:{}", token_id(&admin)))
    );
    assert_eq!(
        publications[1],
        (format!("crl/{ski}/2"), "console".to_string())
    );
    let audit = service.oneseal(&["audit", "verify"]);
    assert!(audit.ok(), "{}", audit.describe());
}

/// A CA with the same name but another key "revokes" the seal: the service refuses its CRL
/// (422, over the API and from the console), and `oneseal verify --crl` ignores it with a note
/// while the real CRL fails the licence (no proof of existence offline).
fn forged_crls_are_refused_and_ignored(bureau: &Revocable, admin: &str, licence: &[u8]) {
    let impostor = TempDir::new().unwrap();
    let other = impostor.path().join("keys");
    let made = oneseal_env(
        [OsStr::new("keygen"), OsStr::new("--out"), other.as_os_str()],
        &[],
    );
    assert!(made.ok(), "{}", made.describe());
    let forged_run = bureau.service.oneseal(&[
        "ca",
        "revoke",
        "--ca",
        other.to_str().unwrap(),
        "--serial",
        &bureau.seal_serial,
    ]);
    assert!(forged_run.ok(), "{}", forged_run.describe());
    let forged = std::fs::read(other.join("root-ca.crl")).unwrap();
    let refused = expect_error(bureau.put_crl(Some(admin), &forged), 422, "crl.untrusted");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("not the bureau's root"),
        "{refused}"
    );
    let forged_path = other.join("root-ca.crl");
    let console = bureau
        .service
        .oneseal(&["crl", "publish", forged_path.to_str().unwrap()]);
    assert_eq!(console.code, Some(2), "{}", console.describe());

    let pdf = impostor.path().join("licence.pdf");
    std::fs::write(&pdf, licence).unwrap();
    let root = bureau.keys.join("root-ca.pem");
    let verify = |crl: &Path| {
        let mut command = Command::new(common::oneseal_binary());
        command
            .arg("verify")
            .arg(&pdf)
            .arg("--trust")
            .arg(&root)
            .arg("--crl")
            .arg(crl)
            .arg("--json");
        let done = run(&mut command);
        let report: Value = serde_json::from_str(&done.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", done.describe()));
        (done.code, report)
    };
    let (code, report) = verify(&forged_path);
    assert_eq!(code, Some(0), "{report:#}");
    let messages = report["signatures"][0]["messages"].to_string();
    assert!(messages.contains("was ignored"), "{messages}");
    let (code, report) = verify(&bureau.keys.join("root-ca.crl"));
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(report["signatures"][0]["sub_indication"], "REVOKED");
}

/// Judges we did not write: openssl reads the served CRL, checks its signature with the root and
/// lists the seal's serial as a key compromise, and `openssl verify -crl_check` calls the seal
/// certificate revoked; pyHanko, fetching the CRL itself from the distribution point in the
/// certificate (hard-fail: no CRL would be a failure), accepts a licence while the published
/// CRL lists nothing and reports the signer revoked once it does, for a licence sealed before
/// the revocation (no timestamp) and one sealed after; given the CRL file offline, likewise.
#[test]
fn outside_validators_see_the_seal_revoked() {
    let bureau = Revocable::start(Database::Sqlite);
    let service = &bureau.service;
    service.install_template(TEMPLATE, DEPARTMENT);
    let issuer = service.token("issuer", None, "窗口 1");
    let admin = service.token("admin", None, "局长办公室");
    let work = TempDir::new().unwrap();
    let root = bureau.keys.join("root-ca.pem");

    bureau.ca(&["crl"]);
    assert_eq!(
        bureau.put_crl(Some(&admin), &bureau.crl_file()).status(),
        201
    );
    let (_, licence) = bureau.issue(&issuer);
    let before = work.path().join("before.pdf");
    std::fs::write(&before, &licence).unwrap();
    let verdict = pyhanko(&before, &root, &["--fetch"]);
    assert_eq!(verdict["bottom_line"], true, "{verdict:#}");
    assert_eq!(verdict["revoked"], false, "{verdict:#}");

    std::thread::sleep(Duration::from_millis(1100));
    bureau.ca(&[
        "revoke",
        "--serial",
        &bureau.seal_serial,
        "--reason",
        "key-compromise",
    ]);
    assert_eq!(
        bureau.put_crl(Some(&admin), &bureau.crl_file()).status(),
        201
    );
    let served = work.path().join("served.crl");
    let bytes = service.get(&bureau.crl_path, None).bytes().unwrap();
    std::fs::write(&served, &bytes).unwrap();

    let openssl = require_tool("openssl");
    let checked = run(Command::new(&openssl)
        .args(["crl", "-inform", "DER", "-noout", "-in"])
        .arg(&served)
        .arg("-CAfile")
        .arg(&root));
    assert!(checked.ok(), "{}", checked.describe());
    assert!(
        format!("{}{}", checked.stdout, checked.stderr).contains("verify OK"),
        "{}",
        checked.describe()
    );
    let text = run(Command::new(&openssl)
        .args(["crl", "-inform", "DER", "-noout", "-text", "-in"])
        .arg(&served));
    assert!(text.ok(), "{}", text.describe());
    let listed = text
        .stdout
        .split("Serial Number: ")
        .nth(1)
        .unwrap_or_default();
    assert!(
        listed.starts_with(&bureau.seal_serial) && listed.contains("Key Compromise"),
        "{}",
        text.describe()
    );
    assert!(text.stdout.contains("CRL Number"), "{}", text.describe());
    let pem = work.path().join("served.pem");
    let converted = run(Command::new(&openssl)
        .args(["crl", "-inform", "DER", "-in"])
        .arg(&served)
        .arg("-out")
        .arg(&pem));
    assert!(converted.ok(), "{}", converted.describe());
    let verified = run(Command::new(&openssl)
        .args(["verify", "-crl_check", "-CAfile"])
        .arg(&root)
        .arg("-CRLfile")
        .arg(&pem)
        .arg(bureau.keys.join("seal-cert.pem")));
    assert!(!verified.ok(), "{}", verified.describe());
    assert!(
        format!("{}{}", verified.stdout, verified.stderr).contains("certificate revoked"),
        "{}",
        verified.describe()
    );

    let (_, sealed_after) = bureau.issue(&issuer);
    let after = work.path().join("after.pdf");
    std::fs::write(&after, &sealed_after).unwrap();
    for (pdf, args) in [
        (&before, vec!["--fetch"]),
        (&after, vec!["--fetch"]),
        (&after, vec!["--crl", served.to_str().unwrap()]),
    ] {
        let verdict = pyhanko(pdf, &root, &args);
        assert_eq!(verdict["revoked"], true, "{args:?} {verdict:#}");
        assert_eq!(verdict["bottom_line"], false, "{args:?} {verdict:#}");
        assert_eq!(
            verdict["revocation_reason"], "key_compromise",
            "{args:?} {verdict:#}"
        );
    }
}

/// Hostile bodies for `PUT /api/v1/crl` get a clear 4xx in the one error shape and change
/// nothing: garbage, empty, truncated, trailing bytes, over the limit, the wrong media type,
/// two CRLs at once, a certificate, an expired CRL, one listing absurdly many certificates;
/// the wrong role is refused before the body is read.
#[test]
fn hostile_crl_uploads_are_refused_cleanly() {
    let bureau = Revocable::start(Database::Sqlite);
    let service = &bureau.service;
    let admin = service.token("admin", None, "局长办公室");
    let issuer = service.token("issuer", None, "窗口 1");
    bureau.ca(&["crl"]);
    let good = bureau.crl_file();

    expect_error(bureau.put_crl(None, &good), 401, "auth.unauthenticated");
    expect_error(bureau.put_crl(Some(&issuer), &good), 403, "auth.forbidden");
    let root_der = pem_certificate(&bureau.keys.join("root-ca.pem"));
    let key = SoftwareKey::load(
        &bureau.keys.join("root-ca-key.pem"),
        &SecretSources::default(),
    )
    .unwrap();
    let now = time::OffsetDateTime::now_utc();
    let expired = issue_crl(
        &root_der,
        &key,
        &CrlContents {
            number: CrlNumber::new(7),
            this_update: now - time::Duration::days(10),
            next_update: now - time::Duration::days(3),
            entries: vec![],
        },
    )
    .unwrap();
    let crowded = crowded_crl(&root_der, &key);
    let pem = |der: &[u8]| der::pem::encode_string("X509 CRL", der::pem::LineEnding::LF, der);
    let two = format!("{}{}", pem(&good).unwrap(), pem(&expired).unwrap());
    let certificate = std::fs::read(bureau.keys.join("root-ca.pem")).unwrap();
    let mut trailing = good.clone();
    trailing.push(0);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("garbage", b"this is not a CRL".to_vec(), 422, "crl.invalid"),
        ("empty", Vec::new(), 422, "crl.invalid"),
        (
            "truncated",
            good[..good.len() - 9].to_vec(),
            422,
            "crl.invalid",
        ),
        (
            "cut in half",
            good[..good.len() / 2].to_vec(),
            422,
            "crl.invalid",
        ),
        ("trailing byte", trailing, 422, "crl.invalid"),
        ("a huge body", vec![0x30; 3 << 20], 413, "request.too_large"),
        ("two CRLs", two.into_bytes(), 422, "crl.invalid"),
        ("a certificate", certificate, 422, "crl.invalid"),
        ("expired", expired, 422, "crl.expired"),
        ("10,001 entries", crowded, 422, "crl.invalid"),
        (
            "bad PEM",
            b"-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----\n".to_vec(),
            422,
            "crl.invalid",
        ),
    ];
    for (what, body, status, code) in cases {
        let error = expect_error(bureau.put_crl(Some(&admin), &body), status, code);
        eprintln!("{what}: {}", error["message"]);
    }
    let wrong_type = service
        .request(reqwest::Method::PUT, "/api/v1/crl", Some(&admin))
        .header("content-type", "application/json")
        .body(good.clone())
        .send()
        .unwrap();
    expect_error(wrong_type, 415, "request.unsupported_media_type");
    for bad_name in ["nothex.crl", "ABCDEF.crl", "abcdef", "..%2f..%2fetc.crl"] {
        expect_error(
            service.get(&format!("/crl/{bad_name}"), None),
            404,
            "crl.not_found",
        );
    }
    expect_error(service.get(&bureau.crl_path, None), 404, "crl.not_found");
    service.assert_healthy();
    // PEM is accepted too, and the refusals left nothing behind.
    let published = service
        .request(reqwest::Method::PUT, "/api/v1/crl", Some(&admin))
        .header("content-type", "application/x-pem-file")
        .body(pem(&good).unwrap())
        .send()
        .unwrap();
    assert_eq!(published.status(), 201);
    assert_eq!(
        service
            .get(&bureau.crl_path, None)
            .bytes()
            .unwrap()
            .as_ref(),
        good
    );
    let audit = service.oneseal(&["audit", "verify"]);
    assert!(audit.ok(), "{}", audit.describe());
}

/// A CRL of the root listing 10,001 certificates: rcgen writes it, our issuer would refuse to.
fn crowded_crl(root: &[u8], key: &SoftwareKey) -> Vec<u8> {
    let issuer = rcgen::Issuer::from_ca_cert_der(&root.into(), key).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let params = rcgen::CertificateRevocationListParams {
        this_update: now,
        next_update: now + time::Duration::days(1),
        crl_number: rcgen::SerialNumber::from(9u64),
        issuing_distribution_point: None,
        revoked_certs: (1..=10_001u64)
            .map(|n| rcgen::RevokedCertParams {
                serial_number: rcgen::SerialNumber::from(n),
                revocation_time: now,
                reason_code: None,
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    };
    params.signed_by(&issuer).unwrap().der().to_vec()
}

/// pyHanko's verdict on the one signature of `pdf` (tests/tools/validate_revocation.py).
fn pyhanko(pdf: &Path, root: &Path, extra: &[&str]) -> Value {
    let mut args: Vec<&OsStr> = vec![OsStr::new("--root"), root.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    args.push(pdf.as_os_str());
    let (_, done) = python_tool("validate_revocation.py", &args);
    let report: Value = serde_json::from_str(&done.stdout).unwrap();
    let signature = report["signatures"][0].clone();
    assert!(signature.get("error").is_none(), "{report:#}");
    signature
}

/// The first certificate of a PEM file, DER.
fn pem_certificate(path: &Path) -> Vec<u8> {
    let text = std::fs::read(path).unwrap();
    x509_parser::pem::Pem::iter_from_buffer(&text)
        .next()
        .unwrap()
        .unwrap()
        .contents
}

/// A certificate's serial, uppercase hex without a leading sign octet.
fn serial_hex(der: &[u8]) -> String {
    use x509_parser::prelude::FromDer;
    let (_, certificate) = x509_parser::certificate::X509Certificate::from_der(der).unwrap();
    oneseal::pki::CertificateSerial::from_integer_bytes(certificate.raw_serial())
        .unwrap()
        .to_hex()
}

/// `oneseal ca` on its own: a revocation dated in the past with an invalidity date and another
/// reason, numbers that only grow, and refusals (a future date, the same certificate twice, a
/// certificate of another CA, a state file of another root) that leave the CA's files alone.
#[test]
fn the_ca_records_what_it_revokes_and_refuses_what_it_cannot() {
    let dir = TempDir::new().unwrap();
    let keys = dir.path().join("keys");
    let other = dir.path().join("other");
    for out in [&keys, &other] {
        let made = oneseal_env(
            [OsStr::new("keygen"), OsStr::new("--out"), out.as_os_str()],
            &[],
        );
        assert!(made.ok(), "{}", made.describe());
    }
    let ca = |args: &[&str]| {
        let mut all: Vec<&OsStr> = vec![OsStr::new("ca")];
        all.extend(args.iter().map(OsStr::new));
        all.extend([OsStr::new("--ca"), keys.as_os_str()]);
        oneseal_env(all, &[])
    };
    let seal = serial_hex(&pem_certificate(&keys.join("seal-cert.pem")));
    let revoked = ca(&[
        "revoke",
        "--serial",
        &seal,
        "--reason",
        "superseded",
        "--at",
        "2026-01-02T03:04:05+08:00",
        "--invalid-since",
        "2026-01-01T00:00:00Z",
        "--next-update-days",
        "3",
    ]);
    assert!(revoked.ok(), "{}", revoked.describe());
    let text = openssl_crl_text(&keys.join("root-ca.crl"));
    for expected in [
        "CRL Number: \n                1",
        &format!("Serial Number: {seal}"),
        "Revocation Date: Jan  1 19:04:05 2026 GMT",
        "Superseded",
        "Invalidity Date",
        "Jan  1 00:00:00 2026 GMT",
    ] {
        assert!(
            text.replace("\r", "").contains(expected),
            "{expected:?} not in\n{text}"
        );
    }
    let before = std::fs::read(keys.join("root-ca.crl")).unwrap();
    let state = std::fs::read(keys.join("crl-state.json")).unwrap();
    let refusals = [
        ca(&["revoke", "--serial", &seal]),
        ca(&[
            "revoke",
            "--serial",
            "0badc0de",
            "--at",
            "2999-01-01T00:00:00Z",
        ]),
        ca(&[
            "revoke",
            "--certificate",
            other.join("seal-cert.pem").to_str().unwrap(),
        ]),
        ca(&["revoke", "--serial", "not hex"]),
    ];
    for refused in &refusals {
        assert_eq!(refused.code, Some(2), "{}", refused.describe());
        assert!(
            refused.stderr.starts_with("oneseal: "),
            "{}",
            refused.describe()
        );
    }
    assert!(refusals[0].stderr.contains("already revoked"));
    assert!(refusals[1].stderr.contains("future"));
    assert!(refusals[2].stderr.contains("was not issued by this CA"));
    // Nothing named: clap's own refusal, before anything is read.
    let unnamed = ca(&["revoke"]);
    assert_eq!(unnamed.code, Some(2), "{}", unnamed.describe());
    assert!(
        unnamed.stderr.contains("--serial"),
        "{}",
        unnamed.describe()
    );
    assert_eq!(std::fs::read(keys.join("root-ca.crl")).unwrap(), before);
    assert_eq!(std::fs::read(keys.join("crl-state.json")).unwrap(), state);
    // Another root's state file is not this root's.
    std::fs::copy(keys.join("crl-state.json"), other.join("crl-state.json")).unwrap();
    let mixed = oneseal_env(
        [
            OsStr::new("ca"),
            OsStr::new("crl"),
            OsStr::new("--ca"),
            other.as_os_str(),
        ],
        &[],
    );
    assert_eq!(mixed.code, Some(2), "{}", mixed.describe());
    assert!(
        mixed.stderr.contains("belongs to another root"),
        "{}",
        mixed.describe()
    );
    // Re-issued: a higher number, the same entry, nothing new.
    let again = ca(&["crl"]);
    assert!(again.ok(), "{}", again.describe());
    let text = openssl_crl_text(&keys.join("root-ca.crl"));
    assert!(text.contains("CRL Number: \n                2"), "{text}");
    assert_eq!(text.matches("Serial Number:").count(), 1, "{text}");
    let mode = |name: &str| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(keys.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("root-ca.crl"), 0o644);
    assert_eq!(mode("crl-state.json"), 0o644);
}

fn openssl_crl_text(crl: &Path) -> String {
    let text = run(Command::new(require_tool("openssl"))
        .args(["crl", "-inform", "DER", "-noout", "-text", "-in"])
        .arg(crl));
    assert!(text.ok(), "{}", text.describe());
    text.stdout
}

/// The development seal names its CRL at the running service (a fixed port), and the service
/// publishes the development root's CRL at start: pyHanko, fetching it in hard-fail mode, finds
/// the seal unrevoked, and openssl checks the CRL's signature against the development root.
#[test]
fn the_development_seal_publishes_its_own_crl_where_its_certificate_says() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let service = Service::start_with(
        Database::Sqlite,
        &[("ONESEAL_LISTEN", &format!("127.0.0.1:{port}"))],
    );
    service.install_template(TEMPLATE, DEPARTMENT);
    let issuer = service.token("issuer", None, "开发窗口");
    let dir = service.data.path().join("data/development-seal");
    let root_path = dir.join("root-ca.pem");
    let root = pem_certificate(&root_path);
    let url = format!(
        "http://127.0.0.1:{port}/crl/{}.crl",
        root_key_identifier_hex(&root).unwrap()
    );
    let seal_text = run(Command::new(require_tool("openssl"))
        .args(["x509", "-noout", "-text", "-in"])
        .arg(dir.join("seal-cert.pem")));
    assert!(
        seal_text.stdout.contains(&format!("URI:{url}")),
        "{}",
        seal_text.stdout
    );

    let work = TempDir::new().unwrap();
    let crl = work.path().join("dev.crl");
    let served = service.get(&url.replace(&service.url, ""), None);
    assert_eq!(served.status(), 200);
    std::fs::write(&crl, served.bytes().unwrap()).unwrap();
    let checked = run(Command::new(require_tool("openssl"))
        .args(["crl", "-inform", "DER", "-noout", "-in"])
        .arg(&crl)
        .arg("-CAfile")
        .arg(&root_path));
    assert!(
        checked.stderr.contains("verify OK"),
        "{}",
        checked.describe()
    );

    let response = service.issue_example(&issuer, TEMPLATE);
    assert_eq!(response.status(), 201);
    let body: Value = response.json().unwrap();
    let pdf = work.path().join("licence.pdf");
    std::fs::write(&pdf, issued_pdf(&body)).unwrap();
    let verdict = pyhanko(&pdf, &root_path, &["--fetch"]);
    assert_eq!(verdict["bottom_line"], true, "{verdict:#}");
    assert_eq!(verdict["revoked"], false, "{verdict:#}");
}
