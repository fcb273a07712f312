//! Committed time limits (承诺办结时限) and 容缺后补 deadlines: the working-day calendar, and the
//! sweep that flags overdue requests and missed commitments once each, with their feed events.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::verification::rfc3339;
use super::{Bureau, Identity, ServiceError, require};
use crate::approval::calendar::{DayKind, WorkCalendar, format_day, parse_day};
use crate::registry::{
    AuditRecord, CalendarDay, CommitmentRecord, EventKind, NewEvent, RequestRecord, Role,
};

/// Who the trail names for what the sweep finds.
pub const DEADLINE_SWEEP: &str = "oneseal:deadline-sweep";
/// A seal not finished this long after its last step is taken to have failed, and tried again.
const STALE_SEAL: Duration = Duration::from_secs(120);
/// Most calendar exceptions kept: decades of holidays.
const MAX_CALENDAR_DAYS: usize = 5_000;

/// A change to one day of the calendar.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarChange {
    /// `holiday`, `workday` (a make-up working day), or `normal` to remove the exception.
    pub kind: String,
    #[serde(default)]
    pub name: String,
}

impl Bureau {
    /// The working-day calendar as configured now.
    pub async fn work_calendar(&self) -> Result<WorkCalendar, ServiceError> {
        let days = self.registry().calendar().await?;
        Ok(WorkCalendar::new(days.iter().filter_map(|day| {
            Some((parse_day(&day.day)?, DayKind::parse(&day.kind)?))
        })))
    }

    /// The calendar's exceptions (any token may read them: deadlines are public).
    pub async fn calendar_days(&self, caller: &Identity) -> Result<Vec<CalendarDay>, ServiceError> {
        require(caller, &Role::ALL, "read the calendar")?;
        Ok(self.registry().calendar().await?)
    }

