//! Revocation of the seal certificate: publishing the root's CRLs (signed by one of the bureau's
//! trust anchors, numbers only ever going up, each with its `crl.published` audit entry) and
//! serving the newest one at the URL the seal certificate names (docs/revocation.md).

use serde::Serialize;
use time::OffsetDateTime;

use super::templates::sha256_hex;
use super::verification::rfc3339;
use super::{Bureau, Identity, ServiceError, require};
use crate::pki::{
    CertificateSerial, CrlNumber, MAX_CRL_BYTES, RevocationList, RevokedCertificateEntry,
    root_key_identifier_hex,
};
use std::sync::Arc;

use crate::registry::{AuditRecord, CrlRecord, NewCrl, Publication, Registry, Role};

/// Longest subject key identifier accepted in a CRL's name (SHA-512 would be 128 hex digits).
const MAX_KEY_IDENTIFIER_HEX: usize = 128;

/// What a published CRL says, as the API and the console show it.
#[derive(Clone, Debug, Serialize)]
pub struct CrlSummary {
    /// The issuing root (RFC 4514).
    pub issuer: String,
    /// The root's subject key identifier, lowercase hex: the CRL's name.
    pub issuer_key_identifier: String,
    /// The CRL number, decimal.
    pub number: String,
    /// RFC 3339, UTC.
    pub this_update: String,
    pub next_update: String,
    pub revoked: Vec<RevokedView>,
    /// Where the service serves it (path; the seal certificate's CRL distribution point).
    pub path: String,
    pub sha256: String,
}

/// One revoked certificate of a CRL.
#[derive(Clone, Debug, Serialize)]
pub struct RevokedView {
    /// Uppercase hex, as verification reports print serials.
    pub serial: String,
    pub revoked_at: String,
    /// RFC 5280 §5.3.1 name (`keyCompromise`, …); absent when the CRL gives none.
    pub reason: Option<String>,
    pub invalid_since: Option<String>,
}

/// What publishing did.
#[derive(Clone, Debug)]
pub enum CrlPublished {
    /// Stored and now served.
    New(CrlSummary),
    /// The very same CRL was already the newest: nothing changed.
    Unchanged(CrlSummary),
}

impl Bureau {
    /// Refuses a caller who may not publish CRLs before their upload is read.
    pub fn authorize_crl_publication(&self, caller: &Identity) -> Result<(), ServiceError> {
        require(
            caller,
            &[Role::Admin],
            "publish certificate revocation lists",
        )
    }

    /// Publishes a CRL (DER or PEM) of the bureau's root: admins only.
    pub async fn publish_crl(
        &self,
        caller: &Identity,
        crl: &[u8],
    ) -> Result<CrlPublished, ServiceError> {
        self.authorize_crl_publication(caller)?;
        let published = publish_crl(
            self.registry(),
            self.anchors().certificates(),
            crl,
            &caller.actor(),
            self.now_ms(),
        )
        .await;
        self.forget_published_crls();
        published
    }

    /// The newest CRL of each issuer (DER), and whether any of them revokes anything: read from
    /// the registry when the copy held is older than [`CRL_REFRESH`], so a verification does not
    /// pay for a query and a parse. A CRL published through another instance (or the console)
    /// is seen here within that time.
    pub async fn published_crls(&self) -> Result<PublishedCrls, ServiceError> {
        if let Some(held) = self
            .crls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .filter(|held| held.read_at.elapsed() < CRL_REFRESH)
        {
            return Ok(held.clone());
        }
        let records = self.registry().latest_crls().await?;
        let any_revoked = records.iter().any(|record| {
            RevocationList::from_der(&record.crl.der).is_ok_and(|list| !list.entries().is_empty())
        });
        let fresh = PublishedCrls {
            ders: Arc::new(records.into_iter().map(|record| record.crl.der).collect()),
            any_revoked,
            read_at: std::time::Instant::now(),
        };
        *self
            .crls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(fresh.clone());
        Ok(fresh)
    }

