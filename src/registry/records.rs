//! What the registry stores besides the audit chain: tokens, template versions, certificates.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::events::NewEvent;
use super::writer::Batch;
use super::{AuditEntry, AuditRecord, Registry, RegistryError, Result};

/// What a token's holder may do (issue 5's roles).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A department: uploads templates for its own department and sees their status.
    Department,
    /// A department's sign-off on an application.
    Reviewer,
    /// Bureau staff who issue under the seal.
    Issuer,
    /// Approves templates, manages tokens, revokes certificates.
    Admin,
    /// Reads the audit trail.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Department,
        Role::Reviewer,
        Role::Issuer,
        Role::Admin,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Department => "department",
            Role::Reviewer => "reviewer",
            Role::Issuer => "issuer",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

/// A stored API token: only the SHA-256 of its secret is kept.
#[derive(Clone, Serialize)]
pub struct TokenRecord {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub department: Option<String>,
    #[serde(skip)]
    pub secret_hash: [u8; 32],
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

impl std::fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRecord")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("department", &self.department)
            .field("revoked", &self.revoked_at_ms.is_some())
            .finish_non_exhaustive()
    }
}

/// Where a template version stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateStatus {
    /// Uploaded, awaiting the admin's approval.
    Pending,
    /// The version certificates are issued from.
    Active,
    /// Replaced by a later approval: kept for re-verification, no longer issuable.
    Retired,
}

impl TemplateStatus {
    fn as_str(self) -> &'static str {
        match self {
            TemplateStatus::Pending => "pending",
            TemplateStatus::Active => "active",
            TemplateStatus::Retired => "retired",
        }
    }

    fn parse(text: &str) -> Result<TemplateStatus> {
        match text {
            "pending" => Ok(TemplateStatus::Pending),
            "active" => Ok(TemplateStatus::Active),
            "retired" => Ok(TemplateStatus::Retired),
            other => Err(RegistryError::Corrupt(format!("template status {other:?}"))),
        }
    }
}

/// One uploaded version of a template bundle, without its files.
#[derive(Clone, Debug, Serialize)]
pub struct TemplateVersion {
    pub id: String,
    /// 1, 2, 3, … per template id, assigned by the registry.
    pub version: i64,
    pub status: TemplateStatus,
    pub title: String,
    pub department: String,
    /// The department's own version label from the manifest.
    pub label: String,
    pub submitted_by: String,
    pub submitted_at_ms: i64,
    pub decided_by: Option<String>,
    pub decided_at_ms: Option<i64>,
}

/// A bundle's three files as uploaded.
#[derive(Clone, Debug)]
pub struct TemplateFiles {
    pub blank: Vec<u8>,
    pub manifest: Vec<u8>,
    pub example: Vec<u8>,
}

/// A template version about to be stored.
#[derive(Clone, Debug)]
pub struct NewTemplate {
    pub id: String,
    pub title: String,
    pub department: String,
    pub label: String,
    pub files: TemplateFiles,
}

/// Where a certificate stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CertificateStatus {
    /// The serial is taken and signing began; no PDF was committed (yet).
    Signing,
    Issued,
    Revoked,
}

impl CertificateStatus {
    fn parse(text: &str) -> Result<CertificateStatus> {
        match text {
            "signing" => Ok(CertificateStatus::Signing),
            "issued" => Ok(CertificateStatus::Issued),
            "revoked" => Ok(CertificateStatus::Revoked),
            other => Err(RegistryError::Corrupt(format!(
                "certificate status {other:?}"
            ))),
        }
    }
}

