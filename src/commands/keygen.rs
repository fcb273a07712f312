//! `oneseal keygen`: create the seal's key (in a file or inside a PKCS#11 token) and the seal
//! certificate, issued by a new root CA or by an existing one (`--ca`, for rotation).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use der::pem::LineEnding;
use oneseal::pki::{
    CreditCode, EndEntityProfile, SealSubject, Serial, Validity, crl_url,
    issue_end_entity_certificate, issue_root_certificate,
};
use oneseal::seal::{
    CHAIN_FILE, KEY_FILE, SealError, SecretSources, SoftwareKey, TOKEN_FILE, TokenKey,
    TokenPublicKey, generate_in_token, write_token_file,
};
use rcgen::PublicKeyData;
use ring::rand::{SecureRandom, SystemRandom};
use time::{Duration, OffsetDateTime};

const DEFAULT_ORGANIZATION: &str = "新乡经济技术开发区行政审批局";
const DEFAULT_SEAL_NAME: &str = "新乡经济技术开发区行政审批局行政审批专用章";
/// The root CA certificate: the trust anchor verifiers are given.
pub const ROOT_CERTIFICATE_FILE: &str = "root-ca.pem";
/// The root CA's private key, needed only to issue seal certificates and CRLs.
pub const ROOT_KEY_FILE: &str = "root-ca-key.pem";
/// The root lives at least this long (twenty years), and never less than the seal certificate:
/// it must outlive the TSA certificates under it, whose timestamps carry licences for a decade.
const ROOT_MINIMUM_DAYS: u32 = 7305;
/// A seal certificate's default life (three years).
const SEAL_DEFAULT_DAYS: u32 = 1095;
/// A TSA certificate's default life (twelve years): a licence timestamped today still verifies
/// ten years on, offline, as long as its newest timestamp's certificate is valid then
/// (archive renewal, docs/ltv.md, adds a newer one before that).
pub const TSA_DEFAULT_DAYS: u32 = 4383;

/// Arguments of `oneseal keygen`.
///
/// New private key files are encrypted (PKCS#8 PBES2) with the passphrase from the file named by
/// ONESEAL_KEY_PASSPHRASE_FILE, from ONESEAL_KEY_PASSPHRASE, or asked at the terminal. A token's
/// PIN comes from ONESEAL_PKCS11_PIN_FILE, ONESEAL_PKCS11_PIN or the terminal.
#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Directory to write the seal's files into (seal-cert.pem, and seal-key.pem or
    /// seal-pkcs11.toml; root-ca.pem and root-ca-key.pem too without --ca); created if missing.
    /// Existing files are never overwritten.
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
    /// Days the certificate is valid: 1095 for a seal, 4383 (twelve years) with --tsa. A new
    /// root lives at least 7305 days (twenty years), and at least this.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=36500))]
    days: Option<u32>,
    /// Issue the seal certificate from the root CA kept in DIR (root-ca.pem, root-ca-key.pem)
    /// instead of creating a new root: how a rotated seal stays under the same trust anchor.
    #[arg(long, value_name = "DIR")]
    ca: Option<PathBuf>,
    /// The service's public origin (e.g. https://zwfw.example.gov.cn): the seal certificate then
    /// names the CRL the service publishes at URL/crl/<root key id>.crl.
    #[arg(long, value_name = "URL")]
    crl_base_url: Option<String>,
    /// Generate the seal key inside a PKCS#11 token (it never leaves it) instead of a key file.
    #[arg(long, requires_all = ["module", "token"])]
    pkcs11: bool,
    /// The token vendor's PKCS#11 library (with --pkcs11).
    #[arg(long, value_name = "PATH", requires = "pkcs11")]
    module: Option<PathBuf>,
    /// The token's label (with --pkcs11).
    #[arg(long, value_name = "LABEL", requires = "pkcs11")]
    token: Option<String>,
    /// The new key's label inside the token (with --pkcs11; default oneseal-seal-DATE-RANDOM).
    #[arg(long, value_name = "LABEL", requires = "pkcs11")]
    key_label: Option<String>,
    /// Make the built-in time-stamping authority's key and certificate instead of a seal's
    /// (extendedKeyUsage timeStamping, critical), issued by the root in --ca. Its CN is
    /// "<org> 时间戳服务"; the directory is then `[tsa] keys` (docs/tsa.md).
    #[arg(long, requires = "ca")]
    tsa: bool,
}

