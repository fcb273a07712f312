//! CMS SignedData for PAdES (RFC 5652 §5, ETSI EN 319 122-1 baseline B-B), built from typed DER.
//!
//! Pure: the digest and the signature are handed in; nothing here holds a key.

pub mod tsp;

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier, SignerInfo,
    SignerInfos,
};
use const_oid::ObjectIdentifier;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

/// id-data (RFC 5652 §4).
pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
/// id-signedData (RFC 5652 §5.1).
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// id-contentType (RFC 5652 §11.1).
pub const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// id-messageDigest (RFC 5652 §11.2).
pub const ID_MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// id-signingTime (RFC 5652 §11.3): PAdES baseline forbids it; listed so checks can name it.
pub const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
/// id-aa-signingCertificateV2 (RFC 5035 §3).
pub const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// id-aa-signatureTimeStampToken (RFC 3161 Appendix A): the unsigned attribute carrying a
/// timestamp over the signature value (ETSI EN 319 122-1 §5.3, PAdES B-T).
pub const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// id-sha256 (RFC 5754 §2.2).
pub const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
/// ecdsa-with-SHA256 (RFC 5758 §3.2); its parameters are absent.
pub const ID_ECDSA_WITH_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// Why CMS could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CmsError {
    /// The signer gave no certificate.
    #[error("the signer has no certificate")]
    NoCertificate,
    /// A certificate in the chain is not valid DER X.509.
    #[error("certificate {index} of the chain cannot be parsed: {reason}")]
    BadCertificate { index: usize, reason: String },
    /// DER encoding failed (a length overflow or similar).
    #[error("cannot encode CMS: {0}")]
    Encoding(String),
}

impl From<der::Error> for CmsError {
    fn from(error: der::Error) -> Self {
        Self::Encoding(error.to_string())
    }
}

/// ESS SigningCertificateV2 (RFC 5035 §3): binds the signature to the signer's certificate.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
}

/// ESSCertIDv2 (RFC 5035 §4); the SHA-256 default algorithm is omitted, as DER requires.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// IssuerSerial (RFC 5035 §4).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    pub issuer: Vec<GeneralName>,
    pub serial_number: SerialNumber,
}

/// The signer's certificates, parsed once and reused for every signature.
#[derive(Clone, Debug)]
pub struct SignerIdentity {
    signer: Certificate,
    /// The chain as one DER SET OF, encoded once: re-encoding parsed certificates for every
    /// signature cost a quarter of a one-page signing.
    certificate_set: RawSet,
    issuer_and_serial: IssuerAndSerialNumber,
    signing_certificate: Attribute,
}

