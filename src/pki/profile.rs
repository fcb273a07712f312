//! The certificate profiles: the root CA, the seal certificate and the TSA certificate it issues.

use der::Encode;
use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, CustomExtension, DistinguishedName,
    DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyUsagePurpose,
    PublicKeyData, SerialNumber, SigningKey,
};
use time::OffsetDateTime;

use super::{CreditCode, PkiError};

/// The suffix of the root's common name: "<organization> 电子印章根证书" (electronic seal root).
pub const ROOT_NAME_SUFFIX: &str = " 电子印章根证书";

/// id-kp-documentSigning, RFC 9336 §3.1.
const DOCUMENT_SIGNING: [u64; 9] = [1, 3, 6, 1, 5, 5, 7, 3, 36];

/// id-ce-extKeyUsage, RFC 5280 §4.2.1.12.
const EXTENDED_KEY_USAGE: [u64; 4] = [2, 5, 29, 37];

/// id-at-organizationIdentifier, X.520 §6.4.4 (2.5.4.97).
const ORGANIZATION_IDENTIFIER: [u64; 4] = [2, 5, 4, 97];

/// ub-common-name and ub-organization-name, RFC 5280 Appendix A.1: 64 characters.
const NAME_LIMIT: usize = 64;

/// Who the seal certificate names: the organization, the seal, and its credit code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealSubject {
    organization: String,
    seal_name: String,
    credit_code: Option<CreditCode>,
}

impl SealSubject {
    /// Checks both names against RFC 5280's upper bounds; `credit_code` is already checked.
    pub fn new(
        organization: &str,
        seal_name: &str,
        credit_code: Option<CreditCode>,
    ) -> Result<SealSubject, PkiError> {
        check_name("organization", organization)?;
        check_name("seal name", seal_name)?;
        check_name("root name", &root_common_name(organization))?;
        Ok(SealSubject {
            organization: organization.to_owned(),
            seal_name: seal_name.to_owned(),
            credit_code,
        })
    }

    /// The organization (O) that owns the seal and its root.
    pub fn organization(&self) -> &str {
        &self.organization
    }

    /// The seal's name (CN), e.g. "…行政审批专用章".
    pub fn seal_name(&self) -> &str {
        &self.seal_name
    }

    /// The unified social credit code (organizationIdentifier), when given.
    pub fn credit_code(&self) -> Option<&CreditCode> {
        self.credit_code.as_ref()
    }
}

/// A certificate's validity period, whole seconds, `not_before` strictly before `not_after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

impl Validity {
    /// Drops sub-second parts, which X.509 times (RFC 5280 §4.1.2.5) cannot carry.
    pub fn new(
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Validity, PkiError> {
        let whole = |time: OffsetDateTime| {
            time.replace_nanosecond(0)
                .map_err(|error| PkiError::InvalidValidity(error.to_string()))
        };
        let (not_before, not_after) = (whole(not_before)?, whole(not_after)?);
        if not_before >= not_after {
            return Err(PkiError::InvalidValidity(
                "the certificate would expire before it starts".to_owned(),
            ));
        }
        Ok(Validity {
            not_before,
            not_after,
        })
    }

    /// When the certificate starts to be valid.
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    /// When the certificate stops being valid.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }
}

/// A positive 128-bit certificate serial number (RFC 5280 §4.1.2.2: positive, at most 20 octets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Serial([u8; 16]);

impl Serial {
    /// Makes a serial from 16 random bytes, clearing the top bit so the INTEGER is positive.
    ///
    /// The (2⁻¹²⁷-likely) all-zero result becomes 1, since zero is not a positive serial.
    pub fn from_random_bytes(mut bytes: [u8; 16]) -> Serial {
        bytes[0] &= 0x7f;
        if bytes == [0; 16] {
            bytes[15] = 1;
        }
        Serial(bytes)
    }

