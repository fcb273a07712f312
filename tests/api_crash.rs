//! The service stopped in the middle of a stream of issuances, on SQLite and on PostgreSQL:
//! after `kill -9` every licence whose response arrived is in the registry, archived byte for
//! byte, verifiable, and the audit chain is whole; after SIGTERM every issuance in flight
//! finishes, is answered, and the process exits 0.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::service::{Database, Service, issued_pdf, shipped_template};
use serde_json::{Value, json};

both_databases! {
    kill9_mid_stream_keeps_every_answered_licence => kill9_mid_stream;
    sigterm_finishes_issuances_in_flight => sigterm_mid_stream;
}

const TEMPLATE: &str = "food-business-licence";
/// Client threads issuing at once: more than the cores, so the server always has work queued.
const CLIENTS: usize = 4;
/// Answers to wait for before the stop, so that it falls in the middle of the stream.
const ANSWERS_BEFORE_STOP: usize = 40;
/// Limits raised so that neither the stream nor the checks after it are ever refused.
const LIMITS: [(&str, &str); 2] = [
    ("ONESEAL_ISSUE_PER_SECOND", "100000"),
    ("ONESEAL_VERIFY_PER_MINUTE", "100000000"),
];
/// Streams tried until SIGTERM lands while an issuance is between reservation and commit.
const SIGTERM_ATTEMPTS: usize = 5;

/// kill -9 mid-stream, restart: what was answered is there, what was not is absent or whole.
fn kill9_mid_stream(database: Database) {
    let mut service = Service::start_with(database, &LIMITS);
    service.install_template(TEMPLATE, "市场监督管理局");
    let issuer = service.token("issuer", None, "窗口 1");

    // No halt: each client keeps issuing until its connection fails, so requests are in
    // flight when the process dies.
    let (outcome, _) = stream(&mut service, &issuer, Service::kill9, false);
    assert!(
        outcome.refused.is_empty(),
        "whole responses other than 201: {:?}",
        outcome.refused
    );
    assert!(outcome.answered.len() >= ANSWERS_BEFORE_STOP);
    assert_eq!(
        outcome.dropped.len(),
        CLIENTS,
        "each client ends on exactly one request the kill cut off: {:?}",
        outcome.dropped
    );

    service.restart();
    let auditor = service.token("auditor", None, "稽查一科");
    for answer in &outcome.answered {
        assert_registered(&service, &issuer, answer);
    }
    let trail = Trail::read(&service, &auditor);
    assert!(trail.abandoned.is_empty(), "{:?}", trail.abandoned);
    for answer in &outcome.answered {
        assert_eq!(
            trail.issued.get(&answer.serial).map(|e| &e.sha256),
            Some(&answer.sha256),
            "the trail records {} as issued with the answered hash",
            answer.serial
        );
    }
    let mut in_flight = 0;
    for serial in &trail.signing {
        match trail.issued.get(serial) {
            // Committed, maybe unanswered: then it must be whole, with its archived PDF.
            Some(issued) => assert_whole(&service, &issuer, serial, &issued.sha256),
            // Reserved, not committed: in flight at the kill, and invisible as a certificate.
            None => {
                in_flight += 1;
                assert_absent(&service, &issuer, serial);
            }
        }
    }
    assert!(
        trail
            .issued
            .keys()
            .all(|serial| trail.signing.contains(serial)),
        "every issued entry follows its reservation"
    );
    assert_eq!(
        listed_serials(&service, &issuer),
        trail.issued.keys().cloned().collect::<BTreeSet<_>>(),
        "the certificates listed are exactly those the trail records as issued"
    );
    assert_chain_whole(&service);
    eprintln!(
        "{database:?}: {} answered, {} committed, {in_flight} reserved and cut off by the kill",
        outcome.answered.len(),
        trail.issued.len()
    );

    // The restarted service issues again, and the chain stays whole after it.
    let again = service.issue_example(&issuer, TEMPLATE);
    assert_eq!(again.status(), 201, "{:?}", again.text());
    assert_chain_whole(&service);
}

