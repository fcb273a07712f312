//! Certificate revocation lists (RFC 5280 §5): the root issues them through rcgen's `SigningKey`
//! seam, and verifiers read them with x509-parser and check their signature with ring. Pure: the
//! times, the CRL number and the entries are passed in; bytes go out.

use std::fmt;

use rcgen::{
    CertificateRevocationListParams, Issuer, KeyIdMethod, RevokedCertParams, SerialNumber,
    SigningKey,
};
use ring::signature::{self as ring_signature, UnparsedPublicKey, VerificationAlgorithm};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{ParsedExtension, X509Extension};
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::{CertificateRevocationList, RevokedCertificate};

use super::PkiError;

/// Largest CRL accepted, DER: a root that issues one seal certificate at a time lists a handful.
pub const MAX_CRL_BYTES: usize = 1 << 20;
/// Most entries accepted in one CRL.
pub const MAX_CRL_ENTRIES: usize = 10_000;

/// Why a CRL was refused. Messages say what is wrong with the CRL, never key material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CrlError {
    /// Over [`MAX_CRL_BYTES`].
    #[error("the CRL is over {limit} bytes")]
    TooLarge { limit: usize },
    /// Over [`MAX_CRL_ENTRIES`] revoked certificates.
    #[error("the CRL lists more than {limit} certificates")]
    TooManyEntries { limit: usize },
    /// Not DER or PEM of an X.509 CRL at all.
    #[error("not an X.509 CRL (DER or PEM): {0}")]
    NotACrl(String),
    /// A CRL, but one RFC 5280 §5 does not allow (no CRL number, no nextUpdate, …).
    #[error("the CRL does not follow RFC 5280: {0}")]
    Nonconforming(String),
    /// A CRL feature this verifier does not implement (delta CRLs, indirect CRLs, …).
    #[error("unsupported CRL: {0}")]
    Unsupported(String),
    /// The CRL names another issuer than the certificate it is checked against.
    #[error("the CRL was issued by {crl_issuer}, not by {certificate}")]
    WrongIssuer {
        crl_issuer: String,
        certificate: String,
    },
    /// The issuer's certificate may not sign CRLs (RFC 5280 §4.2.1.3 keyUsage without cRLSign).
    #[error("the issuer's certificate does not allow signing CRLs (key usage has no cRLSign)")]
    IssuerCannotSignCrls,
    /// The signature does not verify with the issuer's key.
    #[error("the CRL's signature does not verify with the issuer's key")]
    BadSignature,
    /// The signature algorithm, or the issuer's key type, is not accepted.
    #[error("the CRL's signature algorithm {0} is not accepted")]
    UnsupportedAlgorithm(String),
    /// The certificate the CRL is checked against cannot be read.
    #[error("the issuer certificate cannot be read: {0}")]
    BadIssuerCertificate(String),
}

/// Why a certificate was revoked (RFC 5280 §5.3.1 CRLReason; value 7 is unused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RevocationReason {
    Unspecified,
    KeyCompromise,
    #[serde(rename = "cACompromise")]
    CaCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
    CertificateHold,
    #[serde(rename = "removeFromCRL")]
    RemoveFromCrl,
    PrivilegeWithdrawn,
    #[serde(rename = "aACompromise")]
    AaCompromise,
}

impl RevocationReason {
    /// The CRLReason value.
    pub fn code(self) -> u8 {
        match self {
            Self::Unspecified => 0,
            Self::KeyCompromise => 1,
            Self::CaCompromise => 2,
            Self::AffiliationChanged => 3,
            Self::Superseded => 4,
            Self::CessationOfOperation => 5,
            Self::CertificateHold => 6,
            Self::RemoveFromCrl => 8,
            Self::PrivilegeWithdrawn => 9,
            Self::AaCompromise => 10,
        }
    }

    /// The reason with CRLReason value `code`, if it is one.
    pub fn from_code(code: u8) -> Option<RevocationReason> {
        Some(match code {
            0 => Self::Unspecified,
            1 => Self::KeyCompromise,
            2 => Self::CaCompromise,
            3 => Self::AffiliationChanged,
            4 => Self::Superseded,
            5 => Self::CessationOfOperation,
            6 => Self::CertificateHold,
            8 => Self::RemoveFromCrl,
            9 => Self::PrivilegeWithdrawn,
            10 => Self::AaCompromise,
            _ => return None,
        })
    }

