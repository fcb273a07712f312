//! Public verification: the signature report of the verification issue plus the registry's view
//! of the licence (issued, revoked, unknown) and whether the bytes are the archived ones. The
//! report honours the newest CRL of each root, and the registry's archive is proof of when the
//! bureau signed a licence whose bytes it holds (docs/revocation.md).

use std::sync::Arc;

use serde::Serialize;

use super::templates::sha256_hex;
use super::{Bureau, ServiceError, off_runtime};
use crate::registry::{CertificateRecord, CertificateStatus};
use crate::verify::{Policy, ProofOfExistence, Report, verify};

/// The signature field name the issuer gives a licence's seal: `Seal-<serial>`.
const SEAL_FIELD_PREFIX: &str = "Seal-";

/// The registry's view of an uploaded PDF.
#[derive(Clone, Debug, Serialize)]
pub struct RegistryView {
    /// `issued`, `revoked` or `unknown` (not a licence of this bureau).
    pub status: &'static str,
    pub serial: Option<String>,
    /// Whether the upload is byte for byte the PDF archived at issuance or one of its archive
    /// renewals.
    pub matches_archive: bool,
    pub template: Option<String>,
    /// RFC 3339, UTC.
    pub issued_at: Option<String>,
    pub revoked_at: Option<String>,
    pub revocation_reason: Option<String>,
    /// SHA-256 of the uploaded bytes.
    pub sha256: String,
}

/// A verification's whole answer.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    #[serde(flatten)]
    pub report: Report,
    pub registry: RegistryView,
}

/// What the QR code's page shows: only what the licence itself shows, and its standing.
#[derive(Clone, Debug, Serialize)]
pub struct PublicCertificate {
    pub serial: String,
    pub title: String,
    pub holder: String,
    pub status: CertificateStatus,
    /// RFC 3339, UTC.
    pub issued_at: String,
    pub issued_at_ms: i64,
    pub authority: String,
    pub sha256: String,
    pub revoked_at_ms: Option<i64>,
    pub revocation_reason: Option<String>,
    /// When the seal certificate itself was revoked (its root's newest CRL lists it).
    pub seal_revoked_at_ms: Option<i64>,
    /// Whether the bureau archived this licence before the seal certificate's revocation (then
    /// the licence stands; after it, the seal no longer vouches for it).
    pub issued_before_seal_revocation: Option<bool>,
}

