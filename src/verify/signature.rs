//! One signature: its dictionary, ByteRange, CMS, signer certificate and path
//! (ISO 32000-2 §12.8.1, RFC 5652 §5.4/§5.6, RFC 5035, ETSI EN 319 102-1 §5.2).

use ::cms::cert::IssuerAndSerialNumber;
use ::cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::Encode;
use der::asn1::OctetString;
use ring::digest;
use ring::signature::{self as ring_signature, UnparsedPublicKey, VerificationAlgorithm};
use time::OffsetDateTime;
use x509_cert::Certificate;

use super::chain::{self, TrustAnchors, ValidatedPath};
use super::changes::Revision;
use super::ltv::{self, DocumentProof, DocumentStore, Evidence};
use super::revocation::Crls;
use super::tsp_client::TsaTrust;
use super::{
    Indication, Policy, ProofOfExistence, SignatureReport, SubIndication, VerifyError, rfc3339,
};
use crate::cms::{self, SigningCertificateV2};
use crate::pdf::{Dictionary, Object, PdfError};

/// A signature dictionary as found in the revision that first shows it.
pub(crate) struct FoundSignature {
    pub field: String,
    pub dictionary: Dictionary,
    /// 1-based revision whose end the ByteRange reaches (0 when none does).
    pub revision: usize,
    pub certification_level: Option<i64>,
    /// Why the signature dictionary could not be read, when it could not.
    pub unreadable: Option<String>,
}

/// Every signature field with a value, in every revision (so a field hidden later still counts).
pub(crate) fn find_signatures(
    revisions: &[Revision<'_>],
    max_signatures: usize,
) -> Result<Vec<FoundSignature>, VerifyError> {
    let mut found: Vec<FoundSignature> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for revision in revisions {
        let (_, catalog) = revision.file.catalog()?;
        let Some(form) = catalog.get(b"AcroForm") else {
            continue;
        };
        let form = revision.file.resolve_dictionary(form, "the AcroForm")?;
        for field in crate::pdf::form_fields(&revision.file, &form)? {
            let (true, Some(value)) = (field.signature, field.value) else {
                continue;
            };
            // A value that cannot be read is a broken signature, reported as one, never skipped.
            let (dictionary, unreadable) =
                match revision.file.resolve_dictionary(&value, "the signature") {
                    Ok(dictionary) => (dictionary, None),
                    Err(error) => (Dictionary::new(), Some(error.to_string())),
                };
            // The same signature seen again in a later revision: same ByteRange and same CMS.
            let identity = match &unreadable {
                None => signature_identity(&dictionary),
                Some(_) => format!("unreadable {}", field.name).into_bytes(),
            };
            if !seen.insert(identity) {
                continue;
            }
            if found.len() >= max_signatures {
                return Err(VerifyError::TooManySignatures(max_signatures));
            }
            let end = byte_range(&dictionary).map(|r| r[2].saturating_add(r[3]));
            let covered = revisions
                .iter()
                .find(|r| Some(r.end as u64) == end)
                .map_or(0, |r| r.number);
            let certification_level = docmdp_level(&revision.file, &dictionary);
            found.push(FoundSignature {
                field: field.name,
                dictionary,
                revision: covered,
                certification_level,
                unreadable,
            });
        }
    }
    Ok(found)
}

/// `/ByteRange` as written and the SHA-256 of `/Contents`.
fn signature_identity(dictionary: &Dictionary) -> Vec<u8> {
    let mut identity = dictionary
        .get(b"ByteRange")
        .map(crate::pdf::serialize)
        .unwrap_or_default();
    if let Some(Object::String(contents, _)) = dictionary.get(b"Contents") {
        identity.extend_from_slice(digest::digest(&digest::SHA256, contents).as_ref());
    }
    identity
}

/// What every signature is checked against: the caller's trust, CRLs and policy, the document's
/// DSS and the document timestamps already found valid.
pub(crate) struct Context<'a> {
    pub anchors: &'a TrustAnchors,
    pub crls: &'a Crls,
    pub policy: &'a Policy,
    pub store: &'a DocumentStore,
    pub proofs: &'a [DocumentProof],
}

