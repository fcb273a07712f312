//! The client side of RFC 3161: checking a TSA's TimeStampResp against the request we sent
//! (status, imprint, nonce, the token's signature, the TSA certificate's path and usage).
//!
//! Pure: the response bytes, the trust anchors and the validation time are handed in; the
//! request is built by `cms::tsp::build_request`. The token's signature and path are checked
//! with the same helpers as a PDF's signatures (`signature.rs`, `chain.rs`).

use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::ExtendedKeyUsage;

use super::chain::{self, TrustAnchors};
use super::signature::{self, Failure};
use crate::cms::tsp::{self, ImprintAlgorithm, PolicyId};
use crate::cms::{self, ID_CT_TST_INFO};

/// The largest TimeStampResp read. A token with a three-certificate chain is under 8 KiB; an
/// answer of megabytes is refused before it is parsed.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// What we asked the TSA to stamp (the fields of our TimeStampReq the answer must echo).
#[derive(Clone, Copy, Debug)]
pub struct ExpectedStamp<'a> {
    pub algorithm: ImprintAlgorithm,
    pub digest: &'a [u8],
    /// The nonce's bytes as given to `build_request`, when one was sent.
    pub nonce: Option<&'a [u8]>,
    /// The reqPolicy sent, when one was: the token must name it (RFC 3161 §2.4.2).
    pub policy: Option<&'a PolicyId>,
}

/// What the TSA's certificate is checked against.
#[derive(Clone, Copy, Debug)]
pub struct TsaTrust<'a> {
    pub anchors: &'a TrustAnchors,
    /// Certificates (DER) to look for the TSA's certificate and its issuers in, besides the
    /// token's own: needed when certReq was false (RFC 3161 §2.4.1).
    pub certificates: &'a [Vec<u8>],
    /// When the path must be valid: now, for a token just received.
    pub validation_time: OffsetDateTime,
}

/// A token that passed every check: what goes into a signature's unsigned attributes
/// (id-aa-signatureTimeStampToken) and what the report says about it.
#[derive(Clone, Debug)]
pub struct CheckedToken {
    /// genTime, fractional seconds kept.
    pub generation_time: OffsetDateTime,
    /// serialNumber's big-endian bytes as written.
    pub serial: Vec<u8>,
    pub policy: PolicyId,
    /// PKIStatus was grantedWithMods (1) rather than granted (0).
    pub granted_with_modifications: bool,
    /// The TSA's certificate, DER.
    pub tsa_certificate: Vec<u8>,
    /// The TimeStampToken (a ContentInfo with the SignedData), DER.
    pub token: Vec<u8>,
}

/// Why a TSA's answer is not accepted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TspClientError {
    /// The answer is over `MAX_RESPONSE_BYTES`.
    #[error("the TSA's answer is {0} bytes, over the {MAX_RESPONSE_BYTES} accepted")]
    TooLarge(usize),
    /// Not a DER TimeStampResp.
    #[error("the TSA's answer is not a DER TimeStampResp: {0}")]
    Malformed(String),
    /// The TSA refused (or answered with a status other than granted).
    #[error("the TSA answered {status}{}{}", .text.as_ref().map(|t| format!(": {t}")).unwrap_or_default(), if .failures.is_empty() { String::new() } else { format!(" (failInfo {})", .failures.join(", ")) })]
    Rejected {
        status: String,
        text: Option<String>,
        failures: Vec<String>,
    },
    /// Granted, but no token (RFC 3161 §2.4.2: it MUST be present).
    #[error("the TSA granted the request but sent no token")]
    MissingToken,
    /// The token is not a SignedData over a TSTInfo that can be read.
    #[error("the timestamp token cannot be read: {0}")]
    BadToken(String),
    /// The TSTInfo stamps another hash than ours.
    #[error("the token stamps another message imprint than the one requested")]
    ImprintMismatch,
    /// We sent a nonce and the TSTInfo has none (RFC 3161 §2.4.2: it MUST be present).
    #[error("the token has no nonce though one was sent")]
    NonceMissing,
    /// The TSTInfo's nonce is not ours: a replayed or misrouted answer.
    #[error("the token's nonce is not the one sent (a replayed or misrouted answer)")]
    NonceMismatch,
    /// We asked for a policy and the token names another.
    #[error("the token names another TSA policy than the one requested")]
    PolicyMismatch,
    /// The signed attributes or the signature value do not verify.
    #[error("the token's signature is not valid: {0}")]
    Signature(String),
    /// The TSA's certificate is not a TSA certificate (RFC 3161 §2.3).
    #[error("the TSA's certificate is not fit for time-stamping: {0}")]
    NotTsaCertificate(String),
    /// No valid path from the TSA's certificate to a trust anchor.
    #[error("the TSA's certificate is not trusted: {0}")]
    Untrusted(String),
}

