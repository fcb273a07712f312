//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`, kept in step with `router()` by
//! the API tests (every documented operation is routed, every route is documented).

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");
