//! The JSON API's handlers: extract, call one bureau use case, shape the answer.

use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{ApiError, AppState, Caller, ClientAddress};
use crate::registry::{AuditEntry, CertificateQuery, CertificateRecord, Role, TemplateFiles};
use crate::service::ServiceError;
use crate::service::auth::TokenRequest;
use crate::service::certificates::{CertificateRequest, Delivery};
use crate::service::verification::rfc3339;
use crate::template::data::MAX_DATA_BYTES;
use crate::template::manifest::MAX_MANIFEST_BYTES;

type ApiResult<T> = Result<T, ApiError>;

/// The parts of a template upload, by multipart name.
const BUNDLE_PARTS: [&str; 3] = ["template.pdf", "template.toml", "example.json"];

pub async fn submit_template(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    // Refuse the wrong role before reading up to 16 MiB of upload.
    state.bureau.authorize_template_upload(&caller)?;
    let multipart = multipart.map_err(|_| {
        if media_type(&headers) == "multipart/form-data" {
            ApiError::bad_request(
                "request.invalid",
                "the multipart/form-data Content-Type names no boundary",
            )
        } else {
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "request.unsupported_media_type",
                "send the bundle as multipart/form-data with the parts template.pdf, template.toml and example.json",
            )
        }
    })?;
    let files = read_bundle(multipart, state.settings.max_upload_bytes).await?;
    let version = state.bureau.submit_template(&caller, files).await?;
    Ok((StatusCode::CREATED, Json(version)).into_response())
}

/// Reads exactly the three bundle parts, each under its own size limit.
async fn read_bundle(mut multipart: Multipart, max_blank: usize) -> ApiResult<TemplateFiles> {
    let mut parts: [Option<Vec<u8>>; 3] = [None, None, None];
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(&e, max_blank))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let Some(index) = BUNDLE_PARTS.iter().position(|part| *part == name) else {
            return Err(ApiError::bad_request(
                "template.upload",
                format!(
                    "unexpected part {:?}; send template.pdf, template.toml and example.json",
                    name.chars().take(60).collect::<String>()
                ),
            ));
        };
        let limit = [max_blank, MAX_MANIFEST_BYTES, MAX_DATA_BYTES]
            .get(index)
            .copied()
            .unwrap_or(0);
        let bytes = field
            .bytes()
            .await
            .map_err(|e| multipart_error(&e, max_blank))?;
        if bytes.len() > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request.too_large",
                format!("part {name} is over {limit} bytes"),
            ));
        }
        if let Some(slot) = parts.get_mut(index) {
            if slot.is_some() {
                return Err(ApiError::bad_request(
                    "template.upload",
                    format!("part {name} is sent twice"),
                ));
            }
            *slot = Some(bytes.to_vec());
        }
    }
    let [Some(blank), Some(manifest), Some(example)] = parts else {
        let missing: Vec<&str> = BUNDLE_PARTS
            .iter()
            .zip(&parts)
            .filter(|(_, part)| part.is_none())
            .map(|(name, _)| *name)
            .collect();
        return Err(ApiError::bad_request(
            "template.upload",
            format!("missing part(s): {}", missing.join(", ")),
        ));
    };
    Ok(TemplateFiles {
        blank,
        manifest,
        example,
    })
}

/// A broken or oversized multipart body: 413 when the upload limit was reached, else 400.
fn multipart_error(error: &MultipartError, max_upload: usize) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request.too_large",
            format!("the upload is over {max_upload} bytes"),
        )
    } else {
        ApiError::bad_request(
            "template.upload",
            format!("the multipart body is malformed: {}", error.body_text()),
        )
    }
}

