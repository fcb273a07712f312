//! RFC 3161 time-stamp protocol (with RFC 5816's ESSCertIDv2): reading a TimeStampReq,
//! building the TSTInfo, the TimeStampToken (a CMS SignedData) and the TimeStampResp.
//!
//! Pure: the serial, the time and the signature are handed in. The ASN.1 types are defined here
//! with `der`'s derive (x509-tsp is built on cms 0.2 and does not fit cms 0.3).

use const_oid::ObjectIdentifier;
use der::asn1::{BitString, Int, OctetString, Uint};
use der::{Any, Decode, Encode, Sequence, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;

use super::{CmsError, SignatureParts, SignerIdentity, signed_attributes_for};

/// id-ct-TSTInfo (RFC 3161 §2.4.2).
pub const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// The largest TimeStampReq read. Real ones are under 100 bytes (imprint, nonce, policy); an
/// attacker's megabyte is refused before it is parsed.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// Longest nonce echoed (RFC 3161 §2.4.1 suggests 64 bits; clients send 8 to 20 bytes).
pub const MAX_NONCE_BYTES: usize = 64;

/// The hash algorithms a messageImprint may use (RFC 3161 §2.4.1: the TSA checks the length).
/// SHA-1 is refused as too weak to bind a document to a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImprintAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl ImprintAlgorithm {
    /// The algorithm named by `oid` (RFC 5754 §2), if accepted.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match oid.to_string().as_str() {
            "2.16.840.1.101.3.4.2.1" => Some(Self::Sha256),
            "2.16.840.1.101.3.4.2.2" => Some(Self::Sha384),
            "2.16.840.1.101.3.4.2.3" => Some(Self::Sha512),
            _ => None,
        }
    }

    /// The algorithm's OBJECT IDENTIFIER (RFC 5754 §2).
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha256 => ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1"),
            Self::Sha384 => ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2"),
            Self::Sha512 => ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3"),
        }
    }

    /// The digest's length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The name used in the registry and the logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }
}

/// The TSA's policy (RFC 3161 §2.4.1 TSAPolicyId), kept as the OBJECT IDENTIFIER's DER value:
/// a `2.25.<UUID>` OID (ITU-T X.667) has a 128-bit arc, wider than `const-oid` holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyId(Vec<u8>);

impl PolicyId {
    /// oneseal's TSA policy, 2.25.76300465929542345528438199442665156440 (UUID
    /// 3966ef69-f390-4169-ad3e-195b92b4af58, ITU-T X.667 §6.3), described in docs/tsa.md.
    pub fn oneseal() -> Self {
        Self(ONESEAL_POLICY_VALUE.to_vec())
    }

    /// A policy OID whose arcs fit 32 bits (e.g. one under the bureau's IANA enterprise number).
    pub fn from_oid(oid: &ObjectIdentifier) -> Self {
        Self(oid.as_bytes().to_vec())
    }
}

/// The DER value (no tag, no length) of 2.25.76300465929542345528438199442665156440, as
/// `openssl asn1parse -genstr OID:2.25.76300465929542345528438199442665156440` encodes it.
const ONESEAL_POLICY_VALUE: [u8; 19] = [
    0x69, 0xf2, 0xe6, 0xf7, 0xda, 0xbe, 0xb9, 0x82, 0x85, 0xd3, 0xad, 0x9f, 0x86, 0xab, 0xb9, 0x95,
    0xd2, 0xde, 0x58,
];

/// Why a request is refused: the PKIFailureInfo bit it is answered with (RFC 3161 §2.4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureInfo {
    /// Unrecognized or unsupported hash algorithm.
    BadAlg = 0,
    /// Transaction not permitted or supported (a version other than 1, an oversized nonce).
    BadRequest = 2,
    /// The data submitted has the wrong format (not DER, wrong digest length, trailing bytes).
    BadDataFormat = 5,
    /// The requested TSA policy is not supported by the TSA.
    UnacceptedPolicy = 15,
    /// The requested extension is not supported by the TSA.
    UnacceptedExtension = 16,
    /// The request cannot be handled due to system failure.
    SystemFailure = 25,
}

impl FailureInfo {
    /// The bit's name in RFC 3161, for logs and the registry.
    pub fn name(self) -> &'static str {
        match self {
            Self::BadAlg => "badAlg",
            Self::BadRequest => "badRequest",
            Self::BadDataFormat => "badDataFormat",
            Self::UnacceptedPolicy => "unacceptedPolicy",
            Self::UnacceptedExtension => "unacceptedExtension",
            Self::SystemFailure => "systemFailure",
        }
    }
}

