//! Sign a PDF: an incremental update carrying a PAdES B-B signature made through a `Signer`.
//!
//! ETSI EN 319 142-1 §5.1 and ISO 32000-2 §12.8: the original bytes stay as they are, a
//! signature dictionary and field are appended, and the CMS covers every byte but `/Contents`.

mod appearance;
mod carried;
mod doc_timestamp;
mod dss;
mod form;

use ring::digest;
use time::OffsetDateTime;

use crate::cms::{self, SignerIdentity};
use crate::pdf::{Dictionary, IncrementalUpdate, Object, ObjectId, PdfError, PdfFile, StringForm};
use crate::seal::{SealError, SignatureAlgorithm, Signer};

pub use carried::carried_certificates;
pub use doc_timestamp::{
    DEFAULT_TOKEN_RESERVE, DocumentTimestampRequest, PreparedDocumentTimestamp,
    prepare_document_timestamp,
};
pub use dss::{ValidationData, add_validation_data};
pub use form::FormState;

/// What the caller asks of one signature. Time is passed in: the core reads no clock.
#[derive(Clone, Debug)]
pub struct SignatureRequest {
    /// `/M`: the claimed signing time (PAdES carries it here, not in a signed attribute).
    pub signing_time: OffsetDateTime,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub contact_info: Option<String>,
    /// The signature field's name; a fresh unique one is chosen when absent. An existing empty
    /// signature field of this name is filled in.
    pub field_name: Option<String>,
    /// Make a certification signature (DocMDP) with this permission level.
    pub certify: Option<DocMdpPermission>,
    /// Draw the signature on a page; invisible when absent.
    pub visible: Option<VisibleSignature>,
    /// What the visible signature shows; the seal's name and the time in a red frame when absent.
    pub appearance: Option<Appearance>,
    /// Bytes kept free in `/Contents` beyond the CMS itself, for a timestamp token added later.
    pub timestamp_reserve: usize,
    /// Input limits for the untrusted PDF.
    pub limits: crate::pdf::Limits,
}

impl SignatureRequest {
    /// An invisible approval signature at `signing_time` with default limits.
    pub fn new(signing_time: OffsetDateTime) -> Self {
        Self {
            signing_time,
            reason: None,
            location: None,
            contact_info: None,
            field_name: None,
            certify: None,
            visible: None,
            appearance: None,
            timestamp_reserve: 0,
            limits: crate::pdf::Limits::default(),
        }
    }
}

/// DocMDP permission levels (ISO 32000-2 §12.8.2.2.2, Table 257).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocMdpPermission {
    /// P=1: no changes at all.
    NoChanges = 1,
    /// P=2: filling forms and signing.
    FormFilling = 2,
    /// P=3: form filling, signing and annotations.
    Annotations = 3,
}

/// Where a visible signature goes: a 1-based page number and a rectangle in PDF points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VisibleSignature {
    pub page: u32,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// A caller-drawn appearance (ISO 32000-2 §12.7.5.5): a Form XObject's resources and content
/// stream, drawn in a box the size of the visible rectangle with its origin at the lower left.
/// Its resources may refer to objects already in the document, such as an embedded font.
#[derive(Clone, Debug, PartialEq)]
pub struct Appearance {
    pub resources: Dictionary,
    pub content: Vec<u8>,
}

/// Why a PDF was not signed. Nothing is written when any of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The input is not a PDF this service can append to.
    #[error(transparent)]
    Pdf(#[from] PdfError),
    /// The signer's certificates could not be turned into CMS.
    #[error(transparent)]
    Cms(#[from] cms::CmsError),
    /// The key custodian failed.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// A certification signature must be the document's first signature (ISO 32000-2 §12.8.2.2).
    #[error("a certification signature must be the first one, but this document is already signed")]
    AlreadySigned,
    /// The document was certified with DocMDP P=1: any further signature would break it.
    #[error(
        "the document is certified with no changes allowed (DocMDP P=1); it cannot be signed again"
    )]
    CertifiedNoChanges,
    /// A new visible field after certification changes the page, which DocMDP P=2 does not
    /// allow (ISO 32000-2 §12.8.2.2.2; pyHanko and Acrobat reject it).
    #[error("the document is certified: sign invisibly or into an existing empty signature field")]
    VisibleAfterCertification,
    /// The requested field exists and cannot take this signature.
    #[error("field '{0}' already exists and is not an empty signature field")]
    FieldTaken(String),
    /// The request itself is invalid.
    #[error("{0}")]
    InvalidRequest(String),
    /// The CMS (with its timestamp token) is larger than the space reserved in `/Contents`.
    #[error(
        "the signature needs {needed} bytes but {reserved} were reserved in /Contents; reserve more room for the timestamp"
    )]
    ContentsTooLarge { needed: usize, reserved: usize },
}