pub async fn templates(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Response> {
    let templates = state.bureau.templates(&caller).await?;
    Ok(Json(serde_json::json!({ "templates": templates })).into_response())
}

pub async fn approve_template(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult<Response> {
    let version = template_version(&version)?;
    let approved = state.bureau.approve_template(&caller, &id, version).await?;
    Ok(Json(approved).into_response())
}

pub async fn template_blank(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult<Response> {
    let version = template_version(&version)?;
    let blank = state.bureau.template_blank(&caller, &id, version).await?;
    Ok(pdf_response(blank, &format!("{id}-v{version}.pdf")))
}

/// A version number from the path (axum's own refusal names the Rust integer type).
fn template_version(text: &str) -> ApiResult<i64> {
    text.parse().map_err(|_| {
        ApiError::bad_request(
            "request.invalid",
            "the template version must be a whole number",
        )
    })
}

/// A JSON object body. Other JSON values are refused before serde sees them (a derived
/// `Deserialize` takes an array for a struct, field by field), and every refusal is worded for
/// the client: axum's wording of serde's errors names our Rust types.
pub struct JsonObject<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonObject<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> ApiResult<Self> {
        let media = media_type(request.headers());
        if media != "application/json"
            && !(media.starts_with("application/") && media.ends_with("+json"))
        {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "request.unsupported_media_type",
                "send a JSON object, with Content-Type: application/json",
            ));
        }
        let bytes = read_body(request, state, state.settings.max_json_bytes).await?;
        match bytes.iter().find(|byte| !byte.is_ascii_whitespace()) {
            Some(b'{') => {}
            None => {
                return Err(ApiError::bad_request(
                    "request.invalid",
                    "the body is empty; send a JSON object",
                ));
            }
            Some(_) => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "request.invalid",
                    "the body must be a JSON object",
                ));
            }
        }
        serde_json::from_slice(&bytes)
            .map(JsonObject)
            .map_err(|error| match error.classify() {
                serde_json::error::Category::Data => ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "request.invalid",
                    format!("the JSON body does not fit this request: {error}"),
                ),
                _ => ApiError::bad_request(
                    "request.invalid",
                    format!("the body is not valid JSON: {error}"),
                ),
            })
    }
}

/// The whole body, within the route's `limit` (enforced by the body-limit layer): one answer
/// for a body too large and one for a body that could not be read.
pub(super) async fn read_body(
    request: Request,
    state: &AppState,
    limit: usize,
) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "request.too_large",
                    format!("the body is over {limit} bytes"),
                )
            } else {
                ApiError::bad_request("request.invalid", "the body could not be read")
            }
        })
}

/// The request's media type, lower-cased, without parameters ("" when absent).
pub(super) fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|media| media.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// `POST /api/v1/certificates`: `data` is kept as sent, so duplicate keys are caught.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    template: String,
    data: Box<RawValue>,
    #[serde(default = "default_delivery")]
    delivery: Delivery,
}

pub(super) fn default_delivery() -> Delivery {
    Delivery::Window
}

#[derive(Serialize)]
struct IssuedBody {
    serial: String,
    sha256: String,
    status: &'static str,
    template: String,
    template_version: i64,
    issued_at: String,
    verification_url: String,
    pdf_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<String>,
}

pub async fn issue_certificate(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ClientAddress(address): ClientAddress,
    JsonObject(body): JsonObject<IssueBody>,
) -> ApiResult<Response> {
    state.limits.issue(&caller.token_id, address)?;
    if !body.data.get().trim_start().starts_with('{') {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "certificate.invalid_data",
            "data must be a JSON object of field name to text",
        ));
    }
    let request = CertificateRequest {
        template: body.template,
        data: body.data.get().to_string(),
        delivery: body.delivery,
    };
    // Spawned, not awaited in place: a client that hangs up mid-way cannot cancel an issuance
    // between its reservation and its commit.
    let bureau = std::sync::Arc::clone(&state.bureau);
    let issued = tokio::spawn(async move { bureau.issue_certificate(&caller, request).await })
        .await
        .map_err(|e| ServiceError::Internal(format!("the issuance task failed: {e}")))??;
    issued_response(issued)
}

