//! Fuzz target: a TSA's TimeStampResp as the RFC 3161 client receives it (src/verify/tsp_client.rs
//! `check_response`, over src/cms/tsp.rs `parse_response` and `parse_tst_info_full`, the CMS
//! reader, the token's signature, ESS and the TSA's path), with a fixed expected stamp (SHA-256
//! imprint, 8-byte nonce) and a trust set built once.
//!
//! Byte 0 picks the mode: even, the rest is the response itself; odd, the rest is a list of
//! (offset u16 big-endian, xor byte) patches applied to a valid response made once per process
//! by a TSA under the trusted root, so mutations reach the signature, ESS and path checks.
//! Keys are generated per process (ECDSA), so a patch-mode input reproduces the same structure
//! but not the same signature bytes; raw-mode inputs reproduce exactly.
//!
//! Oracle: no panic, no hang; an accepted token is the trusted TSA's, stamped at the time that
//! TSA wrote (a patch can only be accepted where it touches nothing signed).
#![no_main]

use std::sync::OnceLock;

use base64::Engine;
use libfuzzer_sys::fuzz_target;
use oneseal::cms::SignerIdentity;
use oneseal::cms::tsp::{self, ImprintAlgorithm, PolicyId, Stamp};
use oneseal::pki::{EndEntityProfile, SealSubject, Serial, Validity};
use oneseal::seal::{KeyFileSigner, Signer, SoftwareKey};
use oneseal::verify::TrustAnchors;
use oneseal::verify::tsp_client::{ExpectedStamp, TsaTrust, check_response};
use time::OffsetDateTime;

const DIGEST: [u8; 32] = [0x42; 32];
const NONCE: [u8; 8] = [0xa1, 2, 3, 4, 5, 6, 7, 8];
/// genTime of the valid response: 2026-11-11 00:00:00.250 UTC.
const STAMP_MS: i64 = 1_794_355_200_250;

struct Fixture {
    anchors: TrustAnchors,
    tsa_certificate: Vec<u8>,
    response: Vec<u8>,
    validation_time: OffsetDateTime,
    stamp_time: OffsetDateTime,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let start = time::macros::datetime!(2026-01-01 00:00 UTC);
        let root_key = SoftwareKey::generate().expect("a root key");
        let root = oneseal::pki::issue_root_certificate(
            &root_key,
            "测试机关",
            &Validity::new(start, start + time::Duration::days(3650)).expect("validity"),
            &Serial::from_random_bytes([1; 16]),
        )
        .expect("the root");
        let tsa_key = SoftwareKey::generate().expect("a TSA key");
        let tsa_certificate = oneseal::pki::issue_end_entity_certificate(
            EndEntityProfile::TimeStamping,
            &tsa_key,
            &SealSubject::new("测试机关", "测试机关 时间戳服务", None).expect("subject"),
            (root.as_slice(), &root_key),
            &Validity::new(start, start + time::Duration::days(365)).expect("validity"),
            &Serial::from_random_bytes([2; 16]),
            None,
        )
        .expect("the TSA certificate");
        let key_pem = tsa_key.to_pkcs8_pem(None).expect("the TSA key's PEM");
        let chain_pem = [pem(&tsa_certificate), pem(&root)].concat();
        let signer = KeyFileSigner::from_pem(key_pem.as_bytes(), chain_pem.as_bytes(), None)
            .expect("the TSA signer");
        let identity =
            SignerIdentity::from_chain(signer.certificate_chain(), oneseal::sign::sha256)
                .expect("the TSA chain");
        let request =
            tsp::build_request(ImprintAlgorithm::Sha256, &DIGEST, Some(&NONCE), true, None)
                .expect("the request");
        let request = tsp::parse_request(&request, &PolicyId::oneseal()).expect("our request");
        let stamp = Stamp {
            policy: &PolicyId::oneseal(),
            serial: 0x8000_0000_0000_0001,
            time_ms: STAMP_MS,
            accuracy_ms: 1000,
        };
        let token = tsp::timestamp_token(
            &identity,
            &request,
            &stamp,
            oneseal::sign::algorithm_oid(signer.algorithm()),
            oneseal::sign::sha256,
            |message| signer.sign(message),
        )
        .expect("the token");
        let response = tsp::granted_response(&token).expect("the response");
        let mut anchors = TrustAnchors::new();
        anchors.add_pem_or_der(&root).expect("the root as anchor");
        let stamp_time =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(STAMP_MS) * 1_000_000)
                .expect("the stamp time");
        let fixture = Fixture {
            anchors,
            tsa_certificate,
            response,
            validation_time: stamp_time + time::Duration::hours(1),
            stamp_time,
        };
        check(&fixture, &fixture.response).expect("the unchanged response is accepted");
        fixture
    })
}

fn pem(der: &[u8]) -> String {
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

fn check(
    fixture: &Fixture,
    response: &[u8],
) -> Result<oneseal::verify::tsp_client::CheckedToken, oneseal::verify::tsp_client::TspClientError>
{
    let expected = ExpectedStamp {
        algorithm: ImprintAlgorithm::Sha256,
        digest: &DIGEST,
        nonce: Some(&NONCE),
        policy: None,
    };
    let trust = TsaTrust {
        anchors: &fixture.anchors,
        certificates: &[],
        validation_time: fixture.validation_time,
    };
    check_response(response, &expected, &trust)
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let response = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let mut patched = fixture.response.clone();
        for patch in rest.chunks_exact(3) {
            let offset = usize::from(u16::from_be_bytes([patch[0], patch[1]])) % patched.len();
            patched[offset] ^= patch[2];
        }
        patched
    };
    if let Ok(token) = check(fixture, &response) {
        assert_eq!(token.tsa_certificate, fixture.tsa_certificate);
        assert_eq!(token.generation_time, fixture.stamp_time);
        assert!(!token.token.is_empty());
    }
});