/// Width reserved for each ByteRange number: ten digits cover files up to 9.3 GiB.
const BYTE_RANGE_PLACEHOLDER: &str = "[0 9999999999 9999999999 9999999999]";

/// Signs `input` with `signer`, returning the original bytes followed by the signed revision.
///
/// Prepares the signer each time; a caller signing many documents keeps a [`Seal`] instead.
pub fn sign_pdf(
    input: &[u8],
    signer: &dyn Signer,
    request: &SignatureRequest,
) -> Result<Vec<u8>, SignError> {
    Seal::new(signer)?.sign(input, request)
}

/// A signer made ready once: its chain parsed and the size of its CMS known.
pub struct Seal<'s> {
    signer: &'s dyn Signer,
    identity: SignerIdentity,
    name: String,
    cms_len: usize,
}

impl<'s> Seal<'s> {
    /// Parses `signer`'s certificate chain and sizes its largest possible CMS.
    pub fn new(signer: &'s dyn Signer) -> Result<Self, SignError> {
        let identity = SignerIdentity::from_chain(signer.certificate_chain(), sha256)?;
        let cms_len = widest_cms_len(&identity, signer.algorithm())?;
        let name = identity.common_name().unwrap_or_else(|| "oneseal".into());
        Ok(Self {
            signer,
            identity,
            name,
            cms_len,
        })
    }

    /// Signs `input`, returning the original bytes followed by the signed revision.
    pub fn sign(&self, input: &[u8], request: &SignatureRequest) -> Result<Vec<u8>, SignError> {
        self.prepare(input, request)?.finish(None)
    }

    /// Signs `input` but leaves `/Contents` unwritten, so a timestamp over the signature value
    /// can be added as an unsigned attribute before it is (PAdES B-T, ETSI EN 319 142-1 §6.3).
    /// `request.timestamp_reserve` must leave room for the token.
    pub fn prepare(
        &self,
        input: &[u8],
        request: &SignatureRequest,
    ) -> Result<PreparedSignature, SignError> {
        validate_request(request)?;
        let file = PdfFile::open(input, request.limits)?;
        let form = FormState::read(&file)?;
        check_permissions(&form, request)?;
        let contents_len = self.cms_len + request.timestamp_reserve;
        let mut update = IncrementalUpdate::new(&file);
        let signature_id = update.allocate();
        update.set(
            signature_id,
            signature_dictionary(request, &self.name, contents_len),
        );
        update.watch(signature_id, b"ByteRange");
        update.watch(signature_id, b"Contents");
        form.add_signature_field(&file, &mut update, signature_id, request, &self.name)?;
        let written = update.write(&file, document_id(&file, request))?;
        let gap = ContentsGap::patch(written, signature_id, contents_len)?;
        let digest = gap.digest();
        let attributes = cms::signed_attributes(&self.identity, &digest)?;
        let signature = self
            .signer
            .sign(&cms::signed_attributes_der(&attributes)?)?;
        Ok(PreparedSignature {
            gap,
            identity: self.identity.clone(),
            attributes,
            algorithm: algorithm_oid(self.signer.algorithm()),
            signature,
        })
    }
}

/// A signed revision whose `/Contents` is still empty: the ByteRange is fixed and the signature
/// value made, so the CMS can be finished with or without a signature timestamp.
pub struct PreparedSignature {
    gap: ContentsGap,
    identity: SignerIdentity,
    attributes: ::cms::signed_data::SignedAttributes,
    algorithm: const_oid::ObjectIdentifier,
    signature: Vec<u8>,
}

