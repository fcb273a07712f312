//! Handlers for issuance requests, the calendar, the dishonesty list, applicants and the
//! efficiency report: extract, call one bureau use case, shape the answer.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::api::{JsonObject, day_start_ms, default_delivery, issued_response};
use super::{ApiError, AppState, Caller, ClientAddress};
use crate::approval::calendar::format_day;
use crate::registry::{RequestQuery, RequestStatus};
use crate::service::ServiceError;
use crate::service::applicants::NewListing;
use crate::service::certificates::Delivery;
use crate::service::deadlines::CalendarChange;
use crate::service::requests::{CreditCommitment, NewRequest, SignOffDecision};

type ApiResult<T> = Result<T, ApiError>;

/// `POST /api/v1/requests`: `data` is kept as sent, so duplicate keys are caught.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    template: String,
    data: Box<RawValue>,
    #[serde(default = "default_delivery")]
    delivery: Delivery,
    #[serde(default)]
    missing_materials: Vec<String>,
    #[serde(default)]
    commitment: Option<CreditCommitment>,
}

pub async fn open_request(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ClientAddress(address): ClientAddress,
    JsonObject(body): JsonObject<OpenBody>,
) -> ApiResult<Response> {
    state.limits.issue(&caller.token_id, address)?;
    if !body.data.get().trim_start().starts_with('{') {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "request.invalid_data",
            "data must be a JSON object of field name to text",
        ));
    }
    let new = NewRequest {
        template: body.template,
        data: body.data.get().to_string(),
        delivery: body.delivery,
        missing_materials: body.missing_materials,
        commitment: body.commitment,
    };
    // Spawned: an automatic seal, once begun, finishes even if the client hangs up.
    let bureau = std::sync::Arc::clone(&state.bureau);
    let view = tokio::spawn(async move { bureau.open_request(&caller, new).await })
        .await
        .map_err(|e| ServiceError::Internal(format!("the request task failed: {e}")))??;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestsQuery {
    status: Option<String>,
    overdue: Option<bool>,
    template: Option<String>,
    from: Option<String>,
    until: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

pub async fn requests(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<RequestsQuery>,
) -> ApiResult<Response> {
    let status = query
        .status
        .as_deref()
        .map(|text| {
            RequestStatus::parse(text).ok_or_else(|| {
                ApiError::bad_request(
                    "request.invalid",
                    "status must be review, ready, sealing, issued or rejected",
                )
            })
        })
        .transpose()?;
    let day = |text: &Option<String>, name: &str, next: bool| {
        text.as_deref()
            .map(|text| {
                day_start_ms(text, next).ok_or_else(|| {
                    ApiError::bad_request(
                        "request.invalid",
                        format!("{name} must be a date YYYY-MM-DD"),
                    )
                })
            })
            .transpose()
    };
    let found = state
        .bureau
        .requests(
            &caller,
            RequestQuery {
                status,
                sign_off_department: None,
                overdue_at: None,
                template_id: query.template.filter(|t| !t.contains('\0')),
                opened_from_ms: day(&query.from, "from", false)?,
                opened_until_ms: day(&query.until, "until", true)?,
                limit: query.limit.unwrap_or(50).clamp(1, 500),
                offset: query.offset.unwrap_or(0).clamp(0, 1_000_000),
            },
            query.overdue.unwrap_or(false),
        )
        .await?;
    Ok(Json(serde_json::json!({ "requests": found })).into_response())
}

pub async fn request(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(state.bureau.request(&caller, &id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignOffBody {
    decision: String,
    #[serde(default)]
    comment: String,
}

pub async fn sign_off(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonObject(body): JsonObject<SignOffBody>,
) -> ApiResult<Response> {
    let approve = match body.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "request.invalid",
                "decision must be \"approve\" or \"reject\"",
            ));
        }
    };
    let decision = SignOffDecision {
        approve,
        comment: body.comment,
    };
    let bureau = std::sync::Arc::clone(&state.bureau);
    let outcome = tokio::spawn(async move { bureau.sign_off(&caller, &id, decision).await })
        .await
        .map_err(|e| ServiceError::Internal(format!("the sign-off task failed: {e}")))??;
    let certificate = outcome.certificate.map(|issued| {
        serde_json::json!({
            "serial": issued.record.serial,
            "sha256": issued.record.sha256,
            "verification_url": issued.verification_url,
        })
    });
    Ok(Json(serde_json::json!({
        "request": outcome.request,
        "certificate": certificate,
        "seal_error": outcome.seal_error,
    }))
    .into_response())
}

