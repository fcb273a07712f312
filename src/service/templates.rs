//! Template bundles: departments upload, the admin approves, the bureau keeps the only copy.

use std::sync::Arc;

use super::issuance::{IssuanceRequest, IssueError, Issuer};
use super::{Bureau, Identity, ServiceError, off_runtime, quoted, require};
use crate::registry::{
    AuditRecord, NewTemplate, Role, TemplateFiles, TemplateStatus, TemplateVersion, Transition,
};
use crate::template::font::SourceFont;
use crate::template::layout::text_width;
use crate::template::render::RenderError;
use crate::template::{Bundle, LicenceSerial, Problem};

impl Bureau {
    /// Stores an uploaded bundle, after the full bundle validation, as a pending version.
    pub async fn submit_template(
        &self,
        caller: &Identity,
        files: TemplateFiles,
    ) -> Result<TemplateVersion, ServiceError> {
        self.authorize_template_upload(caller)?;
        let bundle = self.check_bundle(files.clone()).await?;
        let manifest = &bundle.manifest;
        if caller.department.as_deref() != Some(manifest.department.as_str()) {
            return Err(ServiceError::Forbidden(format!(
                "the bundle belongs to {}; this token may upload only for {}",
                manifest.department,
                caller.department.as_deref().unwrap_or("no department")
            )));
        }
        // A template id belongs to the department that first submitted it: another department
        // cannot add versions to it, and so cannot replace what the bureau issues under it.
        if let Some(first) = self.registry().template(&manifest.id, 1).await?
            && first.department != manifest.department
        {
            return Err(ServiceError::Forbidden(format!(
                "template {} belongs to {}; choose another id",
                quoted(&manifest.id),
                first.department
            )));
        }
        let template = NewTemplate {
            id: manifest.id.clone(),
            title: manifest.title.clone(),
            department: manifest.department.clone(),
            label: manifest.version.clone(),
            files,
        };
        let actor = caller.actor();
        let (recorded_actor, id) = (actor.clone(), template.id.clone());
        let details = serde_json::json!({
            "title": template.title,
            "department": template.department,
            "label": template.label,
            "blank_sha256": sha256_hex(&template.files.blank),
        });
        let audit = move |version: i64| {
            AuditRecord::new(
                recorded_actor.clone(),
                "template.submitted",
                format!("template/{id}/{version}"),
                details.clone(),
            )
        };
        Ok(self
            .registry()
            .submit_template(&template, &actor, audit, self.now_ms())
            .await?)
    }

    /// Whether `caller` may upload at all: asked before a large upload is read.
    pub fn authorize_template_upload(&self, caller: &Identity) -> Result<(), ServiceError> {
        require(caller, &[Role::Department], "upload templates")
    }

    /// Every version the caller may see: a department sees its own.
    pub async fn templates(&self, caller: &Identity) -> Result<Vec<TemplateVersion>, ServiceError> {
        let department = match caller.role {
            Role::Department => Some(caller.department.as_deref().unwrap_or("")),
            _ => None,
        };
        Ok(self.registry().templates(department).await?)
    }

    /// Approves a pending version, checking the bundle again; it becomes the issuable one.
    pub async fn approve_template(
        &self,
        caller: &Identity,
        id: &str,
        version: i64,
    ) -> Result<TemplateVersion, ServiceError> {
        require(caller, &[Role::Admin], "approve templates")?;
        if !plausible_id(id) {
            return Err(not_found(id, version));
        }
        let files = self
            .registry()
            .template_files(id, version)
            .await?
            .ok_or_else(|| not_found(id, version))?;
        let bundle = self.check_bundle(files).await?;
        let audit = AuditRecord::new(
            caller.actor(),
            "template.approved",
            format!("template/{id}/{version}"),
            serde_json::json!({ "title": bundle.manifest.title }),
        );
        match self
            .registry()
            .approve_template(id, version, &caller.actor(), &audit, self.now_ms())
            .await?
        {
            Transition::Done(approved) => {
                self.cache_bundle(id, version, Arc::new(bundle));
                Ok(approved)
            }
            Transition::NotFound => Err(not_found(id, version)),
            Transition::Refused(why) => Err(ServiceError::Conflict(why)),
        }
    }

    /// The blank of a version. The submitting department may fetch it only while it is pending:
    /// once approved, the bureau holds the only copy (原审批部门不再留存).
    pub async fn template_blank(
        &self,
        caller: &Identity,
        id: &str,
        version: i64,
    ) -> Result<Vec<u8>, ServiceError> {
        require(
            caller,
            &[Role::Admin, Role::Department],
            "download template blanks",
        )?;
        if !plausible_id(id) {
            return Err(not_found(id, version));
        }
        let template = self
            .registry()
            .template(id, version)
            .await?
            .ok_or_else(|| not_found(id, version))?;
        if caller.role == Role::Department {
            if caller.department.as_deref() != Some(template.department.as_str()) {
                return Err(not_found(id, version));
            }
            if template.status != TemplateStatus::Pending {
                return Err(ServiceError::Forbidden(
                    "the template is approved: the bureau holds the only copy of its blank".into(),
                ));
            }
        }
        let files = self
            .registry()
            .template_files(id, version)
            .await?
            .ok_or_else(|| not_found(id, version))?;
        Ok(files.blank)
    }