    /// The big-endian bytes of the serial.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

/// Issues the self-signed root CA certificate (DER) for `organization`, signed by `root_key`.
///
/// Profile: CN "<organization> 电子印章根证书", O, C=CN; basicConstraints cA (critical);
/// keyUsage keyCertSign and cRLSign (critical); subjectKeyIdentifier (RFC 5280 §4.2.1.2).
pub fn issue_root_certificate(
    root_key: &impl SigningKey,
    organization: &str,
    validity: &Validity,
    serial: &Serial,
) -> Result<Vec<u8>, PkiError> {
    check_name("organization", organization)?;
    let common_name = root_common_name(organization);
    check_name("root name", &common_name)?;
    let mut params = base_params(validity, serial);
    params.distinguished_name = distinguished_name(organization, None, &common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let certificate = params.self_signed(root_key).map_err(issuance_error)?;
    Ok(certificate.der().to_vec())
}

/// The end-entity certificates the root issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndEntityProfile {
    /// The seal (ETSI EN 319 412-3 §4 for a legal person's seal): C=CN, O,
    /// organizationIdentifier, CN = seal name; extendedKeyUsage emailProtection and
    /// documentSigning (RFC 9336; NSS refuses documentSigning alone). No AIA: no OCSP responder
    /// answers, and an unreachable OCSP URL makes pdfsig distrust the signature.
    Seal,
    /// The bureau's time-stamping authority: the same subject form (CN = the TSA's name);
    /// extendedKeyUsage id-kp-timeStamping alone and critical (RFC 3161 §2.3).
    TimeStamping,
}

/// Issues the `profile` certificate (DER) for `key`, signed by `issuer` (the root's certificate
/// and key). Both profiles: keyUsage digitalSignature and nonRepudiation (critical; pyHanko
/// wants the latter), basicConstraints cA false, SKI and AKI, and a CRL distribution point when
/// `crl_url` is given ([`crl_url`] builds the service's).
pub fn issue_end_entity_certificate(
    profile: EndEntityProfile,
    key: &impl PublicKeyData,
    subject: &SealSubject,
    (root_certificate, root_key): (&[u8], &impl SigningKey),
    validity: &Validity,
    serial: &Serial,
    crl_url: Option<&str>,
) -> Result<Vec<u8>, PkiError> {
    let mut params = end_entity_params(subject, root_certificate, validity, serial, crl_url)?;
    match profile {
        EndEntityProfile::Seal => {
            params.extended_key_usages = vec![
                ExtendedKeyUsagePurpose::EmailProtection,
                ExtendedKeyUsagePurpose::Other(DOCUMENT_SIGNING.to_vec()),
            ];
        }
        EndEntityProfile::TimeStamping => {
            // rcgen writes extendedKeyUsage non-critical; RFC 3161 §2.3 wants it critical, so
            // it goes in as a custom extension: SEQUENCE OF KeyPurposeId { id-kp-timeStamping }.
            let purposes = vec![const_oid::db::rfc5280::ID_KP_TIME_STAMPING]
                .to_der()
                .map_err(|error| PkiError::Issuance(error.to_string()))?;
            let mut extended_key_usage =
                CustomExtension::from_oid_content(&EXTENDED_KEY_USAGE, purposes);
            extended_key_usage.set_criticality(true);
            params.custom_extensions = vec![extended_key_usage];
        }
    }
    sign_end_entity(&params, key, root_certificate, root_key)
}

/// What the seal and TSA certificates share: name, validity within the root's, CRL
/// distribution point, not a CA, digitalSignature and nonRepudiation, SKI and AKI.
fn end_entity_params(
    subject: &SealSubject,
    root_certificate: &[u8],
    validity: &Validity,
    serial: &Serial,
    crl_url: Option<&str>,
) -> Result<CertificateParams, PkiError> {
    check_within_root(root_certificate, validity)?;
    let mut params = base_params(validity, serial);
    params.distinguished_name = distinguished_name(
        &subject.organization,
        subject.credit_code.as_ref(),
        &subject.seal_name,
    );
    if let Some(url) = crl_url {
        // RFC 5280 §4.2.1.13: where relying parties fetch the root's CRL for this certificate.
        params.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec![check_crl_url(url)?.to_owned()],
        }];
    }
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

fn sign_end_entity(
    params: &CertificateParams,
    key: &impl PublicKeyData,
    root_certificate: &[u8],
    root_key: &impl SigningKey,
) -> Result<Vec<u8>, PkiError> {
    // The issuer name and AKI come from the root certificate itself, so they match it exactly.
    let issuer =
        Issuer::from_ca_cert_der(&root_certificate.into(), root_key).map_err(issuance_error)?;
    let certificate = params.signed_by(key, &issuer).map_err(issuance_error)?;
    Ok(certificate.der().to_vec())
}

/// Where the service publishes the CRL of `root_certificate`: `{base}/crl/{SKI}.crl`, the root's
/// subject key identifier in lowercase hex. `base` is the service's origin, e.g.
/// `https://zwfw.example.gov.cn`; a trailing slash is ignored.
pub fn crl_url(base: &str, root_certificate: &[u8]) -> Result<String, PkiError> {
    let url = format!(
        "{}/crl/{}.crl",
        base.trim_end_matches('/'),
        root_key_identifier_hex(root_certificate)?
    );
    check_crl_url(&url)?;
    Ok(url)
}

/// The root's subject key identifier in lowercase hex: the name its CRL is published under.
pub fn root_key_identifier_hex(root_certificate: &[u8]) -> Result<String, PkiError> {
    use std::fmt::Write;
    use x509_parser::extensions::ParsedExtension;

    let (_, root) = x509_parser::parse_x509_certificate(root_certificate).map_err(|error| {
        PkiError::Issuance(format!("cannot parse the root certificate: {error}"))
    })?;
    let identifier = root
        .extensions()
        .iter()
        .find_map(|extension| match extension.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(identifier) => Some(identifier.0),
            _ => None,
        })
        .ok_or_else(|| {
            PkiError::Issuance("the root certificate has no subject key identifier".to_owned())
        })?;
    Ok(identifier.iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    }))
}

