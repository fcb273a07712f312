//! Issuance requests: one window takes the case (一窗受理), the departments concerned sign off in
//! parallel (并联审批), and the seal is applied once all have approved, within the committed
//! time limit (限时办结). Every step names its actor in the audit trail (谁审查谁签批).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::certificates::{Delivery, IssuedCertificate, RequestLink, SealJob, summarize, unix_ms};
use super::verification::rfc3339;
use super::{Bureau, Identity, ServiceError, quoted, require};
use crate::approval::calendar::{TimeLeft, deadline, time_left};
use crate::registry::{
    AuditRecord, Decision, EventKind, NewEvent, RequestQuery, RequestRecord, RequestStatus, Role,
    SignOff, Transition,
};
use crate::template::Problem;
use crate::template::data::MAX_DATA_BYTES;
use crate::template::manifest::{MAX_SECONDARY_MATERIALS, SealAfterSignOff};

/// Longest comment on a sign-off, or reason for a rejection.
const MAX_COMMENT_CHARS: usize = 1000;
/// Who the trail names when the bureau applies the seal by itself after the last approval.
pub const AUTOMATIC_SEAL: &str = "oneseal:automatic-seal";

/// The applicant's signed credit commitment (《信用承诺书》) to supply missing materials.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditCommitment {
    /// Who signed it for the applicant.
    pub signatory: String,
    /// The day it was signed, YYYY-MM-DD.
    pub signed_on: String,
    /// Where the signed document is kept: a document number or the scan's SHA-256.
    #[serde(default)]
    pub reference: Option<String>,
}

/// A case as the intake window opens it.
#[derive(Clone, Debug)]
pub struct NewRequest {
    pub template: String,
    pub data: String,
    pub delivery: Delivery,
    /// Secondary materials the applicant has not yet supplied (容缺).
    pub missing_materials: Vec<String>,
    pub commitment: Option<CreditCommitment>,
}

/// What a department decides.
#[derive(Clone, Debug)]
pub struct SignOffDecision {
    pub approve: bool,
    pub comment: String,
}

/// A request as the API shows it, with its deadline and the time left.
#[derive(Serialize)]
pub struct RequestView {
    pub id: String,
    pub status: RequestStatus,
    pub template: String,
    pub template_version: i64,
    pub title: String,
    pub department: String,
    /// `issuer` or `automatic`.
    pub seal: String,
    pub holder: String,
    pub credit_code: Option<String>,
    pub delivery: String,
    pub data: Box<RawValue>,
    pub opened_by: String,
    pub opened_at: String,
    pub time_limit_days: i64,
    pub deadline: String,
    /// Whether it is (or was, when closed) past its deadline.
    pub overdue: bool,
    /// Left until the deadline; absent once closed.
    pub time_left: Option<TimeLeft>,
    pub sign_offs: Vec<SignOffView>,
    pub missing_materials: Vec<String>,
    pub commitment: Option<Box<RawValue>>,
    pub serial: Option<String>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
}

#[derive(Serialize)]
pub struct SignOffView {
    pub department: String,
    pub decision: Decision,
    pub reviewer: Option<String>,
    pub comment: Option<String>,
    pub decided_at: Option<String>,
}

/// The outcome of a sign-off: the request afterwards, and the certificate when this decision
/// let the bureau apply its seal.
pub struct SignedOff {
    pub request: RequestView,
    pub certificate: Option<IssuedCertificate>,
    /// The decision stands but the automatic seal failed (the request stays `sealing` and is
    /// finished when the service next starts); a message safe to show.
    pub seal_error: Option<String>,
}

