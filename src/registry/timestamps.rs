//! The built-in TSA's record: every timestamp token, stored before it is signed, and the
//! serial and genTime counters that make tokens unique and ordered (docs/tsa.md).

use sqlx::Row;

use super::{Registry, RegistryError, Result};

/// What a timestamp is about to attest, as the service checked it.
#[derive(Clone, Debug)]
pub struct NewTimestamp {
    /// `sha256`, `sha384` or `sha512`.
    pub hash_algorithm: String,
    /// The hashed message in lowercase hex.
    pub hashed_message: String,
    /// The policy OID, dotted.
    pub policy: String,
    pub nonce_present: bool,
    /// The client's address.
    pub requester: String,
    /// SHA-256 (hex) of the TSA certificate.
    pub tsa_certificate: String,
}

/// The serial and genTime given to a timestamp, recorded and committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampSlot {
    pub serial: i64,
    pub time_ms: i64,
}

/// A recorded timestamp.
#[derive(Clone, Debug)]
pub struct TimestampRecord {
    pub serial: i64,
    pub time_ms: i64,
    pub hash_algorithm: String,
    pub hashed_message: String,
    pub policy: String,
    pub nonce_present: bool,
    pub requester: String,
    pub tsa_certificate: String,
}

impl Registry {
    /// Gives the next serial and a genTime no earlier than `now_ms` nor than the last token's,
    /// and records `timestamp` under them; answers once that is durably committed.
    ///
    /// One writer job: the counter row is read and advanced in the group's transaction, which
    /// holds the audit chain's head (SQLite's write lock, PostgreSQL's row lock), so no other
    /// job or instance can come between the read and the write.
    pub async fn record_timestamp(
        &self,
        timestamp: &NewTimestamp,
        now_ms: i64,
    ) -> Result<TimestampSlot> {
        self.write((timestamp.clone(), now_ms), |batch, (timestamp, now_ms)| {
            Box::pin(async move {
                let head =
                    sqlx::query("SELECT last_serial, last_time_ms FROM tsa_head WHERE id = 1")
                        .fetch_one(batch.connection())
                        .await?;
                let last_serial: i64 = head.try_get(0)?;
                let last_time_ms: i64 = head.try_get(1)?;
                let slot = TimestampSlot {
                    serial: last_serial.checked_add(1).ok_or_else(|| {
                        RegistryError::Corrupt("the TSA serial counter is exhausted".into())
                    })?,
                    time_ms: (*now_ms).max(last_time_ms),
                };
                sqlx::query("UPDATE tsa_head SET last_serial = $1, last_time_ms = $2 WHERE id = 1")
                    .bind(slot.serial)
                    .bind(slot.time_ms)
                    .execute(batch.connection())
                    .await?;
                sqlx::query(
                    "INSERT INTO timestamps (serial, time_ms, hash_algorithm, hashed_message, \
                         policy, nonce_present, requester, tsa_certificate) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(slot.serial)
                .bind(slot.time_ms)
                .bind(&timestamp.hash_algorithm)
                .bind(&timestamp.hashed_message)
                .bind(&timestamp.policy)
                .bind(i32::from(timestamp.nonce_present))
                .bind(&timestamp.requester)
                .bind(&timestamp.tsa_certificate)
                .execute(batch.connection())
                .await?;
                Ok(slot)
            })
        })
        .await
    }

    /// The timestamps recorded after serial `after`, in serial order, at most `limit`.
    pub async fn timestamps(&self, after: i64, limit: i64) -> Result<Vec<TimestampRecord>> {
        let rows = sqlx::query(
            "SELECT serial, time_ms, hash_algorithm, hashed_message, policy, nonce_present, \
             requester, tsa_certificate FROM timestamps WHERE serial > $1 \
             ORDER BY serial LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let nonce: i32 = row.try_get(5)?;
                Ok(TimestampRecord {
                    serial: row.try_get(0)?,
                    time_ms: row.try_get(1)?,
                    hash_algorithm: row.try_get(2)?,
                    hashed_message: row.try_get(3)?,
                    policy: row.try_get(4)?,
                    nonce_present: nonce != 0,
                    requester: row.try_get(6)?,
                    tsa_certificate: row.try_get(7)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn timestamp(n: usize) -> NewTimestamp {
        NewTimestamp {
            hash_algorithm: "sha256".into(),
            hashed_message: format!("{n:064x}"),
            policy: "2.25.1".into(),
            nonce_present: n.is_multiple_of(2),
            requester: "127.0.0.1".into(),
            tsa_certificate: "00".repeat(32),
        }
    }

    /// 4 tasks × 25 timestamps, the clock going backwards: serials 1..=100 each once, in the
    /// order of genTime, and genTime never decreasing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serials_are_unique_and_increasing_under_concurrency() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display());
        let registry = Registry::open(&url).await.unwrap();
        let mut tasks = Vec::new();
        for task in 0..4 {
            let registry = registry.clone();
            tasks.push(tokio::spawn(async move {
                let mut slots = Vec::new();
                for n in 0..25 {
                    let now = 1_000_000 - i64::from(task * 100 + n);
                    slots.push(
                        registry
                            .record_timestamp(&timestamp(n as usize), now)
                            .await
                            .unwrap(),
                    );
                }
                slots
            }));
        }
        let mut slots = Vec::new();
        for task in tasks {
            slots.extend(task.await.unwrap());
        }
        slots.sort_by_key(|slot| slot.serial);
        let serials: Vec<i64> = slots.iter().map(|slot| slot.serial).collect();
        assert_eq!(serials, (1..=100).collect::<Vec<i64>>());
        assert!(
            slots
                .windows(2)
                .all(|pair| pair[0].time_ms <= pair[1].time_ms)
        );
        let stored = registry.timestamps(0, 1000).await.unwrap();
        assert_eq!(stored.len(), 100);
        assert_eq!(stored[99].serial, 100);
        registry.close().await;
    }
}