    /// Marks a day as a holiday or a make-up working day, or returns it to the weekly rule.
    /// Deadlines already given keep their date; new ones use the calendar as changed.
    pub async fn set_calendar_day(
        &self,
        caller: &Identity,
        day: &str,
        change: CalendarChange,
    ) -> Result<Vec<CalendarDay>, ServiceError> {
        require(caller, &[Role::Admin], "change the calendar")?;
        let Some(date) = parse_day(day) else {
            return Err(ServiceError::invalid(
                "calendar.invalid_day",
                "the day must be a date YYYY-MM-DD",
            ));
        };
        let kind = match change.kind.as_str() {
            "normal" => String::new(),
            other => DayKind::parse(other)
                .ok_or_else(|| {
                    ServiceError::invalid(
                        "calendar.invalid_kind",
                        "kind must be holiday, workday or normal",
                    )
                })?
                .as_str()
                .to_string(),
        };
        let name = change.name.trim();
        if name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(ServiceError::invalid(
                "calendar.invalid_name",
                "the name must be at most 64 characters without control characters",
            ));
        }
        if !kind.is_empty() && self.registry().calendar().await?.len() >= MAX_CALENDAR_DAYS {
            return Err(ServiceError::Conflict(format!(
                "the calendar holds {MAX_CALENDAR_DAYS} exceptions already; remove old ones first"
            )));
        }
        let entry = CalendarDay {
            day: format_day(date),
            kind: kind.clone(),
            name: name.to_string(),
            changed_by: caller.actor(),
            changed_at_ms: self.now_ms(),
        };
        let audit = AuditRecord::new(
            caller.actor(),
            "calendar.changed",
            entry.day.clone(),
            serde_json::json!({
                "kind": if kind.is_empty() { "normal" } else { kind.as_str() },
                "name": entry.name,
            }),
        );
        self.registry().set_calendar_day(&entry, &audit).await?;
        Ok(self.registry().calendar().await?)
    }

    /// Flags what has passed its deadline since the last sweep; returns how many of each.
    pub async fn sweep_deadlines(&self) -> Result<(usize, usize), ServiceError> {
        let now = self.now_ms();
        let overdue = self
            .registry()
            .flag_overdue_requests(now, overdue_event)
            .await?;
        let missed = self
            .registry()
            .flag_missed_commitments(now, missed_event)
            .await?;
        if overdue + missed > 0 {
            tracing::info!(overdue, missed, "deadlines passed");
        }
        Ok((overdue, missed))
    }

    /// Finishes seals a stop cut off: automatic ones never started, and any whose serial was
    /// reserved but whose PDF was never committed (signed again under the same serial, which
    /// nobody has seen).
    ///
    /// With `older_than`, only seals whose last step is at least that old: a seal another task
    /// or instance is applying right now is left to it.
    pub async fn resume_sealing(
        &self,
        older_than: Option<Duration>,
    ) -> Result<usize, ServiceError> {
        let mut resumed = 0;
        let cutoff = older_than.map(|age| {
            self.now_ms()
                .saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX))
        });
        for record in self.registry().requests_sealing().await? {
            if let Some(cutoff) = cutoff
                && self.last_step_ms(&record).await? > cutoff
            {
                continue;
            }
            let outcome = match &record.serial {
                None => self.seal_automatically(&record.id).await.map(|_| ()),
                Some(serial) => self.finish_reserved_seal(&record, serial).await,
            };
            match outcome {
                Ok(()) => resumed += 1,
                Err(error) => tracing::error!(
                    request = %record.id,
                    error = %error,
                    cause = error.cause().unwrap_or_default(),
                    "cannot finish a seal cut off by a stop"
                ),
            }
        }
        Ok(resumed)
    }

    /// When the request last moved: its seal's reservation, else its last sign-off or opening.
    async fn last_step_ms(&self, record: &RequestRecord) -> Result<i64, ServiceError> {
        if let Some(serial) = &record.serial
            && let Some(certificate) = self.registry().certificate(serial).await?
        {
            return Ok(certificate.issued_at_ms);
        }
        Ok(record
            .sign_offs
            .iter()
            .filter_map(|s| s.decided_at_ms)
            .max()
            .unwrap_or(record.opened_at_ms))
    }

    async fn finish_reserved_seal(
        &self,
        record: &RequestRecord,
        serial: &str,
    ) -> Result<(), ServiceError> {
        let certificate =
            self.registry().certificate(serial).await?.ok_or_else(|| {
                ServiceError::Internal(format!("serial {serial} is not reserved"))
            })?;
        if certificate.status != crate::registry::CertificateStatus::Signing {
            return Err(ServiceError::Internal(format!(
                "request {} is sealing but {serial} is already {:?}",
                record.id, certificate.status
            )));
        }
        let parsed = crate::template::LicenceSerial::parse(serial)
            .map_err(|e| ServiceError::Internal(format!("stored serial {serial}: {e}")))?;
        let issued_at = time::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(certificate.issued_at_ms) * 1_000_000,
        )
        .map_err(|_| ServiceError::Internal("a stored issue time is out of range".into()))?
        .to_offset(self.now().offset());
        let job = self
            .seal_job(
                record,
                crate::registry::RequestStatus::Sealing,
                certificate.issuer.clone(),
            )
            .await?;
        let reservation = crate::registry::Reservation {
            serial: serial.to_string(),
            template_id: certificate.template_id,
            template_version: certificate.template_version,
            template_title: certificate.template_title,
            data: certificate.data,
            holder: certificate.holder,
            credit_code: certificate.credit_code,
            delivery: certificate.delivery,
            issuer: certificate.issuer,
            issued_at_ms: certificate.issued_at_ms,
            request_id: certificate.request_id,
            sign_offs: certificate.sign_offs,
            departments: record.departments(),
            seal_fingerprint: certificate.seal_fingerprint,
        };
        // Finished under the seal in service now: the completion records which one signed.
        self.refresh_seal().await?;
        let seal = self.current_seal();
        self.sign_and_complete(&job, reservation, parsed, issued_at, &seal)
            .await
            .map(|_| ())
    }
}