impl Bureau {
    /// Opens a case for a template's active version. With no sign-off needed it is ready at
    /// once (and sealed at once when the template says automatic).
    pub async fn open_request(
        &self,
        caller: &Identity,
        new: NewRequest,
    ) -> Result<RequestView, ServiceError> {
        require(caller, &[Role::Issuer], "open issuance requests")?;
        if new.data.len() > MAX_DATA_BYTES {
            return Err(ServiceError::invalid(
                "request.invalid_data",
                format!("the data is over {MAX_DATA_BYTES} bytes"),
            ));
        }
        let no_template = || {
            ServiceError::NotFound(format!(
                "no approved template {} to open a request for",
                quoted(&new.template)
            ))
        };
        if !super::templates::plausible_id(&new.template) {
            return Err(no_template());
        }
        let template = self
            .registry()
            .active_template(&new.template)
            .await?
            .ok_or_else(no_template)?;
        let bundle = self.bundle(&template.id, template.version).await?;
        let (holder, credit_code) = {
            let bundle = Arc::clone(&bundle);
            let data = new.data.clone();
            self.compute(move || summarize(&bundle.manifest, data.as_bytes()))
                .await??
        };
        let manifest = &bundle.manifest;
        check_materials(&new, &manifest.secondary_materials)?;
        if !new.missing_materials.is_empty() {
            self.refuse_barred_applicant(credit_code.as_deref()).await?;
        }
        let now = self.now();
        let calendar = self.work_calendar().await?;
        let due = deadline(&calendar, now, manifest.time_limit_days).ok_or_else(|| {
            ServiceError::Internal("no deadline within 20 years: check the calendar".into())
        })?;
        let status = match (manifest.sign_off.is_empty(), manifest.seal_after_sign_off) {
            (false, _) => RequestStatus::Review,
            (true, SealAfterSignOff::Issuer) => RequestStatus::Ready,
            (true, SealAfterSignOff::Automatic) => RequestStatus::Sealing,
        };
        let mut record = RequestRecord {
            id: String::new(),
            status,
            template_id: template.id.clone(),
            template_version: template.version,
            template_title: template.title.clone(),
            department: template.department.clone(),
            seal_mode: manifest.seal_after_sign_off.as_str().to_string(),
            data: new.data,
            holder,
            credit_code,
            delivery: new.delivery.as_str().to_string(),
            opened_by: caller.actor(),
            opened_by_token: caller.token_id.clone(),
            opened_by_name: caller.name.clone(),
            opened_at_ms: unix_ms(now),
            time_limit_days: i64::from(manifest.time_limit_days),
            deadline_ms: unix_ms(due),
            missing_materials: new.missing_materials,
            commitment: new
                .commitment
                .as_ref()
                .and_then(|c| serde_json::to_string(c).ok()),
            supply_deadline_ms: None,
            serial: None,
            closed_at_ms: None,
            closed_by: None,
            overdue_at_ms: None,
            sign_offs: manifest
                .sign_off
                .iter()
                .map(|department| SignOff {
                    department: department.clone(),
                    decision: Decision::Pending,
                    reviewer: None,
                    reviewer_token: None,
                    comment: None,
                    decided_at_ms: None,
                })
                .collect(),
        };
        self.store_new_request(&mut record, now.date()).await?;
        metrics::counter!("oneseal_requests_opened_total").increment(1);
        if record.status == RequestStatus::Sealing
            && let Err(error) = self.seal_automatically(&record.id).await
        {
            // The request stands (`sealing`); its seal is finished when the service next starts.
            tracing::error!(
                request = %record.id,
                error = %error,
                cause = error.cause().unwrap_or_default(),
                "the automatic seal failed on opening"
            );
        }
        self.request_view_of(&record.id).await
    }