/// 201 with the issuance's metadata and its PDF.
pub(super) fn issued_response(
    issued: crate::service::certificates::IssuedCertificate,
) -> ApiResult<Response> {
    let serial = issued.record.serial.clone();
    let body = IssuedBody {
        sha256: issued.record.sha256.clone().unwrap_or_default(),
        status: "issued",
        template: issued.record.template_id.clone(),
        template_version: issued.record.template_version,
        issued_at: rfc3339(issued.record.issued_at_ms),
        verification_url: issued.verification_url,
        pdf_url: format!("/api/v1/certificates/{serial}/pdf"),
        request: issued.record.request_id.clone(),
        serial,
    };
    let body = with_pdf(&body, &issued.pdf)?;
    Ok((
        StatusCode::CREATED,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// The issuance's JSON with the sealed PDF in base64 as its last member, `pdf`. Base64 needs no
/// JSON escaping, so it is encoded straight into the body: through serde it was escaped byte by
/// byte and copied twice, a tenth of the request's CPU outside signing.
fn with_pdf(metadata: &IssuedBody, pdf: &[u8]) -> Result<String, ServiceError> {
    let mut body = serde_json::to_string(metadata)
        .map_err(|e| ServiceError::Internal(format!("the issuance's JSON: {e}")))?;
    if body.pop() != Some('}') {
        return Err(ServiceError::Internal(
            "the issuance's JSON is not an object".into(),
        ));
    }
    body.reserve(pdf.len() / 3 * 4 + 16);
    body.push_str(",\"pdf\":\"");
    base64::engine::general_purpose::STANDARD.encode_string(pdf, &mut body);
    body.push_str("\"}");
    Ok(body)
}

pub async fn certificate(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(serial): Path<String>,
) -> ApiResult<Response> {
    let (record, commitment) = state.bureau.certificate(&caller, &serial).await?;
    let mut body = CertificateBody::from(record);
    body.commitment = commitment
        .as_ref()
        .map(crate::service::applicants::CommitmentView::from);
    Ok(Json(body).into_response())
}

pub async fn certificate_pdf(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(serial): Path<String>,
) -> ApiResult<Response> {
    let pdf = state.bureau.certificate_pdf(&caller, &serial).await?;
    Ok(pdf_response(pdf, &format!("{serial}.pdf")))
}

/// Search terms: dates are the bureau's calendar days (YYYY-MM-DD).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    serial: Option<String>,
    holder: Option<String>,
    credit_code: Option<String>,
    template: Option<String>,
    from: Option<String>,
    until: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

pub async fn search_certificates(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<SearchQuery>,
) -> ApiResult<Response> {
    let day = |text: &Option<String>, name: &str, next: bool| -> ApiResult<Option<i64>> {
        text.as_deref()
            .map(|t| {
                day_start_ms(t, next).ok_or_else(|| {
                    ApiError::bad_request(
                        "request.invalid",
                        format!("{name} must be a date YYYY-MM-DD"),
                    )
                })
            })
            .transpose()
    };
    let query = CertificateQuery {
        serial: query.serial,
        holder: query.holder.filter(|h| !h.is_empty()),
        credit_code: query.credit_code,
        template_id: query.template,
        from_ms: day(&query.from, "from", false)?,
        until_ms: day(&query.until, "until", true)?,
        limit: query.limit.unwrap_or(50).clamp(1, 500),
        offset: query.offset.unwrap_or(0).clamp(0, 1_000_000),
    };
    let found = state.bureau.search_certificates(&caller, &query).await?;
    let certificates: Vec<CertificateBody> = found.into_iter().map(CertificateBody::from).collect();
    Ok(Json(serde_json::json!({ "certificates": certificates })).into_response())
}

/// Start of the bureau's calendar day (or of the next day, for an inclusive end) in Unix ms.
pub(super) fn day_start_ms(text: &str, next: bool) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let mut date = time::Date::parse(text, &format).ok()?;
    if next {
        date = date.next_day()?;
    }
    let offset = time::UtcOffset::from_hms(crate::service::BUREAU_OFFSET_HOURS, 0, 0).ok()?;
    let start = date.midnight().assume_offset(offset);
    i64::try_from(start.unix_timestamp_nanos() / 1_000_000).ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    reason: String,
}

pub async fn revoke_certificate(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(serial): Path<String>,
    JsonObject(body): JsonObject<RevokeBody>,
) -> ApiResult<Response> {
    let record = state
        .bureau
        .revoke_certificate(&caller, &serial, &body.reason)
        .await?;
    Ok(Json(CertificateBody::from(record)).into_response())
}

/// A certificate's metadata as the API shows it.
#[derive(Serialize)]
struct CertificateBody {
    serial: String,
    status: crate::registry::CertificateStatus,
    template: String,
    template_version: i64,
    title: String,
    holder: String,
    credit_code: Option<String>,
    delivery: String,
    issuer: String,
    issued_at: String,
    sha256: Option<String>,
    data: Box<RawValue>,
    revoked_at: Option<String>,
    revoked_by: Option<String>,
    revocation_reason: Option<String>,
    /// The issuance request, and who signed off for each department (谁审查谁签批).
    request: Option<String>,
    sign_offs: Option<Box<RawValue>>,
    /// SHA-256 of the seal certificate that signed it (`oneseal seal list` names them all).
    seal_certificate: Option<String>,
    /// 容缺后补: the materials owed and whether the deadline was met (`missed` flags it).
    #[serde(skip_serializing_if = "Option::is_none")]
    commitment: Option<crate::service::applicants::CommitmentView>,
}

impl From<CertificateRecord> for CertificateBody {
    fn from(record: CertificateRecord) -> Self {
        let data = RawValue::from_string(record.data)
            .unwrap_or_else(|_| RawValue::from_string("null".into()).unwrap_or_default());
        CertificateBody {
            serial: record.serial,
            status: record.status,
            template: record.template_id,
            template_version: record.template_version,
            title: record.template_title,
            holder: record.holder,
            credit_code: record.credit_code,
            delivery: record.delivery,
            issuer: record.issuer,
            issued_at: rfc3339(record.issued_at_ms),
            sha256: record.sha256,
            data,
            revoked_at: record.revoked_at_ms.map(rfc3339),
            revoked_by: record.revoked_by,
            revocation_reason: record.revocation_reason,
            request: record.request_id,
            sign_offs: record
                .sign_offs
                .and_then(|text| RawValue::from_string(text).ok()),
            seal_certificate: record.seal_fingerprint,
            commitment: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    after: Option<i64>,
    limit: Option<i64>,
}

pub async fn audit(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Response> {
    let after = query.after.unwrap_or(0).max(0);
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let (entries, length): (Vec<AuditEntry>, i64) =
        state.bureau.audit(&caller, after, limit).await?;
    Ok(Json(serde_json::json!({ "length": length, "entries": entries })).into_response())
}

pub async fn verify_audit(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Response> {
    let outcome = state.bureau.check_audit_chain(&caller).await?;
    let body = match outcome {
        Ok(length) => serde_json::json!({ "whole": true, "length": length }),
        Err(broken) => serde_json::json!({ "whole": false, "first_break": broken.to_string() }),
    };
    Ok(Json(body).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    role: String,
    department: Option<String>,
    name: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonObject(body): JsonObject<TokenBody>,
) -> ApiResult<Response> {
    let role = Role::parse(&body.role).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "token.invalid",
            "role must be one of department, reviewer, issuer, admin, auditor",
        )
    })?;
    let request = TokenRequest {
        role,
        department: body.department,
        name: body.name,
    };
    let created = state.bureau.create_token(&caller, &request).await?;
    let body = serde_json::json!({
        "id": created.record.id,
        "name": created.record.name,
        "role": created.record.role,
        "department": created.record.department,
        "token": created.token.as_str(),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn tokens(State(state): State<AppState>, Caller(caller): Caller) -> ApiResult<Response> {
    let tokens = state.bureau.tokens(&caller).await?;
    Ok(Json(serde_json::json!({ "tokens": tokens })).into_response())
}

pub async fn revoke_token(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    state.bureau.revoke_token(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/v1/verify`: the body is the PDF itself.
pub async fn verify(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    state.limits.verify(address)?;
    let media = media_type(&headers);
    if media != "application/pdf" && media != "application/octet-stream" {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request.unsupported_media_type",
            "send the PDF itself as the body, with Content-Type: application/pdf",
        ));
    }
    if body.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "verify.empty",
            "the body is empty; send the PDF",
        ));
    }
    let verification = state.bureau.verify_upload(body.to_vec()).await?;
    Ok(Json(verification).into_response())
}

pub async fn seal_certificate(State(state): State<AppState>) -> Response {
    let mut response = state.bureau.seal_chain_pem().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-pem-file"),
    );
    response
}

fn pdf_response(pdf: Vec<u8>, filename: &str) -> Response {
    let mut response = pdf.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn the_issued_body_is_json_with_the_pdf_last() {
        let metadata = IssuedBody {
            serial: "20261126-ABCDEFGHJK".into(),
            sha256: "00".repeat(32),
            status: "issued",
            template: "food-business-licence".into(),
            template_version: 3,
            issued_at: "2026-11-26T05:00:00Z".into(),
            verification_url: "http://127.0.0.1/verify/20261126-ABCDEFGHJK".into(),
            pdf_url: "/api/v1/certificates/20261126-ABCDEFGHJK/pdf".into(),
            request: None,
        };
        let pdf: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let body = with_pdf(&metadata, &pdf).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["serial"], "20261126-ABCDEFGHJK");
        assert_eq!(parsed["template_version"], 3);
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(parsed["pdf"].as_str().unwrap())
            .unwrap();
        assert_eq!(decoded, pdf);
        assert!(body.ends_with("\"}"));
    }
}
