//! The results feed (审批结果推送, 监管抄告): reading it by cursor, webhook subscribers, and the
//! delivery task that sends each subscriber its events in order, at least once, across restarts.
//!
//! Delivery rests on the subscriber's durable cursor: an event is sent, and only once the receiver
//! answered 2xx is the cursor moved past it (committed by the registry's writer). A crash between
//! the two sends the event again after the restart, so receivers dedupe by the event id. One
//! instance delivers to a subscriber at a time (the registry's lease), one event at a time.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde::Serialize;

use super::verification::rfc3339;
use super::{Bureau, Identity, ServiceError, quoted, require};
use crate::approval::webhook::{backoff, signature};
use crate::registry::{
    AuditRecord, Event, EventKind, LeasedWebhook, NewWebhook, Role, Transition, Webhook,
    WebhookSecret,
};

/// Longest webhook URL accepted.
pub const MAX_URL_CHARS: usize = 2000;
/// Events read per step of a delivery round.
const DELIVERY_BATCH: i64 = 100;
/// Delivery rounds under way at once in one instance.
const MAX_ROUNDS: usize = 16;
/// Bytes of a receiver's answer read (and then dropped) before the connection is let go.
const MAX_ANSWER_BYTES: usize = 4096;
const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;
const SECRET_PREFIX: &str = "whsec_";

/// One event as callers of the feed and webhook receivers see it.
#[derive(Clone, Debug, Serialize)]
pub struct PublishedEvent {
    /// The event's sequence: its id, and the feed's cursor.
    pub id: i64,
    /// When it happened (RFC 3339, UTC).
    pub time: String,
    pub kind: EventKind,
    /// The serial or request id it is about.
    pub subject: String,
    /// The departments it concerns.
    pub departments: Vec<String>,
    /// What happened, by kind (a JSON object).
    pub data: serde_json::Value,
}

impl From<&Event> for PublishedEvent {
    fn from(event: &Event) -> Self {
        PublishedEvent {
            id: event.sequence,
            time: rfc3339(event.time_ms),
            kind: event.kind,
            subject: event.subject.clone(),
            departments: event.departments.clone(),
            data: event.payload.clone(),
        }
    }
}

/// A page of the feed.
#[derive(Clone, Debug)]
pub struct FeedPage {
    pub events: Vec<PublishedEvent>,
    /// The cursor to ask with next: the last event's id, or the one asked with when none.
    pub next: i64,
}

/// What an admin asks for when subscribing a receiver.
#[derive(Clone, Debug)]
pub struct WebhookRequest {
    pub name: String,
    pub url: String,
    /// Kind names; all kinds when absent.
    pub kinds: Option<Vec<String>>,
    /// Only the events concerning this department, when given.
    pub department: Option<String>,
}

/// A subscriber just made: the only time its secret is handed out.
#[derive(Debug)]
pub struct CreatedWebhook {
    pub webhook: Webhook,
    pub secret: WebhookSecret,
}

impl Bureau {
    /// Events after `after`: all of them for admins and auditors, those concerning their own
    /// department for department and reviewer tokens.
    pub async fn events(
        &self,
        caller: &Identity,
        after: i64,
        limit: i64,
    ) -> Result<FeedPage, ServiceError> {
        require(
            caller,
            &[Role::Admin, Role::Auditor, Role::Department, Role::Reviewer],
            "read the results feed",
        )?;
        let department = match caller.role {
            Role::Department | Role::Reviewer => {
                Some(caller.department.as_deref().ok_or_else(|| {
                    ServiceError::Forbidden("this token names no department".into())
                })?)
            }
            _ => None,
        };
        let events = self
            .registry()
            .events_after(after, limit, department)
            .await?;
        let next = events.last().map_or(after, |event| event.sequence);
        Ok(FeedPage {
            events: events.iter().map(PublishedEvent::from).collect(),
            next,
        })
    }

