//! Fuzz target: the whole verification path on untrusted bytes (src/verify/, src/cms/): revision
//! split at every `%%EOF`, signature dictionaries, ByteRange, CMS (DER then BER), certificates
//! (x509-cert), path validation (rustls-webpki), signature values (ring, RustCrypto rsa) and the
//! object-by-object comparison between revisions.
//!
//! Trust anchors: the TEST-ONLY chain in fuzz/keys/seal-cert.pem (seal certificate and its root),
//! so PDFs signed with `oneseal sign --keys fuzz/keys` pass. Validation time is fixed inside that
//! chain's validity (2027-06-01T00:00:00Z). Oracle: no panic, no hang; a `TOTAL-PASSED` report
//! must carry at least one signature and every one of them must have passed.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use oneseal::verify::{Indication, Policy, TrustAnchors, verify};
use time::OffsetDateTime;

const CHAIN_PEM: &[u8] = include_bytes!("../keys/seal-cert.pem");

fn anchors() -> &'static TrustAnchors {
    static ANCHORS: OnceLock<TrustAnchors> = OnceLock::new();
    ANCHORS.get_or_init(|| {
        let mut anchors = TrustAnchors::new();
        anchors
            .add_pem_or_der(CHAIN_PEM)
            .expect("the test-only fuzz chain loads");
        anchors
    })
}

fuzz_target!(|data: &[u8]| {
    let time = OffsetDateTime::from_unix_timestamp(1_811_808_000).expect("a fixed valid time");
    let policy = Policy::new(time);
    if let Ok(report) = verify(data, anchors(), &policy) {
        if report.passed() {
            assert!(
                !report.signatures.is_empty()
                    && report
                        .signatures
                        .iter()
                        .all(|s| s.indication == Indication::TotalPassed),
                "a passed report with a signature that did not pass"
            );
        }
        let _ = oneseal::verify::text::render(&report, oneseal::verify::text::Language::English);
    }
});
