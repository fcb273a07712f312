//! Issuance requests (一窗受理, 并联审批): the case, each department's sign-off, the 容缺后补
//! commitment, the working-day calendar and the dishonesty list (失信名单).
//!
//! Every transition is one writer job: the state check, the change and its audit entry commit
//! together, and jobs run one after another with the chain head held, so two reviewers deciding
//! at the same instant see each other's decision and exactly one of them completes the request.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::events::NewEvent;
use super::writer::Batch;
use super::{AuditRecord, Registry, RegistryError, Reservation, Result, Transition};

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    /// Awaiting one or more departments' sign-off.
    Review,
    /// Every department approved; an issuer is to apply the seal.
    Ready,
    /// The seal is being applied (automatically, or by the issuer who claimed it).
    Sealing,
    Issued,
    /// A department rejected it; closed.
    Rejected,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Review => "review",
            RequestStatus::Ready => "ready",
            RequestStatus::Sealing => "sealing",
            RequestStatus::Issued => "issued",
            RequestStatus::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<RequestStatus> {
        [
            RequestStatus::Review,
            RequestStatus::Ready,
            RequestStatus::Sealing,
            RequestStatus::Issued,
            RequestStatus::Rejected,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }

    /// Whether the request still awaits something from the bureau.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            RequestStatus::Review | RequestStatus::Ready | RequestStatus::Sealing
        )
    }
}

/// A department's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Pending,
    Approved,
    Rejected,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Pending => "pending",
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
        }
    }

    fn parse(text: &str) -> Result<Decision> {
        match text {
            "pending" => Ok(Decision::Pending),
            "approved" => Ok(Decision::Approved),
            "rejected" => Ok(Decision::Rejected),
            other => Err(RegistryError::Corrupt(format!(
                "sign-off decision {other:?}"
            ))),
        }
    }
}

/// One department's sign-off on a request (谁审查谁签批).
#[derive(Clone, Debug, Serialize)]
pub struct SignOff {
    pub department: String,
    pub decision: Decision,
    /// The reviewer as the audit trail names them.
    pub reviewer: Option<String>,
    #[serde(skip)]
    pub reviewer_token: Option<String>,
    pub comment: Option<String>,
    pub decided_at_ms: Option<i64>,
}

/// A request's row with its sign-offs.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    pub id: String,
    pub status: RequestStatus,
    pub template_id: String,
    pub template_version: i64,
    pub template_title: String,
    /// The template's own department.
    pub department: String,
    /// `issuer` or `automatic` (the template's `seal_after_sign_off` when opened).
    pub seal_mode: String,
    pub data: String,
    pub holder: String,
    pub credit_code: Option<String>,
    pub delivery: String,
    pub opened_by: String,
    pub opened_by_token: String,
    pub opened_by_name: String,
    pub opened_at_ms: i64,
    pub time_limit_days: i64,
    pub deadline_ms: i64,
    /// Secondary materials still missing (容缺后补), as names.
    pub missing_materials: Vec<String>,
    /// The applicant's credit commitment (a JSON object) when materials are missing.
    pub commitment: Option<String>,
    pub supply_deadline_ms: Option<i64>,
    pub serial: Option<String>,
    pub closed_at_ms: Option<i64>,
    pub closed_by: Option<String>,
    /// When the request was found past its deadline (flagged once).
    pub overdue_at_ms: Option<i64>,
    pub sign_offs: Vec<SignOff>,
}

impl RequestRecord {
    /// The template's department and every department whose sign-off it needs.
    pub fn departments(&self) -> Vec<String> {
        std::iter::once(self.department.clone())
            .chain(self.sign_offs.iter().map(|s| s.department.clone()))
            .collect()
    }
}

/// A request as the efficiency report sees it.
#[derive(Clone, Debug)]
pub struct ReportRow {
    pub id: String,
    pub template_id: String,
    pub template_title: String,
    pub department: String,
    pub status: RequestStatus,
    pub opened_at_ms: i64,
    pub deadline_ms: i64,
    pub closed_at_ms: Option<i64>,
    pub commitment_missed: bool,
    pub sign_offs: Vec<SignOff>,
}