    /// Gives the request a fresh id and stores it with its audit entry.
    async fn store_new_request(
        &self,
        record: &mut RequestRecord,
        day: time::Date,
    ) -> Result<(), ServiceError> {
        for _ in 0..3 {
            record.id = request_id(day)?;
            let audit = AuditRecord::new(
                record.opened_by.clone(),
                "request.opened",
                record.id.clone(),
                serde_json::json!({
                    "template": record.template_id,
                    "template_version": record.template_version,
                    "holder": record.holder,
                    "credit_code": record.credit_code,
                    "deadline": rfc3339(record.deadline_ms),
                    "sign_off": record.sign_offs.iter().map(|s| &s.department).collect::<Vec<_>>(),
                    "missing_materials": record.missing_materials,
                    "commitment": record.commitment.as_deref().and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok()),
                    "data_sha256": super::templates::sha256_hex(record.data.as_bytes()),
                }),
            );
            match self.registry().open_request(record, &audit).await {
                Ok(()) => return Ok(()),
                Err(crate::registry::RegistryError::Conflict(_)) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(ServiceError::Internal(
            "no unused request id after several attempts".into(),
        ))
    }

    /// One request, if the caller may see it (a reviewer only their department's).
    pub async fn request(&self, caller: &Identity, id: &str) -> Result<RequestView, ServiceError> {
        let record = self.visible_request(caller, id).await?;
        self.view(record).await
    }

    /// Requests matching `query`; a reviewer sees only those needing their department.
    pub async fn requests(
        &self,
        caller: &Identity,
        mut query: RequestQuery,
        overdue_only: bool,
    ) -> Result<Vec<RequestView>, ServiceError> {
        require(
            caller,
            &[Role::Issuer, Role::Reviewer, Role::Admin, Role::Auditor],
            "list issuance requests",
        )?;
        if caller.role == Role::Reviewer {
            query.sign_off_department = Some(reviewer_department(caller)?.to_string());
        }
        if overdue_only {
            query.overdue_at = Some(self.now_ms());
        }
        let records = self.registry().requests(&query).await?;
        let calendar = self.work_calendar().await?;
        let now = self.now();
        records
            .into_iter()
            .map(|record| view(record, &calendar, now))
            .collect()
    }

    /// A reviewer's decision for their department. The last approval of an automatically
    /// sealed request applies the seal; exactly one decision can be that one.
    pub async fn sign_off(
        &self,
        caller: &Identity,
        id: &str,
        decision: SignOffDecision,
    ) -> Result<SignedOff, ServiceError> {
        require(caller, &[Role::Reviewer], "sign off requests")?;
        let department = reviewer_department(caller)?.to_string();
        let record = self.visible_request(caller, id).await?;
        if record.opened_by_token == caller.token_id
            || same_person(&record.opened_by_name, &caller.name)
        {
            return Err(ServiceError::SeparationOfDuties(
                "separation of duties: whoever opened a request cannot also sign it off".into(),
            ));
        }
        let comment = check_comment(&decision.comment, !decision.approve)?;
        // An automatic seal follows the last approval and refuses an applicant barred since the
        // request was opened (`seal_job`), which would leave the request `sealing` with nobody
        // to act: refuse the approval instead, until the missing materials are recorded.
        if decision.approve
            && record.seal_mode == SealAfterSignOff::Automatic.as_str()
            && !record.missing_materials.is_empty()
        {
            self.refuse_barred_applicant(record.credit_code.as_deref())
                .await?;
        }
        let verdict = if decision.approve {
            Decision::Approved
        } else {
            Decision::Rejected
        };
        let audit = AuditRecord::new(
            caller.actor(),
            "request.signed_off",
            id,
            serde_json::json!({
                "department": department,
                "decision": verdict.as_str(),
                "comment": comment,
            }),
        );
        let rejected_by = (caller.actor(), department.clone(), comment.clone());
        let outcome = self
            .registry()
            .decide_sign_off(
                id,
                &department,
                verdict,
                (&caller.actor(), &caller.token_id),
                &comment,
                &audit,
                move |request| rejected_event(request, &rejected_by),
                self.now_ms(),
            )
            .await?;
        let seal_now = match outcome {
            Transition::Done(seal_now) => seal_now,
            Transition::NotFound => return Err(no_request(id)),
            Transition::Refused(why) => return Err(ServiceError::Conflict(why)),
        };
        // The decision is committed whatever happens to the seal: a failed seal must not read
        // as a failed decision, which the reviewer would then try again.
        let (certificate, seal_error) = if seal_now {
            match self.seal_automatically(id).await {
                Ok(issued) => (Some(issued), None),
                Err(error) => {
                    tracing::error!(
                        request = id,
                        error = %error,
                        cause = error.cause().unwrap_or_default(),
                        "the automatic seal failed after the last approval"
                    );
                    (None, Some(error.to_string()))
                }
            }
        } else {
            (None, None)
        };
        Ok(SignedOff {
            request: self.request_view_of(id).await?,
            certificate,
            seal_error,
        })
    }

    /// An issuer applies the seal to a request every department approved.
    pub async fn apply_seal(
        &self,
        caller: &Identity,
        id: &str,
    ) -> Result<IssuedCertificate, ServiceError> {
        require(caller, &[Role::Issuer], "apply the seal")?;
        let record = self.visible_request(caller, id).await?;
        if record.status != RequestStatus::Ready {
            return Err(ServiceError::Conflict(match record.status {
                RequestStatus::Review => "the request still awaits sign-off".to_string(),
                status => format!("the request is {}, not ready for the seal", status.as_str()),
            }));
        }
        let job = self
            .seal_job(&record, RequestStatus::Ready, caller.actor())
            .await?;
        self.seal(job).await
    }

    /// The bureau applies its seal by itself (the template says automatic).
    pub(super) async fn seal_automatically(
        &self,
        id: &str,
    ) -> Result<IssuedCertificate, ServiceError> {
        let record = self
            .registry()
            .request(id)
            .await?
            .ok_or_else(|| no_request(id))?;
        let job = match self
            .seal_job(&record, RequestStatus::Sealing, AUTOMATIC_SEAL.to_string())
            .await
        {
            Ok(job) => job,
            Err(refused @ ServiceError::Refused { .. }) => {
                // The applicant was barred after the approvals (the check at approval is not in
                // the approval's transaction): hand the request to an issuer, who can seal it
                // once the materials are recorded, rather than leave it sealing for good.
                let audit = AuditRecord::new(
                    AUTOMATIC_SEAL,
                    "request.seal_refused",
                    id,
                    serde_json::json!({ "reason": refused.to_string() }),
                );
                self.registry()
                    .return_to_ready(id, &audit, self.now_ms())
                    .await?;
                return Err(refused);
            }
            Err(other) => return Err(other),
        };
        self.seal(job).await
    }

    /// Records materials supplied for a request (before or after issuance).
    pub async fn supply_materials(
        &self,
        caller: &Identity,
        id: &str,
        materials: Vec<String>,
    ) -> Result<RequestView, ServiceError> {
        require(caller, &[Role::Issuer], "record supplied materials")?;
        if materials.is_empty() || materials.len() > 64 {
            return Err(ServiceError::invalid(
                "request.invalid_materials",
                "name 1–64 supplied materials",
            ));
        }
        self.visible_request(caller, id).await?;
        let audit = AuditRecord::new(
            caller.actor(),
            "request.materials_supplied",
            id,
            serde_json::json!({ "materials": materials }),
        );
        let actor = caller.actor();
        let outcome = self
            .registry()
            .supply_materials(
                id,
                &materials,
                &audit,
                move |commitment| super::deadlines::fulfilled_event(commitment, &actor),
                self.now_ms(),
            )
            .await?;
        match outcome {
            Transition::Done(_) => self.request_view_of(id).await,
            Transition::NotFound => Err(no_request(id)),
            Transition::Refused(why) => {
                Err(ServiceError::invalid("request.invalid_materials", why))
            }
        }
    }

    /// What sealing `record` takes, checked again now: the 容缺 path closes when the applicant
    /// has been listed since the request was opened.
    pub(super) async fn seal_job(
        &self,
        record: &RequestRecord,
        from: RequestStatus,
        sealed_by: String,
    ) -> Result<SealJob, ServiceError> {
        if !record.missing_materials.is_empty() {
            self.refuse_barred_applicant(record.credit_code.as_deref())
                .await?;
        }
        let template = self
            .registry()
            .template(&record.template_id, record.template_version)
            .await?
            .ok_or_else(|| {
                ServiceError::Internal(format!(
                    "request {} names a template version that is gone",
                    record.id
                ))
            })?;
        let bundle = self.bundle(&template.id, template.version).await?;
        let supply_within_days = bundle.manifest.supply_within_days;
        Ok(SealJob {
            template,
            bundle,
            data: record.data.clone(),
            holder: record.holder.clone(),
            credit_code: record.credit_code.clone(),
            delivery: record.delivery.clone(),
            sealed_by,
            request: Some(RequestLink {
                id: record.id.clone(),
                from,
                sign_offs: record.sign_offs.clone(),
                departments: record.departments(),
                missing_materials: record.missing_materials.clone(),
                commitment: record.commitment.clone(),
                supply_within_days,
            }),
        })
    }

    async fn visible_request(
        &self,
        caller: &Identity,
        id: &str,
    ) -> Result<RequestRecord, ServiceError> {
        require(
            caller,
            &[Role::Issuer, Role::Reviewer, Role::Admin, Role::Auditor],
            "read issuance requests",
        )?;
        if !plausible_request_id(id) {
            return Err(no_request(id));
        }
        let record = self
            .registry()
            .request(id)
            .await?
            .ok_or_else(|| no_request(id))?;
        if caller.role == Role::Reviewer {
            let department = reviewer_department(caller)?;
            if !record.sign_offs.iter().any(|s| s.department == department) {
                return Err(no_request(id));
            }
        }
        Ok(record)
    }

    async fn request_view_of(&self, id: &str) -> Result<RequestView, ServiceError> {
        let record = self
            .registry()
            .request(id)
            .await?
            .ok_or_else(|| no_request(id))?;
        self.view(record).await
    }

    async fn view(&self, record: RequestRecord) -> Result<RequestView, ServiceError> {
        let calendar = self.work_calendar().await?;
        view(record, &calendar, self.now())
    }
}

fn view(
    record: RequestRecord,
    calendar: &crate::approval::calendar::WorkCalendar,
    now: time::OffsetDateTime,
) -> Result<RequestView, ServiceError> {
    let raw = |text: String| {
        RawValue::from_string(text)
            .map_err(|_| ServiceError::Internal("a stored request holds malformed JSON".into()))
    };
    let deadline =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(record.deadline_ms) * 1_000_000)
            .map_err(|_| ServiceError::Internal("a stored deadline is out of range".into()))?
            .to_offset(now.offset());
    let open = record.status.is_open();
    let left = open.then(|| time_left(calendar, now, deadline));
    let overdue = match record.closed_at_ms {
        Some(closed) => closed > record.deadline_ms,
        None => left.is_some_and(|left| left.overdue),
    };
    Ok(RequestView {
        id: record.id,
        status: record.status,
        template: record.template_id,
        template_version: record.template_version,
        title: record.template_title,
        department: record.department,
        seal: record.seal_mode,
        holder: record.holder,
        credit_code: record.credit_code,
        delivery: record.delivery,
        data: raw(record.data)?,
        opened_by: record.opened_by,
        opened_at: rfc3339(record.opened_at_ms),
        time_limit_days: record.time_limit_days,
        deadline: rfc3339(record.deadline_ms),
        overdue,
        time_left: left,
        sign_offs: record
            .sign_offs
            .into_iter()
            .map(|s| SignOffView {
                department: s.department,
                decision: s.decision,
                reviewer: s.reviewer,
                comment: s.comment,
                decided_at: s.decided_at_ms.map(rfc3339),
            })
            .collect(),
        missing_materials: record.missing_materials,
        commitment: record.commitment.map(raw).transpose()?,
        serial: record.serial,
        closed_at: record.closed_at_ms.map(rfc3339),
        closed_by: record.closed_by,
    })
}

