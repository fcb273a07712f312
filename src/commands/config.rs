//! `oneseal.toml`: the service's configuration, with `ONESEAL_*` environment overrides and
//! command-line flags over both. Every key is optional; a fresh clone needs none.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

/// Development (the default) creates its own seal; production refuses anything unsafe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Development,
    Production,
}

/// `oneseal.toml` as written (no `Debug`: `database_url` may carry a password).
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub mode: Option<Mode>,
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub base_url: Option<String>,
    #[serde(default)]
    pub seal: SealSection,
    pub tls: Option<TlsSection>,
    #[serde(default)]
    pub limits: LimitsSection,
    #[serde(default)]
    pub log: LogSection,
    #[serde(default)]
    pub workflow: WorkflowSection,
    #[serde(default)]
    pub tsa: TsaSection,
    #[serde(default)]
    pub timestamping: TimestampingSection,
}

/// Timestamps and validation data on every licence (docs/ltv.md, docs/timestamping.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimestampingSection {
    /// `B-B`, `B-T`, `B-LT` (the default when a TSA is available) or `B-LTA`.
    pub level: Option<String>,
    /// Refuse to issue without a timestamp (default true).
    pub required: Option<bool>,
    /// Outside TSAs, tried in order; the built-in TSA when empty.
    pub urls: Option<Vec<String>>,
    /// The most one TSA may take, in milliseconds (default 5000).
    pub attempt_timeout_ms: Option<u64>,
    /// The most all TSAs together may take, in milliseconds (default 15000).
    pub total_timeout_ms: Option<u64>,
    /// PEM roots (and intermediates) the outside TSAs' certificates chain to; the bureau's
    /// own roots when absent.
    pub trust_pem: Option<PathBuf>,
    /// Bytes kept in each signature for its timestamp token.
    pub token_reserve_bytes: Option<usize>,
}

/// `[timestamping]` resolved.
#[derive(Clone, Debug)]
pub struct TimestampingSettings {
    /// None: B-LT when a TSA is available, else B-B.
    pub level: Option<String>,
    pub required: bool,
    pub urls: Vec<String>,
    pub attempt_timeout: Duration,
    pub total_timeout: Duration,
    pub trust_pem: Option<PathBuf>,
    pub token_reserve: Option<usize>,
}

/// The built-in time-stamping authority (docs/tsa.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsaSection {
    /// A key directory as `oneseal keygen --tsa` writes it.
    pub keys: Option<PathBuf>,
    /// The TSA policy OID tokens name (default: oneseal's, docs/tsa.md).
    pub policy_oid: Option<String>,
    /// The accuracy claimed for genTime, in milliseconds (default 1000).
    pub accuracy_ms: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealSection {
    /// A key directory as `oneseal keygen` writes it.
    pub keys: Option<PathBuf>,
    /// The bureau's seal artwork (PNG with transparency).
    pub image: Option<PathBuf>,
    /// A file holding the key file's passphrase (mode 0600).
    pub passphrase_file: Option<PathBuf>,
    /// A file holding the PKCS#11 token's user PIN (mode 0600).
    pub pin_file: Option<PathBuf>,
    /// How often a running service looks for a rotated seal.
    pub rotation_check_seconds: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// PEM certificate chain.
    pub certificate: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    pub max_json_bytes: Option<usize>,
    pub max_upload_bytes: Option<usize>,
    pub max_verify_bytes: Option<usize>,
    pub request_timeout_seconds: Option<u64>,
    pub verification_timeout_seconds: Option<u64>,
    pub issue_per_second: Option<u32>,
    pub verify_per_minute: Option<u32>,
    pub max_concurrent_verifications: Option<usize>,
}

/// Issuance requests, deadlines and the results feed (docs/workflow.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowSection {
    /// How often deadlines are checked (overdue requests, missed 容缺 commitments).
    pub sweep_interval_seconds: Option<u64>,
    /// Longest wait between webhook delivery attempts.
    pub webhook_max_backoff_seconds: Option<u64>,
    /// Development only: shifts the bureau's clock, to live through deadlines in a test.
    pub clock_offset_seconds: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// `json` (the default) or `text`.
    pub format: Option<String>,
    /// A tracing filter such as `info` or `oneseal=debug`.
    pub level: Option<String>,
}

