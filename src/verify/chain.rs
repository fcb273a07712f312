//! The signer's certificate path to a trust anchor (RFC 5280 §6) via rustls-webpki, plus the
//! key-usage rules for signers that webpki leaves to us.

use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use time::OffsetDateTime;
use webpki::{
    EndEntityCert, Error as WebpkiError, ExtendedKeyUsageValidator, KeyPurposeId, KeyPurposeIdIter,
};

use super::{Indication, SubIndication};

/// The certificates a verifier trusts, DER. Only these end a path.
#[derive(Clone, Debug, Default)]
pub struct TrustAnchors {
    certificates: Vec<Vec<u8>>,
}

impl TrustAnchors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds every certificate of a PEM file (or one DER certificate).
    pub fn add_pem_or_der(&mut self, bytes: &[u8]) -> Result<usize, String> {
        if !bytes.starts_with(b"-----") && bytes.first() == Some(&0x30) {
            self.certificates.push(bytes.to_vec());
            return Ok(1);
        }
        let mut added = 0;
        for pem in x509_parser::pem::Pem::iter_from_buffer(bytes) {
            let pem = pem.map_err(|e| format!("not a PEM certificate file: {e}"))?;
            if pem.label == "CERTIFICATE" {
                self.certificates.push(pem.contents);
                added += 1;
            }
        }
        if added == 0 {
            return Err("no CERTIFICATE in the file".into());
        }
        Ok(added)
    }

    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }

    /// The trusted certificates, DER.
    pub fn certificates(&self) -> &[Vec<u8>] {
        &self.certificates
    }
}

/// A path problem, already in ETSI terms.
pub(crate) struct PathFailure {
    pub indication: Indication,
    pub sub_indication: SubIndication,
    pub message: String,
}

/// Extended key usages a document signer may carry, as Acrobat accepts them: e-mail protection,
/// document signing (RFC 9336), any usage, Adobe Authentic Documents, Microsoft document signing.
const SIGNER_USAGES: [&[u8]; 5] = [
    &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x04],
    &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x24],
    &[0x55, 0x1d, 0x25, 0x00],
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x2f, 0x01, 0x01, 0x05],
    &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x0a, 0x03, 0x0c],
];

/// id-kp-timeStamping (RFC 3161 §2.3): a TSA's certificate must carry it.
const TIME_STAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];

/// What the end certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Usage {
    /// A signer: no EKU, or one of `SIGNER_USAGES`.
    DocumentSigning,
    /// A time-stamping authority: EKU timeStamping required.
    TimeStamping,
}

impl ExtendedKeyUsageValidator for Usage {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), WebpkiError> {
        let mut empty = true;
        for id in iter {
            empty = false;
            let id = id?;
            let accepted = match self {
                Usage::DocumentSigning => SIGNER_USAGES
                    .iter()
                    .any(|usage| KeyPurposeId::new(usage) == id),
                Usage::TimeStamping => KeyPurposeId::new(TIME_STAMPING) == id,
            };
            if accepted {
                return Ok(());
            }
        }
        // The context variant's fields are private to webpki; the plain one says the same.
        #[allow(deprecated)]
        let missing = WebpkiError::RequiredEkuNotFound;
        if empty && *self == Usage::DocumentSigning {
            Ok(())
        } else {
            Err(missing)
        }
    }
}

/// A path that validated: the end certificate, its intermediates and the trust anchor (DER),
/// in that order (RFC 5280 §6.1).
#[derive(Clone, Debug)]
pub(crate) struct ValidatedPath {
    pub certificates: Vec<Vec<u8>>,
}

impl ValidatedPath {
    /// The end certificate's issuer: the key whose CRLs speak for it (RFC 5280 §6.3.3).
    pub(crate) fn issuer(&self) -> &[u8] {
        self.certificates.get(1).map_or(&[], Vec::as_slice)
    }

    /// Each certificate but the anchor, beside its issuer: what revocation data must cover
    /// (ETSI EN 319 142-1 §6.3, B-LT).
    pub(crate) fn issued_pairs(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.certificates.windows(2).filter_map(|pair| match pair {
            [certificate, issuer] => Some((certificate.as_slice(), issuer.as_slice())),
            _ => None,
        })
    }
}