/// A certificate's registry row, without its PDF.
#[derive(Clone, Debug, Serialize)]
pub struct CertificateRecord {
    pub serial: String,
    pub status: CertificateStatus,
    pub template_id: String,
    pub template_version: i64,
    pub template_title: String,
    /// The issuance data as submitted (a JSON object).
    pub data: String,
    pub holder: String,
    pub credit_code: Option<String>,
    pub delivery: String,
    pub issuer: String,
    pub issued_at_ms: i64,
    pub sha256: Option<String>,
    pub revoked_at_ms: Option<i64>,
    pub revoked_by: Option<String>,
    pub revocation_reason: Option<String>,
    /// The issuance request it was sealed for, when it went through one.
    pub request_id: Option<String>,
    /// Who signed off, per department (a JSON array), when it went through a request.
    pub sign_offs: Option<String>,
    /// The template's department and those that signed off, as `|a|b|`.
    pub departments: Option<String>,
    /// SHA-256 of the seal certificate that signed it (lowercase hex); absent for certificates
    /// issued before seals were recorded.
    pub seal_fingerprint: Option<String>,
}

impl CertificateRecord {
    /// The departments concerned, for the results feed.
    pub fn department_list(&self) -> Vec<String> {
        self.departments
            .as_deref()
            .unwrap_or_default()
            .split('|')
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// A serial taken before signing starts.
#[derive(Clone, Debug)]
pub struct Reservation {
    pub serial: String,
    pub template_id: String,
    pub template_version: i64,
    pub template_title: String,
    pub data: String,
    pub holder: String,
    pub credit_code: Option<String>,
    pub delivery: String,
    pub issuer: String,
    pub issued_at_ms: i64,
    pub request_id: Option<String>,
    /// The sign-offs, as a JSON array, when sealed for a request.
    pub sign_offs: Option<String>,
    /// The template's department and those that signed off.
    pub departments: Vec<String>,
    /// The fingerprint of the seal certificate meant to sign (refused once that seal retired).
    pub seal_fingerprint: Option<String>,
}

/// What completes an issuance: the sealed PDF, and for a request its closing and commitment.
#[derive(Clone, Debug)]
pub struct Completion {
    pub serial: String,
    pub sha256: String,
    pub pdf: Vec<u8>,
    pub request_id: Option<String>,
    pub closed_by: String,
    /// 容缺后补: the materials owed and the deadline, when some were missing.
    pub commitment: Option<super::CommitmentRecord>,
    /// The fingerprint of the seal certificate that signed it.
    pub seal_fingerprint: String,
}

/// Search terms; all given ones must match.
#[derive(Clone, Debug, Default)]
pub struct CertificateQuery {
    pub serial: Option<String>,
    /// Matches holders containing this text.
    pub holder: Option<String>,
    pub credit_code: Option<String>,
    pub template_id: Option<String>,
    /// Issued at or after (Unix ms).
    pub from_ms: Option<i64>,
    /// Issued before (Unix ms).
    pub until_ms: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

/// What an approval or revocation found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition<T> {
    Done(T),
    NotFound,
    /// The record is not in a state that allows it (already approved, already revoked).
    Refused(String),
}

/// Column lists as macros, so queries stay `&'static str` (sqlx refuses SQL built at run time).
macro_rules! certificate_columns {
    () => {
        "serial, status, template_id, template_version, template_title, \
    data, holder, credit_code, delivery, issuer, issued_at_ms, sha256, revoked_at_ms, revoked_by, \
    revocation_reason, request_id, sign_offs, departments, seal_fingerprint"
    };
}

macro_rules! template_columns {
    () => {
        "id, version, status, title, department, label, submitted_by, \
    submitted_at_ms, decided_by, decided_at_ms"
    };
}

impl Registry {
    /// Stores a new token (its secret's hash only) with its audit entry.
    pub async fn create_token(
        &self,
        token: &TokenRecord,
        audit: &AuditRecord,
    ) -> Result<AuditEntry> {
        self.write((token.clone(), audit.clone()), |batch, (token, audit)| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO tokens (id, name, role, department, secret_hash, created_at_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&token.id)
                .bind(&token.name)
                .bind(token.role.as_str())
                .bind(token.department.clone())
                .bind(token.secret_hash.to_vec())
                .bind(token.created_at_ms)
                .execute(batch.connection())
                .await?;
                Ok(batch.append(audit, token.created_at_ms))
            })
        })
        .await
    }

    pub async fn token(&self, id: &str) -> Result<Option<TokenRecord>> {
        let row = sqlx::query(
            "SELECT id, name, role, department, secret_hash, created_at_ms, revoked_at_ms \
             FROM tokens WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(token_record).transpose()
    }

    pub async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        let rows = sqlx::query(
            "SELECT id, name, role, department, secret_hash, created_at_ms, revoked_at_ms \
             FROM tokens ORDER BY created_at_ms, id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(token_record).collect()
    }

    /// Revokes a token at once: the next request carrying it is refused.
    pub async fn revoke_token(
        &self,
        id: &str,
        audit: &AuditRecord,
        now_ms: i64,
    ) -> Result<Transition<()>> {
        let data = (id.to_string(), audit.clone(), now_ms);
        self.write(data, |batch, (id, audit, now_ms)| {
            Box::pin(async move {
                end_once(
                    batch,
                    sqlx::query(
                        "UPDATE tokens SET revoked_at_ms = $1 WHERE id = $2 AND revoked_at_ms IS NULL",
                    )
                    .bind(*now_ms)
                    .bind(id),
                    ("SELECT 1 FROM tokens WHERE id = $1", id),
                    "the token is already revoked",
                    audit,
                    *now_ms,
                )
                .await
            })
        })
        .await
    }

    /// Stores an uploaded bundle as the template's next version, pending approval.
    pub async fn submit_template(
        &self,
        template: &NewTemplate,
        submitted_by: &str,
        audit: impl Fn(i64) -> AuditRecord + Send + Sync + 'static,
        now_ms: i64,
    ) -> Result<TemplateVersion> {
        let data = (template.clone(), submitted_by.to_string(), audit, now_ms);
        let version = self
            .write(data, |batch, (stored, submitter, audit, now_ms)| {
                Box::pin(async move {
                    let row = sqlx::query(
                        "SELECT COALESCE(MAX(version), 0) FROM templates WHERE id = $1",
                    )
                    .bind(&stored.id)
                    .fetch_one(batch.connection())
                    .await?;
                    let version: i64 = row.try_get::<i64, _>(0)? + 1;
                    sqlx::query(
                        "INSERT INTO templates (id, version, status, title, department, label, \
                         submitted_by, submitted_at_ms, blank, manifest, example) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    )
                    .bind(&stored.id)
                    .bind(version)
                    .bind(TemplateStatus::Pending.as_str())
                    .bind(&stored.title)
                    .bind(&stored.department)
                    .bind(&stored.label)
                    .bind(submitter)
                    .bind(*now_ms)
                    .bind(&stored.files.blank)
                    .bind(&stored.files.manifest)
                    .bind(&stored.files.example)
                    .execute(batch.connection())
                    .await?;
                    batch.append(&audit(version), *now_ms);
                    Ok(version)
                })
            })
            .await?;
        Ok(TemplateVersion {
            id: template.id.clone(),
            version,
            status: TemplateStatus::Pending,
            title: template.title.clone(),
            department: template.department.clone(),
            label: template.label.clone(),
            submitted_by: submitted_by.to_string(),
            submitted_at_ms: now_ms,
            decided_by: None,
            decided_at_ms: None,
        })
    }

    /// Every version, newest first; only `department`'s when given.
    pub async fn templates(&self, department: Option<&str>) -> Result<Vec<TemplateVersion>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            template_columns!(),
            " FROM templates \
             WHERE ($1 IS NULL OR department = $1) ORDER BY id, version DESC"
        ))
        .bind(department.map(str::to_string))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(template_version).collect()
    }

    pub async fn template(&self, id: &str, version: i64) -> Result<Option<TemplateVersion>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            template_columns!(),
            " FROM templates WHERE id = $1 AND version = $2"
        ))
        .bind(id)
        .bind(version)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(template_version).transpose()
    }

    /// The version certificates of `id` are issued from now.
    pub async fn active_template(&self, id: &str) -> Result<Option<TemplateVersion>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            template_columns!(),
            " FROM templates WHERE id = $1 AND status = 'active'"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(template_version).transpose()
    }

    pub async fn template_files(&self, id: &str, version: i64) -> Result<Option<TemplateFiles>> {
        let row = sqlx::query(
            "SELECT blank, manifest, example FROM templates WHERE id = $1 AND version = $2",
        )
        .bind(id)
        .bind(version)
        .fetch_optional(&self.read)
        .await?;
        row.map(|row| {
            Ok(TemplateFiles {
                blank: row.try_get(0)?,
                manifest: row.try_get(1)?,
                example: row.try_get(2)?,
            })
        })
        .transpose()
    }

    /// Makes a pending version the active one; the version it replaces is retired.
    pub async fn approve_template(
        &self,
        id: &str,
        version: i64,
        approved_by: &str,
        audit: &AuditRecord,
        now_ms: i64,
    ) -> Result<Transition<TemplateVersion>> {
        let data = (
            id.to_string(),
            version,
            approved_by.to_string(),
            audit.clone(),
            now_ms,
        );
        let approved = self
            .write(data, |batch, (template, version, approver, audit, now_ms)| {
                Box::pin(async move {
                    let row =
                        sqlx::query("SELECT status FROM templates WHERE id = $1 AND version = $2")
                            .bind(template)
                            .bind(*version)
                            .fetch_optional(batch.connection())
                            .await?;
                    let Some(row) = row else {
                        return Ok(Transition::NotFound);
                    };
                    let status = TemplateStatus::parse(&row.try_get::<String, _>(0)?)?;
                    if status != TemplateStatus::Pending {
                        return Ok(Transition::Refused(format!(
                            "version {version} is {}, not pending",
                            status.as_str()
                        )));
                    }
                    sqlx::query(
                        "UPDATE templates SET status = 'retired' WHERE id = $1 AND status = 'active'",
                    )
                    .bind(template)
                    .execute(batch.connection())
                    .await?;
                    sqlx::query(
                        "UPDATE templates SET status = 'active', decided_by = $1, decided_at_ms = $2 \
                         WHERE id = $3 AND version = $4",
                    )
                    .bind(approver)
                    .bind(*now_ms)
                    .bind(template)
                    .bind(*version)
                    .execute(batch.connection())
                    .await?;
                    batch.append(audit, *now_ms);
                    Ok(Transition::Done(()))
                })
            })
            .await?;
        match approved {
            Transition::Done(()) => {}
            Transition::NotFound => return Ok(Transition::NotFound),
            Transition::Refused(why) => return Ok(Transition::Refused(why)),
        }
        match self.template(id, version).await? {
            Some(approved) => Ok(Transition::Done(approved)),
            None => Ok(Transition::NotFound),
        }
    }

    /// Takes `reservation.serial` for good and records that signing begins. Fails with
    /// `Conflict` when the serial was ever used: serials are never reused.
    pub async fn reserve_serial(
        &self,
        reservation: &Reservation,
        audit: &AuditRecord,
        now_ms: i64,
    ) -> Result<AuditEntry> {
        let data = (reservation.clone(), audit.clone(), now_ms);
        self.write(data, |batch, (reservation, audit, now_ms)| {
            Box::pin(async move {
                check_seal_in_service(batch, reservation).await?;
                let inserted = insert_reservation(batch, reservation).await;
                inserted?;
                Ok(batch.append(audit, *now_ms))
            })
        })
        .await
    }

    /// Stores the sealed PDF and marks the certificate issued, with its audit entry and feed
    /// event; closes its request and records its 容缺 commitment, all durably together.
    pub async fn complete_issuance(
        &self,
        completion: &Completion,
        audit: &AuditRecord,
        event: &NewEvent,
        now_ms: i64,
    ) -> Result<AuditEntry> {
        let data = (completion.clone(), audit.clone(), event.clone(), now_ms);
        self.write(data, |batch, (completion, audit, event, now_ms)| {
            Box::pin(async move {
                let changed = sqlx::query(
                    "UPDATE certificates SET status = 'issued', sha256 = $1, pdf = $2, \
                     seal_fingerprint = $3 WHERE serial = $4 AND status = 'signing'",
                )
                .bind(&completion.sha256)
                .bind(&completion.pdf)
                .bind(&completion.seal_fingerprint)
                .bind(&completion.serial)
                .execute(batch.connection())
                .await?
                .rows_affected();
                if changed != 1 {
                    return Err(RegistryError::Corrupt(format!(
                        "serial {} was not awaiting its PDF",
                        completion.serial
                    )));
                }
                if let Some(request) = &completion.request_id {
                    close_request(batch, request, completion, *now_ms).await?;
                }
                if let Some(commitment) = &completion.commitment {
                    super::requests::insert_commitment(batch, commitment).await?;
                }
                batch.append_event(audit, *now_ms, event).await
            })
        })
        .await
    }

    pub async fn certificate(&self, serial: &str) -> Result<Option<CertificateRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            certificate_columns!(),
            " FROM certificates WHERE serial = $1"
        ))
        .bind(serial)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(certificate_record).transpose()
    }

    /// The certificate whose archived PDF has this SHA-256 (hex).
    pub async fn certificate_by_sha256(&self, sha256: &str) -> Result<Option<CertificateRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            certificate_columns!(),
            " FROM certificates WHERE sha256 = $1"
        ))
        .bind(sha256)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(certificate_record).transpose()
    }

    /// The archived PDF, exactly as it was returned at issuance.
    pub async fn certificate_pdf(&self, serial: &str) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT pdf FROM certificates WHERE serial = $1 AND pdf IS NOT NULL")
            .bind(serial)
            .fetch_optional(&self.read)
            .await?;
        row.map(|row| Ok(row.try_get(0)?)).transpose()
    }

    /// Certificates matching every given term, newest first.
    pub async fn search_certificates(
        &self,
        query: &CertificateQuery,
    ) -> Result<Vec<CertificateRecord>> {
        let holder = query
            .holder
            .as_ref()
            .map(|h| format!("%{}%", escape_like(h)));
        let rows = sqlx::query(concat!(
            "SELECT ",
            certificate_columns!(),
            " FROM certificates WHERE status <> 'signing' \
             AND ($1 IS NULL OR serial = $1) \
             AND ($2 IS NULL OR holder LIKE $2 ESCAPE '\\') \
             AND ($3 IS NULL OR credit_code = $3) \
             AND ($4 IS NULL OR template_id = $4) \
             AND ($5 IS NULL OR issued_at_ms >= $5) \
             AND ($6 IS NULL OR issued_at_ms < $6) \
             ORDER BY issued_at_ms DESC, serial LIMIT $7 OFFSET $8"
        ))
        .bind(query.serial.clone())
        .bind(holder)
        .bind(query.credit_code.clone())
        .bind(query.template_id.clone())
        .bind(query.from_ms)
        .bind(query.until_ms)
        .bind(query.limit)
        .bind(query.offset)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(certificate_record).collect()
    }

    /// Revokes an issued certificate; its serial stays taken.
    pub async fn revoke_certificate(
        &self,
        serial: &str,
        reason: &str,
        revoked_by: &str,
        audit: &AuditRecord,
        event: impl Fn(&CertificateRecord) -> NewEvent + Send + Sync + 'static,
        now_ms: i64,
    ) -> Result<Transition<CertificateRecord>> {
        let data = (
            serial.to_string(),
            reason.to_string(),
            revoked_by.to_string(),
            audit.clone(),
            event,
            now_ms,
        );
        let revoked = self
            .write(
                data,
                |batch, (target, reason, revoker, audit, event, now_ms)| {
                    Box::pin(async move {
                        let changed = sqlx::query(
                            "UPDATE certificates SET status = 'revoked', revoked_at_ms = $1, \
                         revoked_by = $2, revocation_reason = $3 \
                         WHERE serial = $4 AND status = 'issued'",
                        )
                        .bind(*now_ms)
                        .bind(revoker)
                        .bind(reason)
                        .bind(target)
                        .execute(batch.connection())
                        .await?
                        .rows_affected();
                        if changed == 0 {
                            let row =
                                sqlx::query("SELECT status FROM certificates WHERE serial = $1")
                                    .bind(target)
                                    .fetch_optional(batch.connection())
                                    .await?;
                            return Ok(match row {
                                None => Transition::NotFound,
                                Some(row) => {
                                    match CertificateStatus::parse(&row.try_get::<String, _>(0)?)? {
                                        CertificateStatus::Signing => Transition::NotFound,
                                        _ => Transition::Refused(
                                            "the certificate is already revoked".into(),
                                        ),
                                    }
                                }
                            });
                        }
                        let row = sqlx::query(concat!(
                            "SELECT ",
                            certificate_columns!(),
                            " FROM certificates WHERE serial = $1"
                        ))
                        .bind(target)
                        .fetch_one(batch.connection())
                        .await?;
                        let record = certificate_record(&row)?;
                        batch.append_event(audit, *now_ms, &event(&record)).await?;
                        Ok(Transition::Done(()))
                    })
                },
            )
            .await?;
        match revoked {
            Transition::Done(()) => {}
            Transition::NotFound => return Ok(Transition::NotFound),
            Transition::Refused(why) => return Ok(Transition::Refused(why)),
        }
        match self.certificate(serial).await? {
            Some(record) => Ok(Transition::Done(record)),
            None => Ok(Transition::NotFound),
        }
    }

    /// How many certificates were issued (revoked ones included).
    pub async fn certificate_count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM certificates WHERE status <> 'signing'")
            .fetch_one(&self.read)
            .await?;
        Ok(row.try_get(0)?)
    }
}

