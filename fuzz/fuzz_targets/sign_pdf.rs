//! Fuzz target: the whole signing path on untrusted bytes, with a fixed test-only seal key.
//!
//! The first input byte picks the request variant (certify, visible, field name); the rest is
//! the PDF. Any `Ok` output must itself open again with `PdfFile::open`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use oneseal::pdf::{Limits, PdfFile};
use oneseal::seal::KeyFileSigner;
use oneseal::sign::{DocMdpPermission, SignatureRequest, VisibleSignature, sign_pdf};
use time::OffsetDateTime;

// TEST-ONLY key and chain, made with `oneseal keygen --out /tmp/fuzzkeys` for fuzzing. They
// protect nothing and must never be trusted by anything.
const KEY_PEM: &[u8] = include_bytes!("../keys/seal-key.pem");
const CHAIN_PEM: &[u8] = include_bytes!("../keys/seal-cert.pem");

fn signer() -> &'static KeyFileSigner {
    static SIGNER: OnceLock<KeyFileSigner> = OnceLock::new();
    SIGNER.get_or_init(|| {
        KeyFileSigner::from_pem(KEY_PEM, CHAIN_PEM, None).expect("the test-only fuzz key loads")
    })
}

fn request(selector: u8) -> SignatureRequest {
    let time = OffsetDateTime::from_unix_timestamp(1_764_000_000).expect("a fixed valid time");
    let mut request = SignatureRequest::new(time);
    request.certify = match selector & 0b11 {
        1 => Some(DocMdpPermission::NoChanges),
        2 => Some(DocMdpPermission::FormFilling),
        3 => Some(DocMdpPermission::Annotations),
        _ => None,
    };
    if selector & 0b100 != 0 {
        request.visible = Some(VisibleSignature {
            page: if selector & 0b1000 != 0 { 2 } else { 1 },
            x: 72.0,
            y: 72.0,
            width: 180.0,
            height: 60.0,
        });
    }
    request.field_name = match (selector >> 4) & 0b11 {
        1 => Some("Signature1".into()),
        2 => Some("Approval".into()),
        3 => Some("Sig1".into()),
        _ => None,
    };
    if selector & 0b0100_0000 != 0 {
        request.reason = Some("审批 approval".into());
        request.location = Some("Xinxiang".into());
    }
    if selector & 0b1000_0000 != 0 {
        request.timestamp_reserve = 64;
    }
    request
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, pdf)) = data.split_first() else {
        return;
    };
    let request = request(selector);
    if let Ok(signed) = sign_pdf(pdf, signer(), &request) {
        assert!(
            signed.starts_with(pdf),
            "the signed output must keep the original bytes"
        );
        if let Err(error) = PdfFile::open(&signed, Limits::default()) {
            panic!("our own signed output does not reopen: {error}");
        }
    }
});