    /// The ASN.1 name, e.g. `keyCompromise`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "keyCompromise",
            Self::CaCompromise => "cACompromise",
            Self::AffiliationChanged => "affiliationChanged",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessationOfOperation",
            Self::CertificateHold => "certificateHold",
            Self::RemoveFromCrl => "removeFromCRL",
            Self::PrivilegeWithdrawn => "privilegeWithdrawn",
            Self::AaCompromise => "aACompromise",
        }
    }

    /// Whether the reason says a private key fell into other hands: a signature nothing dates
    /// before the revocation may then have been made by anyone.
    pub fn is_compromise(self) -> bool {
        matches!(
            self,
            Self::KeyCompromise | Self::CaCompromise | Self::AaCompromise
        )
    }

    fn to_rcgen(self) -> rcgen::RevocationReason {
        use rcgen::RevocationReason as R;
        match self {
            Self::Unspecified => R::Unspecified,
            Self::KeyCompromise => R::KeyCompromise,
            Self::CaCompromise => R::CaCompromise,
            Self::AffiliationChanged => R::AffiliationChanged,
            Self::Superseded => R::Superseded,
            Self::CessationOfOperation => R::CessationOfOperation,
            Self::CertificateHold => R::CertificateHold,
            Self::RemoveFromCrl => R::RemoveFromCrl,
            Self::PrivilegeWithdrawn => R::PrivilegeWithdrawn,
            Self::AaCompromise => R::AaCompromise,
        }
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A certificate serial number as CRLs and certificates carry it: the DER INTEGER's content in
/// its minimal two's-complement form, so the same number always compares equal.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CertificateSerial(Vec<u8>);

impl CertificateSerial {
    /// Longest serial accepted: RFC 5280 §4.1.2.2 allows 20 octets, plus a sign octet.
    const MAX_OCTETS: usize = 21;

    /// From an INTEGER's content octets (as x509 parsers return a raw serial).
    pub fn from_integer_bytes(bytes: &[u8]) -> Option<CertificateSerial> {
        if bytes.is_empty() || bytes.len() > Self::MAX_OCTETS {
            return None;
        }
        let mut start = 0;
        // X.690 §8.3.2: the first nine bits are never all zero or all one.
        while let (Some(&first), Some(&second)) = (bytes.get(start), bytes.get(start + 1)) {
            let redundant =
                (first == 0 && second & 0x80 == 0) || (first == 0xff && second & 0x80 != 0);
            if !redundant {
                break;
            }
            start += 1;
        }
        bytes.get(start..).map(|b| CertificateSerial(b.to_vec()))
    }

    /// From hexadecimal digits (a positive number; `:` separators as openssl prints them allowed).
    pub fn parse_hex(text: &str) -> Option<CertificateSerial> {
        let digits: String = text.trim().chars().filter(|c| *c != ':').collect();
        if digits.is_empty()
            || digits.len() > 2 * 20
            || !digits.chars().all(|c| c.is_ascii_hexdigit())
        {
            return None;
        }
        let padded = if digits.len() % 2 == 1 {
            format!("0{digits}")
        } else {
            digits
        };
        let mut bytes = vec![0u8];
        for pair in padded.as_bytes().chunks(2) {
            let text = std::str::from_utf8(pair).ok()?;
            bytes.push(u8::from_str_radix(text, 16).ok()?);
        }
        let serial = CertificateSerial::from_integer_bytes(&bytes)?;
        (serial.0 != [0]).then_some(serial)
    }

    /// The serial of a DER certificate.
    pub fn of_certificate(certificate: &[u8]) -> Option<CertificateSerial> {
        let (_, parsed) = X509Certificate::from_der(certificate).ok()?;
        CertificateSerial::from_integer_bytes(parsed.raw_serial())
    }

    /// The INTEGER's minimal content octets.
    pub fn as_integer_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Uppercase hex of the number's magnitude, as the verification report prints serials.
    pub fn to_hex(&self) -> String {
        let magnitude = match self.0.as_slice() {
            [0, rest @ ..] if !rest.is_empty() => rest,
            all => all,
        };
        magnitude.iter().map(|b| format!("{b:02X}")).collect()
    }
}

impl fmt::Display for CertificateSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A CRL number (RFC 5280 §5.2.3): a non-negative integer of at most 20 octets that grows with
/// every CRL an issuer publishes. Ordered as numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CrlNumber([u8; 20]);

impl CrlNumber {
    pub fn new(number: u64) -> CrlNumber {
        let mut bytes = [0u8; 20];
        if let Some(tail) = bytes.get_mut(12..) {
            tail.copy_from_slice(&number.to_be_bytes());
        }
        CrlNumber(bytes)
    }

    /// The next number, or `None` past 2¹⁶⁰ − 1.
    pub fn next(self) -> Option<CrlNumber> {
        let mut bytes = self.0;
        for byte in bytes.iter_mut().rev() {
            let (sum, carry) = byte.overflowing_add(1);
            *byte = sum;
            if !carry {
                return Some(CrlNumber(bytes));
            }
        }
        None
    }

    /// Forty lowercase hex digits: their text order is the numbers' order, which is how the
    /// registry stores and compares them.
    pub fn to_fixed_hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads [`Self::to_fixed_hex`] back.
    pub fn from_fixed_hex(text: &str) -> Option<CrlNumber> {
        if text.len() != 40 {
            return None;
        }
        let mut bytes = [0u8; 20];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(CrlNumber(bytes))
    }

    fn from_unsigned_bytes(bytes: &[u8]) -> Option<CrlNumber> {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        let significant = bytes.get(start..)?;
        let mut number = [0u8; 20];
        let at = 20usize.checked_sub(significant.len())?;
        number.get_mut(at..)?.copy_from_slice(significant);
        Some(CrlNumber(number))
    }

    fn minimal_bytes(&self) -> &[u8] {
        let start = self.0.iter().position(|b| *b != 0).unwrap_or(19);
        self.0.get(start..).unwrap_or(&[0])
    }
}

impl fmt::Display for CrlNumber {
    /// Decimal when it fits 128 bits (it always does for numbers this service issues).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.get(..4), self.0.get(4..)) {
            (Some([0, 0, 0, 0]), Some(low)) => {
                let mut value = [0u8; 16];
                value.copy_from_slice(low);
                write!(f, "{}", u128::from_be_bytes(value))
            }
            _ => write!(f, "0x{}", self.to_fixed_hex()),
        }
    }
}