impl SignerIdentity {
    /// Reads the chain (signer certificate first) and prepares signingCertificateV2.
    pub fn from_chain(
        chain: &[Vec<u8>],
        sha256: impl Fn(&[u8]) -> [u8; 32],
    ) -> Result<Self, CmsError> {
        let signer_der = chain.first().ok_or(CmsError::NoCertificate)?;
        let signer = Certificate::from_der(signer_der).map_err(|e| CmsError::BadCertificate {
            index: 0,
            reason: e.to_string(),
        })?;
        for (index, der) in chain.iter().enumerate().skip(1) {
            // Only the framing is checked: these are carried, not read.
            der::asn1::AnyRef::from_der(der).map_err(|e| CmsError::BadCertificate {
                index,
                reason: e.to_string(),
            })?;
        }
        let certificate_set = RawSet::of(chain);
        let tbs = signer.tbs_certificate();
        let issuer_and_serial = IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        };
        let cert_id = EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(sha256(signer_der).to_vec())?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                serial_number: tbs.serial_number().clone(),
            }),
        };
        let value = SigningCertificateV2 {
            certs: vec![cert_id],
        };
        let signing_certificate = attribute(ID_SIGNING_CERTIFICATE_V2, Any::encode_from(&value)?)?;
        Ok(Self {
            signer,
            certificate_set,
            issuer_and_serial,
            signing_certificate,
        })
    }

    /// The signer's certificate.
    pub fn certificate(&self) -> Option<&Certificate> {
        Some(&self.signer)
    }

    /// The signer's common name (X.520 CN), for `/Name` and the visible appearance.
    pub fn common_name(&self) -> Option<String> {
        let subject = self.certificate()?.tbs_certificate().subject();
        subject.common_name().ok().flatten().map(String::from)
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, CmsError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// The signed attributes of a PAdES B-B signature (ETSI EN 319 122-1 §5.2): content-type,
/// message-digest and signing-certificate-v2, and no signing-time (the time is the PDF's `/M`).
pub fn signed_attributes(
    identity: &SignerIdentity,
    content_digest: &[u8; 32],
) -> Result<SignedAttributes, CmsError> {
    signed_attributes_for(identity, ID_DATA, content_digest)
}

/// The same three signed attributes for encapsulated content of `content_type` (RFC 5652
/// §11.1: the content-type attribute names the eContentType), e.g. id-ct-TSTInfo for a
/// timestamp token (RFC 3161 §2.4.2, RFC 5816 §2.2.1).
pub fn signed_attributes_for(
    identity: &SignerIdentity,
    content_type: ObjectIdentifier,
    content_digest: &[u8; 32],
) -> Result<SignedAttributes, CmsError> {
    let content_type = attribute(ID_CONTENT_TYPE, Any::encode_from(&content_type)?)?;
    let digest = attribute(
        ID_MESSAGE_DIGEST,
        Any::encode_from(&OctetString::new(content_digest.to_vec())?)?,
    )?;
    // SetOfVec sorts into DER order (X.690 §11.6).
    Ok(SetOfVec::try_from(vec![
        content_type,
        digest,
        identity.signing_certificate.clone(),
    ])?)
}

/// The bytes the signature covers: the attributes' DER with the SET OF tag (RFC 5652 §5.4).
pub fn signed_attributes_der(attributes: &SignedAttributes) -> Result<Vec<u8>, CmsError> {
    Ok(attributes.to_der()?)
}

/// A detached SignedData in a ContentInfo (RFC 5652 §3, §5.1), DER-encoded.
pub fn signed_data(
    identity: &SignerIdentity,
    attributes: SignedAttributes,
    signature_algorithm: ObjectIdentifier,
    signature: &[u8],
) -> Result<Vec<u8>, CmsError> {
    signed_data_with_timestamp(identity, attributes, signature_algorithm, signature, None)
}

/// The same SignedData with, when given, a TimeStampToken (DER ContentInfo) over the signature
/// value as the unsigned attribute id-aa-signatureTimeStampToken (ETSI EN 319 122-1 §5.3).
pub fn signed_data_with_timestamp(
    identity: &SignerIdentity,
    attributes: SignedAttributes,
    signature_algorithm: ObjectIdentifier,
    signature: &[u8],
    timestamp_token: Option<&[u8]>,
) -> Result<Vec<u8>, CmsError> {
    let unsigned = timestamp_token
        .map(|token| {
            let token = Any::from_der(token)?;
            attribute(ID_AA_SIGNATURE_TIME_STAMP_TOKEN, token)
                .and_then(|attribute| Ok(SetOfVec::try_from(vec![attribute])?))
        })
        .transpose()?;
    let detached = EncapsulatedContentInfo {
        econtent_type: ID_DATA,
        econtent: None,
    };
    let signature = SignatureParts {
        attributes,
        algorithm: signature_algorithm,
        value: signature,
        unsigned,
    };
    encapsulating_signed_data(identity, detached, true, signature)
}

/// A SignerInfo's signed attributes with the signature made over them.
pub struct SignatureParts<'a> {
    pub attributes: SignedAttributes,
    pub algorithm: ObjectIdentifier,
    pub value: &'a [u8],
    /// Unsigned attributes (RFC 5652 §5.3), e.g. a signature timestamp.
    pub unsigned: Option<cms::signed_data::UnsignedAttributes>,
}