/// Which requests to list; all given terms must match.
#[derive(Clone, Debug, Default)]
pub struct RequestQuery {
    pub status: Option<RequestStatus>,
    /// Only requests needing this department's sign-off.
    pub sign_off_department: Option<String>,
    /// Only open requests past their deadline at this time.
    pub overdue_at: Option<i64>,
    pub template_id: Option<String>,
    pub opened_from_ms: Option<i64>,
    pub opened_until_ms: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

/// What a department's decision led to.
#[derive(Clone, Debug)]
pub struct SignOffOutcome {
    pub request: RequestRecord,
    /// This decision was the last approval of a request sealed automatically: the caller
    /// applies the seal (exactly one decision ever gets this).
    pub seal_now: bool,
}

/// A 容缺后补 commitment: materials owed after issuance.
#[derive(Clone, Debug, Serialize)]
pub struct CommitmentRecord {
    pub serial: String,
    pub request_id: String,
    pub credit_code: String,
    pub holder: String,
    /// Materials owed when issued.
    pub materials: Vec<String>,
    /// The applicant's signed credit commitment (a JSON object).
    #[serde(skip)]
    pub commitment: String,
    pub deadline_ms: i64,
    /// Materials supplied so far.
    pub supplied: Vec<String>,
    pub supplied_at_ms: Option<i64>,
    pub missed_at_ms: Option<i64>,
    /// The departments of the request it came from, for the results feed.
    pub departments: Vec<String>,
}

impl CommitmentRecord {
    /// `open`, `fulfilled`, or `missed` (deadline passed with materials still owed).
    pub fn state(&self) -> &'static str {
        match (self.supplied_at_ms, self.missed_at_ms) {
            (Some(_), _) => "fulfilled",
            (None, Some(_)) => "missed",
            (None, None) => "open",
        }
    }

    pub fn outstanding(&self) -> Vec<String> {
        self.materials
            .iter()
            .filter(|m| !self.supplied.contains(m))
            .cloned()
            .collect()
    }
}

/// A day that breaks the Monday–Friday rule.
#[derive(Clone, Debug, Serialize)]
pub struct CalendarDay {
    /// YYYY-MM-DD.
    pub day: String,
    /// `holiday` or `workday` (a make-up working day, 调休上班).
    pub kind: String,
    pub name: String,
    pub changed_by: String,
    pub changed_at_ms: i64,
}

/// An entry of the dishonesty list (失信名单), kept by admins.
#[derive(Clone, Debug, Serialize)]
pub struct BlacklistEntry {
    pub id: String,
    pub credit_code: String,
    pub name: String,
    pub reason: String,
    /// YYYY-MM-DD, inclusive.
    pub listed_from: String,
    /// YYYY-MM-DD, inclusive; open-ended when absent.
    pub listed_until: Option<String>,
    pub added_by: String,
    pub added_at_ms: i64,
    pub removed_at_ms: Option<i64>,
    pub removed_by: Option<String>,
    pub removal_reason: Option<String>,
}

impl BlacklistEntry {
    /// Whether the entry bars its applicant on `day` (YYYY-MM-DD, compared as text).
    pub fn in_force(&self, day: &str) -> bool {
        self.removed_at_ms.is_none()
            && self.listed_from.as_str() <= day
            && self
                .listed_until
                .as_deref()
                .is_none_or(|until| day <= until)
    }
}

/// Requests whose sign-offs one query fetches (bound parameters, far under either limit).
const SIGN_OFF_LOOKUP: usize = 500;

macro_rules! request_columns {
    () => {
        "id, status, template_id, template_version, template_title, department, seal_mode, data, \
         holder, credit_code, delivery, opened_by, opened_by_token, opened_by_name, opened_at_ms, \
         time_limit_days, deadline_ms, missing_materials, commitment, supply_deadline_ms, serial, \
         closed_at_ms, closed_by, overdue_at_ms"
    };
}

macro_rules! commitment_columns {
    () => {
        "serial, request_id, credit_code, holder, materials, commitment, deadline_ms, supplied, \
         supplied_at_ms, missed_at_ms, departments"
    };
}

macro_rules! blacklist_columns {
    () => {
        "id, credit_code, name, reason, listed_from, listed_until, added_by, added_at_ms, \
         removed_at_ms, removed_by, removal_reason"
    };
}

impl Registry {
    /// Stores a new request with a pending sign-off per department, and its audit entry.
    pub async fn open_request(&self, request: &RequestRecord, audit: &AuditRecord) -> Result<()> {
        self.write(
            (request.clone(), audit.clone()),
            |batch, (request, audit)| {
                Box::pin(async move {
                    insert_request(batch, request).await?;
                    batch.append(audit, request.opened_at_ms);
                    Ok(())
                })
            },
        )
        .await
    }

