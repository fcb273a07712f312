//! `oneseal ca revoke` and `oneseal ca crl`: the seal's root CA revokes certificates and issues
//! its CRL (RFC 5280 §5), keeping its revocation state beside its key; `oneseal crl publish`
//! stores a CRL in the service's registry, from where `/crl/{SKI}.crl` serves it
//! (docs/revocation.md).

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use oneseal::pki::{
    CertificateSerial, CrlContents, CrlNumber, MAX_CRL_BYTES, RevocationReason,
    RevokedCertificateEntry, issue_crl, root_key_identifier_hex,
};
use oneseal::seal::{SecretSources, SoftwareKey};
use oneseal::service::revocation::{CrlPublished, CrlSummary, publish_crl};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::config::CommonArgs;
use super::keygen::{ROOT_CERTIFICATE_FILE, ROOT_KEY_FILE};

/// What the CA has revoked and the last CRL number it used.
const STATE_FILE: &str = "crl-state.json";
/// The newest CRL, DER.
const CRL_FILE: &str = "root-ca.crl";
/// Held while the state and the CRL are rewritten, so two runs cannot issue the same number.
const LOCK_FILE: &str = ".crl-state.lock";
/// Clock slack allowed for `--at` ahead of now.
const FUTURE_SLACK: Duration = Duration::minutes(1);

/// Why the certificate is revoked (RFC 5280 §5.3.1).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Reason {
    /// The private key is known or suspected to be in other hands.
    KeyCompromise,
    /// Replaced by a new certificate (a seal rotation), no compromise.
    Superseded,
    /// The seal is no longer used.
    CessationOfOperation,
    /// The organization's name or other details changed.
    AffiliationChanged,
}

impl Reason {
    fn reason(self) -> RevocationReason {
        match self {
            Reason::KeyCompromise => RevocationReason::KeyCompromise,
            Reason::Superseded => RevocationReason::Superseded,
            Reason::CessationOfOperation => RevocationReason::CessationOfOperation,
            Reason::AffiliationChanged => RevocationReason::AffiliationChanged,
        }
    }
}

/// Arguments of `oneseal ca revoke`.
///
/// An encrypted root key's passphrase comes from ONESEAL_KEY_PASSPHRASE_FILE,
/// ONESEAL_KEY_PASSPHRASE or the terminal.
#[derive(clap::Args)]
pub struct RevokeArgs {
    /// The CA's key directory (root-ca.pem, root-ca-key.pem), as `oneseal keygen` wrote it.
    #[arg(long = "ca", value_name = "DIR")]
    ca: PathBuf,
    /// The serial number of the certificate to revoke, hex (`:` separators allowed).
    #[arg(long, value_name = "HEX", required_unless_present = "certificate")]
    serial: Option<String>,
    /// The certificate to revoke (PEM, its first certificate, or DER); it must be this CA's.
    #[arg(long, value_name = "FILE", conflicts_with = "serial")]
    certificate: Option<PathBuf>,
    /// Why it is revoked.
    #[arg(long, value_enum, default_value = "key-compromise")]
    reason: Reason,
    /// When the revocation takes effect, RFC 3339 (default: now); may lie in the past.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Since when the key is known or suspected to be compromised (RFC 5280 §5.3.2), RFC 3339.
    #[arg(long, value_name = "RFC3339")]
    invalid_since: Option<String>,
    /// Days until the CRL's nextUpdate: issue a fresh one (`oneseal ca crl`) before then.
    #[arg(long, value_name = "N", default_value_t = 7,
          value_parser = clap::value_parser!(u32).range(1..=366))]
    next_update_days: u32,
}

/// Arguments of `oneseal ca crl`.
#[derive(clap::Args)]
pub struct CrlArgs {
    /// The CA's key directory (root-ca.pem, root-ca-key.pem).
    #[arg(long = "ca", value_name = "DIR")]
    ca: PathBuf,
    /// Days until the CRL's nextUpdate.
    #[arg(long, value_name = "N", default_value_t = 7,
          value_parser = clap::value_parser!(u32).range(1..=366))]
    next_update_days: u32,
}