/// Longest CRL distribution point URL accepted; real ones are a few dozen characters.
const MAX_CRL_URL_LEN: usize = 512;

/// A CRL URL relying parties can fetch: absolute http(s), printable ASCII (an IA5String).
fn check_crl_url(url: &str) -> Result<&str, PkiError> {
    let invalid = |reason: &str| PkiError::InvalidName {
        field: "CRL distribution point",
        reason: format!("{reason}: {:?}", url.chars().take(80).collect::<String>()),
    };
    if url.len() > MAX_CRL_URL_LEN {
        return Err(invalid("longer than 512 characters"));
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid("not printable ASCII without spaces"));
    }
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| invalid("not an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(invalid("no host"));
    }
    Ok(url)
}

/// The root's common name for `organization`.
pub fn root_common_name(organization: &str) -> String {
    format!("{organization}{ROOT_NAME_SUFFIX}")
}

fn base_params(validity: &Validity, serial: &Serial) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.not_before = validity.not_before;
    params.not_after = validity.not_after;
    params.serial_number = Some(SerialNumber::from_slice(serial.as_bytes()));
    // RFC 7093 §2 method 1: the leftmost 160 bits of SHA-256 over the subjectPublicKey.
    params.key_identifier_method = KeyIdMethod::Sha256;
    params
}

/// C, O, organizationIdentifier, CN, in that (X.501 most-significant-first) order.
fn distinguished_name(
    organization: &str,
    credit_code: Option<&CreditCode>,
    common_name: &str,
) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    // RFC 5280 Appendix A.1: countryName is a PrintableString; "CN" always is one.
    let country = "CN"
        .try_into()
        .map(DnValue::PrintableString)
        .unwrap_or_else(|_| DnValue::Utf8String("CN".to_owned()));
    name.push(DnType::CountryName, country);
    name.push(DnType::OrganizationName, organization);
    if let Some(code) = credit_code {
        name.push(
            DnType::CustomDnType(ORGANIZATION_IDENTIFIER.to_vec()),
            code.as_str(),
        );
    }
    name.push(DnType::CommonName, common_name);
    name
}

fn check_name(field: &'static str, value: &str) -> Result<(), PkiError> {
    let invalid = |reason: &str| PkiError::InvalidName {
        field,
        reason: reason.to_owned(),
    };
    if value.trim().is_empty() {
        return Err(invalid("it is empty"));
    }
    if value.trim() != value {
        return Err(invalid("it starts or ends with white space"));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid("it contains control characters"));
    }
    if value.chars().count() > NAME_LIMIT {
        return Err(invalid(
            "it is longer than 64 characters (RFC 5280 Appendix A.1)",
        ));
    }
    Ok(())
}

