//! Long-term validation, offline: the document's own validation data (its DSS), signature
//! timestamps as proof of existence, and the PAdES baseline level each signature reaches
//! (ETSI EN 319 142-1 §6, ETSI EN 319 102-1 §5.5–§5.6).

use ::cms::signed_data::SignerInfo;
use der::Encode;
use ring::digest;
use time::OffsetDateTime;

use super::chain::ValidatedPath;
use super::changes::Revision;
use super::revocation::Crls;
use super::tsp_client::{self, TsaTrust, TspClientError};
use super::{ProofOfExistence, rfc3339};
use crate::pdf::{Dictionary, Object, PdfFile};

/// Most certificates, and most CRLs, read from a DSS: a few paths and their CRLs need far fewer.
const MAX_STORE_ITEMS: usize = 64;
/// Largest DSS item read (a CRL's own cap, `pki::MAX_CRL_BYTES`, is below it).
const MAX_STORE_ITEM_BYTES: usize = 2 << 20;
/// Most bytes decoded from the newest DSS, all items together.
const MAX_STORE_BYTES: usize = 16 << 20;
/// Most bytes decoded from older revisions' DSS to date the items (B-LTA); past it, items keep
/// the later revision, which can only lower a level.
const MAX_HISTORY_BYTES: usize = 32 << 20;
/// Most signature timestamps looked at per signature (RFC 5652 allows any number).
const MAX_SIGNATURE_TIMESTAMPS: usize = 4;

/// id-aa-signatureTimeStampToken (RFC 3161 Appendix A, ETSI EN 319 122-1 §5.3).
const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");

/// The Document Security Store of the newest revision (ISO 32000-2 §12.8.4.3): what a verifier
/// may use offline besides what the caller gives.
#[derive(Debug, Default)]
pub(crate) struct DocumentStore {
    pub certificates: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
    /// For each certificate, the 1-based revision from which the DSS has held it: a document
    /// timestamp over that revision protects it (B-LTA).
    pub certificates_since: Vec<usize>,
    /// The same for each CRL.
    pub crls_since: Vec<usize>,
    /// Findings for the report: unreadable items, OCSP responses not used.
    pub notes: Vec<String>,
}

