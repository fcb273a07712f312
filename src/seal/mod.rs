//! Key custody: the `Signer` seam and its backends. The only module that ever holds key bytes.

mod directory;
mod keyfile;
mod pkcs11;
mod secrets;

pub use directory::{
    CustodyKind, KeyCustody, SealKey, TOKEN_FILE, inspect_key_directory, load_key_directory,
    open_key_directory, read_token_file, write_token_file,
};
pub use keyfile::{
    CHAIN_FILE, DEVELOPMENT_MARKER, KEY_FILE, KeyFileSigner, SoftwareKey, write_new_file,
};
pub use pkcs11::{Pkcs11Signer, TokenKey, TokenPublicKey, generate_in_token};
pub use secrets::{
    PASSPHRASE_FILE_VARIABLE, PASSPHRASE_VARIABLE, PIN_FILE_VARIABLE, PIN_VARIABLE, SecretSources,
    passphrase_from_env, read_secret_line,
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
/// Mirrors rcgen's `SigningKey`: a key file or a PKCS#11 token, without the PDF or CMS code ever
/// seeing a private key.
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
    #[error(
        "{path} is encrypted: give its passphrase in a file named by ONESEAL_KEY_PASSPHRASE_FILE, in ONESEAL_KEY_PASSPHRASE, or at the terminal"
    )]
    PassphraseRequired { path: String },
    /// The token needs its user PIN and none was given.
    #[error(
        "PKCS#11 token {token:?} needs its user PIN: give it in a file named by ONESEAL_PKCS11_PIN_FILE, in ONESEAL_PKCS11_PIN, or at the terminal"
    )]
    PinRequired { token: String },
    /// The token refused the PIN.
    #[error("PKCS#11 token {token:?}: wrong user PIN")]
    WrongPin { token: String },
    /// A passphrase or PIN file that the group or others may read.
    #[error("{path} holds a secret but others may read it: chmod 600 {path}")]
    ExposedSecret { path: String },
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