/// The configuration every command that touches the registry resolves the same way.
/// (No `Debug`: the database URL may carry a password.)
#[derive(Clone)]
pub struct Settings {
    pub mode: Mode,
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub base_url: Option<String>,
    pub seal_keys: Option<PathBuf>,
    pub seal_image: Option<PathBuf>,
    /// Where the seal's passphrase or PIN comes from.
    pub seal_secrets: oneseal::seal::SecretSources,
    /// How often a running service looks for a rotated seal.
    pub seal_check_interval: Duration,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub http: oneseal::http::HttpSettings,
    pub verification_timeout: Duration,
    pub max_concurrent_verifications: usize,
    pub log_format: String,
    pub log_level: String,
    pub sweep_interval: Duration,
    pub webhook_max_backoff: Duration,
    pub clock_offset_seconds: i64,
    /// The TSA's key directory (`[tsa] keys`, ONESEAL_TSA_KEYS).
    pub tsa_keys: Option<PathBuf>,
    /// `[tsa] policy_oid`, dotted.
    pub tsa_policy_oid: Option<String>,
    /// `[tsa] accuracy_ms`.
    pub tsa_accuracy_ms: u32,
    pub timestamping: TimestampingSettings,
}

/// Flags shared by `serve`, `token` and `audit`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct CommonArgs {
    /// The configuration file (TOML); `ONESEAL_CONFIG` when absent, else none.
    #[arg(long, env = "ONESEAL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the embedded database and the development seal live (default ./data).
    #[arg(long = "data", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

const MAX_CONFIG_BYTES: usize = 64 << 10;

impl Settings {
    /// Defaults, then the file, then `ONESEAL_*` variables, then flags.
    pub fn resolve(common: &CommonArgs, listen: Option<String>) -> anyhow::Result<Settings> {
        let file = match &common.config {
            Some(path) => read_config(path)?,
            None => ConfigFile::default(),
        };
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let env_number = |name: &str| -> anyhow::Result<Option<u64>> {
            env(name)
                .map(|v| {
                    v.parse::<u64>()
                        .with_context(|| format!("{name}={v:?} is not a number"))
                })
                .transpose()
        };
        let mode = match env("ONESEAL_MODE") {
            Some(text) => match text.as_str() {
                "development" => Mode::Development,
                "production" => Mode::Production,
                other => bail!("ONESEAL_MODE={other:?}: use development or production"),
            },
            None => file.mode.unwrap_or_default(),
        };
        let data_dir = common
            .data_dir
            .clone()
            .or_else(|| env("ONESEAL_DATA_DIR").map(PathBuf::from))
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        let database_url = env("ONESEAL_DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| sqlite_url(&data_dir.join("oneseal.db")));
        let tls = match (
            env("ONESEAL_TLS_CERTIFICATE"),
            env("ONESEAL_TLS_KEY"),
            file.tls,
        ) {
            (Some(certificate), Some(key), _) => Some((certificate.into(), key.into())),
            (None, None, Some(section)) => Some((section.certificate, section.key)),
            (None, None, None) => None,
            _ => bail!("set both ONESEAL_TLS_CERTIFICATE and ONESEAL_TLS_KEY, or neither"),
        };
        let limits = file.limits;
        let defaults = oneseal::http::HttpSettings::default();
        let issue_per_second = env_number("ONESEAL_ISSUE_PER_SECOND")?
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .or(limits.issue_per_second)
            .unwrap_or(defaults.issue_per_second);
        let verify_per_minute = env_number("ONESEAL_VERIFY_PER_MINUTE")?
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .or(limits.verify_per_minute)
            .unwrap_or(defaults.verify_per_minute);
        let http = oneseal::http::HttpSettings {
            max_json_bytes: limits.max_json_bytes.unwrap_or(defaults.max_json_bytes),
            max_upload_bytes: limits.max_upload_bytes.unwrap_or(defaults.max_upload_bytes),
            max_verify_bytes: limits.max_verify_bytes.unwrap_or(defaults.max_verify_bytes),
            request_timeout: limits
                .request_timeout_seconds
                .map_or(defaults.request_timeout, Duration::from_secs),
            issue_per_second,
            verify_per_minute,
            tls: tls.is_some(),
        };
        Ok(Settings {
            mode,
            listen: listen
                .or_else(|| env("ONESEAL_LISTEN"))
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            database_url,
            base_url: env("ONESEAL_BASE_URL").or(file.base_url),
            seal_keys: env("ONESEAL_SEAL_KEYS")
                .map(PathBuf::from)
                .or(file.seal.keys),
            seal_image: env("ONESEAL_SEAL_IMAGE")
                .map(PathBuf::from)
                .or(file.seal.image),
            seal_secrets: {
                let from_env = oneseal::seal::SecretSources::from_env();
                oneseal::seal::SecretSources {
                    passphrase_file: from_env.passphrase_file.or(file.seal.passphrase_file),
                    pin_file: from_env.pin_file.or(file.seal.pin_file),
                    prompt: from_env.prompt,
                }
            },
            seal_check_interval: Duration::from_secs(
                env_number("ONESEAL_SEAL_CHECK_SECONDS")?
                    .or(file.seal.rotation_check_seconds)
                    .unwrap_or(5)
                    .max(1),
            ),
            tls,
            http,
            verification_timeout: Duration::from_secs(
                limits.verification_timeout_seconds.unwrap_or(20),
            ),
            max_concurrent_verifications: limits
                .max_concurrent_verifications
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from)),
            log_format: env("ONESEAL_LOG_FORMAT")
                .or(file.log.format)
                .unwrap_or_else(|| "json".into()),
            log_level: env("ONESEAL_LOG")
                .or(file.log.level)
                .unwrap_or_else(|| "info".into()),
            sweep_interval: Duration::from_secs(
                env_number("ONESEAL_SWEEP_INTERVAL_SECONDS")?
                    .or(file.workflow.sweep_interval_seconds)
                    .unwrap_or(60)
                    .max(1),
            ),
            webhook_max_backoff: Duration::from_secs(
                env_number("ONESEAL_WEBHOOK_MAX_BACKOFF_SECONDS")?
                    .or(file.workflow.webhook_max_backoff_seconds)
                    .unwrap_or(300)
                    .max(1),
            ),
            clock_offset_seconds: match env("ONESEAL_CLOCK_OFFSET_SECONDS") {
                Some(text) => text.parse().map_err(|_| {
                    anyhow::anyhow!(
                        "ONESEAL_CLOCK_OFFSET_SECONDS must be a whole number of seconds, not {text:?}"
                    )
                })?,
                None => file.workflow.clock_offset_seconds.unwrap_or(0),
            },
            tsa_keys: env("ONESEAL_TSA_KEYS")
                .map(PathBuf::from)
                .or(file.tsa.keys),
            tsa_policy_oid: file.tsa.policy_oid,
            tsa_accuracy_ms: file.tsa.accuracy_ms.unwrap_or(1000),
            timestamping: timestamping(file.timestamping, &env)?,
            data_dir,
        })
    }
}