    /// Subscribes a receiver; its signing secret is returned this once.
    pub async fn create_webhook(
        &self,
        caller: &Identity,
        request: &WebhookRequest,
    ) -> Result<CreatedWebhook, ServiceError> {
        require(caller, &[Role::Admin], "create webhooks")?;
        let checked = check_webhook_request(request)?;
        let id = crate::registry::audit::hex(&super::random_bytes::<ID_BYTES>()?);
        let secret = super::random_secret::<SECRET_BYTES>()?;
        let secret = WebhookSecret::new(format!(
            "{SECRET_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret.as_ref())
        ));
        let kinds: Vec<&str> = checked.kinds.iter().map(|kind| kind.as_str()).collect();
        let audit = AuditRecord::new(
            caller.actor(),
            "webhook.created",
            format!("webhook:{id}"),
            serde_json::json!({
                "name": checked.name,
                "url": checked.url,
                "kinds": kinds,
                "department": checked.department,
            }),
        );
        let webhook = NewWebhook {
            id,
            name: checked.name,
            url: checked.url,
            secret: secret.clone(),
            kinds: checked.kinds,
            department: checked.department,
            created_by: caller.actor(),
            created_at_ms: self.now_ms(),
        };
        let webhook = self.registry().create_webhook(webhook, audit).await?;
        Ok(CreatedWebhook { webhook, secret })
    }

    /// The live subscribers and where their delivery stands (never their secrets).
    pub async fn webhooks(&self, caller: &Identity) -> Result<Vec<Webhook>, ServiceError> {
        require(caller, &[Role::Admin], "list webhooks")?;
        Ok(self.registry().webhooks().await?)
    }

    /// Removes a subscriber: nothing more is sent to it.
    pub async fn remove_webhook(&self, caller: &Identity, id: &str) -> Result<(), ServiceError> {
        require(caller, &[Role::Admin], "remove webhooks")?;
        let not_found = || ServiceError::NotFound(format!("no webhook with id {}", quoted(id)));
        if !(id.len() == ID_BYTES * 2 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        {
            return Err(not_found());
        }
        let audit = AuditRecord::new(
            caller.actor(),
            "webhook.removed",
            format!("webhook:{id}"),
            serde_json::json!({}),
        );
        match self
            .registry()
            .remove_webhook(id, &audit, self.now_ms())
            .await?
        {
            Transition::Done(()) => Ok(()),
            Transition::NotFound => Err(not_found()),
            Transition::Refused(why) => Err(ServiceError::Conflict(why)),
        }
    }
}

/// A webhook request that passed every check.
struct CheckedWebhook {
    name: String,
    url: String,
    kinds: Vec<EventKind>,
    department: Option<String>,
}

/// Every field checked; the first problem refused with `webhook.invalid`.
fn check_webhook_request(request: &WebhookRequest) -> Result<CheckedWebhook, ServiceError> {
    let invalid = |message: String| ServiceError::invalid("webhook.invalid", message);
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid(
            "the webhook name must be 1–100 characters without control characters".into(),
        ));
    }
    let url = check_url(&request.url).map_err(invalid)?;
    let kinds = match &request.kinds {
        None => EventKind::ALL.to_vec(),
        Some(names) if names.is_empty() => {
            return Err(invalid(
                "kinds is empty; leave it out to receive every kind".into(),
            ));
        }
        Some(names) => {
            let mut kinds = Vec::new();
            for name in names {
                let kind = EventKind::parse(name).ok_or_else(|| {
                    let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                    invalid(format!(
                        "unknown event kind {}; use {}",
                        quoted(name),
                        known.join(", ")
                    ))
                })?;
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
            kinds
        }
    };
    let department = match request.department.as_deref().map(str::trim) {
        None => None,
        Some(department)
            if department.is_empty()
                || department.chars().count() > 100
                || department.chars().any(|c| c.is_control() || c == '|') =>
        {
            return Err(invalid(
                "the department must be 1–100 characters without control characters or |".into(),
            ));
        }
        Some(department) => Some(department.to_string()),
    };
    Ok(CheckedWebhook {
        name: name.to_string(),
        url,
        kinds,
        department,
    })
}