/// SIGTERM mid-stream: every issuance the server began is finished and answered, exit 0.
fn sigterm_mid_stream(database: Database) {
    let mut service = Service::start_with(database, &LIMITS);
    service.install_template(TEMPLATE, "市场监督管理局");
    let issuer = service.token("issuer", None, "窗口 1");
    let auditor = service.token("auditor", None, "稽查一科");
    let mut answered: BTreeMap<String, String> = BTreeMap::new();
    let mut straddling = 0;
    for _ in 0..SIGTERM_ATTEMPTS {
        let (outcome, signal) = stream(&mut service, &issuer, |s| s.send_terminate(), true);
        let status = service.wait_exit();
        assert!(
            status.success(),
            "oneseal serve after SIGTERM: {status}\n{}",
            service.logs()
        );
        assert!(
            outcome.refused.is_empty(),
            "whole responses other than 201: {:?}",
            outcome.refused
        );
        assert!(outcome.answered.len() >= ANSWERS_BEFORE_STOP);
        answered.extend(
            outcome
                .answered
                .iter()
                .map(|a| (a.serial.clone(), a.sha256.clone())),
        );

        service.restart();
        let trail = Trail::read(&service, &auditor);
        assert!(trail.abandoned.is_empty(), "{:?}", trail.abandoned);
        // Every issuance the server began (its reservation is in the trail) was finished...
        assert_eq!(
            trail.signing,
            trail.issued.keys().cloned().collect::<BTreeSet<_>>(),
            "reservations without their issuance: the shutdown cut issuances off"
        );
        // ...and answered: a client request that failed was one the server never began.
        let issued: BTreeMap<String, String> = trail
            .issued
            .iter()
            .map(|(serial, entry)| (serial.clone(), entry.sha256.clone()))
            .collect();
        assert_eq!(
            issued, answered,
            "issued but never answered, or answered but not issued"
        );
        straddling += trail
            .issued
            .values()
            .filter(|entry| entry.reserved_ms < signal.0 && entry.time_ms > signal.1)
            .count();
        eprintln!(
            "{database:?}: {} answered, {} dropped after SIGTERM, {straddling} issuance(s) in flight at it",
            outcome.answered.len(),
            outcome.dropped.len()
        );
        if straddling > 0 {
            break;
        }
    }
    assert!(
        straddling > 0,
        "in {SIGTERM_ATTEMPTS} attempts no SIGTERM fell between an issuance's reservation and commit"
    );
    assert_chain_whole(&service);
}

/// One issuance whose 201 response arrived whole.
struct Answer {
    serial: String,
    sha256: String,
    pdf: Vec<u8>,
}

/// What the clients saw.
#[derive(Default)]
struct Outcome {
    answered: Vec<Answer>,
    /// Whole responses that were not 201: status and body.
    refused: Vec<String>,
    /// Requests that ended without a whole response (the connection failed).
    dropped: Vec<String>,
}

