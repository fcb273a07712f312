//! Certificate issuance: the seal's root CA and seal certificate profiles and the identifiers they
//! carry, and the root's certificate revocation lists. Pure: keys (through rcgen's `SigningKey`
//! seam), names, times and serials come in; DER goes out. No file I/O, clock or random numbers.

mod credit_code;
mod crl;
mod profile;

pub use credit_code::CreditCode;
pub use crl::{
    CertificateSerial, CrlContents, CrlError, CrlNumber, MAX_CRL_BYTES, MAX_CRL_ENTRIES,
    RevocationList, RevocationReason, RevokedCertificateEntry, crl_distribution_urls, issue_crl,
};
pub use profile::{
    EndEntityProfile, ROOT_NAME_SUFFIX, SealSubject, Serial, Validity, crl_url,
    issue_end_entity_certificate, issue_root_certificate, root_common_name,
    root_key_identifier_hex,
};

/// Why a certificate could not be issued. Messages name the offending input, never key material.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// The unified social credit code is malformed or its check character is wrong.
    #[error("invalid unified social credit code {code:?}: {reason}")]
    InvalidCreditCode { code: String, reason: String },
    /// A name for the certificate subject is unusable.
    #[error("invalid {field}: {reason}")]
    InvalidName { field: &'static str, reason: String },
    /// The validity period is empty, unrepresentable, or outside the issuer's.
    #[error("invalid validity period: {0}")]
    InvalidValidity(String),
    /// rcgen or the issuer's key refused to produce the certificate.
    #[error("cannot issue the certificate: {0}")]
    Issuance(String),
}
