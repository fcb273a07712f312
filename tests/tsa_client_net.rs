//! The RFC 3161 client (`service::timestamping`, docs/timestamping.md) over real sockets: the
//! built-in TSA of a real `oneseal serve` as the good TSA, `openssl ts -verify` as the outside
//! judge of the token it returns, and small TCP servers written here as the bad TSAs (closed
//! port, silent, trickling, garbage, HTTP 500, a redirect, endless and declared-huge bodies, a
//! replayed answer, the wrong content type, an untrusted root); then failover across them and the
//! total deadline.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::service::{Database, Service};
use oneseal::cms::tsp::{self, ImprintAlgorithm};
use oneseal::service::timestamping::{AttemptFailure, TimestampingError, TsaClient, TsaSettings};
use oneseal::verify::TrustAnchors;
use oneseal::verify::tsp_client::TspClientError;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

/// Per-attempt timeout in these tests; the slow TSAs must be cut near it.
const ATTEMPT: Duration = Duration::from_millis(500);

const REPLY: &str = "application/timestamp-reply";

#[test]
fn failover_reaches_the_good_tsa_and_openssl_verifies_its_token() {
    let service = Service::start(Database::Sqlite);
    let runtime = runtime();
    let down = closed_port();
    let slow = runtime.block_on(serve(Behaviour::Silent));
    let garbage = runtime.block_on(serve(Behaviour::Fixed(
        200,
        REPLY,
        b"\x30\x03garbage".to_vec(),
    )));
    let good = format!("{}/tsa", service.url);
    let urls = [url(down), url(slow), url(garbage), good.clone()];
    let good_client = client(&urls, Duration::from_secs(5), trusted(&service));
    let document = b"\xe8\x90\xa5\xe4\xb8\x9a\xe6\x89\xa7\xe7\x85\xa7 2026-11-26";
    let digest = oneseal::sign::sha256(document);

    let started = Instant::now();
    // Spawned, so the future is proved `Send` (issuance runs it inside a spawned task).
    let stamped = runtime
        .block_on(runtime.spawn({
            let client = good_client.clone();
            async move { client.stamp(&digest, OffsetDateTime::now_utc()).await }
        }))
        .unwrap();
    let elapsed = started.elapsed();
    let token = stamped.unwrap_or_else(|e| panic!("{e}\n{}", service.logs()));
    assert!(
        elapsed < ATTEMPT * 3 + Duration::from_secs(2),
        "{elapsed:?}"
    );
    let tsa_certificate = std::fs::read(trust_files(&service).1).unwrap();
    assert!(
        String::from_utf8_lossy(&tsa_certificate).contains("BEGIN CERTIFICATE"),
        "the development TSA's certificate file"
    );
    let age = OffsetDateTime::now_utc() - token.generation_time;
    assert!(
        age.whole_seconds().abs() < 60,
        "genTime {}",
        token.generation_time
    );

    // The outside judge: openssl checks the token's signature, ESS, TSA usage and path.
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token.der");
    std::fs::write(&token_file, &token.token).unwrap();
    let (root, tsa_chain) = trust_files(&service);
    let verified = openssl_verify(&digest, &token_file, &root, &tsa_chain);
    assert!(
        verified.stdout.contains("Verification: OK"),
        "{}",
        verified.describe()
    );
    let mut other = digest;
    other[0] ^= 1;
    let refused = openssl_verify(&other, &token_file, &root, &tsa_chain);
    assert!(
        !refused.ok(),
        "another digest verified: {}",
        refused.describe()
    );

    // Without the good TSA: every reason, in order, on one line.
    let bad = client(&urls[..3], Duration::from_secs(5), trusted(&service));
    let error = runtime
        .block_on(bad.stamp(&digest, OffsetDateTime::now_utc()))
        .unwrap_err();
    let TimestampingError::NoTsaAnswered(attempts) = &error else {
        panic!("{error}");
    };
    let urls_tried: Vec<&str> = attempts.iter().map(|a| a.url.as_str()).collect();
    assert_eq!(urls_tried, urls[..3]);
    assert_eq!(attempts[0].failure, AttemptFailure::Connect);
    assert!(matches!(
        attempts[1].failure,
        AttemptFailure::Timeout { .. }
    ));
    assert!(matches!(
        attempts[2].failure,
        AttemptFailure::Check(TspClientError::Malformed(_))
    ));
    let message = error.to_string();
    assert!(!message.contains('\n'), "{message}");
    for (tried, reason) in urls[..3].iter().zip([
        "cannot connect",
        "no complete answer within 500 ms",
        "the TSA's answer is not a DER TimeStampResp",
    ]) {
        assert!(message.contains(&format!("{tried}: {reason}")), "{message}");
    }
}