/// Issues from `CLIENTS` threads, calls `stop` once `ANSWERS_BEFORE_STOP` answers arrived, and
/// collects what every client saw. Each client ends at its first failed request, or, when
/// `halt` is set, sends nothing more once `stop` has been called. Returns the wall-clock window
/// (Unix ms) in which `stop` ran.
fn stream(
    service: &mut Service,
    issuer: &str,
    stop: impl FnOnce(&mut Service),
    halt: bool,
) -> (Outcome, (i64, i64)) {
    let body = issuance_body();
    let url = format!("{}/api/v1/certificates", service.url);
    let halted = AtomicBool::new(false);
    let answers = AtomicUsize::new(0);
    let running = AtomicUsize::new(CLIENTS);
    let outcome = Mutex::new(Outcome::default());
    let mut window = (0, 0);
    std::thread::scope(|scope| {
        for _ in 0..CLIENTS {
            scope.spawn(|| {
                issue_until_failure(&url, issuer, &body, &halted, &answers, &outcome);
                running.fetch_sub(1, Ordering::SeqCst);
            });
        }
        let started = Instant::now();
        while answers.load(Ordering::SeqCst) < ANSWERS_BEFORE_STOP {
            assert!(
                running.load(Ordering::SeqCst) == CLIENTS,
                "a client stopped before the service did: {:?} {:?}",
                outcome.lock().unwrap().refused,
                outcome.lock().unwrap().dropped
            );
            assert!(
                started.elapsed() < Duration::from_secs(40),
                "only {} answers in 40 s",
                answers.load(Ordering::SeqCst)
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        let before = unix_ms();
        stop(service);
        window = (before, unix_ms());
        if halt {
            halted.store(true, Ordering::SeqCst);
        }
    });
    (outcome.into_inner().unwrap(), window)
}

fn issue_until_failure(
    url: &str,
    issuer: &str,
    body: &[u8],
    halted: &AtomicBool,
    answers: &AtomicUsize,
    outcome: &Mutex<Outcome>,
) {
    common::install_crypto_provider();
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    while !halted.load(Ordering::SeqCst) {
        let sent = client
            .post(url)
            .bearer_auth(issuer)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send();
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                outcome.lock().unwrap().dropped.push(format!("{error:?}"));
                return;
            }
        };
        let status = response.status();
        let bytes = match response.bytes() {
            Ok(bytes) => bytes,
            Err(error) => {
                let cut = format!("{status}, body cut off: {error:?}");
                outcome.lock().unwrap().dropped.push(cut);
                return;
            }
        };
        if status != 201 {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            outcome
                .lock()
                .unwrap()
                .refused
                .push(format!("{status}: {text}"));
            return;
        }
        let parsed: Value = serde_json::from_slice(&bytes).expect("a 201 body is JSON");
        let answer = Answer {
            serial: parsed["serial"].as_str().expect("serial").to_string(),
            sha256: parsed["sha256"].as_str().expect("sha256").to_string(),
            pdf: issued_pdf(&parsed),
        };
        assert_eq!(sha256_hex(&answer.pdf), answer.sha256, "the answered hash");
        outcome.lock().unwrap().answered.push(answer);
        answers.fetch_add(1, Ordering::SeqCst);
    }
}

/// The issuance request for the template's shipped example, serialised once.
fn issuance_body() -> Vec<u8> {
    let data: Value = serde_json::from_slice(
        &std::fs::read(shipped_template(TEMPLATE).join("example.json")).unwrap(),
    )
    .unwrap();
    serde_json::to_vec(&json!({ "template": TEMPLATE, "data": data, "delivery": "window" }))
        .unwrap()
}

/// An answered licence is issued in the registry with its hash, archived byte for byte, and
/// verifies against the registry.
fn assert_registered(service: &Service, issuer: &str, answer: &Answer) {
    assert_whole(service, issuer, &answer.serial, &answer.sha256);
    let archived = service
        .get(
            &format!("/api/v1/certificates/{}/pdf", answer.serial),
            Some(issuer),
        )
        .bytes()
        .unwrap();
    assert!(
        archived.as_ref() == answer.pdf.as_slice(),
        "{}: the archived PDF differs from the one answered",
        answer.serial
    );
    let verified: Value = service.verify(&answer.pdf).json().unwrap();
    assert_eq!(verified["indication"], "TOTAL-PASSED", "{verified}");
    assert_eq!(verified["registry"]["status"], "issued", "{verified}");
    assert_eq!(verified["registry"]["matches_archive"], true, "{verified}");
    assert_eq!(verified["registry"]["serial"], answer.serial.as_str());
}

