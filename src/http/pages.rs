//! Public HTML pages: the page a licence's QR code opens, and the drop-a-PDF verification page.
//! Plain HTML, in Chinese, readable on a phone; scripts and styles are served from `/static`.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::{AppState, ClientAddress};
use crate::registry::CertificateStatus;
use crate::service::verification::PublicCertificate;

const STYLE: &str = include_str!("static/oneseal.css");
const VERIFY_SCRIPT: &str = include_str!("static/verify.js");

/// `GET /verify/{serial}`: the licence's standing.
pub async fn certificate_page(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Path(serial): Path<String>,
) -> Response {
    if let Err(error) = state.limits.verify(address) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            Html(page(
                "请求过多",
                &format!("<p>{}</p>", escape(&error.message)),
            )),
        )
            .into_response();
    }
    match state.bureau.public_certificate(&serial).await {
        Ok(Some(certificate)) => Html(certificate_html(&certificate)).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Html(page(
                "未找到该证照",
                &format!(
                    "<section class=\"verdict unknown\"><h1>未找到该证照</h1><p>编号 <code>{}</code> 不是本局签发的电子证照。请核对编号，或<a href=\"/verify\">上传PDF文件核验</a>。</p></section>",
                    escape(&serial.chars().take(64).collect::<String>())
                ),
            )),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(cause = ?error.cause(), "certificate page failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Html(page("暂时无法查询", "<p>核验服务暂时无法查询，请稍后再试。</p>")),
            )
                .into_response()
        }
    }
}

/// `GET /verify`: drop a PDF, read the verdict.
pub async fn verify_form() -> Html<String> {
    Html(page(
        "电子证照核验",
        "<h1>电子证照核验</h1>\
         <p>选择或拖入一份PDF电子证照，核验其电子印章是否有效、文件是否被改动、证照是否仍然有效。文件只用于核验，不会被保存。</p>\
         <form id=\"verify-form\"><label class=\"drop\" id=\"drop\">选择PDF文件<input type=\"file\" id=\"file\" accept=\"application/pdf,.pdf\"></label></form>\
         <section id=\"result\" aria-live=\"polite\"></section>",
    ))
}

/// `GET /static/{file}`.
pub async fn static_asset(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "oneseal.css" => (STYLE, "text/css; charset=utf-8"),
        "verify.js" => (VERIFY_SCRIPT, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn certificate_html(certificate: &PublicCertificate) -> String {
    let (class, verdict, explanation) = match certificate.status {
        CertificateStatus::Revoked => (
            "revoked",
            "该证照已被撤销",
            format!(
                "撤销时间：{}；原因：{}",
                escape(&beijing_time(certificate.revoked_at_ms.unwrap_or(0))),
                escape(certificate.revocation_reason.as_deref().unwrap_or(""))
            ),
        ),
        _ => (
            "valid",
            "有效：本局签发的电子证照",
            "该证照由本局签发，目前有效。".to_string(),
        ),
    };
    let rows = [
        ("证照类型", certificate.title.clone()),
        ("持证主体", certificate.holder.clone()),
        ("证照编号", certificate.serial.clone()),
        ("签发日期", beijing_date(certificate.issued_at_ms)),
        ("签发机关", certificate.authority.clone()),
        ("文件指纹（SHA-256）", certificate.sha256.clone()),
    ];
    let table: String = rows
        .iter()
        .map(|(label, value)| format!("<tr><th>{label}</th><td>{}</td></tr>", escape(value)))
        .collect();
    page(
        verdict,
        &format!(
            "<section class=\"verdict {class}\"><h1>{verdict}</h1><p>{explanation}</p></section>\
             <table class=\"facts\">{table}</table>\
             <p class=\"hint\">持有PDF文件时，可在<a href=\"/verify\">核验页面</a>上传，核对其电子印章和指纹。</p>"
        ),
    )
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · 电子证照核验</title><link rel=\"stylesheet\" href=\"/static/oneseal.css\">\
         <script src=\"/static/verify.js\" defer></script></head>\
         <body><main>{body}</main><footer>行政审批局 电子证照核验服务</footer></body></html>",
        escape(title)
    )
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn beijing(ms: i64) -> Option<time::OffsetDateTime> {
    let offset = time::UtcOffset::from_hms(crate::service::BUREAU_OFFSET_HOURS, 0, 0).ok()?;
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .map(|t| t.to_offset(offset))
}

fn beijing_date(ms: i64) -> String {
    beijing(ms).map_or_else(String::new, |t| {
        format!("{}年{}月{}日", t.year(), u8::from(t.month()), t.day())
    })
}

fn beijing_time(ms: i64) -> String {
    beijing(ms).map_or_else(String::new, |t| {
        format!(
            "{}年{}月{}日 {:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        )
    })
}
