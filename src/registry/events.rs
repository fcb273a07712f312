//! The results feed (审批结果推送, 监管抄告): events written with the audit entry that records
//! them, numbered by that entry's sequence.
//!
//! Reading by "sequence after the cursor" is safe because the chain head is held for the whole
//! write (SQLite's write lock, PostgreSQL's `FOR UPDATE`): an event with a lower number can
//! never commit after one with a higher number, so a reader never skips one.

use serde::Serialize;

use super::writer::Batch;
use super::{AuditEntry, AuditRecord, Result};

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