/// One revoked certificate, as a CRL entry says it (RFC 5280 §5.1.2.6, §5.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedCertificateEntry {
    pub serial: CertificateSerial,
    /// revocationDate: when the CA processed the revocation.
    pub revoked_at: OffsetDateTime,
    /// reasonCode; absent means unspecified (§5.3.1).
    pub reason: Option<RevocationReason>,
    /// invalidityDate: since when the key is known or suspected to be compromised (§5.3.2).
    pub invalid_since: Option<OffsetDateTime>,
}

impl RevokedCertificateEntry {
    /// From when signatures under the certificate are not to be trusted: the revocation date,
    /// or the invalidity date when it is earlier.
    pub fn effective_from(&self) -> OffsetDateTime {
        match self.invalid_since {
            Some(since) if since < self.revoked_at => since,
            _ => self.revoked_at,
        }
    }
}

/// What a new CRL says; the issuer's certificate and key are given when it is signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrlContents {
    pub number: CrlNumber,
    pub this_update: OffsetDateTime,
    pub next_update: OffsetDateTime,
    pub entries: Vec<RevokedCertificateEntry>,
}

/// Issues a CRL v2 (DER) signed by the root: the issuer name and authority key identifier come
/// from `root_certificate` itself, so they match it byte for byte (RFC 5280 §5.1.2.3, §5.2.1);
/// the CRL number is `contents.number` (§5.2.3); each entry carries its reason code and
/// invalidity date when known (§5.3.1, §5.3.2).
pub fn issue_crl(
    root_certificate: &[u8],
    root_key: &impl SigningKey,
    contents: &CrlContents,
) -> Result<Vec<u8>, PkiError> {
    let failed = |reason: String| PkiError::Issuance(format!("cannot issue the CRL: {reason}"));
    let (_, root) = X509Certificate::from_der(root_certificate)
        .map_err(|e| failed(format!("the root certificate cannot be read ({e})")))?;
    if root.public_key().subject_public_key.data.as_ref() != root_key.der_bytes() {
        return Err(failed(
            "the key does not belong to the root certificate".to_owned(),
        ));
    }
    if contents.entries.len() > MAX_CRL_ENTRIES {
        return Err(failed(format!(
            "more than {MAX_CRL_ENTRIES} revoked certificates"
        )));
    }
    let whole = |time: OffsetDateTime| time.replace_nanosecond(0).unwrap_or(time);
    let key_identifier_method = match subject_key_identifier(&root) {
        Some(identifier) => KeyIdMethod::PreSpecified(identifier.to_vec()),
        None => KeyIdMethod::Sha256,
    };
    let params = CertificateRevocationListParams {
        this_update: whole(contents.this_update),
        next_update: whole(contents.next_update),
        crl_number: SerialNumber::from_slice(contents.number.minimal_bytes()),
        issuing_distribution_point: None,
        revoked_certs: contents
            .entries
            .iter()
            .map(|entry| RevokedCertParams {
                serial_number: SerialNumber::from_slice(positive_magnitude(&entry.serial)),
                revocation_time: whole(entry.revoked_at),
                reason_code: entry.reason.map(RevocationReason::to_rcgen),
                invalidity_date: entry.invalid_since.map(whole),
            })
            .collect(),
        key_identifier_method,
    };
    let issuer = Issuer::from_ca_cert_der(&root_certificate.into(), root_key)
        .map_err(|e| failed(e.to_string()))?;
    let crl = params
        .signed_by(&issuer)
        .map_err(|e| failed(e.to_string()))?;
    Ok(crl.der().to_vec())
}

