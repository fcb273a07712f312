//! Fuzz target: what `oneseal ltv extend FILE` does to an untrusted file before asking the TSA
//! (src/sign/carried.rs, src/sign/dss.rs, src/sign/doc_timestamp.rs): read every certificate
//! the signatures and their timestamp tokens carry, add them with a CRL to the DSS, then append
//! a document timestamp field and write a stand-in token into it.
//!
//! Oracle: no panic, no hang; each `Ok` output starts with its input and opens again with
//! `PdfFile::open`; the timestamp covers everything but its own `/Contents`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oneseal::pdf::{Limits, PdfFile};
use oneseal::verify::TrustAnchors;
use oneseal::sign::{
    DocumentTimestampRequest, ValidationData, add_validation_data, carried_certificates,
    prepare_document_timestamp,
};

/// A TEST-ONLY certificate (the fuzz chain) stands in for what the bureau adds itself.
const CHAIN_PEM: &[u8] = include_bytes!("../keys/seal-cert.pem");

/// Any DER SEQUENCE fits where the token goes; the TSA is not what is under test here.
const STAND_IN_TOKEN: &[u8] = &[0x30, 0x03, 0x02, 0x01, 0x01];

fuzz_target!(|input: &[u8]| {
    let limits = Limits::default();
    let Ok(mut certificates) = carried_certificates(input, limits) else {
        return;
    };
    let mut chain = TrustAnchors::new();
    chain
        .add_pem_or_der(CHAIN_PEM)
        .expect("the test-only fuzz chain loads");
    certificates.extend(chain.certificates().iter().cloned());
    let data = ValidationData {
        certificates,
        crls: vec![vec![0x30, 0x00]],
        ocsp_responses: Vec::new(),
    };
    let Ok(with_dss) = add_validation_data(input, &data, limits) else {
        return;
    };
    assert!(with_dss.starts_with(input));
    assert!(PdfFile::open(&with_dss, limits).is_ok());
    let request = DocumentTimestampRequest {
        token_reserve: 64,
        ..DocumentTimestampRequest::default()
    };
    let Ok(prepared) = prepare_document_timestamp(&with_dss, &request) else {
        return;
    };
    let _ = prepared.digest();
    let stamped = prepared
        .finish(STAND_IN_TOKEN)
        .expect("a five-byte token fits in 64 bytes");
    assert!(stamped.starts_with(&with_dss));
    assert!(PdfFile::open(&stamped, limits).is_ok());
});
