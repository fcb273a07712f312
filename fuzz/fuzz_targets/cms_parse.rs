//! Fuzz target: the CMS reader on untrusted `/Contents` bytes (src/cms/mod.rs `parse_signature`:
//! DER then BER decoding of a ContentInfo/SignedData, then the raw signed-attribute walk), and
//! x509-cert's `Certificate::from_der`, which reads every certificate a signature carries.
//!
//! After a successful parse it does what src/verify/signature.rs does next with the result:
//! re-encode each carried certificate, parse it back, read its subject, serial, key usage and
//! subject key identifier. The same bytes are also tried as one certificate.
#![no_main]

use cms::cert::CertificateChoices;
use der::{Decode, Encode};
use libfuzzer_sys::fuzz_target;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{KeyUsage, SubjectKeyIdentifier};

fn look_at(certificate: &Certificate) {
    let tbs = certificate.tbs_certificate();
    let _ = tbs.subject().to_string();
    let _ = tbs.issuer().to_string();
    let _ = tbs.serial_number().as_bytes().len();
    let _ = tbs.get_extension::<KeyUsage>();
    let _ = tbs.get_extension::<SubjectKeyIdentifier>();
    let _ = tbs.subject_public_key_info().subject_public_key.raw_bytes();
}

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = oneseal::cms::parse_signature(data) {
        let signed = &parsed.signed_data;
        if let Some(set) = &signed.certificates {
            for choice in set.0.iter() {
                if let CertificateChoices::Certificate(certificate) = choice {
                    look_at(certificate);
                    if let Ok(der) = certificate.to_der()
                        && let Ok(again) = Certificate::from_der(&der)
                    {
                        look_at(&again);
                    }
                }
            }
        }
        if let Some(info) = signed.signer_infos.0.get(0) {
            let _ = info.signature.as_bytes().len();
            if let Some(attributes) = &info.signed_attrs {
                for attribute in attributes.iter() {
                    let _ = attribute.values.get(0).map(|v| v.value().len());
                }
            }
        }
    }
    if let Ok(certificate) = Certificate::from_der(data) {
        look_at(&certificate);
        let _ = certificate.to_der();
    }
});
