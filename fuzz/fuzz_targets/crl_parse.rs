//! Fuzz target: a CRL from outside (src/pki/crl.rs), as `PUT /api/v1/crl`, `oneseal crl publish`
//! and `oneseal verify --crl` read it: `RevocationList::parse_all` (DER, or PEM blocks; x509-cert
//! as the strict DER gate, then x509-parser), the signature check against the fuzz chain's root
//! (ring) and a serial lookup.
//!
//! Oracle: no panic, no hang; a CRL that parses stays within the limits it promises. The check
//! against the TEST-ONLY fuzz root runs on every CRL that parses (issuer name, key identifier,
//! key usage, then ring); it can only fail, since the fuzzer cannot forge the root's signature.
//! Seeds: CRLs from `oneseal ca crl` / `ca revoke` of any key directory (docs/fuzzing.md).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use oneseal::pki::{CertificateSerial, MAX_CRL_BYTES, MAX_CRL_ENTRIES, RevocationList};
use oneseal::verify::TrustAnchors;

const CHAIN_PEM: &[u8] = include_bytes!("../keys/seal-cert.pem");

/// The fuzz chain's root (its last certificate), DER.
fn root() -> &'static [u8] {
    static ROOT: OnceLock<Vec<u8>> = OnceLock::new();
    ROOT.get_or_init(|| {
        let mut chain = TrustAnchors::new();
        chain
            .add_pem_or_der(CHAIN_PEM)
            .expect("the test-only fuzz chain loads");
        chain
            .certificates()
            .last()
            .cloned()
            .expect("the fuzz chain has a root")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(lists) = RevocationList::parse_all(data) else {
        return;
    };
    for list in &lists {
        assert!(list.der().len() <= MAX_CRL_BYTES);
        assert!(list.entries().len() <= MAX_CRL_ENTRIES);
        assert!(list.this_update() < list.next_update());
        assert!(list.check_signature(root()).is_err());
        if let Some(serial) = CertificateSerial::from_integer_bytes(&[0x01]) {
            let _ = list.revocation_of(&serial);
        }
    }
});
