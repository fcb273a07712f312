//! Use cases: what the bureau does, composed from the pure core, the seal and the registry.
//!
//! Every use case that changes state or signs writes its audit entry in the same registry
//! transaction as the change, and signing happens only after the serial's reservation (with its
//! audit entry) is durable: no signature without a record.

pub mod applicants;
pub mod auth;
pub mod certificates;
pub mod deadlines;
pub mod feed;
pub mod issuance;
pub mod ltv;
pub mod renewal;
pub mod reports;
pub mod requests;
pub mod revocation;
pub mod seals;
pub mod templates;
pub mod timestamping;
pub mod tsa;
pub mod verification;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::registry::{Registry, RegistryError, Role};
use crate::seal::Signer;
use crate::template::Problem;
use crate::template::seal_image::SealImage;
use crate::verify::TrustAnchors;

pub use auth::Identity;

/// The bureau's UTC offset (China Standard Time): the issue date printed is its date.
pub const BUREAU_OFFSET_HOURS: i8 = 8;

/// Why a use case did not happen. Messages are safe to show to the caller.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("a valid API token is required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed but its content is refused; every problem is listed.
    #[error("{message}")]
    Invalid {
        code: &'static str,
        message: String,
        problems: Vec<Problem>,
    },
    /// The state does not allow it (already approved, already revoked).
    #[error("{0}")]
    Conflict(String),
    /// A business rule refuses it (the dishonesty list closes the 容缺 path); `code` names the rule.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// The caller already acted on this case in another capacity (opened it, so cannot sign
    /// it off).
    #[error("{0}")]
    SeparationOfDuties(String),
    /// Too much work in flight; try again shortly.
    #[error("{0}")]
    Busy(String),
    /// Timestamps are required and no time-stamping authority gave a good one; nothing was
    /// issued. Each TSA's failure is for the log and the audit trail.
    #[error(
        "no time-stamping authority answered with a valid timestamp; nothing was issued, try again shortly"
    )]
    TimestampUnavailable(String),
    /// The registry failed: nothing was signed or returned. The cause is for the log only.
    #[error("the registry is unavailable")]
    Registry(#[source] RegistryError),
    /// Something that should not fail did; the cause is for the log only.
    #[error("internal error")]
    Internal(String),
}

impl From<RegistryError> for ServiceError {
    fn from(error: RegistryError) -> Self {
        ServiceError::Registry(error)
    }
}

impl ServiceError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> ServiceError {
        ServiceError::Invalid {
            code,
            message: message.into(),
            problems: Vec::new(),
        }
    }

    /// The internal cause, for the log: never sent to a client.
    pub fn cause(&self) -> Option<String> {
        match self {
            ServiceError::Registry(error) => Some(error.to_string()),
            ServiceError::Internal(cause) => Some(cause.clone()),
            ServiceError::TimestampUnavailable(cause) => Some(cause.clone()),
            _ => None,
        }
    }
}

/// What the bureau is configured with, besides its seal and registry.
#[derive(Clone, Debug)]
pub struct BureauSettings {
    /// The verification page's base URL; a licence's QR code carries it followed by the serial.
    pub base_url: String,
    /// Verifications (CPU-heavy, hostile input) allowed at once; more wait, then are refused.
    pub max_concurrent_verifications: usize,
    /// A verification taking longer than this is abandoned and the file refused.
    pub verification_timeout: std::time::Duration,
    /// Largest PDF accepted for verification.
    pub max_verify_bytes: usize,
    /// Added to the system clock: lets a development service live through deadlines in
    /// minutes. Production refuses anything but zero (`oneseal serve` checks).
    pub clock_offset_ms: i64,
}

