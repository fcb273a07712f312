//! The overlay revision: the values, the QR code, the font subset and the metadata appended to
//! the department's blank, whose own bytes stay untouched (ISO 32000-2 §7.5.6).
//!
//! The drawn seal is not put on the page: it becomes the signature widget's appearance, so the
//! seal people see and the cryptographic signature are one object.

use std::collections::BTreeMap;

use ring::digest;
use time::OffsetDateTime;

use super::data::{FieldValues, chinese_date};
use super::font::{FontError, FontSubset, SourceFont};
use super::layout::place;
use super::manifest::{BoxRect, FieldKind, FieldSpec};
use super::qr::{QrError, draw_qr};
use super::seal_drawing::{SealText, draw_seal};
use super::seal_image::SealImage;
use super::{Bundle, LicenceSerial};
use crate::pdf::{Dictionary, IncrementalUpdate, Object, PdfError, PdfFile, Real};

/// The seal appearance's name for the embedded font.
const SEAL_FONT: &[u8] = b"SealFont";
/// The seal appearance's name for a configured seal image.
const SEAL_IMAGE: &[u8] = b"SealImage";

/// What the issuer fills in: the licence's identity, time and the seal's words.
#[derive(Clone, Copy, Debug)]
pub struct IssuerValues<'a> {
    pub serial: &'a LicenceSerial,
    /// When the licence is issued, in the bureau's own UTC offset (its date is the issue date).
    pub issued_at: OffsetDateTime,
    /// The public verification URL the QR code carries.
    pub verification_url: &'a str,
    /// The organisation along the seal's upper arc.
    pub organization: &'a str,
    /// The seal's name below the star, e.g. 行政审批专用章.
    pub seal_name: &'a str,
    /// The bureau's own seal artwork, drawn instead of the vector seal when given.
    pub seal_image: Option<&'a SealImage>,
}

/// The blank with its overlay revision, and the seal the signature is to show.
#[derive(Clone, Debug)]
pub struct RenderedLicence {
    pub pdf: Vec<u8>,
    pub seal: SealPlacement,
}

/// Where the signature widget goes and what it shows.
#[derive(Clone, Debug)]
pub struct SealPlacement {
    /// 1-based page number.
    pub page: u32,
    /// The seal box relative to the page's CropBox lower left, as the signing core expects.
    pub rect: BoxRect,
    /// Resources of the seal's Form XObject (the embedded font, by reference).
    pub resources: Dictionary,
    /// The seal's content stream.
    pub content: Vec<u8>,
}

