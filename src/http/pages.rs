//! Public HTML pages: the page a licence's QR code opens, and the drop-a-PDF verification page.
//! Plain HTML in Chinese for a citizen on a phone; scripts and styles come from `/static` only,
//! because the content security policy allows nothing inline.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::{AppState, ClientAddress};
use crate::registry::CertificateStatus;
use crate::service::verification::PublicCertificate;

const STYLE: &str = include_str!("static/oneseal.css");
const VERIFY_SCRIPT: &str = include_str!("static/verify.js");

/// Longest piece of an unknown serial echoed back on the not-found page.
const MAX_ECHOED_SERIAL_CHARS: usize = 64;

/// `GET /verify/{serial}`: the licence's standing, as the registry holds it right now.
pub async fn certificate_page(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Path(serial): Path<String>,
) -> Response {
    let authority = state.bureau.organization();
    if state.limits.verify(address).is_err() {
        let body = "<section class=\"verdict neutral\"><h1>查询过于频繁</h1>\
                    <p>请稍等一分钟后再刷新本页面。</p></section>";
        return fresh(
            StatusCode::TOO_MANY_REQUESTS,
            page("查询过于频繁", authority, body),
        );
    }
    match state.bureau.public_certificate(&serial).await {
        Ok(Some(certificate)) if certificate.status != CertificateStatus::Signing => {
            fresh(StatusCode::OK, certificate_html(&certificate))
        }
        Ok(_) => fresh(StatusCode::NOT_FOUND, not_found_html(&serial, authority)),
        Err(error) => {
            tracing::error!(cause = ?error.cause(), "certificate page failed");
            let body = "<section class=\"verdict neutral\"><h1>暂时无法查询</h1>\
                        <p>核验服务暂时无法查询登记信息，请稍后再试。</p></section>";
            fresh(
                StatusCode::SERVICE_UNAVAILABLE,
                page("暂时无法查询", authority, body),
            )
        }
    }
}

/// `GET /verify`: choose or drop a PDF and read the verdict (static/verify.js does the work).
pub async fn verify_form(State(state): State<AppState>) -> Response {
    let max_bytes = state.settings.max_verify_bytes;
    let body = format!(
        "<h1>电子证照核验</h1>\
         <p class=\"lead\">上传一份PDF电子证照，查看它是否由{authority}签发、电子印章是否完好、\
         证照是否仍然有效。文件只用于本次核验，不会被保存。</p>\
         <form id=\"verify-form\" class=\"upload\" data-max-bytes=\"{max_bytes}\" hidden>\
         <input type=\"file\" id=\"file\" name=\"file\" accept=\"application/pdf,.pdf\" \
         class=\"visually-hidden\" aria-describedby=\"file-help\">\
         <label for=\"file\" id=\"drop\" class=\"drop\"><span class=\"drop-title\">选择PDF文件</span>\
         <span id=\"file-help\" class=\"drop-help\">点击选择，或把文件拖到这里（不超过 {max_mb} MB）</span></label>\
         </form>\
         <noscript><div class=\"verdict neutral\"><p>本页面需要浏览器启用 JavaScript 才能上传核验。</p>\
         <p>也可以不用本页面：用程序调用核验接口 <code>POST /api/v1/verify</code>，请求体为PDF文件本身\
         （请求头 <code>Content-Type: application/pdf</code>），接口说明见 \
         <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>。</p></div></noscript>\
         <section id=\"result\" class=\"verdict\" aria-live=\"polite\" aria-atomic=\"true\" hidden></section>\
         <p class=\"hint\">持有纸质证照时，用手机扫描证照上的二维码，可直接查看该证照的登记状态。</p>",
        authority = escape(state.bureau.organization()),
        max_mb = max_bytes / (1 << 20),
    );
    fresh(
        StatusCode::OK,
        page("电子证照核验", state.bureau.organization(), &body),
    )
}