    pub async fn request(&self, id: &str) -> Result<Option<RequestRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            request_columns!(),
            " FROM requests WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut record = request_record(&row)?;
        record.sign_offs = self.sign_offs(&record.id).await?;
        Ok(Some(record))
    }

    async fn sign_offs(&self, request_id: &str) -> Result<Vec<SignOff>> {
        let rows = sqlx::query(
            "SELECT department, decision, reviewer, reviewer_token, comment, decided_at_ms \
             FROM sign_offs WHERE request_id = $1 ORDER BY department",
        )
        .bind(request_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(sign_off).collect()
    }

    /// Requests matching every given term, newest first.
    pub async fn requests(&self, query: &RequestQuery) -> Result<Vec<RequestRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            request_columns!(),
            " FROM requests r WHERE ($1 IS NULL OR status = $1) \
             AND ($2 IS NULL OR EXISTS (SELECT 1 FROM sign_offs s \
                  WHERE s.request_id = r.id AND s.department = $2)) \
             AND ($3 IS NULL OR (status IN ('review', 'ready', 'sealing') AND deadline_ms < $3)) \
             AND ($4 IS NULL OR template_id = $4) \
             AND ($5 IS NULL OR opened_at_ms >= $5) \
             AND ($6 IS NULL OR opened_at_ms < $6) \
             ORDER BY opened_at_ms DESC, id LIMIT $7 OFFSET $8"
        ))
        .bind(query.status.map(|s| s.as_str().to_string()))
        .bind(query.sign_off_department.clone())
        .bind(query.overdue_at)
        .bind(query.template_id.clone())
        .bind(query.opened_from_ms)
        .bind(query.opened_until_ms)
        .bind(query.limit)
        .bind(query.offset)
        .fetch_all(&self.read)
        .await?;
        let mut records: Vec<RequestRecord> =
            rows.iter().map(request_record).collect::<Result<_>>()?;
        // One query for the page's sign-offs, not one per request.
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        let mut decisions = self.sign_offs_of(&ids).await?;
        for record in &mut records {
            record.sign_offs = decisions.remove(&record.id).unwrap_or_default();
        }
        Ok(records)
    }

    /// The sign-offs of `ids`, by request, each list in department order.
    async fn sign_offs_of(
        &self,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, Vec<SignOff>>> {
        let mut found: std::collections::HashMap<String, Vec<SignOff>> =
            std::collections::HashMap::new();
        for chunk in ids.chunks(SIGN_OFF_LOOKUP) {
            // Only numbered placeholders are written into the text; the ids are bound.
            let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let sql = format!(
                "SELECT department, decision, reviewer, reviewer_token, comment, decided_at_ms, \
                 request_id FROM sign_offs WHERE request_id IN ({}) \
                 ORDER BY request_id, department",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.read).await? {
                let id: String = row.try_get(6)?;
                found.entry(id).or_default().push(sign_off(&row)?);
            }
        }
        Ok(found)
    }

    /// Records one department's decision. A rejection closes the request; the last approval
    /// makes it ready for an issuer, or (sealed automatically) hands the seal to this caller.
    #[allow(clippy::too_many_arguments)]
    pub async fn decide_sign_off(
        &self,
        request_id: &str,
        department: &str,
        decision: Decision,
        reviewer: (&str, &str),
        comment: &str,
        audit: &AuditRecord,
        rejected_event: impl Fn(&RequestRecord) -> (AuditRecord, NewEvent) + Send + Sync + 'static,
        now_ms: i64,
    ) -> Result<Transition<bool>> {
        let data = (
            request_id.to_string(),
            department.to_string(),
            decision,
            (reviewer.0.to_string(), reviewer.1.to_string()),
            comment.to_string(),
            audit.clone(),
            rejected_event,
            now_ms,
        );
        self.write(data, |batch, data| {
            let (id, department, decision, reviewer, comment, audit, rejected_event, now_ms) = data;
            Box::pin(async move {
                let Some(mut request) = locked_request(batch, id).await? else {
                    return Ok(Transition::NotFound);
                };
                let Some(current) = request
                    .sign_offs
                    .iter_mut()
                    .find(|s| s.department == *department)
                else {
                    return Ok(Transition::NotFound);
                };
                if current.decision != Decision::Pending {
                    return Ok(Transition::Refused(format!(
                        "{department} already {} this request ({})",
                        current.decision.as_str(),
                        current.reviewer.as_deref().unwrap_or("unknown reviewer")
                    )));
                }
                if request.status != RequestStatus::Review {
                    return Ok(Transition::Refused(format!(
                        "the request is {}; it no longer takes sign-offs",
                        request.status.as_str()
                    )));
                }
                sqlx::query(
                    "UPDATE sign_offs SET decision = $1, reviewer = $2, reviewer_token = $3, \
                     comment = $4, decided_at_ms = $5 WHERE request_id = $6 AND department = $7",
                )
                .bind(decision.as_str())
                .bind(&reviewer.0)
                .bind(&reviewer.1)
                .bind(comment)
                .bind(*now_ms)
                .bind(id)
                .bind(department)
                .execute(batch.connection())
                .await?;
                batch.append(audit, *now_ms);
                current.decision = *decision;
                let pending = request
                    .sign_offs
                    .iter()
                    .any(|s| s.decision == Decision::Pending);
                let next = match decision {
                    Decision::Rejected => RequestStatus::Rejected,
                    _ if pending => return Ok(Transition::Done(false)),
                    _ if request.seal_mode == "automatic" => RequestStatus::Sealing,
                    _ => RequestStatus::Ready,
                };
                let closed = next == RequestStatus::Rejected;
                sqlx::query(
                    "UPDATE requests SET status = $1, closed_at_ms = $2, closed_by = $3 \
                     WHERE id = $4",
                )
                .bind(next.as_str())
                .bind(closed.then_some(*now_ms))
                .bind(closed.then(|| reviewer.0.clone()))
                .bind(id)
                .execute(batch.connection())
                .await?;
                if closed {
                    request.status = next;
                    let (record, event) = rejected_event(&request);
                    batch.append_event(&record, *now_ms, &event).await?;
                }
                Ok(Transition::Done(next == RequestStatus::Sealing))
            })
        })
        .await
    }

    /// Takes the seal for a request: `ready` → `sealing` when an issuer applies it, or a
    /// `sealing` request without a serial when applied automatically; the serial is reserved
    /// (with its audit entry) in the same transaction, so a request is sealed at most once.
    pub async fn reserve_for_request(
        &self,
        request_id: &str,
        from: RequestStatus,
        reservation: &Reservation,
        audit: &AuditRecord,
        now_ms: i64,
    ) -> Result<Transition<()>> {
        let data = (
            request_id.to_string(),
            from,
            reservation.clone(),
            audit.clone(),
            now_ms,
        );
        self.write(data, |batch, (id, from, reservation, audit, now_ms)| {
            Box::pin(async move {
                super::records::check_seal_in_service(batch, reservation).await?;
                let changed = sqlx::query(
                    "UPDATE requests SET status = 'sealing', serial = $1 \
                     WHERE id = $2 AND status = $3 AND serial IS NULL",
                )
                .bind(&reservation.serial)
                .bind(id)
                .bind(from.as_str())
                .execute(batch.connection())
                .await?
                .rows_affected();
                if changed == 0 {
                    let status = sqlx::query("SELECT status FROM requests WHERE id = $1")
                        .bind(id)
                        .fetch_optional(batch.connection())
                        .await?;
                    return Ok(match status {
                        None => Transition::NotFound,
                        Some(row) => Transition::Refused(format!(
                            "the request is {}, not awaiting the seal",
                            row.try_get::<String, _>(0)?
                        )),
                    });
                }
                super::records::insert_reservation(batch, reservation).await?;
                batch.append(audit, *now_ms);
                Ok(Transition::Done(()))
            })
        })
        .await
    }

    /// An automatic seal that a business rule refused before its serial was reserved: the
    /// request goes back to `ready`, for an issuer.
    pub async fn return_to_ready(&self, id: &str, audit: &AuditRecord, now_ms: i64) -> Result<()> {
        self.write(
            (id.to_string(), audit.clone(), now_ms),
            |batch, (id, audit, now_ms)| {
                Box::pin(async move {
                    let changed = sqlx::query(
                        "UPDATE requests SET status = 'ready' \
                     WHERE id = $1 AND status = 'sealing' AND serial IS NULL",
                    )
                    .bind(id)
                    .execute(batch.connection())
                    .await?
                    .rows_affected();
                    if changed == 1 {
                        batch.append(audit, *now_ms);
                    }
                    Ok(())
                })
            },
        )
        .await
    }

    /// Requests whose seal was taken but not finished (a crash or restart cut them off).
    pub async fn requests_sealing(&self) -> Result<Vec<RequestRecord>> {
        let query = RequestQuery {
            status: Some(RequestStatus::Sealing),
            limit: 10_000,
            ..RequestQuery::default()
        };
        self.requests(&query).await
    }

    /// The commitment of a 容缺 issuance.
    pub async fn commitment(&self, serial: &str) -> Result<Option<CommitmentRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            commitment_columns!(),
            " FROM commitments WHERE serial = $1"
        ))
        .bind(serial)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(commitment_record).transpose()
    }

    /// Every commitment of an applicant, newest first.
    pub async fn commitments_of(&self, credit_code: &str) -> Result<Vec<CommitmentRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            commitment_columns!(),
            " FROM commitments WHERE credit_code = $1 ORDER BY deadline_ms DESC"
        ))
        .bind(credit_code)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(commitment_record).collect()
    }

    /// Records materials supplied for a request: before issuance they leave its missing list;
    /// after it they count against its commitment, which is fulfilled when nothing is owed.
    /// Returns whether the commitment became fulfilled.
    pub async fn supply_materials(
        &self,
        request_id: &str,
        materials: &[String],
        audit: &AuditRecord,
        fulfilled_event: impl Fn(&CommitmentRecord) -> (AuditRecord, NewEvent) + Send + Sync + 'static,
        now_ms: i64,
    ) -> Result<Transition<bool>> {
        let data = (
            request_id.to_string(),
            materials.to_vec(),
            audit.clone(),
            fulfilled_event,
            now_ms,
        );
        self.write(
            data,
            |batch, (id, materials, audit, fulfilled_event, now_ms)| {
                Box::pin(async move {
                    let Some(request) = locked_request(batch, id).await? else {
                        return Ok(Transition::NotFound);
                    };
                    let unknown: Vec<&String> = materials
                        .iter()
                        .filter(|m| !request.missing_materials.contains(m))
                        .collect();
                    if !unknown.is_empty() {
                        return Ok(Transition::Refused(format!(
                            "the request does not owe {}",
                            unknown
                                .iter()
                                .map(|m| format!("{m:?}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                    let fulfilled = match (&request.serial, request.status) {
                        (Some(serial), RequestStatus::Issued) => {
                            supply_after_issuance(batch, serial, materials, *now_ms).await?
                        }
                        (_, status) if status.is_open() && status != RequestStatus::Sealing => {
                            let left: Vec<&String> = request
                                .missing_materials
                                .iter()
                                .filter(|m| !materials.contains(m))
                                .collect();
                            sqlx::query("UPDATE requests SET missing_materials = $1 WHERE id = $2")
                                .bind(json_list(&left))
                                .bind(id)
                                .execute(batch.connection())
                                .await?;
                            None
                        }
                        (_, status) => {
                            return Ok(Transition::Refused(format!(
                                "the request is {}; materials cannot be recorded now",
                                status.as_str()
                            )));
                        }
                    };
                    batch.append(audit, *now_ms);
                    if let Some(commitment) = &fulfilled {
                        let (record, event) = fulfilled_event(commitment);
                        batch.append_event(&record, *now_ms, &event).await?;
                    }
                    Ok(Transition::Done(fulfilled.is_some()))
                })
            },
        )
        .await
    }

    /// Flags open requests past their deadline, and requests closed after it, once each.
    pub async fn flag_overdue_requests(
        &self,
        now_ms: i64,
        event: impl Fn(&RequestRecord) -> (AuditRecord, NewEvent) + Send + Sync + 'static,
    ) -> Result<usize> {
        self.write((now_ms, event), |batch, (now_ms, event)| {
            Box::pin(async move {
                let rows = sqlx::query(
                    "SELECT id FROM requests WHERE overdue_at_ms IS NULL AND deadline_ms < $1 \
                     AND (closed_at_ms IS NULL OR closed_at_ms > deadline_ms) \
                     ORDER BY deadline_ms, id LIMIT 500",
                )
                .bind(*now_ms)
                .fetch_all(batch.connection())
                .await?;
                let ids: Vec<String> = rows
                    .iter()
                    .map(|row| row.try_get::<String, _>(0))
                    .collect::<std::result::Result<_, _>>()?;
                for id in &ids {
                    sqlx::query("UPDATE requests SET overdue_at_ms = $1 WHERE id = $2")
                        .bind(*now_ms)
                        .bind(id)
                        .execute(batch.connection())
                        .await?;
                    if let Some(request) = locked_request(batch, id).await? {
                        let (record, new_event) = event(&request);
                        batch.append_event(&record, *now_ms, &new_event).await?;
                    }
                }
                Ok(ids.len())
            })
        })
        .await
    }

    /// Marks commitments whose deadline passed with materials owed, once each.
    pub async fn flag_missed_commitments(
        &self,
        now_ms: i64,
        event: impl Fn(&CommitmentRecord) -> (AuditRecord, NewEvent) + Send + Sync + 'static,
    ) -> Result<usize> {
        self.write((now_ms, event), |batch, (now_ms, event)| {
            Box::pin(async move {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    commitment_columns!(),
                    " FROM commitments WHERE supplied_at_ms IS NULL AND missed_at_ms IS NULL \
                     AND deadline_ms < $1 ORDER BY deadline_ms, serial LIMIT 500"
                ))
                .bind(*now_ms)
                .fetch_all(batch.connection())
                .await?;
                let mut missed: Vec<CommitmentRecord> =
                    rows.iter().map(commitment_record).collect::<Result<_>>()?;
                for commitment in &mut missed {
                    sqlx::query("UPDATE commitments SET missed_at_ms = $1 WHERE serial = $2")
                        .bind(*now_ms)
                        .bind(&commitment.serial)
                        .execute(batch.connection())
                        .await?;
                    commitment.missed_at_ms = Some(*now_ms);
                    let (record, new_event) = event(commitment);
                    batch.append_event(&record, *now_ms, &new_event).await?;
                }
                Ok(missed.len())
            })
        })
        .await
    }

    /// What the efficiency report needs of every request opened in `[from, until)`: a few
    /// columns and its sign-offs (the data and commitments stay in the database).
    pub async fn report_rows(&self, from_ms: i64, until_ms: i64) -> Result<Vec<ReportRow>> {
        let rows = sqlx::query(
            "SELECT r.id, r.template_id, r.template_title, r.department, r.status, \
             r.opened_at_ms, r.deadline_ms, r.closed_at_ms, \
             EXISTS (SELECT 1 FROM commitments c WHERE c.request_id = r.id \
                     AND c.missed_at_ms IS NOT NULL) \
             FROM requests r WHERE r.opened_at_ms >= $1 AND r.opened_at_ms < $2",
        )
        .bind(from_ms)
        .bind(until_ms)
        .fetch_all(&self.read)
        .await?;
        let mut report: Vec<ReportRow> = Vec::with_capacity(rows.len());
        for row in &rows {
            let status: String = row.try_get(4)?;
            report.push(ReportRow {
                id: row.try_get(0)?,
                template_id: row.try_get(1)?,
                template_title: row.try_get(2)?,
                department: row.try_get(3)?,
                status: RequestStatus::parse(&status)
                    .ok_or_else(|| RegistryError::Corrupt(format!("request status {status:?}")))?,
                opened_at_ms: row.try_get(5)?,
                deadline_ms: row.try_get(6)?,
                closed_at_ms: row.try_get(7)?,
                commitment_missed: truthy(row, 8)?,
                sign_offs: Vec::new(),
            });
        }
        let decisions = sqlx::query(
            "SELECT s.department, s.decision, s.reviewer, s.reviewer_token, s.comment, \
             s.decided_at_ms, s.request_id FROM sign_offs s JOIN requests r ON r.id = s.request_id \
             WHERE r.opened_at_ms >= $1 AND r.opened_at_ms < $2",
        )
        .bind(from_ms)
        .bind(until_ms)
        .fetch_all(&self.read)
        .await?;
        let index: std::collections::HashMap<String, usize> = report
            .iter()
            .enumerate()
            .map(|(at, request)| (request.id.clone(), at))
            .collect();
        for row in &decisions {
            let id: String = row.try_get(6)?;
            if let Some(request) = index.get(&id).and_then(|&at| report.get_mut(at)) {
                request.sign_offs.push(sign_off(row)?);
            }
        }
        Ok(report)
    }

    /// The calendar's exceptions, in date order.
    pub async fn calendar(&self) -> Result<Vec<CalendarDay>> {
        let rows = sqlx::query(
            "SELECT day, kind, name, changed_by, changed_at_ms FROM calendar_days ORDER BY day",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CalendarDay {
                    day: row.try_get(0)?,
                    kind: row.try_get(1)?,
                    name: row.try_get(2)?,
                    changed_by: row.try_get(3)?,
                    changed_at_ms: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// Sets (or, with `day.kind` empty, removes) one calendar exception.
    pub async fn set_calendar_day(&self, day: &CalendarDay, audit: &AuditRecord) -> Result<()> {
        self.write((day.clone(), audit.clone()), |batch, (day, audit)| {
            Box::pin(async move {
                sqlx::query("DELETE FROM calendar_days WHERE day = $1")
                    .bind(&day.day)
                    .execute(batch.connection())
                    .await?;
                if !day.kind.is_empty() {
                    sqlx::query(
                        "INSERT INTO calendar_days (day, kind, name, changed_by, changed_at_ms) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&day.day)
                    .bind(&day.kind)
                    .bind(&day.name)
                    .bind(&day.changed_by)
                    .bind(day.changed_at_ms)
                    .execute(batch.connection())
                    .await?;
                }
                batch.append(audit, day.changed_at_ms);
                Ok(())
            })
        })
        .await
    }

    pub async fn blacklist(&self, credit_code: Option<&str>) -> Result<Vec<BlacklistEntry>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            blacklist_columns!(),
            " FROM blacklist WHERE ($1 IS NULL OR credit_code = $1) ORDER BY added_at_ms DESC, id"
        ))
        .bind(credit_code.map(str::to_string))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(blacklist_entry).collect()
    }

    pub async fn add_to_blacklist(
        &self,
        entry: &BlacklistEntry,
        audit: &AuditRecord,
    ) -> Result<()> {
        self.write((entry.clone(), audit.clone()), |batch, (entry, audit)| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO blacklist (id, credit_code, name, reason, listed_from, \
                     listed_until, added_by, added_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&entry.id)
                .bind(&entry.credit_code)
                .bind(&entry.name)
                .bind(&entry.reason)
                .bind(&entry.listed_from)
                .bind(entry.listed_until.clone())
                .bind(&entry.added_by)
                .bind(entry.added_at_ms)
                .execute(batch.connection())
                .await?;
                batch.append(audit, entry.added_at_ms);
                Ok(())
            })
        })
        .await
    }

    /// Ends an entry early; it stays listed, with who removed it and why.
    pub async fn remove_from_blacklist(
        &self,
        id: &str,
        removed_by: &str,
        reason: &str,
        audit: &AuditRecord,
        now_ms: i64,
    ) -> Result<Transition<()>> {
        let data = (
            id.to_string(),
            removed_by.to_string(),
            reason.to_string(),
            audit.clone(),
            now_ms,
        );
        self.write(data, |batch, (id, by, reason, audit, now_ms)| {
            Box::pin(async move {
                super::records::end_once(
                    batch,
                    sqlx::query(
                        "UPDATE blacklist SET removed_at_ms = $1, removed_by = $2, removal_reason = $3 \
                         WHERE id = $4 AND removed_at_ms IS NULL",
                    )
                    .bind(*now_ms)
                    .bind(by)
                    .bind(reason)
                    .bind(id),
                    ("SELECT 1 FROM blacklist WHERE id = $1", id),
                    "the entry is already removed",
                    audit,
                    *now_ms,
                )
                .await
            })
        })
        .await
    }
}