/// A parsed CRL whose signature is not yet checked: [`RevocationList::check_signature`] says
/// whether a given issuer made it. Built only by [`RevocationList::from_der`].
#[derive(Clone, Debug)]
pub struct RevocationList {
    der: Vec<u8>,
    issuer_name: Vec<u8>,
    issuer: String,
    authority_key_identifier: Option<Vec<u8>>,
    number: CrlNumber,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    entries: Vec<RevokedCertificateEntry>,
}

impl RevocationList {
    /// Parses one DER CRL under [`MAX_CRL_BYTES`] and [`MAX_CRL_ENTRIES`]. Refuses what RFC 5280
    /// §5 requires conforming CRLs to carry when it is missing (v2, CRL number, nextUpdate) and
    /// critical extensions this verifier does not process (§5.2: such a CRL must not be used).
    pub fn from_der(der: &[u8]) -> Result<RevocationList, CrlError> {
        if der.len() > MAX_CRL_BYTES {
            return Err(CrlError::TooLarge {
                limit: MAX_CRL_BYTES,
            });
        }
        // x509-cert decodes strict DER only: what is served again must be exactly what
        // relying parties' parsers accept (x509-parser alone lets some BER through).
        <x509_cert::crl::CertificateList as der::Decode>::from_der(der)
            .map_err(|e| CrlError::NotACrl(format!("not DER ({e})")))?;
        let (rest, crl) = CertificateRevocationList::from_der(der)
            .map_err(|e| CrlError::NotACrl(e.to_string()))?;
        if !rest.is_empty() {
            return Err(CrlError::NotACrl(format!(
                "{} bytes follow the CRL",
                rest.len()
            )));
        }
        let count = crl.iter_revoked_certificates().count();
        if count > MAX_CRL_ENTRIES {
            return Err(CrlError::TooManyEntries {
                limit: MAX_CRL_ENTRIES,
            });
        }
        let nonconforming = |reason: &str| CrlError::Nonconforming(reason.to_owned());
        if crl.version().map(|v| v.0) != Some(1) {
            return Err(nonconforming("it is not a version 2 CRL (§5.1.2.1)"));
        }
        if crl.signature_algorithm != crl.tbs_cert_list.signature {
            return Err(nonconforming(
                "its two signature algorithm fields differ (§5.1.1.2)",
            ));
        }
        if crl.signature_value.unused_bits != 0 {
            return Err(nonconforming(
                "its signature value is not a whole number of octets",
            ));
        }
        let (authority_key_identifier, number) = crl_extensions(crl.extensions())?;
        let this_update = crl.last_update().to_datetime();
        let next_update = crl
            .next_update()
            .ok_or_else(|| nonconforming("it has no nextUpdate (§5.1.2.5)"))?
            .to_datetime();
        if next_update <= this_update {
            return Err(nonconforming("its nextUpdate is not after its thisUpdate"));
        }
        let mut entries = Vec::with_capacity(count);
        for revoked in crl.iter_revoked_certificates() {
            entries.push(entry(revoked)?);
        }
        Ok(RevocationList {
            der: der.to_vec(),
            issuer_name: crl.issuer().as_raw().to_vec(),
            issuer: crl.issuer().to_string(),
            authority_key_identifier,
            number,
            this_update,
            next_update,
            entries,
        })
    }

    /// Every CRL in `bytes`: one DER CRL, or PEM with one or more "X509 CRL" blocks.
    pub fn parse_all(bytes: &[u8]) -> Result<Vec<RevocationList>, CrlError> {
        if bytes.len() > MAX_CRL_BYTES.saturating_mul(2) {
            return Err(CrlError::TooLarge {
                limit: MAX_CRL_BYTES,
            });
        }
        let text_start = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .and_then(|start| bytes.get(start..))
            .unwrap_or_default();
        if !text_start.starts_with(b"-----BEGIN") {
            return Ok(vec![RevocationList::from_der(bytes)?]);
        }
        let mut found = Vec::new();
        for pem in x509_parser::pem::Pem::iter_from_buffer(bytes) {
            let pem = pem.map_err(|e| CrlError::NotACrl(format!("bad PEM ({e})")))?;
            if pem.label == "X509 CRL" {
                found.push(RevocationList::from_der(&pem.contents)?);
            }
        }
        if found.is_empty() {
            return Err(CrlError::NotACrl("no \"X509 CRL\" PEM block".to_owned()));
        }
        Ok(found)
    }

