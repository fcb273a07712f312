//! The results feed and its webhook subscribers over HTTP: extract, call one bureau use case,
//! shape the answer.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::api::JsonObject;
use super::{ApiError, AppState, Caller};
use crate::registry::{EventKind, Webhook};
use crate::service::ServiceError;
use crate::service::feed::WebhookRequest;
use crate::service::verification::rfc3339;

type ApiResult<T> = Result<T, ApiError>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    after: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/v1/events?after=&limit=`: `{events, next}`.
pub async fn events(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<FeedQuery>,
) -> ApiResult<Response> {
    let after = query.after.unwrap_or(0).max(0);
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let page = state.bureau.events(&caller, after, limit).await?;
    Ok(Json(serde_json::json!({ "events": page.events, "next": page.next })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    name: String,
    url: String,
    kinds: Option<Vec<String>>,
    department: Option<String>,
}

/// `POST /api/v1/webhooks`: 201 with the signing secret, shown this once.
pub async fn create_webhook(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonObject(body): JsonObject<WebhookBody>,
) -> ApiResult<Response> {
    let request = WebhookRequest {
        name: body.name,
        url: body.url,
        kinds: body.kinds,
        department: body.department,
    };
    let created = state
        .bureau
        .create_webhook(&caller, &request)
        .await
        .map_err(bad_request)?;
    let body = serde_json::json!({
        "webhook": WebhookView::from(created.webhook),
        "secret": created.secret.expose(),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// A refused subscription is a bad request (400), naming the field at fault.
fn bad_request(error: ServiceError) -> ApiError {
    match error {
        ServiceError::Invalid { code, message, .. } => ApiError::bad_request(code, message),
        other => other.into(),
    }
}

/// `GET /api/v1/webhooks`: the live subscribers with their delivery status.
pub async fn webhooks(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Response> {
    let webhooks: Vec<WebhookView> = state
        .bureau
        .webhooks(&caller)
        .await?
        .into_iter()
        .map(WebhookView::from)
        .collect();
    Ok(Json(serde_json::json!({ "webhooks": webhooks })).into_response())
}

/// `POST /api/v1/webhooks/{id}/remove`.
pub async fn remove_webhook(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    state.bureau.remove_webhook(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A subscriber as the API shows it (its secret is never part of it).
#[derive(Serialize)]
struct WebhookView {
    id: String,
    name: String,
    url: String,
    kinds: Vec<EventKind>,
    department: Option<String>,
    created_by: String,
    created_at: String,
    delivery: DeliveryView,
}

/// Where a subscriber's delivery stands.
#[derive(Serialize)]
struct DeliveryView {
    /// Every event up to this id was delivered (or was not for this subscriber).
    delivered_through: i64,
    /// Failed attempts since the last success.
    attempts: i64,
    next_attempt: String,
    last_error: Option<String>,
    last_delivered: Option<String>,
}

impl From<Webhook> for WebhookView {
    fn from(webhook: Webhook) -> Self {
        WebhookView {
            id: webhook.id,
            name: webhook.name,
            url: webhook.url,
            kinds: webhook.kinds,
            department: webhook.department,
            created_by: webhook.created_by,
            created_at: rfc3339(webhook.created_at_ms),
            delivery: DeliveryView {
                delivered_through: webhook.delivered_through,
                attempts: webhook.attempts,
                next_attempt: rfc3339(webhook.next_attempt_ms),
                last_error: webhook.last_error,
                last_delivered: webhook.last_delivered_ms.map(rfc3339),
            },
        }
    }
}