async fn insert_request(batch: &mut Batch, request: &RequestRecord) -> Result<()> {
    sqlx::query(concat!(
        "INSERT INTO requests (",
        request_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22, $23, $24)"
    ))
    .bind(&request.id)
    .bind(request.status.as_str())
    .bind(&request.template_id)
    .bind(request.template_version)
    .bind(&request.template_title)
    .bind(&request.department)
    .bind(&request.seal_mode)
    .bind(&request.data)
    .bind(&request.holder)
    .bind(request.credit_code.clone())
    .bind(&request.delivery)
    .bind(&request.opened_by)
    .bind(&request.opened_by_token)
    .bind(&request.opened_by_name)
    .bind(request.opened_at_ms)
    .bind(request.time_limit_days)
    .bind(request.deadline_ms)
    .bind(json_list(&request.missing_materials))
    .bind(request.commitment.clone())
    .bind(request.supply_deadline_ms)
    .bind(request.serial.clone())
    .bind(request.closed_at_ms)
    .bind(request.closed_by.clone())
    .bind(request.overdue_at_ms)
    .execute(batch.connection())
    .await?;
    for sign_off in &request.sign_offs {
        sqlx::query(
            "INSERT INTO sign_offs (request_id, department, decision) VALUES ($1, $2, 'pending')",
        )
        .bind(&request.id)
        .bind(&sign_off.department)
        .execute(batch.connection())
        .await?;
    }
    Ok(())
}

