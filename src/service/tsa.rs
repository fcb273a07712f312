//! The built-in time-stamping authority (RFC 3161; docs/tsa.md): read the request, record the
//! timestamp durably (serial and genTime from the registry), then sign the token through the
//! TSA's own `Signer` and answer. No token without a record; nothing signed for a refusal.

use std::net::IpAddr;
use std::sync::Arc;

use crate::cms::SignerIdentity;
use crate::cms::tsp::{self, FailureInfo, PolicyId, Refusal, Stamp};
use crate::registry::NewTimestamp;
use crate::seal::Signer;
use crate::sign::{algorithm_oid, sha256};

use super::{Bureau, ServiceError, off_runtime};

/// The TSA: its key and certificate, and what its policy claims.
pub struct TimeStampAuthority {
    signer: Arc<dyn Signer>,
    identity: SignerIdentity,
    policy: PolicyId,
    /// The policy OID, dotted, as recorded and logged.
    policy_name: String,
    accuracy_ms: u32,
    certificate_sha256: String,
}

/// How the TSA is configured.
#[derive(Clone, Debug)]
pub struct TsaPolicy {
    pub policy: PolicyId,
    /// The policy OID, dotted (docs/tsa.md).
    pub name: String,
    /// The accuracy claimed for genTime, in milliseconds (the clock's NTP discipline).
    pub accuracy_ms: u32,
}

impl TsaPolicy {
    /// oneseal's own policy (docs/tsa.md), claiming one second of accuracy.
    pub fn oneseal() -> Self {
        Self {
            policy: PolicyId::oneseal(),
            name: ONESEAL_POLICY.to_string(),
            accuracy_ms: 1000,
        }
    }
}

/// The dotted form of `PolicyId::oneseal()`.
pub const ONESEAL_POLICY: &str = "2.25.76300465929542345528438199442665156440";

/// The TSA's answer: a DER TimeStampResp, granted or rejected.
#[derive(Debug)]
pub struct TimeStampReply {
    pub response: Vec<u8>,
    /// The token's serial, or why the request was refused.
    pub outcome: Result<i64, FailureInfo>,
}

impl TimeStampAuthority {
    /// Checks that `signer`'s certificate can sign tokens (ECDSA P-256, a parsable chain).
    pub fn new(signer: Arc<dyn Signer>, policy: TsaPolicy) -> Result<Self, ServiceError> {
        let identity = SignerIdentity::from_chain(signer.certificate_chain(), sha256)
            .map_err(|e| ServiceError::Internal(format!("the TSA certificate: {e}")))?;
        let certificate_sha256 = super::seals::fingerprint(signer.as_ref());
        Ok(Self {
            signer,
            identity,
            policy: policy.policy,
            policy_name: policy.name,
            accuracy_ms: policy.accuracy_ms,
            certificate_sha256,
        })
    }

    /// The TSA certificate and its chain, DER.
    pub fn certificate_chain(&self) -> &[Vec<u8>] {
        self.signer.certificate_chain()
    }

    /// The TSA certificate and its chain, as PEM.
    pub fn chain_pem(&self) -> String {
        super::seals::chain_pem(self.signer.certificate_chain())
    }
}

impl Bureau {
    /// Brings the TSA into service: `POST /tsa` answers from now on.
    pub fn with_tsa(mut self, tsa: TimeStampAuthority) -> Self {
        self.tsa = Some(Arc::new(tsa));
        self
    }

    /// The built-in TSA's certificate and chain (DER), when this bureau runs one.
    pub fn tsa_chain(&self) -> Option<Vec<Vec<u8>>> {
        self.tsa
            .as_ref()
            .map(|tsa| tsa.certificate_chain().to_vec())
    }

    /// Whether this bureau runs a TSA.
    pub fn has_tsa(&self) -> bool {
        self.tsa.is_some()
    }

    /// Answers one RFC 3161 request from `requester`. A request refused for its content is
    /// answered with a rejection TimeStampResp (RFC 3161 §2.4.2), nothing recorded or signed;
    /// `Err` is for no TSA configured and for the registry or the key failing.
    pub async fn timestamp(
        &self,
        request: &[u8],
        requester: IpAddr,
    ) -> Result<TimeStampReply, ServiceError> {
        let tsa = self.tsa.clone().ok_or_else(|| {
            ServiceError::NotFound(
                "this service runs no time-stamping authority: set [tsa] keys (ONESEAL_TSA_KEYS)"
                    .into(),
            )
        })?;
        let parsed = match tsp::parse_request(request, &tsa.policy) {
            Ok(parsed) => parsed,
            Err(refusal) => return reject(&refusal, requester),
        };
        let record = NewTimestamp {
            hash_algorithm: parsed.algorithm.name().to_string(),
            hashed_message: crate::registry::audit::hex(parsed.hashed_message()),
            policy: tsa.policy_name.clone(),
            nonce_present: parsed.has_nonce(),
            requester: requester.to_string(),
            tsa_certificate: tsa.certificate_sha256.clone(),
        };
        // genTime is the system clock (docs/tsa.md), never the development clock offset.
        let slot = self
            .registry
            .record_timestamp(&record, super::now_ms())
            .await?;
        let serial = u64::try_from(slot.serial)
            .map_err(|_| ServiceError::Internal("a negative TSA serial".into()))?;
        let signing = Arc::clone(&tsa);
        let token = off_runtime(move || {
            let tsa = signing;
            let stamp = Stamp {
                policy: &tsa.policy,
                serial,
                time_ms: slot.time_ms,
                accuracy_ms: tsa.accuracy_ms,
            };
            tsp::timestamp_token(
                &tsa.identity,
                &parsed,
                &stamp,
                algorithm_oid(tsa.signer.algorithm()),
                sha256,
                |attributes| tsa.signer.sign(attributes),
            )
            .map_err(|e| e.to_string())
        })
        .await?
        .map_err(|cause| {
            ServiceError::Internal(format!(
                "timestamp {} was recorded but not signed: {cause}",
                slot.serial
            ))
        })?;
        let response = tsp::granted_response(&token)
            .map_err(|e| ServiceError::Internal(format!("encoding the TimeStampResp: {e}")))?;
        tracing::info!(serial = slot.serial, %requester, "timestamp granted");
        metrics::counter!("oneseal_timestamps_total", "status" => "granted").increment(1);
        Ok(TimeStampReply {
            response,
            outcome: Ok(slot.serial),
        })
    }
}

fn reject(refusal: &Refusal, requester: IpAddr) -> Result<TimeStampReply, ServiceError> {
    tracing::info!(%requester, failure = refusal.failure.name(), reason = %refusal.reason, "timestamp refused");
    metrics::counter!("oneseal_timestamps_total", "status" => refusal.failure.name()).increment(1);
    let response = tsp::rejection_response(refusal)
        .map_err(|e| ServiceError::Internal(format!("encoding a rejection: {e}")))?;
    Ok(TimeStampReply {
        response,
        outcome: Err(refusal.failure),
    })
}