    /// Checks that `issuer_certificate` (DER) made this CRL (RFC 5280 §6.3.3 (f), (g)): the
    /// CRL names it as issuer, its authority key identifier (when both carry one) is the
    /// certificate's subject key identifier, the certificate may sign CRLs, and the signature
    /// verifies with its key (ring).
    pub fn check_signature(&self, issuer_certificate: &[u8]) -> Result<(), CrlError> {
        let (_, issuer) = X509Certificate::from_der(issuer_certificate)
            .map_err(|e| CrlError::BadIssuerCertificate(e.to_string()))?;
        if issuer.subject().as_raw() != self.issuer_name.as_slice() {
            return Err(CrlError::WrongIssuer {
                crl_issuer: self.issuer.clone(),
                certificate: issuer.subject().to_string(),
            });
        }
        if let (Some(authority), Some(subject)) = (
            self.authority_key_identifier.as_deref(),
            subject_key_identifier(&issuer),
        ) && authority != subject
        {
            return Err(CrlError::WrongIssuer {
                crl_issuer: format!("{} (another key)", self.issuer),
                certificate: issuer.subject().to_string(),
            });
        }
        match issuer.key_usage() {
            Ok(Some(usage)) if !usage.value.crl_sign() => {
                return Err(CrlError::IssuerCannotSignCrls);
            }
            Ok(_) => {}
            Err(e) => return Err(CrlError::BadIssuerCertificate(e.to_string())),
        }
        // The DER parsed when this value was built; parsing it again cannot fail.
        let (_, crl) = CertificateRevocationList::from_der(&self.der)
            .map_err(|e| CrlError::NotACrl(e.to_string()))?;
        let algorithm = verification_algorithm(
            &crl.signature_algorithm.algorithm.to_id_string(),
            issuer.public_key(),
        )?;
        UnparsedPublicKey::new(
            algorithm,
            issuer.public_key().subject_public_key.data.as_ref(),
        )
        .verify(
            crl.tbs_cert_list.as_ref(),
            crl.signature_value.data.as_ref(),
        )
        .map_err(|_| CrlError::BadSignature)
    }

    /// The entry for `serial`, when this CRL lists it.
    pub fn revocation_of(&self, serial: &CertificateSerial) -> Option<&RevokedCertificateEntry> {
        self.entries.iter().find(|entry| &entry.serial == serial)
    }

    /// The CRL exactly as read.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The issuer's name as DER (a Name SEQUENCE), to compare with certificates' issuer fields.
    pub fn issuer_name_der(&self) -> &[u8] {
        &self.issuer_name
    }

    /// The issuer's name (RFC 4514) for people.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The authority key identifier, when the CRL carries one (§5.2.1 says it must).
    pub fn authority_key_identifier(&self) -> Option<&[u8]> {
        self.authority_key_identifier.as_deref()
    }

    pub fn number(&self) -> CrlNumber {
        self.number
    }

    pub fn this_update(&self) -> OffsetDateTime {
        self.this_update
    }

    pub fn next_update(&self) -> OffsetDateTime {
        self.next_update
    }

    pub fn entries(&self) -> &[RevokedCertificateEntry] {
        &self.entries
    }
}

/// The authority key identifier and CRL number, refusing critical extensions not processed here.
fn crl_extensions(
    extensions: &[X509Extension<'_>],
) -> Result<(Option<Vec<u8>>, CrlNumber), CrlError> {
    let mut authority = None;
    let mut number = None;
    for extension in extensions {
        match extension.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(identifier) => {
                authority = identifier.key_identifier.as_ref().map(|id| id.0.to_vec());
            }
            ParsedExtension::CRLNumber(value) => {
                number = Some(
                    CrlNumber::from_unsigned_bytes(&value.to_bytes_be()).ok_or_else(|| {
                        CrlError::Nonconforming("its CRL number is over 20 octets (§5.2.3)".into())
                    })?,
                );
            }
            ParsedExtension::ParseError { error } => {
                return Err(CrlError::NotACrl(format!(
                    "extension {} is malformed ({error})",
                    extension.oid.to_id_string()
                )));
            }
            _ if extension.critical => {
                return Err(CrlError::Unsupported(format!(
                    "critical extension {} (delta, partitioned and indirect CRLs are not supported)",
                    extension.oid.to_id_string()
                )));
            }
            _ => {}
        }
    }
    let number = number
        .ok_or_else(|| CrlError::Nonconforming("it has no CRL number (§5.2.3)".to_owned()))?;
    Ok((authority, number))
}

/// One CRL entry, refusing critical entry extensions not processed here (§5.3.3
/// certificateIssuer above all: it would make the entry about another CA's certificate).
fn entry(revoked: &RevokedCertificate<'_>) -> Result<RevokedCertificateEntry, CrlError> {
    let serial = CertificateSerial::from_integer_bytes(revoked.raw_serial()).ok_or_else(|| {
        CrlError::Nonconforming("an entry's serial number is empty or over 20 octets".into())
    })?;
    let mut reason = None;
    let mut invalid_since = None;
    for extension in revoked.extensions() {
        match extension.parsed_extension() {
            ParsedExtension::ReasonCode(code) => {
                reason = Some(RevocationReason::from_code(code.0).ok_or_else(|| {
                    CrlError::Nonconforming(format!("reason code {} is not defined", code.0))
                })?);
            }
            ParsedExtension::InvalidityDate(date) => invalid_since = Some(date.to_datetime()),
            ParsedExtension::ParseError { error } => {
                return Err(CrlError::NotACrl(format!(
                    "entry {serial}: extension {} is malformed ({error})",
                    extension.oid.to_id_string()
                )));
            }
            _ if extension.critical => {
                return Err(CrlError::Unsupported(format!(
                    "entry {serial} carries critical extension {}",
                    extension.oid.to_id_string()
                )));
            }
            _ => {}
        }
    }
    Ok(RevokedCertificateEntry {
        serial,
        revoked_at: revoked.revocation_date.to_datetime(),
        reason,
        invalid_since,
    })
}

