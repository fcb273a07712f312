//! Long-term validity of what the bureau seals (docs/ltv.md): a timestamp over each signature
//! (PAdES B-T), the validation data in the file (B-LT), and document timestamps over it
//! (B-LTA), from the built-in TSA or the configured ones.
//!
//! Every token is checked as a client checks a stranger's (`verify::tsp_client`), the built-in
//! TSA's too: status, imprint, nonce, the token's signature and the TSA's path and usage.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use crate::cms::tsp::{self, ImprintAlgorithm};
use crate::sign::{
    DocumentTimestampRequest, SignError, ValidationData, add_validation_data, carried_certificates,
    prepare_document_timestamp,
};
use crate::verify::tsp_client::{CheckedToken, ExpectedStamp, TsaTrust, check_response};

use super::timestamping::TsaClient;
use super::{Bureau, ServiceError};

/// How far issuance takes each licence (ETSI EN 319 142-1 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LtvLevel {
    /// The signature alone.
    BaselineB,
    /// With a signature timestamp.
    BaselineT,
    /// With the timestamp and the validation data (DSS) for the seal's and the TSA's paths.
    BaselineLt,
    /// With all that under a document timestamp.
    BaselineLta,
}

impl LtvLevel {
    /// `B-B`, `B-T`, `B-LT` or `B-LTA`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_uppercase().as_str() {
            "B-B" => Some(Self::BaselineB),
            "B-T" => Some(Self::BaselineT),
            "B-LT" => Some(Self::BaselineLt),
            "B-LTA" => Some(Self::BaselineLta),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::BaselineB => "B-B",
            Self::BaselineT => "B-T",
            Self::BaselineLt => "B-LT",
            Self::BaselineLta => "B-LTA",
        }
    }
}

/// Where timestamps come from.
#[derive(Clone)]
pub enum TimestampSource {
    /// This service's own TSA (`[tsa] keys`), called in process.
    BuiltIn,
    /// Outside TSAs, tried in order (`[timestamping] urls`, docs/timestamping.md).
    Remote(Arc<TsaClient>),
}

/// What issuance does about long-term validity.
#[derive(Clone)]
pub struct LtvSettings {
    pub source: Option<TimestampSource>,
    /// No licence leaves without its timestamp: when no TSA answers, the issuance fails (503)
    /// and the trail records why. When false, the licence goes out B-B with a warning.
    pub required: bool,
    pub level: LtvLevel,
    /// Bytes kept in each signature's `/Contents` for its timestamp token.
    pub token_reserve: usize,
    /// Certificates (DER) of the TSA's path to embed with each timestamp (B-LT): the built-in
    /// TSA's chain, or the outside TSAs' configured roots and intermediates.
    pub tsa_chain: Vec<Vec<u8>>,
}

impl LtvSettings {
    /// B-B only: no timestamps.
    pub fn off() -> Self {
        Self {
            source: None,
            required: false,
            level: LtvLevel::BaselineB,
            token_reserve: 0,
            tsa_chain: Vec::new(),
        }
    }

    /// The level issuance aims at, given whether a source is configured.
    fn effective_level(&self) -> LtvLevel {
        match self.source {
            Some(_) => self.level,
            None => LtvLevel::BaselineB,
        }
    }
}

/// The nonce sent with each request (RFC 3161 §2.4.1): 16 random bytes.
const NONCE_BYTES: usize = 16;

impl Bureau {
    /// Sets how issuance timestamps and embeds validation data.
    pub fn with_ltv(mut self, settings: LtvSettings) -> Self {
        self.ltv = settings;
        self
    }

    /// The level each licence is issued at.
    pub fn ltv_level(&self) -> LtvLevel {
        self.ltv.effective_level()
    }

    /// Room to keep in a signature for its timestamp.
    pub(super) fn timestamp_reserve(&self) -> usize {
        if self.ltv_level() >= LtvLevel::BaselineT {
            self.ltv.token_reserve
        } else {
            0
        }
    }