/// The request as the group's transaction sees it (the group holds the write lock).
async fn locked_request(batch: &mut Batch, id: &str) -> Result<Option<RequestRecord>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        request_columns!(),
        " FROM requests WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(batch.connection())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut record = request_record(&row)?;
    let rows = sqlx::query(
        "SELECT department, decision, reviewer, reviewer_token, comment, decided_at_ms \
         FROM sign_offs WHERE request_id = $1 ORDER BY department",
    )
    .bind(id)
    .fetch_all(batch.connection())
    .await?;
    record.sign_offs = rows.iter().map(sign_off).collect::<Result<_>>()?;
    Ok(Some(record))
}

/// Stores the commitment of a 容缺 issuance, in the transaction that completes it.
pub(super) async fn insert_commitment(
    batch: &mut Batch,
    commitment: &CommitmentRecord,
) -> Result<()> {
    sqlx::query(concat!(
        "INSERT INTO commitments (",
        commitment_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, $9)"
    ))
    .bind(&commitment.serial)
    .bind(&commitment.request_id)
    .bind(&commitment.credit_code)
    .bind(&commitment.holder)
    .bind(json_list(&commitment.materials))
    .bind(&commitment.commitment)
    .bind(commitment.deadline_ms)
    .bind(json_list(&commitment.supplied))
    .bind(json_list(&commitment.departments))
    .execute(batch.connection())
    .await?;
    Ok(())
}

