//! The archive renewal route (docs/archive-renewal.md): an admin renews, in bulk, the licences
//! whose newest archived version was timestamped before a cut-off.

use std::time::Duration;

use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::api::JsonObject;
use super::{ApiError, AppState, Caller};
use crate::service::ServiceError;
use crate::service::renewal::MAX_RENEWALS_PER_RUN;

/// Licences older than this many days are renewed when the body names no age.
const DEFAULT_OLDER_THAN_DAYS: u32 = 365;
/// Licences renewed per run when the body names no limit.
const DEFAULT_LIMIT: u32 = 100;
/// The oldest cut-off a run may name: a century.
const MAX_OLDER_THAN_DAYS: u32 = 36_500;
const SECONDS_PER_DAY: u64 = 86_400;

/// `POST /api/v1/archive/renewals`: both members optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalBody {
    older_than_days: Option<u32>,
    limit: Option<u32>,
}

/// `POST /api/v1/archive/renewals`: 200 with the run's summary (`RenewalSummary`), also when
/// some licences failed or the run stopped early (`stopped`).
pub async fn renew(
    State(state): State<AppState>,
    Caller(caller): Caller,
    request: Request,
) -> Result<Response, ApiError> {
    // Refuse the wrong role before reading the body.
    state.bureau.authorize_archive_renewal(&caller)?;
    let JsonObject(body) = JsonObject::<RenewalBody>::from_request(request, &state).await?;
    let older_than_days = body.older_than_days.unwrap_or(DEFAULT_OLDER_THAN_DAYS);
    if older_than_days > MAX_OLDER_THAN_DAYS {
        return Err(invalid(format!(
            "older_than_days must be from 0 to {MAX_OLDER_THAN_DAYS}"
        )));
    }
    let limit = usize::try_from(body.limit.unwrap_or(DEFAULT_LIMIT)).unwrap_or(usize::MAX);
    if limit == 0 || limit > MAX_RENEWALS_PER_RUN {
        return Err(invalid(format!(
            "limit must be from 1 to {MAX_RENEWALS_PER_RUN}"
        )));
    }
    let older_than = Duration::from_secs(u64::from(older_than_days) * SECONDS_PER_DAY);
    // Spawned, not awaited in place: a client that hangs up cannot cut a renewal between its
    // timestamp and its record.
    let bureau = std::sync::Arc::clone(&state.bureau);
    let summary =
        tokio::spawn(async move { bureau.renew_archive(&caller, older_than, limit).await })
            .await
            .map_err(|e| ServiceError::Internal(format!("the renewal task failed: {e}")))??;
    Ok((StatusCode::OK, Json(summary)).into_response())
}

fn invalid(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "renewal.invalid", message)
}