/// A SignedData in a ContentInfo carrying `content` (detached when its eContent is absent),
/// with the signer's chain in `certificates` when `with_certificates` (RFC 3161 §2.4.1: a
/// timestamp token carries the TSA's certificate only when the request asked, certReq).
pub fn encapsulating_signed_data(
    identity: &SignerIdentity,
    content: EncapsulatedContentInfo,
    with_certificates: bool,
    signature: SignatureParts<'_>,
) -> Result<Vec<u8>, CmsError> {
    let SignatureParts {
        attributes,
        algorithm: signature_algorithm,
        value: signature,
        unsigned,
    } = signature;
    // RFC 5652 §5.1: version 3 when the eContentType is not id-data, else 1.
    let version = if content.econtent_type == ID_DATA {
        CmsVersion::V1
    } else {
        CmsVersion::V3
    };
    let sha256 = AlgorithmIdentifierOwned {
        oid: ID_SHA256,
        parameters: None,
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(identity.issuer_and_serial.clone()),
        digest_alg: sha256.clone(),
        signed_attrs: Some(attributes),
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: signature_algorithm,
            parameters: None,
        },
        signature: OctetString::new(signature.to_vec())?,
        unsigned_attrs: unsigned,
    };
    let signed = SignedDataOut {
        version,
        digest_algorithms: SetOfVec::try_from(vec![sha256])?,
        encap_content_info: content,
        certificates: with_certificates.then(|| identity.certificate_set.clone()),
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    let info = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed)?,
    };
    Ok(info.to_der()?)
}

/// Reads the SignedData in a PDF's `/Contents`: a ContentInfo followed only by zero padding.
/// DER first; BER (indefinite lengths, as NSS writes) when DER fails.
pub fn parse_signed_data(contents: &[u8]) -> Result<SignedData, CmsError> {
    decode_signed_data(contents, der::EncodingRules::Der).or_else(|der_error| {
        decode_signed_data(contents, der::EncodingRules::Ber).map_err(|_| der_error)
    })
}

fn decode_signed_data(contents: &[u8], rules: der::EncodingRules) -> Result<SignedData, CmsError> {
    let mut reader = der::SliceReader::new_with_encoding_rules(contents, rules)?;
    let info = ContentInfo::decode(&mut reader)?;
    let consumed = usize::try_from(u32::from(der::Reader::position(&reader))).unwrap_or(usize::MAX);
    let rest = contents.get(consumed..).unwrap_or_default();
    if rest.iter().any(|&b| b != 0) {
        return Err(CmsError::Encoding(
            "bytes other than zero padding follow the CMS".into(),
        ));
    }
    if info.content_type != ID_SIGNED_DATA {
        return Err(CmsError::Encoding(format!(
            "the CMS content type is {}, not signedData",
            info.content_type
        )));
    }
    Ok(info.content.decode_as_encoding::<SignedData>(rules)?)
}

/// SignedData (RFC 5652 §5.1) as we write it: the same fields as `cms`'s type, with the
/// certificate set carried as pre-encoded DER.
#[derive(Clone, Debug, Sequence)]
struct SignedDataOut {
    version: CmsVersion,
    digest_algorithms: SetOfVec<AlgorithmIdentifierOwned>,
    encap_content_info: EncapsulatedContentInfo,
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    certificates: Option<RawSet>,
    signer_infos: SignerInfos,
}

/// A SET OF whose elements are already DER, kept as bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RawSet(Vec<u8>);

impl RawSet {
    /// Concatenates `elements` in DER SET OF order (X.690 §11.6: as octet strings, the shorter
    /// padded with zeros at the end).
    fn of(elements: &[Vec<u8>]) -> Self {
        let mut sorted: Vec<&Vec<u8>> = elements.iter().collect();
        sorted.sort_by(|a, b| {
            let width = a.len().max(b.len());
            let padded = |v: &Vec<u8>| {
                v.iter()
                    .copied()
                    .chain(std::iter::repeat(0))
                    .take(width)
                    .collect::<Vec<u8>>()
            };
            padded(a).cmp(&padded(b))
        });
        Self(sorted.into_iter().flatten().copied().collect())
    }
}

impl der::FixedTag for RawSet {
    const TAG: der::Tag = der::Tag::Set;
}

impl der::EncodeValue for RawSet {
    fn value_len(&self) -> der::Result<der::Length> {
        der::Length::try_from(self.0.len())
    }

    fn encode_value(&self, writer: &mut impl der::Writer) -> der::Result<()> {
        writer.write(&self.0)
    }
}

impl<'a> der::DecodeValue<'a> for RawSet {
    type Error = der::Error;

    fn decode_value<R: der::Reader<'a>>(reader: &mut R, header: der::Header) -> der::Result<Self> {
        Ok(Self(reader.read_vec(header.length())?))
    }
}

pub use tsp::ID_CT_TST_INFO;
use tsp::MessageImprint;

