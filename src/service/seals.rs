//! The seal in service, and rotation without downtime: `oneseal seal rotate` records the next
//! seal in the registry; every instance sees it (at its next look, or at once when a
//! reservation under the old seal is refused), loads it, and signs with it from then on.
//! Issuances already reserved under the old seal finish with it; the registry records which
//! seal certificate signed each licence.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use super::{Bureau, ServiceError};
use crate::registry::{AuditRecord, NewSeal, Registry, SealRecord, Transition};
use crate::seal::Signer;

/// The seal an instance signs with, and its place in the registry's sequence.
pub struct ActiveSeal {
    pub signer: Arc<dyn Signer>,
    /// SHA-256 of the seal certificate's DER, lowercase hex.
    pub fingerprint: String,
    /// The registry's generation for it; 0 before the registry has been consulted.
    pub generation: i64,
}

/// Loads the seal kept at a location (a key directory), with whatever checks the deployment
/// applies (production refuses unencrypted keys); the error is one line for the log.
pub type SealLoader = Arc<dyn Fn(&str) -> Result<Arc<dyn Signer>, String> + Send + Sync>;

/// The seal as the registry will describe it.
pub fn describe_seal(
    signer: &dyn Signer,
    location: &str,
    custody: &str,
    activated_by: &str,
) -> Result<NewSeal, ServiceError> {
    let chain = signer.certificate_chain();
    let leaf = chain
        .first()
        .ok_or_else(|| ServiceError::Internal("the seal has no certificate".into()))?;
    let (_, certificate) = x509_parser::parse_x509_certificate(leaf)
        .map_err(|e| ServiceError::Internal(format!("the seal certificate: {e}")))?;
    Ok(NewSeal {
        fingerprint: fingerprint(signer),
        subject: certificate.subject().to_string(),
        certificate_serial: certificate.raw_serial_as_string().replace(':', ""),
        not_after_ms: certificate
            .validity()
            .not_after
            .timestamp()
            .saturating_mul(1000),
        chain_pem: chain_pem(chain),
        location: location.to_owned(),
        custody: custody.to_owned(),
        activated_by: activated_by.to_owned(),
    })
}

/// SHA-256 of the seal certificate's DER, lowercase hex: how the registry names a seal.
pub fn fingerprint(signer: &dyn Signer) -> String {
    let leaf = signer
        .certificate_chain()
        .first()
        .map_or(&[][..], Vec::as_slice);
    super::templates::sha256_hex(leaf)
}

/// Certificates as PEM, in order.
pub fn chain_pem(chain: &[Vec<u8>]) -> String {
    use base64::Engine;
    let mut pem = String::new();
    for der in chain {
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        let text = base64::engine::general_purpose::STANDARD.encode(der);
        for line in text.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    pem
}

/// How a rotation may change the trust anchor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootChange {
    /// The new seal certificate must be issued by the root of the seal in service, so running
    /// instances and verifiers keep one trust anchor (`oneseal seal rotate`).
    Refused,
    /// A new root is accepted (a restart with another configured seal).
    Allowed,
}

/// Brings `signer` into service in place of the seal in service now, with a `seal.rotated`
/// audit entry. Refused unless the new seal certificate is valid now and was never in service
/// before, and (unless `roots` allows) is issued by the same root.
pub async fn rotate_seal(
    registry: &Registry,
    signer: &dyn Signer,
    (location, custody): (&str, &str),
    roots: RootChange,
    actor: &str,
    now_ms: i64,
) -> Result<SealRecord, ServiceError> {
    let new = describe_seal(signer, location, custody, actor)?;
    let current = registry.active_seal().await?;
    if let (Some(current), RootChange::Refused) = (&current, roots) {
        check_same_root(current, signer)?;
    }
    check_valid_now(signer, now_ms)?;
    let action = if current.is_some() {
        "seal.rotated"
    } else {
        "seal.activated"
    };
    let audit = AuditRecord::new(
        actor.to_owned(),
        action,
        new.fingerprint.clone(),
        serde_json::json!({
            "replaces": current.as_ref().map(|c| &c.seal.fingerprint),
            "subject": new.subject,
            "certificate_serial": new.certificate_serial,
            "location": new.location,
            "custody": new.custody,
        }),
    );
    let replacing = current.as_ref().map(|c| c.seal.fingerprint.as_str());
    match registry
        .activate_seal(&new, replacing, &audit, now_ms)
        .await?
    {
        Transition::Done(record) => Ok(record),
        Transition::Refused(why) => Err(ServiceError::Conflict(why)),
        Transition::NotFound => Err(ServiceError::Internal("no seal table".into())),
    }
}

