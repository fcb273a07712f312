//! Key files on disk: P-256 keys as PKCS#8 PEM (plain or PBES2-encrypted), the certificate chain
//! beside them, and the [`KeyFileSigner`] they make. Key bytes stay in `Zeroizing` buffers.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

use der::{Decode, SecretDocument, pem::LineEnding};
use pkcs8::{EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef, pkcs5};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use zeroize::Zeroizing;

use super::{SealError, SignatureAlgorithm, Signer};

/// The seal's private key inside a key directory.
pub const KEY_FILE: &str = "seal-key.pem";
/// The seal certificate followed by its issuers, inside a key directory.
pub const CHAIN_FILE: &str = "seal-cert.pem";

/// PBKDF2-HMAC-SHA256 rounds for encrypted keys: OWASP's 2023 advice for PBKDF2-SHA256.
///
/// PBKDF2 with AES-256-CBC (RFC 8018 §6.2) rather than scrypt: every OpenSSL since 1.0 reads it,
/// while OpenSSL's default scrypt memory cap refuses some scrypt parameters.
const PBKDF2_ITERATIONS: u32 = 600_000;

const PLAIN_LABEL: &str = "PRIVATE KEY";
/// A P-256 PKCS#8 PEM is well under 1 KiB, encrypted or not; anything this big is not a key.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
const ENCRYPTED_LABEL: &str = "ENCRYPTED PRIVATE KEY";

/// Signs with a P-256 key read from a PKCS#8 file, for the certificate chain read beside it.
pub struct KeyFileSigner {
    // ring keeps the private scalar inside `EcdsaKeyPair`; the PKCS#8 bytes it came from are
    // zeroized as soon as it is built.
    key: EcdsaKeyPair,
    rng: SystemRandom,
    chain: Vec<Vec<u8>>,
    subject: String,
}

impl KeyFileSigner {
    /// Builds a signer from a PKCS#8 key PEM ("PRIVATE KEY" or "ENCRYPTED PRIVATE KEY", the
    /// latter needing `passphrase`) and a PEM chain whose first certificate holds the key's
    /// public half.
    pub fn from_pem(
        key_pem: &[u8],
        chain_pem: &[u8],
        passphrase: Option<&[u8]>,
    ) -> Result<KeyFileSigner, SealError> {
        Self::from_named_pem(
            (key_pem, "seal key"),
            (chain_pem, "certificate chain"),
            passphrase,
        )
    }

    /// The seal certificate's subject, as an RFC 4514 string.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub(super) fn from_named_pem(
        (key_pem, key_name): (&[u8], &str),
        (chain_pem, chain_name): (&[u8], &str),
        passphrase: Option<&[u8]>,
    ) -> Result<KeyFileSigner, SealError> {
        let rng = SystemRandom::new();
        let pkcs8 = decode_private_key(key_pem, key_name, passphrase)?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8, &rng).map_err(
            |rejected| SealError::BadKey {
                path: key_name.to_owned(),
                reason: format!("not a usable P-256 PKCS#8 key ({rejected})"),
            },
        )?;
        let chain = decode_chain(chain_pem).map_err(|reason| SealError::BadCertificate {
            path: chain_name.to_owned(),
            reason,
        })?;
        let subject = matching_subject(&chain, key.public_key().as_ref()).map_err(|reason| {
            SealError::BadCertificate {
                path: chain_name.to_owned(),
                reason,
            }
        })?;
        Ok(KeyFileSigner {
            key,
            rng,
            chain,
            subject,
        })
    }
}

impl Signer for KeyFileSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::EcdsaP256Sha256
    }

    fn certificate_chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SealError> {
        let signature = self
            .key
            .sign(&self.rng, message)
            .map_err(|_| SealError::SigningFailed("ECDSA P-256 signing failed".to_owned()))?;
        Ok(signature.as_ref().to_vec())
    }
}

