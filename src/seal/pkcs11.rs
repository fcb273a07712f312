//! The seal key inside a PKCS#11 token (an HSM, or SoftHSM2 in tests): the private key never
//! leaves the token; we hand it SHA-256 digests and get ECDSA signatures back (PKCS#11 v2.40
//! §2.3.6, CKM_ECDSA).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CryptokiError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use der::Encode;
use der::asn1::UintRef;
use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use zeroize::Zeroizing;

use super::{SealError, SignatureAlgorithm, Signer};

/// DER of the named curve P-256 (prime256v1, 1.2.840.10045.3.1.7) as CKA_EC_PARAMS wants it.
const P256_PARAMETERS: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// Sessions kept open for signing; more signers wait for one.
const MAX_IDLE_SESSIONS: usize = 16;

/// Where the key lives: the vendor's module, the token's label and the key's label.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct TokenKey {
    /// The vendor's PKCS#11 library, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// CKA_LABEL of the token (as `softhsm2-util --show-slots` lists it).
    pub token: String,
    /// CKA_LABEL of the private key inside the token.
    pub key: String,
}

impl fmt::Display for TokenKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "key {:?} in token {:?} ({})",
            self.key,
            self.token,
            self.module.display()
        )
    }
}

/// Signs with a P-256 private key held by a PKCS#11 token, for a certificate chain kept beside it.
pub struct Pkcs11Signer {
    context: Pkcs11,
    slot: Slot,
    location: TokenKey,
    /// Kept to log in again should the token forget the login (a token reset).
    pin: AuthPin,
    /// Idle logged-in sessions with the key's handle in each; `Session` is not `Sync`.
    sessions: Mutex<Vec<(Session, ObjectHandle)>>,
    chain: Vec<Vec<u8>>,
    /// The seal certificate's public point: every signature is checked against it.
    public_key: Vec<u8>,
    subject: String,
}

impl Pkcs11Signer {
    /// Opens the token, logs in with `pin`, finds the key, and proves with a test signature that
    /// it belongs to the first certificate of `chain_pem`.
    pub fn open(
        location: &TokenKey,
        pin: &[u8],
        chain_pem: &[u8],
        chain_name: &str,
    ) -> Result<Pkcs11Signer, SealError> {
        let chain = super::keyfile::decode_chain(chain_pem).map_err(|reason| {
            SealError::BadCertificate {
                path: chain_name.to_owned(),
                reason,
            }
        })?;
        let (public_key, subject) = super::keyfile::seal_public_key(&chain).map_err(|reason| {
            SealError::BadCertificate {
                path: chain_name.to_owned(),
                reason,
            }
        })?;
        let pin = auth_pin(pin, location)?;
        let context = module(&location.module)?;
        let slot = find_token(&context, location)?;
        let signer = Pkcs11Signer {
            context,
            slot,
            location: location.clone(),
            pin,
            sessions: Mutex::new(Vec::new()),
            chain,
            public_key,
            subject,
        };
        let session = signer.open_session()?;
        signer.give_back(session);
        signer
            .sign(b"oneseal: does the token's key match the seal certificate?")
            .map_err(|_| SealError::BadCertificate {
                path: chain_name.to_owned(),
                reason: format!(
                    "the first certificate ({}) is not for the {}",
                    signer.subject, signer.location
                ),
            })?;
        Ok(signer)
    }

    /// The seal certificate's subject, as an RFC 4514 string.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Where the key lives.
    pub fn location(&self) -> &TokenKey {
        &self.location
    }

    fn open_session(&self) -> Result<(Session, ObjectHandle), SealError> {
        let session = self
            .context
            .open_ro_session(self.slot)
            .map_err(|error| self.failed("cannot open a session", &error))?;
        log_in(&session, &self.pin, &self.location)?;
        let key = find_private_key(&session, &self.location)?;
        Ok((session, key))
    }

