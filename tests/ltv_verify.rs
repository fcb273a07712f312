//! Verification with timestamps and the document's own validation data (issue 8 item 5): the
//! PAdES level `oneseal verify` reports for files pyHanko made at B-B, B-T, B-LT and B-LTA, next
//! to pyHanko's own verdict on the same file; a signature timestamp as proof of existence against
//! a later revocation and after the seal certificate expired (`--at` ten years ahead); a tampered
//! timestamp token taken for no proof; the token itself checked by `openssl ts -verify`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use common::service::{Database, Service, issued_pdf};
use common::{Keys, fixture, keygen, oneseal_env, python_tool, require_tool, run};
use oneseal::pdf::Limits;
use oneseal::sign::{ValidationData, add_validation_data};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A root for twenty years, a seal certificate of 30 days and a TSA certificate under it, and
/// the root's CRL (`oneseal ca crl`); maybe a second TSA for document timestamps.
struct Pki {
    base: Keys,
    seal: PathBuf,
    tsa: PathBuf,
    document_tsa: Option<PathBuf>,
    _work: tempfile::TempDir,
}

impl Pki {
    /// A TSA certificate of 7000 days, signature and document timestamps alike.
    fn new() -> Pki {
        Pki::with_tsa_days("7000", None)
    }

    /// A TSA of `tsa_days` for signature timestamps and, when given, another of
    /// `document_tsa_days` for B-LTA's document timestamp.
    fn with_tsa_days(tsa_days: &str, document_tsa_days: Option<&str>) -> Pki {
        // keygen's root lives at least as long as its seal: 7300 days gives the root 20 years.
        let base = keygen(&["--days", "7300"]);
        let work = tempfile::tempdir().unwrap();
        let ca = base.dir.to_str().unwrap();
        let seal = work.path().join("seal");
        let made = oneseal_env(
            [
                "keygen",
                "--ca",
                ca,
                "--out",
                seal.to_str().unwrap(),
                "--days",
                "30",
            ],
            &[],
        );
        assert!(made.ok(), "{}", made.describe());
        let tsa_in = |name: &str, days: &str| {
            let dir = work.path().join(name);
            let made = oneseal_env(
                [
                    "keygen",
                    "--tsa",
                    "--ca",
                    ca,
                    "--out",
                    dir.to_str().unwrap(),
                    "--days",
                    days,
                ],
                &[],
            );
            assert!(made.ok(), "{}", made.describe());
            dir
        };
        let tsa = tsa_in("tsa", tsa_days);
        let document_tsa = document_tsa_days.map(|days| tsa_in("document-tsa", days));
        let pki = Pki {
            base,
            seal,
            tsa,
            document_tsa,
            _work: work,
        };
        pki.ca(&["crl"]);
        pki
    }

    fn ca(&self, args: &[&str]) {
        let mut all = vec!["ca"];
        all.extend_from_slice(args);
        all.extend(["--ca", self.base.dir.to_str().unwrap()]);
        let done = oneseal_env(&all, &[]);
        assert!(done.ok(), "{}", done.describe());
    }

    fn crl(&self) -> PathBuf {
        self.base.dir.join("root-ca.crl")
    }

    /// pyHanko signs `level` ("b-b", "b-t", "b-lt", "b-lta") into `out` and gives its verdict.
    fn make(&self, level: &str, out: &Path) -> Value {
        let seal_key = self.seal.join("seal-key.pem");
        let seal_cert = self.seal.join("seal-cert.pem");
        let tsa_key = self.tsa.join("seal-key.pem");
        let tsa_cert = self.tsa.join("seal-cert.pem");
        let input = fixture("gs-pdfwrite.pdf");
        let crl = self.crl();
        let document_tsa = self
            .document_tsa
            .as_ref()
            .map(|dir| [dir.join("seal-key.pem"), dir.join("seal-cert.pem")]);
        let mut args: Vec<&OsStr> = vec![
            level.as_ref(),
            input.as_os_str(),
            out.as_os_str(),
            seal_key.as_os_str(),
            seal_cert.as_os_str(),
            tsa_key.as_os_str(),
            tsa_cert.as_os_str(),
            self.base.root.as_os_str(),
            crl.as_os_str(),
        ];
        args.extend(document_tsa.iter().flatten().map(|path| path.as_os_str()));
        let (_, done) = python_tool("ltv_sign.py", &args);
        serde_json::from_str(&done.stdout).unwrap_or_else(|_| panic!("{}", done.describe()))
    }

