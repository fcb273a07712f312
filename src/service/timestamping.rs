//! The RFC 3161 client issuance uses: asks the configured TSAs in turn for a timestamp token over
//! a digest, checks each answer completely and falls over to the next TSA on any failure
//! (docs/timestamping.md).
//!
//! The protocol checks are `verify::tsp_client`'s (pure); this module owns the transport
//! (RFC 3161 §3.4, time-stamp protocol via HTTP): URLs, timeouts, the size cap while reading,
//! the content types, the fresh nonce per attempt and the record of every failure.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap};
use ring::rand::{SecureRandom, SystemRandom};
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::cms::tsp::{self, ImprintAlgorithm, PolicyId};
use crate::verify::TrustAnchors;
use crate::verify::tsp_client::{
    self, CheckedToken, ExpectedStamp, MAX_RESPONSE_BYTES, TsaTrust, TspClientError,
};

/// RFC 3161 §3.4: the MIME type of a TimeStampReq sent over HTTP.
pub const QUERY_CONTENT_TYPE: &str = "application/timestamp-query";
/// RFC 3161 §3.4: the MIME type of a TimeStampResp.
pub const REPLY_CONTENT_TYPE: &str = "application/timestamp-reply";
/// A name some TSAs answer with instead (drafts of RFC 3161 used it); accepted.
const REPLY_CONTENT_TYPE_ALIAS: &str = "application/timestamp-response";
/// The nonce's length: 64 bits, as RFC 3161 §2.4.1 suggests and `openssl ts` sends.
pub const NONCE_BYTES: usize = 8;
/// Most TSAs a setting may list; each one costs an attempt timeout in the worst case.
pub const MAX_URLS: usize = 16;
/// Longest URL accepted.
const MAX_URL_CHARS: usize = 2048;
/// Longest reason shown per attempt in `NoTsaAnswered`'s message.
const MAX_REASON_CHARS: usize = 300;
/// The connection must be up within this (or the attempt timeout, if shorter).
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Which TSAs to ask and how long to wait for them.
#[derive(Clone, Debug)]
pub struct TsaSettings {
    /// The TSAs' URLs (http or https), asked in this order.
    pub urls: Vec<String>,
    /// The most one TSA may take: connecting, sending, the answer and its whole body.
    pub attempt_timeout: Duration,
    /// The most all attempts together may take.
    pub total_timeout: Duration,
    /// The TSA policy to ask for (RFC 3161 §2.4.1 reqPolicy); the token must name it.
    pub policy: Option<PolicyId>,
    /// Extra certificates (DER) for the TSA's path, besides those in the token.
    pub certificates: Vec<Vec<u8>>,
}

/// A client for the configured TSAs. Cheap to clone (the HTTP client and the settings are
/// shared), `Send + Sync`.
#[derive(Clone)]
pub struct TsaClient {
    urls: Arc<[Tsa]>,
    certificates: Arc<[Vec<u8>]>,
    policy: Option<PolicyId>,
    attempt_timeout: Duration,
    total_timeout: Duration,
    anchors: Arc<TrustAnchors>,
    http: reqwest::Client,
    random: SystemRandom,
}

/// One configured TSA: the URL called and the form of it that may be shown.
#[derive(Clone, Debug)]
struct Tsa {
    url: reqwest::Url,
    shown: String,
}

/// One TSA asked, and why its answer was not used.
#[derive(Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The TSA's URL without its query (which may hold an access key).
    pub url: String,
    pub failure: AttemptFailure,
}

impl fmt::Display for Attempt {
    /// One line, at most `MAX_REASON_CHARS` of reason: a TSA's statusString (RFC 3161 §2.4.2
    /// PKIFreeText) is the TSA's own text and may hold line breaks or run long.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = self.failure.to_string();
        let mut line: String = reason
            .chars()
            .take(MAX_REASON_CHARS)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if reason.chars().count() > MAX_REASON_CHARS {
            line.push('…');
        }
        write!(formatter, "{}: {line}", self.url)
    }
}

