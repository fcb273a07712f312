//! Use cases: what the bureau does, composed from the pure core and the seal.
//!
//! Issue 5 adds the registry and the audit trail that every use case writes first.

pub mod issuance;