/// What a timestamp token attests (RFC 3161 §2.4.2): the imprint and the time.
#[derive(Clone, Debug)]
pub struct TimeStampClaim {
    pub hash_algorithm: ObjectIdentifier,
    pub hashed_message: Vec<u8>,
    /// `genTime` as written (`YYYYMMDDHHMMSS[.f]Z`); fractional seconds are common, so it is
    /// kept as text rather than decoded as a DER GeneralizedTime.
    pub generation_time: String,
}

/// Reads the head of a TSTInfo: version, policy, messageImprint, serialNumber, genTime.
pub fn parse_tst_info(tst_info: &[u8]) -> Result<TimeStampClaim, CmsError> {
    use der::{Header, Reader};
    let mut reader = der::SliceReader::new(tst_info)?;
    Header::decode(&mut reader)?; // TSTInfo
    reader.tlv_bytes()?; // version
    reader.tlv_bytes()?; // policy
    let imprint = MessageImprint::decode(&mut reader)?;
    reader.tlv_bytes()?; // serialNumber
    let time = der::asn1::AnyRef::decode(&mut reader)?;
    Ok(TimeStampClaim {
        hash_algorithm: imprint.hash_algorithm.oid,
        hashed_message: imprint.hashed_message.as_bytes().to_vec(),
        generation_time: String::from_utf8_lossy(time.value()).into_owned(),
    })
}

/// A signature read back from a PDF: the typed SignedData and, byte for byte, the signed
/// attributes it was computed over (RFC 5652 §5.4: verify the original encoding, not ours).
#[derive(Clone, Debug)]
pub struct ParsedSignature {
    pub signed_data: SignedData,
    /// The first SignerInfo's signed attributes with the SET OF tag (0x31) restored.
    pub signed_attributes_der: Option<Vec<u8>>,
}

/// Parses `/Contents`: the SignedData and the raw signed attributes of its first SignerInfo.
pub fn parse_signature(contents: &[u8]) -> Result<ParsedSignature, CmsError> {
    let signed_data = parse_signed_data(contents)?;
    let signed_attributes_der = raw_signed_attributes(contents, der::EncodingRules::Der)
        .or_else(|_| raw_signed_attributes(contents, der::EncodingRules::Ber))?;
    Ok(ParsedSignature {
        signed_data,
        signed_attributes_der,
    })
}

/// Walks ContentInfo → SignedData → first SignerInfo with der's reader to take the
/// `[0] IMPLICIT SignedAttributes` TLV as it was written.
fn raw_signed_attributes(
    contents: &[u8],
    rules: der::EncodingRules,
) -> Result<Option<Vec<u8>>, CmsError> {
    use der::{Header, Reader, Tag, TagNumber};
    let mut reader = der::SliceReader::new_with_encoding_rules(contents, rules)?;
    let is_context = |tag: Tag, number: u32| matches!(tag, Tag::ContextSpecific { number: TagNumber(n), .. } if n == number);
    Header::decode(&mut reader)?; // ContentInfo
    reader.tlv_bytes()?; // contentType
    Header::decode(&mut reader)?; // [0] EXPLICIT content
    Header::decode(&mut reader)?; // SignedData
    for _ in 0..3 {
        reader.tlv_bytes()?; // version, digestAlgorithms, encapContentInfo
    }
    while is_context(Tag::peek(&reader)?, 0) || is_context(Tag::peek(&reader)?, 1) {
        reader.tlv_bytes()?; // certificates, crls
    }
    Header::decode(&mut reader)?; // signerInfos
    Header::decode(&mut reader)?; // first SignerInfo
    for _ in 0..3 {
        reader.tlv_bytes()?; // version, sid, digestAlgorithm
    }
    if !is_context(Tag::peek(&reader)?, 0) {
        return Ok(None);
    }
    let mut raw = reader.tlv_bytes()?.to_vec();
    if let Some(tag) = raw.first_mut() {
        *tag = 0x31;
    }
    Ok(Some(raw))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn ess_cert_id_omits_default_sha256() {
        let id = EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(vec![7; 32]).unwrap(),
            issuer_serial: None,
        };
        let der = id.to_der().unwrap();
        // SEQUENCE { OCTET STRING (32) } and nothing else.
        assert_eq!(&der[..4], &[0x30, 34, 0x04, 32]);
        assert_eq!(der.len(), 36);
    }
}