/// Why one TSA gave no usable token. Messages are one line and carry nothing secret.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AttemptFailure {
    /// No connection could be made (refused, unreachable, name not found, TLS failed).
    #[error("cannot connect")]
    Connect,
    /// The TSA did not answer completely within the time it had.
    #[error("no complete answer within {after_ms} ms{}", if *.cut_by_total { " (the total deadline)" } else { "" })]
    Timeout { after_ms: u128, cut_by_total: bool },
    /// The total deadline had passed before this TSA's turn came.
    #[error("not asked: the total deadline of {0} ms had passed")]
    NotAsked(u128),
    /// The exchange failed after connecting (connection reset, bad HTTP).
    #[error("the HTTP exchange failed")]
    Transport,
    /// An HTTP status other than 200 (RFC 3161 §3.4); redirects are not followed.
    #[error("HTTP status {0}, not 200{hint}", hint = redirect_hint(*.0))]
    Status(u16),
    /// The answer is not a TimeStampResp by its content type (RFC 3161 §3.4).
    #[error("content type '{0}', not {REPLY_CONTENT_TYPE}")]
    ContentType(String),
    /// The body is larger than any real TimeStampResp (declared or as read).
    #[error("the answer is over {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    /// The TimeStampReq could not be built.
    #[error("cannot build the request: {0}")]
    Request(String),
    /// The answer arrived and failed a check (status, imprint, nonce, policy, signature, path).
    #[error("{0}")]
    Check(TspClientError),
}

/// Why the client could not be set up or no token was obtained.
#[derive(Debug, thiserror::Error)]
pub enum TimestampingError {
    /// No TSA URL is configured.
    #[error("no TSA URL is configured; list at least one under [timestamping] urls")]
    NoUrls,
    /// More URLs than `MAX_URLS`.
    #[error("{0} TSA URLs are configured; at most {MAX_URLS} are accepted")]
    TooManyUrls(usize),
    /// A URL cannot be used; `url` is shown without credentials or query, when it parsed.
    #[error("TSA URL {index}{} cannot be used: {reason}", .url.as_ref().map(|u| format!(" ({u})")).unwrap_or_default())]
    InvalidUrl {
        index: usize,
        url: Option<String>,
        reason: &'static str,
    },
    /// A timeout is zero.
    #[error("the TSA {0} timeout must be above zero")]
    ZeroTimeout(&'static str),
    /// No trust anchor to check TSA certificates against.
    #[error("no trust anchor is configured for TSA certificates; set [timestamping] trust_pem")]
    NoTrustAnchors,
    /// An extra certificate is not DER X.509.
    #[error("TSA certificate {index} cannot be read: {reason}")]
    InvalidCertificate { index: usize, reason: String },
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot set up the HTTP client for the TSAs: {0}")]
    HttpClient(String),
    /// The system's random number generator failed (no nonce can be made).
    #[error("the system random number generator failed; no nonce can be made")]
    Randomness,
    /// Every TSA was asked (or the deadline passed) and none gave a valid token.
    #[error("no TSA gave a valid timestamp: {}", list(.0))]
    NoTsaAnswered(Vec<Attempt>),
}

impl TsaClient {
    /// Checks the settings (URLs parsed, http or https, no credentials; timeouts above zero;
    /// certificates readable) and builds the HTTP client: rustls with ring, no redirects.
    pub fn new(
        settings: TsaSettings,
        anchors: Arc<TrustAnchors>,
    ) -> Result<Self, TimestampingError> {
        if settings.urls.is_empty() {
            return Err(TimestampingError::NoUrls);
        }
        if settings.urls.len() > MAX_URLS {
            return Err(TimestampingError::TooManyUrls(settings.urls.len()));
        }
        let urls = settings
            .urls
            .iter()
            .enumerate()
            .map(|(index, text)| parse_url(index, text))
            .collect::<Result<Vec<_>, _>>()?;
        if settings.attempt_timeout.is_zero() {
            return Err(TimestampingError::ZeroTimeout("attempt"));
        }
        if settings.total_timeout.is_zero() {
            return Err(TimestampingError::ZeroTimeout("total"));
        }
        if anchors.is_empty() {
            return Err(TimestampingError::NoTrustAnchors);
        }
        check_certificates(&settings.certificates)?;
        let http = http_client(settings.attempt_timeout)
            .map_err(|e| TimestampingError::HttpClient(e.to_string()))?;
        Ok(Self {
            urls: urls.into(),
            certificates: settings.certificates.into(),
            policy: settings.policy,
            attempt_timeout: settings.attempt_timeout,
            total_timeout: settings.total_timeout,
            anchors,
            http,
            random: SystemRandom::new(),
        })
    }

