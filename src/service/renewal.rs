//! Archive renewal in bulk (docs/archive-renewal.md): every licence whose newest archived
//! version was timestamped before a cut-off gets the validation data of its last timestamp and a
//! new document timestamp (`Bureau::extend`, PAdES B-LTA), stored as its next generation with a
//! `certificate.renewed` audit entry in the same transaction.
//!
//! The document timestamp's token is recorded by the built-in TSA before it is signed, and the
//! renewed bytes are stored with their entry: no signature without a record.

use std::time::Duration;

use serde::Serialize;

use super::templates::sha256_hex;
use super::verification::rfc3339;
use super::{Bureau, Identity, ServiceError, require};
use crate::registry::{AuditRecord, DueCursor, NewRenewal, RegistryError, RenewalDue, Role};

/// Most licences one run renews: bounds the work of one request.
pub const MAX_RENEWALS_PER_RUN: usize = 1000;
/// Due licences read per registry query.
const PAGE: usize = 50;
/// Failures listed in a summary and its audit entry (all are counted).
const LISTED_FAILURES: usize = 100;

/// What one run did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RenewalSummary {
    /// Licences whose newest version was made before this (RFC 3339, UTC) were due.
    pub cutoff: String,
    /// Licences taken up (at most the run's limit).
    pub selected: usize,
    pub renewed: usize,
    pub failed: usize,
    /// Each renewed licence and its new generation.
    pub renewals: Vec<RenewedLicence>,
    /// Why licences were not renewed (the first hundred).
    pub failures: Vec<RenewalFailure>,
    /// Set when the run stopped before its end: no time-stamping authority answered, or the
    /// registry failed. The licences not reached stay due for the next run.
    pub stopped: Option<String>,
}

/// A licence renewed by the run.
#[derive(Clone, Debug, Serialize)]
pub struct RenewedLicence {
    pub serial: String,
    /// 1 for the first renewal, then 2, 3, …
    pub generation: i64,
    /// SHA-256 of the renewed PDF, now the one `GET /api/v1/certificates/{serial}/pdf` serves.
    pub sha256: String,
}

/// A licence the run could not renew, and why (safe to show; the cause is in the log).
#[derive(Clone, Debug, Serialize)]
pub struct RenewalFailure {
    pub serial: String,
    pub code: &'static str,
    pub reason: String,
}

/// How one licence's renewal ended, when it did not succeed.
enum Outcome {
    Failed(RenewalFailure),
    /// The run cannot go on (no TSA, no registry).
    Stop(String),
}

impl Bureau {
    /// Refuses callers who may not renew the archive, before their request is read.
    pub fn authorize_archive_renewal(&self, caller: &Identity) -> Result<(), ServiceError> {
        require(caller, &[Role::Admin], "renew the archive")
    }

