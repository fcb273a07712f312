//! The console's entries in the audit trail: `oneseal sign` and `oneseal issue` record what they
//! are about to sign, and what they signed, in the same registry the service uses. If the entry
//! cannot be written, nothing is signed.

use anyhow::Context;
use oneseal::registry::{AuditRecord, Registry};

use super::config::{CommonArgs, Settings};

/// An open registry for one command's entries.
pub struct ConsoleTrail {
    runtime: tokio::runtime::Runtime,
    registry: Registry,
    actor: String,
}

impl ConsoleTrail {
    /// Opens (creating when missing) the registry `serve` would use with the same settings.
    pub fn open(common: &CommonArgs) -> anyhow::Result<ConsoleTrail> {
        let settings = Settings::resolve(common, None)?;
        if settings.database_url.starts_with("sqlite:") {
            super::create_private_dir(&settings.data_dir)?;
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let registry = runtime
            .block_on(Registry::open(&settings.database_url))
            .context("cannot open the audit trail (nothing was signed)")?;
        let user = std::env::var("USER").unwrap_or_default();
        let actor = if user.is_empty() || user.chars().any(char::is_control) {
            "console".to_string()
        } else {
            format!("console ({})", user.chars().take(64).collect::<String>())
        };
        Ok(ConsoleTrail {
            runtime,
            registry,
            actor,
        })
    }

    /// Appends one entry, durably, or fails.
    pub fn record(
        &self,
        action: &str,
        subject: &str,
        details: serde_json::Value,
    ) -> anyhow::Result<()> {
        let record = AuditRecord::new(self.actor.clone(), action, subject, details);
        self.runtime
            .block_on(self.registry.record(&record, oneseal::service::now_ms()))
            .map(drop)
            .with_context(|| format!("cannot write the audit entry {action}"))
    }
}

impl Drop for ConsoleTrail {
    fn drop(&mut self) {
        self.runtime.block_on(self.registry.close());
    }
}

/// Lower-case hex SHA-256, as the trail names documents.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    oneseal::registry::audit::hex(&sha2::Sha256::digest(bytes))
}
