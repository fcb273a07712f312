//! Key custody: the `Signer` seam and its backends. The only module that ever holds key bytes.

mod keyfile;

pub use keyfile::{
    CHAIN_FILE, DEVELOPMENT_MARKER, GeneratedKey, KEY_FILE, KeyCustody, KeyFileSigner,
    PASSPHRASE_VARIABLE, inspect_key_directory, load_key_directory, passphrase_from_env,
    write_new_file,
};

/// The signature algorithm a custodian signs with, as CMS names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// ECDSA over P-256 with SHA-256 (RFC 5758 §3.2); the value is a DER `Ecdsa-Sig-Value`.
    EcdsaP256Sha256,
}

impl SignatureAlgorithm {
    /// The largest DER signature value this algorithm produces, for sizing `/Contents` up front.
    pub fn max_signature_len(self) -> usize {
        match self {
            // SEQUENCE { INTEGER r (≤33 bytes), INTEGER s (≤33 bytes) }: 2 + 2·(2 + 33).
            Self::EcdsaP256Sha256 => 72,
        }
    }
}

/// Whoever holds the seal key: signs bytes and names the certificate chain.
///
/// Mirrors rcgen's `SigningKey`: a key file now, a PKCS#11 token later, without the PDF or CMS
/// code ever seeing a private key.
pub trait Signer: Send + Sync {
    /// The algorithm `sign` uses.
    fn algorithm(&self) -> SignatureAlgorithm;
    /// DER certificates: the seal certificate first, then its issuers up to the root.
    fn certificate_chain(&self) -> &[Vec<u8>];
    /// Signs `message` (the DER of the CMS signed attributes); the hash is the signer's to compute.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SealError>;
}

/// Why the seal could not be loaded or used. Never carries key material.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// A key or certificate file could not be read.
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    /// The key file is encrypted and no passphrase was given.
    #[error("{path} is encrypted: set ONESEAL_KEY_PASSPHRASE")]
    PassphraseRequired { path: String },
    /// The passphrase did not decrypt the key.
    #[error("{path}: wrong passphrase or damaged encrypted key")]
    WrongPassphrase { path: String },
    /// The key is not one this custodian can use.
    #[error("{path}: {reason}")]
    BadKey { path: String, reason: String },
    /// The certificate file is unusable or does not match the key.
    #[error("{path}: {reason}")]
    BadCertificate { path: String, reason: String },
    /// A key file could not be written.
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    /// A new key could not be generated or encoded.
    #[error("cannot generate a key: {0}")]
    KeyGeneration(String),
    /// The custodian refused or failed to sign.
    #[error("signing failed: {0}")]
    SigningFailed(String),
}
