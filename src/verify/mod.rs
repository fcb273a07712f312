//! Verification: every signature of every revision, what changed after each, and one verdict
//! in ETSI EN 319 102-1 terms. Pure: the validation time, the trust anchors, the CRLs and any
//! proof of existence are passed in.

mod chain;
mod changes;
mod ltv;
mod revocation;
mod signature;
pub mod text;
pub mod tsp_client;

use serde::Serialize;
use time::OffsetDateTime;

use crate::pdf::{Limits, PdfError, PdfFile};

pub use chain::TrustAnchors;

/// Main indication (ETSI EN 319 102-1 §5.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Indication {
    #[serde(rename = "TOTAL-PASSED")]
    TotalPassed,
    #[serde(rename = "TOTAL-FAILED")]
    TotalFailed,
    #[serde(rename = "INDETERMINATE")]
    Indeterminate,
}

impl Indication {
    /// The ETSI name, as the JSON report spells it.
    pub fn as_label(self) -> &'static str {
        match self {
            Indication::TotalPassed => "TOTAL-PASSED",
            Indication::TotalFailed => "TOTAL-FAILED",
            Indication::Indeterminate => "INDETERMINATE",
        }
    }
}

/// Sub-indications used here (ETSI EN 319 102-1 §5.1.3, Table 5/6); EU DSS uses the same names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubIndication {
    /// The document's bytes do not hash to the signed message digest.
    HashFailure,
    /// The signature value does not verify with the signer's public key.
    SigCryptoFailure,
    /// The signature or its container is malformed.
    FormatFailure,
    /// The signed attributes or the document's permissions forbid what was found.
    SigConstraintsFailure,
    /// The signer's certificate is not among those the signature carries.
    NoSigningCertificateFound,
    /// No path from the signer's certificate to a trust anchor.
    NoCertificateChainFound,
    /// A certificate on the path breaks its constraints (usage, CA flags, signatures).
    ChainConstraintsFailure,
    /// The signer's certificate had expired at the validation time and nothing proves the
    /// signature existed while it was valid.
    OutOfBoundsNoPoe,
    /// The signer's certificate was not yet valid at the claimed signing time.
    NotYetValid,
    /// An algorithm the verifier does not accept.
    CryptoConstraintsFailure,
    /// The signer's certificate was revoked because its key was compromised, and nothing
    /// proves the signature existed before the revocation (see `verify/revocation.rs`).
    Revoked,
    /// The signer's certificate was revoked for another reason, and nothing proves the
    /// signature existed before the revocation.
    RevokedNoPoe,
}

/// A time at which the signed document is proven to have existed (ETSI EN 319 102-1 §5.6.2.3,
/// proof of existence), and what proves it. A claimed signing time (`/M`, the signingTime
/// attribute) is a claim, never a proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofOfExistence {
    pub time: OffsetDateTime,
    /// For the report: e.g. "the registry recorded issuing these exact bytes".
    pub evidence: String,
}

/// What the verifier needs besides the file.
#[derive(Clone, Debug)]
pub struct Policy {
    /// "Now" for certificate validity: passed in, the core reads no clock.
    pub validation_time: OffsetDateTime,
    pub limits: Limits,
    /// Most revisions analysed before the file is refused.
    pub max_revisions: usize,
    /// Most signatures checked before the file is refused.
    pub max_signatures: usize,
    /// CRLs (DER) that may concern the signers' certificates (RFC 5280 §6.3). Each counts only
    /// when its issuer's key, the one that signed the certificate, signed it.
    pub crls: Vec<Vec<u8>>,
    /// When the whole document is proven to have existed, if anything proves it. Every signature
    /// in the file existed then too. Signature and document timestamps found valid in the file
    /// are further proofs; the earliest wins (`signature::signature_proof`).
    pub proof_of_existence: Option<ProofOfExistence>,
}