pub async fn apply_seal(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ClientAddress(address): ClientAddress,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    state.limits.issue(&caller.token_id, address)?;
    let bureau = std::sync::Arc::clone(&state.bureau);
    let issued = tokio::spawn(async move { bureau.apply_seal(&caller, &id).await })
        .await
        .map_err(|e| ServiceError::Internal(format!("the seal task failed: {e}")))??;
    issued_response(issued)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialsBody {
    materials: Vec<String>,
}

pub async fn supply_materials(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonObject(body): JsonObject<MaterialsBody>,
) -> ApiResult<Response> {
    let view = state
        .bureau
        .supply_materials(&caller, &id, body.materials)
        .await?;
    Ok(Json(view).into_response())
}

pub async fn calendar(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Response> {
    let days = state.bureau.calendar_days(&caller).await?;
    Ok(Json(serde_json::json!({ "days": days })).into_response())
}

pub async fn set_calendar_day(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(day): Path<String>,
    JsonObject(change): JsonObject<CalendarChange>,
) -> ApiResult<Response> {
    let days = state.bureau.set_calendar_day(&caller, &day, change).await?;
    Ok(Json(serde_json::json!({ "days": days })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlacklistQuery {
    credit_code: Option<String>,
}

pub async fn blacklist(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<BlacklistQuery>,
) -> ApiResult<Response> {
    let entries = state
        .bureau
        .blacklist(&caller, query.credit_code.as_deref())
        .await?;
    Ok(Json(serde_json::json!({ "entries": entries })).into_response())
}

pub async fn add_to_blacklist(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonObject(listing): JsonObject<NewListing>,
) -> ApiResult<Response> {
    let entry = state.bureau.add_to_blacklist(&caller, listing).await?;
    Ok((StatusCode::CREATED, Json(entry)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemovalBody {
    reason: String,
}

pub async fn remove_from_blacklist(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonObject(body): JsonObject<RemovalBody>,
) -> ApiResult<Response> {
    state
        .bureau
        .remove_from_blacklist(&caller, &id, &body.reason)
        .await?;
    Ok(Json(serde_json::json!({ "removed": id })).into_response())
}

pub async fn applicant(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(credit_code): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(state.bureau.applicant(&caller, &credit_code).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    from: Option<String>,
    until: Option<String>,
    format: Option<String>,
}

pub async fn efficiency_report(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<ReportQuery>,
) -> ApiResult<Response> {
    let day = |text: &str, name: &str| {
        crate::approval::calendar::parse_day(text).ok_or_else(|| {
            ApiError::bad_request(
                "request.invalid",
                format!("{name} must be a date YYYY-MM-DD"),
            )
        })
    };
    let until = query
        .until
        .as_deref()
        .map(|t| day(t, "until"))
        .transpose()?;
    let from = query.from.as_deref().map(|t| day(t, "from")).transpose()?;
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(ApiError::bad_request(
                "request.invalid",
                "format must be json or csv",
            ));
        }
    };
    let (from, until, report) = state.bureau.efficiency_report(&caller, from, until).await?;
    if !csv {
        return Ok(Json(serde_json::json!({
            "from": format_day(from),
            "until": format_day(until),
            "departments": report.departments,
            "templates": report.templates,
        }))
        .into_response());
    }
    let filename = format!("efficiency-{}-{}.csv", format_day(from), format_day(until));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        crate::approval::report::to_csv(&report),
    )
        .into_response())
}