/// A refused request: the failure bit and a line for the statusString.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason} ({})", failure.name())]
pub struct Refusal {
    pub failure: FailureInfo,
    pub reason: String,
}

fn refuse(failure: FailureInfo, reason: impl Into<String>) -> Refusal {
    Refusal {
        failure,
        reason: reason.into(),
    }
}

/// A TimeStampReq that passed every check: what the token will attest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeStampRequest {
    pub algorithm: ImprintAlgorithm,
    imprint: MessageImprint,
    nonce: Option<Int>,
    /// certReq: whether the token carries the TSA's certificates.
    pub certificates_requested: bool,
}

impl TimeStampRequest {
    /// The hashed message, as sent.
    pub fn hashed_message(&self) -> &[u8] {
        self.imprint.hashed_message.as_bytes()
    }

    /// Whether the request carries a nonce (echoed in the token).
    pub fn has_nonce(&self) -> bool {
        self.nonce.is_some()
    }
}

/// Reads a DER TimeStampReq (RFC 3161 §2.4.1) for a TSA with `policy`. Anything but one
/// well-formed DER request of version 1, a known hash of the right length, our policy or none,
/// and no extensions is refused with the failure bit to answer with.
pub fn parse_request(bytes: &[u8], policy: &PolicyId) -> Result<TimeStampRequest, Refusal> {
    if bytes.len() > MAX_REQUEST_BYTES {
        return Err(refuse(
            FailureInfo::BadDataFormat,
            format!("the request is over {MAX_REQUEST_BYTES} bytes"),
        ));
    }
    let request = TimeStampReq::from_der(bytes).map_err(|error| {
        refuse(
            FailureInfo::BadDataFormat,
            format!("not a DER TimeStampReq: {error}"),
        )
    })?;
    if request.version != 1 {
        return Err(refuse(
            FailureInfo::BadRequest,
            format!("version {} is not v1", request.version),
        ));
    }
    if request.extensions.is_some() {
        // §2.4.1: no extension is defined that we support; refused rather than ignored.
        return Err(refuse(
            FailureInfo::UnacceptedExtension,
            "request extensions are not supported",
        ));
    }
    if request
        .req_policy
        .as_ref()
        .is_some_and(|asked| asked != policy)
    {
        return Err(refuse(
            FailureInfo::UnacceptedPolicy,
            "this TSA issues tokens under its own policy only (see its policy document)",
        ));
    }
    let algorithm = check_imprint(&request.message_imprint)?;
    if let Some(nonce) = &request.nonce
        && nonce.as_bytes().len() > MAX_NONCE_BYTES
    {
        return Err(refuse(
            FailureInfo::BadRequest,
            format!("the nonce is over {MAX_NONCE_BYTES} bytes"),
        ));
    }
    Ok(TimeStampRequest {
        algorithm,
        imprint: request.message_imprint,
        nonce: request.nonce,
        certificates_requested: request.cert_req,
    })
}

/// RFC 3161 §2.4.1: a hash algorithm we know, parameters absent or NULL (RFC 5754 §2), and a
/// hashedMessage of that algorithm's length.
fn check_imprint(imprint: &MessageImprint) -> Result<ImprintAlgorithm, Refusal> {
    let identifier = &imprint.hash_algorithm;
    let algorithm = ImprintAlgorithm::from_oid(&identifier.oid).ok_or_else(|| {
        refuse(
            FailureInfo::BadAlg,
            format!(
                "hash algorithm {} is not accepted (use SHA-256, SHA-384 or SHA-512)",
                identifier.oid
            ),
        )
    })?;
    if identifier.parameters.as_ref().is_some_and(|parameters| {
        parameters.tag() != der::Tag::Null || !parameters.value().is_empty()
    }) {
        return Err(refuse(
            FailureInfo::BadAlg,
            "the hash algorithm's parameters must be absent or NULL",
        ));
    }
    let length = imprint.hashed_message.as_bytes().len();
    if length != algorithm.digest_len() {
        return Err(refuse(
            FailureInfo::BadDataFormat,
            format!(
                "the hashed message is {length} bytes, not the {} of {}",
                algorithm.digest_len(),
                algorithm.name()
            ),
        ));
    }
    Ok(algorithm)
}

