//! The registry: API tokens, template versions, issued certificates (with their archived PDFs)
//! and the hash-chained audit trail, on SQLite (embedded) or PostgreSQL (shared by instances).
//!
//! Every state change is written in one transaction together with its audit entry, so the
//! trail and the state cannot disagree. One set of runtime queries serves both databases
//! (`$1` placeholders work on both); only the schema and the chain-head lock differ.

pub mod audit;
mod crls;
mod events;
mod records;
mod renewals;
mod requests;
mod seals;
mod timestamps;
mod writer;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

pub use audit::{AuditEntry, AuditRecord, ChainBreak, ChainVerifier};
pub use crls::{CrlRecord, NewCrl, Publication};
pub use events::*;
pub use records::*;
pub use renewals::{ArchivedPdf, DueCursor, NewRenewal, RenewalDue};
pub use requests::*;
pub use seals::{NewSeal, SealRecord};
pub use timestamps::{NewTimestamp, TimestampRecord, TimestampSlot};
use writer::{Batch, BoxFuture};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Which database holds the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Why the registry could not do what was asked.
#[derive(Clone, Debug, thiserror::Error)]
pub enum RegistryError {
    /// The database refused or could not be reached; the cause is for the log, not the client.
    #[error("the registry database failed: {0}")]
    Database(String),
    /// The database URL is not one we support.
    #[error("unsupported database URL (use sqlite://PATH or postgres://…): {0}")]
    Url(String),
    /// Stored data does not have the shape the registry writes.
    #[error("the registry holds malformed data: {0}")]
    Corrupt(String),
    /// A unique value (serial, token id) is already taken.
    #[error("{0} already exists")]
    Conflict(String),
    /// The seal meant to sign was retired by a rotation: load the seal in service and retry.
    #[error("the seal {0} has been retired")]
    SealRetired(String),
}

impl From<sqlx::Error> for RegistryError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &error
            && db.is_unique_violation()
        {
            return RegistryError::Conflict("the record".into());
        }
        RegistryError::Database(error.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for RegistryError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        RegistryError::Database(format!("migrating the schema: {error}"))
    }
}

type Result<T> = std::result::Result<T, RegistryError>;