/// `serial` is issued with `sha256`, and its archived PDF has that hash.
fn assert_whole(service: &Service, issuer: &str, serial: &str, sha256: &str) {
    let found = service.get(&format!("/api/v1/certificates/{serial}"), Some(issuer));
    assert_eq!(found.status(), 200, "{serial}: {:?}", found.text());
    let record: Value = found.json().unwrap();
    assert_eq!(record["status"], "issued", "{record}");
    assert_eq!(record["sha256"], sha256, "{record}");
    let pdf = service.get(&format!("/api/v1/certificates/{serial}/pdf"), Some(issuer));
    assert_eq!(pdf.status(), 200, "{serial}: the archived PDF");
    assert_eq!(sha256_hex(&pdf.bytes().unwrap()), sha256, "{serial}");
}

/// Neither the certificate nor a PDF of `serial` is visible.
fn assert_absent(service: &Service, issuer: &str, serial: &str) {
    for path in [
        format!("/api/v1/certificates/{serial}"),
        format!("/api/v1/certificates/{serial}/pdf"),
    ] {
        let found = service.get(&path, Some(issuer));
        assert_eq!(found.status(), 404, "{path}: {:?}", found.text());
    }
}

/// Every certificate the search lists, page by page.
fn listed_serials(service: &Service, issuer: &str) -> BTreeSet<String> {
    let mut serials = BTreeSet::new();
    loop {
        let path = format!("/api/v1/certificates?limit=500&offset={}", serials.len());
        let page: Value = service.get(&path, Some(issuer)).json().unwrap();
        let page = page["certificates"].as_array().unwrap();
        if page.is_empty() {
            return serials;
        }
        for certificate in page {
            assert_eq!(certificate["status"], "issued", "{certificate}");
            serials.insert(certificate["serial"].as_str().unwrap().to_string());
        }
    }
}

fn assert_chain_whole(service: &Service) {
    let audit = service.oneseal(&["audit", "verify"]);
    assert!(audit.ok(), "{}", audit.describe());
}

/// An issuance as the audit trail tells it.
struct IssuedEntry {
    sha256: String,
    /// When its reservation (`certificate.signing`) was recorded.
    reserved_ms: i64,
    time_ms: i64,
}

/// The certificate entries of the whole audit trail, read through the API as an auditor.
#[derive(Default)]
struct Trail {
    /// Serials reserved for signing.
    signing: BTreeSet<String>,
    issued: BTreeMap<String, IssuedEntry>,
    abandoned: Vec<String>,
}

impl Trail {
    fn read(service: &Service, auditor: &str) -> Trail {
        let mut trail = Trail::default();
        let mut reserved_ms = BTreeMap::new();
        let mut after = 0;
        loop {
            let path = format!("/api/v1/audit?after={after}&limit=1000");
            let page: Value = service.get(&path, Some(auditor)).json().unwrap();
            let entries = page["entries"].as_array().unwrap();
            let Some(last) = entries.last() else {
                return trail;
            };
            after = last["sequence"].as_i64().unwrap();
            for entry in entries {
                let serial = entry["subject"].as_str().unwrap().to_string();
                let time_ms = entry["time_ms"].as_i64().unwrap();
                match entry["action"].as_str().unwrap() {
                    "certificate.signing" => {
                        assert!(
                            trail.signing.insert(serial.clone()),
                            "{serial} reserved twice"
                        );
                        reserved_ms.insert(serial, time_ms);
                    }
                    "certificate.issued" => {
                        let details: Value =
                            serde_json::from_str(entry["details"].as_str().unwrap()).unwrap();
                        let issued = IssuedEntry {
                            sha256: details["sha256"].as_str().unwrap().to_string(),
                            reserved_ms: *reserved_ms.get(&serial).unwrap_or(&i64::MAX),
                            time_ms,
                        };
                        let earlier = trail.issued.insert(serial.clone(), issued);
                        assert!(earlier.is_none(), "{serial} issued twice");
                    }
                    "certificate.abandoned" => trail.abandoned.push(entry.to_string()),
                    _ => {}
                }
            }
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn unix_ms() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(now.as_millis()).unwrap()
}
