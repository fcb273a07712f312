//! The registry's one writer: write transactions from every task are queued and committed in
//! groups, so that the changes in flight share one durable commit (one fsync, one round of
//! locking) instead of each paying its own.
//!
//! A caller hands over its work as a job and waits for the answer, which is sent only once the
//! group's transaction is durably committed (or has failed): "committed before answered" holds
//! as it did with one transaction per change. The group holds the audit chain's head for its
//! whole transaction (SQLite's write lock, PostgreSQL's `FOR UPDATE`), so its jobs append to
//! the chain one after another in memory; the entries and the new head are written once, at
//! the end of the group. A job that fails rolls the whole group back; it is answered with its
//! error and the others run again in a new group, so no job sees another's failure.

use std::future::Future;
use std::pin::Pin;

use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Row};
use tokio::sync::{mpsc, oneshot};

use super::audit::{self, AuditEntry, AuditRecord};
use super::{Backend, RegistryError, Result};

/// Most jobs in one group: bounds one transaction's size (each issuance carries its PDF).
const MAX_GROUP: usize = 64;
/// Jobs waiting for the writer before callers wait to queue theirs.
const QUEUE: usize = 1024;
/// Audit entries per INSERT: 8 parameters each, far under either database's limit.
const ENTRIES_PER_INSERT: usize = 64;

/// A boxed future that may borrow for `'c`.
pub type BoxFuture<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;

/// Where callers queue their jobs; cheap to clone.
#[derive(Clone)]
pub(super) struct Writer {
    queue: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    /// Starts the writer on `pool`, which it uses one connection at a time.
    pub(super) fn start(pool: AnyPool, backend: Backend) -> Writer {
        let (queue, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, backend, jobs));
        Writer { queue }
    }

    /// Runs `work` on `data` in the next group's transaction and returns its value once that is
    /// committed. `work` may run more than once (when another job of its group fails), so it
    /// must do everything it does through the batch.
    pub(super) async fn write<D, T, F>(&self, data: D, work: F) -> Result<T>
    where
        D: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'c> Fn(&'c mut Batch, &'c D) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Queued {
            work,
            data,
            result: None,
            reply,
        });
        self.queue
            .send(job)
            .await
            .map_err(|_| RegistryError::Database("the registry writer has stopped".into()))?;
        answer.await.map_err(|_| {
            RegistryError::Database("the registry writer stopped before committing".into())
        })?
    }
}

/// The group's open transaction, as a job sees it.
pub struct Batch {
    transaction: sqlx::Transaction<'static, sqlx::Any>,
    /// Length and hash of the chain's last entry, this group's appends included.
    head: (i64, [u8; 32]),
    /// Entries appended by this group's jobs, written at the end of the group.
    entries: Vec<AuditEntry>,
}

impl Batch {
    /// The transaction's connection, for the job's statements.
    pub fn connection(&mut self) -> &mut AnyConnection {
        &mut self.transaction
    }

    /// Places `record` at the head of the chain; it is written with the group.
    pub fn append(&mut self, record: &AuditRecord, now_ms: i64) -> AuditEntry {
        let (length, previous) = self.head;
        let entry = record.chain(length + 1, now_ms, previous);
        self.head = (entry.sequence, entry.hash);
        self.entries.push(entry.clone());
        entry
    }
}

/// A job with its value type erased, so that one queue holds them all.
trait Job: Send {
    /// Runs the work inside the group's transaction; `false` when it failed.
    fn run<'c>(&'c mut self, batch: &'c mut Batch) -> BoxFuture<'c, bool>;
    /// Answers the caller: the work's own error, or its value if `group` committed.
    fn finish(self: Box<Self>, group: Result<()>);
}

