//! The results feed (审批结果推送, 监管抄告): events written with the audit entry that records
//! them, numbered by that entry's sequence.
//!
//! Reading by "sequence after the cursor" is safe because the chain head is held for the whole
//! write (SQLite's write lock, PostgreSQL's `FOR UPDATE`): an event with a lower number can
//! never commit after one with a higher number, so a reader never skips one.
//!
//! Webhook subscribers live here too: each has a durable cursor (`delivered_through`) moved only
//! after its receiver accepted an event, and a lease so that one instance delivers at a time.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use zeroize::Zeroizing;

use super::writer::Batch;
use super::{AuditEntry, AuditRecord, Registry, RegistryError, Result, Transition};

/// What happened, for subscribers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum EventKind {
    /// A certificate was issued under the seal.
    #[serde(rename = "certificate.issued")]
    CertificateIssued,
    /// A certificate was revoked.
    #[serde(rename = "certificate.revoked")]
    CertificateRevoked,
    /// A request was rejected by a department.
    #[serde(rename = "request.rejected")]
    RequestRejected,
    /// A request passed its committed time limit without being closed.
    #[serde(rename = "request.overdue")]
    RequestOverdue,
    /// A 容缺后补 commitment's deadline passed with materials still missing.
    #[serde(rename = "commitment.missed")]
    CommitmentMissed,
    /// The missing materials of a 容缺 issuance were all supplied.
    #[serde(rename = "commitment.fulfilled")]
    CommitmentFulfilled,
}

impl EventKind {
    pub const ALL: [EventKind; 6] = [
        EventKind::CertificateIssued,
        EventKind::CertificateRevoked,
        EventKind::RequestRejected,
        EventKind::RequestOverdue,
        EventKind::CommitmentMissed,
        EventKind::CommitmentFulfilled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::CertificateIssued => "certificate.issued",
            EventKind::CertificateRevoked => "certificate.revoked",
            EventKind::RequestRejected => "request.rejected",
            EventKind::RequestOverdue => "request.overdue",
            EventKind::CommitmentMissed => "commitment.missed",
            EventKind::CommitmentFulfilled => "commitment.fulfilled",
        }
    }

    pub fn parse(text: &str) -> Option<EventKind> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// An event about to be written.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub kind: EventKind,
    /// The serial or request id it is about.
    pub subject: String,
    /// Departments concerned: the template's own and those whose sign-off it needs.
    pub departments: Vec<String>,
    /// What subscribers are told (a JSON object).
    pub payload: serde_json::Value,
}

impl Batch {
    /// Appends `record` to the chain and writes `event` under the entry's sequence.
    pub async fn append_event(
        &mut self,
        record: &AuditRecord,
        now_ms: i64,
        event: &NewEvent,
    ) -> Result<AuditEntry> {
        let entry = self.append(record, now_ms);
        let departments: String = event
            .departments
            .iter()
            .map(|department| format!("|{department}"))
            .chain(std::iter::once("|".to_string()))
            .collect();
        sqlx::query(
            "INSERT INTO events (sequence, time_ms, kind, subject, departments, payload) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(entry.sequence)
        .bind(now_ms)
        .bind(event.kind.as_str())
        .bind(&event.subject)
        .bind(departments)
        .bind(event.payload.to_string())
        .execute(self.connection())
        .await?;
        Ok(entry)
    }
}

/// One event of the feed, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The audit entry's sequence: the feed's cursor and the event's id.
    pub sequence: i64,
    pub time_ms: i64,
    pub kind: EventKind,
    pub subject: String,
    pub departments: Vec<String>,
    pub payload: serde_json::Value,
}

impl Event {
    /// Whether the event concerns `department`.
    pub fn concerns(&self, department: &str) -> bool {
        self.departments.iter().any(|d| d == department)
    }
}

/// The key a subscriber checks our signatures with. It is stored (signing needs it), shown to
/// the admin once at creation, and never printed: `Debug` elides it.
#[derive(Clone)]
pub struct WebhookSecret(Zeroizing<String>);

impl WebhookSecret {
    pub fn new(secret: String) -> WebhookSecret {
        WebhookSecret(Zeroizing::new(secret))
    }

