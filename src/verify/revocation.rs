//! Whether the signer's certificate was revoked (RFC 5280 §6.3), by the CRLs the policy carries,
//! and what a revocation does to the verdict given proof of existence (ETSI EN 319 102-1 §5.2.6
//! X.509 certificate validation, §5.6.2.4 past signature validation).
//!
//! The rules, kept deliberately simple:
//! - A CRL counts only when the key that signed the signer's certificate signed it, under the
//!   same issuer name (`pki::RevocationList::check_signature`). One in the issuer's name that
//!   fails is reported and ignored: it can neither revoke nor clear anything.
//! - A listed certificate is untrusted from its revocation date, or from its invalidity date
//!   when that is earlier (RFC 5280 §5.3.2).
//! - A signature proven to have existed before then passes, and says so. "Proven" means
//!   `Policy::proof_of_existence` (the bureau's registry, later RFC 3161 timestamps); the claimed
//!   signing time proves nothing.
//! - Otherwise, for a key compromise (keyCompromise, cACompromise, aACompromise) anyone may have
//!   made the signature: TOTAL-FAILED / REVOKED. For any other reason (or none):
//!   INDETERMINATE / REVOKED_NO_POE, as ETSI EN 319 102-1 Table 5 words it.

use std::cell::{Cell, RefCell};

use time::OffsetDateTime;

use super::{Indication, Policy, ProofOfExistence, SignatureReport, SubIndication, rfc3339};
use crate::pki::{CertificateSerial, CrlError, RevocationList, RevokedCertificateEntry};

/// The policy's CRLs and the document's (its DSS), parsed once per verification, remembering
/// which concerned a signer.
pub(crate) struct Crls {
    lists: Vec<(RevocationList, Cell<bool>)>,
    /// For each of the first entries of `lists`, the ones from the document's DSS, its index
    /// among the DSS's CRLs.
    from_document: Vec<usize>,
    unreadable: Vec<String>,
    /// (list index, issuer certificate) pairs whose signature already verified: each CRL's
    /// ECDSA or RSA check runs once per verification, however many paths ask.
    verified: RefCell<Vec<(usize, Vec<u8>)>>,
}

/// A revocation's effect on one signature: its indication, sub-indication and why.
pub(crate) type Refusal = (Indication, SubIndication, String);

impl Crls {
    /// The document's DSS CRLs (`document`) and the caller's (`given`). The document's are
    /// validation data the signer chose to keep (ETSI EN 319 142-1 §5.4.2): one about another
    /// certificate (a TSA's issuer, say) is no finding, so they never warn as unused.
    pub(crate) fn parse_with_document(document: &[Vec<u8>], given: &[Vec<u8>]) -> Crls {
        let mut lists = Vec::new();
        let mut unreadable = Vec::new();
        let mut from_document = Vec::new();
        for (index, der) in document.iter().enumerate() {
            match RevocationList::from_der(der) {
                Ok(list) => {
                    lists.push((list, Cell::new(true)));
                    from_document.push(index);
                }
                Err(error) => unreadable.push(format!(
                    "CRL {} of the document's DSS was ignored: {error}",
                    index + 1
                )),
            }
        }
        for (index, der) in given.iter().enumerate() {
            // The same CRL kept in the DSS and given by the caller is one CRL.
            if document.contains(der) {
                continue;
            }
            match RevocationList::from_der(der) {
                Ok(list) => lists.push((list, Cell::new(false))),
                Err(error) => unreadable.push(format!("CRL {} was ignored: {error}", index + 1)),
            }
        }
        Crls {
            lists,
            from_document,
            unreadable,
            verified: RefCell::new(Vec::new()),
        }
    }

    /// `lists[index]`'s signature checked against `issuer_der`, remembered when it holds.
    fn signed_by(&self, index: usize, issuer_der: &[u8]) -> Result<(), CrlError> {
        let known = |(i, issuer): &(usize, Vec<u8>)| *i == index && issuer == issuer_der;
        if self.verified.borrow().iter().any(known) {
            return Ok(());
        }
        let list = self.lists.get(index).map(|(list, _)| list);
        let checked = list.map_or(Ok(()), |list| list.check_signature(issuer_der));
        if checked.is_ok() {
            self.verified
                .borrow_mut()
                .push((index, issuer_der.to_vec()));
        }
        checked
    }