/// Checks one signature; never fails as a whole, every problem lands in the report. The
/// evidence says what its PAdES level depends on; for a document timestamp that passed, its
/// path and genTime make a `DocumentProof`.
pub(crate) fn check(
    pdf: &[u8],
    found: &FoundSignature,
    revisions: &[Revision<'_>],
    context: &Context<'_>,
) -> (SignatureReport, Evidence, Option<DocumentProof>) {
    let dictionary = &found.dictionary;
    let mut report = SignatureReport {
        field: found.field.clone(),
        indication: Indication::TotalPassed,
        sub_indication: None,
        messages: Vec::new(),
        sub_filter: dictionary
            .name(b"SubFilter")
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default(),
        kind: dictionary
            .name(b"Type")
            .map_or("Sig".into(), |n| String::from_utf8_lossy(n).into_owned()),
        signer: None,
        serial: None,
        sha256_fingerprint: None,
        signing_time: text(dictionary, b"M")
            .and_then(|m| parse_pdf_date(&m))
            .map(super::rfc3339),
        reason: text(dictionary, b"Reason"),
        location: text(dictionary, b"Location"),
        certification_level: found.certification_level,
        revision: found.revision,
        covers_whole_file: false,
        byte_range: byte_range(dictionary)
            .map(|r| r.to_vec())
            .unwrap_or_default(),
        modifications: Vec::new(),
        pades_level: None,
    };
    let mut evidence = Evidence::default();
    match check_all(pdf, found, revisions, context, &mut report, &mut evidence) {
        Err((indication, sub, message)) => {
            report.indication = indication;
            report.sub_indication = Some(sub);
            report.messages.push(message);
            (report, evidence, None)
        }
        Ok(proof) => (report, evidence, proof),
    }
}

pub(crate) type Failure = (Indication, SubIndication, String);

fn fail(sub: SubIndication, message: impl Into<String>) -> Failure {
    (Indication::TotalFailed, sub, message.into())
}

fn check_all(
    pdf: &[u8],
    found: &FoundSignature,
    revisions: &[Revision<'_>],
    context: &Context<'_>,
    report: &mut SignatureReport,
    evidence: &mut Evidence,
) -> Result<Option<DocumentProof>, Failure> {
    if let Some(reason) = &found.unreadable {
        return Err(fail(
            SubIndication::FormatFailure,
            format!("the signature cannot be read: {reason}"),
        ));
    }
    let timestamp = match report.sub_filter.as_str() {
        "ETSI.CAdES.detached" | "adbe.pkcs7.detached" => false,
        "ETSI.RFC3161" => true,
        "" => {
            return Err(fail(
                SubIndication::FormatFailure,
                "the signature dictionary has no /SubFilter",
            ));
        }
        other => {
            return Err((
                Indication::Indeterminate,
                SubIndication::CryptoConstraintsFailure,
                format!("sub-filter '{other}' is not supported (SHA-1 based or unknown)"),
            ));
        }
    };
    let range = check_byte_range(pdf, &found.dictionary, revisions, found.revision)?;
    report.covers_whole_file = range[2] + range[3] == pdf.len();
    let Some(Object::String(contents, _)) = found.dictionary.get(b"Contents") else {
        return Err(fail(
            SubIndication::FormatFailure,
            "the signature has no /Contents",
        ));
    };
    let parsed = cms::parse_signature(contents).map_err(|e| {
        fail(
            SubIndication::FormatFailure,
            format!("the CMS cannot be read: {e}"),
        )
    })?;
    let signed_data = &parsed.signed_data;
    let info = signed_data
        .signer_infos
        .0
        .get(0)
        .ok_or_else(|| fail(SubIndication::FormatFailure, "the CMS has no SignerInfo"))?;
    let certificates = carried_certificates(signed_data);
    let (signer_der, signer) = find_signer(&certificates, &info.sid)
        .and_then(|index| certificates.get(index))
        .map(|(der, certificate)| (der.as_slice(), *certificate))
        .ok_or((
            Indication::Indeterminate,
            SubIndication::NoSigningCertificateFound,
            "the signer's certificate is not in the signature".to_string(),
        ))?;
    describe_signer(report, signer_der, signer);
    let document = signed_content(pdf, range);
    let (usage, claimed) = if timestamp {
        let claim = check_timestamp_imprint(signed_data, &document)?;
        report.signing_time = parse_generalized_time(&claim.generation_time).map(super::rfc3339);
        let token = econtent(signed_data).unwrap_or_default();
        check_digest_and_value(
            info,
            &parsed.signed_attributes_der,
            &[token],
            signer,
            cms::ID_CT_TST_INFO,
            true,
        )?;
        (
            chain::Usage::TimeStamping,
            parse_generalized_time(&claim.generation_time),
        )
    } else {
        let cades = report.sub_filter == "ETSI.CAdES.detached";
        check_digest_and_value(
            info,
            &parsed.signed_attributes_der,
            &document,
            signer,
            cms::ID_DATA,
            cades,
        )?;
        (
            chain::Usage::DocumentSigning,
            text(&found.dictionary, b"M").and_then(|m| parse_pdf_date(&m)),
        )
    };
    check_signing_certificate(info, signer_der)?;
    evidence.baseline = !timestamp && report.sub_filter == "ETSI.CAdES.detached";
    let mut others: Vec<Vec<u8>> = certificates
        .iter()
        .filter(|(der, _)| der.as_slice() != signer_der)
        .map(|(der, _)| der.clone())
        .collect();
    others.extend(context.store.certificates.iter().cloned());
    let later = ltv::earliest_covering(context.proofs, found.revision);
    let proof = if timestamp {
        later.map(DocumentProof::as_proof)
    } else {
        signature_proof(info, &others, context, later, evidence, report)
    };
    let path = validate_with_proof(
        usage,
        (signer_der, signer),
        &others,
        (context, claimed),
        proof.as_ref(),
        report,
    )?;
    // RFC 5280 §6.3: revocation, once the path (and so the issuer's key) is known.
    context.crls.check(
        (signer_der, path.issuer()),
        context.policy,
        proof.as_ref(),
        report,
    )?;
    let document_proof = match (timestamp, claimed) {
        (true, Some(time)) => Some(DocumentProof {
            revision: found.revision,
            time,
            path,
        }),
        _ => {
            evidence.signer_path = Some(path);
            None
        }
    };
    Ok(document_proof)
}

/// The earliest proof that this signature existed, at or before the validation time: the
/// caller's (the registry's archive), a valid signature timestamp (ETSI EN 319 122-1 §5.3),
/// or a valid document timestamp over its revision (ETSI EN 319 102-1 §5.6.2.3).
fn signature_proof(
    info: &::cms::signed_data::SignerInfo,
    certificates: &[Vec<u8>],
    context: &Context<'_>,
    later: Option<&DocumentProof>,
    evidence: &mut Evidence,
    report: &mut SignatureReport,
) -> Option<ProofOfExistence> {
    let trust = TsaTrust {
        anchors: context.anchors,
        certificates,
        validation_time: context.policy.validation_time,
    };
    let (stamp, messages) = ltv::signature_timestamps(info, &trust, later);
    report.messages.extend(messages);
    let stamp_proof = stamp.as_ref().map(|stamp| ProofOfExistence {
        time: stamp.time,
        evidence: format!("a signature timestamp of {}", rfc3339(stamp.time)),
    });
    evidence.stamp = stamp;
    [
        context.policy.proof_of_existence.clone(),
        stamp_proof,
        later.map(DocumentProof::as_proof),
    ]
    .into_iter()
    .flatten()
    .filter(|proof| proof.time <= context.policy.validation_time)
    .min_by_key(|proof| proof.time)
}

/// The path at the validation time; when it has expired by then (OUT_OF_BOUNDS_NO_POE), at the
/// proven time instead: past signature validation (ETSI EN 319 102-1 §5.6.2.4, simplified).
fn validate_with_proof(
    usage: chain::Usage,
    signer: (&[u8], &x509_cert::Certificate),
    others: &[Vec<u8>],
    (context, claimed): (&Context<'_>, Option<OffsetDateTime>),
    proof: Option<&ProofOfExistence>,
    report: &mut SignatureReport,
) -> Result<ValidatedPath, Failure> {
    let at = |time| chain::validate(usage, signer, others, context.anchors, time, claimed);
    let now = match at(context.policy.validation_time) {
        Ok(path) => return Ok(path),
        Err(failure) => failure,
    };
    let refusal = |f: chain::PathFailure| (f.indication, f.sub_indication, f.message);
    let Some(proof) = proof.filter(|p| p.time < context.policy.validation_time) else {
        return Err(refusal(now));
    };
    if now.sub_indication != SubIndication::OutOfBoundsNoPoe {
        return Err(refusal(now));
    }
    match at(proof.time) {
        Ok(path) => {
            report.messages.push(format!(
                "a certificate on the path has expired by the validation time, but the path was valid at {}, when {} proves this existed",
                rfc3339(proof.time),
                proof.evidence
            ));
            Ok(path)
        }
        Err(_) => {
            let (indication, sub, message) = refusal(now);
            Err((
                indication,
                sub,
                format!(
                    "{message} (the earliest proof, {} by {}, is not from a time the path was valid)",
                    rfc3339(proof.time),
                    proof.evidence
                ),
            ))
        }
    }
}

/// The encapsulated content's octets (a timestamp token's TSTInfo).
pub(crate) fn econtent(signed_data: &SignedData) -> Option<&[u8]> {
    let any = signed_data.encap_content_info.econtent.as_ref()?;
    (der::Tagged::tag(any) == der::Tag::OctetString).then(|| any.value())
}

/// A document timestamp (ISO 32000-2 §12.8.5): its TSTInfo's imprint is the ByteRange's hash.
fn check_timestamp_imprint(
    signed_data: &SignedData,
    document: &[&[u8]],
) -> Result<cms::TimeStampClaim, Failure> {
    if signed_data.encap_content_info.econtent_type != cms::ID_CT_TST_INFO {
        return Err(fail(
            SubIndication::FormatFailure,
            "a document timestamp must carry a TSTInfo",
        ));
    }
    let token = econtent(signed_data).ok_or_else(|| {
        fail(
            SubIndication::FormatFailure,
            "the timestamp token has no TSTInfo",
        )
    })?;
    let claim = cms::parse_tst_info(token).map_err(|e| {
        fail(
            SubIndication::FormatFailure,
            format!("the TSTInfo cannot be read: {e}"),
        )
    })?;
    let algorithm = digest_for(&claim.hash_algorithm).ok_or_else(|| {
        fail(
            SubIndication::CryptoConstraintsFailure,
            format!("imprint hash {} is not accepted", claim.hash_algorithm),
        )
    })?;
    let mut context = digest::Context::new(algorithm);
    for part in document {
        context.update(part);
    }
    if context.finish().as_ref() != claim.hashed_message.as_slice() {
        return Err(fail(
            SubIndication::HashFailure,
            "the document's bytes do not match the timestamp's imprint",
        ));
    }
    Ok(claim)
}

/// `YYYYMMDDHHMMSS[.fraction]Z` (RFC 3161 §2.4.2 genTime).
pub(crate) fn parse_generalized_time(text: &str) -> Option<OffsetDateTime> {
    let digits: String = text.chars().take(14).collect();
    if digits.len() != 14 || !digits.chars().all(|c| c.is_ascii_digit()) || !text.ends_with('Z') {
        return None;
    }
    parse_pdf_date(&format!("D:{digits}Z"))
}

/// ISO 32000-2 §12.8.1: `[0 a b c]`, the gap exactly the `/Contents` hex string, ending at a revision end.
fn check_byte_range(
    pdf: &[u8],
    dictionary: &Dictionary,
    revisions: &[Revision<'_>],
    revision: usize,
) -> Result<[usize; 4], Failure> {
    let range = byte_range(dictionary).ok_or_else(|| {
        fail(
            SubIndication::FormatFailure,
            "/ByteRange is not four non-negative integers",
        )
    })?;
    let [start, a, b, c] = range.map(|v| usize::try_from(v).unwrap_or(usize::MAX));
    let end = b.checked_add(c).filter(|&e| e <= pdf.len());
    if start != 0 || a >= b || end.is_none() {
        return Err(fail(
            SubIndication::FormatFailure,
            format!("/ByteRange {range:?} does not describe this file"),
        ));
    }
    let gap = pdf.get(a..b).unwrap_or_default();
    let Some(Object::String(contents, _)) = dictionary.get(b"Contents") else {
        return Err(fail(
            SubIndication::FormatFailure,
            "the signature has no /Contents",
        ));
    };
    let gap_is_contents = gap.first() == Some(&b'<')
        && gap.last() == Some(&b'>')
        && gap.len() == contents.len() * 2 + 2
        && hex_matches(gap.get(1..gap.len() - 1).unwrap_or_default(), contents);
    if !gap_is_contents {
        return Err(fail(
            SubIndication::FormatFailure,
            "the gap in /ByteRange is not exactly the /Contents string",
        ));
    }
    if revision == 0 || !revisions.iter().any(|r| Some(r.end) == end) {
        return Err(fail(
            SubIndication::FormatFailure,
            "/ByteRange does not end where a revision ends",
        ));
    }
    Ok([start, a, b, c])
}

fn hex_matches(hex: &[u8], bytes: &[u8]) -> bool {
    let mut expected = vec![0u8; bytes.len() * 2];
    crate::pdf::hex_upper_into(&mut expected, bytes);
    hex.len() == expected.len()
        && hex
            .iter()
            .zip(&expected)
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
}

fn signed_content(pdf: &[u8], [_, a, b, c]: [usize; 4]) -> Vec<&[u8]> {
    vec![
        pdf.get(..a).unwrap_or_default(),
        pdf.get(b..b + c).unwrap_or_default(),
    ]
}

fn byte_range(dictionary: &Dictionary) -> Option<[u64; 4]> {
    let items = dictionary.get(b"ByteRange")?.as_array()?;
    let values: Vec<u64> = items
        .iter()
        .map(|i| i.as_integer().and_then(|n| u64::try_from(n).ok()))
        .collect::<Option<_>>()?;
    values.try_into().ok()
}

fn text(dictionary: &Dictionary, key: &[u8]) -> Option<String> {
    match dictionary.get(key)? {
        Object::String(bytes, _) => Some(crate::pdf::object::decode_text(bytes)),
        _ => None,
    }
}

fn docmdp_level(file: &crate::pdf::PdfFile<'_>, dictionary: &Dictionary) -> Option<i64> {
    let references = file.resolve(dictionary.get(b"Reference")?).ok()?;
    for reference in references.as_array()? {
        let reference = file
            .resolve_dictionary(reference, "a signature reference")
            .ok()?;
        if reference.name(b"TransformMethod") == Some(b"DocMDP") {
            let params = reference
                .get(b"TransformParams")
                .and_then(|p| file.resolve_dictionary(p, "params").ok());
            return Some(params.and_then(|p| p.integer(b"P")).unwrap_or(2));
        }
    }
    None
}

/// The certificates the CMS carries, each decoded once: DER (for hashes and webpki) beside
/// the parsed form.
pub(crate) fn carried_certificates(signed_data: &SignedData) -> Vec<(Vec<u8>, &Certificate)> {
    let Some(set) = &signed_data.certificates else {
        return Vec::new();
    };
    set.0
        .iter()
        .filter_map(|choice| match choice {
            ::cms::cert::CertificateChoices::Certificate(certificate) => {
                Some((certificate.to_der().ok()?, certificate))
            }
            _ => None,
        })
        .collect()
}

/// The certificate `sid` names: issuer and serial, or subject key identifier (RFC 5652 §5.3).
pub(crate) fn find_signer(
    certificates: &[(Vec<u8>, &Certificate)],
    sid: &SignerIdentifier,
) -> Option<usize> {
    certificates.iter().position(|(_, certificate)| {
        let tbs = certificate.tbs_certificate();
        match sid {
            SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer,
                serial_number,
            }) => tbs.issuer() == issuer && tbs.serial_number() == serial_number,
            SignerIdentifier::SubjectKeyIdentifier(ski) => {
                let found = tbs.get_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>();
                matches!(found, Ok(Some((_, id))) if id.0 == ski.0)
            }
        }
    })
}

/// An RFC 4514 string with the common attribute names; others by OID. Written here because
/// x509-cert's `Display` looks every OID up in a name database, a tenth of a verification.
fn distinguished_name(name: &x509_cert::name::Name) -> String {
    let label = |oid: &str| match oid {
        "2.5.4.3" => "CN".to_string(),
        "2.5.4.6" => "C".to_string(),
        "2.5.4.7" => "L".to_string(),
        "2.5.4.8" => "ST".to_string(),
        "2.5.4.10" => "O".to_string(),
        "2.5.4.11" => "OU".to_string(),
        "2.5.4.97" => "organizationIdentifier".to_string(),
        other => other.to_string(),
    };
    let mut parts: Vec<String> = name
        .iter()
        .map(|attribute| {
            let value = x509_cert::ext::pkix::name::DirectoryString::try_from(&attribute.value)
                .map(String::from)
                .unwrap_or_else(|_| String::from_utf8_lossy(attribute.value.value()).into_owned());
            format!(
                "{}={}",
                label(&attribute.oid.to_string()),
                value.replace(',', "\\,")
            )
        })
        .collect();
    parts.reverse();
    parts.join(",")
}

fn describe_signer(report: &mut SignatureReport, signer_der: &[u8], certificate: &Certificate) {
    let tbs = certificate.tbs_certificate();
    report.signer = Some(distinguished_name(tbs.subject()));
    report.serial = Some(
        tbs.serial_number()
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect(),
    );
    let fingerprint = digest::digest(&digest::SHA256, signer_der);
    report.sha256_fingerprint = Some(
        fingerprint
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect(),
    );
}

/// messageDigest against the ByteRange bytes, then the signature value (RFC 5652 §5.4, §5.6).
pub(crate) fn check_digest_and_value(
    info: &SignerInfo,
    signed_attributes: &Option<Vec<u8>>,
    content: &[&[u8]],
    signer: &Certificate,
    expected_content_type: const_oid::ObjectIdentifier,
    attributes_required: bool,
) -> Result<(), Failure> {
    let digest_algorithm = digest_for(&info.digest_alg.oid).ok_or_else(|| {
        fail(
            SubIndication::CryptoConstraintsFailure,
            format!("digest algorithm {} is not accepted", info.digest_alg.oid),
        )
    })?;
    let mut context = digest::Context::new(digest_algorithm);
    for part in content {
        context.update(part);
    }
    let content_digest = context.finish();
    let message = match (&info.signed_attrs, signed_attributes) {
        (Some(attributes), Some(raw)) => {
            let content_type = attribute_value(attributes, cms::ID_CONTENT_TYPE)
                .and_then(|v| v.decode_as::<const_oid::ObjectIdentifier>().ok());
            if content_type != Some(expected_content_type) {
                return Err(fail(
                    SubIndication::FormatFailure,
                    format!(
                        "the signed content-type attribute is missing or not {expected_content_type}"
                    ),
                ));
            }
            let signed_digest = attribute_value(attributes, cms::ID_MESSAGE_DIGEST)
                .and_then(|v| v.decode_as::<OctetString>().ok());
            let signed_digest = signed_digest.ok_or_else(|| {
                fail(
                    SubIndication::FormatFailure,
                    "the message-digest attribute is missing",
                )
            })?;
            if signed_digest.as_bytes() != content_digest.as_ref() {
                return Err(fail(
                    SubIndication::HashFailure,
                    "the document's bytes do not match the signed digest: they were changed after signing",
                ));
            }
            raw.clone()
        }
        _ if attributes_required => {
            return Err(fail(
                SubIndication::FormatFailure,
                "a CAdES signature must have signed attributes",
            ));
        }
        _ => content.concat(),
    };
    let verified = match verification_key(info, signer)? {
        Verifier::Ring(algorithm, key) => UnparsedPublicKey::new(algorithm, key)
            .verify(&message, info.signature.as_bytes())
            .is_ok(),
        Verifier::PssSalt { hash, salt, key } => {
            verify_pss_salt(hash, salt, &key, &message, info.signature.as_bytes())
        }
    };
    if verified {
        Ok(())
    } else {
        Err(fail(
            SubIndication::SigCryptoFailure,
            "the signature value does not verify with the signer's key",
        ))
    }
}

pub(crate) fn attribute_value(
    attributes: &x509_cert::attr::Attributes,
    oid: const_oid::ObjectIdentifier,
) -> Option<&der::Any> {
    attributes.iter().find(|a| a.oid == oid)?.values.get(0)
}

pub(crate) fn digest_for(oid: &const_oid::ObjectIdentifier) -> Option<&'static digest::Algorithm> {
    match oid.to_string().as_str() {
        "2.16.840.1.101.3.4.2.1" => Some(&digest::SHA256),
        "2.16.840.1.101.3.4.2.2" => Some(&digest::SHA384),
        "2.16.840.1.101.3.4.2.3" => Some(&digest::SHA512),
        _ => None,
    }
}

/// How to check a signature value.
enum Verifier {
    Ring(&'static dyn VerificationAlgorithm, Vec<u8>),
    /// RSASSA-PSS whose salt is not the hash's length: ring only verifies that one case.
    PssSalt {
        hash: usize,
        salt: usize,
        key: Vec<u8>,
    },
}

/// The verifier for the signature: from the SignerInfo's algorithms and the key's type.
fn verification_key(info: &SignerInfo, certificate: &Certificate) -> Result<Verifier, Failure> {
    let spki = certificate.tbs_certificate().subject_public_key_info();
    let key = spki.subject_public_key.raw_bytes().to_vec();
    let key_type = spki.algorithm.oid.to_string();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok())
        .map(|c| c.to_string());
    let signature = info.signature_algorithm.oid.to_string();
    let refused = || {
        fail(
            SubIndication::CryptoConstraintsFailure,
            format!("signature algorithm {signature} with a {key_type} key is not accepted"),
        )
    };
    if signature == "1.2.840.113549.1.1.10" {
        return pss_verifier(info, key).ok_or_else(refused);
    }
    let hash = match signature.as_str() {
        "1.2.840.10045.4.3.2" | "1.2.840.113549.1.1.11" => 256,
        "1.2.840.10045.4.3.3" | "1.2.840.113549.1.1.12" => 384,
        "1.2.840.10045.4.3.4" | "1.2.840.113549.1.1.13" => 512,
        // rsaEncryption or id-ecPublicKey as the "signature algorithm": the digest decides.
        _ => digest_for(&info.digest_alg.oid).map_or(0, |d| d.output_len() * 8),
    };
    let algorithm: Option<&'static dyn VerificationAlgorithm> =
        match (key_type.as_str(), curve.as_deref(), hash) {
            ("1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7"), 256) => {
                Some(&ring_signature::ECDSA_P256_SHA256_ASN1)
            }
            ("1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7"), 384) => {
                Some(&ring_signature::ECDSA_P256_SHA384_ASN1)
            }
            ("1.2.840.10045.2.1", Some("1.3.132.0.34"), 256) => {
                Some(&ring_signature::ECDSA_P384_SHA256_ASN1)
            }
            ("1.2.840.10045.2.1", Some("1.3.132.0.34"), 384) => {
                Some(&ring_signature::ECDSA_P384_SHA384_ASN1)
            }
            ("1.2.840.113549.1.1.1", _, 256) => Some(&ring_signature::RSA_PKCS1_2048_8192_SHA256),
            ("1.2.840.113549.1.1.1", _, 384) => Some(&ring_signature::RSA_PKCS1_2048_8192_SHA384),
            ("1.2.840.113549.1.1.1", _, 512) => Some(&ring_signature::RSA_PKCS1_2048_8192_SHA512),
            ("1.3.101.112", _, _) => Some(&ring_signature::ED25519),
            _ => None,
        };
    algorithm
        .map(|a| Verifier::Ring(a, key))
        .ok_or_else(refused)
}