/// Arguments of `oneseal crl publish`.
#[derive(clap::Args)]
pub struct PublishArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The CRL, DER or PEM (e.g. DIR/root-ca.crl from `oneseal ca revoke`).
    file: PathBuf,
}

/// The CA's revocation state, kept in `DIR/crl-state.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaState {
    /// The root's subject key identifier: the state belongs to this root only.
    issuer_key_identifier: String,
    /// The number of the last CRL issued (0: none yet).
    last_number: u64,
    revoked: Vec<RevokedRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokedRecord {
    /// Uppercase hex.
    serial: String,
    /// RFC 3339.
    revoked_at: String,
    reason: RevocationReason,
    invalid_since: Option<String>,
}

/// Revokes one certificate and writes the new CRL.
pub fn revoke(args: RevokeArgs) -> anyhow::Result<()> {
    let ca = Authority::open(&args.ca)?;
    let _lock = ca.lock()?;
    let mut state = ca.state()?;
    let serial = match (&args.serial, &args.certificate) {
        (Some(hex), _) => CertificateSerial::parse_hex(hex)
            .with_context(|| format!("--serial {hex:?} is not a positive hexadecimal number"))?,
        (None, Some(path)) => ca.serial_of(path)?,
        (None, None) => bail!("name the certificate: --serial HEX or --certificate FILE"),
    };
    if let Some(earlier) = state
        .revoked
        .iter()
        .find(|r| CertificateSerial::parse_hex(&r.serial).as_ref() == Some(&serial))
    {
        bail!(
            "certificate {serial} is already revoked (since {}, {}); `oneseal ca crl` issues a fresh CRL",
            earlier.revoked_at,
            earlier.reason
        );
    }
    let now = OffsetDateTime::now_utc().replace_nanosecond(0)?;
    let at = time_argument("--at", args.at.as_deref())?.unwrap_or(now);
    let invalid_since = time_argument("--invalid-since", args.invalid_since.as_deref())?;
    if at > now + FUTURE_SLACK || invalid_since.is_some_and(|t| t > now + FUTURE_SLACK) {
        bail!(
            "a revocation cannot take effect in the future: --at and --invalid-since must not be after now"
        );
    }
    state.revoked.push(RevokedRecord {
        serial: serial.to_hex(),
        revoked_at: rfc3339(at)?,
        reason: args.reason.reason(),
        invalid_since: invalid_since.map(rfc3339).transpose()?,
    });
    let issued = ca.issue(&mut state, now, args.next_update_days)?;
    println!(
        "revoked certificate {serial} ({}) as of {}",
        args.reason.reason(),
        rfc3339(at)?
    );
    issued.report(&ca.dir);
    Ok(())
}

/// Re-issues the CRL with a higher number and a fresh nextUpdate; revokes nothing new.
pub fn crl(args: CrlArgs) -> anyhow::Result<()> {
    let ca = Authority::open(&args.ca)?;
    let _lock = ca.lock()?;
    let mut state = ca.state()?;
    let now = OffsetDateTime::now_utc().replace_nanosecond(0)?;
    ca.issue(&mut state, now, args.next_update_days)?
        .report(&ca.dir);
    Ok(())
}

/// Development only: a fresh CRL from the development seal's own root (with whatever
/// `oneseal ca revoke --ca` recorded there), so the URL its certificate names answers.
pub fn development_crl(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let ca = Authority::open(dir)?;
    let _lock = ca.lock()?;
    let mut state = ca.state()?;
    let now = OffsetDateTime::now_utc().replace_nanosecond(0)?;
    ca.issue(&mut state, now, DEVELOPMENT_CRL_DAYS)?;
    std::fs::read(dir.join(CRL_FILE)).with_context(|| format!("cannot read {CRL_FILE}"))
}

/// How long a development CRL lasts; each start issues a new one.
const DEVELOPMENT_CRL_DAYS: u32 = 7;

