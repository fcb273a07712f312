//! Where the key file's passphrase and the token's PIN come from: a file, the environment or the
//! terminal, never a command-line argument (which every user of the machine can read in
//! /proc/PID/cmdline). Secret files must be private to their owner.

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::SealError;

/// The environment variable holding the key files' passphrase.
pub const PASSPHRASE_VARIABLE: &str = "ONESEAL_KEY_PASSPHRASE";
/// The environment variable naming a file that holds the key files' passphrase.
pub const PASSPHRASE_FILE_VARIABLE: &str = "ONESEAL_KEY_PASSPHRASE_FILE";
/// The environment variable holding the PKCS#11 token's user PIN.
pub const PIN_VARIABLE: &str = "ONESEAL_PKCS11_PIN";
/// The environment variable naming a file that holds the PKCS#11 token's user PIN.
pub const PIN_FILE_VARIABLE: &str = "ONESEAL_PKCS11_PIN_FILE";

/// A passphrase or PIN file is a line of text; anything this big is a mistake.
const MAX_SECRET_FILE_BYTES: u64 = 4096;

/// Where to look for secrets, in order: a file, the environment, then (when allowed and a
/// terminal is attached) a prompt.
#[derive(Clone, Debug, Default)]
pub struct SecretSources {
    /// A file holding the key files' passphrase.
    pub passphrase_file: Option<PathBuf>,
    /// A file holding the token's user PIN.
    pub pin_file: Option<PathBuf>,
    /// Ask on the terminal when nothing else gives the secret.
    pub prompt: bool,
}

impl SecretSources {
    /// The files named by `ONESEAL_KEY_PASSPHRASE_FILE` and `ONESEAL_PKCS11_PIN_FILE`, and a
    /// prompt when standard input is a terminal.
    pub fn from_env() -> SecretSources {
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
        };
        SecretSources {
            passphrase_file: path(PASSPHRASE_FILE_VARIABLE),
            pin_file: path(PIN_FILE_VARIABLE),
            prompt: std::io::stdin().is_terminal(),
        }
    }

    /// Never asks: for servers started by a supervisor, and for tests.
    pub fn without_prompt(mut self) -> SecretSources {
        self.prompt = false;
        self
    }

    /// The passphrase for `what` (a key file), if any source has one.
    pub fn passphrase(&self, what: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SealError> {
        self.find(
            self.passphrase_file.as_deref(),
            PASSPHRASE_VARIABLE,
            &format!("passphrase for {what}: "),
        )
    }

    /// The PIN of `token`; required.
    pub fn pin(&self, token: &str) -> Result<Zeroizing<Vec<u8>>, SealError> {
        self.find(
            self.pin_file.as_deref(),
            PIN_VARIABLE,
            &format!("user PIN of PKCS#11 token {token:?}: "),
        )?
        .ok_or_else(|| SealError::PinRequired {
            token: token.to_owned(),
        })
    }

    fn find(
        &self,
        file: Option<&Path>,
        variable: &str,
        prompt: &str,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, SealError> {
        if let Some(path) = file {
            return read_secret_line(path).map(Some);
        }
        if let Some(value) = from_variable(variable) {
            return Ok(Some(value));
        }
        if self.prompt {
            return ask(prompt).map(Some);
        }
        Ok(None)
    }
}

/// The passphrase in `ONESEAL_KEY_PASSPHRASE`, if set and not empty; taken as raw bytes.
pub fn passphrase_from_env() -> Option<Zeroizing<Vec<u8>>> {
    from_variable(PASSPHRASE_VARIABLE)
}

fn from_variable(name: &str) -> Option<Zeroizing<Vec<u8>>> {
    use std::os::unix::ffi::OsStringExt;

    let value = Zeroizing::new(std::env::var_os(name)?.into_vec());
    (!value.is_empty()).then_some(value)
}

/// The first line of a secret file (its line ending dropped), refused when the group or others
/// may read it.
pub fn read_secret_line(path: &Path) -> Result<Zeroizing<Vec<u8>>, SealError> {
    use std::os::unix::fs::PermissionsExt;

    let failed = |error: std::io::Error| SealError::Read {
        path: path.display().to_string(),
        reason: error.to_string(),
    };
    let mut file = File::open(path).map_err(failed)?;
    let metadata = file.metadata().map_err(failed)?;
    if metadata.permissions().mode() & 0o077 != 0 {
        return Err(SealError::ExposedSecret {
            path: path.display().to_string(),
        });
    }
    if metadata.len() > MAX_SECRET_FILE_BYTES {
        return Err(SealError::BadKey {
            path: path.display().to_string(),
            reason: format!(
                "{} bytes is far too large for a passphrase or PIN file",
                metadata.len()
            ),
        });
    }
    let mut contents = Zeroizing::new(Vec::with_capacity(MAX_SECRET_FILE_BYTES as usize + 1));
    file.read_to_end(&mut contents).map_err(failed)?;
    let line_end = contents
        .iter()
        .position(|&byte| byte == b'\n')
        .unwrap_or(contents.len());
    contents.truncate(line_end);
    if contents.last() == Some(&b'\r') {
        contents.pop();
    }
    if contents.is_empty() {
        return Err(SealError::BadKey {
            path: path.display().to_string(),
            reason: "the file is empty".to_owned(),
        });
    }
    Ok(contents)
}

fn ask(prompt: &str) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let answer =
        Zeroizing::new(
            rpassword::prompt_password(prompt).map_err(|error| SealError::Read {
                path: "the terminal".to_owned(),
                reason: error.to_string(),
            })?,
        );
    Ok(Zeroizing::new(answer.as_bytes().to_vec()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn secret_file(contents: &[u8], mode: u32) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        (dir, path)
    }

    #[test]
    fn a_secret_file_gives_its_first_line() {
        let (_dir, path) = secret_file(b"correct horse\r\nignored\n", 0o600);
        assert_eq!(
            read_secret_line(&path).unwrap().as_slice(),
            b"correct horse"
        );
        let (_dir, path) = secret_file(b"1234", 0o400);
        assert_eq!(read_secret_line(&path).unwrap().as_slice(), b"1234");
    }

    #[test]
    fn a_secret_file_others_can_read_is_refused() {
        let (_dir, path) = secret_file(b"1234\n", 0o640);
        let error = read_secret_line(&path).unwrap_err().to_string();
        assert!(error.contains("chmod 600"), "{error}");
        assert!(!error.contains("1234"), "{error}");
    }

    #[test]
    fn empty_and_huge_secret_files_are_refused() {
        let (_dir, path) = secret_file(b"\n", 0o600);
        assert!(read_secret_line(&path).is_err());
        let (_dir, path) = secret_file(&[b'a'; 5000], 0o600);
        assert!(read_secret_line(&path).is_err());
    }

    #[test]
    fn a_file_source_wins_and_a_missing_pin_is_named() {
        let (_dir, path) = secret_file(b"from-file\n", 0o600);
        let sources = SecretSources {
            passphrase_file: Some(path.clone()),
            pin_file: Some(path),
            prompt: false,
        };
        assert_eq!(
            sources.passphrase("k").unwrap().unwrap().as_slice(),
            b"from-file"
        );
        assert_eq!(sources.pin("t").unwrap().as_slice(), b"from-file");
        let none = SecretSources::default();
        if std::env::var_os(PIN_VARIABLE).is_none() {
            let error = none.pin("oneseal").unwrap_err().to_string();
            assert!(error.contains("ONESEAL_PKCS11_PIN"), "{error}");
        }
    }
}
