//! Archive renewal's record (docs/archive-renewal.md): every renewed version of a licence's
//! archived PDF, each stored with its `certificate.renewed` audit entry, and which licences are
//! due for renewal.
//!
//! Generation 0 is the PDF `certificates` holds, as issued; generation N extends N-1. The newest
//! generation is the one downloads serve and the next renewal extends; every generation stays
//! findable by its SHA-256, so a holder's copy of any of them verifies as the same licence.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{AuditRecord, CertificateRecord, Registry, RegistryError, Result};

/// A renewed version about to be stored.
#[derive(Clone, Debug)]
pub struct NewRenewal {
    pub serial: String,
    /// SHA-256 (hex) of the version this one extends: it must still be the newest.
    pub base_sha256: String,
    /// SHA-256 (hex) of `pdf`.
    pub sha256: String,
    pub pdf: Vec<u8>,
    /// The audit trail's name for who asked.
    pub renewed_by: String,
    pub reason: String,
}

/// A licence's newest archived version.
#[derive(Clone, Debug)]
pub struct ArchivedPdf {
    /// 0 for the PDF as issued, then 1, 2, … per renewal.
    pub generation: i64,
    pub sha256: String,
    pub pdf: Vec<u8>,
}

/// A licence whose newest version was made before a cut-off: due for renewal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenewalDue {
    pub serial: String,
    /// When its newest version was made: its last renewal, else its issuance (Unix ms).
    pub last_made_ms: i64,
    /// The newest version's generation (0: never renewed).
    pub generation: i64,
}

/// Where a page of due licences resumes: after this (time, serial), in that order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueCursor {
    pub last_made_ms: i64,
    pub serial: String,
}

impl DueCursor {
    /// Before every licence.
    pub fn start() -> Self {
        Self {
            last_made_ms: i64::MIN,
            serial: String::new(),
        }
    }
}

/// When the newest version of certificate `c` was made, joined to its newest renewal `r`.
macro_rules! last_made {
    () => {
        "COALESCE(r.renewed_at_ms, c.issued_at_ms)"
    };
}

/// Each archived certificate with its newest renewal, when it has one. (`sha256` is set with
/// the PDF, in the same statement; testing it leaves the PDF's bytes unread.)
macro_rules! newest_join {
    () => {
        " FROM certificates c LEFT JOIN archive_renewals r ON r.serial = c.serial \
         AND r.generation = \
         (SELECT MAX(n.generation) FROM archive_renewals n WHERE n.serial = c.serial) \
         WHERE c.status IN ('issued', 'revoked') AND c.sha256 IS NOT NULL"
    };
}

