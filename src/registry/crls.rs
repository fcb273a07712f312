//! Published certificate revocation lists, each with its audit entry, and the archive's record
//! of when the bureau signed a licence (the proof of existence verification relies on).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{AuditRecord, Registry, RegistryError, Result};

/// A CRL about to be published, already parsed and checked by the service.
#[derive(Clone, Debug)]
pub struct NewCrl {
    /// The issuing root's subject key identifier, lowercase hex.
    pub issuer: String,
    /// The CRL number as 40 hex digits (`pki::CrlNumber::to_fixed_hex`).
    pub number: String,
    pub this_update_ms: i64,
    pub next_update_ms: i64,
    pub der: Vec<u8>,
    pub sha256: String,
}

/// A published CRL: the list, and who published it when.
#[derive(Clone, Debug)]
pub struct CrlRecord {
    pub crl: NewCrl,
    pub published_at_ms: i64,
    pub published_by: String,
}

/// What publishing a CRL did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Publication {
    /// Stored, with its audit entry.
    Published,
    /// The issuer's newest CRL is this very one (same number, same bytes): nothing to do.
    AlreadyPublished,
    /// The issuer already has a CRL with this number or a higher one (`newest`, 40 hex digits):
    /// publishing an older list would take back revocations made since (RFC 5280 §5.2.3).
    Stale { newest: String },
}

macro_rules! crl_columns {
    () => {
        "issuer, number, this_update_ms, next_update_ms, der, sha256, published_at_ms, published_by"
    };
}

impl Registry {
    /// Stores `crl` as its issuer's newest, with `audit` in the same transaction, unless a CRL
    /// with the same or a higher number is there already. The check and the insert run in one
    /// writer job, which holds the audit chain's head: no other publication can come between.
    pub async fn publish_crl(
        &self,
        crl: &NewCrl,
        published_by: &str,
        audit: &AuditRecord,
        now_ms: i64,
    ) -> Result<Publication> {
        let data = (crl.clone(), published_by.to_string(), audit.clone(), now_ms);
        self.write(data, |batch, (crl, publisher, audit, now_ms)| {
            Box::pin(async move {
                let newest = sqlx::query(
                    "SELECT number, sha256 FROM crls WHERE issuer = $1 \
                     ORDER BY number DESC LIMIT 1",
                )
                .bind(&crl.issuer)
                .fetch_optional(batch.connection())
                .await?;
                if let Some(row) = newest {
                    let number: String = row.try_get(0)?;
                    let sha256: String = row.try_get(1)?;
                    if number == crl.number && sha256 == crl.sha256 {
                        return Ok(Publication::AlreadyPublished);
                    }
                    if number >= crl.number {
                        return Ok(Publication::Stale { newest: number });
                    }
                }
                sqlx::query(
                    "INSERT INTO crls (issuer, number, this_update_ms, next_update_ms, der, \
                     sha256, published_at_ms, published_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&crl.issuer)
                .bind(&crl.number)
                .bind(crl.this_update_ms)
                .bind(crl.next_update_ms)
                .bind(&crl.der)
                .bind(&crl.sha256)
                .bind(*now_ms)
                .bind(publisher)
                .execute(batch.connection())
                .await?;
                batch.append(audit, *now_ms);
                Ok(Publication::Published)
            })
        })
        .await
    }

    /// The newest CRL `issuer` (subject key identifier, lowercase hex) has published.
    pub async fn latest_crl(&self, issuer: &str) -> Result<Option<CrlRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            crl_columns!(),
            " FROM crls WHERE issuer = $1 ORDER BY number DESC LIMIT 1"
        ))
        .bind(issuer)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(crl_record).transpose()
    }

    /// The newest CRL of every issuer, for verification.
    pub async fn latest_crls(&self) -> Result<Vec<CrlRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            crl_columns!(),
            " FROM crls c WHERE number = \
             (SELECT MAX(number) FROM crls n WHERE n.issuer = c.issuer) ORDER BY issuer"
        ))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(crl_record).collect()
    }

    /// When the bureau committed licence `serial`'s archived PDF: the time of its
    /// `certificate.issued` audit entry, written in the same transaction as the bytes. The
    /// chain makes that time evidence: it cannot be moved without breaking every later hash.
    pub async fn archived_at_ms(&self, serial: &str) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT time_ms FROM audit WHERE subject = $1 AND action = 'certificate.issued' \
             ORDER BY sequence LIMIT 1",
        )
        .bind(serial)
        .fetch_optional(&self.read)
        .await?;
        row.map(|row| Ok(row.try_get(0)?)).transpose()
    }
}