/// Builds a client's DER TimeStampReq v1 (RFC 3161 §2.4.1) for `digest`, made with
/// `algorithm`. The nonce's bytes are the caller's (fresh random, 8 to 64 bytes) and are read as
/// an unsigned big-endian INTEGER, so a high first bit never makes it negative. `certificates`
/// sets certReq; `policy` sets reqPolicy. No extensions.
pub fn build_request(
    algorithm: ImprintAlgorithm,
    digest: &[u8],
    nonce: Option<&[u8]>,
    certificates: bool,
    policy: Option<&PolicyId>,
) -> Result<Vec<u8>, RequestError> {
    if digest.len() != algorithm.digest_len() {
        return Err(RequestError::DigestLength {
            length: digest.len(),
            algorithm: algorithm.name(),
            expected: algorithm.digest_len(),
        });
    }
    let nonce = nonce.map(nonce_integer).transpose()?;
    let request = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            // RFC 5754 §2: SHA-2 parameters absent.
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: algorithm.oid(),
                parameters: None,
            },
            hashed_message: OctetString::new(digest)?,
        },
        req_policy: policy.cloned(),
        nonce,
        cert_req: certificates,
        extensions: None,
    };
    Ok(request.to_der()?)
}

/// The nonce INTEGER for `bytes` as `build_request` writes it, for comparing with the echo
/// in the TSTInfo (RFC 3161 §2.4.2: "MUST be present and equal").
pub fn nonce_integer(bytes: &[u8]) -> Result<Int, RequestError> {
    if bytes.is_empty() || bytes.len() > MAX_NONCE_BYTES {
        return Err(RequestError::NonceLength(bytes.len()));
    }
    Ok(Int::from(Uint::new(bytes)?))
}

/// Why a TimeStampReq could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The digest does not have its algorithm's length.
    #[error("the digest is {length} bytes, not the {expected} of {algorithm}")]
    DigestLength {
        length: usize,
        algorithm: &'static str,
        expected: usize,
    },
    /// The nonce is empty or longer than a TSA accepts.
    #[error("the nonce is {0} bytes; use 8 to {MAX_NONCE_BYTES} random bytes")]
    NonceLength(usize),
    /// DER encoding failed.
    #[error("cannot encode the TimeStampReq: {0}")]
    Encoding(#[from] der::Error),
}

/// What the client side reads from a TimeStampResp (RFC 3161 §2.4.2).
#[derive(Clone, Debug)]
pub struct ResponseParts {
    /// PKIStatus: 0 granted, 1 grantedWithMods, 2 rejection, 3 waiting, 4 revocationWarning,
    /// 5 revocationNotification (RFC 4210 §5.2.3).
    pub status: u8,
    /// statusString, its lines joined with "; ".
    pub status_text: Option<String>,
    /// The names of the failInfo bits set (RFC 3161 §2.4.2 PKIFailureInfo).
    pub failures: Vec<String>,
    /// The TimeStampToken's DER, when present.
    pub token: Option<Vec<u8>>,
}

/// Reads a DER TimeStampResp (RFC 3161 §2.4.2): strict DER, nothing after it.
pub fn parse_response(bytes: &[u8]) -> Result<ResponseParts, der::Error> {
    let response = TimeStampResp::from_der(bytes)?;
    let token = response
        .time_stamp_token
        .map(|token| token.to_der())
        .transpose()?;
    let status = response.status;
    Ok(ResponseParts {
        status: status.status,
        status_text: status.status_string.map(|lines| lines.join("; ")),
        failures: status
            .fail_info
            .map(|bits| failure_names(&bits))
            .unwrap_or_default(),
        token,
    })
}

/// The names of the PKIFailureInfo bits set in `bits` (RFC 3161 §2.4.2; others by number).
fn failure_names(bits: &BitString) -> Vec<String> {
    const NAMES: [(usize, &str); 8] = [
        (0, "badAlg"),
        (2, "badRequest"),
        (5, "badDataFormat"),
        (14, "timeNotAvailable"),
        (15, "unacceptedPolicy"),
        (16, "unacceptedExtension"),
        (17, "addInfoNotAvailable"),
        (25, "systemFailure"),
    ];
    bits.bits()
        .enumerate()
        .filter(|(_, set)| *set)
        .map(|(index, _)| {
            NAMES
                .iter()
                .find(|(bit, _)| *bit == index)
                .map_or_else(|| format!("bit {index}"), |(_, name)| (*name).to_string())
        })
        .collect()
}

