//! pki: being written.
