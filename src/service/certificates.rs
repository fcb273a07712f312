//! Issuing, finding and revoking certificates, each step in the registry before it is answered.

use std::sync::Arc;

use serde::Serialize;

use super::issuance::{IssuanceRequest, IssueError, Issuer};
use super::templates::sha256_hex;
use super::{Bureau, Identity, ServiceError, off_runtime, quoted, require};
use crate::registry::{
    AuditRecord, CertificateQuery, CertificateRecord, CommitmentRecord, Completion, EventKind,
    NewEvent, RegistryError, RequestStatus, Reservation, Role, SignOff, TemplateVersion,
    Transition,
};
use crate::template::data::{MAX_DATA_BYTES, check_data};
use crate::template::font::SourceFont;
use crate::template::manifest::{FieldKind, Manifest};
use crate::template::{Bundle, LicenceSerial};

/// How the holder receives the licence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase", expecting = "\"window\" or \"mail\"")]
pub enum Delivery {
    /// Handed over at the bureau's window (窗口领取).
    Window,
    /// Posted to the holder (邮寄送达).
    Mail,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Window => "window",
            Delivery::Mail => "mail",
        }
    }
}

/// One certificate to issue from a template's active version.
#[derive(Clone, Debug)]
pub struct CertificateRequest {
    pub template: String,
    /// The data as the client sent it (a JSON object), checked byte for byte.
    pub data: String,
    pub delivery: Delivery,
}

/// A certificate committed to the registry, with the PDF that was archived.
#[derive(Clone, Debug)]
pub struct IssuedCertificate {
    pub record: CertificateRecord,
    pub pdf: Vec<u8>,
    pub verification_url: String,
}

/// Attempts at a fresh serial before giving up (each collision is a 1-in-10^15 event).
const SERIAL_ATTEMPTS: usize = 3;
/// Longest revocation reason.
const MAX_REASON_CHARS: usize = 500;

/// A licence about to be sealed: what to draw and whom it is for.
#[derive(Clone)]
pub(super) struct SealJob {
    pub template: TemplateVersion,
    pub bundle: Arc<Bundle>,
    pub data: String,
    pub holder: String,
    pub credit_code: Option<String>,
    pub delivery: String,
    /// Who applies the seal, as the trail names them (an issuer, or the bureau itself).
    pub sealed_by: String,
    pub request: Option<RequestLink>,
}

/// What ties a seal to its issuance request.
#[derive(Clone)]
pub(super) struct RequestLink {
    pub id: String,
    /// The state the request is sealed from: `ready` (by an issuer) or `sealing` (automatic).
    pub from: RequestStatus,
    pub sign_offs: Vec<SignOff>,
    pub departments: Vec<String>,
    /// 容缺后补: materials still missing, the commitment (JSON) and the working days to supply.
    pub missing_materials: Vec<String>,
    pub commitment: Option<String>,
    pub supply_within_days: u32,
}

impl Bureau {
    /// Issues one certificate: the serial and an audit entry are committed before signing, and
    /// the PDF, its hash and a second entry are committed before anything is returned.
    pub async fn issue_certificate(
        &self,
        caller: &Identity,
        request: CertificateRequest,
    ) -> Result<IssuedCertificate, ServiceError> {
        require(caller, &[Role::Issuer], "issue certificates")?;
        if request.data.len() > MAX_DATA_BYTES {
            return Err(ServiceError::invalid(
                "certificate.invalid_data",
                format!("the data is over {MAX_DATA_BYTES} bytes"),
            ));
        }
        let no_template = || {
            ServiceError::NotFound(format!(
                "no approved template {} to issue from",
                quoted(&request.template)
            ))
        };
        if !super::templates::plausible_id(&request.template) {
            return Err(no_template());
        }
        let template = self
            .registry()
            .active_template(&request.template)
            .await?
            .ok_or_else(no_template)?;
        let bundle = self.bundle(&template.id, template.version).await?;
        if !bundle.manifest.sign_off.is_empty() {
            return Err(ServiceError::Conflict(format!(
                "{} needs sign-off from {}: open an issuance request (POST /api/v1/requests)",
                template.id,
                bundle.manifest.sign_off.join(", ")
            )));
        }
        let (holder, credit_code) = {
            let bundle = Arc::clone(&bundle);
            let data = request.data.clone();
            self.compute(move || summarize(&bundle.manifest, data.as_bytes()))
                .await??
        };
        let job = SealJob {
            template,
            bundle,
            data: request.data,
            holder,
            credit_code,
            delivery: request.delivery.as_str().to_string(),
            sealed_by: caller.actor(),
            request: None,
        };
        self.seal(job).await
    }