/// Counts supplied materials against a commitment; returns it when now fulfilled.
async fn supply_after_issuance(
    batch: &mut Batch,
    serial: &str,
    materials: &[String],
    now_ms: i64,
) -> Result<Option<CommitmentRecord>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        commitment_columns!(),
        " FROM commitments WHERE serial = $1"
    ))
    .bind(serial)
    .fetch_optional(batch.connection())
    .await?;
    let Some(row) = row else {
        return Err(RegistryError::Corrupt(format!(
            "certificate {serial} owes materials but has no commitment"
        )));
    };
    let mut commitment = commitment_record(&row)?;
    for material in materials {
        if !commitment.supplied.contains(material) {
            commitment.supplied.push(material.clone());
        }
    }
    let done = commitment.outstanding().is_empty();
    if done {
        commitment.supplied_at_ms = Some(now_ms);
    }
    sqlx::query("UPDATE commitments SET supplied = $1, supplied_at_ms = $2 WHERE serial = $3")
        .bind(json_list(&commitment.supplied))
        .bind(commitment.supplied_at_ms)
        .bind(serial)
        .execute(batch.connection())
        .await?;
    Ok(done.then_some(commitment))
}

/// A boolean column: SQLite answers an integer, PostgreSQL a boolean.
fn truthy(row: &AnyRow, index: usize) -> Result<bool> {
    match row.try_get::<bool, _>(index) {
        Ok(value) => Ok(value),
        Err(_) => Ok(row.try_get::<i64, _>(index)? != 0),
    }
}