/// RSASSA-PSS-params (RFC 4055 §3.1).
#[derive(der::Sequence)]
struct PssParameters {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<spki::AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask: Option<spki::AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer: Option<u32>,
}

/// PSS with SHA-2, MGF1 over the same hash; SHA-1 (the parameters' default) is refused.
fn pss_verifier(info: &SignerInfo, key: Vec<u8>) -> Option<Verifier> {
    let parameters = info
        .signature_algorithm
        .parameters
        .as_ref()?
        .decode_as::<PssParameters>()
        .ok()?;
    let hash = digest_for(&parameters.hash?.oid)?;
    let mask = parameters.mask?;
    let mask_hash = mask
        .parameters?
        .decode_as::<spki::AlgorithmIdentifierOwned>()
        .ok()?;
    if mask.oid.to_string() != "1.2.840.113549.1.1.8"
        || digest_for(&mask_hash.oid)? != hash
        || parameters.trailer.unwrap_or(1) != 1
    {
        return None;
    }
    let salt = usize::try_from(parameters.salt.unwrap_or(20)).ok()?;
    let bits = hash.output_len() * 8;
    if salt != hash.output_len() {
        return Some(Verifier::PssSalt {
            hash: bits,
            salt,
            key,
        });
    }
    let algorithm: &'static dyn VerificationAlgorithm = match bits {
        256 => &ring_signature::RSA_PSS_2048_8192_SHA256,
        384 => &ring_signature::RSA_PSS_2048_8192_SHA384,
        _ => &ring_signature::RSA_PSS_2048_8192_SHA512,
    };
    Some(Verifier::Ring(algorithm, key))
}

