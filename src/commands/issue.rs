//! `oneseal issue` and `oneseal template check`: read a bundle and data, issue a sealed licence.

use std::path::{Path, PathBuf};

use anyhow::Context;
use oneseal::seal::load_key_directory;
use oneseal::service::issuance::{IssuanceRequest, IssueError, Issuer};
use oneseal::template::font::SourceFont;
use oneseal::template::seal_image::{self, SealImage};
use oneseal::template::{Bundle, LicenceSerial};
use ring::rand::{SecureRandom, SystemRandom};

use super::{Problems, read_limited, write_atomically};

/// Where the QR code sends people when no `--base-url` is given.
pub const DEFAULT_BASE_URL: &str = "https://oneseal.example.gov.cn/verify/";
/// The bureau's UTC offset (China Standard Time): the issue date printed is its date.
const BUREAU_OFFSET_HOURS: i8 = 8;

/// Arguments of `oneseal issue`.
#[derive(clap::Args)]
pub struct IssueArgs {
    /// The template bundle: a folder with template.pdf, template.toml and example.json.
    #[arg(long)]
    template: PathBuf,
    /// The licence data: a JSON object of field name to text.
    #[arg(long)]
    data: PathBuf,
    /// The seal's key directory, as written by `oneseal keygen`.
    #[arg(long)]
    keys: PathBuf,
    /// Where to write the sealed licence (replaced atomically; untouched on failure).
    #[arg(long)]
    out: PathBuf,
    /// The licence serial (A–Z, 0–9, '-'); a fresh one is made when absent.
    #[arg(long)]
    serial: Option<String>,
    /// The public verification service; the QR code carries this URL followed by the serial.
    #[arg(long, env = "ONESEAL_BASE_URL", default_value = DEFAULT_BASE_URL)]
    base_url: String,
    /// Show this PNG (the bureau's seal artwork, with transparency) instead of the drawn seal.
    #[arg(long, value_name = "FILE.png")]
    seal_image: Option<PathBuf>,
    /// The registry whose audit trail records the issuance (the one `oneseal serve` uses;
    /// `--data` here is the licence data, so the directory is `--data-dir`).
    #[arg(long = "data-dir", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The service's configuration file, for where its registry is.
    #[arg(long, env = "ONESEAL_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Timestamp the seal's signature (PAdES B-T) with this TSA.
    #[command(flatten)]
    tsa: super::ltv::TsaArgs,
}

/// Arguments of `oneseal template check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// The template bundle folder.
    template: PathBuf,
}

pub fn run(args: IssueArgs) -> anyhow::Result<()> {
    let font = SourceFont::shipped().context("cannot load the shipped font")?;
    let bundle = load_bundle(&args.template, false, font)?;
    let data = read_limited(&args.data, oneseal::template::data::MAX_DATA_BYTES, "read")?;
    let signer = load_key_directory(&args.keys)
        .with_context(|| format!("cannot load the seal from {}", args.keys.display()))?;
    let serial = match &args.serial {
        Some(text) => LicenceSerial::parse(text).map_err(anyhow::Error::msg)?,
        None => fresh_serial()?,
    };
    let mut issuer = Issuer::new(&signer).context("cannot prepare the seal")?;
    if let Some(path) = &args.seal_image {
        let png = read_limited(path, seal_image::MAX_PNG_BYTES, "read")?;
        let image = SealImage::from_png(&png).with_context(|| path.display().to_string())?;
        issuer = issuer.with_seal_image(image);
    }
    let request = IssuanceRequest {
        serial: serial.clone(),
        issued_at: bureau_now()?,
        base_url: args.base_url,
    };
    let trail = super::trail::ConsoleTrail::open(&super::config::CommonArgs {
        config: args.config.clone(),
        data_dir: args.data_dir.clone(),
    })?;
    trail.record(
        "licence.signing",
        serial.as_str(),
        serde_json::json!({
            "template": bundle.manifest.id,
            "template_version": bundle.manifest.version,
            "data_sha256": super::trail::sha256_hex(&data),
        }),
    )?;
    let timestamper = args.tsa.timestamper()?;
    let issued = match issue_with(&issuer, (&bundle, &data, &request), timestamper.as_ref()) {
        Ok(issued) => issued,
        Err(IssueError::Data(problems)) => {
            return Err(Problems::new(
                format!(
                    "the data in {} does not fit the template",
                    args.data.display()
                ),
                problems,
            )
            .into());
        }
        Err(error) => return Err(error).context("cannot issue the licence"),
    };
    trail.record(
        "licence.issued",
        serial.as_str(),
        serde_json::json!({ "sha256": super::trail::sha256_hex(&issued.pdf) }),
    )?;
    write_atomically(&args.out, &issued.pdf)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!("{}", issued.serial);
    Ok(())
}

