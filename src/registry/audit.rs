//! The audit trail's hash chain: each entry commits to everything before it, so an entry
//! cannot be changed, removed or reordered without breaking every later link.
//!
//! Pure: the storage (`super::Registry`) calls these on the values it reads and writes.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `previous_hash` of the first entry.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// Domain separation: a hash made for anything else cannot pass for an entry's.
const DOMAIN: &[u8] = b"oneseal audit entry v1\0";

/// One recorded state change or signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// 1, 2, 3, … with no gaps.
    pub sequence: i64,
    /// Unix time in milliseconds, UTC.
    pub time_ms: i64,
    /// Who: `token:<id> (<name>, <role>)`, `console` or `service`.
    pub actor: String,
    /// What, as a stable dotted name (`certificate.issued`).
    pub action: String,
    /// What it was done to (a serial, `template/<id>/<version>`, `token:<id>`).
    pub subject: String,
    /// A JSON object with the particulars.
    pub details: String,
    #[serde(serialize_with = "hex_bytes")]
    pub previous_hash: [u8; 32],
    #[serde(serialize_with = "hex_bytes")]
    pub hash: [u8; 32],
}

/// What an entry says, before it is placed in the chain.
#[derive(Clone, Debug)]
pub struct AuditRecord {
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub details: serde_json::Value,
}

impl AuditRecord {
    pub fn new(
        actor: impl Into<String>,
        action: &str,
        subject: impl Into<String>,
        details: serde_json::Value,
    ) -> Self {
        Self {
            actor: actor.into(),
            action: action.to_string(),
            subject: subject.into(),
            details,
        }
    }

    /// Places the record after the entry `(sequence - 1, previous_hash)`.
    pub fn chain(&self, sequence: i64, time_ms: i64, previous_hash: [u8; 32]) -> AuditEntry {
        let details = self.details.to_string();
        let hash = entry_hash(
            sequence,
            time_ms,
            &self.actor,
            &self.action,
            &self.subject,
            &details,
            &previous_hash,
        );
        AuditEntry {
            sequence,
            time_ms,
            actor: self.actor.clone(),
            action: self.action.clone(),
            subject: self.subject.clone(),
            details,
            previous_hash,
            hash,
        }
    }
}

/// SHA-256 over an unambiguous encoding: fixed-width integers, then each text field prefixed by
/// its length, so no two different entries encode to the same bytes.
pub fn entry_hash(
    sequence: i64,
    time_ms: i64,
    actor: &str,
    action: &str,
    subject: &str,
    details: &str,
    previous_hash: &[u8; 32],
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    hasher.update(sequence.to_be_bytes());
    hasher.update(time_ms.to_be_bytes());
    for text in [actor, action, subject, details] {
        hasher.update((text.len() as u64).to_be_bytes());
        hasher.update(text.as_bytes());
    }
    hasher.update(previous_hash);
    hasher.finalize().into()
}

/// Where the chain first stops holding; each message names the first entry in question.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("{}", gap_message(*expected_after, *found))]
    Gap { expected_after: i64, found: i64 },
    #[error("entry {0} does not link to the hash of the entry before it")]
    Link(i64),
    #[error("entry {0} was altered: its contents do not match its hash")]
    Altered(i64),
    /// The stored head (length and hash of the last entry) disagrees with the entries: the last
    /// ones were removed, the head was moved back (`length` is then the last entry found past
    /// it), or the head or the last entry was rewritten.
    #[error("{}", head_message(*head_length, head_hash, *length))]
    Head {
        head_length: i64,
        head_hash: String,
        length: i64,
    },
}

fn gap_message(expected_after: i64, found: i64) -> String {
    if found > expected_after + 1 {
        format!(
            "entry {} is missing: entry {found} follows entry {expected_after}",
            expected_after + 1
        )
    } else {
        format!("entry {found} is out of order: it follows entry {expected_after}")
    }
}

fn head_message(head_length: i64, head_hash: &str, length: i64) -> String {
    match length.cmp(&head_length) {
        std::cmp::Ordering::Less => format!(
            "entry {} is missing: the chain ends at entry {length} but its head says {head_length} entries",
            length + 1
        ),
        std::cmp::Ordering::Greater => format!(
            "entry {} lies beyond the chain head ({head_length} entries): the head was moved back",
            head_length + 1
        ),
        std::cmp::Ordering::Equal => format!(
            "the chain head does not match entry {length}: its hash {head_hash} is not that entry's"
        ),
    }
}

