//! Sign a PDF: an incremental update carrying a PAdES B-B signature made through a `Signer`.

use time::OffsetDateTime;

use crate::seal::Signer;

/// What the caller asks of one signature. Time is passed in: the core reads no clock.
#[derive(Clone, Debug)]
pub struct SignatureRequest {
    /// `/M`: the claimed signing time (PAdES carries it here, not in a signed attribute).
    pub signing_time: OffsetDateTime,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub contact_info: Option<String>,
    /// The signature field's name; a fresh unique one is chosen when absent.
    pub field_name: Option<String>,
    /// Make a certification signature (DocMDP) with this permission level.
    pub certify: Option<DocMdpPermission>,
    /// Draw the signature on a page; invisible when absent.
    pub visible: Option<VisibleSignature>,
    /// Bytes kept free in `/Contents` beyond the CMS itself, for a timestamp token added later.
    pub timestamp_reserve: usize,
    /// Input limits for the untrusted PDF.
    pub limits: crate::pdf::Limits,
}

impl SignatureRequest {
    /// An invisible approval signature at `signing_time` with default limits.
    pub fn new(signing_time: OffsetDateTime) -> Self {
        Self {
            signing_time,
            reason: None,
            location: None,
            contact_info: None,
            field_name: None,
            certify: None,
            visible: None,
            timestamp_reserve: 0,
            limits: crate::pdf::Limits::default(),
        }
    }
}

/// DocMDP permission levels (ISO 32000-2 §12.8.2.2.2, Table 257).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocMdpPermission {
    /// P=1: no changes at all.
    NoChanges = 1,
    /// P=2: filling forms and signing.
    FormFilling = 2,
    /// P=3: form filling, signing and annotations.
    Annotations = 3,
}

/// Where a visible signature goes: a 1-based page number and a rectangle in PDF points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VisibleSignature {
    pub page: u32,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}
