//! Seal rotation without downtime: two instances on one PostgreSQL registry issue without pause
//! while `oneseal seal rotate` moves the seal from an encrypted key file to a key in SoftHSM2
//! issued by the same root. Every issuance succeeds, both instances switch, every licence still
//! verifies (pyHanko, the service), and the registry says which seal signed which licence.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::hsm::{ROOT_PASSPHRASE, SoftHsm};
use common::service::{Database, Service, issued_pdf};
use common::{oneseal_binary, pyhanko_validate, run};
use serde_json::Value;

const TEMPLATE: &str = "food-business-licence";

/// A file seal (encrypted, with its root), and a token seal issued by the same root.
struct Seals {
    hsm: SoftHsm,
    file: PathBuf,
    token: PathBuf,
}

fn seals() -> Seals {
    let hsm = SoftHsm::new("rotation");
    let file = hsm.dir.path().join("seal-2026");
    let made = run(Command::new(oneseal_binary())
        .args(["keygen", "--out"])
        .arg(&file)
        .env("ONESEAL_KEY_PASSPHRASE", ROOT_PASSPHRASE));
    assert!(made.ok(), "{}", made.describe());
    let token = hsm.dir.path().join("seal-2027");
    let made = hsm.keygen(&token, "seal-2027", &["--ca", file.to_str().unwrap()]);
    assert!(made.ok(), "{}", made.describe());
    Seals { hsm, file, token }
}

fn service_env(seals: &Seals) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = seals
        .hsm
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    env.push(("ONESEAL_SEAL_KEYS".into(), seals.file.display().to_string()));
    env.push(("ONESEAL_KEY_PASSPHRASE".into(), ROOT_PASSPHRASE.into()));
    env.push(("ONESEAL_SEAL_CHECK_SECONDS".into(), "1".into()));
    env
}