    /// The DSS indices of the document's CRLs that the key of `issuer_der` signed: the
    /// revocation data B-LT asks for each certificate it issued (ETSI EN 319 142-1 §6.3).
    pub(crate) fn document_crls_from(&self, issuer_der: &[u8]) -> Vec<usize> {
        self.from_document
            .iter()
            .enumerate()
            .filter(|(position, _)| self.signed_by(*position, issuer_der).is_ok())
            .map(|(_, index)| *index)
            .collect()
    }

    /// Report-level findings: unreadable CRLs, and CRLs that concerned no signer's issuer.
    pub(crate) fn warnings(&self) -> Vec<String> {
        let mut warnings = self.unreadable.clone();
        for (list, used) in &self.lists {
            if !used.get() {
                warnings.push(format!(
                    "the CRL number {} of {} concerns none of the signers' issuers and was ignored",
                    list.number(),
                    list.issuer()
                ));
            }
        }
        warnings
    }

    /// Looks the signer (`signer_der`, issued by `issuer_der`) up in every CRL its issuer made,
    /// a revocation judged against `proof`, the earliest proof of the signature's existence.
    /// A pass may add a line to `report.messages`; a refusal is returned.
    pub(crate) fn check(
        &self,
        (signer_der, issuer_der): (&[u8], &[u8]),
        policy: &Policy,
        proof: Option<&ProofOfExistence>,
        report: &mut SignatureReport,
    ) -> Result<(), Refusal> {
        if self.lists.is_empty() {
            return Ok(());
        }
        let Some(serial) = CertificateSerial::of_certificate(signer_der) else {
            return Ok(());
        };
        let mut trusted: Vec<&RevocationList> = Vec::new();
        for (position, (list, used)) in self.lists.iter().enumerate() {
            match self.signed_by(position, issuer_der) {
                Ok(()) => {
                    used.set(true);
                    trusted.push(list);
                }
                // Another issuer's CRL: not about this signer.
                Err(CrlError::WrongIssuer { .. }) if !names_match(list, issuer_der) => {}
                Err(error) => {
                    used.set(true);
                    report.messages.push(format!(
                        "a CRL in the name of the signer's issuer (number {}) was ignored: {error}",
                        list.number()
                    ));
                }
            }
        }
        let Some(newest) = trusted.iter().max_by_key(|list| list.number()) else {
            report.messages.push(
                "revocation not checked: no valid CRL from the signer's issuer was given".into(),
            );
            return Ok(());
        };
        let entry = trusted
            .iter()
            .filter_map(|list| list.revocation_of(&serial))
            .min_by_key(|entry| entry.effective_from());
        match entry {
            None => {
                report
                    .messages
                    .push(not_revoked(newest, policy.validation_time));
                Ok(())
            }
            Some(entry) => judge(entry, proof, policy.validation_time, report),
        }
    }
}

/// The verdict on a signature whose certificate `entry` revokes.
fn judge(
    entry: &RevokedCertificateEntry,
    proof: Option<&ProofOfExistence>,
    validation_time: OffsetDateTime,
    report: &mut SignatureReport,
) -> Result<(), Refusal> {
    let from = entry.effective_from();
    let reason = entry
        .reason
        .map_or("no reason given".to_string(), |r| r.as_str().to_string());
    let revoked = if from < entry.revoked_at {
        format!(
            "revoked on {} ({reason}), invalid since {}",
            rfc3339(entry.revoked_at),
            rfc3339(from)
        )
    } else {
        format!("revoked on {} ({reason})", rfc3339(entry.revoked_at))
    };
    if validation_time < from {
        report.messages.push(format!(
            "the signer's certificate is to be {revoked}, after the validation time"
        ));
        return Ok(());
    }
    if let Some(proof) = proof.filter(|proof| proof.time < from) {
        report.messages.push(format!(
            "the signer's certificate was {revoked}, after this signature's proven time {} ({})",
            rfc3339(proof.time),
            proof.evidence
        ));
        return Ok(());
    }
    let unproven = match proof {
        Some(proof) => format!(
            "the earliest proof of this signature's existence ({}, {}) is not before that",
            rfc3339(proof.time),
            proof.evidence
        ),
        None => "nothing proves this signature was made before that (a claimed signing time is not proof)".to_string(),
    };
    let message = format!("the signer's certificate was {revoked}; {unproven}");
    if entry.reason.is_some_and(|reason| reason.is_compromise()) {
        Err((Indication::TotalFailed, SubIndication::Revoked, message))
    } else {
        Err((
            Indication::Indeterminate,
            SubIndication::RevokedNoPoe,
            message,
        ))
    }
}