/// Issues the licence, its signature timestamped when a TSA is given.
fn issue_with(
    issuer: &Issuer<'_>,
    (bundle, data, request): (&oneseal::template::Bundle, &[u8], &IssuanceRequest),
    timestamper: Option<&super::ltv::Timestamper>,
) -> Result<oneseal::service::issuance::IssuedLicence, IssueError> {
    let Some(timestamper) = timestamper else {
        return issuer.issue(bundle, data, request);
    };
    let prepared = issuer.prepare(bundle, data, request, super::ltv::TOKEN_RESERVE)?;
    let digest = oneseal::sign::sha256(prepared.signature.signature_value());
    let token = timestamper
        .stamp(&digest)
        .map_err(|e| IssueError::Request(format!("no timestamp: {e:#}")))?;
    Ok(oneseal::service::issuance::IssuedLicence {
        pdf: prepared.signature.finish(Some(&token.token))?,
        serial: prepared.serial,
        verification_url: prepared.verification_url,
    })
}

pub fn check(args: CheckArgs) -> anyhow::Result<()> {
    let font = SourceFont::shipped().context("cannot load the shipped font")?;
    let bundle = load_bundle(&args.template, true, font)?;
    println!(
        "{}: {} {} v{} ({} fields) is valid",
        args.template.display(),
        bundle.manifest.id,
        bundle.manifest.title,
        bundle.manifest.version,
        bundle.manifest.fields.len()
    );
    Ok(())
}

/// Reads and checks a bundle folder; `with_example` also checks example.json.
fn load_bundle(dir: &Path, with_example: bool, font: &SourceFont) -> anyhow::Result<Bundle> {
    use oneseal::template::bundle::BlankLimits;
    use oneseal::template::manifest::MAX_MANIFEST_BYTES;
    let manifest = read_limited(&dir.join("template.toml"), MAX_MANIFEST_BYTES, "read")?;
    let blank = read_limited(
        &dir.join("template.pdf"),
        BlankLimits::default().max_bytes,
        "read",
    )?;
    let example = if with_example {
        Some(read_limited(
            &dir.join("example.json"),
            oneseal::template::data::MAX_DATA_BYTES,
            "read",
        )?)
    } else {
        None
    };
    Bundle::load(&manifest, blank, example.as_deref(), font).map_err(|problems| {
        Problems::new(
            format!("the template bundle {} is not valid", dir.display()),
            problems,
        )
        .into()
    })
}

/// A fresh random serial (the registry-less CLI cannot ask whether it was used).
fn fresh_serial() -> anyhow::Result<LicenceSerial> {
    let mut random = [0u8; 10];
    SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
    Ok(LicenceSerial::from_random(bureau_now()?.date(), &random))
}

fn bureau_now() -> anyhow::Result<time::OffsetDateTime> {
    let offset = time::UtcOffset::from_hms(BUREAU_OFFSET_HOURS, 0, 0)?;
    Ok(time::OffsetDateTime::now_utc().to_offset(offset))
}