    /// `oneseal verify --json` trusting the root, with `extra` arguments; the report and exit code.
    fn verify(&self, pdf: &Path, extra: &[&str]) -> (Value, Option<i32>) {
        let mut args = vec![
            "verify",
            "--json",
            "--trust",
            self.base.root.to_str().unwrap(),
            pdf.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let done = oneseal_env(&args, &[]);
        assert!(matches!(done.code, Some(0 | 1)), "{}", done.describe());
        let report =
            serde_json::from_str(&done.stdout).unwrap_or_else(|_| panic!("{}", done.describe()));
        (report, done.code)
    }
}

/// The signer's report (the first that is not a document timestamp).
fn signer(report: &Value) -> &Value {
    report["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] != "DocTimeStamp")
        .unwrap_or_else(|| panic!("no signature: {report:#}"))
}

fn messages(signature: &Value) -> String {
    signature["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(" | ")
}

fn years_ahead(years: i64) -> String {
    days_ahead(365 * years)
}

fn days_ahead(days: i64) -> String {
    (OffsetDateTime::now_utc() + time::Duration::days(days))
        .format(&Rfc3339)
        .unwrap()
}

#[test]
fn each_level_is_reported_as_pyhanko_made_and_judges_it() {
    let pki = Pki::new();
    let work = tempfile::tempdir().unwrap();
    for level in ["b-b", "b-t", "b-lt", "b-lta"] {
        let pdf = work.path().join(format!("{level}.pdf"));
        let theirs = pki.make(level, &pdf);
        // pyHanko's own verdict on the file it made.
        let signature = &theirs["signature"];
        assert_eq!(signature["valid"], true, "{level}: {theirs:#}");
        assert_eq!(signature["trusted"], true, "{level}: {theirs:#}");
        let stamped = level != "b-b";
        assert_eq!(
            signature["timestamp_valid"],
            if stamped {
                Value::Bool(true)
            } else {
                Value::Null
            },
            "{level}: {theirs:#}"
        );
        let long_term = level == "b-lt" || level == "b-lta";
        if long_term {
            // Validated from the DSS alone, revocation in hard-fail mode.
            assert_eq!(
                theirs["dss_signature"]["valid"], true,
                "{level}: {theirs:#}"
            );
            assert_eq!(
                theirs["dss_signature"]["trusted"], true,
                "{level}: {theirs:#}"
            );
            assert_eq!(
                theirs["dss_signature"]["revoked"], false,
                "{level}: {theirs:#}"
            );
            assert!(theirs["dss"]["crls"].as_u64().unwrap() >= 1, "{theirs:#}");
        } else {
            assert_eq!(theirs["dss"], Value::Null, "{level}: {theirs:#}");
        }
        let document_stamps = theirs["document_timestamps"].as_array().unwrap();
        assert_eq!(
            document_stamps.len(),
            usize::from(level == "b-lta"),
            "{theirs:#}"
        );
        for stamp in document_stamps {
            assert_eq!(stamp["valid"], true, "{theirs:#}");
            assert_eq!(stamp["trusted"], true, "{theirs:#}");
        }

        // Ours, on the same file, offline: nothing but the root is given.
        let (report, code) = pki.verify(&pdf, &[]);
        let ours = signer(&report);
        assert_eq!(report["indication"], "TOTAL-PASSED", "{level}: {report:#}");
        assert_eq!(code, Some(0));
        assert_eq!(
            ours["pades_level"],
            level.to_uppercase().as_str(),
            "{level}: {report:#}"
        );
        if long_term {
            // The DSS's CRL was read: the signer is reported not revoked by it.
            assert!(
                messages(ours).contains("not revoked according to CRL number 1"),
                "{report:#}"
            );
        }
        for stamp in report["signatures"].as_array().unwrap() {
            if stamp["kind"] == "DocTimeStamp" {
                assert_eq!(stamp["indication"], "TOTAL-PASSED", "{report:#}");
                assert_eq!(stamp["pades_level"], Value::Null, "{report:#}");
            }
        }
    }
}

#[test]
fn ten_years_ahead_b_lta_passes_and_b_b_is_indeterminate() {
    let pki = Pki::new();
    let work = tempfile::tempdir().unwrap();
    let later = years_ahead(10);
    let mut outcomes = Vec::new();
    for level in ["b-b", "b-t", "b-lta"] {
        let pdf = work.path().join(format!("{level}.pdf"));
        pki.make(level, &pdf);
        let (report, code) = pki.verify(&pdf, &["--at", &later]);
        outcomes.push((level, report, code));
    }
    let [(_, bb, bb_code), (_, bt, _), (_, lta, lta_code)] = &outcomes[..] else {
        unreachable!()
    };
    // The seal certificate (30 days) has long expired and nothing proves when B-B was made.
    assert_eq!(bb["indication"], "INDETERMINATE", "{bb:#}");
    assert_eq!(
        signer(bb)["sub_indication"],
        "OUT_OF_BOUNDS_NO_POE",
        "{bb:#}"
    );
    assert_eq!(*bb_code, Some(1));
    // The signature timestamp proves the signature existed while the certificate was valid; the
    // TSA's certificate (7000 days) is still valid ten years on.
    assert_eq!(bt["indication"], "TOTAL-PASSED", "{bt:#}");
    assert!(
        messages(signer(bt)).contains("signature timestamp"),
        "{bt:#}"
    );
    assert_eq!(lta["indication"], "TOTAL-PASSED", "{lta:#}");
    assert_eq!(*lta_code, Some(0));
    assert_eq!(signer(lta)["pades_level"], "B-LTA", "{lta:#}");
    assert!(
        messages(signer(lta))
            .contains("has expired by the validation time, but the path was valid at"),
        "{lta:#}"
    );
    // In the text report too, in both languages.
    let pdf = work.path().join("b-lta.pdf");
    for (language, label) in [("en", "PAdES level: B-LTA"), ("zh", "PAdES 级别: B-LTA")] {
        let text = oneseal_env(
            [
                "verify",
                "--lang",
                language,
                "--trust",
                pki.base.root.to_str().unwrap(),
                "--at",
                &later,
                pdf.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(text.code, Some(0), "{}", text.describe());
        assert!(text.stdout.contains(label), "{}", text.describe());
    }
}

#[test]
fn a_document_timestamp_keeps_a_signature_timestamp_whose_tsa_expired() {
    // Signature timestamps from a TSA certificate of 30 days; B-LTA's document timestamp from
    // another of 7000 days. A year on, the first TSA's certificate has expired.
    let pki = Pki::with_tsa_days("30", Some("7000"));
    let work = tempfile::tempdir().unwrap();
    let later = years_ahead(1);

    // B-T alone: the expired TSA proves nothing, and the seal certificate expired too.
    let bt = work.path().join("b-t.pdf");
    pki.make("b-t", &bt);
    let (now, _) = pki.verify(&bt, &[]);
    assert_eq!(now["indication"], "TOTAL-PASSED", "{now:#}");
    assert_eq!(signer(&now)["pades_level"], "B-T", "{now:#}");
    let (report, code) = pki.verify(&bt, &["--at", &later]);
    assert_eq!(report["indication"], "INDETERMINATE", "{report:#}");
    assert_eq!(
        signer(&report)["sub_indication"],
        "OUT_OF_BOUNDS_NO_POE",
        "{report:#}"
    );
    assert_eq!(code, Some(1));
    assert!(
        messages(signer(&report))
            .contains("the signature timestamp is not valid and proves nothing"),
        "{report:#}"
    );

    // B-LTA: the document timestamp proves the signature timestamp existed while its TSA's
    // certificate was valid, and the timestamp in turn proves the signature.
    let lta = work.path().join("b-lta.pdf");
    let theirs = pki.make("b-lta", &lta);
    assert_eq!(
        theirs["document_timestamps"][0]["valid"], true,
        "{theirs:#}"
    );
    assert_eq!(theirs["dss_signature"]["valid"], true, "{theirs:#}");
    let (now, _) = pki.verify(&lta, &[]);
    assert_eq!(signer(&now)["pades_level"], "B-LTA", "{now:#}");
    let (report, code) = pki.verify(&lta, &["--at", &later]);
    let ours = signer(&report);
    assert_eq!(report["indication"], "TOTAL-PASSED", "{report:#}");
    assert_eq!(code, Some(0));
    assert_eq!(ours["pades_level"], "B-LTA", "{report:#}");
    assert!(
        messages(ours).contains(
            "the signature timestamp's TSA certificate is not valid at the validation time"
        ),
        "{report:#}"
    );
    assert!(
        messages(ours).contains("when the document timestamp over revision"),
        "{report:#}"
    );
}

#[test]
fn a_revocation_after_the_timestamp_passes_one_before_it_does_not() {
    let work = tempfile::tempdir().unwrap();
    for after in [true, false] {
        let pki = Pki::new();
        let pdf = work.path().join(format!("b-t-{after}.pdf"));
        pki.make("b-t", &pdf);
        let seal_cert = pki.seal.join("seal-cert.pem");
        let mut revoke = vec!["revoke", "--certificate", seal_cert.to_str().unwrap()];
        revoke.extend(["--reason", "superseded"]);
        // The timestamp was made just now: revoke two seconds later (a revocation cannot be
        // dated in the future), or ten minutes before it.
        let before = (OffsetDateTime::now_utc() - time::Duration::minutes(10))
            .format(&Rfc3339)
            .unwrap();
        if after {
            std::thread::sleep(std::time::Duration::from_secs(2));
        } else {
            revoke.extend(["--at", &before]);
        }
        pki.ca(&revoke);
        let crl = pki.crl();
        let (report, code) = pki.verify(
            &pdf,
            &["--crl", crl.to_str().unwrap(), "--at", &days_ahead(1)],
        );
        let ours = signer(&report);
        if after {
            assert_eq!(report["indication"], "TOTAL-PASSED", "{report:#}");
            assert_eq!(code, Some(0));
            assert!(
                messages(ours).contains("after this signature's proven time"),
                "{report:#}"
            );
            assert!(
                messages(ours).contains("a signature timestamp of"),
                "{report:#}"
            );
        } else {
            assert_eq!(report["indication"], "INDETERMINATE", "{report:#}");
            assert_eq!(ours["sub_indication"], "REVOKED_NO_POE", "{report:#}");
            assert_eq!(code, Some(1));
        }
    }
}

#[test]
fn a_tampered_timestamp_token_is_no_proof() {
    let pki = Pki::new();
    let work = tempfile::tempdir().unwrap();
    let pdf = work.path().join("b-t.pdf");
    pki.make("b-t", &pdf);
    let bytes = std::fs::read(&pdf).unwrap();
    let token = extract_token(&bytes);

    // openssl agrees the token, as made, is valid for this root.
    let token_file = work.path().join("token.der");
    std::fs::write(&token_file, &token.der).unwrap();
    let tsa_chain = pki.tsa.join("seal-cert.pem");
    let verified = run(std::process::Command::new(require_tool("openssl")).args([
        OsStr::new("ts"),
        OsStr::new("-verify"),
        OsStr::new("-token_in"),
        OsStr::new("-in"),
        token_file.as_os_str(),
        OsStr::new("-digest"),
        OsStr::new(&token.imprint_hex),
        OsStr::new("-CAfile"),
        pki.base.root.as_os_str(),
        OsStr::new("-untrusted"),
        tsa_chain.as_os_str(),
    ]));
    assert!(
        verified.stdout.contains("Verification: OK"),
        "{}",
        verified.describe()
    );

    // A flipped byte inside the TSTInfo's genTime: the token's signature no longer verifies.
    let mut tampered = bytes.clone();
    let hex_at = token.gen_time_hex_offset;
    let digit = tampered[hex_at + 1];
    tampered[hex_at + 1] = if digit == b'0' { b'1' } else { b'0' };
    let tampered_pdf = work.path().join("tampered.pdf");
    std::fs::write(&tampered_pdf, &tampered).unwrap();
    let (now, _) = pki.verify(&tampered_pdf, &[]);
    let ours = signer(&now);
    // The signature itself is intact (the timestamp is an unsigned attribute), but not B-T.
    assert_eq!(now["indication"], "TOTAL-PASSED", "{now:#}");
    assert_eq!(ours["pades_level"], "B-B", "{now:#}");
    assert!(
        messages(ours).contains("the signature timestamp is not valid and proves nothing"),
        "{now:#}"
    );
    // And it proves nothing ten years on, where the intact token carries the signature.
    let (later, _) = pki.verify(&tampered_pdf, &["--at", &years_ahead(10)]);
    assert_eq!(later["indication"], "INDETERMINATE", "{later:#}");
    assert_eq!(
        signer(&later)["sub_indication"],
        "OUT_OF_BOUNDS_NO_POE",
        "{later:#}"
    );
    let (intact, _) = pki.verify(&pdf, &["--at", &years_ahead(10)]);
    assert_eq!(intact["indication"], "TOTAL-PASSED", "{intact:#}");
}

#[test]
fn a_revoking_crl_in_the_dss_is_read_offline() {
    // oneseal's own signature (B-B: no timestamp), then a DSS with the root's CRL: first one
    // that lists nothing, then one revoking the seal for a key compromise.
    let pki = Pki::new();
    let work = tempfile::tempdir().unwrap();
    let signed = work.path().join("signed.pdf");
    let made = common::sign(&fixture("gs-pdfwrite.pdf"), &signed, &pki.seal, &[]);
    assert!(made.ok(), "{}", made.describe());
    let original = std::fs::read(&signed).unwrap();
    let with_crl = |crl: Vec<u8>| {
        let data = ValidationData {
            certificates: Vec::new(),
            crls: vec![crl],
            ocsp_responses: Vec::new(),
        };
        add_validation_data(&original, &data, Limits::default()).unwrap()
    };
    let clean = work.path().join("clean.pdf");
    std::fs::write(&clean, with_crl(std::fs::read(pki.crl()).unwrap())).unwrap();
    let (report, code) = pki.verify(&clean, &[]);
    assert_eq!(report["indication"], "TOTAL-PASSED", "{report:#}");
    assert_eq!(code, Some(0));
    assert_eq!(signer(&report)["pades_level"], "B-B", "{report:#}");
    assert!(
        messages(signer(&report)).contains("not revoked according to CRL number 1"),
        "{report:#}"
    );

    let seal_cert = pki.seal.join("seal-cert.pem");
    pki.ca(&["revoke", "--certificate", seal_cert.to_str().unwrap()]);
    let revoked = work.path().join("revoked.pdf");
    std::fs::write(&revoked, with_crl(std::fs::read(pki.crl()).unwrap())).unwrap();
    let (report, code) = pki.verify(&revoked, &[]);
    assert_eq!(report["indication"], "TOTAL-FAILED", "{report:#}");
    assert_eq!(signer(&report)["sub_indication"], "REVOKED", "{report:#}");
    assert_eq!(code, Some(1));
}

#[test]
fn the_services_licences_reach_the_level_pyhanko_sees() {
    // Licences `oneseal serve` issues at B-LT (its default) and B-LTA (docs/ltv.md), judged by
    // ours and by pyHanko (tests/tools/validate_ltv.py), now and, for B-LTA, ten years on.
    let work = tempfile::tempdir().unwrap();
    for level in ["B-LT", "B-LTA"] {
        let service = Service::start_with(Database::Sqlite, &[("ONESEAL_TIMESTAMP_LEVEL", level)]);
        service.install_template("food-business-licence", "市场监督管理局");
        let issuer = service.token("issuer", None, "窗口");
        let issued = service.issue_example(&issuer, "food-business-licence");
        assert_eq!(issued.status(), 201, "{:?}", issued.text());
        let body: Value = issued.json().unwrap();
        let licence = work.path().join(format!("{level}.pdf"));
        std::fs::write(&licence, issued_pdf(&body)).unwrap();
        let root = service
            .data
            .path()
            .join("data/development-seal/root-ca.pem");
        let (_, done) = python_tool(
            "validate_ltv.py",
            &[OsStr::new("--root"), root.as_os_str(), licence.as_os_str()],
        );
        let theirs: Value = serde_json::from_str(&done.stdout).unwrap();
        assert_eq!(theirs["signatures"][0]["level"], level, "{theirs:#}");

        let mut at = vec![];
        let later = years_ahead(10);
        if level == "B-LTA" {
            at = vec!["--at", later.as_str()];
        }
        let mut args = vec!["verify", "--json", "--trust", root.to_str().unwrap()];
        args.extend_from_slice(&at);
        args.push(licence.to_str().unwrap());
        let ours = oneseal_env(&args, &[]);
        let report: Value =
            serde_json::from_str(&ours.stdout).unwrap_or_else(|_| panic!("{}", ours.describe()));
        assert_eq!(report["indication"], "TOTAL-PASSED", "{level}: {report:#}");
        assert_eq!(signer(&report)["pades_level"], level, "{report:#}");
    }
}

/// The signature timestamp token inside the first signature's `/Contents`.
struct Token {
    der: Vec<u8>,
    /// The imprint (the hash of the signature value), hex, for `openssl ts -verify -digest`.
    imprint_hex: String,
    /// Where, in the file, the hex digits of the TSTInfo's genTime start.
    gen_time_hex_offset: usize,
}

fn extract_token(pdf: &[u8]) -> Token {
    use der::Encode;
    let start = find(pdf, b"/Contents <").unwrap() + b"/Contents <".len();
    let end = start + find(&pdf[start..], b">").unwrap();
    let contents = hex_decode(&pdf[start..end]);
    let parsed = oneseal::cms::parse_signature(&contents).unwrap();
    let signer = &parsed.signed_data.signer_infos.0.as_slice()[0];
    let attribute = signer
        .unsigned_attrs
        .as_ref()
        .unwrap()
        .iter()
        .find(|a| a.oid.to_string() == "1.2.840.113549.1.9.16.2.14")
        .unwrap();
    let token = attribute.values.as_slice()[0].to_der().unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, signer.signature.as_bytes());
    // genTime: a GeneralizedTime (tag 0x18) of digits ending in Z, e.g. "20261126123456Z".
    let token_at = find(&contents, &token).unwrap();
    let gen_time = (0..token.len())
        .find(|&at| {
            let (Some(&0x18), Some(&length)) = (token.get(at), token.get(at + 1)) else {
                return false;
            };
            let value = token.get(at + 2..at + 2 + usize::from(length));
            (15..=24).contains(&length)
                && value
                    .is_some_and(|v| v[..14].iter().all(u8::is_ascii_digit) && v.ends_with(b"Z"))
        })
        .unwrap();
    // The year's third digit: two bytes after the tag and length.
    let byte_in_contents = token_at + gen_time + 2 + 2;
    Token {
        der: token,
        imprint_hex: digest.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
        gen_time_hex_offset: start + byte_in_contents * 2,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn hex_decode(hex: &[u8]) -> Vec<u8> {
    hex.chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}