/// Reads the newest revision's DSS, `/VRI` ignored (validators search the whole store).
pub(crate) fn read_store(revisions: &[Revision<'_>]) -> DocumentStore {
    let Some(newest) = revisions.last() else {
        return DocumentStore::default();
    };
    let mut notes = Vec::new();
    let mut budget = MAX_STORE_BYTES;
    let Some(items) = store_items(&newest.file, Some(&mut notes), &mut budget) else {
        return DocumentStore {
            notes,
            ..DocumentStore::default()
        };
    };
    if items.ocsp_responses > 0 {
        notes.push(format!(
            "the document's DSS holds {} OCSP response(s); they are not read, only its CRLs count",
            items.ocsp_responses
        ));
    }
    // Walk back while older revisions still hold an item: the DSS has held it since then.
    let mut certificates_since = vec![newest.number; items.certificates.len()];
    let mut crls_since = vec![newest.number; items.crls.len()];
    let mut budget = MAX_HISTORY_BYTES;
    for older in revisions.iter().rev().skip(1) {
        let Some(earlier) = store_items(&older.file, None, &mut budget) else {
            break;
        };
        let mut any = false;
        for (since, list, held) in [
            (
                &mut certificates_since,
                &items.certificates,
                &earlier.certificates,
            ),
            (&mut crls_since, &items.crls, &earlier.crls),
        ] {
            for (since, item) in since.iter_mut().zip(list) {
                if *since == older.number + 1 && held.contains(item) {
                    *since = older.number;
                    any = true;
                }
            }
        }
        if !any {
            break;
        }
    }
    DocumentStore {
        certificates: items.certificates,
        crls: items.crls,
        certificates_since,
        crls_since,
        notes,
    }
}

/// A DSS's items, decoded.
struct StoreItems {
    certificates: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
    ocsp_responses: usize,
}

/// The catalog's `/DSS` in `file`, when there is one; problems go to `notes` when given.
/// Decoding stops once `budget` bytes are spent.
fn store_items(
    file: &PdfFile<'_>,
    mut notes: Option<&mut Vec<String>>,
    budget: &mut usize,
) -> Option<StoreItems> {
    let (_, catalog) = file.catalog().ok()?;
    let entry = catalog.get(b"DSS")?;
    let store = match file.resolve_dictionary(entry, "the DSS") {
        Ok(store) => store,
        Err(error) => {
            if let Some(notes) = notes.as_deref_mut() {
                notes.push(format!("the document's DSS cannot be read: {error}"));
            }
            return None;
        }
    };
    let certificates = streams(file, (&store, b"Certs"), notes.as_deref_mut(), budget);
    let crls = streams(file, (&store, b"CRLs"), notes, budget);
    let ocsp_responses = array(file, &store, b"OCSPs").len();
    Some(StoreItems {
        certificates,
        crls,
        ocsp_responses,
    })
}

fn array(file: &PdfFile<'_>, store: &Dictionary, key: &[u8]) -> Vec<Object> {
    store
        .get(key)
        .and_then(|value| file.resolve(value).ok())
        .and_then(|value| value.as_array().cloned())
        .unwrap_or_default()
}

/// The decoded streams `store[key]` lists, at most `MAX_STORE_ITEMS` of `MAX_STORE_ITEM_BYTES`,
/// while `budget` lasts.
fn streams(
    file: &PdfFile<'_>,
    (store, key): (&Dictionary, &[u8]),
    mut notes: Option<&mut Vec<String>>,
    budget: &mut usize,
) -> Vec<Vec<u8>> {
    let name = String::from_utf8_lossy(key).into_owned();
    let listed = array(file, store, key);
    let mut note = |text: String| {
        if let Some(notes) = notes.as_deref_mut() {
            notes.push(text);
        }
    };
    if listed.len() > MAX_STORE_ITEMS {
        note(format!(
            "the DSS lists {} /{name}; only the first {MAX_STORE_ITEMS} are read",
            listed.len()
        ));
    }
    let mut items = Vec::new();
    for (index, item) in listed.iter().take(MAX_STORE_ITEMS).enumerate() {
        let read = match item {
            Object::Reference(id) => file
                .stream_contents(*id, MAX_STORE_ITEM_BYTES.min(*budget))
                .map_err(|e| e.to_string()),
            _ => Err("not a stream reference".to_string()),
        };
        match read {
            Ok(bytes) => {
                *budget = budget.saturating_sub(bytes.len());
                items.push(bytes);
            }
            Err(error) => note(format!(
                "item {} of the DSS's /{name} was ignored: {error}",
                index + 1
            )),
        }
    }
    items
}

/// A document timestamp that passed (ISO 32000-2 §12.8.5): everything in the revisions it
/// covers existed at its genTime (ETSI EN 319 102-1 §5.6.2.3).
#[derive(Clone, Debug)]
pub(crate) struct DocumentProof {
    /// 1-based revision its ByteRange ends with.
    pub revision: usize,
    pub time: OffsetDateTime,
    pub path: ValidatedPath,
}

impl DocumentProof {
    pub(crate) fn as_proof(&self) -> ProofOfExistence {
        ProofOfExistence {
            time: self.time,
            evidence: format!("the document timestamp over revision {}", self.revision),
        }
    }
}

/// The earliest valid document timestamp covering `revision` (a later revision's), if any.
pub(crate) fn earliest_covering(
    proofs: &[DocumentProof],
    revision: usize,
) -> Option<&DocumentProof> {
    proofs
        .iter()
        .filter(|proof| proof.revision > revision)
        .min_by_key(|proof| proof.time)
}

/// A signature timestamp that passed: the signature value existed at `time`.
#[derive(Clone, Debug)]
pub(crate) struct StampProof {
    pub time: OffsetDateTime,
    pub path: ValidatedPath,
}

/// Every id-aa-signatureTimeStampToken of `info`, checked (ETSI EN 319 122-1 §5.3): the earliest
/// valid one, and one message per token that is not valid. A token whose TSA certificate has
/// expired since is still valid when `later` (a document timestamp over it) proves the token
/// existed while that certificate was valid (ETSI EN 319 102-1 §5.6.2.4, simplified).
pub(crate) fn signature_timestamps(
    info: &SignerInfo,
    trust: &TsaTrust<'_>,
    later: Option<&DocumentProof>,
) -> (Option<StampProof>, Vec<String>) {
    let tokens: Vec<Vec<u8>> = info
        .unsigned_attrs
        .iter()
        .flat_map(|attributes| attributes.iter())
        .filter(|attribute| attribute.oid == ID_AA_SIGNATURE_TIME_STAMP_TOKEN)
        .flat_map(|attribute| attribute.values.iter())
        .take(MAX_SIGNATURE_TIMESTAMPS)
        .filter_map(|value| value.to_der().ok())
        .collect();
    let mut best: Option<StampProof> = None;
    let mut messages = Vec::new();
    for token in tokens {
        match check_signature_timestamp(&token, info.signature.as_bytes(), trust, later) {
            Ok((stamp, note)) => {
                messages.extend(note);
                if best.as_ref().is_none_or(|b| stamp.time < b.time) {
                    best = Some(stamp);
                }
            }
            Err(error) => messages.push(format!(
                "the signature timestamp is not valid and proves nothing: {error}"
            )),
        }
    }
    (best, messages)
}

/// One token: its imprint must be the hash of the signature value; then its signature, ESS and
/// TSA path (`tsp_client`), the path at `trust.validation_time` or else at `later`'s time.
fn check_signature_timestamp(
    token: &[u8],
    signature_value: &[u8],
    trust: &TsaTrust<'_>,
    later: Option<&DocumentProof>,
) -> Result<(StampProof, Option<String>), TspClientError> {
    if token.len() > tsp_client::MAX_RESPONSE_BYTES {
        return Err(TspClientError::TooLarge(token.len()));
    }
    let read = tsp_client::read_token(token)?;
    let algorithm = super::signature::digest_for(&read.info.hash_algorithm.oid)
        .ok_or_else(|| TspClientError::BadToken("its imprint's hash is not accepted".into()))?;
    if digest::digest(algorithm, signature_value).as_ref() != read.info.hashed_message.as_slice() {
        return Err(TspClientError::ImprintMismatch);
    }
    let now = match tsp_client::check_token_signer(&read, trust) {
        Ok(signer) => {
            return Ok((
                StampProof {
                    time: read.generation_time,
                    path: signer.path,
                },
                None,
            ));
        }
        Err(error) => error,
    };
    let Some(later) = later.filter(|l| l.time < trust.validation_time) else {
        return Err(now);
    };
    let then = TsaTrust {
        validation_time: later.time,
        ..*trust
    };
    let why = now.to_string();
    let signer = tsp_client::check_token_signer(&read, &then).map_err(|_| now)?;
    let note = format!(
        "the signature timestamp's TSA certificate is not valid at the validation time ({why}), but was at {}, when {} proves the timestamp existed",
        rfc3339(later.time),
        later.as_proof().evidence
    );
    Ok((
        StampProof {
            time: read.generation_time,
            path: signer.path,
        },
        Some(note),
    ))
}

/// What one signature's checks found that its PAdES level depends on.
#[derive(Clone, Debug, Default)]
pub(crate) struct Evidence {
    /// A PAdES signature (ETSI.CAdES.detached) whose bytes, value and ESS checked out.
    pub baseline: bool,
    /// The signer's validated path.
    pub signer_path: Option<ValidatedPath>,
    /// A valid signature timestamp.
    pub stamp: Option<StampProof>,
}

/// The PAdES baseline level a signature reaches (ETSI EN 319 142-1 §6.1–§6.4):
/// - B-B: a valid ETSI.CAdES.detached signature;
/// - B-T: and a valid signature timestamp, or a valid document timestamp over it;
/// - B-LT: and the DSS holds every certificate but the anchor of the signer's path and the
///   timestamp's TSA path, and a CRL from the issuer of each of them;
/// - B-LTA: and a valid document timestamp covers a revision whose DSS already held them (the
///   newest timestamp's own validation data may come after it, for the next one to cover).
pub(crate) fn pades_level(
    evidence: &Evidence,
    revision: usize,
    proofs: &[DocumentProof],
    store: &DocumentStore,
    crls: &Crls,
) -> Option<&'static str> {
    if !evidence.baseline {
        return None;
    }
    let stamp_path = match (&evidence.stamp, earliest_covering(proofs, revision)) {
        (Some(stamp), _) => &stamp.path,
        (None, Some(document)) => &document.path,
        (None, None) => return Some("B-B"),
    };
    let Some(signer_path) = &evidence.signer_path else {
        return Some("B-T");
    };
    let (Some(signer_since), Some(stamp_since)) = (
        validation_data_since(signer_path, store, crls),
        validation_data_since(stamp_path, store, crls),
    ) else {
        return Some("B-T");
    };
    let since = signer_since.max(stamp_since);
    let archived = proofs
        .iter()
        .any(|proof| proof.revision >= since && proof.revision > revision);
    Some(if archived { "B-LTA" } else { "B-LT" })
}

/// The revision from which the DSS has held every certificate of `path` but the anchor and a
/// CRL from each one's issuer; None when it lacks any.
fn validation_data_since(
    path: &ValidatedPath,
    store: &DocumentStore,
    crls: &Crls,
) -> Option<usize> {
    let mut since = 0;
    for (certificate, issuer) in path.issued_pairs() {
        let held = store
            .certificates
            .iter()
            .zip(&store.certificates_since)
            .filter(|(c, _)| c.as_slice() == certificate)
            .map(|(_, since)| *since)
            .min()?;
        let revoked_data = crls
            .document_crls_from(issuer)
            .into_iter()
            .filter_map(|index| store.crls_since.get(index).copied())
            .min()?;
        since = since.max(held).max(revoked_data);
    }
    Some(since)
}