impl PreparedSignature {
    /// The SignerInfo's signature value: what a signature timestamp's imprint hashes
    /// (ETSI EN 319 122-1 §5.3).
    pub fn signature_value(&self) -> &[u8] {
        &self.signature
    }

    /// Writes the CMS, carrying `timestamp_token` (a DER TimeStampToken) when given, into
    /// `/Contents` and returns the whole file.
    pub fn finish(self, timestamp_token: Option<&[u8]>) -> Result<Vec<u8>, SignError> {
        let cms = cms::signed_data_with_timestamp(
            &self.identity,
            self.attributes,
            self.algorithm,
            &self.signature,
            timestamp_token,
        )?;
        self.gap.fill(&cms)
    }
}

/// An appended revision with a real `/ByteRange` and a zero-filled `/Contents` of `capacity`
/// bytes starting at `contents_at` (the `<`), ISO 32000-2 §12.8.1.
pub(crate) struct ContentsGap {
    output: Vec<u8>,
    contents_at: usize,
    capacity: usize,
}

impl ContentsGap {
    /// Finds where the signature dictionary's entries landed and writes the ByteRange.
    pub(crate) fn patch(
        written: crate::pdf::WrittenUpdate,
        signature_id: ObjectId,
        capacity: usize,
    ) -> Result<Self, SignError> {
        let mut output = written.bytes;
        let contents_at = position(&written.positions, signature_id, b"Contents")?;
        let byte_range_at = position(&written.positions, signature_id, b"ByteRange")?;
        let gap_end = contents_at + 2 * capacity + 2;
        let tail = output
            .len()
            .checked_sub(gap_end)
            .ok_or_else(|| internal("Contents runs past the end"))?;
        patch_byte_range(&mut output, byte_range_at, [0, contents_at, gap_end, tail])?;
        Ok(Self {
            output,
            contents_at,
            capacity,
        })
    }

    /// SHA-256 of everything the ByteRange covers.
    pub(crate) fn digest(&self) -> [u8; 32] {
        digest_ranges(
            &self.output,
            self.contents_at,
            self.contents_at + 2 * self.capacity + 2,
        )
    }

    /// Writes `contents` as hex into the gap, refusing what does not fit.
    pub(crate) fn fill(mut self, contents: &[u8]) -> Result<Vec<u8>, SignError> {
        if contents.len() > self.capacity {
            return Err(SignError::ContentsTooLarge {
                needed: contents.len(),
                reserved: self.capacity,
            });
        }
        patch_contents(&mut self.output, self.contents_at, self.capacity, contents)?;
        Ok(self.output)
    }
}

/// The DocMDP rules an existing certification imposes (ISO 32000-2 §12.8.2.2).
fn check_permissions(form: &FormState, request: &SignatureRequest) -> Result<(), SignError> {
    if form.certification_level() == Some(DocMdpPermission::NoChanges as i64) {
        return Err(SignError::CertifiedNoChanges);
    }
    if request.certify.is_some() && form.has_signatures() {
        return Err(SignError::AlreadySigned);
    }
    if form.certification_level().is_some() && request.visible.is_some() {
        return Err(SignError::VisibleAfterCertification);
    }
    Ok(())
}

fn validate_request(request: &SignatureRequest) -> Result<(), SignError> {
    if request.appearance.is_some() && request.visible.is_none() {
        return Err(SignError::InvalidRequest(
            "an appearance needs a visible rectangle to be drawn in".into(),
        ));
    }
    if let Some(visible) = request.visible {
        let finite = [visible.x, visible.y, visible.width, visible.height]
            .iter()
            .all(|v| v.is_finite());
        if !finite || visible.width <= 0.0 || visible.height <= 0.0 || visible.page == 0 {
            return Err(SignError::InvalidRequest(
                "a visible signature needs a page from 1 and a positive width and height".into(),
            ));
        }
    }
    if request
        .field_name
        .as_deref()
        .is_some_and(|n| n.is_empty() || n.contains('.'))
    {
        return Err(SignError::InvalidRequest(
            "a field name must be non-empty and contain no '.'".into(),
        ));
    }
    Ok(())
}