/// Ends a row once (revokes a token, removes a subscriber or a listing): runs `update`, a
/// conditional UPDATE, and records `audit` when it changed the row. When it changed nothing,
/// the row `exists` looks up by `id` is missing, or already ended (`refused` says so).
pub(super) async fn end_once(
    batch: &mut Batch,
    update: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    (exists, id): (&'static str, &str),
    refused: &str,
    audit: &AuditRecord,
    now_ms: i64,
) -> Result<Transition<()>> {
    if update.execute(batch.connection()).await?.rows_affected() > 0 {
        batch.append(audit, now_ms);
        return Ok(Transition::Done(()));
    }
    let found = sqlx::query(exists)
        .bind(id)
        .fetch_optional(batch.connection())
        .await?
        .is_some();
    Ok(if found {
        Transition::Refused(refused.to_string())
    } else {
        Transition::NotFound
    })
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn token_record(row: &AnyRow) -> Result<TokenRecord> {
    let role: String = row.try_get(2)?;
    let hash: Vec<u8> = row.try_get(4)?;
    Ok(TokenRecord {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        role: Role::parse(&role).ok_or_else(|| RegistryError::Corrupt(format!("role {role:?}")))?,
        department: row.try_get(3)?,
        secret_hash: hash
            .try_into()
            .map_err(|_| RegistryError::Corrupt("a token hash".into()))?,
        created_at_ms: row.try_get(5)?,
        revoked_at_ms: row.try_get(6)?,
    })
}

fn template_version(row: &AnyRow) -> Result<TemplateVersion> {
    Ok(TemplateVersion {
        id: row.try_get(0)?,
        version: row.try_get(1)?,
        status: TemplateStatus::parse(&row.try_get::<String, _>(2)?)?,
        title: row.try_get(3)?,
        department: row.try_get(4)?,
        label: row.try_get(5)?,
        submitted_by: row.try_get(6)?,
        submitted_at_ms: row.try_get(7)?,
        decided_by: row.try_get(8)?,
        decided_at_ms: row.try_get(9)?,
    })
}

fn certificate_record(row: &AnyRow) -> Result<CertificateRecord> {
    Ok(CertificateRecord {
        serial: row.try_get(0)?,
        status: CertificateStatus::parse(&row.try_get::<String, _>(1)?)?,
        template_id: row.try_get(2)?,
        template_version: row.try_get(3)?,
        template_title: row.try_get(4)?,
        data: row.try_get(5)?,
        holder: row.try_get(6)?,
        credit_code: row.try_get(7)?,
        delivery: row.try_get(8)?,
        issuer: row.try_get(9)?,
        issued_at_ms: row.try_get(10)?,
        sha256: row.try_get(11)?,
        revoked_at_ms: row.try_get(12)?,
        revoked_by: row.try_get(13)?,
        revocation_reason: row.try_get(14)?,
        request_id: row.try_get(15)?,
        sign_offs: row.try_get(16)?,
        departments: row.try_get(17)?,
        seal_fingerprint: row.try_get(18)?,
    })
}

/// Refuses a reservation meant for a seal that a rotation has retired; checked before anything
/// else the job writes.
pub(super) async fn check_seal_in_service(
    batch: &mut Batch,
    reservation: &Reservation,
) -> Result<()> {
    if let Some(fingerprint) = &reservation.seal_fingerprint
        && super::seals::seal_is_retired(batch.connection(), fingerprint).await?
    {
        return Err(RegistryError::SealRetired(fingerprint.clone()));
    }
    Ok(())
}

/// The reservation's row: the serial is taken for good (`Conflict` when it ever was).
pub(super) async fn insert_reservation(batch: &mut Batch, reservation: &Reservation) -> Result<()> {
    let departments: String = reservation
        .departments
        .iter()
        .map(|d| format!("|{d}"))
        .chain(std::iter::once("|".to_string()))
        .collect();
    sqlx::query(
        "INSERT INTO certificates (serial, status, template_id, template_version, \
         template_title, data, holder, credit_code, delivery, issuer, issued_at_ms, request_id, \
         sign_offs, departments, seal_fingerprint) \
         VALUES ($1, 'signing', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&reservation.serial)
    .bind(&reservation.template_id)
    .bind(reservation.template_version)
    .bind(&reservation.template_title)
    .bind(&reservation.data)
    .bind(&reservation.holder)
    .bind(reservation.credit_code.clone())
    .bind(&reservation.delivery)
    .bind(&reservation.issuer)
    .bind(reservation.issued_at_ms)
    .bind(reservation.request_id.clone())
    .bind(reservation.sign_offs.clone())
    .bind(departments)
    .bind(reservation.seal_fingerprint.clone())
    .execute(batch.connection())
    .await
    .map_err(|error| match RegistryError::from(error) {
        RegistryError::Conflict(_) => {
            RegistryError::Conflict(format!("serial {}", reservation.serial))
        }
        other => other,
    })?;
    Ok(())
}

/// Closes a request with its certificate: issued, by whom, when.
async fn close_request(
    batch: &mut Batch,
    request: &str,
    completion: &Completion,
    now_ms: i64,
) -> Result<()> {
    let changed = sqlx::query(
        "UPDATE requests SET status = 'issued', closed_at_ms = $1, closed_by = $2 \
         WHERE id = $3 AND status = 'sealing' AND serial = $4",
    )
    .bind(now_ms)
    .bind(&completion.closed_by)
    .bind(request)
    .bind(&completion.serial)
    .execute(batch.connection())
    .await?
    .rows_affected();
    if changed != 1 {
        return Err(RegistryError::Corrupt(format!(
            "request {request} was not being sealed as {}",
            completion.serial
        )));
    }
    Ok(())
}