impl Bureau {
    /// Verifies an uploaded PDF under a time budget, and looks it up in the registry.
    pub async fn verify_upload(&self, pdf: Vec<u8>) -> Result<Verification, ServiceError> {
        if pdf.len() > self.settings().max_verify_bytes {
            return Err(ServiceError::invalid(
                "verify.too_large",
                format!("the PDF is over {} bytes", self.settings().max_verify_bytes),
            ));
        }
        let permit = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            Arc::clone(&self.verifications).acquire_owned(),
        )
        .await
        .map_err(|_| {
            ServiceError::Busy("too many verifications at once; try again shortly".into())
        })?
        .map_err(|_| ServiceError::Busy("the service is shutting down".into()))?;
        let sha256 = sha256_hex(&pdf);
        let archived = self
            .registry()
            .certificate_by_archived_sha256(&sha256)
            .await?;
        let anchors = self.anchors();
        let mut policy = Policy::new(time::OffsetDateTime::now_utc());
        policy.limits.max_input_bytes = self.settings().max_verify_bytes;
        let crls = self.published_crls().await?;
        policy.crls = crls.ders.as_ref().clone();
        // The proof only matters against a revocation.
        if crls.any_revoked {
            policy.proof_of_existence = self.archive_proof(archived.as_ref()).await?;
        }
        let started = std::time::Instant::now();
        // The permit travels with the work: a file that outlives its budget keeps its slot until
        // its thread ends, so abandoned verifications cannot pile up.
        let work = off_runtime(move || {
            let _permit = permit;
            verify(&pdf, &anchors, &policy)
        });
        let outcome = tokio::time::timeout(self.settings().verification_timeout, work)
            .await
            .map_err(|_| {
                ServiceError::invalid(
                    "verify.timeout",
                    format!(
                        "verification took longer than {} s; the file is refused",
                        self.settings().verification_timeout.as_secs()
                    ),
                )
            })??;
        metrics::histogram!("oneseal_verification_seconds").record(started.elapsed().as_secs_f64());
        let report = outcome.map_err(|error| {
            metrics::counter!("oneseal_verifications_total", "outcome" => "unreadable")
                .increment(1);
            ServiceError::invalid(
                "verify.unreadable",
                format!("the file cannot be verified: {error}"),
            )
        })?;
        metrics::counter!("oneseal_verifications_total", "outcome" => report.indication.as_label())
            .increment(1);
        let registry = self.registry_view(&report, archived, sha256).await?;
        Ok(Verification { report, registry })
    }

    /// The upload's proof of existence: when it is byte for byte a licence the bureau archived,
    /// the time the archive committed it (its `certificate.issued` audit entry, in the same
    /// transaction as the bytes). The licence existed then, whatever its claimed signing time.
    async fn archive_proof(
        &self,
        archived: Option<&CertificateRecord>,
    ) -> Result<Option<ProofOfExistence>, ServiceError> {
        let Some(record) = archived.filter(|r| r.status != CertificateStatus::Signing) else {
            return Ok(None);
        };
        let Some(ms) = self.registry().archived_at_ms(&record.serial).await? else {
            return Ok(None);
        };
        let Ok(time) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        else {
            return Ok(None);
        };
        Ok(Some(ProofOfExistence {
            time,
            evidence: format!(
                "the bureau's registry archived these exact bytes as licence {}",
                record.serial
            ),
        }))
    }

    /// The licence found by its exact bytes (`archived`), else by the serial its seal's field
    /// names.
    async fn registry_view(
        &self,
        report: &Report,
        archived: Option<CertificateRecord>,
        sha256: String,
    ) -> Result<RegistryView, ServiceError> {
        if let Some(record) = archived {
            return Ok(view(Some(&record), true, sha256));
        }
        let claimed = report
            .signatures
            .iter()
            .find_map(|signature| signature.field.strip_prefix(SEAL_FIELD_PREFIX));
        let record = match claimed {
            Some(serial) if crate::template::LicenceSerial::parse(serial).is_ok() => {
                self.registry().certificate(serial).await?
            }
            _ => None,
        };
        Ok(view(record.as_ref(), false, sha256))
    }

    /// The public page's facts for `serial`, or `None` when this bureau never issued it.
    pub async fn public_certificate(
        &self,
        serial: &str,
    ) -> Result<Option<PublicCertificate>, ServiceError> {
        if crate::template::LicenceSerial::parse(serial).is_err() {
            return Ok(None);
        }
        let Some(record) = self.registry().certificate(serial).await? else {
            return Ok(None);
        };
        let Some(sha256) = record.sha256.clone() else {
            return Ok(None);
        };
        let seal_revoked_at_ms = self
            .seal_revocation(record.seal_fingerprint.as_deref())
            .await?
            .map(|entry| super::revocation::ms(entry.effective_from()));
        let issued_before_seal_revocation = match seal_revoked_at_ms {
            Some(revoked) => Some(
                self.registry()
                    .archived_at_ms(&record.serial)
                    .await?
                    .is_some_and(|archived| archived < revoked),
            ),
            None => None,
        };
        Ok(Some(PublicCertificate {
            serial: record.serial,
            title: record.template_title,
            holder: record.holder,
            status: record.status,
            issued_at: rfc3339(record.issued_at_ms),
            issued_at_ms: record.issued_at_ms,
            authority: self.organization.clone(),
            sha256,
            revoked_at_ms: record.revoked_at_ms,
            revocation_reason: record.revocation_reason,
            seal_revoked_at_ms,
            issued_before_seal_revocation,
        }))
    }
}

fn view(record: Option<&CertificateRecord>, matches_archive: bool, sha256: String) -> RegistryView {
    let known = record.filter(|r| r.status != CertificateStatus::Signing);
    RegistryView {
        status: match known.map(|r| r.status) {
            Some(CertificateStatus::Issued) => "issued",
            Some(CertificateStatus::Revoked) => "revoked",
            _ => "unknown",
        },
        serial: known.map(|r| r.serial.clone()),
        matches_archive: matches_archive && known.is_some(),
        template: known.map(|r| r.template_title.clone()),
        issued_at: known.map(|r| rfc3339(r.issued_at_ms)),
        revoked_at: known.and_then(|r| r.revoked_at_ms).map(rfc3339),
        revocation_reason: known.and_then(|r| r.revocation_reason.clone()),
        sha256,
    }
}

/// Unix milliseconds as RFC 3339 (UTC).
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