#[test]
fn each_fault_fails_its_attempt_with_its_reason() {
    let runtime = runtime();
    let anchors = Arc::new(self_made_root());
    let one =
        |address: SocketAddr| client(&[url(address)], Duration::from_secs(5), anchors.clone());
    let fails = |address: SocketAddr| -> (AttemptFailure, Duration) {
        let started = Instant::now();
        let error = runtime
            .block_on(one(address).stamp(&[7; 32], OffsetDateTime::now_utc()))
            .unwrap_err();
        let elapsed = started.elapsed();
        match error {
            TimestampingError::NoTsaAnswered(mut attempts) if attempts.len() == 1 => {
                (attempts.remove(0).failure, elapsed)
            }
            other => panic!("{other}"),
        }
    };

    assert_eq!(fails(closed_port()).0, AttemptFailure::Connect);

    for behaviour in [Behaviour::Silent, Behaviour::Trickle] {
        let (failure, elapsed) = fails(runtime.block_on(serve(behaviour)));
        assert_eq!(
            failure,
            AttemptFailure::Timeout {
                after_ms: 500,
                cut_by_total: false
            }
        );
        assert!(
            elapsed >= ATTEMPT - Duration::from_millis(50),
            "{elapsed:?}"
        );
        assert!(elapsed < ATTEMPT * 3, "{elapsed:?}");
    }

    let garbage = serve(Behaviour::Fixed(
        200,
        REPLY,
        b"<html>502 Bad Gateway</html>".to_vec(),
    ));
    let (failure, _) = fails(runtime.block_on(garbage));
    assert!(
        matches!(failure, AttemptFailure::Check(TspClientError::Malformed(_))),
        "{failure}"
    );

    let error_page = serve(Behaviour::Fixed(
        500,
        "text/plain",
        b"internal error".to_vec(),
    ));
    assert_eq!(
        fails(runtime.block_on(error_page)).0,
        AttemptFailure::Status(500)
    );

    let redirect = runtime.block_on(serve(Behaviour::Redirect));
    let failure = fails(redirect).0;
    assert_eq!(failure, AttemptFailure::Status(302));
    assert!(failure.to_string().contains("redirects are not followed"));

    let empty_type = serve(Behaviour::Fixed(
        200,
        "application/octet-stream",
        vec![0x30, 0],
    ));
    assert_eq!(
        fails(runtime.block_on(empty_type)).0,
        AttemptFailure::ContentType("application/octet-stream".into())
    );

    // An endless body: refused once the cap is passed, long before the attempt timeout.
    let written = Arc::new(AtomicUsize::new(0));
    let endless = runtime.block_on(serve(Behaviour::Endless(written.clone())));
    let (failure, elapsed) = fails(endless);
    assert_eq!(failure, AttemptFailure::TooLarge);
    assert!(elapsed < ATTEMPT, "{elapsed:?}");
    std::thread::sleep(Duration::from_millis(100));
    let sent = written.load(Ordering::Relaxed);
    assert!(sent < 64 * 1024 * 1024, "the server wrote {sent} bytes");

    // A declared length over the cap: refused from the headers, before any body is read.
    let declared = runtime.block_on(serve(Behaviour::DeclaredHuge));
    let (failure, elapsed) = fails(declared);
    assert_eq!(failure, AttemptFailure::TooLarge);
    assert!(elapsed < ATTEMPT, "{elapsed:?}");
}