    /// The secret's text: the HMAC key, and what the admin is handed once at creation. Callers
    /// use it only to sign or to answer that creation, never to log or list.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret([secret elided])")
    }
}

/// A webhook subscriber about to be stored.
#[derive(Clone, Debug)]
pub struct NewWebhook {
    pub id: String,
    pub name: String,
    pub url: String,
    pub secret: WebhookSecret,
    /// The kinds it is sent; never empty.
    pub kinds: Vec<EventKind>,
    /// When set, only events concerning this department are sent.
    pub department: Option<String>,
    pub created_by: String,
    pub created_at_ms: i64,
}

/// A webhook subscriber and where its delivery stands; without its secret.
#[derive(Clone, Debug, Serialize)]
pub struct Webhook {
    pub id: String,
    pub name: String,
    pub url: String,
    pub kinds: Vec<EventKind>,
    pub department: Option<String>,
    pub created_by: String,
    pub created_at_ms: i64,
    /// Every event up to this sequence was delivered (or was not for this subscriber).
    pub delivered_through: i64,
    /// Failed attempts since the last success.
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub last_error: Option<String>,
    pub last_delivered_ms: Option<i64>,
}

impl Webhook {
    /// Whether `event` is for this subscriber (its kinds, its department).
    pub fn wants(&self, event: &Event) -> bool {
        self.kinds.contains(&event.kind)
            && self
                .department
                .as_deref()
                .is_none_or(|department| event.concerns(department))
    }
}

/// A subscriber this instance holds the delivery lease of, with the secret to sign with.
#[derive(Clone, Debug)]
pub struct LeasedWebhook {
    pub webhook: Webhook,
    pub secret: WebhookSecret,
}

macro_rules! webhook_columns {
    () => {
        "id, name, url, kinds, department, created_by, created_at_ms, delivered_through, \
         attempts, next_attempt_ms, last_error, last_delivered_ms"
    };
}

impl Registry {
    /// Events after `after`, oldest first, at most `limit`; only those concerning `department`
    /// when given.
    pub async fn events_after(
        &self,
        after: i64,
        limit: i64,
        department: Option<&str>,
    ) -> Result<Vec<Event>> {
        let pattern = department.map(|d| format!("%|{}|%", escape_like(d)));
        let rows = sqlx::query(
            "SELECT sequence, time_ms, kind, subject, departments, payload FROM events \
             WHERE sequence > $1 AND ($2 IS NULL OR departments LIKE $2 ESCAPE '\\') \
             ORDER BY sequence LIMIT $3",
        )
        .bind(after)
        .bind(pattern)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(event).collect()
    }

    /// Stores a subscriber with its audit entry. It starts at the feed's head: it is sent the
    /// events written after it (earlier ones are in the feed).
    pub async fn create_webhook(&self, webhook: NewWebhook, audit: AuditRecord) -> Result<Webhook> {
        self.write((webhook, audit), |batch, (webhook, audit)| {
            Box::pin(async move {
                let head: Option<i64> = sqlx::query("SELECT MAX(sequence) FROM events")
                    .fetch_one(batch.connection())
                    .await?
                    .try_get(0)?;
                let head = head.unwrap_or(0);
                sqlx::query(
                    "INSERT INTO webhooks (id, name, url, secret, kinds, department, created_by, \
                     created_at_ms, delivered_through, attempts, next_attempt_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $8)",
                )
                .bind(&webhook.id)
                .bind(&webhook.name)
                .bind(&webhook.url)
                .bind(webhook.secret.expose())
                .bind(joined_kinds(&webhook.kinds))
                .bind(webhook.department.clone())
                .bind(&webhook.created_by)
                .bind(webhook.created_at_ms)
                .bind(head)
                .execute(batch.connection())
                .await?;
                batch.append(audit, webhook.created_at_ms);
                Ok(Webhook {
                    id: webhook.id.clone(),
                    name: webhook.name.clone(),
                    url: webhook.url.clone(),
                    kinds: webhook.kinds.clone(),
                    department: webhook.department.clone(),
                    created_by: webhook.created_by.clone(),
                    created_at_ms: webhook.created_at_ms,
                    delivered_through: head,
                    attempts: 0,
                    next_attempt_ms: webhook.created_at_ms,
                    last_error: None,
                    last_delivered_ms: None,
                })
            })
        })
        .await
    }