/// Stores a CRL in the registry `oneseal serve` uses, as the console. It must be signed by the
/// root of a seal the registry knows (`oneseal seal list`).
pub fn publish(args: PublishArgs) -> anyhow::Result<()> {
    let bytes = super::read_limited(&args.file, MAX_CRL_BYTES * 2, "publish")?;
    let file = args.file.display().to_string();
    super::admin::with_registry(&args.common, |registry| async move {
        let roots = seal_roots(&registry).await?;
        let now_ms = i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
            .unwrap_or(i64::MAX);
        let published = publish_crl(&registry, &roots, &bytes, "console", now_ms)
            .await
            .map_err(|e| anyhow::anyhow!("cannot publish {file}: {e}"))?;
        let (verb, summary) = match &published {
            CrlPublished::New(summary) => ("published", summary),
            CrlPublished::Unchanged(summary) => ("already published", summary),
        };
        print_summary(verb, summary);
        Ok(())
    })
}

/// A key directory's root: its certificate (DER), and where its files are.
struct Authority {
    dir: PathBuf,
    root: Vec<u8>,
    key_identifier: String,
}

/// A CRL just written.
struct Issued {
    number: CrlNumber,
    next_update: OffsetDateTime,
    entries: usize,
}

impl Authority {
    fn open(dir: &Path) -> anyhow::Result<Authority> {
        let path = dir.join(ROOT_CERTIFICATE_FILE);
        let pem = super::read_limited(&path, 64 << 10, "read")?;
        let root = first_certificate(&pem).with_context(|| path.display().to_string())?;
        let key_identifier =
            root_key_identifier_hex(&root).with_context(|| path.display().to_string())?;
        Ok(Authority {
            dir: dir.to_path_buf(),
            root,
            key_identifier,
        })
    }

    /// An exclusive lock on the directory's CRL state for the rest of the command.
    fn lock(&self) -> anyhow::Result<File> {
        let path = self.dir.join(LOCK_FILE);
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .and_then(|file| file.lock().map(|()| file))
            .with_context(|| format!("cannot lock {}", path.display()))
    }

    /// The state file, or a fresh state for this root when there is none yet.
    fn state(&self) -> anyhow::Result<CaState> {
        let path = self.dir.join(STATE_FILE);
        if !path.exists() {
            return Ok(CaState {
                issuer_key_identifier: self.key_identifier.clone(),
                last_number: 0,
                revoked: Vec::new(),
            });
        }
        let bytes = super::read_limited(&path, MAX_CRL_BYTES, "read")?;
        let state: CaState = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is damaged", path.display()))?;
        if state.issuer_key_identifier != self.key_identifier {
            bail!(
                "{} belongs to another root (key identifier {}, this root's is {})",
                path.display(),
                state.issuer_key_identifier,
                self.key_identifier
            );
        }
        Ok(state)
    }

    /// The serial of `path`'s certificate, which this root must have issued: it names the root
    /// as issuer, and its authority key identifier (when it has one) is the root's.
    fn serial_of(&self, path: &Path) -> anyhow::Result<CertificateSerial> {
        use x509_parser::extensions::ParsedExtension;
        use x509_parser::prelude::FromDer;
        let bytes = super::read_limited(path, 64 << 10, "read")?;
        let der = if bytes.first() == Some(&0x30) {
            bytes
        } else {
            first_certificate(&bytes).with_context(|| path.display().to_string())?
        };
        let parse = |der| x509_parser::certificate::X509Certificate::from_der(der);
        let (_, certificate) = parse(&der)
            .map_err(|e| anyhow::anyhow!("{}: not a certificate ({e})", path.display()))?;
        let (_, root) = parse(&self.root).map_err(|e| anyhow::anyhow!("the root: {e}"))?;
        let authority = certificate.extensions().iter().find_map(|extension| {
            match extension.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(aki) => aki.key_identifier.as_ref(),
                _ => None,
            }
        });
        let other_key = authority.is_some_and(|id| hex(id.0) != self.key_identifier);
        if certificate.issuer().as_raw() != root.subject().as_raw() || other_key {
            bail!(
                "{} was not issued by this CA ({})",
                path.display(),
                root.subject()
            );
        }
        CertificateSerial::from_integer_bytes(certificate.raw_serial())
            .with_context(|| format!("{}: unusable serial number", path.display()))
    }

    /// Signs the CRL of `state` with the next number, then writes the state and the CRL (in
    /// that order: a crash between them leaves a number used, never one used twice).
    fn issue(
        &self,
        state: &mut CaState,
        now: OffsetDateTime,
        next_update_days: u32,
    ) -> anyhow::Result<Issued> {
        let key = SoftwareKey::load(&self.dir.join(ROOT_KEY_FILE), &SecretSources::from_env())?;
        let number = state
            .last_number
            .checked_add(1)
            .context("the CRL number cannot grow any further")?;
        let next_update = now + Duration::days(next_update_days.into());
        let contents = CrlContents {
            number: CrlNumber::new(number),
            this_update: now,
            next_update,
            entries: state
                .revoked
                .iter()
                .map(entry)
                .collect::<anyhow::Result<Vec<_>>>()?,
        };
        let der = issue_crl(&self.root, &key, &contents)?;
        state.last_number = number;
        let json = serde_json::to_vec_pretty(state).context("cannot write the CRL state")?;
        super::write_atomically(&self.dir.join(STATE_FILE), &json)?;
        super::write_atomically(&self.dir.join(CRL_FILE), &der)?;
        Ok(Issued {
            number: contents.number,
            next_update,
            entries: contents.entries.len(),
        })
    }
}