/// The bureau: its one seal, its registry, and what it has loaded.
pub struct Bureau {
    registry: Registry,
    /// The seal signing now: replaced whole when a rotation is followed.
    seal: std::sync::RwLock<Arc<seals::ActiveSeal>>,
    seal_loader: Option<seals::SealLoader>,
    seal_refresh: tokio::sync::Mutex<()>,
    /// The newest published CRLs, read from the registry at most every few seconds.
    crls: std::sync::Mutex<Option<revocation::PublishedCrls>>,
    seal_image: Option<Arc<SealImage>>,
    /// The roots of every seal this instance has signed with or the registry has had in service.
    anchors: std::sync::RwLock<Arc<TrustAnchors>>,
    /// The issuing authority, from the seal certificate's subject.
    organization: String,
    settings: BureauSettings,
    bundles: Mutex<HashMap<(String, i64), Arc<crate::template::Bundle>>>,
    verifications: Arc<tokio::sync::Semaphore>,
    /// Issuances under way, from before their serial is taken until they are answered.
    issuing: Arc<tokio::sync::Semaphore>,
    issuing_permits: usize,
    /// Issuances in a CPU-bound step (checking the data, drawing and signing the licence).
    computing: Arc<tokio::sync::Semaphore>,
    /// The built-in time-stamping authority, when configured (docs/tsa.md).
    tsa: Option<Arc<tsa::TimeStampAuthority>>,
    /// Timestamps and validation data at issuance (docs/ltv.md).
    ltv: ltv::LtvSettings,
}

/// Issuances under way per core. Most of an issuance's time is spent waiting for the registry's
/// group commit, which grows with the issuances waiting for it; this bounds the half-done work
/// a crash can leave (reserved serials without a PDF) while keeping the groups large.
const ISSUANCES_PER_CORE: usize = 16;

impl Bureau {
    /// Puts the seal and the registry to work; the seal's own root is the verification anchor.
    pub fn new(
        registry: Registry,
        signer: Arc<dyn Signer>,
        seal_image: Option<SealImage>,
        settings: BureauSettings,
    ) -> Result<Bureau, ServiceError> {
        let mut anchors = TrustAnchors::new();
        let root = signer
            .certificate_chain()
            .last()
            .ok_or_else(|| ServiceError::Internal("the seal has no certificate chain".into()))?;
        anchors
            .add_pem_or_der(root)
            .map_err(|e| ServiceError::Internal(format!("the seal's root certificate: {e}")))?;
        let organization = issuance::Issuer::new(signer.as_ref())
            .map_err(|e| ServiceError::Internal(format!("the seal: {e}")))?
            .seal_words()
            .0
            .to_string();
        let workers = std::thread::available_parallelism().map_or(2, usize::from);
        let fingerprint = seals::fingerprint(signer.as_ref());
        Ok(Bureau {
            registry,
            seal: std::sync::RwLock::new(Arc::new(seals::ActiveSeal {
                signer,
                fingerprint,
                generation: 0,
            })),
            seal_loader: None,
            seal_refresh: tokio::sync::Mutex::new(()),
            crls: std::sync::Mutex::new(None),
            seal_image: seal_image.map(Arc::new),
            anchors: std::sync::RwLock::new(Arc::new(anchors)),
            organization,
            verifications: Arc::new(tokio::sync::Semaphore::new(
                settings.max_concurrent_verifications.max(1),
            )),
            issuing: Arc::new(tokio::sync::Semaphore::new(workers * ISSUANCES_PER_CORE)),
            issuing_permits: workers * ISSUANCES_PER_CORE,
            // One CPU-bound step per core: more would only share the cores with the registry's
            // writer, whose every statement waits for a core to run on.
            computing: Arc::new(tokio::sync::Semaphore::new(workers)),
            settings,
            bundles: Mutex::new(HashMap::new()),
            tsa: None,
            ltv: ltv::LtvSettings::off(),
        })
    }

