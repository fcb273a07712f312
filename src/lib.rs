//! oneseal: the bureau's single electronic approval seal.
//!
//! Pure layers (`pdf`, `cms`, `pki`, `sign`) take bytes and values and return bytes and values;
//! `seal` is the only home of key bytes. See `docs/architecture.md`.

pub mod approval;
pub mod cms;
pub mod http;
pub mod pdf;
pub mod pki;
pub mod registry;
pub mod seal;
pub mod service;
pub mod sign;
pub mod template;
pub mod verify;

#[cfg(test)]
mod test_support;