/// Checks a TimeStampResp against what we asked for (RFC 3161 §2.4.2, RFC 5816 §2.2.1).
pub fn check_response(
    response: &[u8],
    expected: &ExpectedStamp<'_>,
    trust: &TsaTrust<'_>,
) -> Result<CheckedToken, TspClientError> {
    if response.len() > MAX_RESPONSE_BYTES {
        return Err(TspClientError::TooLarge(response.len()));
    }
    let parts =
        tsp::parse_response(response).map_err(|e| TspClientError::Malformed(e.to_string()))?;
    // §2.4.2: a token comes only with granted (0) or grantedWithMods (1).
    if parts.status > 1 {
        return Err(TspClientError::Rejected {
            status: status_name(parts.status),
            text: parts.status_text,
            failures: parts.failures,
        });
    }
    let token = parts.token.ok_or(TspClientError::MissingToken)?;
    let read = read_token(&token)?;
    check_echo(&read.info, expected)?;
    let tsa_certificate = check_token_signer(&read, trust)?.certificate;
    Ok(CheckedToken {
        generation_time: read.generation_time,
        serial: read.info.serial,
        policy: read.info.policy,
        granted_with_modifications: parts.status == 1,
        tsa_certificate,
        token,
    })
}

/// A TimeStampToken read but not yet trusted: its SignedData, TSTInfo and genTime.
pub(crate) struct ReadToken {
    pub parsed: cms::ParsedSignature,
    pub info: tsp::TstInfoParts,
    pub generation_time: OffsetDateTime,
}

/// The TSA's certificate of a token whose signature checked out, and its validated path.
pub(crate) struct TrustedSigner {
    pub certificate: Vec<u8>,
    pub path: chain::ValidatedPath,
}

/// Reads a TimeStampToken (RFC 3161 §2.4.2): a SignedData over a version 1 TSTInfo with a
/// readable genTime. Nothing about it is trusted yet; `check_token_signer` does that.
pub(crate) fn read_token(token: &[u8]) -> Result<ReadToken, TspClientError> {
    let parsed = cms::parse_signature(token).map_err(|e| bad_token(e.to_string()))?;
    let signed_data = &parsed.signed_data;
    // §2.4.2: the token's eContentType is id-ct-TSTInfo, its eContent the DER TSTInfo.
    if signed_data.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(bad_token("its content is not a TSTInfo"));
    }
    let tst_info = signature::econtent(signed_data).ok_or_else(|| bad_token("no TSTInfo"))?;
    let info = tsp::parse_tst_info_full(tst_info).map_err(|e| bad_token(e.to_string()))?;
    if info.version != 1 {
        return Err(bad_token(format!(
            "TSTInfo version {} is not 1",
            info.version
        )));
    }
    let generation_time = parse_generation_time(&info.gen_time).ok_or_else(|| {
        bad_token(format!(
            "genTime '{}' is not a GeneralizedTime",
            info.gen_time
        ))
    })?;
    Ok(ReadToken {
        parsed,
        info,
        generation_time,
    })
}