/// A TSTInfo as a client reads it (RFC 3161 §2.4.2).
#[derive(Clone, Debug)]
pub struct TstInfoParts {
    pub version: u8,
    pub policy: PolicyId,
    pub hash_algorithm: AlgorithmIdentifierOwned,
    pub hashed_message: Vec<u8>,
    /// serialNumber, big-endian two's complement as written (up to 160 bits, §2.4.2).
    pub serial: Vec<u8>,
    /// genTime as written, `YYYYMMDDhhmmss[.s...]Z`.
    pub gen_time: String,
    pub nonce: Option<Int>,
}

/// Reads a DER TSTInfo (RFC 3161 §2.4.2), accuracy, ordering, tsa and extensions included.
pub fn parse_tst_info_full(bytes: &[u8]) -> Result<TstInfoParts, der::Error> {
    let info = TstInfo::from_der(bytes)?;
    Ok(TstInfoParts {
        version: info.version,
        policy: info.policy,
        hash_algorithm: info.message_imprint.hash_algorithm,
        hashed_message: info.message_imprint.hashed_message.as_bytes().to_vec(),
        serial: info.serial_number.as_bytes().to_vec(),
        gen_time: info.gen_time.0,
        nonce: info.nonce,
    })
}

/// What the TSA adds to a request: its policy, the serial and time it allocated, and the
/// accuracy it claims for its clock.
#[derive(Clone, Debug)]
pub struct Stamp<'a> {
    pub policy: &'a PolicyId,
    /// Unique and increasing across the TSA's life (RFC 3161 §2.4.2 serialNumber).
    pub serial: u64,
    /// genTime in Unix milliseconds (UTC).
    pub time_ms: i64,
    /// The claimed accuracy of genTime in milliseconds (RFC 3161 §2.4.2 Accuracy); 0 omits it.
    pub accuracy_ms: u32,
}

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum StampError<E> {
    #[error(transparent)]
    Cms(#[from] CmsError),
    #[error("the time {0} ms cannot be written as a GeneralizedTime")]
    Time(i64),
    #[error("signing the token failed: {0}")]
    Signing(E),
}

/// The TimeStampToken (RFC 3161 §2.4.2): a SignedData whose eContent is the TSTInfo, signed
/// over contentType (id-ct-TSTInfo), messageDigest and signingCertificateV2 (RFC 5816 §2.2.1)
/// by `sign` (given the signed attributes' DER, returns the signature value).
pub fn timestamp_token<E>(
    identity: &SignerIdentity,
    request: &TimeStampRequest,
    stamp: &Stamp<'_>,
    signature_algorithm: ObjectIdentifier,
    sha256: impl Fn(&[u8]) -> [u8; 32],
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>,
) -> Result<Vec<u8>, StampError<E>> {
    let tst_info = tst_info_der(identity, request, stamp)?;
    let attributes = signed_attributes_for(identity, ID_CT_TST_INFO, &sha256(&tst_info))?;
    let to_sign = super::signed_attributes_der(&attributes)?;
    let signature = sign(&to_sign).map_err(StampError::Signing)?;
    let content = cms::signed_data::EncapsulatedContentInfo {
        econtent_type: ID_CT_TST_INFO,
        econtent: Some(
            Any::encode_from(&OctetString::new(tst_info).map_err(CmsError::from)?)
                .map_err(CmsError::from)?,
        ),
    };
    let parts = SignatureParts {
        attributes,
        algorithm: signature_algorithm,
        value: &signature,
        unsigned: None,
    };
    Ok(super::encapsulating_signed_data(
        identity,
        content,
        request.certificates_requested,
        parts,
    )?)
}

/// TSTInfo (RFC 3161 §2.4.2): version 1, the policy, the request's imprint copied, the serial,
/// genTime with milliseconds, the accuracy, ordering false (omitted, the default), the nonce
/// echoed and the TSA's name (its certificate's subject).
fn tst_info_der<E>(
    identity: &SignerIdentity,
    request: &TimeStampRequest,
    stamp: &Stamp<'_>,
) -> Result<Vec<u8>, StampError<E>> {
    let accuracy = (stamp.accuracy_ms > 0).then(|| Accuracy {
        seconds: Some(stamp.accuracy_ms / 1000).filter(|s| *s > 0),
        millis: Some(stamp.accuracy_ms % 1000).filter(|m| *m > 0),
        micros: None,
    });
    let tsa = identity.certificate().map(|certificate| {
        GeneralName::DirectoryName(certificate.tbs_certificate().subject().clone())
    });
    let info = TstInfo {
        version: 1,
        policy: stamp.policy.clone(),
        message_imprint: request.imprint.clone(),
        serial_number: Int::from(Uint::new(&stamp.serial.to_be_bytes()).map_err(CmsError::from)?),
        gen_time: GenTime::from_unix_ms(stamp.time_ms).ok_or(StampError::Time(stamp.time_ms))?,
        accuracy,
        ordering: false,
        nonce: request.nonce.clone(),
        tsa,
        extensions: None,
    };
    Ok(info.to_der().map_err(CmsError::from)?)
}

/// A TimeStampResp granting `token` (RFC 3161 §2.4.2, PKIStatus granted = 0).
pub fn granted_response(token: &[u8]) -> Result<Vec<u8>, CmsError> {
    let response = TimeStampResp {
        status: PkiStatusInfo {
            status: 0,
            status_string: None,
            fail_info: None,
        },
        time_stamp_token: Some(Any::from_der(token)?),
    };
    Ok(response.to_der()?)
}

/// A TimeStampResp refusing a request (PKIStatus rejection = 2) with its failure bit and the
/// reason as statusString.
pub fn rejection_response(refusal: &Refusal) -> Result<Vec<u8>, CmsError> {
    let response = TimeStampResp {
        status: PkiStatusInfo {
            status: 2,
            status_string: Some(vec![refusal.reason.chars().take(200).collect()]),
            fail_info: Some(failure_bits(refusal.failure)?),
        },
        time_stamp_token: None,
    };
    Ok(response.to_der()?)
}

/// A named BIT STRING with one bit set, in DER's minimal form (X.690 §11.2.2: trailing zero
/// bits removed).
fn failure_bits(failure: FailureInfo) -> Result<BitString, CmsError> {
    let bit = failure as usize;
    let mut bytes = vec![0u8; bit / 8 + 1];
    if let Some(byte) = bytes.last_mut() {
        *byte = 0x80 >> (bit % 8);
    }
    let unused = u8::try_from(7 - bit % 8).unwrap_or(0);
    Ok(BitString::new(unused, bytes)?)
}

/// TimeStampReq (RFC 3161 §2.4.1).
#[derive(Clone, Debug, Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    req_policy: Option<PolicyId>,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(default = "Default::default")]
    cert_req: bool,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<Vec<Extension>>,
}

