//! Operations: health, Prometheus metrics, the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;

/// `/healthz`: 200 when the registry answers, 503 otherwise.
pub async fn health(State(state): State<AppState>) -> Response {
    match state.bureau.registry().audit_length().await {
        Ok(length) => {
            Json(serde_json::json!({ "status": "ok", "audit_length": length })).into_response()
        }
        Err(error) => {
            let mut failure = super::ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "registry.unavailable",
                "the registry does not answer",
            );
            failure.cause = Some(error.to_string());
            failure.into_response()
        }
    }
}

/// `/metrics` in the Prometheus text format; the audit chain's length is read at scrape time.
pub async fn metrics(State(state): State<AppState>) -> Response {
    if let Ok(length) = state.bureau.registry().audit_length().await {
        metrics::gauge!("oneseal_audit_chain_length").set(length as f64);
    }
    let Some(handle) = &state.metrics else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

pub async fn openapi() -> Response {
    let mut response = super::openapi::DOCUMENT.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