fn json_list<T: Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

fn parse_list(text: &str, what: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|_| RegistryError::Corrupt(format!("{what} list")))
}

fn request_record(row: &AnyRow) -> Result<RequestRecord> {
    let status: String = row.try_get(1)?;
    let missing: String = row.try_get(17)?;
    Ok(RequestRecord {
        id: row.try_get(0)?,
        status: RequestStatus::parse(&status)
            .ok_or_else(|| RegistryError::Corrupt(format!("request status {status:?}")))?,
        template_id: row.try_get(2)?,
        template_version: row.try_get(3)?,
        template_title: row.try_get(4)?,
        department: row.try_get(5)?,
        seal_mode: row.try_get(6)?,
        data: row.try_get(7)?,
        holder: row.try_get(8)?,
        credit_code: row.try_get(9)?,
        delivery: row.try_get(10)?,
        opened_by: row.try_get(11)?,
        opened_by_token: row.try_get(12)?,
        opened_by_name: row.try_get(13)?,
        opened_at_ms: row.try_get(14)?,
        time_limit_days: row.try_get(15)?,
        deadline_ms: row.try_get(16)?,
        missing_materials: parse_list(&missing, "missing materials")?,
        commitment: row.try_get(18)?,
        supply_deadline_ms: row.try_get(19)?,
        serial: row.try_get(20)?,
        closed_at_ms: row.try_get(21)?,
        closed_by: row.try_get(22)?,
        overdue_at_ms: row.try_get(23)?,
        sign_offs: Vec::new(),
    })
}