/// Why a licence could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template.pdf: {0}")]
    Pdf(#[from] PdfError),
    #[error(transparent)]
    Font(#[from] FontError),
    #[error("the QR code: {0}")]
    Qr(#[from] QrError),
    #[error("{place}: {message}")]
    Field { place: String, message: String },
}

/// Draws `values` and the issuer's values onto `bundle`'s blank as one new revision.
pub fn render(
    bundle: &Bundle,
    values: &FieldValues,
    issuer: &IssuerValues<'_>,
    font: &SourceFont,
) -> Result<RenderedLicence, RenderError> {
    let file = PdfFile::open(&bundle.blank, Default::default())?;
    let mut update = IncrementalUpdate::new(&file);
    let mut subset = FontSubset::new(font);
    let mut seal = None;
    let mut overlays = Vec::new();
    for page_number in pages_with_fields(bundle) {
        let page = file.page(page_number)?;
        let resources = PageResources::read(&file, &page)?;
        let font_name = resources.free_font_name();
        // Restore what the blank left saved, then our own `q` from before its content.
        let open_states = bundle
            .pages
            .iter()
            .find(|p| p.number == page_number)
            .map_or(0, |p| p.open_states);
        let mut content = b"Q\n".repeat(open_states as usize + 1);
        content.extend_from_slice(b"q\n");
        for field in bundle.fields_on(page_number) {
            match field.kind {
                FieldKind::Seal => {
                    let origin = [page.crop_box[0], page.crop_box[1]];
                    seal = Some(seal_placement(field, origin, issuer, &mut subset)?);
                }
                FieldKind::Qr => content.extend(draw_qr(
                    issuer.verification_url,
                    field.rect.x,
                    field.rect.y,
                    field.rect.width,
                    field.rect.height,
                )?),
                _ => {
                    if let Some(text) = field_text(field, values, issuer) {
                        draw_text(&mut content, field, &text, &mut subset, font, &font_name)?;
                    }
                }
            }
        }
        content.extend_from_slice(b"Q\n");
        overlays.push((page, resources, content, font_name));
    }
    let mut seal = seal.ok_or_else(|| RenderError::Field {
        place: "template.toml".into(),
        message: "has no seal field".into(),
    })?;
    let font_id = subset.write(&mut update)?;
    for (page, mut resources, content, font_name) in overlays {
        resources.fonts.set(&font_name, font_id);
        overlay_page(&file, &mut update, page, resources, content)?;
    }
    if let Some(image) = issuer.seal_image {
        let mut images = Dictionary::new();
        images.set(SEAL_IMAGE, image.write(&mut update));
        seal.resources.set(b"XObject", images);
    } else {
        let mut fonts = Dictionary::new();
        fonts.set(SEAL_FONT, font_id);
        seal.resources.set(b"Font", fonts);
    }
    write_metadata(&file, &mut update, bundle, issuer)?;
    let written = update.write(&file, document_id(bundle, issuer))?;
    Ok(RenderedLicence {
        pdf: written.bytes,
        seal,
    })
}

/// The text the issuer or the data gives a text-kind field, if any.
fn field_text(
    field: &FieldSpec,
    values: &FieldValues,
    issuer: &IssuerValues<'_>,
) -> Option<String> {
    match field.kind {
        FieldKind::Serial => Some(issuer.serial.as_str().to_string()),
        FieldKind::Date if field.fill.is_some() => Some(chinese_date(issuer.issued_at.date())),
        _ => values.get(&field.name).map(str::to_string),
    }
}

fn draw_text(
    content: &mut Vec<u8>,
    field: &FieldSpec,
    text: &str,
    subset: &mut FontSubset<'_>,
    font: &SourceFont,
    font_name: &[u8],
) -> Result<(), RenderError> {
    let placed = place(field, text, font).map_err(|message| RenderError::Field {
        place: field.place(),
        message,
    })?;
    content.extend_from_slice(b"BT 0 g ");
    content.push(b'/');
    content.extend_from_slice(font_name);
    content.extend_from_slice(format!(" {} Tf\n", number(placed.size)).as_bytes());
    for line in placed.lines.iter().filter(|l| !l.text.is_empty()) {
        let shown = subset.show(&line.text)?;
        content.extend_from_slice(
            format!("1 0 0 1 {} {} Tm ", number(line.x), number(line.y)).as_bytes(),
        );
        content.extend_from_slice(&shown);
        content.extend_from_slice(b" Tj\n");
    }
    content.extend_from_slice(b"ET\n");
    Ok(())
}

fn seal_placement(
    field: &FieldSpec,
    origin: [f64; 2],
    issuer: &IssuerValues<'_>,
    subset: &mut FontSubset<'_>,
) -> Result<SealPlacement, RenderError> {
    let text = SealText {
        organization: issuer.organization,
        seal_name: issuer.seal_name,
    };
    let (width, height) = (field.rect.width, field.rect.height);
    let content = match issuer.seal_image {
        Some(image) => image.draw(width, height, SEAL_IMAGE),
        None => draw_seal(width, height, &text, subset, SEAL_FONT)?,
    };
    Ok(SealPlacement {
        page: field.page,
        rect: BoxRect {
            x: field.rect.x - origin[0],
            y: field.rect.y - origin[1],
            ..field.rect
        },
        resources: Dictionary::new(),
        content,
    })
}

/// Replaces the page with a version whose `/Contents` wraps the original in `q … Q` and adds
/// the overlay, and whose resources name the font (ISO 32000-2 §7.8.2: content streams of one
/// page are concatenated, so the leading `q` stream balances the overlay's leading `Q`).
fn overlay_page(
    file: &PdfFile<'_>,
    update: &mut IncrementalUpdate,
    page: crate::pdf::Page,
    resources: PageResources,
    content: Vec<u8>,
) -> Result<(), RenderError> {
    let save_id = update.allocate();
    update.set_stream(save_id, Dictionary::new(), b"q\n".to_vec());
    let overlay_id = update.allocate();
    update.set_stream(overlay_id, Dictionary::new(), content);
    let mut contents = vec![Object::Reference(save_id)];
    match page.dictionary.get(b"Contents").map(|c| file.resolve(c)) {
        Some(Ok(Object::Array(items))) => contents.extend(items),
        Some(Ok(_)) => contents.extend(page.dictionary.get(b"Contents").cloned()),
        Some(Err(error)) => return Err(error.into()),
        None => {}
    }
    contents.push(Object::Reference(overlay_id));
    let PageResources {
        mut resources,
        fonts,
    } = resources;
    resources.set(b"Font", fonts);
    let mut dictionary = page.dictionary;
    dictionary.set(b"Contents", contents);
    dictionary.set(b"Resources", resources);
    update.set(page.id, dictionary);
    Ok(())
}

/// A page's resources (own or inherited) and their font dictionary, resolved to direct
/// dictionaries so the new page version can carry them with the overlay's font added.
struct PageResources {
    resources: Dictionary,
    fonts: Dictionary,
}

impl PageResources {
    fn read(file: &PdfFile<'_>, page: &crate::pdf::Page) -> Result<Self, PdfError> {
        let resources = match &page.resources {
            Some(resources) => file.resolve_dictionary(resources, "the page resources")?,
            None => Dictionary::new(),
        };
        let fonts = match resources.get(b"Font") {
            Some(fonts) => file.resolve_dictionary(fonts, "the page's font resources")?,
            None => Dictionary::new(),
        };
        Ok(Self { resources, fonts })
    }

    /// A font resource name the page does not already use.
    fn free_font_name(&self) -> Vec<u8> {
        (0..)
            .map(|n: u32| format!("OnesealSerif{n}").into_bytes())
            .find(|name| self.fonts.get(name).is_none())
            .unwrap_or_default()
    }
}

/// `/Info` and an XMP packet (ISO 32000-2 §14.3) with the title, serial and issue date.
fn write_metadata(
    file: &PdfFile<'_>,
    update: &mut IncrementalUpdate,
    bundle: &Bundle,
    issuer: &IssuerValues<'_>,
) -> Result<(), RenderError> {
    let mut info = match file.trailer().get(b"Info") {
        Some(existing) => file
            .resolve_dictionary(existing, "the document information")
            .unwrap_or_default(),
        None => Dictionary::new(),
    };
    let manifest = &bundle.manifest;
    let date = crate::sign::pdf_date(issuer.issued_at);
    let entries: BTreeMap<&[u8], String> = BTreeMap::from([
        (&b"Title"[..], manifest.title.clone()),
        (b"Subject", format!("{} {}", manifest.title, issuer.serial)),
        (b"Author", manifest.department.clone()),
        (b"LicenceSerial", issuer.serial.as_str().to_string()),
        (b"IssueDate", issue_date(issuer.issued_at)),
        (b"TemplateId", manifest.id.clone()),
        (b"TemplateVersion", manifest.version.clone()),
    ]);
    for (key, value) in entries {
        info.set(key, Object::text(&value));
    }
    info.set(b"ModDate", Object::text(&date));
    // The same producer as the XMP packet says (ISO 32000-2 §14.3.3: the two should agree).
    info.set(b"Producer", Object::text(&producer()));
    let info_id = update.allocate();
    update.set(info_id, info);
    update.set_info(info_id);
    let metadata_id = update.allocate();
    let mut stream = Dictionary::new();
    stream.set(b"Type", Object::name(b"Metadata"));
    stream.set(b"Subtype", Object::name(b"XML"));
    update.set_stream(metadata_id, stream, xmp(bundle, issuer).into_bytes());
    let (catalog_id, mut catalog) = file.catalog()?;
    catalog.set(b"Metadata", metadata_id);
    update.set(catalog_id, catalog);
    Ok(())
}

/// What wrote the licence's last content revision.
fn producer() -> String {
    format!("oneseal {}", env!("CARGO_PKG_VERSION"))
}

/// The issue date as ISO 8601 (`2026-11-26`).
fn issue_date(at: OffsetDateTime) -> String {
    let date = at.date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// An XMP packet (ISO 16684-1) with Dublin Core, XMP basic, PDF and oneseal properties.
fn xmp(bundle: &Bundle, issuer: &IssuerValues<'_>) -> String {
    let at = issuer.issued_at;
    let offset = at.offset();
    let timestamp = format!(
        "{}T{:02}:{:02}:{:02}{}{:02}:{:02}",
        issue_date(at),
        at.hour(),
        at.minute(),
        at.second(),
        if offset.is_negative() { '-' } else { '+' },
        offset.whole_hours().unsigned_abs(),
        offset.minutes_past_hour().unsigned_abs()
    );
    let manifest = &bundle.manifest;
    format!(
        concat!(
            "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n",
            "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n",
            "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n",
            "<rdf:Description rdf:about=\"\"",
            " xmlns:dc=\"http://purl.org/dc/elements/1.1/\"",
            " xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"",
            " xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\"",
            " xmlns:oneseal=\"urn:oneseal:licence:1\">\n",
            "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{title}</rdf:li></rdf:Alt></dc:title>\n",
            "<dc:creator><rdf:Seq><rdf:li>{department}</rdf:li></rdf:Seq></dc:creator>\n",
            "<dc:identifier>{serial}</dc:identifier>\n",
            "<xmp:ModifyDate>{timestamp}</xmp:ModifyDate>\n",
            "<xmp:MetadataDate>{timestamp}</xmp:MetadataDate>\n",
            "<pdf:Producer>{producer}</pdf:Producer>\n",
            "<oneseal:LicenceSerial>{serial}</oneseal:LicenceSerial>\n",
            "<oneseal:IssueDate>{date}</oneseal:IssueDate>\n",
            "<oneseal:TemplateId>{id}</oneseal:TemplateId>\n",
            "<oneseal:TemplateVersion>{template_version}</oneseal:TemplateVersion>\n",
            "<oneseal:VerificationURL>{url}</oneseal:VerificationURL>\n",
            "</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n",
            "<?xpacket end=\"r\"?>\n"
        ),
        title = xml_text(&manifest.title),
        department = xml_text(&manifest.department),
        serial = xml_text(issuer.serial.as_str()),
        timestamp = timestamp,
        producer = producer(),
        date = issue_date(at),
        id = xml_text(&manifest.id),
        template_version = xml_text(&manifest.version),
        url = xml_text(issuer.verification_url),
    )
}

/// Text escaped for XML character data and attribute values.
fn xml_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The revision's document ID: a digest of what makes this licence unique.
fn document_id(bundle: &Bundle, issuer: &IssuerValues<'_>) -> [u8; 16] {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(bundle.manifest.id.as_bytes());
    context.update(issuer.serial.as_str().as_bytes());
    context.update(issue_date(issuer.issued_at).as_bytes());
    let mut id = [0; 16];
    id.copy_from_slice(context.finish().as_ref().get(..16).unwrap_or(&[0; 16]));
    id
}

fn pages_with_fields(bundle: &Bundle) -> Vec<u32> {
    let mut pages: Vec<u32> = bundle.manifest.fields.iter().map(|f| f.page).collect();
    pages.sort_unstable();
    pages.dedup();
    pages
}

fn number(value: f64) -> String {
    Real::from_f64(value).as_str().to_string()
}