/// The TSA certificate's common name for `organization`.
pub fn tsa_common_name(organization: &str) -> String {
    format!("{organization} 时间戳服务")
}

/// Issues the seal certificate (and a root, unless `--ca`), and writes the files, or nothing.
pub fn run(args: KeygenArgs) -> anyhow::Result<()> {
    let credit_code = args
        .credit_code
        .as_deref()
        .map(CreditCode::parse)
        .transpose()?;
    let profile = if args.tsa {
        EndEntityProfile::TimeStamping
    } else {
        EndEntityProfile::Seal
    };
    let name = match profile {
        EndEntityProfile::Seal => args.seal_name.clone(),
        EndEntityProfile::TimeStamping => tsa_common_name(&args.org),
    };
    let subject = SealSubject::new(&args.org, &name, credit_code)?;
    let days = args.days.unwrap_or(match profile {
        EndEntityProfile::Seal => SEAL_DEFAULT_DAYS,
        EndEntityProfile::TimeStamping => TSA_DEFAULT_DAYS,
    });
    let secrets = SecretSources::from_env();
    let now = OffsetDateTime::now_utc();
    let root = match &args.ca {
        Some(dir) => Root::load(dir, &secrets)?,
        None => Root::create(&subject, days, now)?,
    };
    let seal_key = match token_key(&args, now)? {
        Some(location) => {
            let pin = secrets.pin(&location.token)?;
            let public = generate_in_token(&location, &pin)
                .with_context(|| format!("cannot generate the seal key in {location}"))?;
            NewSealKey::Token(location, public)
        }
        None => NewSealKey::File(SoftwareKey::generate()?),
    };
    let passphrase = if seal_key.needs_passphrase() || args.ca.is_none() {
        new_passphrase(&secrets)?
    } else {
        None
    };
    let plan = SealPlan {
        subject: &subject,
        days,
        crl_base_url: args.crl_base_url.as_deref(),
        now,
    };
    let written = write_key_directory(
        &args.out,
        (&root, profile),
        &seal_key,
        &plan,
        passphrase.as_ref().map(|p| p.as_slice()),
    )?;
    report(
        &written,
        profile,
        &subject,
        passphrase.is_some() || !seal_key.needs_passphrase(),
    );
    Ok(())
}

/// What a new seal certificate says: its subject, how long it lasts, where its CRL is.
pub struct SealPlan<'a> {
    pub subject: &'a SealSubject,
    pub days: u32,
    pub crl_base_url: Option<&'a str>,
    pub now: OffsetDateTime,
}

/// Writes a new root CA, the seal certificate it issues and both keys into `dir`, all or none;
/// refuses when any of the files exists. `oneseal serve` uses it for its development seal.
pub fn create_key_directory(
    dir: &Path,
    plan: &SealPlan<'_>,
    passphrase: Option<&[u8]>,
) -> anyhow::Result<Written> {
    let root = Root::create(plan.subject, plan.days, plan.now)?;
    let seal_key = NewSealKey::File(SoftwareKey::generate()?);
    write_key_directory(
        dir,
        (&root, EndEntityProfile::Seal),
        &seal_key,
        plan,
        passphrase,
    )
}

/// Writes a TSA key directory into `dir`: a new key file and its TSA certificate, issued by
/// the root kept in `ca_dir` (its key's passphrase from `secrets`). `oneseal serve` uses it
/// for its development TSA, under the development seal's root.
pub fn create_tsa_directory(
    ca_dir: &Path,
    dir: &Path,
    plan: &SealPlan<'_>,
    secrets: &SecretSources,
    passphrase: Option<&[u8]>,
) -> anyhow::Result<Written> {
    let root = Root::load(ca_dir, secrets)?;
    let key = NewSealKey::File(SoftwareKey::generate()?);
    write_key_directory(
        dir,
        (&root, EndEntityProfile::TimeStamping),
        &key,
        plan,
        passphrase,
    )
}

/// The root CA that issues the seal certificate: new (its key to be written), or loaded.
struct Root {
    key: SoftwareKey,
    certificate: Vec<u8>,
    is_new: bool,
}