    /// Renews up to `limit` licences whose newest archived version is older than `older_than`,
    /// oldest first, one at a time. A licence that cannot be renewed is counted and the run goes
    /// on; no timestamp or no registry stops it. The run itself leaves an `archive.renewal`
    /// entry with its counts.
    pub async fn renew_archive(
        &self,
        caller: &Identity,
        older_than: Duration,
        limit: usize,
    ) -> Result<RenewalSummary, ServiceError> {
        self.authorize_archive_renewal(caller)?;
        if limit == 0 || limit > MAX_RENEWALS_PER_RUN {
            return Err(ServiceError::invalid(
                "renewal.invalid",
                format!("limit must be from 1 to {MAX_RENEWALS_PER_RUN}"),
            ));
        }
        let older_than_ms = i64::try_from(older_than.as_millis()).unwrap_or(i64::MAX);
        let cutoff_ms = self.now_ms().saturating_sub(older_than_ms);
        let reason = format!("older than {} days", older_than.as_secs() / 86_400);
        let actor = caller.actor();
        let mut summary = RenewalSummary {
            cutoff: rfc3339(cutoff_ms),
            ..RenewalSummary::default()
        };
        let mut cursor = DueCursor::start();
        'run: while summary.selected < limit {
            let wanted = (limit - summary.selected).min(PAGE);
            let page = self
                .registry()
                .renewals_due(cutoff_ms, &cursor, i64::try_from(wanted).unwrap_or(1))
                .await?;
            let Some(last) = page.last() else { break };
            cursor = DueCursor {
                last_made_ms: last.last_made_ms,
                serial: last.serial.clone(),
            };
            for due in &page {
                summary.selected += 1;
                match self.renew_licence(due, &actor, &reason).await {
                    Ok(renewed) => {
                        summary.renewed += 1;
                        summary.renewals.push(renewed);
                    }
                    Err(Outcome::Failed(failure)) => {
                        summary.failed += 1;
                        if summary.failures.len() < LISTED_FAILURES {
                            summary.failures.push(failure);
                        }
                    }
                    Err(Outcome::Stop(why)) => {
                        summary.stopped = Some(why);
                        break 'run;
                    }
                }
            }
        }
        self.record_run(&actor, &reason, limit, &summary).await?;
        metrics::counter!("oneseal_archive_renewals_total")
            .increment(u64::try_from(summary.renewed).unwrap_or(0));
        Ok(summary)
    }

    /// Extends licence `due`'s newest version and stores the result as its next generation.
    async fn renew_licence(
        &self,
        due: &RenewalDue,
        actor: &str,
        reason: &str,
    ) -> Result<RenewedLicence, Outcome> {
        let serial = due.serial.clone();
        let outcome = async {
            let current =
                self.registry().newest_pdf(&serial).await?.ok_or_else(|| {
                    ServiceError::NotFound("the licence has no archived PDF".into())
                })?;
            let renewed = self.extend(current.pdf).await?;
            let renewal = NewRenewal {
                serial: serial.clone(),
                base_sha256: current.sha256,
                sha256: sha256_hex(&renewed),
                pdf: renewed,
                renewed_by: actor.to_string(),
                reason: reason.to_string(),
            };
            let generation = self
                .registry()
                .record_renewal(&renewal, renewed_entry(&renewal), self.now_ms())
                .await?;
            Ok::<_, ServiceError>(RenewedLicence {
                serial: serial.clone(),
                generation,
                sha256: renewal.sha256,
            })
        }
        .await;
        outcome.map_err(|error| classify(&serial, error))
    }

    /// The run's own entry: who asked, for what, and what came of it.
    async fn record_run(
        &self,
        actor: &str,
        reason: &str,
        limit: usize,
        summary: &RenewalSummary,
    ) -> Result<(), ServiceError> {
        let failures: Vec<serde_json::Value> = summary
            .failures
            .iter()
            .map(|f| serde_json::json!({ "serial": f.serial, "code": f.code }))
            .collect();
        let record = AuditRecord::new(
            actor,
            "archive.renewal",
            "archive",
            serde_json::json!({
                "reason": reason,
                "cutoff": summary.cutoff,
                "limit": limit,
                "selected": summary.selected,
                "renewed": summary.renewed,
                "failed": summary.failed,
                "failures": failures,
                "stopped": summary.stopped.is_some(),
            }),
        );
        self.registry().record(&record, self.now_ms()).await?;
        Ok(())
    }
}

/// The `certificate.renewed` entry of `renewal`, once its generation is known.
fn renewed_entry(renewal: &NewRenewal) -> impl Fn(i64) -> AuditRecord + Send + Sync + 'static {
    let actor = renewal.renewed_by.clone();
    let serial = renewal.serial.clone();
    let before = renewal.base_sha256.clone();
    let after = renewal.sha256.clone();
    let reason = renewal.reason.clone();
    move |generation| {
        AuditRecord::new(
            actor.clone(),
            "certificate.renewed",
            serial.clone(),
            serde_json::json!({
                "sha256_before": before,
                "sha256_after": after,
                "generation": generation,
                "reason": reason,
            }),
        )
    }
}

/// A failed renewal: counted and passed over, or the end of the run.
fn classify(serial: &str, error: ServiceError) -> Outcome {
    if let Some(cause) = error.cause() {
        tracing::warn!(%serial, %cause, "archive renewal failed");
    }
    let failed = |code: &'static str, reason: String| {
        Outcome::Failed(RenewalFailure {
            serial: serial.to_string(),
            code,
            reason,
        })
    };
    match error {
        ServiceError::TimestampUnavailable(_) => Outcome::Stop(
            "no time-stamping authority answered with a valid timestamp; the licences not \
             reached are still due"
                .into(),
        ),
        ServiceError::Registry(RegistryError::Conflict(_)) => failed(
            "renewal.conflict",
            "another renewal of this licence was stored first".into(),
        ),
        ServiceError::Registry(_) | ServiceError::Busy(_) => {
            Outcome::Stop(format!("{error}; the licences not reached are still due"))
        }
        ServiceError::Invalid { code, message, .. } => failed(code, message),
        other => failed("renewal.failed", other.to_string()),
    }
}
