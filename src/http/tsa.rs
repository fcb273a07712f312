//! `POST /tsa`: the built-in time-stamping authority over HTTP (RFC 3161 §3.4): the body is a
//! DER TimeStampReq (`application/timestamp-query`), the answer a DER TimeStampResp
//! (`application/timestamp-reply`).
//!
//! A request whose content is refused (not DER, unknown hash, wrong digest length, another
//! policy, extensions) is answered 200 with a rejection TimeStampResp, as RFC 3161 §2.4.2 asks.
//! HTTP errors in the one error shape are for what is not a TSP question at all: a wrong
//! Content-Type (415), a body over the limit (413), the rate limit (429), no TSA configured
//! (404) and failures of the registry or the key (5xx; nothing is answered without a record).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState, ClientAddress};
use crate::cms::tsp::MAX_REQUEST_BYTES;

/// RFC 3161 §3.4's media types.
const QUERY: &str = "application/timestamp-query";
const REPLY: &str = "application/timestamp-reply";

/// `POST /tsa`.
pub async fn timestamp(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    request: Request,
) -> Result<Response, ApiError> {
    state.limits.timestamp(address)?;
    if !state.bureau.has_tsa() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "tsa.not_configured",
            "this service runs no time-stamping authority: set [tsa] keys (ONESEAL_TSA_KEYS)",
        ));
    }
    if super::api::media_type(request.headers()) != QUERY {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request.unsupported_media_type",
            "send a DER TimeStampReq with Content-Type: application/timestamp-query",
        ));
    }
    let body = super::api::read_body(request, &state, MAX_REQUEST_BYTES).await?;
    let reply = state.bureau.timestamp(&body, address).await?;
    let mut response = reply.response.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(REPLY));
    Ok(response)
}
