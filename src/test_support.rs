//! Helpers shared by unit tests: a throwaway seal with a self-signed certificate.

use crate::seal::{KeyFileSigner, Signer};

/// A fresh P-256 key with a self-signed certificate (CN 测试印章, digitalSignature and
/// nonRepudiation), and that certificate's DER to trust.
pub(crate) fn test_signer() -> (KeyFileSigner, Vec<u8>) {
    let key = rcgen::KeyPair::generate().unwrap_or_else(|e| unreachable!("{e}"));
    let mut params =
        rcgen::CertificateParams::new(Vec::<String>::new()).unwrap_or_else(|e| unreachable!("{e}"));
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "测试印章");
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::ContentCommitment,
    ];
    let certificate = params
        .self_signed(&key)
        .unwrap_or_else(|e| unreachable!("{e}"));
    let signer = KeyFileSigner::from_pem(
        key.serialize_pem().as_bytes(),
        certificate.pem().as_bytes(),
        None,
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    let der = signer
        .certificate_chain()
        .first()
        .cloned()
        .unwrap_or_default();
    (signer, der)
}
