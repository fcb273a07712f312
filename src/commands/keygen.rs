//! `oneseal keygen`: create a root CA, the seal certificate it issues, and both keys, as files.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use der::pem::LineEnding;
use oneseal::pki::{
    CreditCode, SealSubject, Serial, Validity, issue_root_certificate, issue_seal_certificate,
};
use oneseal::seal::{
    CHAIN_FILE, GeneratedKey, KEY_FILE, PASSPHRASE_VARIABLE, SealError, passphrase_from_env,
};
use ring::rand::{SecureRandom, SystemRandom};
use time::{Duration, OffsetDateTime};

const DEFAULT_ORGANIZATION: &str = "新乡经济技术开发区行政审批局";
const DEFAULT_SEAL_NAME: &str = "新乡经济技术开发区行政审批局行政审批专用章";
/// The root CA certificate: the trust anchor verifiers are given.
const ROOT_CERTIFICATE_FILE: &str = "root-ca.pem";
/// The root CA's private key, needed only to issue seal certificates.
const ROOT_KEY_FILE: &str = "root-ca-key.pem";
/// The root lives at least this long (ten years), and never less than the seal certificate.
const ROOT_MINIMUM_DAYS: u32 = 3650;

/// Arguments of `oneseal keygen`.
///
/// Private keys are encrypted (PKCS#8 PBES2) with ONESEAL_KEY_PASSPHRASE when it is set.
#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Directory to write root-ca.pem, root-ca-key.pem, seal-cert.pem and seal-key.pem into;
    /// created if missing. Existing files are never overwritten.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Organization (O) named by both certificates.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_ORGANIZATION)]
    org: String,
    /// The seal's name, the seal certificate's common name (CN).
    #[arg(long, value_name = "NAME", default_value = DEFAULT_SEAL_NAME)]
    seal_name: String,
    /// Unified social credit code (GB 32100-2015, 18 characters) for organizationIdentifier.
    #[arg(long, value_name = "CODE")]
    credit_code: Option<String>,
    /// Days the seal certificate is valid (the root: at least 3650, and at least this).
    #[arg(long, value_name = "N", default_value_t = 1095,
          value_parser = clap::value_parser!(u32).range(1..=36500))]
    days: u32,
}

/// Issues the root and seal certificates and writes the four files, or writes nothing.
pub fn run(args: KeygenArgs) -> anyhow::Result<()> {
    let credit_code = args
        .credit_code
        .as_deref()
        .map(CreditCode::parse)
        .transpose()?;
    let subject = SealSubject::new(&args.org, &args.seal_name, credit_code)?;
    let passphrase = passphrase_from_env();
    let passphrase = passphrase.as_ref().map(|bytes| bytes.as_slice());
    let (paths, validity) = create_key_directory(&args.out, &subject, args.days, passphrase)?;
    report(&paths, &subject, &validity, passphrase.is_some());
    Ok(())
}

/// Writes a new root CA, the seal certificate it issues and both keys into `dir`, all or none;
/// refuses when any of the files exists. `oneseal serve` uses it for its development seal.
pub fn create_key_directory(
    dir: &Path,
    subject: &SealSubject,
    days: u32,
    passphrase: Option<&[u8]>,
) -> anyhow::Result<(OutputPaths, Validity)> {
    let paths = OutputPaths::new(dir);
    paths.refuse_existing()?;
    let issued = issue(subject, days, OffsetDateTime::now_utc())?;
    let root_pem = certificate_pem(&issued.root_certificate)?;
    let chain_pem = format!("{}{root_pem}", certificate_pem(&issued.seal_certificate)?);
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    paths.write_all_or_nothing(|written| {
        issued
            .root_key
            .write_pkcs8_pem(&paths.root_key, passphrase)?;
        written.push(&paths.root_key);
        issued
            .seal_key
            .write_pkcs8_pem(&paths.seal_key, passphrase)?;
        written.push(&paths.seal_key);
        write_new_public_file(&paths.root_certificate, root_pem.as_bytes())?;
        written.push(&paths.root_certificate);
        write_new_public_file(&paths.chain, chain_pem.as_bytes())
    })?;
    Ok((paths, issued.seal_validity))
}

struct Issued {
    root_key: GeneratedKey,
    seal_key: GeneratedKey,
    root_certificate: Vec<u8>,
    seal_certificate: Vec<u8>,
    seal_validity: Validity,
}