/// MessageImprint (RFC 3161 §2.4.1).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct MessageImprint {
    pub(crate) hash_algorithm: AlgorithmIdentifierOwned,
    pub(crate) hashed_message: OctetString,
}

/// TSTInfo (RFC 3161 §2.4.2). We write no extensions and leave ordering at its default
/// (omitted in DER); a client reads both from other TSAs.
#[derive(Clone, Debug, Sequence)]
struct TstInfo {
    version: u8,
    policy: PolicyId,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: GenTime,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<Vec<Extension>>,
}

/// Accuracy (RFC 3161 §2.4.2); we never claim micros, other TSAs may.
#[derive(Clone, Debug, Sequence)]
struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<u32>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<u32>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<u32>,
}

/// PKIStatusInfo (RFC 3161 §2.4.2, from RFC 4210 §5.2.3).
#[derive(Clone, Debug, Sequence)]
struct PkiStatusInfo {
    status: u8,
    #[asn1(optional = "true")]
    status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    fail_info: Option<BitString>,
}

/// TimeStampResp (RFC 3161 §2.4.2).
#[derive(Clone, Debug, Sequence)]
struct TimeStampResp {
    status: PkiStatusInfo,
    #[asn1(optional = "true")]
    time_stamp_token: Option<Any>,
}

/// genTime: a GeneralizedTime with fractional seconds, which `der::asn1::GeneralizedTime`
/// does not write. RFC 3161 §2.4.2: "YYYYMMDDhhmmss[.s...]Z", the fraction without trailing
/// zeros and left out when zero.
#[derive(Clone, Debug, PartialEq, Eq)]
struct GenTime(String);