impl Policy {
    pub fn new(validation_time: OffsetDateTime) -> Self {
        Self {
            validation_time,
            limits: Limits::default(),
            max_revisions: 256,
            max_signatures: 256,
            crls: Vec::new(),
            proof_of_existence: None,
        }
    }
}

/// A change made after a signature, in words a person can follow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Modification {
    /// 1-based revision that made the change.
    pub revision: usize,
    pub description: String,
    /// Whether the signature's permissions (DocMDP, or form filling and signing when none) allow it.
    pub permitted: bool,
}

/// One signature's verdict (ETSI EN 319 102-1 §5.1.3 validation report, simplified).
#[derive(Clone, Debug, Serialize)]
pub struct SignatureReport {
    pub field: String,
    pub indication: Indication,
    pub sub_indication: Option<SubIndication>,
    /// Why, in one line per finding.
    pub messages: Vec<String>,
    pub sub_filter: String,
    /// `DocTimeStamp` signatures are timestamps, not signers.
    pub kind: String,
    pub signer: Option<String>,
    pub serial: Option<String>,
    pub sha256_fingerprint: Option<String>,
    /// The claimed signing time (`/M`), RFC 3339.
    pub signing_time: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    /// DocMDP P of a certification signature.
    pub certification_level: Option<i64>,
    /// 1-based revision the signature covers.
    pub revision: usize,
    pub covers_whole_file: bool,
    pub byte_range: Vec<u64>,
    pub modifications: Vec<Modification>,
    /// The PAdES baseline level reached (ETSI EN 319 142-1 §6): "B-B", "B-T", "B-LT" or "B-LTA".
    /// None for a document timestamp, a signature that is not PAdES (adbe.pkcs7.detached), or
    /// one that failed.
    pub pades_level: Option<String>,
}

/// The whole document's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Version of this report's JSON schema (docs/verify-report.md).
    pub schema: u32,
    pub indication: Indication,
    /// One line saying why, for people.
    pub summary: String,
    pub revisions: usize,
    pub validation_time: String,
    pub signatures: Vec<SignatureReport>,
    /// Findings about the inputs rather than a signature: CRLs that could not be read or that
    /// concern none of the signers.
    pub warnings: Vec<String>,
}

impl Report {
    /// Whether the document passes: signatures exist and every one passed.
    pub fn passed(&self) -> bool {
        self.indication == Indication::TotalPassed
    }
}

/// Why a file could not be verified at all (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error("more than {0} revisions")]
    TooManyRevisions(usize),
    #[error("more than {0} signatures")]
    TooManySignatures(usize),
}

/// Verifies every signature of `pdf` against `anchors` as of `policy.validation_time`, with the
/// validation data the file's DSS holds besides what the policy gives.
pub fn verify(pdf: &[u8], anchors: &TrustAnchors, policy: &Policy) -> Result<Report, VerifyError> {
    let file = PdfFile::open(pdf, policy.limits)?;
    let revisions = changes::revisions(pdf, file, policy)?;
    let found = signature::find_signatures(&revisions, policy.max_signatures)?;
    let store = ltv::read_store(&revisions);
    let crls = revocation::Crls::parse_with_document(&store.crls, &policy.crls);
    let (mut reports, proofs) =
        check_signatures(pdf, &found, &revisions, (anchors, policy), (&store, &crls));
    // Signatures of one revision share its change analysis.
    let mut analysed: std::collections::HashMap<(usize, Option<i64>), Vec<Modification>> =
        std::collections::HashMap::new();
    for (signature, (report, evidence)) in found.iter().zip(reports.iter_mut()) {
        let key = (signature.revision, signature.certification_level);
        if signature.revision > 0 && !analysed.contains_key(&key) {
            let changes = changes::after(
                &revisions,
                signature.revision,
                signature.certification_level,
            )?;
            analysed.insert(key, changes);
        }
        report.modifications = analysed.get(&key).cloned().unwrap_or_default();
        if report.modifications.iter().any(|m| !m.permitted)
            && report.indication != Indication::TotalFailed
        {
            report.indication = Indication::TotalFailed;
            report.sub_indication = Some(SubIndication::SigConstraintsFailure);
            report.messages.push(
                "the document was changed after this signature in ways it does not permit".into(),
            );
        }
        if report.indication != Indication::TotalFailed {
            report.pades_level =
                ltv::pades_level(evidence, signature.revision, &proofs, &store, &crls)
                    .map(String::from);
        }
    }
    let reports: Vec<SignatureReport> = reports.into_iter().map(|(report, _)| report).collect();
    let (indication, summary) = overall(&reports);
    let mut warnings = store.notes.clone();
    warnings.extend(crls.warnings());
    Ok(Report {
        schema: 1,
        indication,
        summary,
        revisions: revisions.len(),
        validation_time: rfc3339(policy.validation_time),
        signatures: reports,
        warnings,
    })
}