fn sign_off(row: &AnyRow) -> Result<SignOff> {
    Ok(SignOff {
        department: row.try_get(0)?,
        decision: Decision::parse(&row.try_get::<String, _>(1)?)?,
        reviewer: row.try_get(2)?,
        reviewer_token: row.try_get(3)?,
        comment: row.try_get(4)?,
        decided_at_ms: row.try_get(5)?,
    })
}

fn commitment_record(row: &AnyRow) -> Result<CommitmentRecord> {
    Ok(CommitmentRecord {
        serial: row.try_get(0)?,
        request_id: row.try_get(1)?,
        credit_code: row.try_get(2)?,
        holder: row.try_get(3)?,
        materials: parse_list(&row.try_get::<String, _>(4)?, "committed materials")?,
        commitment: row.try_get(5)?,
        deadline_ms: row.try_get(6)?,
        supplied: parse_list(&row.try_get::<String, _>(7)?, "supplied materials")?,
        supplied_at_ms: row.try_get(8)?,
        missed_at_ms: row.try_get(9)?,
        departments: parse_list(&row.try_get::<String, _>(10)?, "commitment departments")?,
    })
}

fn blacklist_entry(row: &AnyRow) -> Result<BlacklistEntry> {
    Ok(BlacklistEntry {
        id: row.try_get(0)?,
        credit_code: row.try_get(1)?,
        name: row.try_get(2)?,
        reason: row.try_get(3)?,
        listed_from: row.try_get(4)?,
        listed_until: row.try_get(5)?,
        added_by: row.try_get(6)?,
        added_at_ms: row.try_get(7)?,
        removed_at_ms: row.try_get(8)?,
        removed_by: row.try_get(9)?,
        removal_reason: row.try_get(10)?,
    })
}
