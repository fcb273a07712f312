//! `oneseal ltv extend`: archive renewal of one file (PAdES B-LTA, docs/ltv.md) — the
//! validation data of every signature and timestamp it holds, then a new document timestamp
//! from an RFC 3161 TSA. Also the `--tsa` options `oneseal sign` shares.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use oneseal::pdf::Limits;
use oneseal::pki::{MAX_CRL_BYTES, RevocationList, crl_distribution_urls};
use oneseal::service::timestamping::{TsaClient, TsaSettings};
use oneseal::sign::{
    DEFAULT_TOKEN_RESERVE, DocumentTimestampRequest, SignError, ValidationData,
    add_validation_data, carried_certificates, prepare_document_timestamp,
};
use oneseal::verify::TrustAnchors;
use oneseal::verify::tsp_client::CheckedToken;

/// Room kept in a signature for an outside TSA's token (an RSA chain of three stays under 8 KiB).
pub const TOKEN_RESERVE: usize = 12 * 1024;

/// Most CRLs `ltv extend` fetches for one file.
const MAX_FETCHED_CRLS: usize = 16;

/// The TSA a command asks for timestamps.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct TsaArgs {
    /// An RFC 3161 time-stamping authority (e.g. https://tsa.example/tsr, or a oneseal
    /// service's http://HOST/tsa); repeatable, asked in order until one answers.
    #[arg(long = "tsa", value_name = "URL")]
    pub tsa: Vec<String>,
    /// PEM certificates the TSA's certificate must chain to (its root, and intermediates);
    /// repeatable. They are also kept in the file's DSS.
    #[arg(long = "tsa-trust", value_name = "FILE")]
    pub tsa_trust: Vec<PathBuf>,
    /// Seconds one TSA may take to answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub tsa_timeout: u64,
}

/// A TSA client ready to use, and the certificates to embed for its path.
pub struct Timestamper {
    client: TsaClient,
    pub chain: Vec<Vec<u8>>,
    runtime: tokio::runtime::Runtime,
}

impl TsaArgs {
    /// The client, or None without `--tsa`.
    pub fn timestamper(&self) -> anyhow::Result<Option<Timestamper>> {
        if self.tsa.is_empty() {
            if !self.tsa_trust.is_empty() {
                bail!("--tsa-trust needs --tsa URL");
            }
            return Ok(None);
        }
        if self.tsa_trust.is_empty() {
            bail!("--tsa needs --tsa-trust FILE: the root the TSA's certificate chains to");
        }
        let mut anchors = TrustAnchors::new();
        let mut chain = Vec::new();
        for path in &self.tsa_trust {
            let pem = super::read_limited(path, 1 << 20, "read the TSA's trust")?;
            anchors
                .add_pem_or_der(&pem)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            chain.extend(
                x509_parser::pem::Pem::iter_from_buffer(&pem)
                    .filter_map(Result::ok)
                    .map(|block| block.contents),
            );
        }
        let attempt = Duration::from_secs(self.tsa_timeout);
        let client = TsaClient::new(
            TsaSettings {
                urls: self.tsa.clone(),
                attempt_timeout: attempt,
                total_timeout: attempt * 3,
                policy: None,
                certificates: chain.clone(),
            },
            Arc::new(anchors),
        )?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the TSA client")?;
        Ok(Some(Timestamper {
            client,
            chain,
            runtime,
        }))
    }
}

impl Timestamper {
    /// A checked token over `digest`.
    pub fn stamp(&self, digest: &[u8; 32]) -> anyhow::Result<CheckedToken> {
        Ok(self
            .runtime
            .block_on(self.client.stamp(digest, time::OffsetDateTime::now_utc()))?)
    }

    /// Fetches the CRLs the certificates name (CRL distribution points, http and https only):
    /// at most `MAX_FETCHED_CRLS` of them, each at most `MAX_CRL_BYTES` within 10 s, since the
    /// file and so the URLs come from outside; one that cannot be had is reported and skipped.
    fn fetch_crls(&self, certificates: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let mut urls = crl_distribution_urls(certificates);
        if urls.len() > MAX_FETCHED_CRLS {
            eprintln!(
                "oneseal: the file names {} CRLs; only the first {MAX_FETCHED_CRLS} are fetched",
                urls.len()
            );
            urls.truncate(MAX_FETCHED_CRLS);
        }
        let client = match reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(client) => client,
            Err(error) => {
                eprintln!("oneseal: cannot fetch CRLs: {error}");
                return Vec::new();
            }
        };
        urls.iter()
            .filter_map(|url| match self.runtime.block_on(fetch(&client, url)) {
                Ok(crl) => Some(crl),
                Err(error) => {
                    eprintln!("oneseal: CRL {url} not added: {error:#}");
                    None
                }
            })
            .collect()
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> anyhow::Result<Vec<u8>> {
    let mut response = client.get(url).send().await?.error_for_status()?;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_CRL_BYTES {
            bail!("larger than {MAX_CRL_BYTES} bytes");
        }
        body.extend_from_slice(&chunk);
    }
    RevocationList::parse_all(&body).map_err(|e| anyhow::anyhow!("not a CRL: {e}"))?;
    Ok(body)
}