    /// The timestamp for a signature whose value is `signature_value` (ETSI EN 319 122-1
    /// §5.3: the imprint hashes the SignerInfo's signature value). `None` when issuance is
    /// B-B, or when no TSA answered and timestamps are not required.
    pub(super) async fn signature_timestamp(
        &self,
        signature_value: &[u8],
    ) -> Result<Option<CheckedToken>, ServiceError> {
        if self.ltv_level() < LtvLevel::BaselineT {
            return Ok(None);
        }
        match self.stamp(&crate::sign::sha256(signature_value)).await {
            Ok(token) => Ok(Some(token)),
            Err(ServiceError::TimestampUnavailable(why)) if !self.ltv.required => {
                tracing::warn!(reason = %why, "no timestamp: the licence is issued B-B");
                metrics::counter!("oneseal_timestamp_failures_total").increment(1);
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// A checked token over `digest` (SHA-256) from the configured source.
    pub async fn stamp(&self, digest: &[u8; 32]) -> Result<CheckedToken, ServiceError> {
        match &self.ltv.source {
            None => Err(ServiceError::TimestampUnavailable(
                "no time-stamping authority is configured ([timestamping] urls or [tsa] keys)"
                    .into(),
            )),
            Some(TimestampSource::Remote(client)) => client
                .stamp(digest, time::OffsetDateTime::now_utc())
                .await
                .map_err(|e| ServiceError::TimestampUnavailable(e.to_string())),
            Some(TimestampSource::BuiltIn) => self.stamp_built_in(digest).await,
        }
    }

    /// Asks this service's own TSA, through the same request, record and checks as `POST /tsa`.
    async fn stamp_built_in(&self, digest: &[u8; 32]) -> Result<CheckedToken, ServiceError> {
        let nonce = super::random_bytes::<NONCE_BYTES>()?;
        let request =
            tsp::build_request(ImprintAlgorithm::Sha256, digest, Some(&nonce), true, None)
                .map_err(|e| {
                    ServiceError::Internal(format!("building a timestamp request: {e}"))
                })?;
        let reply = self
            .timestamp(&request, IpAddr::V4(Ipv4Addr::LOCALHOST))
            .await?;
        let anchors = self.anchors();
        let chain = self
            .tsa
            .as_ref()
            .map(|tsa| tsa.certificate_chain().to_vec())
            .unwrap_or_default();
        let expected = ExpectedStamp {
            algorithm: ImprintAlgorithm::Sha256,
            digest,
            nonce: Some(&nonce),
            policy: None,
        };
        let trust = TsaTrust {
            anchors: &anchors,
            certificates: &chain,
            validation_time: time::OffsetDateTime::now_utc(),
        };
        check_response(&reply.response, &expected, &trust)
            .map_err(|e| ServiceError::TimestampUnavailable(format!("the built-in TSA: {e}")))
    }

    /// What a validator needs to check the seal's path and the timestamp's offline: both
    /// chains and the newest CRL of every root this bureau has published (B-LT).
    pub(super) async fn validation_data(
        &self,
        seal_chain: &[Vec<u8>],
        token: Option<&CheckedToken>,
    ) -> Result<ValidationData, ServiceError> {
        let mut certificates = seal_chain.to_vec();
        if let Some(token) = token {
            certificates.push(token.tsa_certificate.clone());
        }
        for certificate in &self.ltv.tsa_chain {
            if !certificates.contains(certificate) {
                certificates.push(certificate.clone());
            }
        }
        let crls = self.published_crls().await?.ders.as_ref().clone();
        Ok(ValidationData {
            certificates,
            crls,
            ocsp_responses: Vec::new(),
        })
    }

    /// Finishes a licence's long-term validity after its signature is written: the DSS for
    /// B-LT, then a document timestamp for B-LTA.
    pub(super) async fn embed_validation(
        &self,
        pdf: Vec<u8>,
        seal_chain: &[Vec<u8>],
        token: Option<&CheckedToken>,
    ) -> Result<Vec<u8>, ServiceError> {
        if token.is_none() || self.ltv_level() < LtvLevel::BaselineLt {
            return Ok(pdf);
        }
        let data = self.validation_data(seal_chain, token).await?;
        let with_dss = self
            .compute(move || add_validation_data(&pdf, &data, crate::pdf::Limits::default()))
            .await?
            .map_err(|e| ServiceError::Internal(format!("adding the validation data: {e}")))?;
        if self.ltv_level() < LtvLevel::BaselineLta {
            return Ok(with_dss);
        }
        self.document_timestamp(with_dss).await
    }

    /// Archive renewal (B-LTA, ETSI EN 319 142-1 §6.4): adds the validation data of every
    /// signature and timestamp `pdf` holds (their certificates, this bureau's chains and the
    /// newest CRLs) and a new document timestamp over it all.
    pub async fn extend(&self, pdf: Vec<u8>) -> Result<Vec<u8>, ServiceError> {
        let pdf = Arc::new(pdf);
        let input = Arc::clone(&pdf);
        let carried = self
            .compute(move || carried_certificates(&input, crate::pdf::Limits::default()))
            .await?
            .map_err(unextendable)?;
        let seal_chain = self.current_seal().signer.certificate_chain().to_vec();
        let mut data = self.validation_data(&seal_chain, None).await?;
        for certificate in carried {
            if !data.certificates.contains(&certificate) {
                data.certificates.push(certificate);
            }
        }
        let input = Arc::clone(&pdf);
        let with_dss = self
            .compute(move || add_validation_data(&input, &data, crate::pdf::Limits::default()))
            .await?
            .map_err(unextendable)?;
        self.document_timestamp(with_dss).await
    }

    /// Appends a document timestamp (SubFilter ETSI.RFC3161) over `pdf`. A token larger than
    /// the room kept for it is asked for again once, with room for it.
    pub async fn document_timestamp(&self, pdf: Vec<u8>) -> Result<Vec<u8>, ServiceError> {
        let pdf = Arc::new(pdf);
        let mut reserve = self
            .ltv
            .token_reserve
            .max(crate::sign::DEFAULT_TOKEN_RESERVE);
        for _ in 0..2 {
            let input = Arc::clone(&pdf);
            let request = DocumentTimestampRequest {
                token_reserve: reserve,
                ..DocumentTimestampRequest::default()
            };
            let prepared = self
                .compute(move || prepare_document_timestamp(&input, &request))
                .await?
                .map_err(|e| ServiceError::Internal(format!("preparing the timestamp: {e}")))?;
            let token = self.stamp(&prepared.digest()).await?;
            match prepared.finish(&token.token) {
                Ok(stamped) => return Ok(stamped),
                Err(SignError::ContentsTooLarge { needed, .. }) => reserve = needed + 1024,
                Err(other) => {
                    return Err(ServiceError::Internal(format!(
                        "writing the document timestamp: {other}"
                    )));
                }
            }
        }
        Err(ServiceError::Internal(
            "the TSA's token keeps outgrowing the room kept for it".into(),
        ))
    }
}

/// A file `extend` cannot read or append to.
fn unextendable(error: SignError) -> ServiceError {
    ServiceError::invalid(
        "ltv.unreadable",
        format!("the file cannot be extended: {error}"),
    )
}