    /// The bundle validation, then the example drawn as an issuance would draw it (the widest
    /// serial, a two-digit month and day, this bureau's seal words and verification URL), so a
    /// bundle whose issuer-filled values do not fit is refused here instead of failing every
    /// issuance after its serial was taken.
    async fn check_bundle(&self, files: TemplateFiles) -> Result<Bundle, ServiceError> {
        let signer = Arc::clone(&self.current_seal().signer);
        let image = self.seal_image.clone();
        let base_url = self.settings().base_url.clone();
        let now = self.now();
        off_runtime(move || {
            let bundle = load_bundle(&files)?;
            let mut issuer = Issuer::new(signer.as_ref())
                .map_err(|e| ServiceError::Internal(format!("the seal: {e}")))?;
            if let Some(image) = image {
                issuer = issuer.with_seal_image(image.as_ref().clone());
            }
            let day = time::Date::from_calendar_date(now.year(), time::Month::December, 28)
                .map_err(|e| ServiceError::Internal(format!("the trial issue date: {e}")))?;
            let request = IssuanceRequest {
                serial: widest_serial(day)?,
                issued_at: day.midnight().assume_offset(now.offset()),
                base_url,
            };
            match issuer.draw(&bundle, &files.example, &request) {
                Ok(_) => Ok(bundle),
                Err(IssueError::Render(RenderError::Field { place, message })) => {
                    Err(not_issuable(Problem::new(place, message)))
                }
                Err(IssueError::Render(other)) => {
                    Err(not_issuable(Problem::new("template", other.to_string())))
                }
                Err(other) => Err(ServiceError::Internal(format!(
                    "drawing the example of a checked bundle: {other}"
                ))),
            }
        })
        .await?
    }

    /// The checked bundle of a stored version, loaded once per process.
    pub(super) async fn bundle(&self, id: &str, version: i64) -> Result<Arc<Bundle>, ServiceError> {
        if let Some(bundle) = self.cached_bundle(id, version) {
            return Ok(bundle);
        }
        let files = self
            .registry()
            .template_files(id, version)
            .await?
            .ok_or_else(|| not_found(id, version))?;
        let bundle = Arc::new(
            off_runtime(move || load_bundle(&files))
                .await?
                .map_err(|e| {
                    ServiceError::Internal(format!("stored template {id} v{version}: {e}"))
                })?,
        );
        self.cache_bundle(id, version, Arc::clone(&bundle));
        Ok(bundle)
    }

    fn cached_bundle(&self, id: &str, version: i64) -> Option<Arc<Bundle>> {
        let bundles = self.bundles.lock().ok()?;
        bundles.get(&(id.to_string(), version)).cloned()
    }

    fn cache_bundle(&self, id: &str, version: i64, bundle: Arc<Bundle>) {
        if let Ok(mut bundles) = self.bundles.lock() {
            bundles.insert((id.to_string(), version), bundle);
        }
    }
}

/// The templates issue's bundle validation, every problem listed.
fn load_bundle(files: &TemplateFiles) -> Result<Bundle, ServiceError> {
    let font = SourceFont::shipped()
        .map_err(|e| ServiceError::Internal(format!("the shipped font: {e}")))?;
    Bundle::load(
        &files.manifest,
        files.blank.clone(),
        Some(&files.example),
        font,
    )
    .map_err(|problems| ServiceError::Invalid {
        code: "template.invalid",
        message: format!(
            "the template bundle is not valid ({} problem(s))",
            problems.len()
        ),
        problems,
    })
}

/// Whether `id` could name a template: the manifest's rule (1–64 of a–z, 0–9 and '-'). Anything
/// else names none and is not sent to the registry (PostgreSQL refuses NUL in a query).
pub(super) fn plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The serial of `day` that is widest in the shipped font (ten of its widest character).
fn widest_serial(day: time::Date) -> Result<LicenceSerial, ServiceError> {
    let font = SourceFont::shipped()
        .map_err(|e| ServiceError::Internal(format!("the shipped font: {e}")))?;
    let width = |serial: &LicenceSerial| text_width(serial.as_str(), 1.0, font);
    (0..32u8)
        .map(|byte| LicenceSerial::from_random(day, &[byte; 10]))
        .max_by(|a, b| width(a).total_cmp(&width(b)))
        .ok_or_else(|| ServiceError::Internal("no trial serial".into()))
}

fn not_issuable(problem: Problem) -> ServiceError {
    ServiceError::Invalid {
        code: "template.invalid",
        message: "the template bundle cannot be issued from (1 problem(s))".into(),
        problems: vec![problem],
    }
}

fn not_found(id: &str, version: i64) -> ServiceError {
    ServiceError::NotFound(format!("no template {} version {version}", quoted(id)))
}

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    crate::registry::audit::hex(&sha2::Sha256::digest(bytes))
}