struct Queued<D, T, F> {
    work: F,
    data: D,
    result: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<D, T, F> Job for Queued<D, T, F>
where
    D: Send + Sync + 'static,
    T: Send + 'static,
    F: for<'c> Fn(&'c mut Batch, &'c D) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
{
    fn run<'c>(&'c mut self, batch: &'c mut Batch) -> BoxFuture<'c, bool> {
        let Queued {
            work, data, result, ..
        } = self;
        Box::pin(async move {
            let outcome = work(batch, data).await;
            let succeeded = outcome.is_ok();
            *result = Some(outcome);
            succeeded
        })
    }

    fn finish(self: Box<Self>, group: Result<()>) {
        let answer = match (self.result, group) {
            (Some(Err(error)), _) => Err(error),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (Some(Ok(_)) | None, Err(error)) => Err(error),
            (None, Ok(())) => Err(RegistryError::Database(
                "the registry writer skipped a job".into(),
            )),
        };
        // The caller may have gone (its request was dropped); the change stands regardless.
        let _ = self.reply.send(answer);
    }
}

/// How a group's transaction ended.
enum Group {
    Committed,
    /// The job at this index failed; the transaction was rolled back.
    JobFailed(usize),
    /// The database failed; nothing was committed.
    Failed(RegistryError),
}

/// Takes whatever is queued, up to a group's size, and commits it together; repeats.
async fn run(pool: AnyPool, backend: Backend, mut queue: mpsc::Receiver<Box<dyn Job>>) {
    let mut jobs = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut jobs, MAX_GROUP).await > 0 {
        loop {
            match commit_group(&pool, backend, &mut jobs).await {
                Group::Committed => {
                    for job in jobs.drain(..) {
                        job.finish(Ok(()));
                    }
                    break;
                }
                Group::JobFailed(index) => {
                    // Rolled back: the failed job is answered, the others run again.
                    jobs.remove(index).finish(Ok(()));
                }
                Group::Failed(error) => {
                    for job in jobs.drain(..) {
                        job.finish(Err(error.clone()));
                    }
                    break;
                }
            }
        }
    }
}

async fn commit_group(pool: &AnyPool, backend: Backend, jobs: &mut [Box<dyn Job>]) -> Group {
    let mut batch = match begin(pool, backend).await {
        Ok(batch) => batch,
        Err(error) => return Group::Failed(error),
    };
    for (index, job) in jobs.iter_mut().enumerate() {
        if !job.run(&mut batch).await {
            // Dropping the transaction rolls it back.
            return Group::JobFailed(index);
        }
    }
    match finish_group(batch).await {
        Ok(()) => Group::Committed,
        Err(error) => Group::Failed(error),
    }
}

/// Opens the group's transaction and takes the chain's head. SQLite takes its write lock at
/// once (BEGIN IMMEDIATE), so no job can fail half-way on another process's writer; PostgreSQL
/// locks the head row, so instances sharing the database append one group at a time.
async fn begin(pool: &AnyPool, backend: Backend) -> Result<Batch> {
    let mut transaction = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    };
    let head = sqlx::query(match backend {
        Backend::Postgres => "SELECT length, hash FROM audit_head WHERE id = 1 FOR UPDATE",
        Backend::Sqlite => "SELECT length, hash FROM audit_head WHERE id = 1",
    })
    .fetch_one(&mut *transaction)
    .await?;
    let length: i64 = head.try_get(0)?;
    let hash: String = head.try_get(1)?;
    let hash = audit::parse_hash(&hash)
        .ok_or_else(|| RegistryError::Corrupt("the audit chain head's hash".into()))?;
    Ok(Batch {
        transaction,
        head: (length, hash),
        entries: Vec::new(),
    })
}

