//! A SoftHSM2 token of the test's own (its own token directory), as an HSM would hold the seal.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use super::{Run, SETUP_HINT, oneseal_binary, require_tool, run};

/// Debian's SoftHSM2 PKCS#11 module (package softhsm2).
pub const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The user PIN every test token is given.
pub const PIN: &str = "20261126";
/// The passphrase of the key files `SoftHsm::keygen` writes or reads (a root CA's).
pub const ROOT_PASSPHRASE: &str = "root passphrase 根";

/// An initialised token, its configuration, and a PIN file readable by its owner only.
pub struct SoftHsm {
    pub dir: TempDir,
    pub conf: PathBuf,
    pub token: String,
    pub pin_file: PathBuf,
}

impl SoftHsm {
    /// A fresh token labelled `token`, with user PIN [`PIN`].
    pub fn new(token: &str) -> SoftHsm {
        assert!(
            Path::new(SOFTHSM_MODULE).is_file(),
            "{SOFTHSM_MODULE} missing: {SETUP_HINT}"
        );
        let dir = TempDir::new().expect("temp dir");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).expect("token dir");
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .expect("softhsm2.conf");
        let initialised = run(Command::new(require_tool("softhsm2-util"))
            .env("SOFTHSM2_CONF", &conf)
            .args(["--init-token", "--free", "--label", token])
            .args(["--pin", PIN, "--so-pin", "87654321"]));
        assert!(initialised.ok(), "{}", initialised.describe());
        let pin_file = dir.path().join("pin");
        write_private(&pin_file, &format!("{PIN}\n"));
        SoftHsm {
            dir,
            conf,
            token: token.to_owned(),
            pin_file,
        }
    }

    /// What a process needs to reach the token and log in.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SOFTHSM2_CONF", self.conf.display().to_string()),
            (
                "ONESEAL_PKCS11_PIN_FILE",
                self.pin_file.display().to_string(),
            ),
        ]
    }

    /// `oneseal keygen --pkcs11` into `out`, with `extra` arguments; key files (a new root's) are
    /// encrypted with `passphrase`.
    pub fn keygen(&self, out: &Path, key_label: &str, extra: &[&str]) -> Run {
        let mut command = Command::new(oneseal_binary());
        command
            .args(["keygen", "--pkcs11", "--module", SOFTHSM_MODULE, "--token"])
            .arg(&self.token)
            .args(["--key-label", key_label, "--out"])
            .arg(out)
            .args(extra)
            .env_remove("ONESEAL_KEY_PASSPHRASE")
            .env_remove("ONESEAL_PKCS11_PIN")
            .env("ONESEAL_KEY_PASSPHRASE", ROOT_PASSPHRASE);
        for (key, value) in self.env() {
            command.env(key, value);
        }
        run(&mut command)
    }
}

/// Writes `contents` to a new file of mode 0600.
pub fn write_private(path: &Path, contents: &str) {
    std::fs::write(path, contents).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}