impl Root {
    /// Generates a root valid from an hour before `now` (slack for verifiers whose clocks run
    /// behind) for at least ten years and at least as long as the seal.
    fn create(subject: &SealSubject, days: u32, now: OffsetDateTime) -> anyhow::Result<Root> {
        let root_days = days.max(ROOT_MINIMUM_DAYS);
        let validity = Validity::new(
            now - Duration::hours(1),
            now + Duration::days(root_days.into()),
        )?;
        let key = SoftwareKey::generate()?;
        let certificate = issue_root_certificate(
            &key,
            subject.organization(),
            &validity,
            &random_serial(&SystemRandom::new())?,
        )?;
        Ok(Root {
            key,
            certificate,
            is_new: true,
        })
    }

    /// The root in `dir`, its key shown to be the certificate's.
    fn load(dir: &Path, secrets: &SecretSources) -> anyhow::Result<Root> {
        let certificate_path = dir.join(ROOT_CERTIFICATE_FILE);
        let pem = fs::read(&certificate_path)
            .with_context(|| format!("cannot read {}", certificate_path.display()))?;
        let (_, block) = x509_parser::pem::parse_x509_pem(&pem).map_err(|e| {
            anyhow::anyhow!(
                "{}: not a PEM certificate ({e})",
                certificate_path.display()
            )
        })?;
        let certificate = block.contents;
        let key = SoftwareKey::load(&dir.join(ROOT_KEY_FILE), secrets)?;
        let (_, parsed) = x509_parser::parse_x509_certificate(&certificate)
            .map_err(|e| anyhow::anyhow!("{}: {e}", certificate_path.display()))?;
        if parsed.public_key().subject_public_key.data.as_ref() != key.der_bytes() {
            bail!(
                "{} is not the certificate of {}",
                certificate_path.display(),
                dir.join(ROOT_KEY_FILE).display()
            );
        }
        Ok(Root {
            key,
            certificate,
            is_new: false,
        })
    }
}

/// The new seal's key: a file to write, or a key already made inside a token.
enum NewSealKey {
    File(SoftwareKey),
    Token(TokenKey, TokenPublicKey),
}

impl NewSealKey {
    fn needs_passphrase(&self) -> bool {
        matches!(self, NewSealKey::File(_))
    }
}