/// Checks a read token's signature, ESS certificate id, the TSA certificate's usage and its
/// path at `trust.validation_time` (RFC 3161 §2.3, §2.4.1; RFC 5816 §2.2.1).
pub(crate) fn check_token_signer(
    token: &ReadToken,
    trust: &TsaTrust<'_>,
) -> Result<TrustedSigner, TspClientError> {
    let tst_info =
        signature::econtent(&token.parsed.signed_data).ok_or_else(|| bad_token("no TSTInfo"))?;
    check_signer(&token.parsed, tst_info, trust, token.generation_time)
}

/// §2.4.2: the messageImprint is the request's (algorithm, NULL or absent parameters, hash),
/// the nonce, when one was sent, is present and equal, and the policy is the one requested.
fn check_echo(
    info: &tsp::TstInfoParts,
    expected: &ExpectedStamp<'_>,
) -> Result<(), TspClientError> {
    let parameters_ok = info
        .hash_algorithm
        .parameters
        .as_ref()
        .is_none_or(|p| der::Tagged::tag(p) == der::Tag::Null && p.value().is_empty());
    if info.hash_algorithm.oid != expected.algorithm.oid()
        || !parameters_ok
        || info.hashed_message != expected.digest
    {
        return Err(TspClientError::ImprintMismatch);
    }
    if let Some(sent) = expected.nonce {
        let sent = tsp::nonce_integer(sent).map_err(|_| TspClientError::NonceMismatch)?;
        match &info.nonce {
            None => return Err(TspClientError::NonceMissing),
            Some(echoed) if *echoed != sent => return Err(TspClientError::NonceMismatch),
            Some(_) => {}
        }
    }
    if expected.policy.is_some_and(|asked| *asked != info.policy) {
        return Err(TspClientError::PolicyMismatch);
    }
    Ok(())
}

