//! `oneseal seal …`: the seal in service, and rotation to a new one without downtime.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use oneseal::seal::{CustodyKind, SealKey, Signer, inspect_key_directory, open_key_directory};
use oneseal::service::seals::{RootChange, SealLoader, rotate_seal};

use super::admin::{CONSOLE, with_registry};
use super::config::{CommonArgs, Mode, Settings};

/// The committed example seal: public to everyone, so never a production seal.
const EXAMPLE_CHAIN: &[u8] = include_bytes!("../../keys-example/seal-cert.pem");

#[derive(clap::Args)]
pub struct RotateArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The new seal's key directory, as `oneseal keygen --ca ROOT-DIR --out DIR` writes it (a key
    /// file or a PKCS#11 token key, issued by the same root as the seal in service).
    #[arg(long, value_name = "DIR")]
    keys: PathBuf,
}

/// Brings the seal in `--keys` into service: every running instance signs with it within
/// `[seal] rotation_check_seconds`, or at once on its next issuance.
pub fn rotate(args: RotateArgs) -> anyhow::Result<()> {
    let settings = Settings::resolve(&args.common, None)?;
    let dir = std::fs::canonicalize(&args.keys)
        .with_context(|| format!("cannot find the key directory {}", args.keys.display()))?;
    let (seal, custody) = load_checked_seal(&settings, &dir)?;
    let location = location_of(&dir)?;
    let check = settings.seal_check_interval.as_secs();
    with_registry(&args.common, |registry| async move {
        let now_ms = oneseal::service::now_ms();
        let record = rotate_seal(
            &registry,
            &seal,
            (&location, custody.as_str()),
            RootChange::Refused,
            CONSOLE,
            now_ms,
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot bring the seal in {location} into service: {e}"))?;
        println!(
            "seal in service: generation {} ({}), certificate {}",
            record.generation, record.seal.custody, record.seal.fingerprint
        );
        println!("  {}", record.seal.subject);
        println!("  from {}", record.seal.location);
        println!(
            "running services sign with it within {check} s (at once on their next issuance); licences signed before still verify"
        );
        Ok(())
    })
}

/// Every seal ever in service, the one in service last.
pub fn list(common: CommonArgs) -> anyhow::Result<()> {
    with_registry(&common, |registry| async move {
        for seal in registry.seals().await? {
            let state = match seal.retired_at_ms {
                None => "in service".to_owned(),
                Some(ms) => format!("retired {}", oneseal::service::verification::rfc3339(ms)),
            };
            println!(
                "{}\t{}\t{}\t{}\tuntil {}\t{}\t{}",
                seal.generation,
                seal.seal.fingerprint,
                state,
                seal.seal.custody,
                oneseal::service::verification::rfc3339(seal.seal.not_after_ms),
                seal.seal.location,
                seal.seal.subject
            );
        }
        Ok(())
    })
}

/// The seal in `dir`, with the checks production applies to any seal it signs with.
pub fn load_checked_seal(
    settings: &Settings,
    dir: &Path,
) -> anyhow::Result<(SealKey, CustodyKind)> {
    let seal = open_key_directory(dir, &settings.seal_secrets)
        .with_context(|| format!("cannot load the seal from {}", dir.display()))?;
    let custody = inspect_key_directory(dir)?;
    if settings.mode == Mode::Production {
        refuse_unsafe_seal(dir, &seal, &custody)?;
    }
    Ok((seal, custody.kind))
}

/// How a running service loads a seal a rotation brought in: never at a prompt.
pub fn seal_loader(settings: &Settings) -> SealLoader {
    let mut settings = settings.clone();
    settings.seal_secrets.prompt = false;
    Arc::new(move |location: &str| {
        load_checked_seal(&settings, Path::new(location))
            .map(|(seal, _)| Arc::new(seal) as Arc<dyn Signer>)
            .map_err(|error| format!("{error:#}"))
    })
}

/// The key directory as the registry records it: an absolute path every instance can open.
pub fn location_of(dir: &Path) -> anyhow::Result<String> {
    let absolute = std::fs::canonicalize(dir)
        .with_context(|| format!("cannot find the key directory {}", dir.display()))?;
    absolute
        .to_str()
        .map(str::to_owned)
        .with_context(|| format!("{} is not a UTF-8 path", absolute.display()))
}

/// Production refuses development and example seals, unencrypted keys, and keys others can read.
fn refuse_unsafe_seal(
    dir: &Path,
    seal: &SealKey,
    custody: &oneseal::seal::KeyCustody,
) -> anyhow::Result<()> {
    let chain = std::fs::read(dir.join(oneseal::seal::CHAIN_FILE)).unwrap_or_default();
    let subject = seal.subject();
    if custody.development || subject.contains("开发测试") {
        bail!(
            "production refuses the development seal in {}",
            dir.display()
        );
    }
    if chain == EXAMPLE_CHAIN || subject.contains("（示例）") {
        bail!(
            "production refuses the published example seal in {}",
            dir.display()
        );
    }
    let CustodyKind::File {
        encrypted,
        private_to_owner,
    } = custody.kind
    else {
        // The key never leaves its token; the PIN file's permissions were checked on reading.
        return Ok(());
    };
    let key_file = dir.join(oneseal::seal::KEY_FILE);
    if !encrypted {
        bail!(
            "production refuses an unencrypted key: {} must be an ENCRYPTED PRIVATE KEY (give keygen a passphrase through ONESEAL_KEY_PASSPHRASE_FILE, ONESEAL_KEY_PASSPHRASE or the terminal)",
            key_file.display()
        );
    }
    if !private_to_owner {
        bail!(
            "production refuses a key file others can read: chmod 600 {}",
            key_file.display()
        );
    }
    Ok(())
}
