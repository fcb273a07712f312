//! One file per subcommand: parse arguments, do the I/O, call the library.

pub mod admin;
pub mod ca;
pub mod config;
pub mod issue;
pub mod keygen;
pub mod ltv;
pub mod seal;
pub mod serve;
pub mod sign;
pub mod trail;
pub mod verify;

use std::fmt;
use std::path::Path;

use anyhow::{Context, bail};
use oneseal::template::Problem;

pub use sign::write_atomically;

/// Several problems found at once (a template bundle, issuance data): printed one per line.
#[derive(Debug)]
pub struct Problems {
    pub summary: String,
    pub problems: Vec<Problem>,
}

impl Problems {
    pub fn new(summary: String, problems: Vec<Problem>) -> Self {
        Self { summary, problems }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} problem(s))", self.summary, self.problems.len())
    }
}

impl std::error::Error for Problems {}

/// Reads `path`, refusing before reading when it is over `limit` bytes.
pub fn read_limited(path: &Path, limit: usize, verb: &str) -> anyhow::Result<Vec<u8>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > limit as u64 {
        bail!(
            "cannot {verb} {}: the file is {size} bytes, over the limit of {limit} bytes",
            path.display()
        );
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Structured logs on stderr: JSON lines (the default) or text, filtered by `level`.
pub fn init_logging(format: &str, level: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .with_context(|| format!("log level {level:?} is not a valid filter"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        // When stderr is gone (a closed pipe), tracing would report it with eprintln!, which
        // panics inside the request being logged: drop the log line instead.
        .log_internal_errors(false);
    match format {
        "json" => builder.json().flatten_event(true).init(),
        "text" => builder.with_ansi(false).init(),
        other => bail!("log format {other:?}: use json or text"),
    }
    Ok(())
}

/// The data directory holds the registry and maybe a seal: created readable by its owner only.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))
}