impl GenTime {
    fn from_unix_ms(ms: i64) -> Option<Self> {
        let time =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms).checked_mul(1_000_000)?)
                .ok()?;
        let year = time.year();
        if !(0..=9999).contains(&year) {
            return None;
        }
        let mut text = format!(
            "{year:04}{:02}{:02}{:02}{:02}{:02}",
            u8::from(time.month()),
            time.day(),
            time.hour(),
            time.minute(),
            time.second()
        );
        let millis = time.millisecond();
        if millis > 0 {
            let fraction = format!("{millis:03}");
            text.push('.');
            text.push_str(fraction.trim_end_matches('0'));
        }
        text.push('Z');
        Some(Self(text))
    }
}

impl der::FixedTag for GenTime {
    const TAG: der::Tag = der::Tag::GeneralizedTime;
}

impl der::EncodeValue for GenTime {
    fn value_len(&self) -> der::Result<der::Length> {
        der::Length::try_from(self.0.len())
    }

    fn encode_value(&self, writer: &mut impl der::Writer) -> der::Result<()> {
        writer.write(self.0.as_bytes())
    }
}

impl<'a> der::DecodeValue<'a> for GenTime {
    type Error = der::Error;

    fn decode_value<R: der::Reader<'a>>(reader: &mut R, header: der::Header) -> der::Result<Self> {
        let bytes = reader.read_vec(header.length())?;
        String::from_utf8(bytes)
            .map(Self)
            .map_err(|_| der::Tag::GeneralizedTime.value_error().into())
    }
}

impl der::FixedTag for PolicyId {
    const TAG: der::Tag = der::Tag::ObjectIdentifier;
}

impl der::EncodeValue for PolicyId {
    fn value_len(&self) -> der::Result<der::Length> {
        der::Length::try_from(self.0.len())
    }

    fn encode_value(&self, writer: &mut impl der::Writer) -> der::Result<()> {
        writer.write(&self.0)
    }
}

impl<'a> der::DecodeValue<'a> for PolicyId {
    type Error = der::Error;