    /// Stops new issuances and waits (up to `grace`) for those in flight to commit, so a
    /// shutdown never cuts one between its reservation and its record. Returns whether all did.
    pub async fn finish_issuances(&self, grace: std::time::Duration) -> bool {
        let permits = u32::try_from(self.issuing_permits).unwrap_or(u32::MAX);
        let drained = tokio::time::timeout(grace, self.issuing.acquire_many(permits)).await;
        self.issuing.close();
        matches!(drained, Ok(Ok(_)))
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The issuing authority named on the seal.
    pub fn organization(&self) -> &str {
        &self.organization
    }

    pub fn settings(&self) -> &BureauSettings {
        &self.settings
    }

    /// The bureau's clock, in Unix milliseconds: the system clock plus the configured offset.
    pub fn now_ms(&self) -> i64 {
        now_ms().saturating_add(self.settings.clock_offset_ms)
    }

    /// The bureau's clock in its own offset (China Standard Time).
    pub fn now(&self) -> OffsetDateTime {
        bureau_now() + time::Duration::milliseconds(self.settings.clock_offset_ms)
    }

    /// The seal certificate and its chain up to and including the root, as PEM.
    pub fn seal_chain_pem(&self) -> String {
        seals::chain_pem(self.current_seal().signer.certificate_chain())
    }

    /// Audit entries after `after`, with the chain's length: for auditors.
    pub async fn audit(
        &self,
        caller: &Identity,
        after: i64,
        limit: i64,
    ) -> Result<(Vec<crate::registry::AuditEntry>, i64), ServiceError> {
        require(caller, &[Role::Auditor], "read the audit trail")?;
        let entries = self.registry.audit_entries(after, limit).await?;
        Ok((entries, self.registry.audit_length().await?))
    }

    /// Recomputes the audit chain from its first entry to its head: for auditors.
    pub async fn check_audit_chain(
        &self,
        caller: &Identity,
    ) -> Result<Result<i64, crate::registry::ChainBreak>, ServiceError> {
        require(caller, &[Role::Auditor], "verify the audit trail")?;
        Ok(self.registry.verify_audit_chain().await?)
    }
}

/// Refuses unless `identity` holds one of `roles`.
pub fn require(identity: &Identity, roles: &[Role], doing: &str) -> Result<(), ServiceError> {
    if roles.contains(&identity.role) {
        Ok(())
    } else {
        let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(ServiceError::Forbidden(format!(
            "the {} role cannot {doing} (needs {})",
            identity.role.as_str(),
            allowed.join(" or ")
        )))
    }
}

/// A caller-supplied name (serial, template id, token id) for an error message: quoted, control
/// characters escaped and cut to a few dozen characters, so a hostile path cannot fill the answer.
pub fn quoted(text: &str) -> String {
    const SHOWN: usize = 40;
    let mut shown: String = text.chars().take(SHOWN).collect();
    if text.chars().nth(SHOWN).is_some() {
        shown.push('…');
    }
    format!("{shown:?}")
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    let now = OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Now, in the bureau's offset.
pub fn bureau_now() -> OffsetDateTime {
    let offset =
        time::UtcOffset::from_hms(BUREAU_OFFSET_HOURS, 0, 0).unwrap_or(time::UtcOffset::UTC);
    OffsetDateTime::now_utc().to_offset(offset)
}

/// `N` bytes from the system's random generator, for ids and serials.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], ServiceError> {
    let mut bytes = [0u8; N];
    fill_random(&mut bytes)?;
    Ok(bytes)
}

/// `N` secret bytes, drawn straight into memory that is zeroized on drop (no copy is left).
pub(crate) fn random_secret<const N: usize>() -> Result<zeroize::Zeroizing<[u8; N]>, ServiceError> {
    let mut secret = zeroize::Zeroizing::new([0u8; N]);
    fill_random(secret.as_mut())?;
    Ok(secret)
}

fn fill_random(bytes: &mut [u8]) -> Result<(), ServiceError> {
    use ring::rand::SecureRandom;
    ring::rand::SystemRandom::new()
        .fill(bytes)
        .map_err(|_| ServiceError::Internal("the system random generator failed".into()))
}

/// Runs CPU-heavy work on the blocking pool, so the async workers keep serving.
async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("a worker task failed: {e}")))?
    .map_err(|_| ServiceError::Internal("a worker panicked".into()))
}
