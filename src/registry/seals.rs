//! Every seal the bureau has had in service, in order: which one signs now, and which signed
//! each certificate. A rotation retires the seal in service and brings the next one in, with its
//! audit entry, in one transaction.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{AuditRecord, Registry, Result, Transition};

/// A seal as the registry knows it: what was brought in, and when it served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SealRecord {
    #[serde(flatten)]
    pub seal: NewSeal,
    /// 1 for the first seal, one more for each rotation: the highest is in service.
    pub generation: i64,
    pub activated_at_ms: i64,
    pub retired_at_ms: Option<i64>,
}

/// A seal about to enter service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewSeal {
    /// SHA-256 of the seal certificate's DER, lowercase hex.
    pub fingerprint: String,
    pub subject: String,
    /// The seal certificate's serial number, lowercase hex.
    pub certificate_serial: String,
    pub not_after_ms: i64,
    /// The seal certificate and its issuers, PEM.
    pub chain_pem: String,
    /// The key directory every instance loads it from.
    pub location: String,
    /// `file` or `pkcs11`.
    pub custody: String,
    pub activated_by: String,
}

macro_rules! seal_columns {
    () => {
        "fingerprint, generation, subject, certificate_serial, not_after_ms, chain_pem, location, \
         custody, activated_at_ms, activated_by, retired_at_ms"
    };
}

impl Registry {
    /// The seal in service, if any seal was ever brought in.
    pub async fn active_seal(&self) -> Result<Option<SealRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            seal_columns!(),
            " FROM seals ORDER BY generation DESC LIMIT 1"
        ))
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(seal_record).transpose()
    }

    /// The seal with this certificate fingerprint, in service or retired.
    pub async fn seal_by_fingerprint(&self, fingerprint: &str) -> Result<Option<SealRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            seal_columns!(),
            " FROM seals WHERE fingerprint = $1"
        ))
        .bind(fingerprint)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(seal_record).transpose()
    }

    /// Every seal, the first first.
    pub async fn seals(&self) -> Result<Vec<SealRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            seal_columns!(),
            " FROM seals ORDER BY generation"
        ))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(seal_record).collect()
    }

    /// Brings `seal` into service in place of `replacing` (None: the first seal), retiring it,
    /// with `audit`; refused when the seal in service is no longer `replacing` (another rotation
    /// won) or when `seal` was in service before (a retired seal never returns).
    pub async fn activate_seal(
        &self,
        seal: &NewSeal,
        replacing: Option<&str>,
        audit: &AuditRecord,
        now_ms: i64,
    ) -> Result<Transition<SealRecord>> {
        let data = (
            seal.clone(),
            replacing.map(str::to_owned),
            audit.clone(),
            now_ms,
        );
        self.write(data, |batch, (seal, replacing, audit, now_ms)| {
            Box::pin(async move {
                let current = sqlx::query(
                    "SELECT fingerprint, generation FROM seals ORDER BY generation DESC LIMIT 1",
                )
                .fetch_optional(batch.connection())
                .await?
                .map(|row| Ok::<_, sqlx::Error>((row.try_get::<String, _>(0)?, row.try_get::<i64, _>(1)?)))
                .transpose()?;
                let current_fingerprint = current.as_ref().map(|(fingerprint, _)| fingerprint);
                if current_fingerprint != replacing.as_ref() {
                    return Ok(Transition::Refused(format!(
                        "the seal in service changed meanwhile (now {}); check `oneseal seal list` and try again",
                        current_fingerprint.map_or("none", |f| f.as_str())
                    )));
                }
                let earlier = sqlx::query("SELECT generation FROM seals WHERE fingerprint = $1")
                    .bind(&seal.fingerprint)
                    .fetch_optional(batch.connection())
                    .await?;
                if let Some(row) = earlier {
                    let generation: i64 = row.try_get(0)?;
                    return Ok(Transition::Refused(format!(
                        "this seal was already brought into service (generation {generation}); a retired seal never returns"
                    )));
                }
                if let Some(fingerprint) = current_fingerprint {
                    sqlx::query("UPDATE seals SET retired_at_ms = $1 WHERE fingerprint = $2")
                        .bind(*now_ms)
                        .bind(fingerprint)
                        .execute(batch.connection())
                        .await?;
                }
                let generation = current.as_ref().map_or(1, |(_, g)| g + 1);
                sqlx::query(
                    "INSERT INTO seals (fingerprint, generation, subject, certificate_serial, \
                     not_after_ms, chain_pem, location, custody, activated_at_ms, activated_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&seal.fingerprint)
                .bind(generation)
                .bind(&seal.subject)
                .bind(&seal.certificate_serial)
                .bind(seal.not_after_ms)
                .bind(&seal.chain_pem)
                .bind(&seal.location)
                .bind(&seal.custody)
                .bind(*now_ms)
                .bind(&seal.activated_by)
                .execute(batch.connection())
                .await?;
                batch.append(audit, *now_ms);
                Ok(Transition::Done(SealRecord {
                    seal: seal.clone(),
                    generation,
                    activated_at_ms: *now_ms,
                    retired_at_ms: None,
                }))
            })
        })
        .await
    }
}

/// Whether the seal with `fingerprint` has been retired: a reservation under it is refused.
pub(super) async fn seal_is_retired(
    connection: &mut sqlx::AnyConnection,
    fingerprint: &str,
) -> Result<bool> {
    let row = sqlx::query("SELECT retired_at_ms FROM seals WHERE fingerprint = $1")
        .bind(fingerprint)
        .fetch_optional(connection)
        .await?;
    Ok(match row {
        Some(row) => row.try_get::<Option<i64>, _>(0)?.is_some(),
        None => false,
    })
}

fn seal_record(row: &AnyRow) -> Result<SealRecord> {
    Ok(SealRecord {
        seal: NewSeal {
            fingerprint: row.try_get(0)?,
            subject: row.try_get(2)?,
            certificate_serial: row.try_get(3)?,
            not_after_ms: row.try_get(4)?,
            chain_pem: row.try_get(5)?,
            location: row.try_get(6)?,
            custody: row.try_get(7)?,
            activated_by: row.try_get(9)?,
        },
        generation: row.try_get(1)?,
        activated_at_ms: row.try_get(8)?,
        retired_at_ms: row.try_get(10)?,
    })
}