impl fmt::Debug for KeyFileSigner {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("KeyFileSigner")
            .field("algorithm", &SignatureAlgorithm::EcdsaP256Sha256)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// A P-256 key in memory, generated here or read from a PKCS#8 file (a CA's key): it signs
/// certificates and CRLs through rcgen's `SigningKey` seam and is saved as PKCS#8, so issuing a
/// certificate never needs the key's bytes outside this module.
pub struct SoftwareKey {
    pkcs8: Zeroizing<Vec<u8>>,
    key: EcdsaKeyPair,
    rng: SystemRandom,
}

impl SoftwareKey {
    /// Generates a key from the operating system's random number generator.
    pub fn generate() -> Result<SoftwareKey, SealError> {
        let rng = SystemRandom::new();
        let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| SealError::KeyGeneration("the random number generator failed".into()))?;
        let pkcs8 = Zeroizing::new(document.as_ref().to_vec());
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8, &rng)
            .map_err(|rejected| SealError::KeyGeneration(rejected.to_string()))?;
        Ok(SoftwareKey { pkcs8, key, rng })
    }

    /// Reads a PKCS#8 PEM key file, taking its passphrase from `secrets` when it is encrypted.
    pub fn load(path: &Path, secrets: &super::SecretSources) -> Result<SoftwareKey, SealError> {
        let name = path.display().to_string();
        let pem = read_secret_file(path)?;
        let passphrase = if is_encrypted(&pem) {
            Some(
                secrets
                    .passphrase(&name)?
                    .ok_or_else(|| SealError::PassphraseRequired { path: name.clone() })?,
            )
        } else {
            None
        };
        let pkcs8 = decode_private_key(&pem, &name, passphrase.as_ref().map(|p| p.as_slice()))?;
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8, &rng).map_err(
            |rejected| SealError::BadKey {
                path: name,
                reason: format!("not a usable P-256 PKCS#8 key ({rejected})"),
            },
        )?;
        Ok(SoftwareKey { pkcs8, key, rng })
    }

    /// The key as PKCS#8 PEM: "ENCRYPTED PRIVATE KEY" (PBES2, PBKDF2-SHA256, AES-256-CBC) when a
    /// passphrase is given, "PRIVATE KEY" otherwise.
    pub fn to_pkcs8_pem(&self, passphrase: Option<&[u8]>) -> Result<Zeroizing<String>, SealError> {
        let failed = |error: &dyn fmt::Display| SealError::KeyGeneration(error.to_string());
        let (label, document) = match passphrase {
            None => (
                PLAIN_LABEL,
                SecretDocument::try_from(self.pkcs8.as_slice()).map_err(|e| failed(&e))?,
            ),
            Some(passphrase) => (ENCRYPTED_LABEL, self.encrypt(passphrase)?),
        };
        document
            .to_pem(label, LineEnding::LF)
            .map_err(|e| failed(&e))
    }

    /// Writes [`Self::to_pkcs8_pem`] to a new file readable by its owner only (mode 0600);
    /// an existing file is never overwritten.
    pub fn write_pkcs8_pem(&self, path: &Path, passphrase: Option<&[u8]>) -> Result<(), SealError> {
        let pem = self.to_pkcs8_pem(passphrase)?;
        write_new_private_file(path, pem.as_bytes())
    }

    fn encrypt(&self, passphrase: &[u8]) -> Result<SecretDocument, SealError> {
        let failed = |error: &dyn fmt::Display| {
            SealError::KeyGeneration(format!("cannot encrypt the key: {error}"))
        };
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        self.rng
            .fill(&mut salt)
            .and_then(|()| self.rng.fill(&mut iv))
            .map_err(|_| failed(&"the random number generator failed"))?;
        let parameters = pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
            PBKDF2_ITERATIONS,
            &salt,
            iv,
        )
        .map_err(|e| failed(&e))?;
        PrivateKeyInfoRef::from_der(&self.pkcs8)
            .map_err(|e| failed(&e))?
            .encrypt_with_params(parameters, passphrase)
            .map_err(|e| failed(&e))
    }
}

impl rcgen::PublicKeyData for SoftwareKey {
    fn der_bytes(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for SoftwareKey {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let signature = self
            .key
            .sign(&self.rng, message)
            .map_err(|_| rcgen::Error::RingUnspecified)?;
        Ok(signature.as_ref().to_vec())
    }
}

impl fmt::Debug for SoftwareKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SoftwareKey")
            .field("algorithm", &SignatureAlgorithm::EcdsaP256Sha256)
            .finish_non_exhaustive()
    }
}

/// The PKCS#8 DER inside `pem`, decrypted when it is an "ENCRYPTED PRIVATE KEY" (RFC 5958 §3).
fn decode_private_key(
    pem: &[u8],
    name: &str,
    passphrase: Option<&[u8]>,
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let bad_key = |reason: String| SealError::BadKey {
        path: name.to_owned(),
        reason,
    };
    let text = std::str::from_utf8(pem).map_err(|_| bad_key("not a PEM file".to_owned()))?;
    let (label, document) = SecretDocument::from_pem(text)
        .map_err(|error| bad_key(format!("not a PEM private key ({error})")))?;
    match label {
        PLAIN_LABEL => Ok(document.to_bytes()),
        ENCRYPTED_LABEL => {
            let passphrase = passphrase.ok_or_else(|| SealError::PassphraseRequired {
                path: name.to_owned(),
            })?;
            let encrypted = EncryptedPrivateKeyInfoRef::try_from(document.as_bytes())
                .map_err(|error| bad_key(format!("damaged encrypted key ({error})")))?;
            match encrypted.decrypt(passphrase) {
                Ok(decrypted) => Ok(decrypted.to_bytes()),
                Err(pkcs8::Error::EncryptedPrivateKey(
                    error @ (pkcs5::Error::UnsupportedAlgorithm { .. }
                    | pkcs5::Error::AlgorithmParametersInvalid { .. }
                    | pkcs5::Error::NoPbes1CryptSupport),
                )) => Err(bad_key(format!("unsupported key encryption ({error})"))),
                // A bad padding or a garbled plaintext: almost always the passphrase.
                Err(_) => Err(SealError::WrongPassphrase {
                    path: name.to_owned(),
                }),
            }
        }
        other => Err(bad_key(format!(
            "expected a PKCS#8 \"{PLAIN_LABEL}\" or \"{ENCRYPTED_LABEL}\" PEM block, found \"{other}\""
        ))),
    }
}