    /// Asks each TSA in order until one gives a token that passes every check
    /// (`verify::tsp_client::check_response`: RFC 3161 §2.4.2 status, imprint, nonce, policy;
    /// the token's signature and ESS attribute; the TSA's path and §2.3 usage) at `now`.
    /// Each attempt has a fresh nonce; failures are collected, in order, into
    /// `NoTsaAnswered`.
    pub async fn stamp(
        &self,
        digest: &[u8; 32],
        now: OffsetDateTime,
    ) -> Result<CheckedToken, TimestampingError> {
        let deadline = Instant::now() + self.total_timeout;
        let mut attempts = Vec::with_capacity(self.urls.len());
        for tsa in self.urls.iter() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                attempts.push(tsa.failed(AttemptFailure::NotAsked(self.total_timeout.as_millis())));
                continue;
            }
            let mut nonce = [0u8; NONCE_BYTES];
            self.random
                .fill(&mut nonce)
                .map_err(|_| TimestampingError::Randomness)?;
            match self.attempt(tsa, digest, &nonce, now, left).await {
                Ok(token) => return Ok(token),
                Err(failure) => {
                    tracing::warn!(tsa = %tsa.shown, reason = %failure, "TSA attempt failed");
                    attempts.push(tsa.failed(failure));
                }
            }
        }
        Err(TimestampingError::NoTsaAnswered(attempts))
    }

    /// One TSA within `min(attempt timeout, time left)`: the whole exchange, body included, is
    /// cut when the time is up, so a TSA that accepts and never answers, or trickles bytes,
    /// holds issuance no longer than that.
    async fn attempt(
        &self,
        tsa: &Tsa,
        digest: &[u8; 32],
        nonce: &[u8; NONCE_BYTES],
        now: OffsetDateTime,
        left: Duration,
    ) -> Result<CheckedToken, AttemptFailure> {
        let budget = self.attempt_timeout.min(left);
        let request = tsp::build_request(
            ImprintAlgorithm::Sha256,
            digest,
            Some(nonce),
            true,
            self.policy.as_ref(),
        )
        .map_err(|e| AttemptFailure::Request(e.to_string()))?;
        // reqwest's own timeout (the same budget) or ours, whichever fires first.
        let body = match tokio::time::timeout(budget, self.exchange(tsa, request, budget)).await {
            Ok(Ok(body)) => body,
            Ok(Err(AttemptFailure::Timeout { .. })) | Err(_) => {
                return Err(AttemptFailure::Timeout {
                    after_ms: budget.as_millis(),
                    cut_by_total: budget < self.attempt_timeout,
                });
            }
            Ok(Err(failure)) => return Err(failure),
        };
        let expected = ExpectedStamp {
            algorithm: ImprintAlgorithm::Sha256,
            digest,
            nonce: Some(nonce),
            policy: self.policy.as_ref(),
        };
        let trust = TsaTrust {
            anchors: &self.anchors,
            certificates: &self.certificates,
            validation_time: now,
        };
        tsp_client::check_response(&body, &expected, &trust).map_err(AttemptFailure::Check)
    }

    /// RFC 3161 §3.4: POST the DER TimeStampReq, expect 200 with a TimeStampResp; the body is
    /// read with the size cap.
    async fn exchange(
        &self,
        tsa: &Tsa,
        request: Vec<u8>,
        budget: Duration,
    ) -> Result<Vec<u8>, AttemptFailure> {
        let mut response = self
            .http
            .post(tsa.url.clone())
            .header(CONTENT_TYPE, QUERY_CONTENT_TYPE)
            .header(ACCEPT, REPLY_CONTENT_TYPE)
            .timeout(budget)
            .body(request)
            .send()
            .await
            .map_err(|e| transport_failure(&e, budget))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(AttemptFailure::Status(status));
        }
        check_content_type(response.headers())?;
        read_capped(&mut response, budget).await
    }
}

impl Tsa {
    fn failed(&self, failure: AttemptFailure) -> Attempt {
        Attempt {
            url: self.shown.clone(),
            failure,
        }
    }
}

impl fmt::Debug for TsaClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("TsaClient")
            .field(
                "urls",
                &self.urls.iter().map(|t| &t.shown).collect::<Vec<_>>(),
            )
            .field("attempt_timeout", &self.attempt_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// An absolute http(s) URL with a host and no credentials. A URL with user:password@ is refused:
/// the password would sit in the configuration and in every log line naming the TSA.
fn parse_url(index: usize, text: &str) -> Result<Tsa, TimestampingError> {
    let invalid =
        |url: Option<String>, reason| TimestampingError::InvalidUrl { index, url, reason };
    if text.chars().count() > MAX_URL_CHARS {
        return Err(invalid(None, "it is over 2048 characters"));
    }
    // The URL parser drops tabs and newlines silently: refused, so what is called is what was
    // configured.
    if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid(None, "it contains spaces or control characters"));
    }
    let url = reqwest::Url::parse(text).map_err(|_| {
        invalid(
            None,
            "it is not an absolute URL such as https://tsa.example/tsr",
        )
    })?;
    let shown = shown(&url);
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(
            Some(shown.clone()),
            "only http and https are accepted",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(Some(shown.clone()), "it names no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            Some(shown),
            "it carries credentials (user:password@), which would be written to logs and the audit trail; use a TSA that needs none",
        ));
    }
    Ok(Tsa { url, shown })
}