    fn take_session(&self) -> Result<(Session, ObjectHandle), SealError> {
        let idle = self
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(session) => Ok(session),
            None => self.open_session(),
        }
    }

    fn give_back(&self, session: (Session, ObjectHandle)) {
        let mut idle = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE_SESSIONS {
            idle.push(session);
        }
    }

    /// r‖s from the token for `digest`, retried once on a fresh session when the one used has
    /// gone stale (the token was reset, or logged out).
    fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, SealError> {
        let (session, key) = self.take_session()?;
        match session.sign(&Mechanism::Ecdsa, key, digest) {
            Ok(signature) => {
                self.give_back((session, key));
                Ok(signature)
            }
            Err(error) if is_stale(&error) => {
                drop(session);
                let (session, key) = self.open_session()?;
                let signature = session
                    .sign(&Mechanism::Ecdsa, key, digest)
                    .map_err(|error| self.failed("the token refused to sign", &error))?;
                self.give_back((session, key));
                Ok(signature)
            }
            Err(error) => Err(self.failed("the token refused to sign", &error)),
        }
    }

    fn failed(&self, doing: &str, error: &CryptokiError) -> SealError {
        SealError::SigningFailed(format!("{}: {doing}: {error}", self.location))
    }
}

impl Signer for Pkcs11Signer {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::EcdsaP256Sha256
    }

    fn certificate_chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SealError> {
        let digest = ring::digest::digest(&ring::digest::SHA256, message);
        let raw = self.sign_digest(digest.as_ref())?;
        let signature = ecdsa_der(&raw).ok_or_else(|| {
            SealError::SigningFailed(format!(
                "{}: the token returned a {}-byte signature, not P-256 r‖s",
                self.location,
                raw.len()
            ))
        })?;
        // A fault in the token, or a key that is not the certificate's, must never reach a PDF.
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &self.public_key)
            .verify(message, &signature)
            .map_err(|_| {
                SealError::SigningFailed(format!(
                    "{}: the token's signature does not verify with the seal certificate",
                    self.location
                ))
            })?;
        Ok(signature)
    }
}

impl fmt::Debug for Pkcs11Signer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Pkcs11Signer")
            .field("location", &self.location)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Generates a P-256 key pair inside the token, labelled `location.key`, private and
/// unextractable (PKCS#11 v2.40 §2.3.4, CKM_EC_KEY_PAIR_GEN); returns its public point, the
/// uncompressed SEC 1 encoding a certificate carries. Refuses when the label is taken.
pub fn generate_in_token(location: &TokenKey, pin: &[u8]) -> Result<TokenPublicKey, SealError> {
    let pin = auth_pin(pin, location)?;
    let context = module(&location.module)?;
    let slot = find_token(&context, location)?;
    let failed = |doing: &str, error: CryptokiError| {
        SealError::KeyGeneration(format!("{location}: {doing}: {error}"))
    };
    let session = context
        .open_rw_session(slot)
        .map_err(|error| failed("cannot open a session", error))?;
    log_in(&session, &pin, location)?;
    if !labelled(&session, ObjectClass::PRIVATE_KEY, location)?.is_empty() {
        return Err(SealError::KeyGeneration(format!(
            "{location} already exists; choose another --key-label (keys are never replaced)"
        )));
    }
    let label = location.key.as_bytes().to_vec();
    let mut id = [0u8; 16];
    session
        .generate_random_slice(&mut id)
        .map_err(|error| failed("cannot draw a key id", error))?;
    let public_template = [
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::EcParams(P256_PARAMETERS.to_vec()),
        Attribute::Label(label.clone()),
        Attribute::Id(id.to_vec()),
    ];
    let private_template = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        // A seal key signs and does nothing else.
        Attribute::Decrypt(false),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
        Attribute::Label(label),
        Attribute::Id(id.to_vec()),
    ];
    let (public, _private) = session
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &public_template,
            &private_template,
        )
        .map_err(|error| failed("cannot generate the key pair", error))?;
    let attributes = session
        .get_attributes(public, &[AttributeType::EcPoint])
        .map_err(|error| failed("cannot read the public key", error))?;
    let point = attributes
        .into_iter()
        .find_map(|attribute| match attribute {
            Attribute::EcPoint(point) => Some(point),
            _ => None,
        })
        .ok_or_else(|| SealError::KeyGeneration(format!("{location}: no CKA_EC_POINT")))?;
    TokenPublicKey::from_ec_point(&point)
        .ok_or_else(|| SealError::KeyGeneration(format!("{location}: not a P-256 public point")))
}