/// The largest CMS this signer can produce: its signature at the algorithm's widest.
fn widest_cms_len(
    identity: &SignerIdentity,
    algorithm: SignatureAlgorithm,
) -> Result<usize, SignError> {
    let attributes = cms::signed_attributes(identity, &[0; 32])?;
    let widest = vec![0xff; algorithm.max_signature_len()];
    Ok(cms::signed_data(identity, attributes, algorithm_oid(algorithm), &widest)?.len())
}

/// The CMS signature algorithm identifier for what `algorithm` signs with.
pub fn algorithm_oid(algorithm: SignatureAlgorithm) -> const_oid::ObjectIdentifier {
    match algorithm {
        SignatureAlgorithm::EcdsaP256Sha256 => cms::ID_ECDSA_WITH_SHA256,
    }
}

/// The signature dictionary (ISO 32000-2 §12.8.1, Table 255; ETSI EN 319 142-1 §5.1).
fn signature_dictionary(request: &SignatureRequest, name: &str, contents_len: usize) -> Dictionary {
    let mut dictionary = placeholder_dictionary(b"Sig", b"ETSI.CAdES.detached", contents_len);
    dictionary.set(
        b"M",
        Object::String(
            pdf_date(request.signing_time).into_bytes(),
            StringForm::Literal,
        ),
    );
    dictionary.set(b"Name", Object::text(name));
    for (key, value) in [
        (&b"Reason"[..], &request.reason),
        (b"Location", &request.location),
        (b"ContactInfo", &request.contact_info),
    ] {
        if let Some(value) = value {
            dictionary.set(key, Object::text(value));
        }
    }
    let mut app = Dictionary::new();
    app.set(b"Name", Object::name(b"oneseal"));
    app.set(
        b"REx",
        Object::String(
            env!("CARGO_PKG_VERSION").as_bytes().to_vec(),
            StringForm::Literal,
        ),
    );
    let mut build = Dictionary::new();
    build.set(b"App", app);
    dictionary.set(b"Prop_Build", build);
    if let Some(level) = request.certify {
        dictionary.set(
            b"Reference",
            vec![Object::Dictionary(docmdp_reference(level))],
        );
    }
    dictionary
}

/// `/Type`, `/Filter /Adobe.PPKLite`, `/SubFilter`, and the `/ByteRange` and `/Contents`
/// placeholders (ISO 32000-2 §12.8.1): the ByteRange as fixed-width text, overwritten with the
/// real offsets once they are known; `/Contents` zeros of `contents_len` bytes.
pub(crate) fn placeholder_dictionary(
    kind: &[u8],
    sub_filter: &[u8],
    contents_len: usize,
) -> Dictionary {
    let mut dictionary = Dictionary::new();
    dictionary.set(b"Type", Object::name(kind));
    dictionary.set(b"Filter", Object::name(b"Adobe.PPKLite"));
    dictionary.set(b"SubFilter", Object::name(sub_filter));
    dictionary.set(
        b"ByteRange",
        Object::Real(crate::pdf::Real::from_source(BYTE_RANGE_PLACEHOLDER.into())),
    );
    dictionary.set(
        b"Contents",
        Object::String(vec![0; contents_len], StringForm::Hexadecimal),
    );
    dictionary
}

/// A signature reference dictionary for DocMDP (ISO 32000-2 §12.8.1, Table 256 and 257).
fn docmdp_reference(level: DocMdpPermission) -> Dictionary {
    let mut params = Dictionary::new();
    params.set(b"Type", Object::name(b"TransformParams"));
    params.set(b"P", level as i64);
    params.set(b"V", Object::name(b"1.2"));
    let mut reference = Dictionary::new();
    reference.set(b"Type", Object::name(b"SigRef"));
    reference.set(b"TransformMethod", Object::name(b"DocMDP"));
    reference.set(b"TransformParams", params);
    reference
}

/// A PDF date (ISO 32000-2 §7.9.4) in UTC: `D:YYYYMMDDHHmmSS+00'00'`.
pub fn pdf_date(time: OffsetDateTime) -> String {
    let utc = time.to_offset(time::UtcOffset::UTC);
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}+00'00'",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
}

/// SHA-256, through ring.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

