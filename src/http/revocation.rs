//! The revocation routes: the root's newest CRL at the URL the seal certificate names (RFC 5280
//! §4.2.1.13; served as RFC 2585 §4.2 says: DER, `application/pkix-crl`), and publishing one.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState, Caller, ClientAddress};
use crate::service::quoted;
use crate::service::revocation::CrlPublished;

/// Longest a client may cache a CRL, even when its nextUpdate is further away: a revocation
/// published early (a key compromise does not wait) reaches clients within the hour.
const MAX_CACHE_SECONDS: i64 = 3600;

/// `GET /crl/{crl_file}`, `crl_file` being `{SKI}.crl`: the newest CRL published for that root.
pub async fn crl(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    state.limits.verify(address)?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "crl.not_found",
            format!("no CRL is published as {}", quoted(&file)),
        )
    };
    let key_identifier = file.strip_suffix(".crl").ok_or_else(not_found)?;
    let record = state
        .bureau
        .current_crl(key_identifier)
        .await?
        .ok_or_else(not_found)?;
    // Cached no longer than the CRL is current (RFC 5280 §5.1.2.5 nextUpdate), and at most an hour.
    let fresh_for = (record.crl.next_update_ms - state.bureau.now_ms()) / 1000;
    let cache = match fresh_for.min(MAX_CACHE_SECONDS) {
        seconds if seconds > 0 => format!("public, max-age={seconds}"),
        _ => "no-cache".to_string(),
    };
    let mut response = record.crl.der.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pkix-crl"),
    );
    if let Ok(value) = HeaderValue::from_str(&cache) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("\"{}\"", record.crl.sha256)) {
        headers.insert(header::ETAG, value);
    }
    Ok(response)
}

/// `PUT /api/v1/crl`: the body is the CRL itself, DER or PEM. 201 when stored, 200 when it was
/// already the newest.
pub async fn publish(
    State(state): State<AppState>,
    Caller(caller): Caller,
    request: Request,
) -> Result<Response, ApiError> {
    // Refuse the wrong role before reading the body.
    state.bureau.authorize_crl_publication(&caller)?;
    let media = super::api::media_type(request.headers());
    if !matches!(
        media.as_str(),
        "application/pkix-crl" | "application/x-pem-file" | "application/octet-stream"
    ) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request.unsupported_media_type",
            "send the CRL itself as the body, with Content-Type: application/pkix-crl (DER or PEM)",
        ));
    }
    let body =
        super::api::read_body(request, &state, crate::pki::MAX_CRL_BYTES.saturating_mul(2)).await?;
    if body.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "crl.invalid",
            "the body is empty; send the CRL",
        ));
    }
    Ok(match state.bureau.publish_crl(&caller, &body).await? {
        CrlPublished::New(summary) => (StatusCode::CREATED, Json(summary)).into_response(),
        CrlPublished::Unchanged(summary) => (StatusCode::OK, Json(summary)).into_response(),
    })
}