fn crl_record(row: &AnyRow) -> Result<CrlRecord> {
    let record = CrlRecord {
        crl: NewCrl {
            issuer: row.try_get(0)?,
            number: row.try_get(1)?,
            this_update_ms: row.try_get(2)?,
            next_update_ms: row.try_get(3)?,
            der: row.try_get(4)?,
            sha256: row.try_get(5)?,
        },
        published_at_ms: row.try_get(6)?,
        published_by: row.try_get(7)?,
    };
    if record.crl.number.len() != 40 {
        return Err(RegistryError::Corrupt(format!(
            "CRL number {:?} of {}",
            record.crl.number, record.crl.issuer
        )));
    }
    Ok(record)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn crl(issuer: &str, number: u8, der: &[u8]) -> NewCrl {
        NewCrl {
            issuer: issuer.to_string(),
            number: format!("{:040x}", number),
            this_update_ms: 1_000,
            next_update_ms: 2_000,
            der: der.to_vec(),
            sha256: format!("{:064x}", der.len() + usize::from(number)),
        }
    }

    fn audit(number: u8) -> AuditRecord {
        AuditRecord::new(
            "console",
            "crl.published",
            format!("crl/aa/{number}"),
            serde_json::json!({}),
        )
    }

    /// Numbers only go up per issuer; the same CRL again changes nothing; the newest is served;
    /// each publication leaves one audit entry and the chain stays whole.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn crls_are_published_in_number_order_with_their_audit_entries() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display());
        let registry = Registry::open(&url).await.unwrap();
        assert!(registry.latest_crl("aa").await.unwrap().is_none());
        let first = crl("aa", 2, b"two");
        assert_eq!(
            registry
                .publish_crl(&first, "console", &audit(2), 10)
                .await
                .unwrap(),
            Publication::Published
        );
        assert_eq!(
            registry
                .publish_crl(&first, "console", &audit(2), 11)
                .await
                .unwrap(),
            Publication::AlreadyPublished
        );
        for stale in [crl("aa", 2, b"other two"), crl("aa", 1, b"one")] {
            assert_eq!(
                registry
                    .publish_crl(&stale, "console", &audit(1), 12)
                    .await
                    .unwrap(),
                Publication::Stale {
                    newest: first.number.clone()
                }
            );
        }
        // 0x10 sorts after 0x02 as text because the numbers are zero-padded.
        let later = crl("aa", 0x10, b"sixteen");
        assert_eq!(
            registry
                .publish_crl(&later, "admin", &audit(16), 13)
                .await
                .unwrap(),
            Publication::Published
        );
        registry
            .publish_crl(&crl("bb", 1, b"bee"), "admin", &audit(1), 14)
            .await
            .unwrap();
        let newest = registry.latest_crl("aa").await.unwrap().unwrap();
        assert_eq!(newest.crl.der, b"sixteen");
        assert_eq!(newest.published_by, "admin");
        assert_eq!(newest.published_at_ms, 13);
        let all = registry.latest_crls().await.unwrap();
        let served: Vec<(&str, &[u8])> = all
            .iter()
            .map(|c| (c.crl.issuer.as_str(), c.crl.der.as_slice()))
            .collect();
        assert_eq!(served, [("aa", &b"sixteen"[..]), ("bb", &b"bee"[..])]);
        assert_eq!(registry.audit_length().await.unwrap(), 3);
        assert_eq!(registry.verify_audit_chain().await.unwrap(), Ok(3));
        assert_eq!(registry.archived_at_ms("20261126-X").await.unwrap(), None);
        registry.close().await;
    }
}
