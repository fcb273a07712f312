//! Document timestamps (ISO 32000-2 §12.8.5, ETSI EN 319 142-1 §5.4.3): a signature field
//! whose `/Contents` is an RFC 3161 TimeStampToken over the document's ByteRange, SubFilter
//! ETSI.RFC3161. Appended over a document with its DSS, it makes a signature PAdES B-LTA.

use crate::pdf::{Dictionary, IncrementalUpdate, Limits, PdfFile};

use super::{
    ContentsGap, FormState, SignError, SignatureRequest, document_id, placeholder_dictionary,
};

/// Room kept in `/Contents` for the token when the caller does not say: a token carrying a
/// three-certificate RSA chain is under 8 KiB.
pub const DEFAULT_TOKEN_RESERVE: usize = 12 * 1024;

/// What the caller asks of one document timestamp.
#[derive(Clone, Debug)]
pub struct DocumentTimestampRequest {
    /// The field's name; `DocTimeStamp<n>` with the first unused n when absent.
    pub field_name: Option<String>,
    /// Bytes reserved in `/Contents` for the TimeStampToken.
    pub token_reserve: usize,
    pub limits: Limits,
}

impl Default for DocumentTimestampRequest {
    fn default() -> Self {
        Self {
            field_name: None,
            token_reserve: DEFAULT_TOKEN_RESERVE,
            limits: Limits::default(),
        }
    }
}

/// A document timestamp's revision with `/Contents` still empty: the digest the TSA must
/// stamp is known, the token goes in with [`PreparedDocumentTimestamp::finish`].
pub struct PreparedDocumentTimestamp {
    gap: ContentsGap,
}

impl PreparedDocumentTimestamp {
    /// SHA-256 over the ByteRange: the message imprint to ask the TSA for (§12.8.5).
    pub fn digest(&self) -> [u8; 32] {
        self.gap.digest()
    }

    /// Writes `token` (DER TimeStampToken) into `/Contents` and returns the whole file.
    pub fn finish(self, token: &[u8]) -> Result<Vec<u8>, SignError> {
        self.gap.fill(token)
    }
}

/// Appends an invisible document timestamp field to `input`. Allowed after any signature,
/// including a DocMDP P=1 certification: PAdES counts DSS and document timestamp revisions
/// as permitted (ETSI EN 319 142-1 §5.4.1).
pub fn prepare_document_timestamp(
    input: &[u8],
    request: &DocumentTimestampRequest,
) -> Result<PreparedDocumentTimestamp, SignError> {
    if request.token_reserve == 0 || request.token_reserve > 1 << 20 {
        return Err(SignError::InvalidRequest(
            "a document timestamp needs between 1 byte and 1 MiB reserved for its token".into(),
        ));
    }
    let file = PdfFile::open(input, request.limits)?;
    let form = FormState::read(&file)?;
    let mut field = SignatureRequest::new(time::OffsetDateTime::UNIX_EPOCH);
    field.limits = request.limits;
    field.field_name = Some(match &request.field_name {
        Some(name) if name.is_empty() || name.contains('.') => {
            return Err(SignError::InvalidRequest(
                "a field name must be non-empty and contain no '.'".into(),
            ));
        }
        Some(name) => name.clone(),
        None => form.unused_name("DocTimeStamp"),
    });
    let mut update = IncrementalUpdate::new(&file);
    let timestamp_id = update.allocate();
    update.set(timestamp_id, timestamp_dictionary(request.token_reserve));
    update.watch(timestamp_id, b"ByteRange");
    update.watch(timestamp_id, b"Contents");
    form.add_signature_field(&file, &mut update, timestamp_id, &field, "")?;
    let written = update.write(&file, document_id(&file, &field))?;
    Ok(PreparedDocumentTimestamp {
        gap: ContentsGap::patch(written, timestamp_id, request.token_reserve)?,
    })
}

/// `/Type /DocTimeStamp` with SubFilter ETSI.RFC3161 (ISO 32000-2 §12.8.5, Table 255).
fn timestamp_dictionary(reserve: usize) -> Dictionary {
    placeholder_dictionary(b"DocTimeStamp", b"ETSI.RFC3161", reserve)
}