/// An absolute http(s) URL with a host and no credentials, as it will be called.
fn check_url(text: &str) -> Result<String, String> {
    if text.chars().count() > MAX_URL_CHARS {
        return Err(format!(
            "the webhook URL is over {MAX_URL_CHARS} characters"
        ));
    }
    // The URL parser drops tabs and newlines silently: refused, so what is stored is what was sent.
    if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("the webhook URL contains spaces or control characters".into());
    }
    let url = reqwest::Url::parse(text).map_err(|e| {
        format!("the webhook URL is not an absolute URL ({e}); use https://host/path")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the webhook URL must use http or https, not {}",
            quoted(url.scheme())
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the webhook URL names no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "the webhook URL must not carry credentials (user:password@); receivers check the X-Oneseal-Signature header instead"
                .into(),
        );
    }
    if url.as_str().chars().count() > MAX_URL_CHARS {
        return Err(format!(
            "the webhook URL is over {MAX_URL_CHARS} characters"
        ));
    }
    Ok(url.into())
}

/// How the delivery task runs.
#[derive(Clone, Debug)]
pub struct DeliveryOptions {
    /// Longest wait between attempts for a failing receiver.
    pub max_backoff: Duration,
    /// How often due subscribers are looked for.
    pub poll_interval: Duration,
    /// A receiver not answering within this has failed the attempt.
    pub request_timeout: Duration,
    /// How long a subscriber's lease lasts without renewal (each delivered event renews it); an
    /// instance that died holding it blocks that subscriber this long.
    pub lease: Duration,
}

impl DeliveryOptions {
    pub fn new(max_backoff: Duration) -> DeliveryOptions {
        DeliveryOptions {
            max_backoff,
            poll_interval: Duration::from_secs(1),
            request_timeout: Duration::from_secs(10),
            lease: Duration::from_secs(30),
        }
    }
}

/// Starts delivering to webhook subscribers, until the task is aborted.
pub fn spawn_webhook_delivery(
    bureau: Arc<Bureau>,
    options: DeliveryOptions,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = match delivery_client(&options) {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "webhook delivery cannot start");
                return;
            }
        };
        let delivery = Arc::new(Delivery {
            bureau,
            client,
            owner: instance_id(),
            options,
        });
        delivery.run().await;
    })
}

/// The delivery task's state, shared by its rounds.
struct Delivery {
    bureau: Arc<Bureau>,
    client: reqwest::Client,
    /// This instance's name in the leases it takes.
    owner: String,
    options: DeliveryOptions,
}

/// Why one attempt failed; safe to store and show (no URL, no answer body).
#[derive(Debug, thiserror::Error)]
enum DeliveryFailure {
    #[error("the receiver answered {0}")]
    Status(u16),
    #[error("the receiver did not answer within {0} s")]
    Timeout(u64),
    #[error("cannot connect to the receiver")]
    Connect,
    #[error("the request to the receiver failed")]
    Request,
    #[error("the event could not be encoded")]
    Encoding,
}