/// The extra certificates are DER X.509, so a typo fails at start-up rather than per attempt.
fn check_certificates(certificates: &[Vec<u8>]) -> Result<(), TimestampingError> {
    for (index, certificate) in certificates.iter().enumerate() {
        <x509_cert::Certificate as der::Decode>::from_der(certificate).map_err(|e| {
            TimestampingError::InvalidCertificate {
                index,
                reason: e.to_string(),
            }
        })?;
    }
    Ok(())
}

/// The URL as logs and errors show it: no credentials, no query or fragment.
fn shown(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.into()
}

/// The TSAs' HTTP client: rustls with ring, no redirects (a TSA answers where it is asked),
/// bounded connection and request time.
fn http_client(attempt_timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    // reqwest is built without a crypto provider of its own; ring is the process's (as for the
    // TLS listener and the webhooks). An earlier install is kept.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(attempt_timeout.min(MAX_CONNECT_TIMEOUT))
        .timeout(attempt_timeout)
        .user_agent(concat!("oneseal-tsa-client/", env!("CARGO_PKG_VERSION")))
        .build()
}

fn transport_failure(error: &reqwest::Error, budget: Duration) -> AttemptFailure {
    if error.is_timeout() {
        AttemptFailure::Timeout {
            after_ms: budget.as_millis(),
            cut_by_total: false,
        }
    } else if error.is_connect() {
        AttemptFailure::Connect
    } else {
        AttemptFailure::Transport
    }
}

/// RFC 3161 §3.4: the answer is `application/timestamp-reply` (parameters ignored).
fn check_content_type(headers: &HeaderMap) -> Result<(), AttemptFailure> {
    let value = headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let essence = value.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case(REPLY_CONTENT_TYPE)
        || essence.eq_ignore_ascii_case(REPLY_CONTENT_TYPE_ALIAS)
    {
        return Ok(());
    }
    let mut shown: String = value.chars().filter(|c| !c.is_control()).take(80).collect();
    if shown.is_empty() {
        shown = "none".into();
    }
    Err(AttemptFailure::ContentType(shown))
}

