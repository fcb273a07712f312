//! A key directory: the seal certificate chain (`seal-cert.pem`) beside either the key itself
//! (`seal-key.pem`, PKCS#8) or the address of a key inside a PKCS#11 token (`seal-pkcs11.toml`).
//! One directory is one seal; rotating the seal means bringing another directory into service.

use std::fmt;
use std::path::Path;

use super::keyfile::{is_encrypted, read_secret_file};
use super::pkcs11::{Pkcs11Signer, TokenKey};
use super::secrets::SecretSources;
use super::{CHAIN_FILE, DEVELOPMENT_MARKER, KEY_FILE, KeyFileSigner, SealError, Signer};
use super::{SignatureAlgorithm, keyfile};

/// Names the token key of a key directory whose private key lives in a PKCS#11 token.
pub const TOKEN_FILE: &str = "seal-pkcs11.toml";
/// `seal-pkcs11.toml` is three short lines.
const MAX_TOKEN_FILE_BYTES: u64 = 4096;

/// The seal's key, wherever it is kept.
pub enum SealKey {
    /// A PKCS#8 key file, decrypted into memory.
    File(KeyFileSigner),
    /// A key that never leaves its PKCS#11 token.
    Token(Pkcs11Signer),
}

impl SealKey {
    /// The seal certificate's subject, as an RFC 4514 string.
    pub fn subject(&self) -> &str {
        match self {
            SealKey::File(signer) => signer.subject(),
            SealKey::Token(signer) => signer.subject(),
        }
    }
}

impl Signer for SealKey {
    fn algorithm(&self) -> SignatureAlgorithm {
        match self {
            SealKey::File(signer) => signer.algorithm(),
            SealKey::Token(signer) => signer.algorithm(),
        }
    }

    fn certificate_chain(&self) -> &[Vec<u8>] {
        match self {
            SealKey::File(signer) => signer.certificate_chain(),
            SealKey::Token(signer) => signer.certificate_chain(),
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SealError> {
        match self {
            SealKey::File(signer) => signer.sign(message),
            SealKey::Token(signer) => signer.sign(message),
        }
    }
}

impl fmt::Debug for SealKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealKey::File(signer) => signer.fmt(formatter),
            SealKey::Token(signer) => signer.fmt(formatter),
        }
    }
}

/// Loads the seal of `dir`, with secrets from the environment (or the terminal, when attached).
pub fn load_key_directory(dir: &Path) -> Result<SealKey, SealError> {
    open_key_directory(dir, &SecretSources::from_env())
}

/// Loads the seal of `dir`, taking the key file's passphrase or the token's PIN from `secrets`.
pub fn open_key_directory(dir: &Path, secrets: &SecretSources) -> Result<SealKey, SealError> {
    let chain_path = dir.join(CHAIN_FILE);
    let chain_pem = std::fs::read(&chain_path).map_err(|error| SealError::Read {
        path: chain_path.display().to_string(),
        reason: error.to_string(),
    })?;
    let chain_name = chain_path.display().to_string();
    match read_token_file(dir)? {
        Some(location) => {
            let pin = secrets.pin(&location.token)?;
            Pkcs11Signer::open(&location, &pin, &chain_pem, &chain_name).map(SealKey::Token)
        }
        None => {
            let key_path = dir.join(KEY_FILE);
            let key_name = key_path.display().to_string();
            let key_pem = read_secret_file(&key_path)?;
            let passphrase = if is_encrypted(&key_pem) {
                Some(secrets.passphrase(&key_name)?.ok_or_else(|| {
                    SealError::PassphraseRequired {
                        path: key_name.clone(),
                    }
                })?)
            } else {
                None
            };
            KeyFileSigner::from_named_pem(
                (&key_pem, &key_name),
                (&chain_pem, &chain_name),
                passphrase.as_ref().map(|bytes| bytes.as_slice()),
            )
            .map(SealKey::File)
        }
    }
}