/// The trailer's second `/ID`: derived from the first and this signature, so output is reproducible.
fn document_id(file: &PdfFile<'_>, request: &SignatureRequest) -> [u8; 16] {
    let mut context = digest::Context::new(&digest::SHA256);
    if let Some(first) = file.trailer().get(b"ID") {
        context.update(&crate::pdf::serialize(first));
    }
    context.update(&file.bytes().len().to_le_bytes());
    context.update(pdf_date(request.signing_time).as_bytes());
    context.update(request.field_name.as_deref().unwrap_or_default().as_bytes());
    let mut id = [0; 16];
    id.copy_from_slice(context.finish().as_ref().get(..16).unwrap_or(&[0; 16]));
    id
}

fn position(
    positions: &std::collections::HashMap<(ObjectId, Vec<u8>), usize>,
    id: ObjectId,
    key: &[u8],
) -> Result<usize, SignError> {
    positions.get(&(id, key.to_vec())).copied().ok_or_else(|| {
        SignError::Pdf(PdfError::Structure(
            "the signature dictionary was not written".into(),
        ))
    })
}

/// Writes `[0 a b c]` over the placeholder, padded with spaces to its width (§12.8.1).
fn patch_byte_range(output: &mut [u8], at: usize, range: [usize; 4]) -> Result<(), SignError> {
    let text = format!("[{} {} {} {}]", range[0], range[1], range[2], range[3]);
    let width = BYTE_RANGE_PLACEHOLDER.len();
    let slot = output
        .get_mut(at..at + width)
        .ok_or_else(|| internal("ByteRange slot out of range"))?;
    if text.len() > width {
        return Err(internal("the file is too large for a ByteRange"));
    }
    slot.fill(b' ');
    slot.get_mut(..text.len())
        .ok_or_else(|| internal("ByteRange"))?
        .copy_from_slice(text.as_bytes());
    Ok(())
}