impl Registry {
    /// Stores `renewal` as its licence's next generation, with `audit(generation)` in the same
    /// transaction. Refused with `Conflict` when `base_sha256` is no longer the newest version
    /// (another renewal came first) or the bytes are archived already; the check and the insert
    /// run in one writer job, which holds the audit chain's head, so nothing comes between.
    pub async fn record_renewal(
        &self,
        renewal: &NewRenewal,
        audit: impl Fn(i64) -> AuditRecord + Send + Sync + 'static,
        now_ms: i64,
    ) -> Result<i64> {
        let data = (renewal.clone(), audit, now_ms);
        self.write(data, |batch, (renewal, audit, now_ms)| {
            Box::pin(async move {
                let (generation, newest) = newest_version(batch.connection(), &renewal.serial)
                    .await?
                    .ok_or_else(|| {
                        RegistryError::Corrupt(format!(
                            "licence {} has no archived PDF to renew",
                            renewal.serial
                        ))
                    })?;
                if newest != renewal.base_sha256 {
                    return Err(RegistryError::Conflict(format!(
                        "a newer version of licence {}",
                        renewal.serial
                    )));
                }
                let next = generation + 1;
                sqlx::query(
                    "INSERT INTO archive_renewals (serial, generation, renewed_at_ms, renewed_by, \
                     reason, base_sha256, sha256, pdf) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&renewal.serial)
                .bind(next)
                .bind(*now_ms)
                .bind(&renewal.renewed_by)
                .bind(&renewal.reason)
                .bind(&renewal.base_sha256)
                .bind(&renewal.sha256)
                .bind(&renewal.pdf)
                .execute(batch.connection())
                .await
                .map_err(|error| match RegistryError::from(error) {
                    RegistryError::Conflict(_) => RegistryError::Conflict(format!(
                        "an archived PDF with SHA-256 {}",
                        renewal.sha256
                    )),
                    other => other,
                })?;
                batch.append(&audit(next), *now_ms);
                Ok(next)
            })
        })
        .await
    }

    /// The newest archived version of licence `serial` (its last renewal, else the PDF as
    /// issued); `None` when it has none.
    pub async fn newest_pdf(&self, serial: &str) -> Result<Option<ArchivedPdf>> {
        let renewed = sqlx::query(
            "SELECT generation, sha256, pdf FROM archive_renewals WHERE serial = $1 \
             ORDER BY generation DESC LIMIT 1",
        )
        .bind(serial)
        .fetch_optional(&self.read)
        .await?;
        if let Some(row) = renewed {
            return Ok(Some(ArchivedPdf {
                generation: row.try_get(0)?,
                sha256: row.try_get(1)?,
                pdf: row.try_get(2)?,
            }));
        }
        let issued = sqlx::query(
            "SELECT sha256, pdf FROM certificates WHERE serial = $1 \
             AND status IN ('issued', 'revoked') AND sha256 IS NOT NULL AND pdf IS NOT NULL",
        )
        .bind(serial)
        .fetch_optional(&self.read)
        .await?;
        issued
            .map(|row| {
                Ok(ArchivedPdf {
                    generation: 0,
                    sha256: row.try_get(0)?,
                    pdf: row.try_get(1)?,
                })
            })
            .transpose()
    }

    /// The certificate one of whose archived versions (as issued or renewed) has this SHA-256.
    pub async fn certificate_by_archived_sha256(
        &self,
        sha256: &str,
    ) -> Result<Option<CertificateRecord>> {
        if let Some(record) = self.certificate_by_sha256(sha256).await? {
            return Ok(Some(record));
        }
        let row = sqlx::query("SELECT serial FROM archive_renewals WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.read)
            .await?;
        match row {
            Some(row) => self.certificate(&row.try_get::<String, _>(0)?).await,
            None => Ok(None),
        }
    }

    /// Licences (issued or revoked: the archive keeps both) whose newest version was made
    /// before `cutoff_ms`, oldest first, after `cursor`, at most `limit`.
    pub async fn renewals_due(
        &self,
        cutoff_ms: i64,
        cursor: &DueCursor,
        limit: i64,
    ) -> Result<Vec<RenewalDue>> {
        let rows = sqlx::query(concat!(
            "SELECT c.serial, ",
            last_made!(),
            " AS last_made_ms, COALESCE(r.generation, 0)",
            newest_join!(),
            " AND ",
            last_made!(),
            " < $1 AND (",
            last_made!(),
            " > $2 OR (",
            last_made!(),
            " = $2 AND c.serial > $3)) ORDER BY last_made_ms, c.serial LIMIT $4"
        ))
        .bind(cutoff_ms)
        .bind(cursor.last_made_ms)
        .bind(&cursor.serial)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(renewal_due).collect()
    }
}

/// The newest version's generation and SHA-256, read inside the writer's transaction.
async fn newest_version(
    connection: &mut sqlx::AnyConnection,
    serial: &str,
) -> Result<Option<(i64, String)>> {
    let row = sqlx::query(concat!(
        "SELECT COALESCE(r.generation, 0), COALESCE(r.sha256, c.sha256)",
        newest_join!(),
        " AND c.serial = $1"
    ))
    .bind(serial)
    .fetch_optional(&mut *connection)
    .await?;
    row.map(|row| -> Result<(i64, String)> {
        let sha256: Option<String> = row.try_get(1)?;
        let sha256 = sha256
            .ok_or_else(|| RegistryError::Corrupt(format!("licence {serial} has no SHA-256")))?;
        Ok((row.try_get(0)?, sha256))
    })
    .transpose()
}

fn renewal_due(row: &AnyRow) -> Result<RenewalDue> {
    Ok(RenewalDue {
        serial: row.try_get(0)?,
        last_made_ms: row.try_get(1)?,
        generation: row.try_get(2)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::registry::{Completion, NewEvent, Reservation};

    async fn open(dir: &tempfile::TempDir) -> Registry {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display());
        Registry::open(&url).await.unwrap()
    }

    /// A licence issued at `issued_at_ms` whose archived PDF is `pdf`.
    async fn issue(registry: &Registry, serial: &str, issued_at_ms: i64, pdf: &[u8]) {
        let reservation = Reservation {
            serial: serial.to_string(),
            template_id: "t".into(),
            template_version: 1,
            template_title: "T".into(),
            data: "{}".into(),
            holder: "H".into(),
            credit_code: None,
            delivery: "window".into(),
            issuer: "console".into(),
            issued_at_ms,
            request_id: None,
            sign_offs: None,
            departments: vec!["d".into()],
            seal_fingerprint: None,
        };
        let audit = AuditRecord::new(
            "console",
            "certificate.signing",
            serial,
            serde_json::json!({}),
        );
        registry
            .reserve_serial(&reservation, &audit, issued_at_ms)
            .await
            .unwrap();
        let completion = Completion {
            serial: serial.to_string(),
            sha256: sha(pdf),
            pdf: pdf.to_vec(),
            request_id: None,
            closed_by: "console".into(),
            commitment: None,
            seal_fingerprint: "ff".into(),
        };
        let audit = AuditRecord::new(
            "console",
            "certificate.issued",
            serial,
            serde_json::json!({}),
        );
        let event = NewEvent {
            kind: crate::registry::EventKind::CertificateIssued,
            subject: serial.to_string(),
            departments: vec!["d".into()],
            payload: serde_json::json!({}),
        };
        registry
            .complete_issuance(&completion, &audit, &event, issued_at_ms)
            .await
            .unwrap();
    }

    fn sha(bytes: &[u8]) -> String {
        use sha2::Digest;
        crate::registry::audit::hex(sha2::Sha256::digest(bytes).as_slice())
    }

    fn renewal(serial: &str, base: &[u8], pdf: &[u8]) -> NewRenewal {
        NewRenewal {
            serial: serial.to_string(),
            base_sha256: sha(base),
            sha256: sha(pdf),
            pdf: pdf.to_vec(),
            renewed_by: "admin".into(),
            reason: "test".into(),
        }
    }

    fn renewed(generation: i64) -> AuditRecord {
        AuditRecord::new(
            "admin",
            "certificate.renewed",
            "s",
            serde_json::json!({ "generation": generation }),
        )
    }

    /// Renewals chain per licence; a renewal of a version that is no longer the newest is
    /// refused; the newest is served; every version finds its licence; due licences come
    /// oldest first, paged by the cursor, and a renewal moves a licence out of the cut-off.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn renewals_chain_refuse_stale_bases_and_leave_the_due_list() {
        let dir = tempfile::tempdir().unwrap();
        let registry = open(&dir).await;
        issue(&registry, "20261126-AAAAAAAAAA", 100, b"a0").await;
        issue(&registry, "20261126-BBBBBBBBBB", 50, b"b0").await;
        issue(&registry, "20261126-CCCCCCCCCC", 100, b"c0").await;

        let all = registry
            .renewals_due(1_000, &DueCursor::start(), 10)
            .await
            .unwrap();
        let serials: Vec<&str> = all.iter().map(|d| d.serial.as_str()).collect();
        assert_eq!(
            serials,
            [
                "20261126-BBBBBBBBBB",
                "20261126-AAAAAAAAAA",
                "20261126-CCCCCCCCCC"
            ]
        );
        let after = DueCursor {
            last_made_ms: 100,
            serial: "20261126-AAAAAAAAAA".into(),
        };
        let rest = registry.renewals_due(1_000, &after, 10).await.unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].serial, "20261126-CCCCCCCCCC");
        assert!(
            registry
                .renewals_due(100, &DueCursor::start(), 10)
                .await
                .unwrap()
                .iter()
                .all(|d| d.serial == "20261126-BBBBBBBBBB")
        );

        let a = "20261126-AAAAAAAAAA";
        let first = registry
            .record_renewal(&renewal(a, b"a0", b"a1"), renewed, 500)
            .await
            .unwrap();
        assert_eq!(first, 1);
        // Racing from the same base: refused, nothing written.
        let stale = registry
            .record_renewal(&renewal(a, b"a0", b"a1-other"), renewed, 501)
            .await;
        assert!(
            matches!(stale, Err(RegistryError::Conflict(_))),
            "{stale:?}"
        );
        let second = registry
            .record_renewal(&renewal(a, b"a1", b"a2"), renewed, 600)
            .await
            .unwrap();
        assert_eq!(second, 2);
        let newest = registry.newest_pdf(a).await.unwrap().unwrap();
        assert_eq!((newest.generation, newest.pdf.as_slice()), (2, &b"a2"[..]));
        let issued = registry.newest_pdf("20261126-CCCCCCCCCC").await.unwrap();
        assert_eq!(issued.unwrap().generation, 0);
        for version in [&b"a0"[..], b"a1", b"a2"] {
            let found = registry
                .certificate_by_archived_sha256(&sha(version))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(found.serial, a);
        }
        assert!(
            registry
                .certificate_by_archived_sha256(&sha(b"a1-other"))
                .await
                .unwrap()
                .is_none()
        );

        let due = registry
            .renewals_due(550, &DueCursor::start(), 10)
            .await
            .unwrap();
        assert!(due.iter().all(|d| d.serial != a), "{due:?}");
        let later = registry
            .renewals_due(1_000, &DueCursor::start(), 10)
            .await
            .unwrap();
        let renewed_a = later.iter().find(|d| d.serial == a).unwrap();
        assert_eq!((renewed_a.last_made_ms, renewed_a.generation), (600, 2));
        assert_eq!(later.last().unwrap().serial, a);

        // certificate.signing + certificate.issued per licence, one per renewal.
        assert_eq!(registry.audit_length().await.unwrap(), 8);
        assert_eq!(registry.verify_audit_chain().await.unwrap(), Ok(8));
        registry.close().await;
    }
}
