//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`. tests/openapi.rs keeps it in step
//! with `router()`: the same routes, each answering as documented, the roles in each operation's
//! `x-roles` and description, and openapi-spec-validator's approval.

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");