/// Checks every signature: document timestamps first, newest to oldest, so that each one found
/// valid proves the existence of what it covers when the older ones are checked (ETSI EN 319
/// 102-1 §5.6.2.3); then the signatures. Reports come back in `found`'s order, beside the
/// valid document timestamps.
fn check_signatures(
    pdf: &[u8],
    found: &[signature::FoundSignature],
    revisions: &[changes::Revision<'_>],
    (anchors, policy): (&TrustAnchors, &Policy),
    (store, crls): (&ltv::DocumentStore, &revocation::Crls),
) -> (
    Vec<(SignatureReport, ltv::Evidence)>,
    Vec<ltv::DocumentProof>,
) {
    let is_timestamp =
        |s: &signature::FoundSignature| s.dictionary.name(b"Type") == Some(b"DocTimeStamp");
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.sort_by_key(|&index| {
        found.get(index).map_or((1, 0), |s| {
            if is_timestamp(s) {
                (0, usize::MAX - s.revision)
            } else {
                (1, s.revision)
            }
        })
    });
    let mut proofs: Vec<ltv::DocumentProof> = Vec::new();
    let mut checked: Vec<Option<(SignatureReport, ltv::Evidence)>> = vec![None; found.len()];
    for index in order {
        let Some(signature) = found.get(index) else {
            continue;
        };
        let context = signature::Context {
            anchors,
            crls,
            policy,
            store,
            proofs: &proofs,
        };
        let (report, evidence, proof) = signature::check(pdf, signature, revisions, &context);
        proofs.extend(proof.filter(|_| report.indication == Indication::TotalPassed));
        if let Some(slot) = checked.get_mut(index) {
            *slot = Some((report, evidence));
        }
    }
    (checked.into_iter().flatten().collect(), proofs)
}

/// The document's indication: failed if any signature failed, indeterminate if any is, passed
/// only when there are signatures and all passed.
fn overall(reports: &[SignatureReport]) -> (Indication, String) {
    // A document timestamp (ETSI.RFC3161) is evidence about time, not a signer: it decides the
    // verdict only when it fails outright, which means the bytes it covers were changed.
    let counted: Vec<&SignatureReport> = reports
        .iter()
        .filter(|r| r.kind != "DocTimeStamp" || r.indication == Indication::TotalFailed)
        .collect();
    if !reports.iter().any(|r| r.kind != "DocTimeStamp") {
        return (
            Indication::TotalFailed,
            "the document carries no signature".into(),
        );
    }
    let failed = counted
        .iter()
        .filter(|r| r.indication == Indication::TotalFailed)
        .count();
    let unsure = counted
        .iter()
        .filter(|r| r.indication == Indication::Indeterminate)
        .count();
    let total = counted.len();
    match (failed, unsure) {
        (0, 0) => (
            Indication::TotalPassed,
            format!("all {total} signature(s) are valid and nothing impermissible changed"),
        ),
        (0, n) => (
            Indication::Indeterminate,
            format!("{n} of {total} signature(s) could not be confirmed"),
        ),
        (n, _) => (
            Indication::TotalFailed,
            format!("{n} of {total} signature(s) failed"),
        ),
    }
}

pub(crate) fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::pdf::testing::one_page;
    use crate::sign::{SignatureRequest, sign_pdf};
    use crate::test_support::test_signer;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_764_000_000).unwrap()
    }

    fn signed_once() -> (Vec<u8>, TrustAnchors) {
        let (signer, certificate) = test_signer();
        let signed = sign_pdf(&one_page(), &signer, &SignatureRequest::new(now())).unwrap();
        let mut anchors = TrustAnchors::new();
        anchors.add_pem_or_der(&certificate).unwrap();
        (signed, anchors)
    }

    fn check(pdf: &[u8], anchors: &TrustAnchors) -> Report {
        verify(pdf, anchors, &Policy::new(now())).unwrap()
    }

    #[test]
    fn an_untouched_signature_passes() {
        let (signed, anchors) = signed_once();
        let report = check(&signed, &anchors);
        assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
        assert!(report.signatures[0].covers_whole_file);
        assert_eq!(report.signatures[0].revision, 2);
    }

    #[test]
    fn a_flipped_byte_in_the_signed_range_is_a_hash_failure() {
        let (mut signed, anchors) = signed_once();
        let at = signed.windows(8).position(|w| w == b"/MediaBo").unwrap();
        signed[at + 1] = b'm';
        let report = check(&signed, &anchors);
        assert_eq!(
            report.signatures[0].sub_indication,
            Some(SubIndication::HashFailure)
        );
        assert_eq!(report.indication, Indication::TotalFailed);
    }

    #[test]
    fn an_unknown_root_is_indeterminate() {
        let (signed, _) = signed_once();
        let (_, other) = test_signer();
        let mut anchors = TrustAnchors::new();
        anchors.add_pem_or_der(&other).unwrap();
        let report = check(&signed, &anchors);
        assert_eq!(report.indication, Indication::Indeterminate, "{report:#?}");
        assert_eq!(
            report.signatures[0].sub_indication,
            Some(SubIndication::NoCertificateChainFound),
            "{:?}",
            report.signatures[0].messages
        );
    }

    #[test]
    fn an_appended_page_content_edit_is_not_permitted() {
        let (signed, anchors) = signed_once();
        let prev = signed.windows(9).rposition(|w| w == b"startxref").unwrap();
        let prev: usize = String::from_utf8_lossy(&signed[prev + 10..])
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let mut edited = signed.clone();
        let offset = edited.len();
        edited.extend_from_slice(
            b"4 0 obj\n<< /Length 14 >>\nstream\nBT /F1 9 Tf ET\nendstream\nendobj\n",
        );
        let xref = edited.len();
        edited.extend_from_slice(format!("xref\n4 1\n{offset:010} 00000 n\r\ntrailer\n<< /Size 9 /Root 1 0 R /Prev {prev} >>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
        let report = check(&edited, &anchors);
        let signature = &report.signatures[0];
        assert_eq!(report.indication, Indication::TotalFailed, "{report:#?}");
        assert_eq!(
            signature.sub_indication,
            Some(SubIndication::SigConstraintsFailure)
        );
        assert!(!signature.covers_whole_file);
        assert!(
            signature
                .modifications
                .iter()
                .any(|m| !m.permitted && m.description.contains("page 1 content")),
            "{:?}",
            signature.modifications
        );
    }

    #[test]
    fn a_second_signature_is_a_permitted_change() {
        let (signer, certificate) = test_signer();
        let once = sign_pdf(&one_page(), &signer, &SignatureRequest::new(now())).unwrap();
        let twice = sign_pdf(&once, &signer, &SignatureRequest::new(now())).unwrap();
        let mut anchors = TrustAnchors::new();
        anchors.add_pem_or_der(&certificate).unwrap();
        let report = check(&twice, &anchors);
        assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
        assert_eq!(report.signatures.len(), 2);
        assert!(!report.signatures[0].covers_whole_file);
        assert!(
            report.signatures[0]
                .modifications
                .iter()
                .all(|m| m.permitted)
        );
    }

    #[test]
    fn no_signature_fails() {
        let (_, anchors) = signed_once();
        assert_eq!(
            check(&one_page(), &anchors).indication,
            Indication::TotalFailed
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod hidden_signature_tests {
    use super::*;
    use crate::pdf::Object;
    use crate::pdf::testing::one_page;
    use crate::sign::{SignatureRequest, sign_pdf};
    use crate::test_support::test_signer;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_764_000_000).unwrap()
    }

    /// Appends a revision with a new signature field whose value is `value` (written as is).
    fn append_field(signed: &[u8], value: &str) -> Vec<u8> {
        let file = PdfFile::open(signed, Limits::default()).unwrap();
        let (catalog_id, catalog) = file.catalog().unwrap();
        let form_id = catalog.reference(b"AcroForm").unwrap();
        let mut form = file
            .resolve_dictionary(&Object::Reference(form_id), "form")
            .unwrap();
        let size = file.size();
        let mut fields = file
            .resolve(form.get(b"Fields").unwrap())
            .unwrap()
            .as_array()
            .unwrap()
            .clone();
        fields.push(Object::Reference(crate::pdf::ObjectId::new(size, 0)));
        form.set(b"Fields", fields);
        let mut out = signed.to_vec();
        let field_at = out.len();
        out.extend_from_slice(
            format!("{size} 0 obj\n<< /FT /Sig /T (Forged) /V {value} >>\nendobj\n").as_bytes(),
        );
        let form_at = out.len();
        out.extend_from_slice(format!("{} 0 obj\n", form_id.number).as_bytes());
        out.extend_from_slice(&crate::pdf::serialize(&Object::Dictionary(form)));
        out.extend_from_slice(b"\nendobj\n");
        let xref = out.len();
        out.extend_from_slice(
            format!(
                "xref\n{} 1\n{form_at:010} 00000 n\r\n{size} 1\n{field_at:010} 00000 n\r\ntrailer\n<< /Size {} /Root {} 0 R /Prev {} >>\nstartxref\n{xref}\n%%EOF\n",
                form_id.number,
                size + 1,
                catalog_id.number,
                file.newest_xref_offset()
            )
            .as_bytes(),
        );
        out
    }

    #[test]
    fn an_unreadable_or_copied_signature_is_reported_not_hidden() {
        let (signer, certificate) = test_signer();
        let signed = sign_pdf(&one_page(), &signer, &SignatureRequest::new(now())).unwrap();
        let mut anchors = TrustAnchors::new();
        anchors.add_pem_or_der(&certificate).unwrap();
        let policy = Policy::new(now());
        // A field that cannot be read at all makes the file unreadable, never a pass.
        let unreadable = append_field(&signed, "<< /ByteRange [0 1 2 3] /Contents <12G4> >>");
        if let Ok(report) = verify(&unreadable, &anchors, &policy) {
            assert_ne!(report.indication, Indication::TotalPassed, "{report:#?}");
        }
        let file = PdfFile::open(&signed, Limits::default()).unwrap();
        let original = (1..file.size())
            .find_map(
                |n| match file.object(crate::pdf::ObjectId::new(n, 0)).ok()? {
                    crate::pdf::IndirectValue::Object(Object::Dictionary(d))
                        if d.name(b"Type") == Some(b"Sig") =>
                    {
                        Some(d)
                    }
                    _ => None,
                },
            )
            .unwrap();
        let range = crate::pdf::serialize(original.get(b"ByteRange").unwrap());
        let copied = append_field(
            &signed,
            &format!(
                "<< /ByteRange {} /Contents <3000> >>",
                String::from_utf8_lossy(&range)
            ),
        );
        let report = verify(&copied, &anchors, &policy).unwrap();
        assert_eq!(report.signatures.len(), 2, "{report:#?}");
        assert_eq!(report.indication, Indication::TotalFailed, "{report:#?}");
    }
}