/// RSASSA-PSS verification with an explicit salt length, by RustCrypto's rsa.
fn verify_pss_salt(hash: usize, salt: usize, key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::traits::PublicKeyParts;
    use sha2::Digest;
    let Ok(public) = rsa::PublicKey::from_pkcs1_der(key) else {
        return false;
    };
    let bits = public.size() * 8;
    if !(2048..=8192).contains(&bits) {
        return false;
    }
    let outcome = match hash {
        256 => public.verify(
            rsa::Pss::<sha2::Sha256>::new_with_salt(salt),
            &sha2::Sha256::digest(message),
            signature,
        ),
        384 => public.verify(
            rsa::Pss::<sha2::Sha384>::new_with_salt(salt),
            &sha2::Sha384::digest(message),
            signature,
        ),
        _ => public.verify(
            rsa::Pss::<sha2::Sha512>::new_with_salt(salt),
            &sha2::Sha512::digest(message),
            signature,
        ),
    };
    outcome.is_ok()
}

/// ESS signing-certificate(-v2) must name the signer's certificate (RFC 5035 §5.4, RFC 2634 §5.4).
pub(crate) fn check_signing_certificate(
    info: &SignerInfo,
    signer_der: &[u8],
) -> Result<(), Failure> {
    let Some(attributes) = &info.signed_attrs else {
        return Ok(());
    };
    if let Some(value) = attribute_value(attributes, cms::ID_SIGNING_CERTIFICATE_V2) {
        let ess = value.decode_as::<SigningCertificateV2>().map_err(|e| {
            fail(
                SubIndication::FormatFailure,
                format!("signing-certificate-v2 cannot be read: {e}"),
            )
        })?;
        let first = ess.certs.first().ok_or_else(|| {
            fail(
                SubIndication::FormatFailure,
                "signing-certificate-v2 names no certificate",
            )
        })?;
        let algorithm = match &first.hash_algorithm {
            None => &digest::SHA256,
            Some(a) => digest_for(&a.oid).ok_or_else(|| {
                fail(
                    SubIndication::CryptoConstraintsFailure,
                    "signing-certificate-v2 uses an unaccepted hash",
                )
            })?,
        };
        if digest::digest(algorithm, signer_der).as_ref() != first.cert_hash.as_bytes() {
            return Err(fail(
                SubIndication::FormatFailure,
                "signing-certificate-v2 names a different certificate than the one that signed",
            ));
        }
    } else if let Some(value) = attribute_value(attributes, ID_SIGNING_CERTIFICATE_V1) {
        let hash = value
            .decode_as::<EssV1>()
            .ok()
            .and_then(|v| v.certs.into_iter().next())
            .map(|c| c.cert_hash);
        let expected = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, signer_der);
        if hash.as_ref().map(OctetString::as_bytes) != Some(expected.as_ref()) {
            return Err(fail(
                SubIndication::FormatFailure,
                "signing-certificate names a different certificate than the one that signed",
            ));
        }
    }
    Ok(())
}