fn check_same_root(current: &SealRecord, signer: &dyn Signer) -> Result<(), ServiceError> {
    let new_root = signer
        .certificate_chain()
        .last()
        .map(|root| chain_pem(std::slice::from_ref(root)));
    let same = new_root.is_some_and(|root| current.seal.chain_pem.ends_with(&root));
    if same {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "seal.other_root",
            "the new seal certificate is not issued by the root of the seal in service: issue it with `oneseal keygen --ca DIR` from the same root, so verifiers keep one trust anchor",
        ))
    }
}

fn check_valid_now(signer: &dyn Signer, now_ms: i64) -> Result<(), ServiceError> {
    let leaf = signer
        .certificate_chain()
        .first()
        .map_or(&[][..], Vec::as_slice);
    let (_, certificate) = x509_parser::parse_x509_certificate(leaf)
        .map_err(|e| ServiceError::Internal(format!("the seal certificate: {e}")))?;
    let validity = certificate.validity();
    let now = now_ms / 1000;
    if now < validity.not_before.timestamp() || now > validity.not_after.timestamp() {
        return Err(ServiceError::invalid(
            "seal.not_valid_now",
            format!(
                "the new seal certificate is valid from {} to {}, not now",
                validity.not_before, validity.not_after
            ),
        ));
    }
    Ok(())
}