/// `[timestamping]` with ONESEAL_TIMESTAMP_LEVEL, ONESEAL_TSA_URLS (comma-separated) and
/// ONESEAL_TIMESTAMP_REQUIRED (true/false) over it.
fn timestamping(
    section: TimestampingSection,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<TimestampingSettings> {
    let required = match env("ONESEAL_TIMESTAMP_REQUIRED") {
        Some(text) => text.parse().map_err(|_| {
            anyhow::anyhow!("ONESEAL_TIMESTAMP_REQUIRED={text:?}: use true or false")
        })?,
        None => section.required.unwrap_or(true),
    };
    let urls = match env("ONESEAL_TSA_URLS") {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(String::from)
            .collect(),
        None => section.urls.unwrap_or_default(),
    };
    Ok(TimestampingSettings {
        level: env("ONESEAL_TIMESTAMP_LEVEL").or(section.level),
        required,
        urls,
        attempt_timeout: Duration::from_millis(section.attempt_timeout_ms.unwrap_or(5000).max(1)),
        total_timeout: Duration::from_millis(section.total_timeout_ms.unwrap_or(15000).max(1)),
        trust_pem: section.trust_pem,
        token_reserve: section.token_reserve_bytes,
    })
}

fn read_config(path: &Path) -> anyhow::Result<ConfigFile> {
    let bytes = super::read_limited(path, MAX_CONFIG_BYTES, "read the configuration")?;
    let text =
        std::str::from_utf8(&bytes).with_context(|| format!("{} is not UTF-8", path.display()))?;
    toml::from_str(text).map_err(|error| {
        anyhow::anyhow!(
            "{}: {}",
            path.display(),
            error.to_string().lines().collect::<Vec<_>>().join(" ")
        )
    })
}

/// `sqlite://PATH?mode=rwc`: created when missing.
fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}