/// id-aa-signingCertificate (RFC 2634 §5.4).
pub(crate) const ID_SIGNING_CERTIFICATE_V1: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");

#[derive(der::Sequence)]
struct EssV1 {
    certs: Vec<EssCertIdV1>,
}

#[derive(der::Sequence)]
struct EssCertIdV1 {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<der::Any>,
}

/// Reads a PDF date (ISO 32000-2 §7.9.4): `D:YYYYMMDDHHmmSS+HH'mm'`, later parts optional.
pub(crate) fn parse_pdf_date(text: &str) -> Option<OffsetDateTime> {
    let digits = text.strip_prefix("D:").unwrap_or(text);
    let number = |range: std::ops::Range<usize>, default: u32| -> Option<u32> {
        match digits.get(range) {
            Some(part) if part.chars().all(|c| c.is_ascii_digit()) && !part.is_empty() => {
                part.parse().ok()
            }
            _ => Some(default),
        }
    };
    let year = i32::try_from(number(0..4, 0)?).ok()?;
    let month = time::Month::try_from(u8::try_from(number(4..6, 1)?).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(year, month, u8::try_from(number(6..8, 1)?).ok()?).ok()?;
    let clock = time::Time::from_hms(
        u8::try_from(number(8..10, 0)?).ok()?,
        u8::try_from(number(10..12, 0)?).ok()?,
        u8::try_from(number(12..14, 0)?).ok()?,
    )
    .ok()?;
    let offset = match digits.get(14..15) {
        Some(sign @ ("+" | "-")) => {
            let hours = i8::try_from(number(15..17, 0)?).ok()?;
            let minutes = i8::try_from(number(18..20, 0)?).ok()?;
            let factor = if sign == "-" { -1 } else { 1 };
            time::UtcOffset::from_hms(factor * hours, factor * minutes, 0).ok()?
        }
        _ => time::UtcOffset::UTC,
    };
    Some(time::PrimitiveDateTime::new(date, clock).assume_offset(offset))
}

impl From<PdfError> for Failure {
    fn from(error: PdfError) -> Self {
        fail(SubIndication::FormatFailure, error.to_string())
    }
}
