//! `oneseal sign`: being written.

/// Arguments of `oneseal sign`.
#[derive(clap::Args)]
pub struct SignArgs {}

pub fn run(_args: SignArgs) -> anyhow::Result<()> {
    anyhow::bail!("sign is not available yet")
}
