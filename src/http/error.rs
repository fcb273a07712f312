//! The one error shape every API failure takes: status, a stable code, a safe message, the
//! request id. Internal causes go to the log (by the request middleware), never to the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::service::ServiceError;
use crate::template::Problem;

/// An API failure on its way out.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub problems: Vec<Problem>,
    /// For the log only.
    pub cause: Option<String>,
    /// Seconds a rate-limited client should wait (`Retry-After`, RFC 9110 §10.2.3).
    pub retry_after: Option<u64>,
}

/// The body clients see.
#[derive(Clone, Debug, Serialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, Serialize)]
pub struct ErrorDetail {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<ProblemBody>,
    pub request_id: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProblemBody {
    pub place: String,
    pub message: String,
}

/// Left in the response's extensions for the middleware, which adds the request id and logs
/// the cause.
#[derive(Clone, Debug)]
pub struct PendingError {
    pub body: ErrorBody,
    pub cause: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            problems: Vec::new(),
            cause: None,
            retry_after: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> ApiError {
        let cause = error.cause();
        let (status, code, problems) = match &error {
            ServiceError::Unauthenticated => {
                (StatusCode::UNAUTHORIZED, "auth.unauthenticated", vec![])
            }
            ServiceError::Forbidden(_) => (StatusCode::FORBIDDEN, "auth.forbidden", vec![]),
            ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", vec![]),
            ServiceError::Invalid { code, problems, .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, *code, problems.clone())
            }
            ServiceError::Conflict(_) => (StatusCode::CONFLICT, "conflict", vec![]),
            ServiceError::Refused { code, .. } => (StatusCode::CONFLICT, *code, vec![]),
            ServiceError::SeparationOfDuties(_) => (
                StatusCode::FORBIDDEN,
                "request.separation_of_duties",
                vec![],
            ),
            ServiceError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "service.busy", vec![]),
            ServiceError::TimestampUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "timestamp.unavailable",
                vec![],
            ),
            ServiceError::Registry(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "registry.unavailable",
                vec![],
            ),
            ServiceError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", vec![]),
        };
        ApiError {
            status,
            code,
            message: error.to_string(),
            problems,
            cause,
            retry_after: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                problems: self
                    .problems
                    .into_iter()
                    .map(|p| ProblemBody {
                        place: p.place,
                        message: p.message,
                    })
                    .collect(),
                request_id: String::new(),
            },
        };
        let mut response = (self.status, Json(body.clone())).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response.extensions_mut().insert(PendingError {
            body,
            cause: self.cause,
        });
        response
    }
}

/// A stable code for failures produced outside our handlers (routing, body limits, extractors).
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "route.not_found",
        StatusCode::METHOD_NOT_ALLOWED => "route.method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "request.too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "request.unsupported_media_type",
        StatusCode::REQUEST_TIMEOUT => "request.timeout",
        StatusCode::TOO_MANY_REQUESTS => "request.rate_limited",
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "request.invalid",
        status if status.is_server_error() => "internal",
        _ => "request.refused",
    }
}