/// Validates `signer` (DER) with the CMS's other certificates as intermediates, at
/// `validation_time`; an expiry is told apart from a path that was never valid at `claimed`.
/// Returns the validated path, whose second certificate is the signer's issuer.
pub(crate) fn validate(
    usage: Usage,
    (signer, signer_certificate): (&[u8], &x509_cert::Certificate),
    intermediates: &[Vec<u8>],
    anchors: &TrustAnchors,
    validation_time: OffsetDateTime,
    claimed: Option<OffsetDateTime>,
) -> Result<ValidatedPath, PathFailure> {
    check_signer_key_usage(signer_certificate)?;
    let anchor_ders: Vec<CertificateDer<'_>> = anchors
        .certificates
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let (trust, trusted_ders): (Vec<TrustAnchor<'_>>, Vec<&CertificateDer<'_>>) = anchor_ders
        .iter()
        .filter_map(|c| Some((webpki::anchor_from_trusted_cert(c).ok()?, c)))
        .unzip();
    let intermediates: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let signer_der = CertificateDer::from(signer);
    let end_entity = EndEntityCert::try_from(&signer_der).map_err(|e| {
        failure(
            SubIndication::FormatFailure,
            format!("the signer's certificate cannot be read: {e}"),
        )
    })?;
    let at = |time: OffsetDateTime| -> Result<ValidatedPath, WebpkiError> {
        let seconds = u64::try_from(time.unix_timestamp()).unwrap_or(0);
        let path = end_entity.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &trust,
            &intermediates,
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(seconds)),
            usage,
            None,
            None,
        )?;
        // The end certificate, the intermediates from its issuer up, then the trust anchor.
        let mut certificates = vec![signer.to_vec()];
        certificates.extend(path.intermediate_certificates().map(|c| c.der().to_vec()));
        certificates.extend(
            trust
                .iter()
                .zip(&trusted_ders)
                .find(|(anchor, _)| **anchor == *path.anchor())
                .map(|(_, der)| der.to_vec()),
        );
        Ok(ValidatedPath { certificates })
    };
    match at(validation_time) {
        // The claimed time must not precede the certificate (ETSI EN 319 102-1 §5.2.6).
        // Compared with notBefore directly: re-running the path would cost its signatures again.
        Ok(path) => match claimed {
            Some(claimed) if claimed.unix_timestamp() < not_before(signer_certificate) => Err(failure(
                SubIndication::NotYetValid,
                "the claimed signing time is before the signer's certificate was valid".into(),
            )),
            _ => Ok(path),
        },
        Err(WebpkiError::CertExpired { .. }) => Err(match claimed.map(at) {
            Some(Ok(_)) => failure(
                SubIndication::OutOfBoundsNoPoe,
                "the signer's certificate has expired, and nothing proves the signature was made while it was valid".into(),
            ),
            _ => failure(SubIndication::OutOfBoundsNoPoe, "the signer's certificate has expired".into()),
        }),
        Err(WebpkiError::CertNotValidYet { .. }) => Err(failure(SubIndication::NotYetValid, "the signer's certificate is not valid yet".into())),
        Err(error) => Err(map_error(error)),
    }
}

/// The certificate's notBefore as Unix seconds.
fn not_before(certificate: &x509_cert::Certificate) -> i64 {
    let seconds = certificate
        .tbs_certificate()
        .validity()
        .not_before
        .to_unix_duration()
        .as_secs();
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

#[allow(deprecated)] // matches both forms webpki may return
fn map_error(error: WebpkiError) -> PathFailure {
    match error {
        WebpkiError::UnknownIssuer => failure(
            SubIndication::NoCertificateChainFound,
            "no path from the signer's certificate to a trusted root".into(),
        ),
        // A certificate with the issuer's name that did not sign it: an impostor, or another root.
        WebpkiError::InvalidSignatureForPublicKey => failure(
            SubIndication::NoCertificateChainFound,
            "no path to a trusted root: a certificate with the issuer's name did not sign the signer's certificate".into(),
        ),
        WebpkiError::RequiredEkuNotFound | WebpkiError::RequiredEkuNotFoundContext(_) => failure(
            SubIndication::ChainConstraintsFailure,
            "the signer's certificate is not meant for signing documents (extended key usage)"
                .into(),
        ),
        other => failure(
            SubIndication::ChainConstraintsFailure,
            format!("the certificate path is not valid: {other:?}"),
        ),
    }
}

fn failure(sub_indication: SubIndication, message: String) -> PathFailure {
    let indication = match sub_indication {
        SubIndication::FormatFailure => Indication::TotalFailed,
        _ => Indication::Indeterminate,
    };
    PathFailure {
        indication,
        sub_indication,
        message,
    }
}

/// A signer's certificate must allow digitalSignature or nonRepudiation when it names usages
/// (RFC 5280 §4.2.1.3; ETSI EN 319 412-2 §4.3.2). Read with x509-cert: strict DER, no panics.
fn check_signer_key_usage(certificate: &x509_cert::Certificate) -> Result<(), PathFailure> {
    match certificate
        .tbs_certificate()
        .get_extension::<x509_cert::ext::pkix::KeyUsage>()
    {
        Ok(Some((_, usage))) if !usage.digital_signature() && !usage.non_repudiation() => {
            Err(failure(
                SubIndication::ChainConstraintsFailure,
                "the signer's certificate does not allow digital signatures (key usage)".into(),
            ))
        }
        Ok(_) => Ok(()),
        Err(e) => Err(failure(
            SubIndication::FormatFailure,
            format!("the signer's key usage cannot be read: {e}"),
        )),
    }
}
