//! The public pages in a real browser: Debian's headless Chromium opens the page a licence's QR
//! code leads to and the drop-a-PDF page of a real server on loopback, and the test asserts what a
//! citizen reads there. The upload page is driven through its file input with Playwright
//! (tests/tools/verify_page.py) on the same system Chromium.
//!
//! `ONESEAL_UPDATE_PREVIEWS=1` also copies the phone-sized screenshots to docs/previews/
//! (verify-valid.png, verify-revoked.png, verify-upload.png).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::service::{Database, Service, issued_pdf};
use common::{SETUP_HINT, fixture, python_tool, repo_root, run};
use serde_json::{Value, json};
use tempfile::TempDir;

/// A phone's viewport (390 × 844 CSS pixels).
const PHONE: (u32, u32) = (390, 844);
/// Words of the verification report's vocabulary that a citizen must never be shown.
const JARGON: [&str; 6] = [
    "TOTAL-PASSED",
    "TOTAL-FAILED",
    "INDETERMINATE",
    "HASH_FAILURE",
    "signature(s)",
    "undefined",
];
const REASON: &str = "经营场所变更，原证收回";

#[test]
fn the_qr_code_page_shows_the_licence_its_revocation_and_unknown_serials() {
    let service = Service::start(Database::Sqlite);
    let bureau = Bureau::open(&service);
    let licence = bureau.issue();
    let shots = TempDir::new().unwrap();
    let url = format!("{}/verify/{}", service.url, licence.serial);

    let dom = dump_dom(&url);
    for shown in [
        "lang=\"zh-CN\"",
        "证照有效",
        "<strong class=\"status valid\">有效</strong>",
        &licence.title,
        &licence.holder,
        &licence.serial,
        &licence.sha256,
        "签发日期",
        &licence.authority,
        "href=\"/verify\"",
    ] {
        assert!(dom.contains(shown), "{shown:?} missing from:\n{dom}");
    }
    assert_private_data_absent(&dom, &licence);
    assert_copy_button_enabled(&dom);
    let valid_png = shots.path().join("verify-valid.png");
    screenshot(&url, &valid_png);

    let revoked = service.post_json(
        &format!("/api/v1/certificates/{}/revoke", licence.serial),
        Some(&bureau.admin),
        &json!({ "reason": REASON }),
    );
    assert_eq!(revoked.status(), 200, "{:?}", revoked.text());
    let dom = dump_dom(&url);
    for shown in [
        "证照已撤销",
        "该证照已被撤销，不再有效",
        "<strong class=\"status revoked\">已撤销</strong>",
        "撤销时间",
        "北京时间",
        REASON,
        &licence.holder,
        &licence.sha256,
    ] {
        assert!(
            dom.contains(shown),
            "{shown:?} missing after revocation:\n{dom}"
        );
    }
    assert!(!dom.contains("证照有效"), "{dom}");
    assert_private_data_absent(&dom, &licence);
    let revoked_png = shots.path().join("verify-revoked.png");
    screenshot(&url, &revoked_png);

    // The answer is never cached: a revocation shows at the next scan.
    let response = service.get(&format!("/verify/{}", licence.serial), None);
    assert_eq!(response.headers()["cache-control"], "no-store");

    for (serial, echoed) in [
        ("20990101-ZZZZZZZZZZ", "20990101-ZZZZZZZZZZ"),
        (
            "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
        ),
    ] {
        let url = format!("{}/verify/{serial}", service.url);
        let response = service.get(&format!("/verify/{serial}"), None);
        assert_eq!(response.status(), 404, "{serial}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let dom = dump_dom(&url);
        for shown in ["lang=\"zh-CN\"", "未找到该证照", echoed, "href=\"/verify\""] {
            assert!(dom.contains(shown), "{shown:?} missing from 404:\n{dom}");
        }
        assert!(!dom.contains("<script>alert"), "{dom}");
    }
    keep_previews(&[&valid_png, &revoked_png]);
}

#[test]
fn the_upload_page_says_in_plain_words_what_each_file_is() {
    let service = Service::start(Database::Sqlite);
    let bureau = Bureau::open(&service);
    let valid = bureau.issue();
    let withdrawn = bureau.issue();
    let revoked = service.post_json(
        &format!("/api/v1/certificates/{}/revoke", withdrawn.serial),
        Some(&bureau.admin),
        &json!({ "reason": REASON }),
    );
    assert_eq!(revoked.status(), 200, "{:?}", revoked.text());

    let files = TempDir::new().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = files.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let mut tampered = valid.pdf.clone();
    // Byte 10 is inside the header's binary comment (`%PDF-1.x\n%` then four bytes ≥ 0x80): in
    // the signed range, yet changing it leaves the file readable.
    assert_eq!(&tampered[..5], b"%PDF-");
    assert_eq!(tampered[9], b'%', "the header comment moved");
    tampered[10] ^= 0x01;
    let paths = [
        write("valid.pdf", &valid.pdf),
        write("revoked.pdf", &withdrawn.pdf),
        write("tampered.pdf", &tampered),
        write("appended.pdf", &with_unused_object_appended(&valid.pdf)),
        write(
            "not-a-pdf.pdf",
            "申请材料清单\n1. 营业执照复印件\n".as_bytes(),
        ),
        fixture("verify/pyh-rsa.pdf"),
        fixture("rl-basic.pdf"),
    ];
    let shots = TempDir::new().unwrap();
    let shown = upload_through_the_page(&service, &paths, shots.path());
    let pages = shown["pages"].as_array().unwrap();
    assert_eq!(pages.len(), paths.len(), "{shown}");

    let expected: [(&str, &str, &[&str]); 7] = [
        (
            "valid",
            "证照有效",
            &[
                "与本局存档的原件完全一致",
                &valid.serial,
                &valid.title,
                &valid.sha256,
            ],
        ),
        (
            "revoked",
            "证照已撤销",
            &["已被签发机关撤销", REASON, &withdrawn.serial, "撤销时间"],
        ),
        (
            "failed",
            "无效：印章核验未通过",
            &["盖章之后被改动过", "不能作为有效证照使用", &valid.serial],
        ),
        (
            "altered",
            "与存档原件不一致",
            &["电子印章本身完好", "请以本局存档的原件为准", &valid.serial],
        ),
        (
            "unreadable",
            "无法读取该文件",
            &["不是可以核验的PDF文件", "not-a-pdf.pdf"],
        ),
        (
            "foreign",
            "不是本局签发的证照",
            &["本局没有这份文件的登记记录", "签章者"],
        ),
        ("unsigned", "没有电子印章", &["没有电子印章"]),
    ];
    for (page, (verdict, heading, words)) in pages.iter().zip(expected) {
        let text = page["text"].as_str().unwrap();
        assert_eq!(page["verdict"], verdict, "{page}");
        assert!(
            page["heading"].as_str().unwrap().contains(heading),
            "{page}"
        );
        for word in words {
            assert!(text.contains(word), "{word:?} missing: {page}");
        }
        for jargon in JARGON {
            assert!(!text.contains(jargon), "{jargon:?} shown: {page}");
        }
    }
    // The valid licence links to its QR-code page; the tampered copy to the licence it claims.
    assert_eq!(
        pages[0]["links"],
        json!([format!("/verify/{}", valid.serial)])
    );
    assert_eq!(
        pages[2]["links"],
        json!([format!("/verify/{}", valid.serial)])
    );
    assert!(!pages[2]["text"].as_str().unwrap().contains(&valid.sha256));

    // Nothing broke under the strict content security policy; the only console errors are the
    // browser's note of the one deliberate 422.
    assert_eq!(shown["page_errors"], json!([]), "{shown}");
    for message in shown["console"].as_array().unwrap() {
        let message = message.as_str().unwrap();
        assert!(
            message.contains("status of 422"),
            "unexpected console message: {message}"
        );
    }
    let upload_png = shots.path().join("verify-upload.png");
    std::fs::copy(shots.path().join("valid.pdf.png"), &upload_png).unwrap();
    assert_eq!(png_size(&upload_png).0, PHONE.0);
    keep_previews(&[&upload_png]);
}

#[test]
fn the_pages_work_within_the_content_security_policy_and_without_javascript() {
    let service = Service::start(Database::Sqlite);
    let bureau = Bureau::open(&service);
    let licence = bureau.issue();
    let form = service.get("/verify", None);
    assert_eq!(form.status(), 200);
    let csp = form.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'") && csp.contains("style-src 'self'"));
    let form = form.text().unwrap();
    let page = service
        .get(&format!("/verify/{}", licence.serial), None)
        .text()
        .unwrap();
    for html in [&form, &page] {
        assert_no_inline_code(html);
    }

    // Without JavaScript the upload form stays hidden and the page says how to use the API.
    let noscript = between(&form, "<noscript>", "</noscript>");
    for said in [
        "JavaScript",
        "POST /api/v1/verify",
        "application/pdf",
        "/api/v1/openapi.json",
    ] {
        assert!(noscript.contains(said), "{said:?} missing from {noscript}");
    }
    assert!(form.contains("<form id=\"verify-form\" class=\"upload\""));
    assert!(between(&form, "<form", ">").contains(" hidden"), "{form}");
    for accessible in [
        "<label for=\"file\"",
        "aria-live=\"polite\"",
        "lang=\"zh-CN\"",
        "name=\"viewport\"",
    ] {
        assert!(form.contains(accessible), "{accessible:?} missing: {form}");
    }

    // With it, the script shows the form: Chromium's DOM has it unhidden.
    let dom = dump_dom(&format!("{}/verify", service.url));
    assert!(!between(&dom, "<form", ">").contains("hidden"), "{dom}");

    for (asset, kind) in [
        ("/static/oneseal.css", "text/css"),
        ("/static/verify.js", "text/javascript"),
    ] {
        let response = service.get(asset, None);
        assert_eq!(response.status(), 200, "{asset}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
    }
    assert_eq!(service.get("/static/..%2FCargo.toml", None).status(), 404);
    let script = service.get("/static/verify.js", None).text().unwrap();
    assert!(!script.contains("innerHTML") && !script.contains("insertAdjacentHTML"));
}

#[test]
fn visitors_over_the_rate_limit_are_told_to_wait_in_chinese() {
    let service = Service::start_with(Database::Sqlite, &[("ONESEAL_VERIFY_PER_MINUTE", "1")]);
    assert_eq!(
        service.get("/verify/20990101-ZZZZZZZZZZ", None).status(),
        404
    );
    let limited = service.get("/verify/20990101-ZZZZZZZZZZ", None);
    assert_eq!(limited.status(), 429);
    let page = limited.text().unwrap();
    assert!(
        page.contains("查询过于频繁") && page.contains("lang=\"zh-CN\""),
        "{page}"
    );

    let shots = TempDir::new().unwrap();
    let shown = upload_through_the_page(&service, &[fixture("rl-basic.pdf")], shots.path());
    let result = &shown["pages"][0];
    assert_eq!(result["verdict"], "busy", "{shown}");
    assert!(result["heading"].as_str().unwrap().contains("请求过于频繁"));
    assert!(
        result["text"]
            .as_str()
            .unwrap()
            .contains("请稍等一分钟后再试")
    );
    assert_eq!(shown["page_errors"], json!([]), "{shown}");
}

/// A service with the food licence installed and tokens to issue and revoke.
struct Bureau<'a> {
    service: &'a Service,
    issuer: String,
    admin: String,
}

/// One issued licence as the registry and its API see it.
struct Licence {
    serial: String,
    sha256: String,
    title: String,
    holder: String,
    credit_code: String,
    data: Value,
    /// The seal's organisation (subject O), which the licence prints as its issuing authority.
    authority: String,
    pdf: Vec<u8>,
}

impl<'a> Bureau<'a> {
    fn open(service: &'a Service) -> Bureau<'a> {
        service.install_template("food-business-licence", "市场监督管理局");
        let issuer = service.token("issuer", None, "窗口 7 号");
        let admin = service.token("admin", None, "局长办公室");
        Bureau {
            service,
            issuer,
            admin,
        }
    }

    fn issue(&self) -> Licence {
        let issued = self
            .service
            .issue_example(&self.issuer, "food-business-licence");
        assert_eq!(issued.status(), 201);
        let body: Value = issued.json().unwrap();
        let serial = body["serial"].as_str().unwrap().to_string();
        let record: Value = self
            .service
            .get(
                &format!("/api/v1/certificates/{serial}"),
                Some(&self.issuer),
            )
            .json()
            .unwrap();
        let pdf = issued_pdf(&body);
        let report: Value = self.service.verify(&pdf).json().unwrap();
        let signer = report["signatures"][0]["signer"].as_str().unwrap();
        let authority = signer
            .split(',')
            .find_map(|part| part.trim().strip_prefix("O="))
            .unwrap_or_else(|| panic!("no O= in the seal's subject {signer}"))
            .to_string();
        Licence {
            sha256: body["sha256"].as_str().unwrap().to_string(),
            title: record["title"].as_str().unwrap().to_string(),
            holder: record["holder"].as_str().unwrap().to_string(),
            credit_code: record["credit_code"].as_str().unwrap().to_string(),
            data: record["data"].clone(),
            authority,
            pdf,
            serial,
        }
    }
}

/// The QR code's page shows the licence's type, holder, standing, date, authority and
/// fingerprint: not its other data (people's names, addresses, the credit code) nor who issued it.
fn assert_private_data_absent(dom: &str, licence: &Licence) {
    for field in ["legal_rep", "residence", "premises", "business_items"] {
        let value = licence.data[field].as_str().unwrap();
        assert!(!dom.contains(value), "{field} {value:?} shown:\n{dom}");
    }
    assert!(!dom.contains(&licence.credit_code), "credit code shown");
    assert!(
        !dom.contains("窗口 7 号") && !dom.contains("token:"),
        "issuer shown"
    );
}

/// verify.js ran under the CSP: it replaced the hidden placeholder with a live copy button.
fn assert_copy_button_enabled(dom: &str) {
    let button = between(dom, "<button", "</button>");
    assert!(button.contains("复制指纹"), "{dom}");
    assert!(!button.contains("hidden"), "the script did not run: {dom}");
}

fn assert_no_inline_code(html: &str) {
    for (at, _) in html.match_indices("<script") {
        let tag = between(&html[at..], "<script", ">");
        assert!(tag.contains(" src=\"/static/"), "inline script: {tag}");
    }
    for inline in [
        "<style",
        " style=",
        " onclick=",
        " onload=",
        " onerror=",
        "javascript:",
    ] {
        assert!(!html.contains(inline), "{inline:?} in:\n{html}");
    }
}

/// The text between the first `start` and the next `end` after it.
fn between<'t>(text: &'t str, start: &str, end: &str) -> &'t str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} missing from:\n{text}"))
        + start.len();
    let to = text[from..]
        .find(end)
        .unwrap_or_else(|| panic!("{end:?} missing after {start:?}"));
    &text[from..from + to]
}