/// Generates both keys and issues both certificates, valid from an hour before `now` (slack for
/// verifiers whose clocks run behind); the root lasts at least as long as the seal.
fn issue(subject: &SealSubject, days: u32, now: OffsetDateTime) -> anyhow::Result<Issued> {
    let rng = SystemRandom::new();
    let not_before = now - Duration::hours(1);
    let root_days = days.max(ROOT_MINIMUM_DAYS);
    let root_validity = Validity::new(not_before, now + Duration::days(root_days.into()))?;
    let seal_validity = Validity::new(not_before, now + Duration::days(days.into()))?;

    let root_key = GeneratedKey::generate()?;
    let seal_key = GeneratedKey::generate()?;
    let root_certificate = issue_root_certificate(
        &root_key,
        subject.organization(),
        &root_validity,
        &random_serial(&rng)?,
    )?;
    let seal_certificate = issue_seal_certificate(
        &seal_key,
        subject,
        &root_certificate,
        &root_key,
        &seal_validity,
        &random_serial(&rng)?,
        None,
    )?;
    Ok(Issued {
        root_key,
        seal_key,
        root_certificate,
        seal_certificate,
        seal_validity,
    })
}

/// The four files `keygen` writes.
pub struct OutputPaths {
    root_certificate: PathBuf,
    root_key: PathBuf,
    chain: PathBuf,
    seal_key: PathBuf,
}

impl OutputPaths {
    fn new(dir: &Path) -> OutputPaths {
        OutputPaths {
            root_certificate: dir.join(ROOT_CERTIFICATE_FILE),
            root_key: dir.join(ROOT_KEY_FILE),
            chain: dir.join(CHAIN_FILE),
            seal_key: dir.join(KEY_FILE),
        }
    }

    fn all(&self) -> [&Path; 4] {
        [
            &self.root_certificate,
            &self.root_key,
            &self.chain,
            &self.seal_key,
        ]
    }

    /// Checked before anything is generated or written; `create_new` still guards the race.
    fn refuse_existing(&self) -> anyhow::Result<()> {
        for path in self.all() {
            // symlink_metadata: a dangling symlink counts as existing too.
            if fs::symlink_metadata(path).is_ok() {
                bail!(
                    "{} already exists; keygen never overwrites keys or certificates",
                    path.display()
                );
            }
        }
        Ok(())
    }

    /// Runs `write`, and on failure removes the files it completed, so no half set is left.
    /// (A file that failed midway is removed by its writer.)
    fn write_all_or_nothing<'a>(
        &'a self,
        write: impl FnOnce(&mut Vec<&'a Path>) -> Result<(), SealError>,
    ) -> anyhow::Result<()> {
        let mut written = Vec::new();
        let result = write(&mut written);
        if result.is_err() {
            for path in written {
                // Best effort: the error being reported matters more than a failed clean-up.
                let _ = fs::remove_file(path);
            }
        }
        Ok(result?)
    }
}

/// A positive 128-bit serial from the system RNG (RFC 5280 §4.1.2.2; CA/B BR §7.1 want ≥64 bits).
fn random_serial(rng: &SystemRandom) -> anyhow::Result<Serial> {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the system random number generator failed"))?;
    Ok(Serial::from_random_bytes(bytes))
}

fn certificate_pem(der: &[u8]) -> anyhow::Result<String> {
    der::pem::encode_string("CERTIFICATE", LineEnding::LF, der)
        .map_err(|error| anyhow::anyhow!("cannot PEM-encode a certificate: {error}"))
}

fn write_new_public_file(path: &Path, contents: &[u8]) -> Result<(), SealError> {
    oneseal::seal::write_new_file(path, contents, 0o644)
}

fn report(paths: &OutputPaths, subject: &SealSubject, validity: &Validity, encrypted: bool) {
    println!(
        "seal certificate: CN={} O={}",
        subject.seal_name(),
        subject.organization()
    );
    if let Some(code) = subject.credit_code() {
        println!("  organizationIdentifier: {code}");
    }
    println!("  valid until {} (UTC)", validity.not_after().date());
    for path in paths.all() {
        println!("wrote {}", path.display());
    }
    if !encrypted {
        eprintln!(
            "warning: the private keys are NOT encrypted; set {PASSPHRASE_VARIABLE} to encrypt them"
        );
    }
}