/// A public key generated in a token: what rcgen needs to put it in a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenPublicKey {
    point: Vec<u8>,
}

impl TokenPublicKey {
    /// CKA_EC_POINT is the point wrapped in a DER OCTET STRING (PKCS#11 v2.40 §2.3.3); some tokens
    /// give the bare point. Either way, an uncompressed P-256 point is 65 bytes starting 0x04.
    fn from_ec_point(value: &[u8]) -> Option<TokenPublicKey> {
        use der::Decode;
        let point = match der::asn1::OctetString::from_der(value) {
            Ok(inner) => inner.as_bytes().to_vec(),
            Err(_) => value.to_vec(),
        };
        (point.len() == 65 && point.first() == Some(&0x04)).then_some(TokenPublicKey { point })
    }
}

impl rcgen::PublicKeyData for TokenPublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.point
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

/// The module's context, loaded and initialised once per process: a second `C_Initialize`
/// fails, and finalising one context would end every session of the others.
fn module(path: &Path) -> Result<Pkcs11, SealError> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut modules = MODULES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(context) = modules.get(path) {
        return Ok(context.clone());
    }
    let failed = |reason: String| SealError::Read {
        path: path.display().to_string(),
        reason,
    };
    if !path.is_file() {
        return Err(failed(
            "no such PKCS#11 module (on Debian, SoftHSM2's is /usr/lib/softhsm/libsofthsm2.so)"
                .to_owned(),
        ));
    }
    let context = Pkcs11::new(path)
        .map_err(|error| failed(format!("cannot load the PKCS#11 module: {error}")))?;
    match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CryptokiError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(error) => {
            return Err(failed(format!(
                "cannot initialise the PKCS#11 module: {error}"
            )));
        }
    }
    modules.insert(path.to_path_buf(), context.clone());
    Ok(context)
}

/// The slot holding the token labelled `location.token`; the error lists the tokens present.
fn find_token(context: &Pkcs11, location: &TokenKey) -> Result<Slot, SealError> {
    let failed = |reason: String| SealError::BadKey {
        path: location.to_string(),
        reason,
    };
    let slots = context
        .get_slots_with_initialized_token()
        .map_err(|error| failed(format!("cannot list the token slots: {error}")))?;
    let mut present = Vec::new();
    for slot in slots {
        let info = context
            .get_token_info(slot)
            .map_err(|error| failed(format!("cannot read a token's label: {error}")))?;
        // Labels are blank-padded to 32 bytes; cryptoki trims them.
        let label = info.label().trim_end().to_owned();
        if label == location.token {
            return Ok(slot);
        }
        present.push(format!("{label:?}"));
    }
    Err(failed(format!(
        "no token labelled {:?} (tokens present: {})",
        location.token,
        if present.is_empty() {
            "none".to_owned()
        } else {
            present.join(", ")
        }
    )))
}