/// The body, refused once it is over `MAX_RESPONSE_BYTES`: a declared Content-Length is checked
/// first, then the chunks are counted as they arrive, so no more than the cap is ever buffered.
async fn read_capped(
    response: &mut reqwest::Response,
    budget: Duration,
) -> Result<Vec<u8>, AttemptFailure> {
    let declared = response.content_length().unwrap_or(0);
    if declared > MAX_RESPONSE_BYTES as u64 {
        return Err(AttemptFailure::TooLarge);
    }
    let mut body = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_failure(&e, budget))?
    {
        if body.len().saturating_add(chunk.len()) > MAX_RESPONSE_BYTES {
            return Err(AttemptFailure::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn redirect_hint(status: u16) -> &'static str {
    if (300..400).contains(&status) {
        " (redirects are not followed)"
    } else {
        ""
    }
}

fn list(attempts: &[Attempt]) -> String {
    if attempts.is_empty() {
        return "no TSA was asked".into();
    }
    attempts
        .iter()
        .map(Attempt::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn settings(urls: &[&str]) -> TsaSettings {
        TsaSettings {
            urls: urls.iter().map(|u| u.to_string()).collect(),
            attempt_timeout: Duration::from_millis(500),
            total_timeout: Duration::from_millis(1500),
            policy: None,
            certificates: Vec::new(),
        }
    }

    fn anchors() -> Arc<TrustAnchors> {
        let key = crate::seal::SoftwareKey::generate().unwrap();
        let start = time::macros::datetime!(2026-01-01 00:00 UTC);
        let root = crate::pki::issue_root_certificate(
            &key,
            "测试机关",
            &crate::pki::Validity::new(start, start + time::Duration::days(10)).unwrap(),
            &crate::pki::Serial::from_random_bytes([1; 16]),
        )
        .unwrap();
        let mut anchors = TrustAnchors::new();
        anchors.add_pem_or_der(&root).unwrap();
        Arc::new(anchors)
    }

    fn refusal(urls: &[&str]) -> TimestampingError {
        match TsaClient::new(settings(urls), anchors()) {
            Err(error) => error,
            Ok(_) => panic!("{urls:?} accepted"),
        }
    }

    #[test]
    fn plain_http_and_https_urls_are_accepted() {
        let client = TsaClient::new(
            settings(&[
                "https://tsa.example/tsr",
                "http://127.0.0.1:8080/tsa?key=abc",
            ]),
            anchors(),
        )
        .unwrap();
        let shown: Vec<_> = client.urls.iter().map(|t| t.shown.as_str()).collect();
        assert_eq!(
            shown,
            ["https://tsa.example/tsr", "http://127.0.0.1:8080/tsa"]
        );
        let debug = format!("{client:?}");
        assert!(!debug.contains("abc"), "{debug}");
    }

    #[test]
    fn credentials_other_schemes_and_bad_settings_are_refused() {
        let error = refusal(&[
            "https://tsa.example/",
            "https://alice:s3cret@tsa.example/tsr",
        ]);
        let message = error.to_string();
        assert!(
            message.contains("TSA URL 1") && message.contains("credentials"),
            "{message}"
        );
        assert!(
            !message.contains("s3cret") && !message.contains("alice"),
            "{message}"
        );
        for (url, reason) in [
            ("ftp://tsa.example/", "only http and https"),
            ("tsa.example/tsr", "not an absolute URL"),
            ("https://tsa.example/\ttsr", "control characters"),
            ("file:///etc/passwd", "only http and https"),
        ] {
            let message = refusal(&[url]).to_string();
            assert!(message.contains(reason), "{url}: {message}");
        }
        assert!(matches!(refusal(&[]), TimestampingError::NoUrls));
        let mut zero = settings(&["https://tsa.example/"]);
        zero.attempt_timeout = Duration::ZERO;
        assert!(matches!(
            TsaClient::new(zero, anchors()),
            Err(TimestampingError::ZeroTimeout("attempt"))
        ));
        assert!(matches!(
            TsaClient::new(
                settings(&["https://tsa.example/"]),
                Arc::new(TrustAnchors::new())
            ),
            Err(TimestampingError::NoTrustAnchors)
        ));
        let mut bad_certificate = settings(&["https://tsa.example/"]);
        bad_certificate.certificates = vec![b"not DER".to_vec()];
        assert!(matches!(
            TsaClient::new(bad_certificate, anchors()),
            Err(TimestampingError::InvalidCertificate { index: 0, .. })
        ));
    }

    #[test]
    fn content_types_are_judged_by_their_essence() {
        let judge = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, value.parse().unwrap());
            check_content_type(&headers)
        };
        assert!(judge("application/timestamp-reply").is_ok());
        assert!(judge("Application/Timestamp-Reply; charset=binary").is_ok());
        assert!(judge("application/timestamp-response").is_ok());
        assert_eq!(
            judge("text/html").unwrap_err().to_string(),
            "content type 'text/html', not application/timestamp-reply"
        );
        assert_eq!(
            check_content_type(&HeaderMap::new()).unwrap_err(),
            AttemptFailure::ContentType("none".into())
        );
    }

    #[test]
    fn a_tsa_s_own_text_is_kept_to_one_short_line() {
        let attempt = Attempt {
            url: "http://a.example/".into(),
            failure: AttemptFailure::Check(TspClientError::Rejected {
                status: "rejection".into(),
                text: Some(format!("line one\nline two {}", "x".repeat(1000))),
                failures: vec!["systemFailure".into()],
            }),
        };
        let shown = attempt.to_string();
        assert!(!shown.contains('\n'), "{shown}");
        assert!(
            shown.starts_with("http://a.example/: the TSA answered rejection: line one line two")
        );
        assert!(
            shown.ends_with('…') && shown.chars().count() < 350,
            "{shown}"
        );
        let unparsed = refusal(&["not a url"]).to_string();
        assert!(
            unparsed.starts_with("TSA URL 0 cannot be used"),
            "{unparsed}"
        );
    }

    #[test]
    fn the_error_lists_every_attempt_on_one_line() {
        let error = TimestampingError::NoTsaAnswered(vec![
            Attempt {
                url: "http://a.example/".into(),
                failure: AttemptFailure::Connect,
            },
            Attempt {
                url: "http://b.example/".into(),
                failure: AttemptFailure::Timeout {
                    after_ms: 500,
                    cut_by_total: false,
                },
            },
            Attempt {
                url: "http://c.example/".into(),
                failure: AttemptFailure::Status(302),
            },
        ]);
        assert_eq!(
            error.to_string(),
            "no TSA gave a valid timestamp: http://a.example/: cannot connect; \
             http://b.example/: no complete answer within 500 ms; \
             http://c.example/: HTTP status 302, not 200 (redirects are not followed)"
        );
    }
}