/// `GET /static/{file}`: the pages' only stylesheet and script.
pub async fn static_asset(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "oneseal.css" => (STYLE, "text/css; charset=utf-8"),
        "verify.js" => (VERIFY_SCRIPT, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

fn certificate_html(certificate: &PublicCertificate) -> String {
    let authority = escape(&certificate.authority);
    let (class, mark, heading, status, explanation) = match certificate.status {
        CertificateStatus::Revoked => (
            "revoked",
            "✕",
            "证照已撤销",
            "已撤销",
            format!(
                "<p>该证照已被撤销，不再有效。</p>\
                 <dl class=\"facts compact\"><div><dt>撤销时间</dt><dd>{}</dd></div>\
                 <div><dt>撤销原因</dt><dd>{}</dd></div></dl>",
                escape(&beijing_time(certificate.revoked_at_ms.unwrap_or(0))),
                escape(certificate.revocation_reason.as_deref().unwrap_or("未说明"))
            ),
        ),
        CertificateStatus::Issued | CertificateStatus::Signing => (
            "valid",
            "✓",
            "证照有效",
            "有效",
            format!("<p>这是{authority}签发的电子证照，目前有效。</p>"),
        ),
    };
    let rows = [
        ("证照类型", escape(&certificate.title)),
        ("持证主体", escape(&certificate.holder)),
        (
            "证照状态",
            format!("<strong class=\"status {class}\">{status}</strong>"),
        ),
        ("证照编号", escape(&certificate.serial)),
        ("签发日期", escape(&beijing_date(certificate.issued_at_ms))),
        ("签发机关", authority.clone()),
        ("文件指纹", fingerprint_html(&certificate.sha256)),
    ];
    let facts: String = rows
        .iter()
        .map(|(label, value)| format!("<div><dt>{label}</dt><dd>{value}</dd></div>"))
        .collect();
    let explanation = explanation + &seal_revocation_html(certificate);
    let body = format!(
        "<section class=\"verdict {class}\" aria-labelledby=\"verdict\">\
         <h1 id=\"verdict\"><span class=\"mark\" aria-hidden=\"true\">{mark}</span>{heading}</h1>\
         {explanation}</section>\
         <h2>证照信息</h2><dl class=\"facts\">{facts}</dl>\
         <p class=\"hint\">文件指纹是签发时PDF文件的SHA-256值。持有该证照的PDF文件时，可在\
         <a href=\"/verify\">电子证照核验</a>页面上传，核对电子印章并与上面的指纹比对。</p>"
    );
    page(heading, &certificate.authority, &body)
}

/// A line when the seal certificate itself was revoked (docs/revocation.md): whether the bureau
/// archived this licence before that.
fn seal_revocation_html(certificate: &PublicCertificate) -> String {
    let Some(revoked_at) = certificate.seal_revoked_at_ms else {
        return String::new();
    };
    let when = escape(&beijing_time(revoked_at));
    if certificate.issued_before_seal_revocation == Some(true) {
        format!(
            "<p>签发机关的电子印章证书已于{when}撤销；本证照在此之前签发并登记，登记记录可以证明，\
             撤销不影响本证照。</p>"
        )
    } else {
        format!(
            "<p><strong>签发机关的电子印章证书已于{when}撤销；本证照的登记晚于撤销，\
             电子印章不能证明其真实性，请向签发机关核实。</strong></p>"
        )
    }
}

fn not_found_html(serial: &str, authority: &str) -> String {
    let echoed: String = serial.chars().take(MAX_ECHOED_SERIAL_CHARS).collect();
    let body = format!(
        "<section class=\"verdict unknown\" aria-labelledby=\"verdict\">\
         <h1 id=\"verdict\"><span class=\"mark\" aria-hidden=\"true\">?</span>未找到该证照</h1>\
         <p>{authority}没有签发过编号为 <code class=\"serial\">{}</code> 的电子证照。</p>\
         <p>请核对编号是否完整、正确。如果本页面是扫描证照上的二维码打开的，该证照不是{authority}\
         签发的，请谨慎对待，并向证照上的签发机关核实。</p></section>\
         <p class=\"hint\">持有PDF文件时，可在<a href=\"/verify\">电子证照核验</a>页面上传核验。</p>",
        escape(&echoed),
        authority = escape(authority),
    );
    page("未找到该证照", authority, &body)
}

/// The fingerprint as one unbroken, selectable string (it wraps anywhere, so it copies whole);
/// verify.js adds the copy button.
fn fingerprint_html(sha256: &str) -> String {
    format!(
        "<div class=\"fingerprint\"><code id=\"fingerprint\" class=\"hex\" translate=\"no\">{}</code>\
         <button type=\"button\" class=\"copy\" data-copy=\"fingerprint\" hidden>复制指纹</button></div>",
        escape(sha256)
    )
}

fn page(title: &str, authority: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex, nofollow\">\
         <title>{} · 电子证照核验</title><link rel=\"icon\" href=\"data:,\">\
         <link rel=\"stylesheet\" href=\"/static/oneseal.css\">\
         <script src=\"/static/verify.js\" defer></script></head>\
         <body><header class=\"site\"><a href=\"/verify\">电子证照核验</a>\
         <span class=\"authority\">{authority}</span></header>\
         <main>{body}</main><footer><span>{authority}</span><span>电子证照核验服务</span></footer></body></html>",
        escape(title),
        authority = escape(authority),
    )
}

/// An HTML answer that no cache keeps: a licence revoked a minute ago must not show as valid.
fn fresh(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
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
            "{}年{}月{}日 {:02}:{:02}（北京时间）",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_and_quotes() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn unknown_serials_are_escaped_and_cut_short() {
        let hostile = format!("<img src=x onerror=alert(1)>{}", "x".repeat(200));
        let html = not_found_html(&hostile, "某局");
        assert!(!html.contains("<img"));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!html.contains(&"x".repeat(MAX_ECHOED_SERIAL_CHARS)));
    }

    #[test]
    fn dates_are_the_bureau_s_calendar() {
        // 2026-11-25T16:30:00Z is already 26 November in Beijing.
        assert_eq!(beijing_date(1_795_624_200_000), "2026年11月26日");
        assert_eq!(
            beijing_time(1_795_624_200_000),
            "2026年11月26日 00:30（北京时间）"
        );
    }
}
