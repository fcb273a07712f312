//! Applicants: the dishonesty list (失信名单) kept by admins, and what an applicant owes under
//! 容缺后补. Either closes the 容缺 path: an applicant listed, or with a commitment missed and
//! still unmet, must supply every material before issuance.

use serde::{Deserialize, Serialize};

use super::{Bureau, Identity, ServiceError, quoted, require};
use crate::approval::calendar::{format_day, parse_day};
use crate::registry::{AuditRecord, BlacklistEntry, CommitmentRecord, Role, Transition};

/// Longest reason for listing or removal.
const MAX_REASON_CHARS: usize = 500;

/// An admin's listing.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewListing {
    pub credit_code: String,
    pub name: String,
    pub reason: String,
    /// First day barred, YYYY-MM-DD; today when absent.
    #[serde(default)]
    pub listed_from: Option<String>,
    /// Last day barred, YYYY-MM-DD; until removed when absent.
    #[serde(default)]
    pub listed_until: Option<String>,
}

/// What the bureau knows of one applicant.
#[derive(Serialize)]
pub struct ApplicantView {
    pub credit_code: String,
    /// Whether the 容缺 path is closed to them today, and why.
    pub barred: bool,
    pub reasons: Vec<String>,
    pub listings: Vec<BlacklistEntry>,
    pub commitments: Vec<CommitmentView>,
}

#[derive(Serialize)]
pub struct CommitmentView {
    pub serial: String,
    pub request: String,
    /// `open`, `fulfilled` or `missed`.
    pub state: &'static str,
    pub materials: Vec<String>,
    pub outstanding: Vec<String>,
    pub deadline: String,
    pub supplied_at: Option<String>,
    pub missed_at: Option<String>,
}

impl From<&CommitmentRecord> for CommitmentView {
    fn from(c: &CommitmentRecord) -> Self {
        use super::verification::rfc3339;
        CommitmentView {
            serial: c.serial.clone(),
            request: c.request_id.clone(),
            state: c.state(),
            materials: c.materials.clone(),
            outstanding: c.outstanding(),
            deadline: rfc3339(c.deadline_ms),
            supplied_at: c.supplied_at_ms.map(rfc3339),
            missed_at: c.missed_at_ms.map(rfc3339),
        }
    }
}

impl Bureau {
    pub async fn blacklist(
        &self,
        caller: &Identity,
        credit_code: Option<&str>,
    ) -> Result<Vec<BlacklistEntry>, ServiceError> {
        require(
            caller,
            &[Role::Admin, Role::Issuer, Role::Auditor],
            "read the dishonesty list",
        )?;
        if credit_code.is_some_and(|code| code.contains('\0')) {
            return Ok(Vec::new());
        }
        Ok(self.registry().blacklist(credit_code).await?)
    }

    /// Lists an applicant as dishonest (失信), barring the 容缺 path between the given days.
    pub async fn add_to_blacklist(
        &self,
        caller: &Identity,
        listing: NewListing,
    ) -> Result<BlacklistEntry, ServiceError> {
        require(caller, &[Role::Admin], "keep the dishonesty list")?;
        let today = format_day(self.now().date());
        let entry = checked_listing(listing, &today, caller, self.now_ms())?;
        let audit = AuditRecord::new(
            caller.actor(),
            "blacklist.added",
            entry.credit_code.clone(),
            serde_json::json!({
                "id": entry.id,
                "name": entry.name,
                "reason": entry.reason,
                "listed_from": entry.listed_from,
                "listed_until": entry.listed_until,
            }),
        );
        self.registry().add_to_blacklist(&entry, &audit).await?;
        Ok(entry)
    }

    /// Ends a listing early; it stays on record with who ended it and why.
    pub async fn remove_from_blacklist(
        &self,
        caller: &Identity,
        id: &str,
        reason: &str,
    ) -> Result<(), ServiceError> {
        require(caller, &[Role::Admin], "keep the dishonesty list")?;
        let reason = check_reason(reason)?;
        let audit = AuditRecord::new(
            caller.actor(),
            "blacklist.removed",
            id,
            serde_json::json!({ "reason": reason }),
        );
        if !id.bytes().all(|b| b.is_ascii_hexdigit()) || id.len() != 16 {
            return Err(ServiceError::NotFound(format!("no listing {}", quoted(id))));
        }
        match self
            .registry()
            .remove_from_blacklist(id, &caller.actor(), &reason, &audit, self.now_ms())
            .await?
        {
            Transition::Done(()) => Ok(()),
            Transition::NotFound => {
                Err(ServiceError::NotFound(format!("no listing {}", quoted(id))))
            }
            Transition::Refused(why) => Err(ServiceError::Conflict(why)),
        }
    }