fn log_in(session: &Session, pin: &AuthPin, location: &TokenKey) -> Result<(), SealError> {
    match session.login(UserType::User, Some(pin)) {
        // PKCS#11 logs in per application, not per session: a second login is refused as done.
        Ok(()) | Err(CryptokiError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(CryptokiError::Pkcs11(RvError::PinIncorrect, _)) => Err(SealError::WrongPin {
            token: location.token.clone(),
        }),
        Err(CryptokiError::Pkcs11(RvError::PinLocked, _)) => Err(SealError::BadKey {
            path: location.to_string(),
            reason: "the token's user PIN is locked (too many wrong PINs); the security officer must reset it".to_owned(),
        }),
        Err(error) => Err(SealError::BadKey {
            path: location.to_string(),
            reason: format!("cannot log in: {error}"),
        }),
    }
}

/// The one private EC key labelled `location.key`.
fn find_private_key(session: &Session, location: &TokenKey) -> Result<ObjectHandle, SealError> {
    let found = labelled(session, ObjectClass::PRIVATE_KEY, location)?;
    match found.as_slice() {
        [key] => Ok(*key),
        [] => Err(SealError::BadKey {
            path: location.to_string(),
            reason: format!(
                "no private key labelled {:?} in the token (generate one with `oneseal keygen --pkcs11`)",
                location.key
            ),
        }),
        several => Err(SealError::BadKey {
            path: location.to_string(),
            reason: format!(
                "{} private keys are labelled {:?}; the seal's label must be unique",
                several.len(),
                location.key
            ),
        }),
    }
}

fn labelled(
    session: &Session,
    class: ObjectClass,
    location: &TokenKey,
) -> Result<Vec<ObjectHandle>, SealError> {
    session
        .find_objects(&[
            Attribute::Class(class),
            Attribute::KeyType(KeyType::EC),
            Attribute::Label(location.key.as_bytes().to_vec()),
        ])
        .map_err(|error| SealError::BadKey {
            path: location.to_string(),
            reason: format!("cannot search the token: {error}"),
        })
}

fn auth_pin(pin: &[u8], location: &TokenKey) -> Result<AuthPin, SealError> {
    let text = Zeroizing::new(
        std::str::from_utf8(pin)
            .map_err(|_| SealError::BadKey {
                path: location.to_string(),
                reason: "the PIN is not UTF-8 text".to_owned(),
            })?
            .trim_end_matches(['\n', '\r'])
            .to_owned(),
    );
    if text.is_empty() {
        return Err(SealError::PinRequired {
            token: location.token.clone(),
        });
    }
    Ok(AuthPin::new(text.as_str().into()))
}

/// Errors after which a new session (and login) may succeed.
fn is_stale(error: &CryptokiError) -> bool {
    matches!(
        error,
        CryptokiError::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::UserNotLoggedIn
                | RvError::KeyHandleInvalid
                | RvError::ObjectHandleInvalid,
            _
        )
    )
}

/// CKM_ECDSA's r‖s (two 32-byte big-endian integers) as the DER `Ecdsa-Sig-Value` CMS carries
/// (RFC 5480 §2.2 / RFC 5758 §3.2).
fn ecdsa_der(raw: &[u8]) -> Option<Vec<u8>> {
    #[derive(der::Sequence)]
    struct EcdsaSigValue<'a> {
        r: UintRef<'a>,
        s: UintRef<'a>,
    }
    if raw.len() != 64 {
        return None;
    }
    let (r, s) = raw.split_at(32);
    let value = EcdsaSigValue {
        r: UintRef::new(r).ok()?,
        s: UintRef::new(s).ok()?,
    };
    value.to_der().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn raw_signatures_become_der_integers() {
        let mut raw = [0u8; 64];
        raw[0] = 0x80; // r needs a leading zero to stay positive
        raw[63] = 1; // s is 1 after its leading zeros are dropped
        let der = ecdsa_der(&raw).unwrap();
        assert_eq!(&der[..5], &[0x30, 0x26, 0x02, 0x21, 0x00]);
        assert_eq!(&der[der.len() - 3..], &[0x02, 0x01, 0x01]);
        assert!(ecdsa_der(&raw[..63]).is_none());
    }

    #[test]
    fn ec_points_are_unwrapped_from_their_octet_string() {
        let mut point = vec![0x04];
        point.extend([7u8; 64]);
        let mut wrapped = vec![0x04, 0x41];
        wrapped.extend(&point);
        assert_eq!(
            TokenPublicKey::from_ec_point(&wrapped).unwrap().point,
            point
        );
        assert_eq!(TokenPublicKey::from_ec_point(&point).unwrap().point, point);
        assert!(TokenPublicKey::from_ec_point(&point[..64]).is_none());
    }

    #[test]
    fn a_missing_module_is_named() {
        let location = TokenKey {
            module: "/nonexistent/libpkcs11.so".into(),
            token: "t".into(),
            key: "k".into(),
        };
        let error = Pkcs11Signer::open(&location, b"1234", b"", "chain").unwrap_err();
        assert!(error.to_string().contains("certificate"), "{error}");
        let error = module(&location.module).unwrap_err().to_string();
        assert!(error.contains("/nonexistent/libpkcs11.so"), "{error}");
        assert!(error.contains("no such PKCS#11 module"), "{error}");
    }
}