impl Bureau {
    /// The trust anchors verification uses now.
    pub fn anchors(&self) -> Arc<crate::verify::TrustAnchors> {
        Arc::clone(&self.anchors.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Trusts `root` too (a seal from another root came into service, or served before).
    fn trust_root(&self, root: &[u8]) {
        let mut anchors = self.anchors.write().unwrap_or_else(PoisonError::into_inner);
        if anchors.certificates().iter().any(|known| known == root) {
            return;
        }
        let mut more = anchors.as_ref().clone();
        if more.add_pem_or_der(root).is_ok() {
            *anchors = Arc::new(more);
        }
    }

    /// Trusts the root of every seal the registry has had in service, so licences signed under
    /// any of them verify here.
    async fn trust_every_seal_root(&self) -> Result<(), ServiceError> {
        for seal in self.registry().seals().await? {
            if let Some(root) = root_of(&seal.seal.chain_pem) {
                self.trust_root(&root);
            }
        }
        Ok(())
    }

    /// The seal to sign with now.
    pub fn current_seal(&self) -> Arc<ActiveSeal> {
        Arc::clone(&self.seal.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Sets how this instance loads a seal a rotation brings into service.
    pub fn with_seal_loader(mut self, loader: SealLoader) -> Bureau {
        self.seal_loader = Some(loader);
        self
    }

    /// At start: records the configured seal as the first one when the registry has none,
    /// follows the registry when a rotation retired the configured seal, and rotates to the
    /// configured seal when the registry has never seen it (the configuration changed).
    pub async fn adopt_seal(&self, location: &str, custody: &str) -> Result<(), ServiceError> {
        let configured = self.current_seal();
        let mut active = self.registry().active_seal().await?;
        let known = self
            .registry()
            .seal_by_fingerprint(&configured.fingerprint)
            .await?;
        if known.is_none() {
            let brought_in = rotate_seal(
                self.registry(),
                configured.signer.as_ref(),
                (location, custody),
                RootChange::Allowed,
                "oneseal:serve",
                self.now_ms(),
            )
            .await;
            active = match brought_in {
                Ok(record) => {
                    if let Some(replaced) = &active {
                        tracing::warn!(
                            generation = record.generation,
                            replaced = %replaced.seal.fingerprint,
                            "the configured seal replaces the seal in service (a rotation at start)"
                        );
                    }
                    Some(record)
                }
                // Another instance starting with the same seal, or another, recorded first.
                Err(ServiceError::Conflict(_)) => self.registry().active_seal().await?,
                Err(error) => return Err(error),
            };
        }
        let active = active.ok_or_else(|| ServiceError::Internal("no seal in service".into()))?;
        self.trust_every_seal_root().await?;
        if active.seal.fingerprint == configured.fingerprint {
            self.install(Arc::clone(&configured.signer), &active);
            return Ok(());
        }
        tracing::warn!(
            configured = %location,
            in_service = %active.seal.location,
            generation = active.generation,
            "the configured seal was retired by a rotation; signing with the seal in service (update [seal] keys)"
        );
        self.load_and_install(&active).await
    }

    /// Follows a rotation recorded since this instance last looked; true when the seal changed.
    /// One caller loads at a time; the others find the new seal in place.
    pub async fn refresh_seal(&self) -> Result<bool, ServiceError> {
        let _one_at_a_time = self.seal_refresh.lock().await;
        let Some(active) = self.registry().active_seal().await? else {
            return Ok(false);
        };
        if active.generation <= self.current_seal().generation {
            return Ok(false);
        }
        self.load_and_install(&active).await?;
        tracing::info!(
            generation = active.generation,
            fingerprint = %active.seal.fingerprint,
            location = %active.seal.location,
            "now signing with the rotated seal"
        );
        Ok(true)
    }

    /// Loads the seal `active` names (off the runtime: decrypting a key file takes a while) and
    /// signs with it from now on.
    async fn load_and_install(&self, active: &SealRecord) -> Result<(), ServiceError> {
        let loader = Arc::clone(self.seal_loader.as_ref().ok_or_else(|| {
            ServiceError::Busy("the seal was rotated and this instance cannot load seals".into())
        })?);
        let location = active.seal.location.clone();
        let loaded = super::off_runtime(move || loader(&location)).await?;
        let signer = loaded.map_err(|why| {
            tracing::error!(location = %active.seal.location, error = %why, "cannot load the seal in service");
            ServiceError::Busy(format!(
                "the seal was rotated and the new seal cannot be loaded here ({why})"
            ))
        })?;
        if fingerprint(signer.as_ref()) != active.seal.fingerprint {
            return Err(ServiceError::Busy(format!(
                "the seal at {} is no longer the certificate the registry put in service",
                active.seal.location
            )));
        }
        self.install(signer, active);
        Ok(())
    }

    fn install(&self, signer: Arc<dyn Signer>, record: &SealRecord) {
        if let Some(root) = signer.certificate_chain().last() {
            self.trust_root(root);
        }
        let seal = Arc::new(ActiveSeal {
            signer,
            fingerprint: record.seal.fingerprint.clone(),
            generation: record.generation,
        });
        *self.seal.write().unwrap_or_else(PoisonError::into_inner) = seal;
    }
}

/// The certificates of a PEM chain as the registry keeps it, DER, in order.
pub fn chain_of(chain_pem: &str) -> Vec<Vec<u8>> {
    x509_parser::pem::Pem::iter_from_buffer(chain_pem.as_bytes())
        .filter_map(Result::ok)
        .filter(|pem| pem.label == "CERTIFICATE")
        .map(|pem| pem.contents)
        .collect()
}

/// The last certificate of a PEM chain: its root.
pub fn root_of(chain_pem: &str) -> Option<Vec<u8>> {
    chain_of(chain_pem).pop()
}

/// Looks for rotations every `interval`, so an idle instance follows them too.
pub fn spawn_seal_watch(bureau: Arc<Bureau>, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(error) = bureau.refresh_seal().await {
                tracing::error!(error = %error, cause = error.cause().unwrap_or_default(), "cannot follow the seal in service");
            }
        }
    })
}