fn subject_key_identifier<'a>(certificate: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    certificate
        .extensions()
        .iter()
        .find_map(|extension| match extension.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(identifier) => Some(identifier.0),
            _ => None,
        })
}

/// The serial's magnitude for rcgen, which writes it as a positive INTEGER.
fn positive_magnitude(serial: &CertificateSerial) -> &[u8] {
    match serial.as_integer_bytes() {
        [0, rest @ ..] if !rest.is_empty() => rest,
        all => all,
    }
}

/// ring's verifier for a CRL signed with `signature_oid` by `key`: ECDSA on P-256 or P-384 with
/// SHA-256/384, RSA PKCS#1 v1.5 (2048–8192 bits) with SHA-2, or Ed25519. SHA-1 is refused.
fn verification_algorithm(
    signature_oid: &str,
    key: &x509_parser::x509::SubjectPublicKeyInfo<'_>,
) -> Result<&'static dyn VerificationAlgorithm, CrlError> {
    let key_type = key.algorithm.algorithm.to_id_string();
    let curve = key
        .algorithm
        .parameters
        .as_ref()
        .and_then(|parameters| parameters.as_oid().ok())
        .map(|oid| oid.to_id_string());
    let algorithm: Option<&'static dyn VerificationAlgorithm> =
        match (signature_oid, key_type.as_str(), curve.as_deref()) {
            ("1.2.840.10045.4.3.2", "1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7")) => {
                Some(&ring_signature::ECDSA_P256_SHA256_ASN1)
            }
            ("1.2.840.10045.4.3.3", "1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7")) => {
                Some(&ring_signature::ECDSA_P256_SHA384_ASN1)
            }
            ("1.2.840.10045.4.3.2", "1.2.840.10045.2.1", Some("1.3.132.0.34")) => {
                Some(&ring_signature::ECDSA_P384_SHA256_ASN1)
            }
            ("1.2.840.10045.4.3.3", "1.2.840.10045.2.1", Some("1.3.132.0.34")) => {
                Some(&ring_signature::ECDSA_P384_SHA384_ASN1)
            }
            ("1.2.840.113549.1.1.11", "1.2.840.113549.1.1.1", _) => {
                Some(&ring_signature::RSA_PKCS1_2048_8192_SHA256)
            }
            ("1.2.840.113549.1.1.12", "1.2.840.113549.1.1.1", _) => {
                Some(&ring_signature::RSA_PKCS1_2048_8192_SHA384)
            }
            ("1.2.840.113549.1.1.13", "1.2.840.113549.1.1.1", _) => {
                Some(&ring_signature::RSA_PKCS1_2048_8192_SHA512)
            }
            ("1.3.101.112", "1.3.101.112", _) => Some(&ring_signature::ED25519),
            _ => None,
        };
    algorithm.ok_or_else(|| {
        CrlError::UnsupportedAlgorithm(format!("{signature_oid} with a {key_type} key"))
    })
}