/// Runs the deadline sweep every `interval`, starting now, and first finishes cut-off seals.
pub fn spawn_deadline_sweep(
    bureau: Arc<Bureau>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        match bureau.resume_sealing(None).await {
            Ok(0) => {}
            Ok(resumed) => tracing::info!(resumed, "finished seals cut off by the last stop"),
            Err(error) => {
                tracing::error!(error = %error, cause = error.cause().unwrap_or_default(), "cannot look for cut-off seals")
            }
        }
        let mut every = tokio::time::interval(interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(error) = bureau.sweep_deadlines().await {
                tracing::error!(error = %error, cause = error.cause().unwrap_or_default(), "the deadline sweep failed");
            }
            // A seal that failed part-way (the registry briefly down) is tried again later.
            if let Err(error) = bureau.resume_sealing(Some(STALE_SEAL)).await {
                tracing::error!(error = %error, cause = error.cause().unwrap_or_default(), "cannot look for stalled seals");
            }
        }
    })
}

fn overdue_event(request: &RequestRecord) -> (AuditRecord, NewEvent) {
    let audit = AuditRecord::new(
        DEADLINE_SWEEP,
        "request.overdue",
        request.id.clone(),
        serde_json::json!({
            "deadline": rfc3339(request.deadline_ms),
            "status": request.status.as_str(),
        }),
    );
    let pending: Vec<&str> = request
        .sign_offs
        .iter()
        .filter(|s| s.decision == crate::registry::Decision::Pending)
        .map(|s| s.department.as_str())
        .collect();
    let event = NewEvent {
        kind: EventKind::RequestOverdue,
        subject: request.id.clone(),
        departments: request.departments(),
        payload: super::requests::request_payload(
            request,
            serde_json::json!({
                "opened_at": rfc3339(request.opened_at_ms),
                "deadline": rfc3339(request.deadline_ms),
                "time_limit_days": request.time_limit_days,
                "status": request.status.as_str(),
                "closed_at": request.closed_at_ms.map(rfc3339),
                "awaiting_sign_off": pending,
            }),
        ),
    };
    (audit, event)
}

fn missed_event(commitment: &CommitmentRecord) -> (AuditRecord, NewEvent) {
    let outstanding = commitment.outstanding();
    let audit = AuditRecord::new(
        DEADLINE_SWEEP,
        "commitment.missed",
        commitment.serial.clone(),
        serde_json::json!({
            "request": commitment.request_id,
            "credit_code": commitment.credit_code,
            "deadline": rfc3339(commitment.deadline_ms),
            "outstanding": outstanding,
        }),
    );
    let event = NewEvent {
        kind: EventKind::CommitmentMissed,
        subject: commitment.serial.clone(),
        departments: commitment.departments.clone(),
        payload: commitment_payload(commitment, "outstanding", serde_json::json!(outstanding)),
    };
    (audit, event)
}

/// What subscribers hear of a commitment, with one more member.
fn commitment_payload(
    commitment: &CommitmentRecord,
    key: &str,
    value: serde_json::Value,
) -> serde_json::Value {
    let mut payload = serde_json::json!({
        "serial": commitment.serial,
        "request": commitment.request_id,
        "holder": commitment.holder,
        "credit_code": commitment.credit_code,
        "deadline": rfc3339(commitment.deadline_ms),
    });
    if let Some(members) = payload.as_object_mut() {
        members.insert(key.to_string(), value);
    }
    payload
}

/// The event when the last owed material arrives.
pub(super) fn fulfilled_event(
    commitment: &CommitmentRecord,
    actor: &str,
) -> (AuditRecord, NewEvent) {
    let audit = AuditRecord::new(
        actor,
        "commitment.fulfilled",
        commitment.serial.clone(),
        serde_json::json!({
            "request": commitment.request_id,
            "late": commitment.missed_at_ms.is_some(),
        }),
    );
    let event = NewEvent {
        kind: EventKind::CommitmentFulfilled,
        subject: commitment.serial.clone(),
        departments: commitment.departments.clone(),
        payload: commitment_payload(
            commitment,
            "late",
            serde_json::json!(commitment.missed_at_ms.is_some()),
        ),
    };
    (audit, event)
}