/// The one SignerInfo: signed attributes and value (RFC 5652 §5.4, §5.6), ESS
/// signingCertificate(V2) naming the signer (RFC 3161 §2.4.1, RFC 5816 §2.2.1), the
/// certificate's usage (§2.3) and its path. Returns the signer's certificate, DER.
fn check_signer(
    parsed: &cms::ParsedSignature,
    tst_info: &[u8],
    trust: &TsaTrust<'_>,
    generation_time: OffsetDateTime,
) -> Result<TrustedSigner, TspClientError> {
    let signed_data = &parsed.signed_data;
    let signer_infos = &signed_data.signer_infos.0;
    let info = match (signer_infos.len(), signer_infos.get(0)) {
        (1, Some(info)) => info,
        (count, _) => return Err(bad_token(format!("{count} SignerInfos, not one"))),
    };
    let given = trust
        .certificates
        .iter()
        .enumerate()
        .map(|(index, der)| {
            der::Decode::from_der(der)
                .map(|c: Certificate| (der.clone(), c))
                .map_err(|e| {
                    TspClientError::Untrusted(format!(
                        "given certificate {index} cannot be read: {e}"
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut certificates = signature::carried_certificates(signed_data);
    certificates.extend(
        given
            .iter()
            .map(|(der, certificate)| (der.clone(), certificate)),
    );
    let (signer_der, signer) = signature::find_signer(&certificates, &info.sid)
        .and_then(|index| certificates.get(index))
        .map(|(der, certificate)| (der.clone(), *certificate))
        .ok_or_else(|| {
            TspClientError::Signature(
                "the TSA's certificate is neither in the token nor among those given".into(),
            )
        })?;
    let signature_error = |(_, _, message): Failure| TspClientError::Signature(message);
    signature::check_digest_and_value(
        info,
        &parsed.signed_attributes_der,
        &[tst_info],
        signer,
        ID_CT_TST_INFO,
        true,
    )
    .map_err(signature_error)?;
    let has_ess = info.signed_attrs.as_ref().is_some_and(|attributes| {
        signature::attribute_value(attributes, cms::ID_SIGNING_CERTIFICATE_V2).is_some()
            || signature::attribute_value(attributes, signature::ID_SIGNING_CERTIFICATE_V1)
                .is_some()
    });
    if !has_ess {
        return Err(TspClientError::Signature(
            "no ESS signingCertificate or signingCertificateV2 attribute (RFC 5816 §2.2.1)".into(),
        ));
    }
    signature::check_signing_certificate(info, &signer_der).map_err(signature_error)?;
    check_time_stamping_only(signer)?;
    let others: Vec<Vec<u8>> = certificates
        .iter()
        .filter(|(der, _)| *der != signer_der)
        .map(|(der, _)| der.clone())
        .collect();
    let path = chain::validate(
        chain::Usage::TimeStamping,
        (&signer_der, signer),
        &others,
        trust.anchors,
        trust.validation_time,
        Some(generation_time),
    )
    .map_err(|failure| TspClientError::Untrusted(failure.message))?;
    let not_after = signer
        .tbs_certificate()
        .validity()
        .not_after
        .to_unix_duration();
    if i128::from(generation_time.unix_timestamp()) > i128::from(not_after.as_secs()) {
        return Err(TspClientError::Untrusted(
            "genTime is after the TSA's certificate expired".into(),
        ));
    }
    Ok(TrustedSigner {
        certificate: signer_der,
        path,
    })
}

/// RFC 3161 §2.3: the TSA's certificate "MUST contain only one instance of the extended key
/// usage field extension ... with KeyPurposeID having value id-kp-timeStamping. This extension
/// MUST be critical."
fn check_time_stamping_only(certificate: &Certificate) -> Result<(), TspClientError> {
    let refuse = |why: &str| TspClientError::NotTsaCertificate(why.into());
    match certificate
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
    {
        Ok(Some((critical, usage))) => {
            if usage.0 != [const_oid::db::rfc5280::ID_KP_TIME_STAMPING] {
                Err(refuse(
                    "its extended key usage is not id-kp-timeStamping alone",
                ))
            } else if !critical {
                Err(refuse("its extended key usage is not marked critical"))
            } else {
                Ok(())
            }
        }
        Ok(None) => Err(refuse("it has no extended key usage (id-kp-timeStamping)")),
        Err(e) => Err(refuse(&format!(
            "its extended key usage cannot be read: {e}"
        ))),
    }
}

/// genTime (RFC 3161 §2.4.2): `YYYYMMDDhhmmss[.s...]Z`, UTC, the fraction kept to nanoseconds.
/// `der::asn1::GeneralizedTime` refuses fractions, which TSAs commonly write.
fn parse_generation_time(text: &str) -> Option<OffsetDateTime> {
    let body = text.strip_suffix('Z')?;
    let (whole, fraction) = match body.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (body, None),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds = signature::parse_generalized_time(&format!("{whole}Z"))?;
    let Some(fraction) = fraction else {
        return Some(seconds);
    };
    if fraction.is_empty() || fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanoseconds: u32 = format!("{fraction:0<9}").parse().ok()?;
    seconds.replace_nanosecond(nanoseconds).ok()
}

/// PKIStatus names (RFC 4210 §5.2.3, used by RFC 3161 §2.4.2).
fn status_name(status: u8) -> String {
    match status {
        0 => "granted".into(),
        1 => "grantedWithMods".into(),
        2 => "rejection".into(),
        3 => "waiting".into(),
        4 => "revocationWarning".into(),
        5 => "revocationNotification".into(),
        other => format!("status {other}"),
    }
}

fn bad_token(reason: impl Into<String>) -> TspClientError {
    TspClientError::BadToken(reason.into())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use rcgen::{KeyPair, SigningKey};
    use time::macros::datetime;

    use super::*;
    use crate::cms::SignerIdentity;
    use crate::cms::tsp::{FailureInfo, Refusal, Stamp, build_request};
    use crate::pki::{SealSubject, Serial, Validity};

    const START: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);
    const DIGEST: [u8; 32] = [0x42; 32];
    const NONCE: [u8; 8] = [0xa1, 2, 3, 4, 5, 6, 7, 8];

    fn sha256(bytes: &[u8]) -> [u8; 32] {
        let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
        digest.as_ref().try_into().unwrap()
    }

    /// A test root and a TSA under it: key, certificate (DER).
    struct Tsa {
        root: Vec<u8>,
        key: KeyPair,
        certificate: Vec<u8>,
    }

    #[derive(Clone, Copy)]
    enum Profile {
        Tsa,
        Seal,
        NonCriticalTimeStamping,
    }

    fn tsa(profile: Profile) -> Tsa {
        let root_key = KeyPair::generate().unwrap();
        let root = crate::pki::issue_root_certificate(
            &root_key,
            "测试机关",
            &Validity::new(START, START + time::Duration::days(3650)).unwrap(),
            &Serial::from_random_bytes([1; 16]),
        )
        .unwrap();
        let key = KeyPair::generate().unwrap();
        let subject = SealSubject::new("测试机关", "测试机关 时间戳服务", None).unwrap();
        let validity = Validity::new(START, START + time::Duration::days(365)).unwrap();
        let serial = Serial::from_random_bytes([2; 16]);
        let issue = |profile| {
            crate::pki::issue_end_entity_certificate(
                profile,
                &key,
                &subject,
                (root.as_slice(), &root_key),
                &validity,
                &serial,
                None,
            )
            .unwrap()
        };
        let certificate = match profile {
            Profile::Tsa => issue(crate::pki::EndEntityProfile::TimeStamping),
            Profile::Seal => issue(crate::pki::EndEntityProfile::Seal),
            Profile::NonCriticalTimeStamping => {
                let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
                params
                    .distinguished_name
                    .push(rcgen::DnType::CommonName, "no critical EKU");
                params.not_before = START;
                params.not_after = START + time::Duration::days(365);
                params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
                params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::TimeStamping];
                let issuer =
                    rcgen::Issuer::from_ca_cert_der(&root.as_slice().into(), &root_key).unwrap();
                params.signed_by(&key, &issuer).unwrap().der().to_vec()
            }
        };
        Tsa {
            root,
            key,
            certificate,
        }
    }

    /// The built-in TSA's answer to `request`, stamped at `START` + 10 days + 250 ms.
    fn answer(tsa: &Tsa, request: &[u8]) -> Vec<u8> {
        let request = tsp::parse_request(request, &PolicyId::oneseal()).unwrap();
        let identity =
            SignerIdentity::from_chain(std::slice::from_ref(&tsa.certificate), sha256).unwrap();
        let stamp = Stamp {
            policy: &PolicyId::oneseal(),
            serial: 0x8000_0000_0000_0001,
            time_ms: stamp_time().unix_timestamp() * 1000 + 250,
            accuracy_ms: 1000,
        };
        let token = tsp::timestamp_token(
            &identity,
            &request,
            &stamp,
            cms::ID_ECDSA_WITH_SHA256,
            sha256,
            |message| tsa.key.sign(message),
        )
        .unwrap();
        tsp::granted_response(&token).unwrap()
    }

    fn stamp_time() -> OffsetDateTime {
        START + time::Duration::days(10)
    }

    fn request(nonce: Option<&[u8]>, certificates: bool) -> Vec<u8> {
        build_request(ImprintAlgorithm::Sha256, &DIGEST, nonce, certificates, None).unwrap()
    }

    fn expected(nonce: Option<&[u8]>) -> ExpectedStamp<'_> {
        ExpectedStamp {
            algorithm: ImprintAlgorithm::Sha256,
            digest: &DIGEST,
            nonce,
            policy: None,
        }
    }

    fn anchors(root: &[u8]) -> TrustAnchors {
        let mut anchors = TrustAnchors::new();
        anchors.add_pem_or_der(root).unwrap();
        anchors
    }

    fn check(
        tsa: &Tsa,
        response: &[u8],
        nonce: Option<&[u8]>,
    ) -> Result<CheckedToken, TspClientError> {
        check_at(tsa, response, nonce, stamp_time())
    }

    fn check_at(
        tsa: &Tsa,
        response: &[u8],
        nonce: Option<&[u8]>,
        validation_time: OffsetDateTime,
    ) -> Result<CheckedToken, TspClientError> {
        let anchors = anchors(&tsa.root);
        let trust = TsaTrust {
            anchors: &anchors,
            certificates: &[],
            validation_time,
        };
        check_response(response, &expected(nonce), &trust)
    }

    #[test]
    fn the_built_in_tsa_answer_is_accepted() {
        let tsa = tsa(Profile::Tsa);
        let response = answer(&tsa, &request(Some(&NONCE), true));
        let checked = check(&tsa, &response, Some(&NONCE)).unwrap();
        assert_eq!(
            checked.generation_time,
            stamp_time() + time::Duration::milliseconds(250)
        );
        assert_eq!(checked.serial, [0, 0x80, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(checked.policy, PolicyId::oneseal());
        assert!(!checked.granted_with_modifications);
        assert_eq!(checked.tsa_certificate, tsa.certificate);
        let parts = tsp::parse_response(&response).unwrap();
        assert_eq!(parts.token.unwrap(), checked.token);
    }

    #[test]
    fn without_cert_req_the_certificate_is_given_by_the_caller() {
        let tsa = tsa(Profile::Tsa);
        let response = answer(&tsa, &request(None, false));
        let error = check(&tsa, &response, None).unwrap_err();
        assert!(matches!(error, TspClientError::Signature(ref m) if m.contains("neither")));
        let anchors = anchors(&tsa.root);
        let given = [tsa.certificate.clone()];
        let trust = TsaTrust {
            anchors: &anchors,
            certificates: &given,
            validation_time: stamp_time(),
        };
        let checked = check_response(&response, &expected(None), &trust).unwrap();
        assert_eq!(checked.tsa_certificate, tsa.certificate);
    }

    #[test]
    fn requests_are_what_the_built_in_tsa_reads() {
        let der = request(Some(&NONCE), true);
        let read = tsp::parse_request(&der, &PolicyId::oneseal()).unwrap();
        assert_eq!(read.hashed_message(), DIGEST);
        assert!(read.has_nonce() && read.certificates_requested);
        let with_policy = build_request(
            ImprintAlgorithm::Sha512,
            &[1; 64],
            None,
            false,
            Some(&PolicyId::oneseal()),
        )
        .unwrap();
        let read = tsp::parse_request(&with_policy, &PolicyId::oneseal()).unwrap();
        assert_eq!(read.algorithm, ImprintAlgorithm::Sha512);
        assert!(build_request(ImprintAlgorithm::Sha256, &[1; 31], None, false, None).is_err());
        assert!(build_request(ImprintAlgorithm::Sha256, &DIGEST, Some(&[]), false, None).is_err());
        assert!(
            build_request(
                ImprintAlgorithm::Sha256,
                &DIGEST,
                Some(&[1; 65]),
                false,
                None
            )
            .is_err()
        );
    }

    #[test]
    fn another_imprint_or_policy_is_refused() {
        let tsa = tsa(Profile::Tsa);
        let response = answer(&tsa, &request(Some(&NONCE), true));
        let anchors = anchors(&tsa.root);
        let trust = TsaTrust {
            anchors: &anchors,
            certificates: &[],
            validation_time: stamp_time(),
        };
        let other = ExpectedStamp {
            digest: &[0x43; 32],
            ..expected(Some(&NONCE))
        };
        assert_eq!(
            check_response(&response, &other, &trust).unwrap_err(),
            TspClientError::ImprintMismatch
        );
        let other_policy = PolicyId::from_oid(&"1.2.3.4".parse().unwrap());
        let policy = ExpectedStamp {
            policy: Some(&other_policy),
            ..expected(Some(&NONCE))
        };
        assert_eq!(
            check_response(&response, &policy, &trust).unwrap_err(),
            TspClientError::PolicyMismatch
        );
        let ours = PolicyId::oneseal();
        let same_policy = ExpectedStamp {
            policy: Some(&ours),
            ..expected(Some(&NONCE))
        };
        check_response(&response, &same_policy, &trust).unwrap();
        let other_algorithm = ExpectedStamp {
            algorithm: ImprintAlgorithm::Sha384,
            ..expected(Some(&NONCE))
        };
        assert_eq!(
            check_response(&response, &other_algorithm, &trust).unwrap_err(),
            TspClientError::ImprintMismatch
        );
    }

    #[test]
    fn a_wrong_or_missing_nonce_is_refused() {
        let tsa = tsa(Profile::Tsa);
        let response = answer(&tsa, &request(Some(&NONCE), true));
        assert_eq!(
            check(&tsa, &response, Some(&[9; 8])).unwrap_err(),
            TspClientError::NonceMismatch
        );
        let without = answer(&tsa, &request(None, true));
        assert_eq!(
            check(&tsa, &without, Some(&NONCE)).unwrap_err(),
            TspClientError::NonceMissing
        );
    }

    #[test]
    fn a_rejection_names_status_text_and_failure() {
        let tsa = tsa(Profile::Tsa);
        let refusal = Refusal {
            failure: FailureInfo::BadAlg,
            reason: "hash algorithm 1.3.14.3.2.26 is not accepted".into(),
        };
        let response = tsp::rejection_response(&refusal).unwrap();
        let error = check(&tsa, &response, Some(&NONCE)).unwrap_err();
        assert_eq!(
            error,
            TspClientError::Rejected {
                status: "rejection".into(),
                text: Some(refusal.reason.clone()),
                failures: vec!["badAlg".into()],
            }
        );
        let message = error.to_string();
        assert!(message.contains("rejection") && message.contains("1.3.14.3.2.26"));
        assert!(message.contains("failInfo badAlg"), "{message}");
        let system = Refusal {
            failure: FailureInfo::SystemFailure,
            reason: "down".into(),
        };
        let response = tsp::rejection_response(&system).unwrap();
        assert!(matches!(
            check(&tsa, &response, None).unwrap_err(),
            TspClientError::Rejected { failures, .. } if failures == ["systemFailure"]
        ));
    }

    #[test]
    fn garbage_truncated_and_oversized_answers_are_refused() {
        let tsa = tsa(Profile::Tsa);
        let response = answer(&tsa, &request(Some(&NONCE), true));
        assert!(matches!(
            check(&tsa, b"<html>502 Bad Gateway</html>", None).unwrap_err(),
            TspClientError::Malformed(_)
        ));
        assert!(matches!(
            check(&tsa, &[], None).unwrap_err(),
            TspClientError::Malformed(_)
        ));
        for cut in [1, 10, response.len() / 2, response.len() - 1] {
            assert!(matches!(
                check(&tsa, &response[..cut], Some(&NONCE)).unwrap_err(),
                TspClientError::Malformed(_)
            ));
        }
        let mut trailing = response.clone();
        trailing.push(0);
        assert!(matches!(
            check(&tsa, &trailing, Some(&NONCE)).unwrap_err(),
            TspClientError::Malformed(_)
        ));
        let huge = vec![0x30; MAX_RESPONSE_BYTES + 1];
        assert_eq!(
            check(&tsa, &huge, None).unwrap_err(),
            TspClientError::TooLarge(MAX_RESPONSE_BYTES + 1)
        );
    }

    #[test]
    fn a_changed_token_does_not_verify() {
        let tsa = tsa(Profile::Tsa);
        let response = answer(&tsa, &request(Some(&NONCE), true));
        // The last byte is inside the signature value (the SignerInfo ends the SignedData).
        let mut changed = response.clone();
        let last = changed.len() - 1;
        changed[last] ^= 1;
        assert!(matches!(
            check(&tsa, &changed, Some(&NONCE)).unwrap_err(),
            TspClientError::Signature(_)
        ));
        // A changed TSTInfo (here its genTime) no longer matches the signed messageDigest.
        let at = response
            .windows(8)
            .position(|window| window == b"20260111")
            .unwrap();
        let mut later = response.clone();
        later[at + 7] = b'2';
        let error = check(&tsa, &later, Some(&NONCE)).unwrap_err();
        assert!(
            matches!(error, TspClientError::Signature(ref m) if m.contains("digest")),
            "{error}"
        );
        // Any byte changed: an error or (unsigned fields such as digestAlgorithms) an answer,
        // never a panic.
        for index in 0..response.len() {
            let mut bytes = response.clone();
            bytes[index] ^= 0x55;
            let _ = check(&tsa, &bytes, Some(&NONCE));
        }
    }

    #[test]
    fn a_certificate_without_the_time_stamping_usage_is_refused() {
        let seal = tsa(Profile::Seal);
        let response = answer(&seal, &request(Some(&NONCE), true));
        let error = check(&seal, &response, Some(&NONCE)).unwrap_err();
        assert!(
            matches!(error, TspClientError::NotTsaCertificate(ref m) if m.contains("alone")),
            "{error}"
        );
        let lax = tsa(Profile::NonCriticalTimeStamping);
        let response = answer(&lax, &request(Some(&NONCE), true));
        let error = check(&lax, &response, Some(&NONCE)).unwrap_err();
        assert!(
            matches!(error, TspClientError::NotTsaCertificate(ref m) if m.contains("critical")),
            "{error}"
        );
    }

    #[test]
    fn an_untrusted_root_is_refused() {
        let tsa = tsa(Profile::Tsa);
        let stranger = self::tsa(Profile::Tsa);
        let response = answer(&tsa, &request(Some(&NONCE), true));
        let anchors = anchors(&stranger.root);
        let trust = TsaTrust {
            anchors: &anchors,
            certificates: &[],
            validation_time: stamp_time(),
        };
        let error = check_response(&response, &expected(Some(&NONCE)), &trust).unwrap_err();
        assert!(matches!(error, TspClientError::Untrusted(_)), "{error}");
    }

    #[test]
    fn a_validation_time_outside_the_certificate_is_refused() {
        let tsa = tsa(Profile::Tsa);
        let response = answer(&tsa, &request(Some(&NONCE), true));
        for time in [
            START - time::Duration::days(1),
            START + time::Duration::days(400),
        ] {
            let error = check_at(&tsa, &response, Some(&NONCE), time).unwrap_err();
            assert!(matches!(error, TspClientError::Untrusted(_)), "{error}");
        }
    }

    #[test]
    fn generation_times_keep_their_fraction() {
        let at = datetime!(2026-01-11 12:34:56 UTC);
        assert_eq!(parse_generation_time("20260111123456Z"), Some(at));
        assert_eq!(
            parse_generation_time("20260111123456.5Z"),
            Some(at + time::Duration::milliseconds(500))
        );
        assert_eq!(
            parse_generation_time("20260111123456.000123Z"),
            Some(at + time::Duration::microseconds(123))
        );
        for bad in [
            "20260111123456",
            "20260111123456.Z",
            "2026011112345Z",
            "20260111123456.1234567890Z",
            "20260111123456+0800",
            "2026011112345aZ",
            "",
        ] {
            assert_eq!(parse_generation_time(bad), None, "{bad}");
        }
    }
}
