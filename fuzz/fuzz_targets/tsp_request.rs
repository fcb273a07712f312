//! Fuzz target: an RFC 3161 TimeStampReq from outside (src/cms/tsp.rs), as `POST /tsa` reads it:
//! `tsp::parse_request` (size cap, strict DER, version, extensions, policy, hash algorithm and
//! digest length, nonce length), then the answer the TSA would send.
//!
//! Oracle: no panic, no hang; a request that parses names an accepted hash with a digest of its
//! length and a nonce within the limit, and a token for it can be built and signed with the
//! TEST-ONLY fuzz key and wrapped in a granted TimeStampResp; a refused one always yields an
//! encodable rejection TimeStampResp. Seeds: `openssl ts -query` outputs (docs/fuzzing.md).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use oneseal::cms::SignerIdentity;
use oneseal::cms::tsp::{self, PolicyId, Stamp};
use oneseal::seal::{KeyFileSigner, Signer};

// TEST-ONLY key and chain, made with `oneseal keygen` for fuzzing; they protect nothing.
const KEY_PEM: &[u8] = include_bytes!("../keys/seal-key.pem");
const CHAIN_PEM: &[u8] = include_bytes!("../keys/seal-cert.pem");

fn signer() -> &'static (KeyFileSigner, SignerIdentity) {
    static SIGNER: OnceLock<(KeyFileSigner, SignerIdentity)> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let signer = KeyFileSigner::from_pem(KEY_PEM, CHAIN_PEM, None).expect("the test-only key");
        let identity = SignerIdentity::from_chain(signer.certificate_chain(), oneseal::sign::sha256)
            .expect("the test-only chain");
        (signer, identity)
    })
}

fuzz_target!(|data: &[u8]| {
    let policy = PolicyId::oneseal();
    let request = match tsp::parse_request(data, &policy) {
        Ok(request) => request,
        Err(refusal) => {
            tsp::rejection_response(&refusal).expect("a rejection always encodes");
            return;
        }
    };
    assert!(data.len() <= tsp::MAX_REQUEST_BYTES);
    assert_eq!(request.hashed_message().len(), request.algorithm.digest_len());
    let (signer, identity) = signer();
    let stamp = Stamp {
        policy: &policy,
        serial: 1 + u64::from(data.first().copied().unwrap_or(0)),
        time_ms: 1_795_000_000_123,
        accuracy_ms: 1000,
    };
    let token = tsp::timestamp_token(
        identity,
        &request,
        &stamp,
        oneseal::sign::algorithm_oid(signer.algorithm()),
        oneseal::sign::sha256,
        |message| signer.sign(message),
    )
    .expect("a parsed request always gets a token");
    let claim = oneseal::cms::parse_tst_info(&tst_info_of(&token)).expect("our TSTInfo reads back");
    assert_eq!(claim.hashed_message, request.hashed_message());
    tsp::granted_response(&token).expect("a granted response encodes");
});

/// The TSTInfo inside a token (SignedData → encapContentInfo → eContent).
fn tst_info_of(token: &[u8]) -> Vec<u8> {
    let signed = oneseal::cms::parse_signed_data(token).expect("our token reads back");
    let content = signed.encap_content_info.econtent.expect("the token carries its TSTInfo");
    content
        .decode_as::<der::asn1::OctetString>()
        .expect("eContent is an OCTET STRING")
        .into_bytes()
        .into_vec()
}
