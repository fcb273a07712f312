//! Issuing an e-licence: check the data, draw it on the blank, sign as a certification with
//! DocMDP P=1 (an issued licence never changes), all under the one seal.

use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::seal::Signer;
use crate::sign::{
    Appearance, DocMdpPermission, PreparedSignature, Seal, SignError, SignatureRequest,
    VisibleSignature,
};
use crate::template::data::check_data;
use crate::template::font::{FontError, SourceFont};
use crate::template::render::{IssuerValues, RenderError, RenderedLicence, render};
use crate::template::seal_image::SealImage;
use crate::template::{Bundle, LicenceSerial, Problem, verification_url};

/// One issuance: which licence, when, and where it can be verified.
#[derive(Clone, Debug)]
pub struct IssuanceRequest {
    pub serial: LicenceSerial,
    /// The issue time in the bureau's UTC offset: its date is printed as the issue date.
    pub issued_at: OffsetDateTime,
    /// The verification service's base URL; the QR code carries it followed by the serial.
    pub base_url: String,
}

/// A sealed licence and what identifies it.
#[derive(Clone, Debug)]
pub struct IssuedLicence {
    pub pdf: Vec<u8>,
    pub serial: LicenceSerial,
    pub verification_url: String,
}

/// A licence drawn and signed whose signature still waits for its timestamp.
pub struct PreparedLicence {
    pub signature: PreparedSignature,
    pub serial: LicenceSerial,
    pub verification_url: String,
}

/// Why nothing was issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The data does not satisfy the template; every problem is listed.
    #[error("the data does not fit the template ({} problem(s))", .0.len())]
    Data(Vec<Problem>),
    /// The request itself is malformed (base URL).
    #[error("{0}")]
    Request(String),
    #[error("cannot draw the licence: {0}")]
    Render(#[from] RenderError),
    #[error("cannot seal the licence: {0}")]
    Sign(#[from] SignError),
    #[error("the seal certificate: {0}")]
    Certificate(String),
    #[error(transparent)]
    Font(#[from] FontError),
}

/// The seal made ready to issue many licences: its chain parsed and its words known.
pub struct Issuer<'s> {
    seal: Seal<'s>,
    organization: String,
    seal_name: String,
    seal_image: Option<SealImage>,
    font: &'static SourceFont,
}

impl<'s> Issuer<'s> {
    /// Prepares `signer`; the seal's words come from its certificate's subject.
    pub fn new(signer: &'s dyn Signer) -> Result<Self, IssueError> {
        let leaf = signer
            .certificate_chain()
            .first()
            .ok_or_else(|| IssueError::Certificate("the seal has no certificate".into()))?;
        let (organization, seal_name) = seal_words(leaf)?;
        Ok(Self {
            seal: Seal::new(signer)?,
            organization,
            seal_name,
            seal_image: None,
            font: SourceFont::shipped()?,
        })
    }

    /// Shows `image`, the bureau's own seal artwork, instead of the drawn seal.
    pub fn with_seal_image(mut self, image: SealImage) -> Self {
        self.seal_image = Some(image);
        self
    }

    /// The organisation along the seal's arc and the seal's own name.
    pub fn seal_words(&self) -> (&str, &str) {
        (&self.organization, &self.seal_name)
    }

    /// Checks `data` against `bundle`, draws and seals the licence.
    pub fn issue(
        &self,
        bundle: &Bundle,
        data: &[u8],
        request: &IssuanceRequest,
    ) -> Result<IssuedLicence, IssueError> {
        let prepared = self.prepare(bundle, data, request, 0)?;
        let pdf = prepared.signature.finish(None)?;
        Ok(IssuedLicence {
            pdf,
            serial: prepared.serial,
            verification_url: prepared.verification_url,
        })
    }

    /// Checks, draws and signs the licence, leaving `timestamp_reserve` bytes free in the
    /// signature for a timestamp over its value (PAdES B-T); `finish` writes it.
    pub fn prepare(
        &self,
        bundle: &Bundle,
        data: &[u8],
        request: &IssuanceRequest,
        timestamp_reserve: usize,
    ) -> Result<PreparedLicence, IssueError> {
        let (rendered, url) = self.draw(bundle, data, request)?;
        let seal = rendered.seal;
        let mut signature = SignatureRequest::new(request.issued_at);
        signature.certify = Some(DocMdpPermission::NoChanges);
        signature.reason = Some(format!(
            "签发{} 编号 {}",
            bundle.manifest.title, request.serial
        ));
        signature.field_name = Some(format!("Seal-{}", request.serial));
        signature.visible = Some(VisibleSignature {
            page: seal.page,
            x: seal.rect.x,
            y: seal.rect.y,
            width: seal.rect.width,
            height: seal.rect.height,
        });
        signature.appearance = Some(Appearance {
            resources: seal.resources,
            content: seal.content,
        });
        signature.timestamp_reserve = timestamp_reserve;
        Ok(PreparedLicence {
            signature: self.seal.prepare(&rendered.pdf, &signature)?,
            serial: request.serial.clone(),
            verification_url: url,
        })
    }

    /// Checks `data` and draws the licence with the issuer's values, without sealing it: what
    /// `issue` signs, and what template validation tries on a bundle's example.
    pub fn draw(
        &self,
        bundle: &Bundle,
        data: &[u8],
        request: &IssuanceRequest,
    ) -> Result<(RenderedLicence, String), IssueError> {
        let values = check_data(&bundle.manifest, data, self.font).map_err(IssueError::Data)?;
        let url =
            verification_url(&request.base_url, &request.serial).map_err(IssueError::Request)?;
        let issuer = IssuerValues {
            serial: &request.serial,
            issued_at: request.issued_at,
            verification_url: &url,
            organization: &self.organization,
            seal_name: &self.seal_name,
            seal_image: self.seal_image.as_ref(),
        };
        Ok((render(bundle, &values, &issuer, self.font)?, url))
    }
}

/// The organisation (subject O) and the seal's name: the subject CN after the part it shares
/// with O, e.g. O 某某管理委员会, CN 某某管理委员会行政审批专用章 gives 行政审批专用章.
fn seal_words(certificate: &[u8]) -> Result<(String, String), IssueError> {
    let (_, parsed) = X509Certificate::from_der(certificate)
        .map_err(|e| IssueError::Certificate(format!("cannot be parsed: {e}")))?;
    let subject = parsed.subject();
    let first = |values: Vec<String>| values.into_iter().next();
    let organization = first(
        subject
            .iter_organization()
            .filter_map(|a| a.as_str().ok().map(str::to_string))
            .collect(),
    );
    let common_name = first(
        subject
            .iter_common_name()
            .filter_map(|a| a.as_str().ok().map(str::to_string))
            .collect(),
    );
    match (organization, common_name) {
        (Some(organization), Some(common_name)) => {
            let shared = organization
                .chars()
                .zip(common_name.chars())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a.len_utf8())
                .sum::<usize>();
            let name = common_name
                .get(shared..)
                .unwrap_or_default()
                .trim()
                .to_string();
            Ok((organization, name))
        }
        (Some(only), None) | (None, Some(only)) => Ok((only, String::new())),
        (None, None) => Err(IssueError::Certificate(
            "its subject has neither an organisation nor a common name".into(),
        )),
    }
}