    /// The subscribers not removed, oldest first.
    pub async fn webhooks(&self) -> Result<Vec<Webhook>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE removed_at_ms IS NULL ORDER BY created_at_ms, id"
        ))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(webhook).collect()
    }

    /// Removes a subscriber: nothing more is sent to it (a delivery under way stops after the
    /// event in flight).
    pub async fn remove_webhook(
        &self,
        id: &str,
        audit: &AuditRecord,
        now_ms: i64,
    ) -> Result<Transition<()>> {
        let data = (id.to_string(), audit.clone(), now_ms);
        self.write(data, |batch, (id, audit, now_ms)| {
            Box::pin(async move {
                super::records::end_once(
                    batch,
                    sqlx::query(
                        "UPDATE webhooks SET removed_at_ms = $1, lease_owner = NULL, \
                         lease_until_ms = NULL WHERE id = $2 AND removed_at_ms IS NULL",
                    )
                    .bind(*now_ms)
                    .bind(id),
                    ("SELECT 1 FROM webhooks WHERE id = $1", id),
                    "the webhook is already removed",
                    audit,
                    *now_ms,
                )
                .await
            })
        })
        .await
    }

    /// Ids of the live subscribers due for delivery (`next_attempt_ms` passed) whose lease is
    /// free.
    pub async fn due_webhooks(&self, now_ms: i64) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT id FROM webhooks WHERE removed_at_ms IS NULL AND next_attempt_ms <= $1 \
             AND (lease_until_ms IS NULL OR lease_until_ms < $1) ORDER BY id",
        )
        .bind(now_ms)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| Ok(row.try_get::<String, _>(0)?))
            .collect()
    }

    /// Takes the delivery lease of subscriber `id` for `owner` until `until_ms`, if it is live,
    /// due and not leased by anyone (an expired lease is free: its holder died or hung). Instances
    /// sharing one PostgreSQL registry thus never deliver to one subscriber at once.
    pub async fn lease_webhook(
        &self,
        id: &str,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Option<LeasedWebhook>> {
        let data = (id.to_string(), owner.to_string(), now_ms, until_ms);
        self.write(data, |batch, (id, owner, now_ms, until_ms)| {
            Box::pin(async move {
                let taken = sqlx::query(
                    "UPDATE webhooks SET lease_owner = $1, lease_until_ms = $2 \
                     WHERE id = $3 AND removed_at_ms IS NULL AND next_attempt_ms <= $4 \
                     AND (lease_until_ms IS NULL OR lease_until_ms < $4)",
                )
                .bind(owner)
                .bind(*until_ms)
                .bind(id)
                .bind(*now_ms)
                .execute(batch.connection())
                .await?
                .rows_affected();
                if taken != 1 {
                    return Ok(None);
                }
                let row = sqlx::query(concat!(
                    "SELECT ",
                    webhook_columns!(),
                    ", secret FROM webhooks WHERE id = $1"
                ))
                .bind(id)
                .fetch_one(batch.connection())
                .await?;
                Ok(Some(LeasedWebhook {
                    webhook: webhook(&row)?,
                    secret: WebhookSecret::new(row.try_get(12)?),
                }))
            })
        })
        .await
    }

    /// Moves the durable cursor of a leased subscriber forward to `through` and renews the lease
    /// until `until_ms`; `delivered_ms` when an event was actually sent. `false` when the lease
    /// was lost or the subscriber removed: the caller stops delivering.
    pub async fn webhook_delivered(
        &self,
        id: &str,
        owner: &str,
        through: i64,
        delivered_ms: Option<i64>,
        until_ms: i64,
    ) -> Result<bool> {
        let data = (
            id.to_string(),
            owner.to_string(),
            through,
            delivered_ms,
            until_ms,
        );
        self.write(
            data,
            |batch, (id, owner, through, delivered_ms, until_ms)| {
                Box::pin(async move {
                    let changed = sqlx::query(
                    "UPDATE webhooks SET delivered_through = $1, attempts = 0, last_error = NULL, \
                     last_delivered_ms = COALESCE($2, last_delivered_ms), lease_until_ms = $3 \
                     WHERE id = $4 AND lease_owner = $5 AND removed_at_ms IS NULL \
                     AND delivered_through <= $1",
                )
                .bind(*through)
                .bind(*delivered_ms)
                .bind(*until_ms)
                .bind(id)
                .bind(owner)
                .execute(batch.connection())
                .await?
                .rows_affected();
                    Ok(changed == 1)
                })
            },
        )
        .await
    }

    /// Records a failed attempt of a leased subscriber, schedules the next one at
    /// `next_attempt_ms` and gives the lease up.
    pub async fn webhook_failed(
        &self,
        id: &str,
        owner: &str,
        error: &str,
        next_attempt_ms: i64,
    ) -> Result<()> {
        let data = (
            id.to_string(),
            owner.to_string(),
            error.to_string(),
            next_attempt_ms,
        );
        self.write(data, |batch, (id, owner, error, next_attempt_ms)| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE webhooks SET attempts = attempts + 1, next_attempt_ms = $1, \
                     last_error = $2, lease_owner = NULL, lease_until_ms = NULL \
                     WHERE id = $3 AND lease_owner = $4",
                )
                .bind(*next_attempt_ms)
                .bind(error)
                .bind(id)
                .bind(owner)
                .execute(batch.connection())
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Gives up the lease of a subscriber whose round ended without a failure.
    pub async fn release_webhook(&self, id: &str, owner: &str) -> Result<()> {
        let data = (id.to_string(), owner.to_string());
        self.write(data, |batch, (id, owner)| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE webhooks SET lease_owner = NULL, lease_until_ms = NULL \
                     WHERE id = $1 AND lease_owner = $2",
                )
                .bind(id)
                .bind(owner)
                .execute(batch.connection())
                .await?;
                Ok(())
            })
        })
        .await
    }
}