/// Writes the group's audit entries and the new head, then commits (durably: SQLite's
/// synchronous=FULL, PostgreSQL's default synchronous_commit).
async fn finish_group(mut batch: Batch) -> Result<()> {
    for chunk in batch.entries.chunks(ENTRIES_PER_INSERT) {
        let mut query = sqlx::query(AssertSqlSafe(insert_entries_sql(chunk.len())));
        for entry in chunk {
            query = query
                .bind(entry.sequence)
                .bind(entry.time_ms)
                .bind(&entry.actor)
                .bind(&entry.action)
                .bind(&entry.subject)
                .bind(&entry.details)
                .bind(audit::hex(&entry.previous_hash))
                .bind(audit::hex(&entry.hash));
        }
        query.execute(&mut *batch.transaction).await?;
    }
    if !batch.entries.is_empty() {
        let (length, hash) = batch.head;
        sqlx::query("UPDATE audit_head SET length = $1, hash = $2 WHERE id = 1")
            .bind(length)
            .bind(audit::hex(&hash))
            .execute(&mut *batch.transaction)
            .await?;
    }
    batch.transaction.commit().await?;
    Ok(())
}

/// `INSERT INTO audit … VALUES ($1, …, $8), ($9, …)` for `rows` entries: only placeholders
/// are generated, never values.
fn insert_entries_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO audit (sequence, time_ms, actor, action, subject, details, previous_hash, hash) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        let first = row * 8 + 1;
        let placeholders: Vec<String> = (first..first + 8).map(|n| format!("${n}")).collect();
        sql.push('(');
        sql.push_str(&placeholders.join(", "));
        sql.push(')');
    }
    sql
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::time::Duration;

    use super::super::Registry;
    use super::*;

    fn record(subject: &str) -> AuditRecord {
        AuditRecord::new("test", "test.written", subject, serde_json::json!({}))
    }

    /// Jobs queued while the writer is busy share the next group; one of them fails after
    /// writing: it alone is answered with its error, none of its writes stay, the others commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_leaves_its_group_whole() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display());
        let registry = Registry::open(&url).await.unwrap();
        let busy = {
            let registry = registry.clone();
            tokio::spawn(async move {
                registry
                    .write((), |batch, ()| {
                        Box::pin(async move {
                            tokio::time::sleep(Duration::from_millis(300)).await;
                            Ok(batch.append(&record("first"), 1))
                        })
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut queued = Vec::new();
        for n in 0..5 {
            let registry = registry.clone();
            queued.push(tokio::spawn(async move {
                registry
                    .write(n, |batch, n| {
                        Box::pin(async move {
                            let entry = batch.append(&record(&format!("job {n}")), 2);
                            sqlx::query("INSERT INTO tokens (id, name, role, department, secret_hash, created_at_ms) VALUES ($1, 'n', 'admin', NULL, $2, 0)")
                                .bind(format!("token-{n}"))
                                .bind(vec![0u8; 32])
                                .execute(batch.connection())
                                .await?;
                            if *n == 2 {
                                return Err(RegistryError::Conflict(format!("job {n}")));
                            }
                            Ok(entry)
                        })
                    })
                    .await
            }));
        }
        assert_eq!(busy.await.unwrap().unwrap().sequence, 1);
        let mut answers = Vec::new();
        for job in queued {
            answers.push(job.await.unwrap());
        }
        assert!(matches!(&answers[2], Err(RegistryError::Conflict(what)) if what == "job 2"));
        let mut sequences: Vec<i64> = answers
            .iter()
            .filter_map(|answer| answer.as_ref().ok().map(|entry| entry.sequence))
            .collect();
        sequences.sort_unstable();
        assert_eq!(
            sequences,
            [2, 3, 4, 5],
            "the chain continues without the failed job"
        );
        assert_eq!(registry.verify_audit_chain().await.unwrap(), Ok(5));
        let tokens = registry.tokens().await.unwrap();
        let ids: Vec<&str> = tokens.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["token-0", "token-1", "token-3", "token-4"]);
        registry.close().await;
    }

    #[test]
    fn insert_sql_numbers_every_placeholder_once() {
        assert_eq!(
            insert_entries_sql(2),
            "INSERT INTO audit (sequence, time_ms, actor, action, subject, details, previous_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8), ($9, $10, $11, $12, $13, $14, $15, $16)"
        );
    }
}
