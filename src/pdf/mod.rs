//! pdf: being written.

/// Limits on an untrusted PDF.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_input_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_input_bytes: 256 << 20 }
    }
}