/// Checks entries one at a time, in order, carrying only the last link.
#[derive(Clone, Debug)]
pub struct ChainVerifier {
    sequence: i64,
    hash: [u8; 32],
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            sequence: 0,
            hash: GENESIS_HASH,
        }
    }
}

impl ChainVerifier {
    /// Accepts the next entry, or names how it breaks the chain.
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        if entry.sequence != self.sequence + 1 {
            return Err(ChainBreak::Gap {
                expected_after: self.sequence,
                found: entry.sequence,
            });
        }
        if entry.previous_hash != self.hash {
            return Err(ChainBreak::Link(entry.sequence));
        }
        let recomputed = entry_hash(
            entry.sequence,
            entry.time_ms,
            &entry.actor,
            &entry.action,
            &entry.subject,
            &entry.details,
            &entry.previous_hash,
        );
        if recomputed != entry.hash {
            return Err(ChainBreak::Altered(entry.sequence));
        }
        self.sequence = entry.sequence;
        self.hash = entry.hash;
        Ok(())
    }

    /// Checks that the stored head names the last entry seen, so truncation shows.
    pub fn finish(&self, head_length: i64, head_hash: &[u8; 32]) -> Result<i64, ChainBreak> {
        if head_length != self.sequence || *head_hash != self.hash {
            return Err(ChainBreak::Head {
                head_length,
                head_hash: hex(head_hash),
                length: self.sequence,
            });
        }
        Ok(self.sequence)
    }
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut text, byte| {
            let _ = write!(text, "{byte:02x}");
            text
        })
}

/// Reads 64 hexadecimal digits.
pub fn parse_hash(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *slot = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

fn hex_bytes<S: serde::Serializer>(bytes: &[u8; 32], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&hex(bytes))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut entries = Vec::new();
        let mut previous = GENESIS_HASH;
        for sequence in 1..=n {
            let record = AuditRecord::new(
                "console",
                "token.created",
                format!("token:{sequence}"),
                serde_json::json!({"n": sequence}),
            );
            let entry = record.chain(sequence, 1_700_000_000_000 + sequence, previous);
            previous = entry.hash;
            entries.push(entry);
        }
        entries
    }

    fn verify(entries: &[AuditEntry]) -> Result<i64, ChainBreak> {
        let mut verifier = ChainVerifier::default();
        for entry in entries {
            verifier.push(entry)?;
        }
        let last = entries
            .last()
            .map_or((0, GENESIS_HASH), |e| (e.sequence, e.hash));
        verifier.finish(last.0, &last.1)
    }

    #[test]
    fn a_whole_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn an_altered_entry_is_named() {
        let mut entries = chain(5);
        entries[2].details = "{\"n\":99}".into();
        assert_eq!(verify(&entries), Err(ChainBreak::Altered(3)));
    }

    #[test]
    fn a_rehashed_entry_breaks_the_next_link() {
        let mut entries = chain(5);
        let record = AuditRecord::new("console", "token.created", "x", serde_json::json!({}));
        entries[2] = record.chain(3, 0, entries[1].hash);
        assert_eq!(verify(&entries), Err(ChainBreak::Link(4)));
    }

    #[test]
    fn a_removed_entry_is_a_gap() {
        let mut entries = chain(5);
        entries.remove(1);
        let broken = verify(&entries).unwrap_err();
        assert_eq!(
            broken,
            ChainBreak::Gap {
                expected_after: 1,
                found: 3
            }
        );
        assert!(
            broken.to_string().starts_with("entry 2 is missing"),
            "{broken}"
        );
    }

    #[test]
    fn truncation_shows_against_the_head() {
        let entries = chain(5);
        let mut verifier = ChainVerifier::default();
        for entry in &entries[..4] {
            verifier.push(entry).unwrap();
        }
        let broken = verifier.finish(5, &entries[4].hash).unwrap_err();
        assert!(matches!(broken, ChainBreak::Head { length: 4, .. }));
        assert!(
            broken.to_string().starts_with("entry 5 is missing"),
            "{broken}"
        );
        let rewritten = verifier.finish(4, &entries[0].hash).unwrap_err();
        assert!(
            rewritten.to_string().contains("does not match entry 4"),
            "{rewritten}"
        );
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let a = entry_hash(1, 0, "ab", "c", "", "", &GENESIS_HASH);
        let b = entry_hash(1, 0, "a", "bc", "", "", &GENESIS_HASH);
        assert_ne!(a, b);
    }

    #[test]
    fn hex_round_trips() {
        let hash = chain(1)[0].hash;
        assert_eq!(parse_hash(&hex(&hash)), Some(hash));
        assert_eq!(parse_hash("zz"), None);
    }
}