/// `pdf` with an incremental update that adds one object nothing refers to: the seal permits
/// that (ISO 32000-2 §12.8.2.2), so the signature still verifies, yet the bytes are no longer
/// the archived ones. Written for the classic cross-reference table and flat trailer the issuer
/// writes.
fn with_unused_object_appended(pdf: &[u8]) -> Vec<u8> {
    let find_last = |needle: &[u8]| {
        pdf.windows(needle.len())
            .rposition(|w| w == needle)
            .unwrap_or_else(|| panic!("{} missing", String::from_utf8_lossy(needle)))
    };
    let trailer = std::str::from_utf8(&pdf[find_last(b"trailer")..]).expect("an ASCII trailer");
    let previous_xref: usize = between(trailer, "startxref", "%%EOF")
        .trim()
        .parse()
        .unwrap();
    let dictionary = between(trailer, "<<", ">>");
    assert!(!dictionary.contains("<<"), "nested trailer: {dictionary}");
    let mut size = 0;
    let mut kept = String::new();
    for entry in dictionary.split('/').filter(|e| !e.is_empty()) {
        if let Some(value) = entry.strip_prefix("Size") {
            size = value.trim().parse().unwrap();
        } else if !entry.starts_with("Prev") {
            kept.push('/');
            kept.push_str(entry);
        }
    }
    let mut out = pdf.to_vec();
    out.push(b'\n');
    let object = out.len();
    out.extend(format!("{size} 0 obj\n(appended after issuance)\nendobj\n").as_bytes());
    let xref = out.len();
    out.extend(
        format!(
            "xref\n{size} 1\n{object:010} 00000 n \ntrailer\n<<{kept}/Prev {previous_xref}/Size {}>>\n\
             startxref\n{xref}\n%%EOF\n",
            size + 1
        )
        .as_bytes(),
    );
    out
}