/// SHA-256 over everything but the `/Contents` string: `[0, gap_start)` and `[gap_end, len)`.
fn digest_ranges(output: &[u8], gap_start: usize, gap_end: usize) -> [u8; 32] {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(output.get(..gap_start).unwrap_or_default());
    context.update(output.get(gap_end..).unwrap_or_default());
    let mut out = [0; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

/// Writes the CMS as uppercase hex into `<…>`, zero-padded (ISO 32000-2 §12.8.1).
fn patch_contents(
    output: &mut [u8],
    at: usize,
    capacity: usize,
    cms: &[u8],
) -> Result<(), SignError> {
    if cms.len() > capacity {
        return Err(internal("the CMS outgrew its placeholder"));
    }
    let slot = output
        .get_mut(at + 1..at + 1 + 2 * cms.len())
        .ok_or_else(|| internal("Contents slot out of range"))?;
    crate::pdf::hex_upper_into(slot, cms);
    Ok(())
}

fn internal(what: &str) -> SignError {
    SignError::Pdf(PdfError::Structure(format!("internal: {what}")))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use ::cms::signed_data::SignedData;
    use der::{Decode, Encode};

    use super::*;
    use crate::pdf::testing::{ONE_PAGE_OBJECTS, one_page, xref_stream_pdf};
    use crate::pdf::{IndirectValue, Limits};
    use crate::seal::KeyFileSigner;

    pub(super) fn test_signer() -> KeyFileSigner {
        crate::test_support::test_signer().0
    }

    pub(super) fn request() -> SignatureRequest {
        SignatureRequest::new(OffsetDateTime::from_unix_timestamp(1_764_000_000).unwrap())
    }

    /// The newest dictionary of `/Type kind` in `signed`, and its ByteRange.
    pub(super) fn last_of_type(signed: &[u8], kind: &[u8]) -> ([usize; 4], Dictionary) {
        let file = PdfFile::open(signed, Limits::default()).unwrap();
        let dictionary = (1..file.size())
            .rev()
            .find_map(|n| match file.object(ObjectId::new(n, 0)).ok()? {
                IndirectValue::Object(Object::Dictionary(d)) if d.name(b"Type") == Some(kind) => {
                    Some(d)
                }
                _ => None,
            })
            .expect("a dictionary of that type");
        let range: Vec<usize> = dictionary
            .get(b"ByteRange")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_integer().unwrap() as usize)
            .collect();
        (range.try_into().unwrap(), dictionary)
    }

    /// The last signature dictionary's ByteRange and the decoded CMS.
    pub(super) fn last_signature(signed: &[u8]) -> ([usize; 4], SignedData) {
        let (range, dictionary) = last_of_type(signed, b"Sig");
        let Some(Object::String(contents, _)) = dictionary.get(b"Contents") else {
            panic!("no /Contents")
        };
        (range, cms::parse_signed_data(contents).unwrap())
    }

    #[test]
    fn byte_range_covers_everything_but_the_contents_string() {
        let input = one_page();
        let signed = sign_pdf(&input, &test_signer(), &request()).unwrap();
        assert!(signed.starts_with(&input));
        let ([start, gap_start, gap_end, tail], _) = last_signature(&signed);
        assert_eq!(start, 0);
        assert_eq!(signed[gap_start], b'<');
        assert_eq!(signed[gap_end - 1], b'>');
        assert_eq!(gap_end + tail, signed.len());
        assert!(
            signed[gap_start + 1..gap_end - 1]
                .iter()
                .all(u8::is_ascii_hexdigit)
        );
    }

    #[test]
    fn cms_carries_exactly_the_pades_signed_attributes_and_verifies() {
        let input = one_page();
        let signer = test_signer();
        let signed = sign_pdf(&input, &signer, &request()).unwrap();
        let ([_, a, b, _], data) = last_signature(&signed);
        let info = data.signer_infos.0.get(0).unwrap();
        let attributes = info.signed_attrs.as_ref().unwrap();
        let oids: Vec<_> = attributes.iter().map(|a| a.oid).collect();
        assert_eq!(oids.len(), 3);
        for oid in [
            cms::ID_CONTENT_TYPE,
            cms::ID_MESSAGE_DIGEST,
            cms::ID_SIGNING_CERTIFICATE_V2,
        ] {
            assert!(oids.contains(&oid), "missing {oid}");
        }
        assert!(!oids.contains(&cms::ID_SIGNING_TIME));
        let digest = attributes
            .iter()
            .find(|a| a.oid == cms::ID_MESSAGE_DIGEST)
            .unwrap()
            .values
            .get(0)
            .unwrap();
        let digest = digest.decode_as::<der::asn1::OctetString>().unwrap();
        assert_eq!(digest.as_bytes(), digest_ranges(&signed, a, b));
        assert!(data.encap_content_info.econtent.is_none(), "detached");
        let public_key = x509_cert::Certificate::from_der(&signer.certificate_chain()[0]).unwrap();
        let spki = public_key
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
            .to_vec();
        let key =
            ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, spki);
        key.verify(&attributes.to_der().unwrap(), info.signature.as_bytes())
            .unwrap();
    }

    #[test]
    fn a_second_signature_gets_its_own_field_and_keeps_the_first() {
        let signer = test_signer();
        let once = sign_pdf(&one_page(), &signer, &request()).unwrap();
        let twice = sign_pdf(&once, &signer, &request()).unwrap();
        assert!(twice.starts_with(&once));
        let file = PdfFile::open(&twice, Limits::default()).unwrap();
        let form = FormState::read(&file).unwrap();
        assert!(form.has_signatures());
        let (_, catalog) = file.catalog().unwrap();
        let acroform = file
            .resolve_dictionary(catalog.get(b"AcroForm").unwrap(), "AcroForm")
            .unwrap();
        let fields = file.resolve(acroform.get(b"Fields").unwrap()).unwrap();
        assert_eq!(fields.as_array().unwrap().len(), 2);
        assert_eq!(acroform.integer(b"SigFlags"), Some(3));
    }

    #[test]
    fn certification_is_first_only_and_p1_forbids_more() {
        let signer = test_signer();
        let mut certify = request();
        certify.certify = Some(DocMdpPermission::NoChanges);
        let certified = sign_pdf(&one_page(), &signer, &certify).unwrap();
        let file = PdfFile::open(&certified, Limits::default()).unwrap();
        assert_eq!(
            FormState::read(&file).unwrap().certification_level(),
            Some(1)
        );
        assert!(matches!(
            sign_pdf(&certified, &signer, &request()),
            Err(SignError::CertifiedNoChanges)
        ));
        let approved = sign_pdf(&one_page(), &signer, &request()).unwrap();
        assert!(matches!(
            sign_pdf(&approved, &signer, &certify),
            Err(SignError::AlreadySigned)
        ));
    }

    #[test]
    fn an_xref_stream_input_gets_an_xref_stream_update() {
        let input = xref_stream_pdf(&ONE_PAGE_OBJECTS);
        let signed = sign_pdf(&input, &test_signer(), &request()).unwrap();
        let file = PdfFile::open(&signed, Limits::default()).unwrap();
        assert_eq!(file.xref_form(), crate::pdf::XrefForm::Stream);
        assert!(file.trailer().get(b"Prev").is_some());
        last_signature(&signed);
    }

    #[test]
    fn visible_signature_has_an_appearance_and_a_rectangle() {
        let mut visible = request();
        visible.visible = Some(VisibleSignature {
            page: 1,
            x: 10.0,
            y: 20.0,
            width: 150.0,
            height: 60.0,
        });
        let signed = sign_pdf(&one_page(), &test_signer(), &visible).unwrap();
        let file = PdfFile::open(&signed, Limits::default()).unwrap();
        let page = file.page(1).unwrap();
        let annots = page
            .dictionary
            .get(b"Annots")
            .unwrap()
            .as_array()
            .unwrap()
            .clone();
        let widget = file.resolve_dictionary(&annots[0], "widget").unwrap();
        assert_eq!(
            crate::pdf::rectangle(widget.get(b"Rect").unwrap()),
            Some([10.0, 20.0, 160.0, 80.0])
        );
        assert!(widget.get(b"AP").is_some());
        visible.visible = Some(VisibleSignature {
            page: 2,
            x: 0.0,
            y: 0.0,
            width: 1.0,
            height: 1.0,
        });
        assert!(matches!(
            sign_pdf(&one_page(), &test_signer(), &visible),
            Err(SignError::Pdf(PdfError::NoSuchPage(2)))
        ));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod placement_tests {
    use super::*;
    use crate::pdf::testing::classic_pdf;
    use crate::pdf::{Limits, rectangle};

    fn request(visible: VisibleSignature) -> SignatureRequest {
        let mut request =
            SignatureRequest::new(OffsetDateTime::from_unix_timestamp(1_764_000_000).unwrap());
        request.visible = Some(visible);
        request
    }

    /// 100 x 50 points at (10, 20) on page 1.
    const BOX: VisibleSignature = VisibleSignature {
        page: 1,
        x: 10.0,
        y: 20.0,
        width: 100.0,
        height: 50.0,
    };

    fn two_pages_sharing_annots() -> Vec<u8> {
        classic_pdf(&[
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 /MediaBox [200 200 812 1042] >>",
            "<< /Type /Page /Parent 2 0 R /Annots 5 0 R >>",
            "<< /Type /Page /Parent 2 0 R /Annots 5 0 R >>",
            "[]",
        ])
    }

    #[test]
    fn the_rectangle_is_relative_to_the_page_box_and_must_fit() {
        let signer = crate::test_support::test_signer().0;
        let signed = sign_pdf(&two_pages_sharing_annots(), &signer, &request(BOX)).unwrap();
        let file = PdfFile::open(&signed, Limits::default()).unwrap();
        let page = file.page(1).unwrap();
        let annots = file
            .resolve(page.dictionary.get(b"Annots").unwrap())
            .unwrap();
        let widget = file
            .resolve_dictionary(annots.as_array().unwrap().last().unwrap(), "widget")
            .unwrap();
        assert_eq!(
            rectangle(widget.get(b"Rect").unwrap()),
            Some([210.0, 220.0, 310.0, 270.0])
        );
        let outside = VisibleSignature { x: 600.0, ..BOX };
        assert!(matches!(
            sign_pdf(&two_pages_sharing_annots(), &signer, &request(outside)),
            Err(SignError::InvalidRequest(_))
        ));
    }

    #[test]
    fn a_shared_annotation_array_is_copied_for_the_signed_page() {
        let signer = crate::test_support::test_signer().0;
        let signed = sign_pdf(&two_pages_sharing_annots(), &signer, &request(BOX)).unwrap();
        let file = PdfFile::open(&signed, Limits::default()).unwrap();
        let count = |n: u32| {
            file.resolve(file.page(n).unwrap().dictionary.get(b"Annots").unwrap())
                .unwrap()
                .as_array()
                .unwrap()
                .len()
        };
        assert_eq!((count(1), count(2)), (1, 0));
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod timestamp_tests {
    use der::Encode;

    use super::tests::{last_of_type, last_signature, request, test_signer};
    use super::*;
    use crate::pdf::Limits;
    use crate::pdf::testing::one_page;
    use crate::seal::KeyFileSigner;

    /// Any DER ContentInfo stands in for a TimeStampToken here; tests/ltv_issuance.rs uses
    /// real tokens checked by openssl and pyHanko.
    fn stand_in_token(signer: &KeyFileSigner) -> Vec<u8> {
        let signed = sign_pdf(&one_page(), signer, &request()).unwrap();
        let (_, signed_data) = last_signature(&signed);
        ::cms::content_info::ContentInfo {
            content_type: cms::ID_SIGNED_DATA,
            content: der::Any::encode_from(&signed_data).unwrap(),
        }
        .to_der()
        .unwrap()
    }

    #[test]
    fn a_timestamp_token_goes_into_the_unsigned_attributes_over_the_same_signature() {
        let signer = test_signer();
        let token = stand_in_token(&signer);
        let mut request = request();
        request.timestamp_reserve = token.len() + 64;
        let prepared = Seal::new(&signer)
            .unwrap()
            .prepare(&one_page(), &request)
            .unwrap();
        let value = prepared.signature_value().to_vec();
        let signed = prepared.finish(Some(&token)).unwrap();
        let (_, signed_data) = last_signature(&signed);
        let info = signed_data.signer_infos.0.get(0).unwrap();
        assert_eq!(info.signature.as_bytes(), value.as_slice());
        let unsigned = info.unsigned_attrs.as_ref().unwrap();
        let attribute = unsigned.get(0).unwrap();
        assert_eq!(attribute.oid, cms::ID_AA_SIGNATURE_TIME_STAMP_TOKEN);
        assert_eq!(attribute.values.get(0).unwrap().to_der().unwrap(), token);
    }

    #[test]
    fn a_token_larger_than_the_reserve_is_refused_by_name() {
        let signer = test_signer();
        let token = stand_in_token(&signer);
        let prepared = Seal::new(&signer)
            .unwrap()
            .prepare(&one_page(), &request())
            .unwrap();
        let refused = prepared.finish(Some(&token)).unwrap_err();
        assert!(matches!(refused, SignError::ContentsTooLarge { .. }));
        assert!(refused.to_string().contains("reserve more room"));
    }

    #[test]
    fn a_document_timestamp_follows_a_p1_certification_and_covers_all_but_its_token() {
        let signer = test_signer();
        let mut certify = request();
        certify.certify = Some(DocMdpPermission::NoChanges);
        let certified = sign_pdf(&one_page(), &signer, &certify).unwrap();
        let prepared =
            prepare_document_timestamp(&certified, &DocumentTimestampRequest::default()).unwrap();
        let digest = prepared.digest();
        let token = stand_in_token(&signer);
        let stamped = prepared.finish(&token).unwrap();
        assert!(stamped.starts_with(&certified));
        let (range, dictionary) = last_of_type(&stamped, b"DocTimeStamp");
        assert_eq!(dictionary.name(b"SubFilter"), Some(&b"ETSI.RFC3161"[..]));
        assert_eq!(range[2] + range[3], stamped.len());
        let mut covered = stamped[..range[1]].to_vec();
        covered.extend_from_slice(&stamped[range[2]..]);
        assert_eq!(sha256(&covered), digest);
        // The first is DocTimeStamp1 and the second DocTimeStamp2, so 3 is the next free name.
        let again = prepare_document_timestamp(&stamped, &DocumentTimestampRequest::default())
            .unwrap()
            .finish(&token)
            .unwrap();
        let file = PdfFile::open(&again, Limits::default()).unwrap();
        let names: Vec<String> = FormState::read(&file)
            .map(|form| vec![form.unused_name("DocTimeStamp")])
            .unwrap();
        assert_eq!(names, ["DocTimeStamp3"]);
    }
}