#[test]
fn answers_of_the_real_tsa_misused_are_refused() {
    let service = Service::start(Database::Sqlite);
    let runtime = runtime();
    let digest = [9; 32];
    // An answer the real TSA gave to an earlier request (another nonce), replayed.
    let earlier = real_answer(&service, &digest, &[0x5a; 8]);
    let replayed = runtime.block_on(serve(Behaviour::Fixed(200, REPLY, earlier.clone())));
    let failure = only_failure(&runtime, &[url(replayed)], trusted(&service), &digest);
    assert_eq!(
        failure,
        AttemptFailure::Check(TspClientError::NonceMismatch)
    );
    // The same answer for another document.
    let failure = only_failure(&runtime, &[url(replayed)], trusted(&service), &[8; 32]);
    assert_eq!(
        failure,
        AttemptFailure::Check(TspClientError::ImprintMismatch)
    );
    // A real answer under the wrong content type.
    let mislabelled = runtime.block_on(serve(Behaviour::Fixed(200, "text/html", earlier)));
    let failure = only_failure(&runtime, &[url(mislabelled)], trusted(&service), &digest);
    assert_eq!(failure, AttemptFailure::ContentType("text/html".into()));
    // The real TSA, its root not among ours.
    let tsa = format!("{}/tsa", service.url);
    let failure = only_failure(
        &runtime,
        std::slice::from_ref(&tsa),
        Arc::new(self_made_root()),
        &digest,
    );
    assert!(
        matches!(failure, AttemptFailure::Check(TspClientError::Untrusted(_))),
        "{failure}"
    );
    // The same TSA, trusted: accepted, with the policy asked for named in the token.
    let mut settings = settings(&[tsa], Duration::from_secs(5));
    settings.policy = Some(tsp::PolicyId::oneseal());
    let client = TsaClient::new(settings, trusted(&service)).unwrap();
    let token = runtime
        .block_on(client.stamp(&digest, OffsetDateTime::now_utc()))
        .unwrap();
    assert_eq!(token.policy, tsp::PolicyId::oneseal());
}

#[test]
fn the_total_deadline_bounds_every_attempt_together() {
    let runtime = runtime();
    let slow: Vec<String> = (0..3)
        .map(|_| url(runtime.block_on(serve(Behaviour::Silent))))
        .collect();
    let never = url(closed_port());
    let urls = [
        slow[0].clone(),
        slow[1].clone(),
        slow[2].clone(),
        never.clone(),
    ];
    let total = Duration::from_millis(800);
    let client = client(&urls, total, Arc::new(self_made_root()));
    let started = Instant::now();
    let error = runtime
        .block_on(client.stamp(&[1; 32], OffsetDateTime::now_utc()))
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed >= total - Duration::from_millis(50), "{elapsed:?}");
    assert!(elapsed < total * 2, "{elapsed:?}");
    let TimestampingError::NoTsaAnswered(attempts) = &error else {
        panic!("{error}");
    };
    let failures: Vec<&AttemptFailure> = attempts.iter().map(|a| &a.failure).collect();
    assert_eq!(
        failures[0],
        &AttemptFailure::Timeout {
            after_ms: 500,
            cut_by_total: false
        }
    );
    assert!(
        matches!(failures[1], AttemptFailure::Timeout { after_ms, cut_by_total: true } if *after_ms <= 300),
        "{error}"
    );
    assert_eq!(failures[2], &AttemptFailure::NotAsked(800));
    assert_eq!(failures[3], &AttemptFailure::NotAsked(800));
    assert_eq!(attempts[3].url, never);
    assert!(
        error
            .to_string()
            .contains("not asked: the total deadline of 800 ms had passed")
    );
}

#[test]
fn the_client_is_shareable() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<TsaClient>();
}

/// What a test TSA does with a connection.
enum Behaviour {
    /// Accepts, reads the request, never answers.
    Silent,
    /// Answers 200 and a length of 1000, then a byte every 100 ms.
    Trickle,
    /// Answers this status, content type and body.
    Fixed(u16, &'static str, Vec<u8>),
    /// 302 to another URL.
    Redirect,
    /// 200 and a body without end; counts what it wrote.
    Endless(Arc<AtomicUsize>),
    /// 200 with Content-Length 100 MB, then nothing.
    DeclaredHuge,
}

/// Starts a TSA with `behaviour` on a loopback port; it serves every connection that way.
async fn serve(behaviour: Behaviour) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let behaviour = Arc::new(behaviour);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream, behaviour.clone()));
        }
    });
    address
}