impl rcgen::PublicKeyData for NewSealKey {
    fn der_bytes(&self) -> &[u8] {
        match self {
            NewSealKey::File(key) => key.der_bytes(),
            NewSealKey::Token(_, public) => public.der_bytes(),
        }
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

/// The token key `--pkcs11` asks for, with a fresh label unless one is given.
fn token_key(args: &KeygenArgs, now: OffsetDateTime) -> anyhow::Result<Option<TokenKey>> {
    let (true, Some(module), Some(token)) = (args.pkcs11, &args.module, &args.token) else {
        return Ok(None);
    };
    let key = match &args.key_label {
        Some(label) => label.clone(),
        None => {
            let mut suffix = [0u8; 3];
            SystemRandom::new()
                .fill(&mut suffix)
                .map_err(|_| anyhow::anyhow!("the system random number generator failed"))?;
            let date = now.date();
            format!(
                "oneseal-seal-{:04}{:02}{:02}-{:02x}{:02x}{:02x}",
                date.year(),
                u8::from(date.month()),
                date.day(),
                suffix[0],
                suffix[1],
                suffix[2]
            )
        }
    };
    Ok(Some(TokenKey {
        module: module.clone(),
        token: token.clone(),
        key,
    }))
}

/// The passphrase for new key files; asked twice at a terminal, since a typo loses the key.
fn new_passphrase(secrets: &SecretSources) -> anyhow::Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
    let first = secrets.passphrase("the new key files")?;
    if secrets.prompt
        && secrets.passphrase_file.is_none()
        && oneseal::seal::passphrase_from_env().is_none()
    {
        let again = secrets.passphrase("the new key files (again)")?;
        if first != again {
            bail!("the two passphrases differ; nothing was written");
        }
    }
    Ok(first)
}

/// Issues the seal certificate for `seal_key` from `root` and writes the key directory.
fn write_key_directory(
    dir: &Path,
    (root, profile): (&Root, EndEntityProfile),
    seal_key: &NewSealKey,
    plan: &SealPlan<'_>,
    passphrase: Option<&[u8]>,
) -> anyhow::Result<Written> {
    let mut written = Written::default();
    let plan_files = planned_files(dir, root, seal_key);
    refuse_existing(&plan_files)?;
    let validity = Validity::new(
        plan.now - Duration::hours(1),
        plan.now + Duration::days(plan.days.into()),
    )?;
    let crl = plan
        .crl_base_url
        .map(|base| crl_url(base, &root.certificate))
        .transpose()?;
    let serial = random_serial(&SystemRandom::new())?;
    let issued = issue_end_entity_certificate(
        profile,
        seal_key,
        plan.subject,
        (root.certificate.as_slice(), &root.key),
        &validity,
        &serial,
        crl.as_deref(),
    );
    let seal_certificate = issued
    .with_context(|| {
        if root.is_new {
            "cannot issue the seal certificate".to_owned()
        } else {
            "cannot issue the seal certificate from the existing root (a seal certificate must end before its root does: lower --days)".to_owned()
        }
    })?;
    let root_pem = certificate_pem(&root.certificate)?;
    let chain_pem = format!("{}{root_pem}", certificate_pem(&seal_certificate)?);
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let result = (|| -> Result<(), SealError> {
        if root.is_new {
            let path = dir.join(ROOT_KEY_FILE);
            root.key.write_pkcs8_pem(&path, passphrase)?;
            written.files.push(path);
            let path = dir.join(ROOT_CERTIFICATE_FILE);
            write_new_public_file(&path, root_pem.as_bytes())?;
            written.files.push(path);
        }
        match seal_key {
            NewSealKey::File(key) => {
                let path = dir.join(KEY_FILE);
                key.write_pkcs8_pem(&path, passphrase)?;
                written.files.push(path);
            }
            NewSealKey::Token(location, _) => {
                write_token_file(dir, location)?;
                written.files.push(dir.join(TOKEN_FILE));
                written.token = Some(location.clone());
            }
        }
        let path = dir.join(CHAIN_FILE);
        write_new_public_file(&path, chain_pem.as_bytes())?;
        written.files.push(path);
        Ok(())
    })();
    if let Err(error) = result {
        for path in &written.files {
            // Best effort: the error being reported matters more than a failed clean-up.
            let _ = fs::remove_file(path);
        }
        return Err(error.into());
    }
    written.validity = Some(validity);
    written.crl_url = crl;
    Ok(written)
}

/// What keygen wrote.
#[derive(Default)]
pub struct Written {
    pub files: Vec<PathBuf>,
    pub token: Option<TokenKey>,
    pub validity: Option<Validity>,
    pub crl_url: Option<String>,
}

fn planned_files(dir: &Path, root: &Root, seal_key: &NewSealKey) -> Vec<PathBuf> {
    let mut files = vec![dir.join(CHAIN_FILE)];
    if root.is_new {
        files.push(dir.join(ROOT_CERTIFICATE_FILE));
        files.push(dir.join(ROOT_KEY_FILE));
    }
    // A directory holds one seal: neither key form may already be there.
    files.push(dir.join(KEY_FILE));
    files.push(dir.join(TOKEN_FILE));
    let _ = seal_key;
    files
}

/// Checked before anything is written; `create_new` still guards the race.
fn refuse_existing(paths: &[PathBuf]) -> anyhow::Result<()> {
    for path in paths {
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

fn report(written: &Written, profile: EndEntityProfile, subject: &SealSubject, protected: bool) {
    let kind = match profile {
        EndEntityProfile::Seal => "seal",
        EndEntityProfile::TimeStamping => "TSA",
    };
    println!(
        "{kind} certificate: CN={} O={}",
        subject.seal_name(),
        subject.organization()
    );
    if let Some(code) = subject.credit_code() {
        println!("  organizationIdentifier: {code}");
    }
    if let Some(validity) = &written.validity {
        println!("  valid until {} (UTC)", validity.not_after().date());
    }
    if let Some(url) = &written.crl_url {
        println!("  CRL distribution point: {url}");
    }
    if let Some(location) = &written.token {
        println!("seal key generated inside the token: {location}");
    }
    for path in &written.files {
        println!("wrote {}", path.display());
    }
    if !protected {
        eprintln!(
            "warning: the private keys are NOT encrypted; give a passphrase (ONESEAL_KEY_PASSPHRASE_FILE, ONESEAL_KEY_PASSPHRASE or the terminal) to encrypt them"
        );
    }
}