/// The registry: a pool for reads, and one writer that commits the changes of concurrent
/// callers in groups (on SQLite over a single connection: its one writer at a time is better
/// queued in-process than retried on SQLITE_BUSY).
#[derive(Clone)]
pub struct Registry {
    read: AnyPool,
    write: AnyPool,
    writer: writer::Writer,
    backend: Backend,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: never printed.
        f.debug_struct("Registry")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Registry {
    /// Opens (creating when missing) the registry at `url` and brings its schema up to date.
    pub async fn open(url: &str) -> Result<Registry> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(RegistryError::Url(redact_url(url)));
        };
        let options =
            AnyConnectOptions::from_str(url).map_err(|e| RegistryError::Url(e.to_string()))?;
        let registry = match backend {
            Backend::Sqlite => {
                // sqlx's SQLite migrator takes no lock: processes opening a new file at once
                // would both create the schema. A file lock beside the database orders them.
                let _opening = sqlite_open_lock(url)?;
                let write = sqlite_pool(1).connect_with(options.clone()).await?;
                SQLITE_MIGRATIONS.run(&write).await?;
                // Readers connect on first use: a console command that only appends opens one
                // connection.
                let read = sqlite_pool(8).connect_lazy_with(options);
                Registry {
                    read,
                    writer: writer::Writer::start(write.clone(), backend),
                    write,
                    backend,
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(24)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                POSTGRES_MIGRATIONS.run(&pool).await?;
                Registry {
                    read: pool.clone(),
                    writer: writer::Writer::start(pool.clone(), backend),
                    write: pool,
                    backend,
                }
            }
        };
        Ok(registry)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pools, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    /// Appends an entry that records no other state change (a verification, a refusal).
    pub async fn record(&self, record: &AuditRecord, now_ms: i64) -> Result<AuditEntry> {
        self.write((record.clone(), now_ms), |batch, (record, now_ms)| {
            Box::pin(async move { Ok(batch.append(record, *now_ms)) })
        })
        .await
    }

    /// Runs `work` on `data` in the writer's next group transaction, with the audit chain's head
    /// held; returns its value once the group is durably committed. `work` may run more than
    /// once, so everything it does goes through the batch.
    async fn write<D, T, F>(&self, data: D, work: F) -> Result<T>
    where
        D: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'c> Fn(&'c mut Batch, &'c D) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
    {
        self.writer.write(data, work).await
    }

    /// Entries after `after`, oldest first, at most `limit`.
    pub async fn audit_entries(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT sequence, time_ms, actor, action, subject, details, previous_hash, hash \
             FROM audit WHERE sequence > $1 ORDER BY sequence LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(audit_entry).collect()
    }

    /// How many entries the chain head says there are.
    pub async fn audit_length(&self) -> Result<i64> {
        let row = sqlx::query("SELECT length FROM audit_head WHERE id = 1")
            .fetch_one(&self.read)
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Recomputes the whole chain; `Ok(Err(_))` names the first broken link.
    pub async fn verify_audit_chain(&self) -> Result<std::result::Result<i64, ChainBreak>> {
        // Head first: entries appended while we read are beyond it and not checked.
        let head = sqlx::query("SELECT length, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.read)
            .await?;
        let head_length: i64 = head.try_get(0)?;
        let head_hash: String = head.try_get(1)?;
        let head_hash = audit::parse_hash(&head_hash)
            .ok_or_else(|| RegistryError::Corrupt("the audit chain head's hash".into()))?;
        let mut verifier = ChainVerifier::default();
        let mut after = 0;
        while after < head_length {
            let page = self
                .audit_entries(after, 1000.min(head_length - after))
                .await?;
            let Some(last) = page.last() else { break };
            after = last.sequence;
            for entry in &page {
                if let Err(broken) = verifier.push(entry) {
                    return Ok(Err(broken));
                }
            }
        }
        // An append writes its entry and the head in one transaction, so an entry past the head
        // (read together, in one statement) means the head was moved back to hide it.
        let row = sqlx::query(
            "SELECT (SELECT MAX(sequence) FROM audit), (SELECT length FROM audit_head WHERE id = 1)",
        )
        .fetch_one(&self.read)
        .await?;
        let last: Option<i64> = row.try_get(0)?;
        let current_length: i64 = row.try_get(1)?;
        if let Some(last) = last.filter(|last| *last > current_length) {
            return Ok(Err(ChainBreak::Head {
                head_length: current_length,
                head_hash: audit::hex(&head_hash),
                length: last,
            }));
        }
        Ok(verifier.finish(head_length, &head_hash))
    }
}

fn sqlite_pool(connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(10))
        // An embedded database's connection cannot go stale: a ping per acquire is pure cost.
        .test_before_acquire(false)
        .after_connect(|connection, _| {
            Box::pin(async move {
                // WAL lets readers run beside the writer; synchronous=FULL makes each commit
                // durable (fsync) before it returns, which "committed before the response" needs.
                for pragma in [
                    "PRAGMA journal_mode = WAL",
                    "PRAGMA synchronous = FULL",
                    "PRAGMA busy_timeout = 10000",
                    "PRAGMA foreign_keys = ON",
                ] {
                    sqlx::query(pragma).execute(&mut *connection).await?;
                }
                Ok(())
            })
        })
}

/// An exclusive lock on `<database>.lock`, held while the database is opened and migrated.
fn sqlite_open_lock(url: &str) -> Result<Option<std::fs::File>> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(':') {
        return Ok(None);
    }
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(format!("{path}.lock"))
        .and_then(|file| file.lock().map(|()| file))
        .map_err(|e| RegistryError::Database(format!("cannot lock {path}.lock: {e}")))?;
    Ok(Some(lock))
}

fn audit_entry(row: &AnyRow) -> Result<AuditEntry> {
    let hash = |index: usize| -> Result<[u8; 32]> {
        let text: String = row.try_get(index)?;
        audit::parse_hash(&text)
            .ok_or_else(|| RegistryError::Corrupt("an audit entry's hash".into()))
    };
    Ok(AuditEntry {
        sequence: row.try_get(0)?,
        time_ms: row.try_get(1)?,
        actor: row.try_get(2)?,
        action: row.try_get(3)?,
        subject: row.try_get(4)?,
        details: row.try_get(5)?,
        previous_hash: hash(6)?,
        hash: hash(7)?,
    })
}

/// The URL without its password, for error messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!(
                "{}://…@{}",
                url.get(..scheme).unwrap_or(""),
                url.get(at + 1..).unwrap_or("")
            )
        }
        _ => url.chars().take(64).collect(),
    }
}