/// `|a|b|`, the stored form of a set of kinds (and of departments): each item findable with
/// `LIKE '%|item|%'`.
fn joined_kinds(kinds: &[EventKind]) -> String {
    kinds
        .iter()
        .map(|kind| format!("|{}", kind.as_str()))
        .chain(std::iter::once("|".to_string()))
        .collect()
}

/// `text` matched literally by `LIKE … ESCAPE '\\'`.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The items of a `|a|b|` list.
fn split_list(text: &str) -> impl Iterator<Item = &str> {
    text.split('|').filter(|item| !item.is_empty())
}

fn event(row: &AnyRow) -> Result<Event> {
    let kind: String = row.try_get(2)?;
    let departments: String = row.try_get(4)?;
    let payload: String = row.try_get(5)?;
    Ok(Event {
        sequence: row.try_get(0)?,
        time_ms: row.try_get(1)?,
        kind: EventKind::parse(&kind)
            .ok_or_else(|| RegistryError::Corrupt(format!("event kind {kind:?}")))?,
        subject: row.try_get(3)?,
        departments: split_list(&departments).map(str::to_string).collect(),
        payload: serde_json::from_str(&payload)
            .map_err(|_| RegistryError::Corrupt("an event's payload".into()))?,
    })
}

fn webhook(row: &AnyRow) -> Result<Webhook> {
    let kinds: String = row.try_get(3)?;
    let kinds = split_list(&kinds)
        .map(|kind| {
            EventKind::parse(kind)
                .ok_or_else(|| RegistryError::Corrupt(format!("webhook kind {kind:?}")))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Webhook {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        url: row.try_get(2)?,
        kinds,
        department: row.try_get(4)?,
        created_by: row.try_get(5)?,
        created_at_ms: row.try_get(6)?,
        delivered_through: row.try_get(7)?,
        attempts: row.try_get(8)?,
        next_attempt_ms: row.try_get(9)?,
        last_error: row.try_get(10)?,
        last_delivered_ms: row.try_get(11)?,
    })
}
