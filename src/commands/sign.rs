//! `oneseal sign`: read the PDF and the seal, sign, and write the result atomically.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use oneseal::pdf::Limits;
use oneseal::seal::load_key_directory;
use oneseal::sign::{DocMdpPermission, Seal, SignatureRequest, VisibleSignature, sha256, sign_pdf};

/// Arguments of `oneseal sign`.
#[derive(clap::Args)]
pub struct SignArgs {
    /// The PDF to sign.
    input: PathBuf,
    /// Where to write the signed PDF (replaced atomically; untouched on failure).
    #[arg(long)]
    out: PathBuf,
    /// The seal's key directory (seal-key.pem, seal-cert.pem), as written by `oneseal keygen`.
    #[arg(long)]
    keys: PathBuf,
    /// Why the document is signed (/Reason).
    #[arg(long)]
    reason: Option<String>,
    /// Where it is signed (/Location).
    #[arg(long)]
    location: Option<String>,
    /// How to reach the signer (/ContactInfo).
    #[arg(long)]
    contact: Option<String>,
    /// Make a certification signature (DocMDP P=2: form filling and signing stay allowed).
    #[arg(long)]
    certify: bool,
    /// The signature field's name; an existing empty signature field of that name is filled.
    #[arg(long)]
    field: Option<String>,
    /// Draw the signature: PAGE,X,Y,W,H in points from the page's lower left corner.
    #[arg(long, value_name = "PAGE,X,Y,W,H", value_parser = parse_visible)]
    visible: Option<VisibleSignature>,
    /// Refuse inputs larger than this many bytes.
    #[arg(long, env = "ONESEAL_MAX_PDF_BYTES", default_value_t = Limits::default().max_input_bytes)]
    max_size: usize,
    /// Timestamp the signature (PAdES B-T) with this TSA.
    #[command(flatten)]
    tsa: super::ltv::TsaArgs,
    /// Where the audit trail is recorded (the registry `oneseal serve` uses).
    #[command(flatten)]
    trail: super::config::CommonArgs,
}

pub fn run(args: SignArgs) -> anyhow::Result<()> {
    let limits = Limits {
        max_input_bytes: args.max_size,
        ..Limits::default()
    };
    let input = super::read_limited(&args.input, limits.max_input_bytes, "sign")?;
    let timestamper = args.tsa.timestamper()?;
    let signer = load_key_directory(&args.keys)
        .with_context(|| format!("cannot load the seal from {}", args.keys.display()))?;
    let mut request = SignatureRequest::new(time::OffsetDateTime::now_utc());
    request.reason = args.reason;
    request.location = args.location;
    request.contact_info = args.contact;
    request.field_name = args.field;
    request.certify = args.certify.then_some(DocMdpPermission::FormFilling);
    request.visible = args.visible;
    request.limits = limits;
    let trail = super::trail::ConsoleTrail::open(&args.trail)?;
    let input_sha256 = super::trail::sha256_hex(&input);
    trail.record(
        "document.signing",
        &format!("document:{input_sha256}"),
        serde_json::json!({
            "input": args.input.display().to_string(),
            "seal": signer.subject(),
            "field": request.field_name,
            "certify": args.certify,
        }),
    )?;
    let signed = match &timestamper {
        None => sign_pdf(&input, &signer, &request),
        Some(timestamper) => {
            request.timestamp_reserve = super::ltv::TOKEN_RESERVE;
            let prepared = Seal::new(&signer)?.prepare(&input, &request)?;
            let token = timestamper.stamp(&sha256(prepared.signature_value()))?;
            prepared.finish(Some(&token.token))
        }
    }
    .with_context(|| format!("cannot sign {}", args.input.display()))?;
    trail.record(
        "document.signed",
        &format!("document:{input_sha256}"),
        serde_json::json!({
            "output": args.out.display().to_string(),
            "sha256": super::trail::sha256_hex(&signed),
        }),
    )?;
    write_atomically(&args.out, &signed)
        .with_context(|| format!("cannot write {}", args.out.display()))
}

/// Writes to a temporary file beside `path`, then renames it over: no partial output is left.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .context("the output path has no file name")?;
    let temporary = directory.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    Ok(result?)
}

fn parse_visible(text: &str) -> Result<VisibleSignature, String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [page, x, y, width, height] = parts.as_slice() else {
        return Err("expected PAGE,X,Y,W,H, e.g. 1,380,60,160,80".into());
    };
    let number = |s: &str| {
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or(format!("'{s}' is not a number"))
    };
    Ok(VisibleSignature {
        page: page
            .parse()
            .map_err(|_| format!("'{page}' is not a page number"))?,
        x: number(x)?,
        y: number(y)?,
        width: number(width)?,
        height: number(height)?,
    })
}