    /// Only compared with our own policy, byte for byte; its framing is checked (X.690 §8.19:
    /// non-empty, the last octet ends a subidentifier).
    fn decode_value<R: der::Reader<'a>>(reader: &mut R, header: der::Header) -> der::Result<Self> {
        let bytes = reader.read_vec(header.length())?;
        match bytes.last() {
            Some(last) if last & 0x80 == 0 && bytes.len() <= 128 => Ok(Self(bytes)),
            _ => Err(der::Tag::ObjectIdentifier.value_error().into()),
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    const SHA256: &str = "2.16.840.1.101.3.4.2.1";

    fn request_der(
        oid: &str,
        digest: &[u8],
        policy: Option<PolicyId>,
        nonce: Option<&[u8]>,
        cert_req: bool,
        extensions: Option<Vec<Extension>>,
    ) -> Vec<u8> {
        TimeStampReq {
            version: 1,
            message_imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: oid.parse().unwrap(),
                    parameters: None,
                },
                hashed_message: OctetString::new(digest.to_vec()).unwrap(),
            },
            req_policy: policy,
            nonce: nonce.map(|bytes| Int::new(bytes).unwrap()),
            cert_req,
            extensions,
        }
        .to_der()
        .unwrap()
    }

    fn failure(bytes: &[u8]) -> FailureInfo {
        parse_request(bytes, &PolicyId::oneseal())
            .unwrap_err()
            .failure
    }

    #[test]
    fn a_good_request_is_read() {
        let der = request_der(
            SHA256,
            &[7; 32],
            Some(PolicyId::oneseal()),
            Some(&[1, 2, 3]),
            true,
            None,
        );
        let request = parse_request(&der, &PolicyId::oneseal()).unwrap();
        assert_eq!(request.algorithm, ImprintAlgorithm::Sha256);
        assert_eq!(request.hashed_message(), [7; 32]);
        assert!(request.has_nonce() && request.certificates_requested);
        let der = request_der("2.16.840.1.101.3.4.2.3", &[1; 64], None, None, false, None);
        let request = parse_request(&der, &PolicyId::oneseal()).unwrap();
        assert_eq!(request.algorithm, ImprintAlgorithm::Sha512);
        assert!(!request.has_nonce() && !request.certificates_requested);
    }

    #[test]
    fn the_policy_constant_is_the_documented_oid() {
        // 06 13 <value>: what openssl asn1parse -genstr OID:2.25.7630…6440 writes.
        let der = PolicyId::oneseal().to_der().unwrap();
        assert_eq!(der[..2], [0x06, 19]);
        let mut arcs = Vec::new();
        let mut value: u128 = 0;
        for byte in &der[2..] {
            value = (value << 7) | u128::from(byte & 0x7f);
            if byte & 0x80 == 0 {
                arcs.push(value);
                value = 0;
            }
        }
        assert_eq!(arcs[0], 2 * 40 + 25);
        assert_eq!(arcs[1], 76300465929542345528438199442665156440);
        assert_eq!(
            format!("{:032x}", arcs[1]),
            "3966ef69f3904169ad3e195b92b4af58"
        );
    }

    #[test]
    fn bad_requests_get_the_right_failure_bit() {
        assert_eq!(failure(b""), FailureInfo::BadDataFormat);
        assert_eq!(failure(b"\x30\x80\x00\x00"), FailureInfo::BadDataFormat);
        assert_eq!(failure(&[0x30; 20_000]), FailureInfo::BadDataFormat);
        let wrong_length = request_der(SHA256, &[7; 20], None, None, false, None);
        assert_eq!(failure(&wrong_length), FailureInfo::BadDataFormat);
        let sha1 = request_der("1.3.14.3.2.26", &[7; 20], None, None, false, None);
        assert_eq!(failure(&sha1), FailureInfo::BadAlg);
        let other_policy = request_der(
            SHA256,
            &[7; 32],
            Some(PolicyId::from_oid(&"1.2.3.4".parse().unwrap())),
            None,
            false,
            None,
        );
        assert_eq!(failure(&other_policy), FailureInfo::UnacceptedPolicy);
        let extension = Extension {
            extn_id: "1.2.3.4".parse().unwrap(),
            critical: false,
            extn_value: OctetString::new(vec![5, 0]).unwrap(),
        };
        let with_extension =
            request_der(SHA256, &[7; 32], None, None, false, Some(vec![extension]));
        assert_eq!(failure(&with_extension), FailureInfo::UnacceptedExtension);
        let long_nonce = request_der(SHA256, &[7; 32], None, Some(&[1; 65]), false, None);
        assert_eq!(failure(&long_nonce), FailureInfo::BadRequest);
        let mut trailing = request_der(SHA256, &[7; 32], None, None, false, None);
        trailing.push(0);
        assert_eq!(failure(&trailing), FailureInfo::BadDataFormat);
        let mut version_two = request_der(SHA256, &[7; 32], None, None, false, None);
        version_two[4] = 2; // 30 len 02 01 <version>
        assert_eq!(failure(&version_two), FailureInfo::BadRequest);
    }

    #[test]
    fn hostile_bytes_never_panic() {
        let good = request_der(
            SHA256,
            &[7; 32],
            Some(PolicyId::oneseal()),
            Some(&[9; 8]),
            true,
            None,
        );
        for cut in 0..good.len() {
            let _ = parse_request(&good[..cut], &PolicyId::oneseal());
        }
        for index in 0..good.len() {
            for value in [0x00, 0x80, 0xff, 0x7f] {
                let mut bytes = good.clone();
                bytes[index] = value;
                let _ = parse_request(&bytes, &PolicyId::oneseal());
            }
        }
    }

    #[test]
    fn gen_time_drops_trailing_zeros() {
        assert_eq!(GenTime::from_unix_ms(0).unwrap().0, "19700101000000Z");
        assert_eq!(GenTime::from_unix_ms(1_500).unwrap().0, "19700101000001.5Z");
        assert_eq!(
            GenTime::from_unix_ms(1_020).unwrap().0,
            "19700101000001.02Z"
        );
        assert_eq!(
            GenTime::from_unix_ms(1_007).unwrap().0,
            "19700101000001.007Z"
        );
        assert!(GenTime::from_unix_ms(i64::MAX).is_none());
    }

    #[test]
    fn failure_bits_are_minimal() {
        let bits = failure_bits(FailureInfo::BadAlg).unwrap().to_der().unwrap();
        assert_eq!(bits, [0x03, 0x02, 0x07, 0x80]);
        let bits = failure_bits(FailureInfo::SystemFailure)
            .unwrap()
            .to_der()
            .unwrap();
        assert_eq!(bits, [0x03, 0x05, 0x06, 0, 0, 0, 0x40]);
        let bits = failure_bits(FailureInfo::UnacceptedExtension)
            .unwrap()
            .to_der()
            .unwrap();
        assert_eq!(bits, [0x03, 0x04, 0x07, 0, 0, 0x80]);
    }
}