impl Delivery {
    /// Every `poll_interval`: a round for each due subscriber not already in one.
    async fn run(self: Arc<Self>) {
        let mut rounds = tokio::task::JoinSet::new();
        let mut running: HashMap<tokio::task::Id, String> = HashMap::new();
        let mut every = tokio::time::interval(self.options.poll_interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            while let Some(done) = rounds.try_join_next_with_id() {
                let id = match done {
                    Ok((id, ())) => id,
                    Err(error) => error.id(),
                };
                running.remove(&id);
            }
            let due = match self
                .bureau
                .registry()
                .due_webhooks(self.bureau.now_ms())
                .await
            {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(%error, "cannot look for due webhooks");
                    continue;
                }
            };
            let busy: HashSet<&String> = running.values().collect();
            let fresh: Vec<String> = due.into_iter().filter(|id| !busy.contains(id)).collect();
            for webhook in fresh {
                if running.len() >= MAX_ROUNDS {
                    break;
                }
                let delivery = Arc::clone(&self);
                let task = rounds.spawn({
                    let webhook = webhook.clone();
                    async move { delivery.round(&webhook).await }
                });
                running.insert(task.id(), webhook);
            }
        }
    }

    /// Takes the subscriber's lease and sends its events in order until none is left or one
    /// fails; then gives the lease up.
    async fn round(&self, id: &str) {
        let registry = self.bureau.registry();
        let now = self.bureau.now_ms();
        let leased = match registry
            .lease_webhook(id, &self.owner, now, now + self.lease_ms())
            .await
        {
            Ok(Some(leased)) => leased,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(webhook = %id, %error, "cannot lease a webhook");
                return;
            }
        };
        match self.send_pending(&leased).await {
            Ok(Outcome::Done) => {
                if let Err(error) = registry.release_webhook(id, &self.owner).await {
                    tracing::warn!(webhook = %id, %error, "cannot release a webhook's lease");
                }
            }
            Ok(Outcome::Stopped) => {}
            Ok(Outcome::Failed { attempts, failure }) => {
                let wait = backoff(attempts, self.options.max_backoff);
                let next = self
                    .bureau
                    .now_ms()
                    .saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
                metrics::counter!("oneseal_webhook_deliveries_total", "outcome" => "failed")
                    .increment(1);
                tracing::info!(webhook = %id, attempts, %failure, retry_in_ms = wait.as_millis() as u64, "webhook delivery failed");
                if let Err(error) = registry
                    .webhook_failed(id, &self.owner, &failure.to_string(), next)
                    .await
                {
                    tracing::warn!(webhook = %id, %error, "cannot record a webhook failure");
                }
            }
            Err(error) => {
                tracing::warn!(webhook = %id, %error, "webhook delivery interrupted");
                let _ = registry.release_webhook(id, &self.owner).await;
            }
        }
    }

    /// Sends the events after the subscriber's cursor, moving the cursor after each.
    async fn send_pending(
        &self,
        leased: &LeasedWebhook,
    ) -> Result<Outcome, crate::registry::RegistryError> {
        let registry = self.bureau.registry();
        let webhook = &leased.webhook;
        let mut cursor = webhook.delivered_through;
        let mut attempts = u32::try_from(webhook.attempts).unwrap_or(u32::MAX);
        loop {
            let events = registry.events_after(cursor, DELIVERY_BATCH, None).await?;
            let Some(last) = events.last().map(|event| event.sequence) else {
                return Ok(Outcome::Done);
            };
            for event in events.iter().filter(|event| webhook.wants(event)) {
                if let Err(failure) = self.send(leased, event).await {
                    return Ok(Outcome::Failed {
                        attempts: attempts.saturating_add(1),
                        failure,
                    });
                }
                attempts = 0;
                metrics::counter!("oneseal_webhook_deliveries_total", "outcome" => "delivered")
                    .increment(1);
                let now = self.bureau.now_ms();
                let kept = registry
                    .webhook_delivered(
                        &webhook.id,
                        &self.owner,
                        event.sequence,
                        Some(now),
                        now + self.lease_ms(),
                    )
                    .await?;
                if !kept {
                    return Ok(Outcome::Stopped);
                }
                cursor = event.sequence;
            }
            // Events not for this subscriber are passed over for good.
            if last > cursor {
                let now = self.bureau.now_ms();
                let kept = registry
                    .webhook_delivered(&webhook.id, &self.owner, last, None, now + self.lease_ms())
                    .await?;
                if !kept {
                    return Ok(Outcome::Stopped);
                }
                cursor = last;
            }
            if i64::try_from(events.len()).unwrap_or(i64::MAX) < DELIVERY_BATCH {
                return Ok(Outcome::Done);
            }
        }
    }

    /// POSTs one event, signed; `Ok` only for a 2xx answer.
    async fn send(&self, leased: &LeasedWebhook, event: &Event) -> Result<(), DeliveryFailure> {
        let body = serde_json::to_vec(&PublishedEvent::from(event))
            .map_err(|_| DeliveryFailure::Encoding)?;
        // The system clock, not the bureau's: the receiver checks freshness against its own
        // clock, and a development clock offset must not make every signature look stale.
        let timestamp = super::now_ms().div_euclid(1000);
        let signature = signature(leased.secret.expose().as_bytes(), timestamp, &body);
        let sent = self
            .client
            .post(&leased.webhook.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Oneseal-Event-Id", event.sequence.to_string())
            .header("X-Oneseal-Event-Kind", event.kind.as_str())
            .header("X-Oneseal-Signature", signature)
            .body(body)
            .send()
            .await;
        let mut answer = sent.map_err(|error| {
            if error.is_timeout() {
                DeliveryFailure::Timeout(self.options.request_timeout.as_secs())
            } else if error.is_connect() {
                DeliveryFailure::Connect
            } else {
                DeliveryFailure::Request
            }
        })?;
        let status = answer.status();
        if !status.is_success() {
            return Err(DeliveryFailure::Status(status.as_u16()));
        }
        // A little of the answer is read so the connection can be reused; the rest is dropped.
        let mut read = 0;
        while read < MAX_ANSWER_BYTES {
            match answer.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
        Ok(())
    }

    fn lease_ms(&self) -> i64 {
        i64::try_from(self.options.lease.as_millis()).unwrap_or(i64::MAX)
    }
}

/// How a round ended.
enum Outcome {
    /// Everything up to the head was delivered or passed over.
    Done,
    /// The lease was lost or the subscriber removed.
    Stopped,
    /// An attempt failed; `attempts` counts the failures since the last success.
    Failed {
        attempts: u32,
        failure: DeliveryFailure,
    },
}

/// The HTTP client of deliveries: rustls with ring, no redirects followed, bounded waits.
fn delivery_client(options: &DeliveryOptions) -> Result<reqwest::Client, reqwest::Error> {
    // reqwest is built without a crypto provider of its own; ring is the process's (as for the
    // TLS listener). An earlier install (by `serve`) is kept.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(options.request_timeout)
        .connect_timeout(options.request_timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("oneseal-webhook/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// This process's lease owner name: random, so a restarted instance is a new owner.
fn instance_id() -> String {
    let bytes = super::random_bytes::<8>().unwrap_or_default();
    format!("instance-{}", crate::registry::audit::hex(&bytes))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_and_https_urls_are_accepted() {
        assert_eq!(
            check_url("https://supervision.example.gov.cn/hooks/oneseal?x=1").unwrap(),
            "https://supervision.example.gov.cn/hooks/oneseal?x=1"
        );
        assert_eq!(
            check_url("http://127.0.0.1:9000").unwrap(),
            "http://127.0.0.1:9000/"
        );
        for bad in [
            "",
            "example.com/hook",
            "ftp://example.com/hook",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://user:pw@example.com/hook",
            "https://token@example.com/hook",
            "https://exa\nmple.com/hook",
            "https://example.com/a b",
            "http://",
        ] {
            assert!(check_url(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS));
        assert!(check_url(&long).unwrap_err().contains("2000"));
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let created = CreatedWebhook {
            webhook: Webhook {
                id: "0123456789abcdef".into(),
                name: "监管抄告".into(),
                url: "https://example.com/".into(),
                kinds: EventKind::ALL.to_vec(),
                department: None,
                created_by: "console".into(),
                created_at_ms: 0,
                delivered_through: 0,
                attempts: 0,
                next_attempt_ms: 0,
                last_error: None,
                last_delivered_ms: None,
            },
            secret: WebhookSecret::new("whsec_do-not-print-me".into()),
        };
        let shown = format!("{created:?}");
        assert!(!shown.contains("do-not-print-me"), "{shown}");
        assert!(shown.contains("elided"), "{shown}");
    }
}