fn not_revoked(newest: &RevocationList, validation_time: OffsetDateTime) -> String {
    let mut line = format!(
        "not revoked according to CRL number {} of {}, issued {}",
        newest.number(),
        newest.issuer(),
        rfc3339(newest.this_update())
    );
    if newest.next_update() < validation_time {
        line.push_str(&format!(
            "; that CRL expired {}, and a newer one may list the certificate",
            rfc3339(newest.next_update())
        ));
    }
    line
}

/// Whether the CRL names the issuer certificate's subject (then a failed check is a forgery or
/// another key's CRL, worth reporting).
fn names_match(list: &RevocationList, issuer_der: &[u8]) -> bool {
    use x509_parser::prelude::FromDer;
    x509_parser::certificate::X509Certificate::from_der(issuer_der)
        .is_ok_and(|(_, issuer)| issuer.subject().as_raw() == list.issuer_name_der())
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

    use super::super::{Report, TrustAnchors, verify};
    use super::*;
    use crate::pdf::testing::one_page;
    use crate::pki::{
        CrlContents, CrlNumber, EndEntityProfile, RevocationReason, SealSubject, Serial, Validity,
        issue_crl, issue_end_entity_certificate, issue_root_certificate,
    };
    use crate::seal::KeyFileSigner;
    use crate::sign::{SignatureRequest, sign_pdf};

    /// When the licence was signed (also its claimed `/M`).
    const SIGNED: OffsetDateTime = datetime!(2026-11-26 08:00:00 UTC);
    /// When the seal certificate was revoked.
    const REVOKED: OffsetDateTime = datetime!(2026-11-27 08:00:00 UTC);
    /// When the licence is verified.
    const NOW: OffsetDateTime = datetime!(2026-11-28 08:00:00 UTC);

    struct Seal {
        root_key: KeyPair,
        root: Vec<u8>,
        seal_serial: CertificateSerial,
        signed: Vec<u8>,
    }

    fn pem(der: &[u8]) -> String {
        der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).unwrap()
    }

    fn root_named(organization: &str) -> (KeyPair, Vec<u8>) {
        let key = KeyPair::generate().unwrap();
        let validity = Validity::new(SIGNED - Duration::days(30), NOW + Duration::days(3650));
        let root = issue_root_certificate(
            &key,
            organization,
            &validity.unwrap(),
            &Serial::from_random_bytes([9; 16]),
        )
        .unwrap();
        (key, root)
    }

    /// A root, a seal certificate it issues, and a one-page PDF the seal signed at `SIGNED`.
    fn seal() -> Seal {
        let (root_key, root) = root_named("测试机关");
        let seal_key = KeyPair::generate().unwrap();
        let subject = SealSubject::new("测试机关", "测试专用章", None).unwrap();
        let validity = Validity::new(SIGNED - Duration::days(1), NOW + Duration::days(365));
        let certificate = issue_end_entity_certificate(
            EndEntityProfile::Seal,
            &seal_key,
            &subject,
            (root.as_slice(), &root_key),
            &validity.unwrap(),
            &Serial::from_random_bytes([0x42; 16]),
            None,
        )
        .unwrap();
        let chain = format!("{}{}", pem(&certificate), pem(&root));
        let signer =
            KeyFileSigner::from_pem(seal_key.serialize_pem().as_bytes(), chain.as_bytes(), None)
                .unwrap();
        let signed = sign_pdf(&one_page(), &signer, &SignatureRequest::new(SIGNED)).unwrap();
        Seal {
            root_key,
            root,
            seal_serial: CertificateSerial::parse_hex(&"42".repeat(16)).unwrap(),
            signed,
        }
    }

    fn crl(
        (root, key): (&[u8], &KeyPair),
        number: u64,
        entries: Vec<RevokedCertificateEntry>,
    ) -> Vec<u8> {
        let contents = CrlContents {
            number: CrlNumber::new(number),
            this_update: REVOKED + Duration::hours(1),
            next_update: REVOKED + Duration::days(7),
            entries,
        };
        issue_crl(root, key, &contents).unwrap()
    }

    fn revoking(seal: &Seal, reason: Option<RevocationReason>) -> Vec<u8> {
        crl(
            (&seal.root, &seal.root_key),
            1,
            vec![RevokedCertificateEntry {
                serial: seal.seal_serial.clone(),
                revoked_at: REVOKED,
                reason,
                invalid_since: None,
            }],
        )
    }

    fn check(seal: &Seal, crls: Vec<Vec<u8>>, proof: Option<OffsetDateTime>) -> Report {
        let mut anchors = TrustAnchors::new();
        anchors.add_pem_or_der(&seal.root).unwrap();
        let mut policy = Policy::new(NOW);
        policy.crls = crls;
        policy.proof_of_existence = proof.map(|time| ProofOfExistence {
            time,
            evidence: "the test says so".into(),
        });
        verify(&seal.signed, &anchors, &policy).unwrap()
    }

    fn verdict(report: &Report) -> (Indication, Option<SubIndication>, String) {
        let signature = &report.signatures[0];
        (
            signature.indication,
            signature.sub_indication,
            signature.messages.join(" | "),
        )
    }

    #[test]
    fn proof_of_existence_validates_an_expired_seal_at_the_proven_time() {
        // Two years on, the seal certificate (valid to NOW + 365 days) has expired.
        let seal = seal();
        let mut anchors = TrustAnchors::new();
        anchors.add_pem_or_der(&seal.root).unwrap();
        let mut policy = Policy::new(NOW + Duration::days(730));
        let unproven = verify(&seal.signed, &anchors, &policy).unwrap();
        let (indication, sub, _) = verdict(&unproven);
        assert_eq!(indication, Indication::Indeterminate, "{unproven:#?}");
        assert_eq!(sub, Some(SubIndication::OutOfBoundsNoPoe));
        assert_eq!(unproven.signatures[0].pades_level.as_deref(), Some("B-B"));

        policy.proof_of_existence = Some(ProofOfExistence {
            time: SIGNED,
            evidence: "the registry says so".into(),
        });
        let proven = verify(&seal.signed, &anchors, &policy).unwrap();
        let (indication, sub, messages) = verdict(&proven);
        assert_eq!(indication, Indication::TotalPassed, "{proven:#?}");
        assert_eq!(sub, None);
        assert!(
            messages.contains("has expired by the validation time, but the path was valid at")
                && messages.contains("the registry says so"),
            "{messages}"
        );
        // A proof from after the expiry proves nothing useful.
        policy.proof_of_existence = Some(ProofOfExistence {
            time: NOW + Duration::days(400),
            evidence: "too late".into(),
        });
        let late = verify(&seal.signed, &anchors, &policy).unwrap();
        assert_eq!(verdict(&late).1, Some(SubIndication::OutOfBoundsNoPoe));
    }

    #[test]
    fn a_key_compromise_without_proof_fails_revoked_even_with_an_earlier_claimed_time() {
        let seal = seal();
        let report = check(
            &seal,
            vec![revoking(&seal, Some(RevocationReason::KeyCompromise))],
            None,
        );
        let (indication, sub, messages) = verdict(&report);
        assert_eq!(indication, Indication::TotalFailed, "{report:#?}");
        assert_eq!(sub, Some(SubIndication::Revoked));
        assert!(messages.contains("keyCompromise"), "{messages}");
        assert!(messages.contains("not proof"), "{messages}");
        assert_eq!(report.indication, Indication::TotalFailed);
        assert_eq!(
            serde_json::to_value(sub).unwrap(),
            serde_json::json!("REVOKED")
        );
        // The claimed time /M (SIGNED) is before the revocation; it changed nothing.
        assert_eq!(
            report.signatures[0].signing_time.as_deref(),
            Some("2026-11-26T08:00:00Z")
        );
    }

    #[test]
    fn a_signature_proven_before_the_revocation_passes_with_a_note() {
        let seal = seal();
        let crls = vec![revoking(&seal, Some(RevocationReason::KeyCompromise))];
        let report = check(&seal, crls.clone(), Some(SIGNED + Duration::minutes(1)));
        let (indication, sub, messages) = verdict(&report);
        assert_eq!(indication, Indication::TotalPassed, "{report:#?}");
        assert_eq!(sub, None);
        assert!(
            messages.contains("revoked on 2026-11-27T08:00:00Z (keyCompromise), after this signature's proven time 2026-11-26T08:01:00Z (the test says so)"),
            "{messages}"
        );
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        // Proof from after the revocation proves nothing useful.
        let late = check(&seal, crls, Some(REVOKED + Duration::minutes(1)));
        let (indication, sub, messages) = verdict(&late);
        assert_eq!(indication, Indication::TotalFailed, "{late:#?}");
        assert_eq!(sub, Some(SubIndication::Revoked));
        assert!(messages.contains("is not before that"), "{messages}");
    }

    #[test]
    fn other_reasons_without_proof_are_indeterminate() {
        let seal = seal();
        for reason in [
            None,
            Some(RevocationReason::Superseded),
            Some(RevocationReason::CessationOfOperation),
        ] {
            let report = check(&seal, vec![revoking(&seal, reason)], None);
            let (indication, sub, _) = verdict(&report);
            assert_eq!(indication, Indication::Indeterminate, "{reason:?}");
            assert_eq!(sub, Some(SubIndication::RevokedNoPoe), "{reason:?}");
            assert_eq!(
                serde_json::to_value(sub).unwrap(),
                serde_json::json!("REVOKED_NO_POE")
            );
        }
    }

    #[test]
    fn an_invalidity_date_moves_the_line_back() {
        let seal = seal();
        let entry = RevokedCertificateEntry {
            serial: seal.seal_serial.clone(),
            revoked_at: REVOKED,
            reason: Some(RevocationReason::KeyCompromise),
            invalid_since: Some(SIGNED - Duration::hours(1)),
        };
        let crls = vec![crl((&seal.root, &seal.root_key), 1, vec![entry])];
        let report = check(&seal, crls, Some(SIGNED + Duration::minutes(1)));
        let (indication, _, messages) = verdict(&report);
        assert_eq!(indication, Indication::TotalFailed, "{report:#?}");
        assert!(
            messages.contains("invalid since 2026-11-26T07:00:00Z"),
            "{messages}"
        );
    }

    #[test]
    fn a_crl_not_listing_the_seal_says_so_and_a_future_revocation_does_not_count_yet() {
        let seal = seal();
        let other = RevokedCertificateEntry {
            serial: CertificateSerial::parse_hex("0badc0de").unwrap(),
            revoked_at: REVOKED,
            reason: Some(RevocationReason::KeyCompromise),
            invalid_since: None,
        };
        let crls = vec![crl((&seal.root, &seal.root_key), 4, vec![other])];
        let report = check(&seal, crls, None);
        let (indication, _, messages) = verdict(&report);
        assert_eq!(indication, Indication::TotalPassed, "{report:#?}");
        assert!(
            messages.contains("not revoked according to CRL number 4"),
            "{messages}"
        );
        let future = RevokedCertificateEntry {
            serial: seal.seal_serial.clone(),
            revoked_at: NOW + Duration::days(1),
            reason: Some(RevocationReason::KeyCompromise),
            invalid_since: None,
        };
        let report = check(
            &seal,
            vec![crl((&seal.root, &seal.root_key), 5, vec![future])],
            None,
        );
        let (indication, _, messages) = verdict(&report);
        assert_eq!(indication, Indication::TotalPassed, "{report:#?}");
        assert!(messages.contains("is to be revoked"), "{messages}");
    }

    #[test]
    fn forged_foreign_and_unreadable_crls_are_ignored_with_a_warning() {
        let seal = seal();
        // Same issuer name, another key: a forgery that would revoke the seal.
        let (impostor_key, impostor) = root_named("测试机关");
        let forged = crl(
            (&impostor, &impostor_key),
            9,
            vec![RevokedCertificateEntry {
                serial: seal.seal_serial.clone(),
                revoked_at: REVOKED,
                reason: Some(RevocationReason::KeyCompromise),
                invalid_since: None,
            }],
        );
        let (stranger_key, stranger) = root_named("别的机关");
        let foreign = crl((&stranger, &stranger_key), 1, vec![]);
        let report = check(&seal, vec![forged, foreign, b"garbage".to_vec()], None);
        let (indication, _, messages) = verdict(&report);
        assert_eq!(indication, Indication::TotalPassed, "{report:#?}");
        assert!(messages.contains("was ignored"), "{messages}");
        assert!(messages.contains("revocation not checked"), "{messages}");
        assert_eq!(report.warnings.len(), 2, "{:?}", report.warnings);
        assert!(
            report.warnings[0].starts_with("CRL 3 was ignored"),
            "{:?}",
            report.warnings
        );
        assert!(
            report.warnings[1].contains("别的机关"),
            "{:?}",
            report.warnings
        );
        let text = crate::verify::text::render(&report, crate::verify::text::Language::English);
        assert!(text.contains("Warning: CRL 3 was ignored"), "{text}");
    }

    #[test]
    fn without_crls_nothing_changes() {
        let seal = seal();
        let report = check(&seal, vec![], None);
        assert_eq!(report.indication, Indication::TotalPassed);
        assert!(report.signatures[0].messages.is_empty());
        assert!(report.warnings.is_empty());
    }
}
