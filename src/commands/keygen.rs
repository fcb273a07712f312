//! `oneseal keygen`: being written.

/// Arguments of `oneseal keygen`.
#[derive(clap::Args)]
pub struct KeygenArgs {}

pub fn run(_args: KeygenArgs) -> anyhow::Result<()> {
    anyhow::bail!("keygen is not available yet")
}