    /// Drops the copy held, so a CRL just published here is used at once.
    pub(super) fn forget_published_crls(&self) {
        *self
            .crls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// The newest CRL published under `key_identifier` (the issuer's SKI, lowercase hex), for
    /// the public `/crl/{key_identifier}.crl`.
    pub async fn current_crl(
        &self,
        key_identifier: &str,
    ) -> Result<Option<CrlRecord>, ServiceError> {
        let plausible = !key_identifier.is_empty()
            && key_identifier.len() <= MAX_KEY_IDENTIFIER_HEX
            && key_identifier
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !plausible {
            return Ok(None);
        }
        Ok(self.registry().latest_crl(key_identifier).await?)
    }

    /// The entry revoking a seal certificate of the bureau in its root's newest CRL, if any (none
    /// at all when no published CRL revokes anything, the usual case, answered without a query): the
    /// seal with certificate SHA-256 `fingerprint` (the one that signed a licence), else the
    /// seal in service.
    pub async fn seal_revocation(
        &self,
        fingerprint: Option<&str>,
    ) -> Result<Option<RevokedCertificateEntry>, ServiceError> {
        if !self.published_crls().await?.any_revoked {
            return Ok(None);
        }
        let chain: Vec<Vec<u8>> = match fingerprint {
            Some(fingerprint) => match self.registry().seal_by_fingerprint(fingerprint).await? {
                Some(seal) => super::seals::chain_of(&seal.seal.chain_pem),
                None => return Ok(None),
            },
            None => self.current_seal().signer.certificate_chain().to_vec(),
        };
        let (Some(seal), Some(root)) = (chain.first(), chain.last()) else {
            return Ok(None);
        };
        if !self.anchors().certificates().contains(root) {
            return Ok(None);
        }
        let Ok(key_identifier) = root_key_identifier_hex(root) else {
            return Ok(None);
        };
        let Some(record) = self.registry().latest_crl(&key_identifier).await? else {
            return Ok(None);
        };
        let (Ok(crl), Some(serial)) = (
            RevocationList::from_der(&record.crl.der),
            CertificateSerial::of_certificate(seal),
        ) else {
            return Ok(None);
        };
        if crl.check_signature(root).is_err() {
            return Ok(None);
        }
        Ok(crl.revocation_of(&serial).cloned())
    }
}

/// How long an instance uses the CRLs it read before reading them again.
pub const CRL_REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

/// The newest published CRLs, as a verification uses them.
#[derive(Clone, Debug)]
pub struct PublishedCrls {
    pub ders: Arc<Vec<Vec<u8>>>,
    /// Whether any of them lists a revoked certificate; when none does, no proof of existence
    /// is needed.
    pub any_revoked: bool,
    read_at: std::time::Instant,
}

/// Publishes `bytes` (one CRL, DER or PEM) as `actor`: it must read as a CRL, be signed by one of
/// `anchors` (RFC 5280 §6.3.3 (f): the root itself issues its CRLs), not have expired, and carry
/// a higher number than the root's newest; it is stored with its `crl.published` audit entry.
/// The console (`oneseal crl publish`) and `PUT /api/v1/crl` both come here.
pub async fn publish_crl(
    registry: &Registry,
    anchors: &[Vec<u8>],
    bytes: &[u8],
    actor: &str,
    now_ms: i64,
) -> Result<CrlPublished, ServiceError> {
    if bytes.len() > MAX_CRL_BYTES.saturating_mul(2) {
        return Err(ServiceError::invalid(
            "crl.invalid",
            format!("the CRL is over {MAX_CRL_BYTES} bytes"),
        ));
    }
    let mut lists = RevocationList::parse_all(bytes)
        .map_err(|error| ServiceError::invalid("crl.invalid", error.to_string()))?;
    let crl = match (lists.pop(), lists.is_empty()) {
        (Some(crl), true) => crl,
        _ => {
            return Err(ServiceError::invalid(
                "crl.invalid",
                "send one CRL at a time",
            ));
        }
    };
    let root = issuing_anchor(&crl, anchors)?;
    let key_identifier = root_key_identifier_hex(root).map_err(|error| {
        ServiceError::Internal(format!(
            "the trust anchor has no usable key identifier: {error}"
        ))
    })?;
    if ms(crl.next_update()) <= now_ms {
        return Err(ServiceError::invalid(
            "crl.expired",
            format!(
                "the CRL's nextUpdate ({}) has passed: issue a fresh one (oneseal ca crl)",
                rfc3339(ms(crl.next_update()))
            ),
        ));
    }
    let summary = summary(&crl, &key_identifier);
    let audit = AuditRecord::new(
        actor,
        "crl.published",
        format!("crl/{key_identifier}/{}", crl.number()),
        serde_json::json!({
            "issuer": summary.issuer,
            "number": summary.number,
            "this_update": summary.this_update,
            "next_update": summary.next_update,
            "revoked": summary.revoked.iter().map(|r| &r.serial).collect::<Vec<_>>(),
            "sha256": summary.sha256,
        }),
    );
    let new = NewCrl {
        issuer: key_identifier,
        number: crl.number().to_fixed_hex(),
        this_update_ms: ms(crl.this_update()),
        next_update_ms: ms(crl.next_update()),
        der: crl.der().to_vec(),
        sha256: summary.sha256.clone(),
    };
    match registry.publish_crl(&new, actor, &audit, now_ms).await? {
        Publication::Published => {
            metrics::counter!("oneseal_crls_published_total").increment(1);
            Ok(CrlPublished::New(summary))
        }
        Publication::AlreadyPublished => Ok(CrlPublished::Unchanged(summary)),
        Publication::Stale { newest } => Err(ServiceError::Refused {
            code: "crl.stale",
            message: format!(
                "CRL number {} is not above number {} already published for this root: an older list would take back later revocations; issue a new one (oneseal ca crl)",
                crl.number(),
                CrlNumber::from_fixed_hex(&newest).map_or(newest, |n| n.to_string())
            ),
        }),
    }
}

/// The trust anchor that signed `crl`, or why none did.
fn issuing_anchor<'a>(
    crl: &RevocationList,
    anchors: &'a [Vec<u8>],
) -> Result<&'a [u8], ServiceError> {
    let mut refusal = None;
    for anchor in anchors {
        match crl.check_signature(anchor) {
            Ok(()) => return Ok(anchor),
            Err(crate::pki::CrlError::WrongIssuer { .. }) if refusal.is_some() => {}
            Err(error) => refusal = Some(error),
        }
    }
    Err(ServiceError::invalid(
        "crl.untrusted",
        match refusal {
            Some(error) => format!("the CRL is not the bureau's root's: {error}"),
            None => "the bureau has no root to check the CRL against".to_string(),
        },
    ))
}

fn summary(crl: &RevocationList, key_identifier: &str) -> CrlSummary {
    CrlSummary {
        issuer: crl.issuer().to_string(),
        issuer_key_identifier: key_identifier.to_string(),
        number: crl.number().to_string(),
        this_update: rfc3339(ms(crl.this_update())),
        next_update: rfc3339(ms(crl.next_update())),
        revoked: crl
            .entries()
            .iter()
            .map(|entry| RevokedView {
                serial: entry.serial.to_hex(),
                revoked_at: rfc3339(ms(entry.revoked_at)),
                reason: entry.reason.map(|r| r.as_str().to_string()),
                invalid_since: entry.invalid_since.map(|t| rfc3339(ms(t))),
            })
            .collect(),
        path: format!("/crl/{key_identifier}.crl"),
        sha256: sha256_hex(crl.der()),
    }
}

/// Unix milliseconds.
pub(super) fn ms(time: OffsetDateTime) -> i64 {
    i64::try_from(time.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}
