//! PDF files as signing sees them: cross-reference data, a few objects read lazily, and an
//! incremental update appended after the original bytes (ISO 32000-2 §7.5.6).
//!
//! Pure: bytes in, bytes out.

pub mod content;
mod file;
mod form;
mod lexer;
pub mod object;
#[cfg(test)]
pub(crate) mod testing;
mod write;
mod xref;

pub use file::{Page, PdfFile, rectangle};
pub use form::{FormField, form_fields};
pub use object::{Dictionary, IndirectValue, Object, ObjectId, Real, StringForm};
pub use write::{IncrementalUpdate, WrittenUpdate, deflate, hex_upper_into, serialize};
pub use xref::XrefForm;

/// The offset the last `startxref` of `bytes` names (ISO 32000-2 §7.5.5).
pub fn startxref_offset(bytes: &[u8]) -> Result<usize, PdfError> {
    xref::find_startxref(bytes)
}

/// Limits on an untrusted PDF.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_input_bytes: usize,
    /// Most cross-reference entries accepted.
    pub max_objects: usize,
    /// Largest decoded object or cross-reference stream.
    pub max_decoded_stream: usize,
    /// Most bytes all object streams of a file may decode to together: each is cached once
    /// read, so without a total a file of many small compressed streams could fill memory.
    pub max_decoded_object_streams: usize,
    /// Most items read from one array (page kids, fields, annotations).
    pub max_array_items: usize,
    /// Most copying that reads of already parsed objects may do, beyond one unit per byte of
    /// the file, counted in objects plus string and name bytes. Each read hands out a copy, so
    /// without a total one large object named thousands of times (page kids, annotations)
    /// costs thousands of copies.
    pub max_repeated_copies: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 256 << 20,
            max_objects: 4_000_000,
            max_decoded_stream: 64 << 20,
            max_decoded_object_streams: 1 << 30,
            max_array_items: 100_000,
            max_repeated_copies: 16 << 20,
        }
    }
}

/// Why a PDF cannot be read or appended to. Messages name the byte offset or object.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PdfError {
    /// Over the configured input size.
    #[error("the file is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    /// No `%PDF-` header at all.
    #[error("not a PDF: the file does not start with %PDF-")]
    NotPdf,
    /// Bytes before the header would shift every offset of an appended revision.
    #[error("{0} bytes come before the %PDF- header; remove them first")]
    JunkBeforeHeader(usize),
    /// Encrypted documents are refused: signing them needs the password and re-encryption.
    #[error("the PDF is encrypted; decrypt it before sealing")]
    Encrypted,
    /// The cross-reference data does not match the file.
    #[error("damaged cross-reference data ({0}); the file is truncated or corrupt")]
    DamagedXref(String),
    /// A token or object could not be parsed.
    #[error("syntax error at byte {offset}: {what}")]
    Syntax { offset: usize, what: String },
    /// The document structure is not what ISO 32000 requires.
    #[error("{0}")]
    Structure(String),
    /// A stream could not be decoded within the limits.
    #[error("cannot decode a stream: {0}")]
    Stream(String),
    /// More objects than the limit.
    #[error("more than {limit} objects")]
    TooManyObjects { limit: usize },
    /// The requested page does not exist.
    #[error("the document has no page {0}")]
    NoSuchPage(u32),
}