async fn answer(mut stream: TcpStream, behaviour: Arc<Behaviour>) {
    read_request(&mut stream).await;
    let head = |status: u16, content_type: &str, length: Option<usize>| {
        let length = length.map_or(String::new(), |l| format!("Content-Length: {l}\r\n"));
        format!(
            "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n{length}Connection: close\r\n\r\n"
        )
    };
    match &*behaviour {
        Behaviour::Silent => tokio::time::sleep(Duration::from_secs(30)).await,
        Behaviour::Trickle => {
            let _ = stream
                .write_all(head(200, REPLY, Some(1000)).as_bytes())
                .await;
            for _ in 0..1000 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if stream.write_all(b"\x30").await.is_err() {
                    return;
                }
            }
        }
        Behaviour::Fixed(status, content_type, body) => {
            let mut bytes = head(*status, content_type, Some(body.len())).into_bytes();
            bytes.extend_from_slice(body);
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Behaviour::Redirect => {
            let bytes = "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/tsa\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            let _ = stream.write_all(bytes.as_bytes()).await;
        }
        Behaviour::Endless(written) => {
            let _ = stream.write_all(head(200, REPLY, None).as_bytes()).await;
            let chunk = vec![0x30; 16 * 1024];
            while stream.write_all(&chunk).await.is_ok() {
                written.fetch_add(chunk.len(), Ordering::Relaxed);
            }
        }
        Behaviour::DeclaredHuge => {
            let _ = stream
                .write_all(head(200, REPLY, Some(100_000_000)).as_bytes())
                .await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
    }
}

/// Reads the request's head and its Content-Length body.
async fn read_request(stream: &mut TcpStream) {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let Ok(read) = stream.read(&mut buffer).await else {
            return;
        };
        if read == 0 {
            return;
        }
        received.extend_from_slice(&buffer[..read]);
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or(0);
            if received.len() >= end + 4 + length {
                return;
            }
        }
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A loopback port nothing listens on.
fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

fn url(address: SocketAddr) -> String {
    format!("http://{address}/tsa")
}

fn settings(urls: &[String], total: Duration) -> TsaSettings {
    TsaSettings {
        urls: urls.to_vec(),
        attempt_timeout: ATTEMPT,
        total_timeout: total,
        policy: None,
        certificates: Vec::new(),
    }
}

fn client(urls: &[String], total: Duration, anchors: Arc<TrustAnchors>) -> TsaClient {
    TsaClient::new(settings(urls, total), anchors).unwrap()
}

fn only_failure(
    runtime: &Runtime,
    urls: &[String],
    anchors: Arc<TrustAnchors>,
    digest: &[u8; 32],
) -> AttemptFailure {
    let client = client(urls, Duration::from_secs(5), anchors);
    match runtime.block_on(client.stamp(digest, OffsetDateTime::now_utc())) {
        Err(TimestampingError::NoTsaAnswered(mut attempts)) if attempts.len() == 1 => {
            attempts.remove(0).failure
        }
        Err(other) => panic!("{other}"),
        Ok(token) => panic!("accepted: {token:?}"),
    }
}

/// The service's development root and TSA certificate files.
fn trust_files(service: &Service) -> (PathBuf, PathBuf) {
    let data = service.data.path().join("data");
    (
        data.join("development-seal/root-ca.pem"),
        data.join("development-tsa/seal-cert.pem"),
    )
}

/// The development root, the only anchor.
fn trusted(service: &Service) -> Arc<TrustAnchors> {
    let mut anchors = TrustAnchors::new();
    anchors
        .add_pem_or_der(&std::fs::read(trust_files(service).0).unwrap())
        .unwrap();
    Arc::new(anchors)
}

/// A root made here, which signed no TSA we talk to.
fn self_made_root() -> TrustAnchors {
    let key = oneseal::seal::SoftwareKey::generate().unwrap();
    let now = OffsetDateTime::now_utc();
    let root = oneseal::pki::issue_root_certificate(
        &key,
        "陌生机关",
        &oneseal::pki::Validity::new(
            now - time::Duration::days(1),
            now + time::Duration::days(30),
        )
        .unwrap(),
        &oneseal::pki::Serial::from_random_bytes([3; 16]),
    )
    .unwrap();
    let mut anchors = TrustAnchors::new();
    anchors.add_pem_or_der(&root).unwrap();
    anchors
}

/// The real TSA's raw TimeStampResp for `digest` and `nonce`.
fn real_answer(service: &Service, digest: &[u8; 32], nonce: &[u8]) -> Vec<u8> {
    let request =
        tsp::build_request(ImprintAlgorithm::Sha256, digest, Some(nonce), true, None).unwrap();
    let response = service
        .request(reqwest::Method::POST, "/tsa", None)
        .header("content-type", "application/timestamp-query")
        .body(request)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().unwrap().to_vec()
}

fn openssl_verify(
    digest: &[u8; 32],
    token: &std::path::Path,
    root: &std::path::Path,
    tsa_chain: &std::path::Path,
) -> common::Run {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    common::run(Command::new("openssl").args([
        "ts",
        "-verify",
        "-digest",
        &hex,
        "-token_in",
        "-in",
        token.to_str().unwrap(),
        "-CAfile",
        root.to_str().unwrap(),
        "-untrusted",
        tsa_chain.to_str().unwrap(),
    ]))
}