fn as_pairs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn fingerprint(dir: &Path) -> String {
    let pem = std::fs::read(dir.join("seal-cert.pem")).unwrap();
    let (_, block) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    ring::digest::digest(&ring::digest::SHA256, &block.contents)
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// One issuance: its serial and PDF, or the failure.
fn issue(service: &Service, issuer: &str) -> Result<(String, Vec<u8>), String> {
    let response = service.issue_example(issuer, TEMPLATE);
    let status = response.status();
    let body: Value = response.json().map_err(|e| e.to_string())?;
    if status != 201 {
        return Err(format!("{status}: {body}"));
    }
    Ok((
        body["serial"].as_str().unwrap().to_owned(),
        issued_pdf(&body),
    ))
}

fn seal_of(service: &Service, admin: &str, serial: &str) -> String {
    let record: Value = service
        .get(&format!("/api/v1/certificates/{serial}"), Some(admin))
        .json()
        .unwrap();
    record["seal_certificate"].as_str().unwrap().to_owned()
}

#[test]
fn a_rotation_under_load_loses_no_issuance_and_both_instances_follow_it() {
    let seals = seals();
    let env = service_env(&seals);
    let first = Service::start_with(Database::Postgres, &as_pairs(&env));
    let second = Service::start_sharing(&first, &as_pairs(&env));
    first.install_template(TEMPLATE, "市场监督管理局");
    let issuer = first.token("issuer", None, "轮换窗口");
    let admin = first.token("admin", None, "轮换管理员");
    let (old, new) = (fingerprint(&seals.file), fingerprint(&seals.token));

    let stop = AtomicBool::new(false);
    let (issued, rotation) = std::thread::scope(|scope| {
        let workers: Vec<_> = [&first, &second, &first, &second]
            .into_iter()
            .map(|service| {
                let (issuer, stop) = (&issuer, &stop);
                scope.spawn(move || {
                    let mut results = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        results.push(issue(service, issuer));
                    }
                    results
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(2));
        let rotation = first.oneseal(&["seal", "rotate", "--keys", seals.token.to_str().unwrap()]);
        std::thread::sleep(Duration::from_secs(4));
        stop.store(true, Ordering::Relaxed);
        let issued: Vec<_> = workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect();
        (issued, rotation)
    });
    assert!(rotation.ok(), "{}", rotation.describe());
    assert!(
        rotation
            .stdout
            .contains("seal in service: generation 2 (pkcs11)"),
        "{}",
        rotation.stdout
    );
    let failures: Vec<&String> = issued.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failures.is_empty(),
        "issuances failed during the rotation: {failures:?}"
    );
    let issued: Vec<(String, Vec<u8>)> = issued.into_iter().map(Result::unwrap).collect();

    // Which seal signed each licence, as the registry says; both took part.
    let mut by_seal: BTreeMap<String, Vec<&(String, Vec<u8>)>> = BTreeMap::new();
    for licence in &issued {
        by_seal
            .entry(seal_of(&first, &admin, &licence.0))
            .or_default()
            .push(licence);
    }
    assert_eq!(
        by_seal.keys().cloned().collect::<Vec<_>>(),
        {
            let mut both = vec![old.clone(), new.clone()];
            both.sort();
            both
        },
        "licences by seal: {:?}",
        by_seal
            .iter()
            .map(|(k, v)| (k, v.len()))
            .collect::<Vec<_>>()
    );
    // After the rotation both instances sign with the token's key.
    for service in [&first, &second] {
        let (serial, _) = issue(service, &issuer).unwrap();
        assert_eq!(seal_of(&first, &admin, &serial), new);
    }

    // Every licence verifies at the service; pyHanko accepts one of each seal against the
    // one root, and sees the seal certificate the registry named.
    for (serial, pdf) in &issued {
        let verified: Value = first.verify(pdf).json().unwrap();
        assert_eq!(
            verified["indication"], "TOTAL-PASSED",
            "{serial}: {verified}"
        );
    }
    let root = seals.file.join("root-ca.pem");
    for (seal, licences) in &by_seal {
        let path = seals.hsm.dir.path().join(format!("{seal}.pdf"));
        std::fs::write(&path, &licences[0].1).unwrap();
        let report = pyhanko_validate(&path, &[&root], false);
        let signature = &report.get("signatures").array()[0];
        for key in ["intact", "valid", "trusted"] {
            assert_eq!(
                signature.get(key).as_bool(),
                Some(true),
                "{key}: {signature:?}"
            );
        }
    }

    let listed = first.oneseal(&["seal", "list"]);
    assert!(listed.ok(), "{}", listed.describe());
    let lines: Vec<&str> = listed.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", listed.stdout);
    assert!(
        lines[0].starts_with(&format!("1\t{old}\tretired ")),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with(&format!("2\t{new}\tin service\tpkcs11")),
        "{}",
        lines[1]
    );
    let audit = first.oneseal(&["audit", "verify"]);
    assert!(audit.ok(), "{}", audit.describe());
}

#[test]
fn rotation_refuses_another_root_and_a_seal_that_served_before_and_a_restart_follows_it() {
    let seals = seals();
    let env = service_env(&seals);
    let mut service = Service::start_with(Database::Sqlite, &as_pairs(&env));
    service.install_template(TEMPLATE, "市场监督管理局");
    let issuer = service.token("issuer", None, "窗口");
    let admin = service.token("admin", None, "管理员");
    let (_, before) = issue(&service, &issuer).unwrap();

    // A seal from another root would leave verifiers without their anchor.
    let stranger = seals.hsm.dir.path().join("stranger");
    let made = run(Command::new(oneseal_binary())
        .args(["keygen", "--out"])
        .arg(&stranger)
        .env_remove("ONESEAL_KEY_PASSPHRASE"));
    assert!(made.ok(), "{}", made.describe());
    let refused = service.oneseal(&["seal", "rotate", "--keys", stranger.to_str().unwrap()]);
    assert_eq!(refused.code, Some(2), "{}", refused.describe());
    assert!(
        refused
            .stderr
            .contains("not issued by the root of the seal in service"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        refused.stderr.trim().lines().count(),
        1,
        "{}",
        refused.stderr
    );

    let token = seals.token.to_str().unwrap();
    let rotated = service.oneseal(&["seal", "rotate", "--keys", token]);
    assert!(rotated.ok(), "{}", rotated.describe());
    for (dir, expected) in [
        (token, "already brought into service (generation 2)"),
        (seals.file.to_str().unwrap(), "a retired seal never returns"),
    ] {
        let again = service.oneseal(&["seal", "rotate", "--keys", dir]);
        assert_eq!(again.code, Some(2), "{}", again.describe());
        assert!(again.stderr.contains(expected), "{}", again.stderr);
    }

    // Restarted with its old configuration, the service signs with the seal in service.
    service.restart();
    let (serial, after) = issue(&service, &issuer).unwrap();
    assert_eq!(
        seal_of(&service, &admin, &serial),
        fingerprint(&seals.token)
    );
    assert!(
        service
            .logs()
            .contains("the configured seal was retired by a rotation"),
        "{}",
        service.logs()
    );
    for pdf in [&before, &after] {
        let verified: Value = service.verify(pdf).json().unwrap();
        assert_eq!(verified["indication"], "TOTAL-PASSED", "{verified}");
    }
    let trail: Value = service
        .get(
            "/api/v1/audit?limit=1000",
            Some(&service.token("auditor", None, "审计")),
        )
        .json()
        .unwrap();
    let rotations: Vec<&Value> = trail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["action"] == "seal.rotated")
        .collect();
    assert_eq!(rotations.len(), 1, "{trail:#}");
    assert_eq!(rotations[0]["actor"], "console");
}

#[test]
fn a_restart_with_a_seal_from_another_root_rotates_and_keeps_trusting_the_old_root() {
    let seals = seals();
    let env = service_env(&seals);
    let mut service = Service::start_with(Database::Sqlite, &as_pairs(&env));
    service.install_template(TEMPLATE, "市场监督管理局");
    let issuer = service.token("issuer", None, "窗口");
    let (_, before) = issue(&service, &issuer).unwrap();

    // The operator configures a seal from a new root and restarts: a rotation at start.
    let other = seals.hsm.dir.path().join("other-root");
    let made = run(Command::new(oneseal_binary())
        .args(["keygen", "--out"])
        .arg(&other)
        .env("ONESEAL_KEY_PASSPHRASE", ROOT_PASSPHRASE));
    assert!(made.ok(), "{}", made.describe());
    for (key, value) in &mut service.env {
        if key == "ONESEAL_SEAL_KEYS" {
            *value = other.display().to_string();
        }
    }
    service.restart();
    let (_, after) = issue(&service, &issuer).unwrap();
    for pdf in [&before, &after] {
        let verified: Value = service.verify(pdf).json().unwrap();
        assert_eq!(verified["indication"], "TOTAL-PASSED", "{verified}");
    }
    let listed = service.oneseal(&["seal", "list"]);
    assert!(
        listed
            .stdout
            .lines()
            .nth(1)
            .unwrap()
            .starts_with(&format!("2\t{}\tin service", fingerprint(&other))),
        "{}",
        listed.stdout
    );
    assert!(
        service
            .logs()
            .contains("the configured seal replaces the seal in service"),
        "{}",
        service.logs()
    );
}