/// Writes `seal-pkcs11.toml` naming `location`: it holds no secret (the PIN is supplied apart).
pub fn write_token_file(dir: &Path, location: &TokenKey) -> Result<(), SealError> {
    let text = toml::to_string(location).map_err(|error| SealError::Write {
        path: dir.join(TOKEN_FILE).display().to_string(),
        reason: error.to_string(),
    })?;
    let contents = format!(
        "# The seal's private key lives in this PKCS#11 token; the PIN comes from\n\
         # ONESEAL_PKCS11_PIN_FILE, ONESEAL_PKCS11_PIN or the terminal.\n{text}"
    );
    keyfile::write_new_file(&dir.join(TOKEN_FILE), contents.as_bytes(), 0o644)
}

/// The token key named by `dir/seal-pkcs11.toml`, if the directory has one; refuses a directory
/// holding both a key file and a token file, since which one signs would be a guess.
pub fn read_token_file(dir: &Path) -> Result<Option<TokenKey>, SealError> {
    use std::io::Read;

    let path = dir.join(TOKEN_FILE);
    let failed = |reason: String| SealError::BadKey {
        path: path.display().to_string(),
        reason,
    };
    let mut file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(failed(error.to_string())),
    };
    if dir.join(KEY_FILE).exists() {
        return Err(failed(format!(
            "the directory also holds {KEY_FILE}; keep either the key file or the token's address"
        )));
    }
    let mut text = String::new();
    file.by_ref()
        .take(MAX_TOKEN_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|error| failed(error.to_string()))?;
    if text.len() as u64 > MAX_TOKEN_FILE_BYTES {
        return Err(failed("far too large for a token address".to_owned()));
    }
    let location: TokenKey = toml::from_str(&text).map_err(|error| {
        failed(
            error
                .to_string()
                .lines()
                .collect::<Vec<_>>()
                .join(" ")
                .to_string(),
        )
    })?;
    if location.token.is_empty() || location.key.is_empty() {
        return Err(failed("token and key labels may not be empty".to_owned()));
    }
    Ok(Some(location))
}

/// How a key directory keeps its key, read without decrypting anything: what production mode
/// checks before it will sign with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCustody {
    /// Where the private key is.
    pub kind: CustodyKind,
    /// The directory carries the development marker.
    pub development: bool,
}

/// Where the private key of a key directory is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustodyKind {
    /// A PKCS#8 file.
    File {
        /// PBES2-encrypted ("ENCRYPTED PRIVATE KEY").
        encrypted: bool,
        /// Neither the group nor others may read or write it.
        private_to_owner: bool,
    },
    /// Inside a PKCS#11 token.
    Token(TokenKey),
}

impl CustodyKind {
    /// `file` or `pkcs11`, as the registry records it.
    pub fn as_str(&self) -> &'static str {
        match self {
            CustodyKind::File { .. } => "file",
            CustodyKind::Token(_) => "pkcs11",
        }
    }
}

/// Inspects `dir`'s key (or token address) and marker.
pub fn inspect_key_directory(dir: &Path) -> Result<KeyCustody, SealError> {
    use std::os::unix::fs::PermissionsExt;

    let development = dir.join(DEVELOPMENT_MARKER).exists();
    if let Some(location) = read_token_file(dir)? {
        return Ok(KeyCustody {
            kind: CustodyKind::Token(location),
            development,
        });
    }
    let key_path = dir.join(KEY_FILE);
    let mode = std::fs::metadata(&key_path)
        .map_err(|error| SealError::Read {
            path: key_path.display().to_string(),
            reason: error.to_string(),
        })?
        .permissions()
        .mode();
    let pem = read_secret_file(&key_path)?;
    Ok(KeyCustody {
        kind: CustodyKind::File {
            encrypted: is_encrypted(&pem),
            private_to_owner: mode & 0o077 == 0,
        },
        development,
    })
}
