//! `oneseal token …` and `oneseal audit verify`: the console's hold on the registry.

use anyhow::{Context, bail};
use oneseal::registry::{Registry, Role};
use oneseal::service::auth::{self, TokenRequest};

use super::config::{CommonArgs, Settings};

/// How the audit trail names the console.
pub const CONSOLE: &str = "console";

#[derive(clap::Args)]
pub struct TokenCreateArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// department, reviewer, issuer, admin or auditor.
    #[arg(long)]
    role: String,
    /// The department a department or reviewer token acts for (as template manifests name it).
    #[arg(long)]
    department: Option<String>,
    /// Who holds the token (a person or a system).
    #[arg(long)]
    name: String,
}

#[derive(clap::Args)]
pub struct TokenRevokeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The token's id (the 16 hex digits after `oneseal_`).
    id: String,
}

pub fn create_token(args: TokenCreateArgs) -> anyhow::Result<()> {
    let role = Role::parse(&args.role).with_context(|| {
        format!(
            "unknown role {:?}: use department, reviewer, issuer, admin or auditor",
            args.role
        )
    })?;
    let request = TokenRequest {
        role,
        department: args.department,
        name: args.name,
    };
    with_registry(&args.common, |registry| async move {
        let created = auth::create_token(&registry, &request, CONSOLE)
            .await
            .map_err(|e| anyhow::anyhow!("cannot create the token: {e}"))?;
        let record = &created.record;
        println!(
            "created token {} for {} ({}{})",
            record.id,
            record.name,
            record.role.as_str(),
            record
                .department
                .as_deref()
                .map(|d| format!(", {d}"))
                .unwrap_or_default()
        );
        println!("it is shown only now; give it to its holder:");
        println!("{}", created.token.as_str());
        Ok(())
    })
}

pub fn list_tokens(common: CommonArgs) -> anyhow::Result<()> {
    with_registry(&common, |registry| async move {
        for token in registry.tokens().await? {
            println!(
                "{}\t{}\t{}\t{}\t{}",
                token.id,
                token.role.as_str(),
                token.department.as_deref().unwrap_or("-"),
                if token.revoked_at_ms.is_some() {
                    "revoked"
                } else {
                    "active"
                },
                token.name
            );
        }
        Ok(())
    })
}

pub fn revoke_token(args: TokenRevokeArgs) -> anyhow::Result<()> {
    let id = args.id.clone();
    with_registry(&args.common, |registry| async move {
        auth::revoke_token(&registry, &id, CONSOLE)
            .await
            .map_err(|e| anyhow::anyhow!("cannot revoke token {id}: {e}"))?;
        println!("revoked token {id}");
        Ok(())
    })
}

/// Recomputes the chain: exit 0 when whole, 1 naming the first broken link.
pub fn verify_audit(common: CommonArgs) -> anyhow::Result<u8> {
    with_registry(&common, |registry| async move {
        match registry.verify_audit_chain().await? {
            Ok(length) => {
                println!("audit chain whole: {length} entries");
                Ok(0)
            }
            Err(broken) => {
                println!("audit chain BROKEN: {broken}");
                Ok(1)
            }
        }
    })
}

/// Opens the registry the service uses (same configuration), runs `work`, closes it.
pub fn with_registry<T, F, Fut>(common: &CommonArgs, work: F) -> anyhow::Result<T>
where
    F: FnOnce(Registry) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let settings = Settings::resolve(common, None)?;
    if settings.database_url.starts_with("sqlite:") && !settings.data_dir.exists() {
        bail!(
            "no data directory at {} (start `oneseal serve` once, or pass --data DIR)",
            settings.data_dir.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let registry = Registry::open(&settings.database_url)
            .await
            .context("cannot open the registry")?;
        let outcome = work(registry.clone()).await;
        registry.close().await;
        outcome
    })
}