/// Every http(s) URI the certificates name as a CRL distribution point (RFC 5280 §4.2.1.13),
/// once each, in the order met; certificates that do not parse are skipped.
pub fn crl_distribution_urls(certificates: &[Vec<u8>]) -> Vec<String> {
    use x509_parser::extensions::{DistributionPointName, GeneralName};
    let mut urls: Vec<String> = Vec::new();
    for der in certificates {
        let Ok((_, certificate)) = X509Certificate::from_der(der) else {
            continue;
        };
        for extension in certificate.extensions() {
            let ParsedExtension::CRLDistributionPoints(points) = extension.parsed_extension()
            else {
                continue;
            };
            let names = points
                .iter()
                .filter_map(|point| match &point.distribution_point {
                    Some(DistributionPointName::FullName(names)) => Some(names),
                    _ => None,
                });
            for name in names.flatten() {
                if let GeneralName::URI(uri) = name
                    && (uri.starts_with("http://") || uri.starts_with("https://"))
                    && !urls.iter().any(|known| known == uri)
                {
                    urls.push((*uri).to_string());
                }
            }
        }
    }
    urls
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
    use time::Duration;
    use time::macros::datetime;

    use super::*;
    use crate::pki::{Serial, Validity, issue_root_certificate};

    const NOW: OffsetDateTime = datetime!(2026-11-26 08:00:00 UTC);

    fn root(organization: &str) -> (KeyPair, Vec<u8>) {
        let key = KeyPair::generate().unwrap();
        let validity = Validity::new(NOW - Duration::days(1), NOW + Duration::days(3650)).unwrap();
        let certificate = issue_root_certificate(
            &key,
            organization,
            &validity,
            &Serial::from_random_bytes([3; 16]),
        )
        .unwrap();
        (key, certificate)
    }

    fn compromised(serial: &str) -> RevokedCertificateEntry {
        RevokedCertificateEntry {
            serial: CertificateSerial::parse_hex(serial).unwrap(),
            revoked_at: NOW - Duration::hours(2),
            reason: Some(RevocationReason::KeyCompromise),
            invalid_since: Some(NOW - Duration::hours(5)),
        }
    }

    fn contents(number: u64, entries: Vec<RevokedCertificateEntry>) -> CrlContents {
        CrlContents {
            number: CrlNumber::new(number),
            this_update: NOW,
            next_update: NOW + Duration::days(7),
            entries,
        }
    }

    #[test]
    fn an_issued_crl_reads_back_and_verifies_with_its_root() {
        let (key, certificate) = root("测试机关");
        let der = issue_crl(
            &certificate,
            &key,
            &contents(
                7,
                vec![
                    compromised("0F:A1:22"),
                    compromised("7fffffffffffffffffffffffffffffff"),
                ],
            ),
        )
        .unwrap();
        let crl = RevocationList::from_der(&der).unwrap();
        crl.check_signature(&certificate).unwrap();
        assert_eq!(crl.number(), CrlNumber::new(7));
        assert_eq!(crl.number().to_string(), "7");
        assert_eq!(crl.this_update(), NOW);
        assert_eq!(crl.next_update(), NOW + Duration::days(7));
        assert!(crl.issuer().contains("测试机关"), "{}", crl.issuer());
        let (_, parsed_root) = X509Certificate::from_der(&certificate).unwrap();
        assert_eq!(
            crl.authority_key_identifier(),
            subject_key_identifier(&parsed_root)
        );
        let entry = crl
            .revocation_of(&CertificateSerial::parse_hex("0fa122").unwrap())
            .unwrap();
        assert_eq!(entry.reason, Some(RevocationReason::KeyCompromise));
        assert_eq!(entry.revoked_at, NOW - Duration::hours(2));
        assert_eq!(entry.effective_from(), NOW - Duration::hours(5));
        assert!(
            crl.revocation_of(
                &CertificateSerial::parse_hex("7fffffffffffffffffffffffffffffff").unwrap()
            )
            .is_some()
        );
        assert!(
            crl.revocation_of(&CertificateSerial::parse_hex("0fa123").unwrap())
                .is_none()
        );
        // PEM of the same bytes reads the same.
        let pem = der::pem::encode_string("X509 CRL", der::pem::LineEnding::LF, &der).unwrap();
        let again = RevocationList::parse_all(pem.as_bytes()).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].der(), der.as_slice());
    }

    #[test]
    fn an_empty_crl_and_every_reason_round_trip() {
        let (key, certificate) = root("测试机关");
        let empty = issue_crl(&certificate, &key, &contents(1, vec![])).unwrap();
        let crl = RevocationList::from_der(&empty).unwrap();
        assert!(crl.entries().is_empty());
        crl.check_signature(&certificate).unwrap();
        for code in 0..=10 {
            let Some(reason) = RevocationReason::from_code(code) else {
                assert_eq!(code, 7);
                continue;
            };
            assert_eq!(reason.code(), code);
            let mut entry = compromised("01");
            entry.reason = Some(reason);
            entry.invalid_since = None;
            let der = issue_crl(&certificate, &key, &contents(2, vec![entry])).unwrap();
            let read = RevocationList::from_der(&der).unwrap();
            // RFC 5280 §5.3.1: unspecified is written as no reason code at all.
            let expected = (reason != RevocationReason::Unspecified).then_some(reason);
            assert_eq!(read.entries()[0].reason, expected, "{reason}");
        }
    }

    #[test]
    fn another_root_or_a_tampered_crl_does_not_verify() {
        let (key, certificate) = root("测试机关");
        let (_, other) = root("测试机关");
        let (_, stranger) = root("别的机关");
        let der = issue_crl(&certificate, &key, &contents(1, vec![compromised("01")])).unwrap();
        let crl = RevocationList::from_der(&der).unwrap();
        // Same name, another key: the key identifiers differ.
        assert!(matches!(
            crl.check_signature(&other),
            Err(CrlError::WrongIssuer { .. })
        ));
        assert!(matches!(
            crl.check_signature(&stranger),
            Err(CrlError::WrongIssuer { .. })
        ));
        // A digit of thisUpdate's month changed: still a CRL, no longer the root's.
        let mut tampered = der.clone();
        let at = tampered.windows(2).position(|w| w == [0x17, 0x0d]).unwrap();
        tampered[at + 5] ^= 0x01;
        let parsed = RevocationList::from_der(&tampered).unwrap();
        assert_eq!(
            parsed.check_signature(&certificate),
            Err(CrlError::BadSignature)
        );
        // A CRL signed by a key that is not the root's cannot be issued in its name.
        let wrong_key = KeyPair::generate().unwrap();
        assert!(issue_crl(&certificate, &wrong_key, &contents(1, vec![])).is_err());
    }

    #[test]
    fn hostile_bytes_are_refused_without_panicking() {
        let (key, certificate) = root("测试机关");
        let der = issue_crl(&certificate, &key, &contents(3, vec![compromised("01")])).unwrap();
        for length in 0..der.len() {
            assert!(
                RevocationList::from_der(&der[..length]).is_err(),
                "{length}"
            );
        }
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(matches!(
            RevocationList::from_der(&trailing),
            Err(CrlError::NotACrl(_))
        ));
        for garbage in [
            &b""[..],
            b"\x30",
            b"\x30\x84\xff\xff\xff\xff",
            b"\x30\x80\x00\x00",
            b"not a crl at all",
            b"-----BEGIN X509 CRL-----\n!!!!\n-----END X509 CRL-----\n",
            b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
        ] {
            assert!(RevocationList::parse_all(garbage).is_err(), "{garbage:?}");
        }
        assert!(matches!(
            RevocationList::from_der(&vec![0x30; MAX_CRL_BYTES + 1]),
            Err(CrlError::TooLarge { .. })
        ));
        // Every single-byte corruption either fails to parse or fails the signature.
        for at in 0..der.len() {
            let mut flipped = der.clone();
            flipped[at] ^= 0x5a;
            if let Ok(crl) = RevocationList::from_der(&flipped) {
                assert!(crl.check_signature(&certificate).is_err(), "byte {at}");
            }
        }
    }

    #[test]
    fn absurd_entry_counts_are_refused() {
        let (key, certificate) = root("测试机关");
        let many: Vec<RevokedCertificateEntry> = (1..=MAX_CRL_ENTRIES as u32 + 1)
            .map(|n| compromised(&format!("{n:x}")))
            .collect();
        assert!(issue_crl(&certificate, &key, &contents(1, many.clone())).is_err());
        // Written by rcgen directly, past our issuing limit: the reader refuses it.
        let issuer = Issuer::from_ca_cert_der(&certificate.as_slice().into(), &key).unwrap();
        let params = CertificateRevocationListParams {
            this_update: NOW,
            next_update: NOW + Duration::days(1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: many
                .iter()
                .map(|entry| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(entry.serial.as_integer_bytes()),
                    revocation_time: NOW,
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let der = params.signed_by(&issuer).unwrap().der().to_vec();
        assert!(matches!(
            RevocationList::from_der(&der),
            Err(CrlError::TooManyEntries { .. })
        ));
    }

    #[test]
    fn serials_and_numbers_compare_as_numbers() {
        let a = CertificateSerial::from_integer_bytes(&[0, 0, 0x7f]).unwrap();
        let b = CertificateSerial::from_integer_bytes(&[0x7f]).unwrap();
        assert_eq!(a, b);
        let c = CertificateSerial::from_integer_bytes(&[0, 0x80]).unwrap();
        assert_eq!(c.as_integer_bytes(), [0, 0x80]);
        assert_eq!(c.to_hex(), "80");
        assert_eq!(CertificateSerial::parse_hex("80").unwrap(), c);
        let negative = CertificateSerial::from_integer_bytes(&[0xff, 0x80]).unwrap();
        assert_ne!(negative, c);
        assert!(CertificateSerial::parse_hex("").is_none());
        assert!(CertificateSerial::parse_hex("00").is_none());
        assert!(CertificateSerial::parse_hex("xyz").is_none());
        assert!(CertificateSerial::parse_hex(&"1".repeat(41)).is_none());
        assert!(CertificateSerial::from_integer_bytes(&[]).is_none());

        assert!(CrlNumber::new(2) > CrlNumber::new(1));
        assert!(CrlNumber::new(256) > CrlNumber::new(255));
        assert_eq!(CrlNumber::new(255).next(), Some(CrlNumber::new(256)));
        assert_eq!(CrlNumber([0xff; 20]).next(), None);
        let fixed = CrlNumber::new(258).to_fixed_hex();
        assert_eq!(fixed.len(), 40);
        assert!(fixed.ends_with("0102"));
        assert_eq!(CrlNumber::from_fixed_hex(&fixed), Some(CrlNumber::new(258)));
        assert!(CrlNumber::from_fixed_hex("12").is_none());
        assert_eq!(CrlNumber::new(u64::MAX).to_string(), u64::MAX.to_string());
        assert!(CrlNumber([0xff; 20]).to_string().starts_with("0x"));
        assert_eq!(CrlNumber::new(0).minimal_bytes(), [0]);
    }
}