/// The event a rejection sends to subscribers (监管抄告), with its reasons.
fn rejected_event(
    request: &RequestRecord,
    (actor, department, comment): &(String, String, String),
) -> (AuditRecord, NewEvent) {
    let audit = AuditRecord::new(
        actor.clone(),
        "request.rejected",
        request.id.clone(),
        serde_json::json!({ "department": department, "reason": comment }),
    );
    let event = NewEvent {
        kind: EventKind::RequestRejected,
        subject: request.id.clone(),
        departments: request.departments(),
        payload: request_payload(
            request,
            serde_json::json!({ "rejected_by": department, "reason": comment }),
        ),
    };
    (audit, event)
}

/// What subscribers hear of a request: who and what it is for, and `more`'s members.
pub(super) fn request_payload(
    request: &RequestRecord,
    more: serde_json::Value,
) -> serde_json::Value {
    let mut payload = serde_json::json!({
        "request": request.id,
        "template": request.template_id,
        "title": request.template_title,
        "holder": request.holder,
        "credit_code": request.credit_code,
    });
    if let (Some(members), serde_json::Value::Object(more)) = (payload.as_object_mut(), more) {
        members.extend(more);
    }
    payload
}

/// Missing materials must be the template's secondary ones, and need a signed commitment.
fn check_materials(new: &NewRequest, secondary: &[String]) -> Result<(), ServiceError> {
    // Checked one by one below (each against the earlier ones): bounded first, so a body of
    // 100,000 names costs one refusal, not 10^10 comparisons and a problem each.
    if new.missing_materials.len() > MAX_SECONDARY_MATERIALS {
        return Err(ServiceError::invalid(
            "request.invalid_materials",
            format!(
                "missing_materials names {} materials; a template has at most {MAX_SECONDARY_MATERIALS}",
                new.missing_materials.len()
            ),
        ));
    }
    let mut problems = Vec::new();
    for (index, material) in new.missing_materials.iter().enumerate() {
        if !secondary.contains(material) {
            problems.push(Problem::new(
                format!("missing_materials[{index}]"),
                format!(
                    "{} is not a secondary material of this template (it lists: {})",
                    quoted(material),
                    if secondary.is_empty() {
                        "none".to_string()
                    } else {
                        secondary.join(", ")
                    }
                ),
            ));
        } else if new
            .missing_materials
            .get(..index)
            .is_some_and(|earlier| earlier.contains(material))
        {
            problems.push(Problem::new(
                format!("missing_materials[{index}]"),
                "is named twice",
            ));
        }
    }
    match (&new.commitment, new.missing_materials.is_empty()) {
        (None, false) => problems.push(Problem::new(
            "commitment",
            "容缺后补 needs the applicant's signed credit commitment (signatory, signed_on)",
        )),
        (Some(_), true) => problems.push(Problem::new(
            "commitment",
            "is only recorded when materials are missing",
        )),
        (Some(commitment), false) => check_commitment(commitment, &mut problems),
        (None, true) => {}
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Invalid {
            code: "request.invalid_materials",
            message: format!(
                "the missing materials cannot be accepted ({} problem(s))",
                problems.len()
            ),
            problems,
        })
    }
}

