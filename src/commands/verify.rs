//! `oneseal verify`: read the file and the trust anchors, verify, print, and exit 0/1/2.

use std::path::PathBuf;

use anyhow::Context;
use oneseal::pdf::Limits;
use oneseal::pki::{MAX_CRL_BYTES, RevocationList};
use oneseal::verify::text::{Language, render};
use oneseal::verify::{Policy, TrustAnchors, verify};

/// Arguments of `oneseal verify`.
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The PDF to verify.
    input: PathBuf,
    /// A trusted root certificate (PEM, may hold several, or DER); repeatable.
    #[arg(long = "trust", required = true)]
    trust: Vec<PathBuf>,
    /// A CRL (DER or PEM) from a signer's issuer, honoured when that issuer's key signed it;
    /// repeatable (docs/revocation.md).
    #[arg(long = "crl", value_name = "FILE")]
    crl: Vec<PathBuf>,
    /// Verify as of this moment instead of now (RFC 3339, e.g. 2036-11-26T00:00:00+08:00): a
    /// licence checked as of years ahead, after its seal certificate expired.
    #[arg(long, value_name = "TIME", value_parser = validation_time)]
    at: Option<time::OffsetDateTime>,
    /// Print the report as JSON (schema: docs/verify-report.md).
    #[arg(long)]
    json: bool,
    /// Language of the text report: en or zh.
    #[arg(long, default_value = "en", value_parser = ["en", "zh"])]
    lang: String,
    /// Give up on a file (exit 2) after this many seconds.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Refuse inputs larger than this many bytes.
    #[arg(long, env = "ONESEAL_MAX_PDF_BYTES", default_value_t = Limits::default().max_input_bytes)]
    max_size: usize,
}

/// Exit status: 0 passed, 1 failed or indeterminate, 2 unreadable (returned as an error).
pub fn run(args: VerifyArgs) -> anyhow::Result<u8> {
    let mut anchors = TrustAnchors::new();
    for path in &args.trust {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        anchors
            .add_pem_or_der(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    let limits = Limits {
        max_input_bytes: args.max_size,
        ..Limits::default()
    };
    let input = super::read_limited(&args.input, limits.max_input_bytes, "verify")?;
    let mut policy = Policy::new(args.at.unwrap_or_else(time::OffsetDateTime::now_utc));
    policy.limits = limits;
    for path in &args.crl {
        let bytes = super::read_limited(path, MAX_CRL_BYTES * 2, "read the CRL")?;
        let lists = RevocationList::parse_all(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        policy
            .crls
            .extend(lists.iter().map(|list| list.der().to_vec()));
    }
    let budget = std::time::Duration::from_secs(args.timeout);
    let report = verify_within(input, anchors, policy, budget)
        .with_context(|| format!("cannot verify {}", args.input.display()))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).context("cannot write the report")?
        );
    } else {
        let language = if args.lang == "zh" {
            Language::Chinese
        } else {
            Language::English
        };
        print!("{}", render(&report, language));
    }
    Ok(if report.passed() { 0 } else { 1 })
}

/// `--at`: an RFC 3339 date and time with its offset.
fn validation_time(text: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| format!("{text:?} is not an RFC 3339 time such as 2036-11-26T00:00:00+08:00"))
}

/// Runs the verifier on its own thread so that a hostile file meets a time budget, and a bug
/// that panics becomes an error line instead of a crash.
fn verify_within(
    input: Vec<u8>,
    anchors: TrustAnchors,
    policy: Policy,
    budget: std::time::Duration,
) -> anyhow::Result<oneseal::verify::Report> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("verify".into())
        .spawn(move || {
            let outcome = std::panic::catch_unwind(|| verify(&input, &anchors, &policy));
            let _ = sender.send(outcome);
        })
        .context("cannot start the verifier")?;
    match receiver.recv_timeout(budget) {
        Ok(Ok(result)) => Ok(result?),
        Ok(Err(_)) => {
            anyhow::bail!("internal error while reading the file (please report it with the file)")
        }
        Err(_) => anyhow::bail!(
            "verification took longer than {} s; the file is refused",
            budget.as_secs()
        ),
    }
}