    /// An applicant's listings and commitments, and whether 容缺 is closed to them.
    pub async fn applicant(
        &self,
        caller: &Identity,
        credit_code: &str,
    ) -> Result<ApplicantView, ServiceError> {
        require(
            caller,
            &[Role::Admin, Role::Issuer, Role::Auditor],
            "look up applicants",
        )?;
        if !plausible_credit_code(credit_code) {
            return Err(ServiceError::NotFound(format!(
                "{} is not a unified social credit code",
                quoted(credit_code)
            )));
        }
        let listings = self.registry().blacklist(Some(credit_code)).await?;
        let commitments = self.registry().commitments_of(credit_code).await?;
        let reasons = self.bars(&listings, &commitments);
        Ok(ApplicantView {
            credit_code: credit_code.to_string(),
            barred: !reasons.is_empty(),
            reasons,
            listings,
            commitments: commitments.iter().map(CommitmentView::from).collect(),
        })
    }

    /// Refuses the 容缺 path to an applicant who is listed, or who missed a commitment and has
    /// not yet made it good.
    pub(super) async fn refuse_barred_applicant(
        &self,
        credit_code: Option<&str>,
    ) -> Result<(), ServiceError> {
        let Some(code) = credit_code else {
            return Err(ServiceError::invalid(
                "request.invalid_materials",
                "容缺后补 needs the applicant's unified social credit code in the data",
            ));
        };
        let listings = self.registry().blacklist(Some(code)).await?;
        let commitments = self.registry().commitments_of(code).await?;
        let reasons = self.bars(&listings, &commitments);
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Refused {
                code: "request.applicant_barred",
                message: format!(
                    "容缺后补 is closed to {code}: {}; every material must be supplied first",
                    reasons.join("; ")
                ),
            })
        }
    }

    fn bars(&self, listings: &[BlacklistEntry], commitments: &[CommitmentRecord]) -> Vec<String> {
        let today = format_day(self.now().date());
        let listed = listings
            .iter()
            .filter(|entry| entry.in_force(&today))
            .map(|entry| {
                format!(
                    "on the dishonesty list since {} ({})",
                    entry.listed_from, entry.reason
                )
            });
        let missed = commitments
            .iter()
            .filter(|c| c.state() == "missed")
            .map(|c| format!("missed the deadline to supply materials for {}", c.serial));
        listed.chain(missed).collect()
    }
}

fn checked_listing(
    listing: NewListing,
    today: &str,
    caller: &Identity,
    now_ms: i64,
) -> Result<BlacklistEntry, ServiceError> {
    let invalid = |message: &str| ServiceError::invalid("blacklist.invalid", message);
    if !plausible_credit_code(&listing.credit_code) {
        return Err(invalid(
            "credit_code must be an 18-character unified social credit code",
        ));
    }
    let name = listing.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid(
            "name must be 1–100 characters without control characters",
        ));
    }
    let reason = check_reason(&listing.reason)?;
    let day = |text: Option<String>, field: &str| -> Result<Option<String>, ServiceError> {
        text.map(|text| {
            parse_day(&text)
                .map(format_day)
                .ok_or_else(|| invalid(&format!("{field} must be a date YYYY-MM-DD")))
        })
        .transpose()
    };
    let from = day(listing.listed_from, "listed_from")?.unwrap_or_else(|| today.to_string());
    let until = day(listing.listed_until, "listed_until")?;
    if until.as_deref().is_some_and(|until| until < from.as_str()) {
        return Err(invalid("listed_until is before listed_from"));
    }
    Ok(BlacklistEntry {
        id: crate::registry::audit::hex(&super::random_bytes::<8>()?),
        credit_code: listing.credit_code,
        name: name.to_string(),
        reason,
        listed_from: from,
        listed_until: until,
        added_by: caller.actor(),
        added_at_ms: now_ms,
        removed_at_ms: None,
        removed_by: None,
        removal_reason: None,
    })
}

fn check_reason(reason: &str) -> Result<String, ServiceError> {
    let reason = reason.trim();
    if reason.is_empty()
        || reason.chars().count() > MAX_REASON_CHARS
        || reason.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(ServiceError::invalid(
            "blacklist.invalid",
            format!(
                "the reason must be 1–{MAX_REASON_CHARS} characters without control characters"
            ),
        ));
    }
    Ok(reason.to_string())
}

/// GB 32100-2015's alphabet and length (the check digit is the template data's concern).
fn plausible_credit_code(code: &str) -> bool {
    code.len() == 18
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || (b.is_ascii_uppercase() && !b"IOSVZ".contains(&b)))
}