fn check_commitment(commitment: &CreditCommitment, problems: &mut Vec<Problem>) {
    let text_ok = |text: &str, max: usize| {
        let count = text.trim().chars().count();
        count > 0 && count <= max && !text.chars().any(char::is_control)
    };
    if !text_ok(&commitment.signatory, 64) {
        problems.push(Problem::new(
            "commitment.signatory",
            "must be 1–64 characters without control characters",
        ));
    }
    if crate::approval::calendar::parse_day(&commitment.signed_on).is_none() {
        problems.push(Problem::new(
            "commitment.signed_on",
            "must be a date YYYY-MM-DD",
        ));
    }
    if let Some(reference) = &commitment.reference
        && !text_ok(reference, 128)
    {
        problems.push(Problem::new(
            "commitment.reference",
            "must be 1–128 characters without control characters",
        ));
    }
}

/// A comment is optional on approval and required (the reasons) on rejection.
fn check_comment(comment: &str, required: bool) -> Result<String, ServiceError> {
    let comment = comment.trim();
    if required && comment.is_empty() {
        return Err(ServiceError::invalid(
            "request.invalid_comment",
            "a rejection needs its reasons in the comment",
        ));
    }
    if comment.chars().count() > MAX_COMMENT_CHARS
        || comment.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(ServiceError::invalid(
            "request.invalid_comment",
            format!(
                "the comment must be at most {MAX_COMMENT_CHARS} characters without control characters"
            ),
        ));
    }
    Ok(comment.to_string())
}