    /// Seals one licence: reserves a fresh serial (for a request, in the same transaction that
    /// takes the request's seal), signs, and commits the PDF with its record and feed event.
    pub(super) async fn seal(&self, job: SealJob) -> Result<IssuedCertificate, ServiceError> {
        let _permit = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            Arc::clone(&self.issuing).acquire_owned(),
        )
        .await
        .map_err(|_| ServiceError::Busy("the seal is busy; try again shortly".into()))?
        .map_err(|_| ServiceError::Busy("the service is shutting down".into()))?;
        let issued_at = self.now();
        let mut reservation = reservation_for(&job, issued_at);
        let (serial, seal) = self
            .reserve_under_seal(&mut reservation, &job, issued_at)
            .await?;
        self.sign_and_complete(&job, reservation, serial, issued_at, &seal)
            .await
    }

    /// Reserves the serial under the seal in service; when a rotation retired the seal this
    /// instance held, follows the rotation and reserves again under the new seal.
    async fn reserve_under_seal(
        &self,
        reservation: &mut Reservation,
        job: &SealJob,
        issued_at: time::OffsetDateTime,
    ) -> Result<(LicenceSerial, Arc<super::seals::ActiveSeal>), ServiceError> {
        let mut followed = false;
        loop {
            let seal = self.current_seal();
            reservation.seal_fingerprint = Some(seal.fingerprint.clone());
            let reserved = self
                .reserve(reservation, job.request.as_ref(), issued_at.date())
                .await;
            match reserved {
                Ok(serial) => return Ok((serial, seal)),
                Err(ServiceError::Registry(RegistryError::SealRetired(_))) if !followed => {
                    followed = true;
                    self.refresh_seal().await?;
                }
                Err(ServiceError::Registry(RegistryError::SealRetired(_))) => {
                    return Err(ServiceError::Busy(
                        "the seal is being rotated; try again shortly".into(),
                    ));
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Signs under a serial already reserved and commits the result: the second half of
    /// [`Bureau::seal`], also used to finish a request's seal cut off by a restart.
    pub(super) async fn sign_and_complete(
        &self,
        job: &SealJob,
        reservation: Reservation,
        serial: LicenceSerial,
        issued_at: time::OffsetDateTime,
        seal: &super::seals::ActiveSeal,
    ) -> Result<IssuedCertificate, ServiceError> {
        let signed = self
            .sign_licence(
                Arc::clone(&seal.signer),
                Arc::clone(&job.bundle),
                (&job.data, &serial),
                issued_at,
            )
            .await;
        let licence = match signed {
            Ok(licence) => licence,
            Err(error) => {
                self.record_abandoned(&reservation, &error).await;
                return Err(error);
            }
        };
        let sha256 = sha256_hex(&licence.pdf);
        let completion = Completion {
            serial: serial.to_string(),
            sha256: sha256.clone(),
            pdf: licence.pdf,
            request_id: job.request.as_ref().map(|r| r.id.clone()),
            closed_by: job.sealed_by.clone(),
            commitment: self.commitment_for(job, &reservation, issued_at).await?,
            seal_fingerprint: seal.fingerprint.clone(),
        };
        let audit = AuditRecord::new(
            job.sealed_by.clone(),
            "certificate.issued",
            serial.as_str(),
            serde_json::json!({
                "template": job.template.id,
                "template_version": job.template.version,
                "sha256": sha256,
                "delivery": job.delivery,
                "request": completion.request_id,
            }),
        );
        let event = issued_event(&reservation, &completion, &licence.verification_url);
        self.registry()
            .complete_issuance(&completion, &audit, &event, self.now_ms())
            .await?;
        metrics::counter!("oneseal_issuances_total").increment(1);
        let record = CertificateRecord {
            serial: serial.to_string(),
            status: crate::registry::CertificateStatus::Issued,
            sha256: Some(sha256),
            template_id: reservation.template_id,
            template_version: reservation.template_version,
            template_title: reservation.template_title,
            data: reservation.data,
            holder: reservation.holder,
            credit_code: reservation.credit_code,
            delivery: reservation.delivery,
            issuer: reservation.issuer,
            issued_at_ms: reservation.issued_at_ms,
            revoked_at_ms: None,
            revoked_by: None,
            revocation_reason: None,
            request_id: reservation.request_id,
            sign_offs: reservation.sign_offs,
            departments: None,
            seal_fingerprint: Some(seal.fingerprint.clone()),
        };
        Ok(IssuedCertificate {
            record,
            pdf: completion.pdf,
            verification_url: licence.verification_url,
        })
    }

    /// The 容缺后补 commitment an issuance with missing materials leaves behind: its deadline is
    /// counted in working days from the day of issue.
    async fn commitment_for(
        &self,
        job: &SealJob,
        reservation: &Reservation,
        issued_at: time::OffsetDateTime,
    ) -> Result<Option<CommitmentRecord>, ServiceError> {
        let Some(link) = &job.request else {
            return Ok(None);
        };
        let (false, Some(commitment), Some(credit_code)) = (
            link.missing_materials.is_empty(),
            &link.commitment,
            &job.credit_code,
        ) else {
            return Ok(None);
        };
        let calendar = self.work_calendar().await?;
        let deadline =
            crate::approval::calendar::deadline(&calendar, issued_at, link.supply_within_days)
                .ok_or_else(|| {
                    ServiceError::Internal("no supply deadline within 20 years".into())
                })?;
        Ok(Some(CommitmentRecord {
            serial: reservation.serial.clone(),
            request_id: link.id.clone(),
            credit_code: credit_code.clone(),
            holder: job.holder.clone(),
            materials: link.missing_materials.clone(),
            commitment: commitment.clone(),
            deadline_ms: unix_ms(deadline),
            supplied: Vec::new(),
            supplied_at_ms: None,
            missed_at_ms: None,
            departments: link.departments.clone(),
        }))
    }

    /// Takes a serial never used before, with the audit entry saying signing begins; for a
    /// request, together with the request's seal.
    async fn reserve(
        &self,
        reservation: &mut Reservation,
        request: Option<&RequestLink>,
        date: time::Date,
    ) -> Result<LicenceSerial, ServiceError> {
        for _ in 0..SERIAL_ATTEMPTS {
            let serial = LicenceSerial::from_random(date, &super::random_bytes::<10>()?);
            reservation.serial = serial.to_string();
            let audit = AuditRecord::new(
                reservation.issuer.clone(),
                "certificate.signing",
                serial.as_str(),
                serde_json::json!({
                    "template": reservation.template_id,
                    "template_version": reservation.template_version,
                    "data_sha256": sha256_hex(reservation.data.as_bytes()),
                    "request": reservation.request_id,
                }),
            );
            let registry = self.registry();
            let reserved = match request {
                None => registry
                    .reserve_serial(reservation, &audit, self.now_ms())
                    .await
                    .map(|_| Transition::Done(())),
                Some(link) => {
                    registry
                        .reserve_for_request(
                            &link.id,
                            link.from,
                            reservation,
                            &audit,
                            self.now_ms(),
                        )
                        .await
                }
            };
            match reserved {
                Ok(Transition::Done(())) => return Ok(serial),
                Ok(Transition::NotFound) => {
                    return Err(ServiceError::NotFound("no such request".into()));
                }
                Ok(Transition::Refused(why)) => return Err(ServiceError::Conflict(why)),
                Err(RegistryError::Conflict(_)) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(ServiceError::Internal(
            "no unused serial after several attempts".into(),
        ))
    }

    /// Draws and signs the licence, then timestamps its signature and embeds the validation
    /// data as far as the configured level asks (docs/ltv.md).
    async fn sign_licence(
        &self,
        signer: Arc<dyn crate::seal::Signer>,
        bundle: Arc<Bundle>,
        (data, serial): (&str, &LicenceSerial),
        issued_at: time::OffsetDateTime,
    ) -> Result<super::issuance::IssuedLicence, ServiceError> {
        let image = self.seal_image.clone();
        let data = data.to_string();
        let request = IssuanceRequest {
            serial: serial.clone(),
            issued_at,
            base_url: self.settings().base_url.clone(),
        };
        let reserve = self.timestamp_reserve();
        let seal = Arc::clone(&signer);
        let prepared = self
            .compute(move || {
                let mut issuer = Issuer::new(signer.as_ref())?;
                if let Some(image) = image {
                    issuer = issuer.with_seal_image(image.as_ref().clone());
                }
                issuer.prepare(&bundle, data.as_bytes(), &request, reserve)
            })
            .await?
            .map_err(|error| issue_failure(serial, error))?;
        let token = self
            .signature_timestamp(prepared.signature.signature_value())
            .await?;
        let pdf = prepared
            .signature
            .finish(token.as_ref().map(|t| t.token.as_slice()))
            .map_err(|error| issue_failure(serial, error.into()))?;
        let pdf = self
            .embed_validation(pdf, seal.certificate_chain(), token.as_ref())
            .await?;
        Ok(super::issuance::IssuedLicence {
            pdf,
            serial: prepared.serial,
            verification_url: prepared.verification_url,
        })
    }

    /// Runs a CPU-bound step off the async runtime, one per core at a time.
    pub(super) async fn compute<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let _core = self
            .computing
            .acquire()
            .await
            .map_err(|_| ServiceError::Busy("the service is shutting down".into()))?;
        off_runtime(work).await
    }

    /// Best effort: the serial stays taken, and the trail says signing did not finish (with
    /// each TSA's failure when no timestamp could be had).
    async fn record_abandoned(&self, reservation: &Reservation, error: &ServiceError) {
        let detail = match error {
            ServiceError::TimestampUnavailable(why) => {
                serde_json::json!({ "error": error.to_string(), "timestamp_failures": why })
            }
            other => serde_json::json!({ "error": other.to_string() }),
        };
        let audit = AuditRecord::new(
            reservation.issuer.clone(),
            "certificate.abandoned",
            reservation.serial.clone(),
            detail,
        );
        if let Err(failure) = self.registry().record(&audit, self.now_ms()).await {
            tracing::error!(serial = %reservation.serial, error = %failure, "cannot record an abandoned issuance");
        }
    }

    /// A certificate's registry entry, and the 容缺后补 commitment it was issued under, if any
    /// (`open`, `fulfilled`, or `missed`: the certificate is flagged).
    pub async fn certificate(
        &self,
        caller: &Identity,
        serial: &str,
    ) -> Result<(CertificateRecord, Option<CommitmentRecord>), ServiceError> {
        require(
            caller,
            &[Role::Issuer, Role::Admin, Role::Auditor],
            "read certificates",
        )?;
        known_serial(serial)?;
        let record = self
            .registry()
            .certificate(serial)
            .await?
            .filter(|record| record.status != crate::registry::CertificateStatus::Signing)
            .ok_or_else(|| ServiceError::NotFound(format!("no certificate {}", quoted(serial))))?;
        let commitment = self.registry().commitment(serial).await?;
        Ok((record, commitment))
    }

    /// The newest archived PDF: as issued, or its last archive renewal (docs/archive-renewal.md).
    pub async fn certificate_pdf(
        &self,
        caller: &Identity,
        serial: &str,
    ) -> Result<Vec<u8>, ServiceError> {
        require(
            caller,
            &[Role::Issuer, Role::Admin],
            "download certificates",
        )?;
        known_serial(serial)?;
        self.registry()
            .newest_pdf(serial)
            .await?
            .map(|archived| archived.pdf)
            .ok_or_else(|| ServiceError::NotFound(format!("no certificate {}", quoted(serial))))
    }

    pub async fn search_certificates(
        &self,
        caller: &Identity,
        query: &CertificateQuery,
    ) -> Result<Vec<CertificateRecord>, ServiceError> {
        require(
            caller,
            &[Role::Issuer, Role::Admin, Role::Auditor],
            "search certificates",
        )?;
        // No stored value holds NUL, and PostgreSQL refuses it in a query.
        let terms = [
            &query.serial,
            &query.holder,
            &query.credit_code,
            &query.template_id,
        ];
        if terms.into_iter().flatten().any(|term| term.contains('\0')) {
            return Ok(Vec::new());
        }
        Ok(self.registry().search_certificates(query).await?)
    }

    pub async fn revoke_certificate(
        &self,
        caller: &Identity,
        serial: &str,
        reason: &str,
    ) -> Result<CertificateRecord, ServiceError> {
        require(caller, &[Role::Admin], "revoke certificates")?;
        known_serial(serial)?;
        let reason = reason.trim();
        if reason.is_empty()
            || reason.chars().count() > MAX_REASON_CHARS
            || reason.chars().any(|c| c.is_control() && c != '\n')
        {
            return Err(ServiceError::invalid(
                "certificate.invalid_reason",
                format!(
                    "the reason must be 1–{MAX_REASON_CHARS} characters without control characters"
                ),
            ));
        }
        let audit = AuditRecord::new(
            caller.actor(),
            "certificate.revoked",
            serial,
            serde_json::json!({ "reason": reason }),
        );
        match self
            .registry()
            .revoke_certificate(
                serial,
                reason,
                &caller.actor(),
                &audit,
                revoked_event,
                self.now_ms(),
            )
            .await?
        {
            Transition::Done(record) => {
                metrics::counter!("oneseal_revocations_total").increment(1);
                Ok(record)
            }
            Transition::NotFound => Err(ServiceError::NotFound(format!(
                "no certificate {}",
                quoted(serial)
            ))),
            Transition::Refused(why) => Err(ServiceError::Conflict(why)),
        }
    }
}

/// The reservation row of a seal job.
/// Data problems are the caller's; anything else is ours.
fn issue_failure(serial: &LicenceSerial, error: IssueError) -> ServiceError {
    match error {
        IssueError::Data(problems) => ServiceError::Invalid {
            code: "certificate.invalid_data",
            message: format!(
                "the data does not fit the template ({} problem(s))",
                problems.len()
            ),
            problems,
        },
        other => ServiceError::Internal(format!("issuing {serial}: {other}")),
    }
}

fn reservation_for(job: &SealJob, issued_at: time::OffsetDateTime) -> Reservation {
    let (request_id, sign_offs, departments) = match &job.request {
        Some(link) => (
            Some(link.id.clone()),
            serde_json::to_string(&link.sign_offs).ok(),
            link.departments.clone(),
        ),
        None => (None, None, vec![job.template.department.clone()]),
    };
    Reservation {
        serial: String::new(),
        template_id: job.template.id.clone(),
        template_version: job.template.version,
        template_title: job.template.title.clone(),
        data: job.data.clone(),
        holder: job.holder.clone(),
        credit_code: job.credit_code.clone(),
        delivery: job.delivery.clone(),
        issuer: job.sealed_by.clone(),
        issued_at_ms: unix_ms(issued_at),
        request_id,
        sign_offs,
        departments,
        seal_fingerprint: None,
    }
}

/// Unix milliseconds of a moment.
pub(super) fn unix_ms(moment: time::OffsetDateTime) -> i64 {
    i64::try_from(moment.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// What subscribers hear of an issuance (审批结果推送).
fn issued_event(reservation: &Reservation, completion: &Completion, url: &str) -> NewEvent {
    let sign_offs: serde_json::Value = reservation
        .sign_offs
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(serde_json::Value::Null);
    NewEvent {
        kind: EventKind::CertificateIssued,
        subject: completion.serial.clone(),
        departments: reservation.departments.clone(),
        payload: serde_json::json!({
            "serial": completion.serial,
            "template": reservation.template_id,
            "template_version": reservation.template_version,
            "title": reservation.template_title,
            "holder": reservation.holder,
            "credit_code": reservation.credit_code,
            "issued_at": super::verification::rfc3339(reservation.issued_at_ms),
            "sha256": completion.sha256,
            "verification_url": url,
            "request": completion.request_id,
            "sign_offs": sign_offs,
            "materials_owed": completion.commitment.as_ref().map(|c| &c.materials),
        }),
    }
}

/// What subscribers hear of a revocation.
fn revoked_event(record: &CertificateRecord) -> NewEvent {
    NewEvent {
        kind: EventKind::CertificateRevoked,
        subject: record.serial.clone(),
        departments: record.department_list(),
        payload: serde_json::json!({
            "serial": record.serial,
            "template": record.template_id,
            "title": record.template_title,
            "holder": record.holder,
            "credit_code": record.credit_code,
            "revoked_at": record.revoked_at_ms.map(super::verification::rfc3339),
            "reason": record.revocation_reason,
        }),
    }
}

/// A serial that cannot be one of ours names no certificate; it is not sent to the registry
/// (PostgreSQL refuses NUL in a query, which would read as the registry failing).
fn known_serial(serial: &str) -> Result<(), ServiceError> {
    LicenceSerial::parse(serial)
        .map(|_| ())
        .map_err(|_| ServiceError::NotFound(format!("no certificate {}", quoted(serial))))
}

/// Checks the data and names its holder (the first text or multiline field in manifest order)
/// and credit code, for search and the public page.
pub(super) fn summarize(
    manifest: &Manifest,
    data: &[u8],
) -> Result<(String, Option<String>), ServiceError> {
    let font = SourceFont::shipped()
        .map_err(|e| ServiceError::Internal(format!("the shipped font: {e}")))?;
    let values = check_data(manifest, data, font).map_err(|problems| ServiceError::Invalid {
        code: "certificate.invalid_data",
        message: format!(
            "the data does not fit the template ({} problem(s))",
            problems.len()
        ),
        problems,
    })?;
    let first = |wanted: &dyn Fn(FieldKind) -> bool| {
        manifest
            .fields
            .iter()
            .filter(|field| wanted(field.kind))
            .find_map(|field| values.get(&field.name).map(str::to_string))
    };
    let holder =
        first(&|kind| matches!(kind, FieldKind::Text | FieldKind::Multiline)).unwrap_or_default();
    let credit_code = first(&|kind| kind == FieldKind::CreditCode);
    Ok((holder, credit_code))
}