/// A seal certificate that outlives its root cannot be validated for its last days.
fn check_within_root(root_certificate: &[u8], validity: &Validity) -> Result<(), PkiError> {
    let (_, root) = x509_parser::parse_x509_certificate(root_certificate).map_err(|error| {
        PkiError::Issuance(format!("cannot parse the root certificate: {error}"))
    })?;
    let root_validity = root.validity();
    if validity.not_before < root_validity.not_before.to_datetime()
        || validity.not_after > root_validity.not_after.to_datetime()
    {
        return Err(PkiError::InvalidValidity(
            "the seal certificate must lie within the root certificate's validity".to_owned(),
        ));
    }
    Ok(())
}

fn issuance_error(error: rcgen::Error) -> PkiError {
    PkiError::Issuance(error.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use rcgen::KeyPair;
    use time::macros::datetime;
    use x509_parser::extensions::ParsedExtension;

    use super::*;

    fn validity(days: i64) -> Validity {
        let start = datetime!(2026-11-25 12:00:00.5 UTC);
        Validity::new(start, start + time::Duration::days(days)).unwrap()
    }

    fn issue(credit_code: Option<CreditCode>) -> Vec<u8> {
        let root_key = KeyPair::generate().unwrap();
        let seal_key = KeyPair::generate().unwrap();
        let subject = SealSubject::new("测试机关", "测试专用章", credit_code).unwrap();
        let root = issue_root_certificate(
            &root_key,
            subject.organization(),
            &validity(3650),
            &Serial::from_random_bytes([0xff; 16]),
        )
        .unwrap();
        issue_end_entity_certificate(
            EndEntityProfile::Seal,
            &seal_key,
            &subject,
            (root.as_slice(), &root_key),
            &validity(1095),
            &Serial::from_random_bytes([7; 16]),
            Some("http://seal.example.gov.cn/crl/root.crl"),
        )
        .unwrap()
    }

    #[test]
    fn serial_is_positive_and_never_zero() {
        assert_eq!(Serial::from_random_bytes([0xff; 16]).as_bytes()[0], 0x7f);
        assert_eq!(Serial::from_random_bytes([0x80; 16]).as_bytes()[0], 0);
        let zero = Serial::from_random_bytes([0; 16]);
        assert_eq!(zero.as_bytes()[15], 1);
    }

    #[test]
    fn validity_drops_fractions_and_refuses_an_empty_period() {
        assert_eq!(validity(1).not_before().nanosecond(), 0);
        let start = datetime!(2026-11-25 12:00:00 UTC);
        assert!(Validity::new(start, start).is_err());
        assert!(Validity::new(start, start - time::Duration::seconds(1)).is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(SealSubject::new("", "章", None).is_err());
        assert!(SealSubject::new("机关", " 章", None).is_err());
        assert!(SealSubject::new("机关", "章\n", None).is_err());
        assert!(
            SealSubject::new(&"机".repeat(57), "章", None).is_err(),
            "root CN too long"
        );
        assert!(SealSubject::new(&"机".repeat(56), &"章".repeat(64), None).is_ok());
    }

    #[test]
    fn seal_certificate_carries_the_profile() {
        let code = CreditCode::parse("91350100M000100Y43").unwrap();
        let der = issue(Some(code));
        let (_, certificate) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert_eq!(certificate.raw_serial(), [7; 16]);
        let key_usage = certificate.key_usage().unwrap().unwrap();
        assert!(key_usage.critical);
        assert!(key_usage.value.digital_signature() && key_usage.value.non_repudiation());
        assert!(!key_usage.value.key_cert_sign());
        let extended = certificate.extended_key_usage().unwrap().unwrap();
        assert!(!extended.critical && extended.value.email_protection);
        assert_eq!(extended.value.other.len(), 1);
        assert_eq!(extended.value.other[0].to_id_string(), "1.3.6.1.5.5.7.3.36");
        let basic = certificate.basic_constraints().unwrap().unwrap();
        assert!(basic.critical && !basic.value.ca);
        for extension in certificate.extensions() {
            assert!(!matches!(
                extension.parsed_extension(),
                ParsedExtension::AuthorityInfoAccess(_)
            ));
            if let ParsedExtension::CRLDistributionPoints(_) = extension.parsed_extension() {
                assert!(!extension.critical);
            }
        }
        assert_eq!(
            crate::pki::crl_distribution_urls(&[der.clone(), der.clone()]),
            ["http://seal.example.gov.cn/crl/root.crl"]
        );
        assert!(crate::pki::crl_distribution_urls(&[vec![0x30, 0x00]]).is_empty());
        let subject = certificate.subject().to_string();
        assert!(subject.contains("91350100M000100Y43"), "{subject}");
        assert!(subject.contains("测试专用章"), "{subject}");
    }

    #[test]
    fn tsa_certificate_is_for_time_stamping_only() {
        let root_key = KeyPair::generate().unwrap();
        let subject = SealSubject::new("测试机关", "测试机关 时间戳服务", None).unwrap();
        let root = issue_root_certificate(
            &root_key,
            "测试机关",
            &validity(3650),
            &Serial::from_random_bytes([1; 16]),
        )
        .unwrap();
        let der = issue_end_entity_certificate(
            EndEntityProfile::TimeStamping,
            &KeyPair::generate().unwrap(),
            &subject,
            (root.as_slice(), &root_key),
            &validity(365),
            &Serial::from_random_bytes([2; 16]),
            Some("http://seal.example.gov.cn/crl/root.crl"),
        )
        .unwrap();
        let (_, certificate) = x509_parser::parse_x509_certificate(&der).unwrap();
        let extended = certificate.extended_key_usage().unwrap().unwrap();
        assert!(extended.critical, "RFC 3161 §2.3: critical");
        assert!(extended.value.time_stamping);
        assert!(!extended.value.email_protection && extended.value.other.is_empty());
        assert!(!extended.value.any && !extended.value.server_auth && !extended.value.client_auth);
        let key_usage = certificate.key_usage().unwrap().unwrap();
        assert!(key_usage.critical && key_usage.value.digital_signature());
        assert!(!key_usage.value.key_cert_sign());
        assert!(!certificate.basic_constraints().unwrap().unwrap().value.ca);
        let names: Vec<bool> = certificate
            .extensions()
            .iter()
            .map(|e| {
                matches!(
                    e.parsed_extension(),
                    ParsedExtension::AuthorityKeyIdentifier(_)
                        | ParsedExtension::SubjectKeyIdentifier(_)
                        | ParsedExtension::CRLDistributionPoints(_)
                )
            })
            .filter(|found| *found)
            .collect();
        assert_eq!(names.len(), 3, "SKI, AKI and the CRL distribution point");
    }

    #[test]
    fn crl_url_names_the_root_by_its_key_identifier() {
        let root_key = KeyPair::generate().unwrap();
        let root = issue_root_certificate(
            &root_key,
            "测试机关",
            &validity(10),
            &Serial::from_random_bytes([1; 16]),
        )
        .unwrap();
        let url = crl_url("https://zwfw.example.gov.cn/", &root).unwrap();
        let hex = url
            .strip_prefix("https://zwfw.example.gov.cn/crl/")
            .and_then(|rest| rest.strip_suffix(".crl"))
            .unwrap();
        assert_eq!(hex.len(), 40, "{url}");
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert!(crl_url("not a url", &root).is_err());
    }

    #[test]
    fn crl_urls_are_checked() {
        assert!(check_crl_url("https://zwfw.example.gov.cn/crl/seal-root.crl").is_ok());
        for bad in [
            "ftp://x/y",
            "http://",
            "http:///x",
            "http://a b",
            "http://例子",
            "x",
        ] {
            assert!(check_crl_url(bad).is_err(), "{bad}");
        }
        assert!(check_crl_url(&format!("http://h/{}", "a".repeat(600))).is_err());
    }

    #[test]
    fn seal_certificate_may_not_outlive_its_root() {
        let root_key = KeyPair::generate().unwrap();
        let subject = SealSubject::new("测试机关", "测试专用章", None).unwrap();
        let serial = Serial::from_random_bytes([1; 16]);
        let root = issue_root_certificate(&root_key, "测试机关", &validity(10), &serial).unwrap();
        let error = issue_end_entity_certificate(
            EndEntityProfile::Seal,
            &KeyPair::generate().unwrap(),
            &subject,
            (root.as_slice(), &root_key),
            &validity(11),
            &serial,
            None,
        )
        .unwrap_err();
        assert!(matches!(error, PkiError::InvalidValidity(_)), "{error}");
    }
}