fn reviewer_department(caller: &Identity) -> Result<&str, ServiceError> {
    caller
        .department
        .as_deref()
        .ok_or_else(|| ServiceError::Forbidden("this reviewer token names no department".into()))
}

/// Two token names that name one person (case, spacing and full-width forms aside).
fn same_person(a: &str, b: &str) -> bool {
    let normal = |text: &str| -> String {
        text.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let (a, b) = (normal(a), normal(b));
    !a.is_empty() && a == b
}

fn no_request(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("no request {}", quoted(id)))
}

/// `REQ-YYYYMMDD-` and 10 upper-case hex digits.
fn request_id(day: time::Date) -> Result<String, ServiceError> {
    let random = super::random_bytes::<5>()?;
    Ok(format!(
        "REQ-{:04}{:02}{:02}-{}",
        day.year(),
        u8::from(day.month()),
        day.day(),
        crate::registry::audit::hex(&random).to_uppercase()
    ))
}

fn plausible_request_id(id: &str) -> bool {
    id.len() == 23
        && id.starts_with("REQ-")
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_have_one_shape() {
        let day = time::macros::date!(2026 - 11 - 26);
        let id = request_id(day).expect("random");
        assert!(id.starts_with("REQ-20261126-"), "{id}");
        assert!(plausible_request_id(&id), "{id}");
        assert!(!plausible_request_id("REQ-20261126-abcdef0123"));
        assert!(!plausible_request_id("../etc/passwd"));
    }

    #[test]
    fn one_person_under_two_spellings_is_one_person() {
        assert!(same_person("张 三", "张三"));
        assert!(same_person("Li Wei", "li wei"));
        assert!(!same_person("张三", "李四"));
        assert!(!same_person("", ""));
    }

    #[test]
    fn a_rejection_needs_its_reasons() {
        assert!(check_comment("  ", true).is_err());
        assert_eq!(check_comment(" 同意 ", false).expect("fine"), "同意");
        assert!(check_comment("bad\u{7}", false).is_err());
    }
}
