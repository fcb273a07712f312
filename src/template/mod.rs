//! Template bundles and e-licence rendering: manifests, validation, the embedded font, QR codes,
//! the drawn seal, and the overlay revision that puts the data on the department's blank.
//!
//! Pure: bundles and data arrive as bytes and text; the issuance date and serial are passed in.

pub mod bundle;
pub mod data;
pub mod font;
pub mod layout;
pub mod manifest;
pub mod qr;
pub mod seal_drawing;

use std::fmt;

/// One thing wrong with a bundle or with issuance data, and where: a field name, a manifest key
/// or a PDF object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where the problem is, e.g. `field 'operator_name'` or `template.pdf object 12 0`.
    pub place: String,
    /// What is wrong, in words a department clerk can act on.
    pub message: String,
}

impl Problem {
    pub fn new(place: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            place: place.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}