/// Arguments of `oneseal ltv extend`.
#[derive(clap::Args)]
pub struct ExtendArgs {
    /// The signed PDF to extend.
    input: PathBuf,
    /// Where to write the result (replaced atomically); the input itself when absent.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    tsa: TsaArgs,
    /// A CRL (DER or PEM) to keep in the file's DSS; repeatable.
    #[arg(long = "crl", value_name = "FILE")]
    crl: Vec<PathBuf>,
    /// Do not fetch the CRLs the file's certificates name (only --crl files are added).
    #[arg(long)]
    offline: bool,
    /// Refuse inputs larger than this many bytes.
    #[arg(long, env = "ONESEAL_MAX_PDF_BYTES", default_value_t = Limits::default().max_input_bytes)]
    max_size: usize,
}

/// Adds the validation data and a document timestamp, writes the result, says what it added.
pub fn extend(args: ExtendArgs) -> anyhow::Result<()> {
    let Some(timestamper) = args.tsa.timestamper()? else {
        bail!("ltv extend needs a time-stamping authority: --tsa URL --tsa-trust ROOT.pem");
    };
    let limits = Limits {
        max_input_bytes: args.max_size,
        ..Limits::default()
    };
    let input = super::read_limited(&args.input, limits.max_input_bytes, "extend")?;
    let mut certificates = carried_certificates(&input, limits)
        .with_context(|| format!("cannot extend {}", args.input.display()))?;
    if certificates.is_empty() {
        bail!("{} carries no signature to extend", args.input.display());
    }
    for certificate in &timestamper.chain {
        if !certificates.contains(certificate) {
            certificates.push(certificate.clone());
        }
    }
    let mut crls = read_crls(&args.crl)?;
    if !args.offline {
        crls.extend(timestamper.fetch_crls(&certificates));
    }
    let data = ValidationData {
        certificates,
        crls,
        ocsp_responses: Vec::new(),
    };
    let with_dss = add_validation_data(&input, &data, limits)
        .with_context(|| format!("cannot extend {}", args.input.display()))?;
    let (extended, token) = document_timestamp(&with_dss, &timestamper, limits)?;
    let out = args.out.as_deref().unwrap_or(&args.input);
    super::sign::write_atomically(out, &extended)
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "{}: DSS with {} certificate(s) and {} CRL(s); document timestamp at {} (serial {})",
        out.display(),
        data.certificates.len(),
        data.crls.len(),
        token
            .generation_time
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| token.generation_time.to_string()),
        hex(&token.serial)
    );
    Ok(())
}

/// A document timestamp over `pdf`; asked for once more when the token outgrows its room.
fn document_timestamp(
    pdf: &[u8],
    timestamper: &Timestamper,
    limits: Limits,
) -> anyhow::Result<(Vec<u8>, CheckedToken)> {
    let mut reserve = DEFAULT_TOKEN_RESERVE;
    for _ in 0..2 {
        let request = DocumentTimestampRequest {
            token_reserve: reserve,
            limits,
            ..DocumentTimestampRequest::default()
        };
        let prepared = prepare_document_timestamp(pdf, &request)?;
        let token = timestamper.stamp(&prepared.digest())?;
        match prepared.finish(&token.token) {
            Ok(stamped) => return Ok((stamped, token)),
            Err(SignError::ContentsTooLarge { needed, .. }) => reserve = needed + 1024,
            Err(other) => return Err(other.into()),
        }
    }
    bail!("the TSA's token keeps outgrowing the room kept for it")
}

fn read_crls(paths: &[PathBuf]) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut crls = Vec::new();
    for path in paths {
        let bytes = super::read_limited(path, MAX_CRL_BYTES * 2, "read the CRL")?;
        let lists = RevocationList::parse_all(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        crls.extend(lists.iter().map(|list| list.der().to_vec()));
    }
    Ok(crls)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