/// Every certificate in `pem`, in file order, as the DER bytes found there (never re-encoded, so
/// hashes over them match what others compute).
pub(super) fn decode_chain(pem: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    const END: &[u8] = b"-----END CERTIFICATE-----";
    let mut rest = pem.trim_ascii();
    let mut chain = Vec::new();
    while !rest.is_empty() {
        let end = rest
            .windows(END.len())
            .position(|window| window == END)
            .map(|start| start + END.len())
            .ok_or_else(|| format!("certificate {} has no END line", chain.len() + 1))?;
        let (block, tail) = rest.split_at_checked(end).unwrap_or((rest, &[]));
        let (label, der) = der::pem::decode_vec(block)
            .map_err(|error| format!("certificate {}: bad PEM ({error})", chain.len() + 1))?;
        if label != "CERTIFICATE" {
            return Err(format!(
                "expected CERTIFICATE blocks only, found \"{label}\""
            ));
        }
        x509_cert::Certificate::from_der(&der)
            .map_err(|error| format!("certificate {}: not DER X.509 ({error})", chain.len() + 1))?;
        chain.push(der);
        rest = tail.trim_ascii_start();
    }
    if chain.is_empty() {
        return Err("no certificates found".to_owned());
    }
    Ok(chain)
}

/// The first certificate's subject, once its SubjectPublicKeyInfo is shown to be `public_key`.
fn matching_subject(chain: &[Vec<u8>], public_key: &[u8]) -> Result<String, String> {
    let (certified, subject) = seal_public_key(chain)?;
    if certified != public_key {
        return Err(format!(
            "the first certificate ({subject}) is not for this private key"
        ));
    }
    Ok(subject)
}

/// The first certificate's P-256 public point (RFC 5480 §2) and its subject.
pub(super) fn seal_public_key(chain: &[Vec<u8>]) -> Result<(Vec<u8>, String), String> {
    const EC_PUBLIC_KEY: der::asn1::ObjectIdentifier =
        der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    const PRIME256V1: der::asn1::ObjectIdentifier =
        der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

    let first = chain.first().ok_or("no certificates found")?;
    let certificate = x509_cert::Certificate::from_der(first).map_err(|error| error.to_string())?;
    let tbs = certificate.tbs_certificate();
    let spki = tbs.subject_public_key_info();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|parameters| parameters.decode_as::<der::asn1::ObjectIdentifier>().ok());
    if spki.algorithm.oid != EC_PUBLIC_KEY || curve != Some(PRIME256V1) {
        return Err(format!(
            "the first certificate ({}) is not for a P-256 key",
            tbs.subject()
        ));
    }
    Ok((
        spki.subject_public_key.raw_bytes().to_vec(),
        tbs.subject().to_string(),
    ))
}

/// Whether a PEM key file holds an "ENCRYPTED PRIVATE KEY", read without decoding it.
pub(super) fn is_encrypted(pem: &[u8]) -> bool {
    let begin = format!("-----BEGIN {ENCRYPTED_LABEL}-----");
    pem.windows(begin.len())
        .any(|window| window == begin.as_bytes())
}

/// Reads a key file into a buffer sized up front, so no stray copy of it is left by a regrowth.
pub(super) fn read_secret_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let failed = |error: std::io::Error| SealError::Read {
        path: path.display().to_string(),
        reason: error.to_string(),
    };
    let mut file = File::open(path).map_err(failed)?;
    let length = file.metadata().map_err(failed)?.len();
    if length > MAX_KEY_FILE_BYTES {
        return Err(SealError::BadKey {
            path: path.display().to_string(),
            reason: format!("{length} bytes is far too large for a key file"),
        });
    }
    let capacity = usize::try_from(length).unwrap_or(0).saturating_add(1);
    let mut contents = Zeroizing::new(Vec::with_capacity(capacity));
    file.read_to_end(&mut contents).map_err(failed)?;
    Ok(contents)
}

/// Creates `path` with mode 0600 (never replacing a file) and writes `contents` to it.
fn write_new_private_file(path: &Path, contents: &[u8]) -> Result<(), SealError> {
    write_new_file(path, contents, 0o600)
}

/// Creates `path` with `mode` (never replacing a file), writes `contents` and syncs; on failure
/// nothing truncated is left behind.
pub fn write_new_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), SealError> {
    use std::os::unix::fs::OpenOptionsExt;

    let failed = |error: std::io::Error| SealError::Write {
        path: path.display().to_string(),
        reason: error.to_string(),
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(failed)?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    if let Err(error) = written {
        // The write error is the one worth reporting.
        let _ = std::fs::remove_file(path);
        return Err(failed(error));
    }
    Ok(())
}

/// A file whose presence marks a key directory as made for development only.
pub const DEVELOPMENT_MARKER: &str = "DEVELOPMENT-ONLY";