/// Debian's Chromium (`ONESEAL_CHROMIUM`, set by scripts/setup-test-env).
fn chromium() -> PathBuf {
    let path = std::env::var_os("ONESEAL_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("ONESEAL_CHROMIUM is not set: {SETUP_HINT}"));
    assert!(path.is_file(), "{} missing: {SETUP_HINT}", path.display());
    path
}

/// Headless Chromium with a fresh profile and nothing phoning home; its chatty stderr (D-Bus and
/// the like) is ignored, a timeout keeps a hung browser from hanging the test.
fn headless(args: &[&OsStr]) -> common::Run {
    let profile = TempDir::new().unwrap();
    let mut profile_flag = std::ffi::OsString::from("--user-data-dir=");
    profile_flag.push(profile.path());
    let result = run(Command::new("timeout")
        .arg("120")
        .arg(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(&profile_flag)
        .args(args));
    assert!(result.ok(), "chromium failed:\n{}", result.describe());
    result
}

/// The page's DOM after its scripts ran.
fn dump_dom(url: &str) -> String {
    let dom = headless(&["--dump-dom".as_ref(), url.as_ref()]).stdout;
    assert!(dom.contains("</html>"), "no DOM for {url}:\n{dom}");
    dom
}

/// A phone-sized screenshot of `url` at `png`.
fn screenshot(url: &str, png: &Path) {
    let mut flag = std::ffi::OsString::from("--screenshot=");
    flag.push(png);
    let size = format!("--window-size={},{}", PHONE.0, PHONE.1);
    headless(&[&flag, size.as_ref(), url.as_ref()]);
    assert_eq!(png_size(png), PHONE, "{}", png.display());
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &Path) -> (u32, u32) {
    let bytes = std::fs::read(png).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is no PNG",
        png.display()
    );
    let number = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (number(16), number(20))
}

/// Uploads each file through /verify's file input in Chromium; what the page showed, as JSON.
fn upload_through_the_page(service: &Service, files: &[PathBuf], shots: &Path) -> Value {
    let url = format!("{}/verify", service.url);
    let chromium = chromium();
    let mut args: Vec<&OsStr> = vec![
        "--url".as_ref(),
        url.as_ref(),
        "--chromium".as_ref(),
        chromium.as_os_str(),
        "--screenshot-dir".as_ref(),
        shots.as_os_str(),
    ];
    args.extend(files.iter().map(|f| f.as_os_str()));
    let (_, ran) = python_tool("verify_page.py", &args);
    serde_json::from_str(&ran.stdout).unwrap()
}

/// Copies the screenshots to docs/previews/ when `ONESEAL_UPDATE_PREVIEWS` is set.
fn keep_previews(pngs: &[&Path]) {
    if std::env::var_os("ONESEAL_UPDATE_PREVIEWS").is_none() {
        return;
    }
    let previews = repo_root().join("docs/previews");
    for png in pngs {
        std::fs::copy(png, previews.join(png.file_name().unwrap())).unwrap();
    }
}