impl Issued {
    fn report(&self, dir: &Path) {
        let crl = dir.join(CRL_FILE);
        println!(
            "wrote {} (CRL number {}, {} revoked certificate(s), next update {})",
            crl.display(),
            self.number,
            self.entries,
            rfc3339(self.next_update).unwrap_or_default()
        );
        println!(
            "publish it: oneseal crl publish {} (or PUT /api/v1/crl), and again before the next update",
            crl.display()
        );
    }
}

fn entry(record: &RevokedRecord) -> anyhow::Result<RevokedCertificateEntry> {
    Ok(RevokedCertificateEntry {
        serial: CertificateSerial::parse_hex(&record.serial)
            .with_context(|| format!("{STATE_FILE}: bad serial {:?}", record.serial))?,
        revoked_at: OffsetDateTime::parse(&record.revoked_at, &Rfc3339)
            .with_context(|| format!("{STATE_FILE}: bad time {:?}", record.revoked_at))?,
        reason: Some(record.reason),
        invalid_since: record
            .invalid_since
            .as_deref()
            .map(|text| OffsetDateTime::parse(text, &Rfc3339))
            .transpose()
            .with_context(|| format!("{STATE_FILE}: bad invalidity date"))?,
    })
}

/// The roots of every seal the registry has had in service: the last certificate of each chain.
async fn seal_roots(registry: &oneseal::registry::Registry) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut roots: Vec<Vec<u8>> = Vec::new();
    for seal in registry.seals().await? {
        let root = oneseal::service::seals::root_of(&seal.seal.chain_pem);
        if let Some(root) = root.filter(|root| !roots.contains(root)) {
            roots.push(root);
        }
    }
    if roots.is_empty() {
        bail!("the registry knows no seal yet: start `oneseal serve` once");
    }
    Ok(roots)
}

fn first_certificate(pem: &[u8]) -> anyhow::Result<Vec<u8>> {
    x509_parser::pem::Pem::iter_from_buffer(pem)
        .filter_map(Result::ok)
        .find(|block| block.label == "CERTIFICATE")
        .map(|block| block.contents)
        .context("no PEM CERTIFICATE in the file")
}

fn time_argument(flag: &str, text: Option<&str>) -> anyhow::Result<Option<OffsetDateTime>> {
    text.map(|text| {
        OffsetDateTime::parse(text, &Rfc3339)
            .with_context(|| {
                format!("{flag} {text:?} is not an RFC 3339 time such as 2026-11-26T09:30:00+08:00")
            })
            .and_then(|time| Ok(time.replace_nanosecond(0)?))
    })
    .transpose()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn rfc3339(time: OffsetDateTime) -> anyhow::Result<String> {
    Ok(time.to_offset(time::UtcOffset::UTC).format(&Rfc3339)?)
}

fn print_summary(verb: &str, summary: &CrlSummary) {
    println!(
        "{verb} CRL number {} of {} (next update {})",
        summary.number, summary.issuer, summary.next_update
    );
    for revoked in &summary.revoked {
        println!(
            "  revoked {} at {} ({})",
            revoked.serial,
            revoked.revoked_at,
            revoked.reason.as_deref().unwrap_or("no reason given")
        );
    }
    println!("served at {}", summary.path);
}
