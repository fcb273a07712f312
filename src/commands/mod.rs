//! One file per subcommand: parse arguments, do the I/O, call the library.

pub mod keygen;
pub mod sign;
pub mod verify;

use std::path::Path;

use anyhow::{Context, bail};

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
