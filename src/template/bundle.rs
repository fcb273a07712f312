//! The check of a department's blank `template.pdf`: size, pages and page sizes, and a scan of
//! every object for active, hidden or embedded content and existing signatures.
//!
//! The blank is untrusted: it comes from another department and becomes the background of
//! licences the bureau seals. Everything in it will carry the bureau's signature, so it must be
//! static artwork. The scan reads every object the cross-reference data lists as in use
//! (including objects packed in object streams, ISO 32000-2 §7.5.7) and the trailer, and walks
//! each one's nested dictionaries and arrays. References are not followed: the object they name
//! is scanned on its own, so a loop or a shared subtree costs nothing extra.
//!
//! Actions (ISO 32000-2 §12.6.4, Table 201) are refused by type, except navigation inside the
//! document (`GoTo`, `GoToDp`, `Thread`, and `Named` with one of the four page names every
//! reader supports, §12.6.4.11): harmless bookmarks and internal links survive a re-export.
//! Refused, and why:
//! - `JavaScript`: runs code.
//! - `Launch`: starts a program or opens a file.
//! - `SubmitForm`, `ImportData`, `ResetForm`: send, load or clear form data; a blank has no form
//!   the bureau fills (values are drawn), so any form action is unexplained at best.
//! - `URI`, `GoToR`, `GoToE`: lead out of the document. A link on a sealed licence would carry
//!   the bureau's signature to a place nobody checked (a look-alike verification site, say); the
//!   licence's only way out is its verification QR code.
//! - `Sound`, `Movie`, `Rendition`, `GoTo3DView`, `RichMediaExecute`, `Hide`, `SetOCGState`,
//!   `Trans`, other `Named` actions: multimedia, menu commands, or changes to what is shown
//!   (hiding annotations, switching optional content), none of which belongs in artwork.
//!
//! Annotations of the multimedia subtypes `RichMedia`, `3D`, `Movie`, `Sound` and `Screen`
//! (§12.5.6.14–.24, §13) are refused: players and scripts that run inside the viewer. So are
//! `FileAttachment` annotations (§12.5.6.15), which embed files like `/EmbeddedFiles` does.
//!
//! Only the names of action types are recognised, because `/S` means other things elsewhere
//! (structure types, transitions, border styles): a dictionary is taken for an action when its
//! `/S` is an action type and its `/Type` is absent or `/Action`.

use std::collections::BTreeMap;

use crate::pdf::content::{ContentEnd, check_content};
use crate::pdf::{Dictionary, IndirectValue, Limits, Object, ObjectId, PdfError, PdfFile, Real};

use super::Problem;

/// The name every problem starts with.
const FILE: &str = "template.pdf";
/// Unreadable objects reported one by one; the rest are counted in one more problem.
const MAX_UNREADABLE_REPORTED: usize = 10;
/// Deepest nesting the scan walks; the lexer already refuses objects nested deeper than 64.
const MAX_SCAN_DEPTH: usize = 128;

/// What a blank may be. `Default` is the bundle specification (docs/templates.md).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlankLimits {
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
    /// Most pages.
    pub max_pages: u32,
    /// Shortest side of a page's CropBox, in points.
    pub min_side: f64,
    /// Longest side of a page's CropBox, in points (A0's long side is 3,370 pt).
    pub max_side: f64,
    /// Most cross-reference entries (hence objects scanned): bounds the time the scan takes.
    pub max_objects: usize,
}

impl Default for BlankLimits {
    fn default() -> Self {
        Self {
            max_bytes: 8 << 20,
            max_pages: 20,
            min_side: 72.0,
            max_side: 3370.0,
            max_objects: 20_000,
        }
    }
}

/// What issuance needs to know about an accepted blank.
#[derive(Clone, Debug, PartialEq)]
pub struct BlankSummary {
    /// Every page, in order.
    pub pages: Vec<PageBox>,
}

/// A page's visible area, where the manifest's boxes must lie.
#[derive(Clone, Debug, PartialEq)]
pub struct PageBox {
    /// 1-based.
    pub number: u32,
    /// The CropBox clipped to the MediaBox (ISO 32000-2 §14.11.2), as `[llx, lly, urx, ury]`
    /// with `llx ≤ urx` and `lly ≤ ury`.
    pub crop_box: [f64; 4],
    /// The page's annotation rectangles, normalised: annotations are drawn above page content
    /// (§12.5.5), so one over a field box could hide or fake the value drawn there.
    pub annotations: Vec<[f64; 4]>,
    /// Graphics states the page's content saves (`q`) and never restores: the overlay restores
    /// them all before drawing.
    pub open_states: u32,
}

/// Every reason `template.pdf` cannot serve as a blank, all of them, each naming the PDF object
/// (e.g. "template.pdf object 12 0") or the place (e.g. "template.pdf page 3").
pub fn check_blank(pdf: &[u8], limits: &BlankLimits) -> Result<BlankSummary, Vec<Problem>> {
    match check_blank_partly(pdf, limits) {
        (summary, problems) if problems.is_empty() => Ok(summary),
        (_, problems) => Err(problems),
    }
}

/// Like [`check_blank`], but also returns the pages that could be read when there are problems,
/// so the manifest's boxes can be checked against them in the same pass.
pub fn check_blank_partly(pdf: &[u8], limits: &BlankLimits) -> (BlankSummary, Vec<Problem>) {
    let nothing = BlankSummary { pages: Vec::new() };
    if pdf.len() > limits.max_bytes {
        return (
            nothing,
            vec![Problem::new(
                FILE,
                format!(
                    "is {}; a blank may be at most {}",
                    size_text(pdf.len()),
                    size_text(limits.max_bytes)
                ),
            )],
        );
    }
    let file = match PdfFile::open(pdf, reader_limits(limits)) {
        Ok(file) => file,
        Err(error) => return (nothing, vec![unreadable_file(error)]),
    };
    let mut problems = Vec::new();
    let pages = check_pages(&file, limits, &mut problems);
    scan_objects(&file, &mut problems);
    (BlankSummary { pages }, problems)
}

/// The reader's limits for a blank. Decoding is bounded by the blank's own size: object streams
/// hold only small dictionaries, and a legitimate blank's decode to far less than its file.
fn reader_limits(limits: &BlankLimits) -> Limits {
    Limits {
        max_input_bytes: limits.max_bytes,
        max_objects: limits.max_objects,
        max_decoded_stream: limits.max_bytes,
        max_decoded_object_streams: limits.max_bytes,
        ..Limits::default()
    }
}

fn unreadable_file(error: PdfError) -> Problem {
    let message = match error {
        PdfError::Encrypted => {
            "is encrypted; ask for an export without a password or usage restrictions".into()
        }
        PdfError::TooManyObjects { limit } => format!(
            "has more than {limit} objects; a blank form needs far fewer: export it again with \
             the artwork flattened"
        ),
        other => format!("cannot be read ({other}); export it again as a plain PDF"),
    };
    Problem::new(FILE, message)
}

/// Page count and sizes (ISO 32000-2 §7.7.3); the boxes of the pages within the limit.
fn check_pages(
    file: &PdfFile<'_>,
    limits: &BlankLimits,
    problems: &mut Vec<Problem>,
) -> Vec<PageBox> {
    let ids = match file.page_ids(limits.max_objects) {
        Ok(ids) => ids,
        Err(error) => {
            problems.push(Problem::new(
                FILE,
                format!("its pages cannot be read ({error}); export it again as a plain PDF"),
            ));
            return Vec::new();
        }
    };
    if ids.is_empty() {
        problems.push(Problem::new(FILE, "has no pages"));
    } else if ids.len() > limits.max_pages as usize {
        problems.push(Problem::new(
            FILE,
            format!(
                "has {} pages; a blank may have at most {}",
                ids.len(),
                limits.max_pages
            ),
        ));
    }
    let mut pages = Vec::new();
    for (number, id) in (1..=limits.max_pages).zip(&ids) {
        let place = format!("{FILE} page {number}");
        match file.page(number) {
            // Issuance finds pages by /Count (§7.7.3.2); a count that lies would put the values
            // on another page than the one the department sees as page `number`.
            Ok(page) if page.id != *id => problems.push(Problem::new(
                place,
                "the page tree's /Count entries do not match its pages; export the file again",
            )),
            Ok(page) => {
                if let Some(message) = side_problem(page.crop_box, limits) {
                    problems.push(Problem::new(place.clone(), message));
                }
                // Boxes are in unrotated page space; on a rotated page the values would be
                // drawn sideways to the artwork as the reader sees it (§7.7.3.3, /Rotate).
                if page.rotate != 0 {
                    problems.push(Problem::new(
                        place.clone(),
                        format!(
                            "is rotated by {}° (/Rotate); export the blank upright, without page rotation",
                            page.rotate
                        ),
                    ));
                }
                if let Some(unit) = page.dictionary.get(b"UserUnit") {
                    let unit = file.resolve(unit).ok().and_then(|u| u.as_number());
                    if unit != Some(1.0) {
                        problems.push(Problem::new(
                            place.clone(),
                            "sets /UserUnit, which scales every size on the page; export it with 1-point units",
                        ));
                    }
                }
                let annotations = annotation_rects(file, &page.dictionary, page.crop_box)
                    .unwrap_or_else(|message| {
                        problems.push(Problem::new(place.clone(), message));
                        Vec::new()
                    });
                let open_states = match content_end(file, &page) {
                    Ok(end) => end.open_states,
                    Err(message) => {
                        problems.push(Problem::new(place.clone(), message));
                        0
                    }
                };
                pages.push(PageBox {
                    number,
                    crop_box: page.crop_box,
                    annotations,
                    open_states,
                });
            }
            Err(error) => problems.push(Problem::new(place, format!("cannot be read ({error})"))),
        }
    }
    pages
}

/// Most decoded page content accepted: far beyond any artwork, short of a decompression bomb.
const MAX_PAGE_CONTENT: usize = 32 << 20;

/// The page's content must leave a clean state for the overlay drawn after it (§7.8.2): readers
/// lex all of a page's streams as one.
fn content_end(file: &PdfFile<'_>, page: &crate::pdf::Page) -> Result<ContentEnd, String> {
    let content = file
        .page_content(page, MAX_PAGE_CONTENT)
        .map_err(|e| format!("its content cannot be read ({e})"))?;
    check_content(&content).map_err(|e| {
        format!("its content is malformed: {e}; values drawn after it would be lost, so export the blank again")
    })
}

/// Most annotations a blank page may carry: each is checked against every field box.
const MAX_ANNOTATIONS: usize = 1_000;

/// The `/Rect` of each of the page's annotations (§12.5.2), indirect numbers resolved; an
/// annotation whose rectangle cannot be read covers the whole page, so it cannot hide anything.
fn annotation_rects(
    file: &PdfFile<'_>,
    page: &Dictionary,
    crop_box: [f64; 4],
) -> Result<Vec<[f64; 4]>, String> {
    let items = match page.get(b"Annots").map(|a| file.resolve(a)) {
        None => return Ok(Vec::new()),
        Some(Ok(Object::Array(items))) => items,
        Some(_) => return Err("its /Annots is not a readable array".into()),
    };
    if items.len() > MAX_ANNOTATIONS {
        return Err(format!(
            "has {} annotations; a blank may have at most {MAX_ANNOTATIONS}",
            items.len()
        ));
    }
    Ok(items
        .iter()
        .map(|item| annotation_rect(file, item).unwrap_or(crop_box))
        .collect())
}

fn annotation_rect(file: &PdfFile<'_>, annotation: &Object) -> Option<[f64; 4]> {
    let annotation = file.resolve_dictionary(annotation, "an annotation").ok()?;
    let rect = file.resolve(annotation.get(b"Rect")?).ok()?;
    let numbers: Vec<f64> = rect
        .as_array()?
        .iter()
        .map(|n| file.resolve(n).ok().and_then(|n| n.as_number()))
        .collect::<Option<_>>()?;
    let [a, b, c, d] = numbers.as_slice() else {
        return None;
    };
    let all = [*a, *b, *c, *d];
    all.iter()
        .all(|v| v.is_finite())
        .then(|| [a.min(*c), b.min(*d), a.max(*c), b.max(*d)])
}

fn side_problem(crop_box: [f64; 4], limits: &BlankLimits) -> Option<String> {
    let [llx, lly, urx, ury] = crop_box;
    let (width, height) = (urx - llx, ury - lly);
    if !(width > 0.0 && height > 0.0) {
        return Some(
            "its CropBox lies outside its MediaBox, so nothing of the page is visible".into(),
        );
    }
    let fits = |side: f64| side >= limits.min_side && side <= limits.max_side;
    (!(fits(width) && fits(height))).then(|| {
        format!(
            "its visible area (CropBox) is {} × {} pt; each side must be between {} and {} pt",
            points(width),
            points(height),
            points(limits.min_side),
            points(limits.max_side)
        )
    })
}

/// Scans the trailer and every object in use, adding a problem per object and kind of finding.
fn scan_objects(file: &PdfFile<'_>, problems: &mut Vec<Problem>) {
    report(&format!("{FILE} trailer"), &scan(file.trailer()), problems);
    let mut unreadable = 0usize;
    for id in file.object_ids() {
        let place = object_place(id);
        let findings = match file.object(id) {
            Ok(IndirectValue::Object(Object::Dictionary(dictionary))) => scan(&dictionary),
            Ok(IndirectValue::Stream(dictionary, _)) => scan(&dictionary),
            Ok(IndirectValue::Object(Object::Array(items))) => scan_items(&items),
            Ok(IndirectValue::Object(_)) => Findings::new(),
            Err(error) => {
                unreadable += 1;
                if unreadable <= MAX_UNREADABLE_REPORTED {
                    problems.push(Problem::new(
                        place,
                        format!(
                            "cannot be read ({error}), so it cannot be checked; export the file \
                             again"
                        ),
                    ));
                }
                continue;
            }
        };
        report(&place, &findings, problems);
    }
    if let Some(more) = unreadable
        .checked_sub(MAX_UNREADABLE_REPORTED)
        .filter(|&n| n > 0)
    {
        problems.push(Problem::new(
            FILE,
            format!("{more} more objects cannot be read, so they cannot be checked"),
        ));
    }
}

/// "template.pdf object 12 0": the number and generation a PDF tool shows.
fn object_place(id: ObjectId) -> String {
    format!("{FILE} object {} {}", id.number, id.generation)
}

fn report(place: &str, findings: &Findings, problems: &mut Vec<Problem>) {
    for (kind, keyword) in findings {
        problems.push(Problem::new(place, kind.message(keyword)));
    }
}

/// What one object carries: one keyword per kind (the first found), in a stable order.
type Findings = BTreeMap<Kind, &'static str>;

/// A kind of content a blank must not have; one problem per object and kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    JavaScript,
    OpenAction,
    AdditionalActions,
    Launch,
    FormAction,
    LeavesDocument,
    OtherAction,
    EmbeddedFile,
    Multimedia,
    Xfa,
    Signature,
    HiddenContent,
    TooDeep,
}

impl Kind {
    fn message(self, keyword: &str) -> String {
        let (what, remedy) = match self {
            Kind::JavaScript => ("carries JavaScript", "the blank must be static artwork"),
            Kind::OpenAction => (
                "runs an action when the document is opened",
                "the blank must be static artwork, so remove it",
            ),
            Kind::AdditionalActions => (
                "has actions triggered by opening, closing, printing or pointing",
                "the blank must be static artwork, so remove them",
            ),
            Kind::Launch => (
                "has an action that starts a program or opens a file",
                "the blank must be static artwork, so remove it",
            ),
            Kind::FormAction => (
                "has a form action that submits, imports or resets data",
                "the licence's values are drawn, not typed into a form, so remove it",
            ),
            Kind::LeavesDocument => (
                "has a link that leads out of the document",
                "a sealed licence may link out only through its verification QR code, so remove it",
            ),
            Kind::OtherAction => (
                "has an interactive or multimedia action",
                "the blank must be static artwork, so remove it",
            ),
            Kind::EmbeddedFile => ("embeds a file", "remove all attachments from the blank"),
            Kind::Multimedia => (
                "has a multimedia annotation",
                "the blank must be static artwork, so remove it",
            ),
            Kind::Xfa => (
                "holds an XFA form",
                "export the form again as a plain PDF without XFA",
            ),
            Kind::Signature => (
                "is already signed or carries signature data",
                "send the unsigned original",
            ),
            Kind::HiddenContent => (
                "can show different things on screen and on paper (optional content or hidden annotations)",
                "flatten the blank so that what is printed is what is seen",
            ),
            Kind::TooDeep => (
                "nests arrays and dictionaries too deeply to be checked",
                "export the file again",
            ),
        };
        format!("{what} ({keyword}); {remedy}")
    }
}

/// Keys whose mere presence is refused, anywhere.
const REFUSED_KEYS: [(&[u8], Kind, &str); 11] = [
    // §12.6.4.17 JavaScript actions; §7.7.4 the name tree of document-level scripts.
    (b"JS", Kind::JavaScript, "/JS"),
    (b"JavaScript", Kind::JavaScript, "/JavaScript"),
    // §7.7.2 Table 29.
    (b"OpenAction", Kind::OpenAction, "/OpenAction"),
    // §12.6.3 trigger events of pages, annotations, fields and the document.
    (b"AA", Kind::AdditionalActions, "/AA"),
    // §7.7.4 Table 32; §7.11.4 embedded file specifications.
    (b"EmbeddedFiles", Kind::EmbeddedFile, "/EmbeddedFiles"),
    (b"EF", Kind::EmbeddedFile, "/EF"),
    // §12.7.9 (XFA forms, deprecated in PDF 2.0).
    (b"XFA", Kind::Xfa, "/XFA"),
    // §12.8.6 permissions (DocMDP, UR3); §12.8.1 Table 255 the signed byte range.
    (b"Perms", Kind::Signature, "/Perms"),
    (b"ByteRange", Kind::Signature, "/ByteRange"),
    // §8.11 optional content: layers that can be shown on screen and not printed, or the reverse.
    (b"OCProperties", Kind::HiddenContent, "/OCProperties"),
    (b"OC", Kind::HiddenContent, "/OC"),
];

/// Walks `dictionary` and everything nested in it.
fn scan(dictionary: &Dictionary) -> Findings {
    let mut findings = Findings::new();
    inspect(dictionary, &mut findings);
    walk(dictionary.iter().map(|(_, value)| value), 1, &mut findings);
    findings
}

fn scan_items(items: &[Object]) -> Findings {
    let mut findings = Findings::new();
    walk(items.iter(), 1, &mut findings);
    findings
}

/// Depth-first over direct objects with an explicit stack, so no input can overflow ours.
fn walk<'o>(start: impl Iterator<Item = &'o Object>, depth: usize, findings: &mut Findings) {
    let mut stack: Vec<(&Object, usize)> = start.map(|o| (o, depth)).collect();
    while let Some((object, depth)) = stack.pop() {
        if depth > MAX_SCAN_DEPTH {
            findings.entry(Kind::TooDeep).or_insert("nesting");
            continue;
        }
        match object {
            Object::Dictionary(dictionary) => {
                inspect(dictionary, findings);
                stack.extend(dictionary.iter().map(|(_, value)| (value, depth + 1)));
            }
            Object::Array(items) => stack.extend(items.iter().map(|item| (item, depth + 1))),
            _ => {}
        }
    }
}

/// The rules that look at one dictionary's own entries.
fn inspect(dictionary: &Dictionary, findings: &mut Findings) {
    let mut found = |kind: Kind, keyword: &'static str| {
        findings.entry(kind).or_insert(keyword);
    };
    for (key, kind, keyword) in REFUSED_KEYS {
        if dictionary.get(key).is_some() {
            found(kind, keyword);
        }
    }
    match dictionary.name(b"Type") {
        // §7.11.4 embedded file streams.
        Some(b"EmbeddedFile") => found(Kind::EmbeddedFile, "/Type /EmbeddedFile"),
        // §12.8.1 signature dictionaries; §12.8.5 document timestamps.
        Some(b"Sig") => found(Kind::Signature, "/Type /Sig"),
        Some(b"DocTimeStamp") => found(Kind::Signature, "/Type /DocTimeStamp"),
        _ => {}
    }
    // §12.7.5.5: a signature field's /V is its signature. The lexer drops null values (§7.3.7).
    if dictionary.name(b"FT") == Some(b"Sig") && dictionary.get(b"V").is_some() {
        found(Kind::Signature, "/FT /Sig with /V");
    }
    if let Some((kind, keyword)) = refused_annotation(dictionary) {
        found(kind, keyword);
    }
    // §12.5.3 Table 167: Hidden (2), NoView (32) or a printed-only annotation (Print without
    // being viewable is NoView) shows paper and screen different things.
    let hidden = dictionary.name(b"Subtype").is_some()
        && dictionary
            .integer(b"F")
            .is_some_and(|flags| flags & (2 | 32) != 0);
    if hidden {
        found(Kind::HiddenContent, "/F Hidden or NoView");
    }
    if let Some((kind, keyword)) = refused_action(dictionary) {
        found(kind, keyword);
    }
}

/// Multimedia and attachment annotations (§12.5.6, Table 171).
fn refused_annotation(dictionary: &Dictionary) -> Option<(Kind, &'static str)> {
    Some(match dictionary.name(b"Subtype")? {
        b"RichMedia" => (Kind::Multimedia, "/Subtype /RichMedia"),
        b"3D" => (Kind::Multimedia, "/Subtype /3D"),
        b"Movie" => (Kind::Multimedia, "/Subtype /Movie"),
        b"Sound" => (Kind::Multimedia, "/Subtype /Sound"),
        b"Screen" => (Kind::Multimedia, "/Subtype /Screen"),
        b"FileAttachment" => (Kind::EmbeddedFile, "/Subtype /FileAttachment"),
        _ => return None,
    })
}

/// Action dictionaries (§12.6.4, Table 201) of a refused type; see the module documentation.
fn refused_action(dictionary: &Dictionary) -> Option<(Kind, &'static str)> {
    // Any dictionary whose /S names a refused action type counts, whatever its /Type says:
    // readers run actions by /S, and no structure, transition, border or mask dictionary uses
    // these names.
    Some(match dictionary.name(b"S")? {
        b"GoTo" | b"GoToDp" | b"Thread" => return None,
        // §12.6.4.11 Table 215: the named actions every reader supports.
        b"Named"
            if matches!(
                dictionary.name(b"N"),
                Some(b"NextPage" | b"PrevPage" | b"FirstPage" | b"LastPage")
            ) =>
        {
            return None;
        }
        b"JavaScript" => (Kind::JavaScript, "/S /JavaScript"),
        b"Launch" => (Kind::Launch, "/S /Launch"),
        b"SubmitForm" => (Kind::FormAction, "/S /SubmitForm"),
        b"ImportData" => (Kind::FormAction, "/S /ImportData"),
        b"ResetForm" => (Kind::FormAction, "/S /ResetForm"),
        b"URI" => (Kind::LeavesDocument, "/S /URI"),
        b"GoToR" => (Kind::LeavesDocument, "/S /GoToR"),
        b"GoToE" => (Kind::LeavesDocument, "/S /GoToE"),
        b"Named" => (Kind::OtherAction, "/S /Named"),
        b"Sound" => (Kind::OtherAction, "/S /Sound"),
        b"Movie" => (Kind::OtherAction, "/S /Movie"),
        b"Rendition" => (Kind::OtherAction, "/S /Rendition"),
        b"GoTo3DView" => (Kind::OtherAction, "/S /GoTo3DView"),
        b"RichMediaExecute" => (Kind::OtherAction, "/S /RichMediaExecute"),
        b"Hide" => (Kind::OtherAction, "/S /Hide"),
        b"SetOCGState" => (Kind::OtherAction, "/S /SetOCGState"),
        b"Trans" => (Kind::OtherAction, "/S /Trans"),
        // Not an action type: /S of a structure element, transition, border style, mask, ...
        _ => return None,
    })
}

/// A length in points as PDF writes numbers (at most four decimals, no trailing zeros).
fn points(value: f64) -> String {
    Real::from_f64(value).as_str().to_owned()
}

fn size_text(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::pdf::testing::{classic_pdf, object_stream_pdf, with_update};

    /// A one-page blank: catalog (with `catalog` entries), page tree, page (with `page`
    /// entries), then `extra` as objects 4, 5, …
    fn blank(catalog: &str, page: &str, extra: &[&str]) -> Vec<u8> {
        let catalog = format!("<< /Type /Catalog /Pages 2 0 R {catalog} >>");
        let page = format!("<< /Type /Page /Parent 2 0 R {page} >>");
        let mut objects = vec![
            catalog.as_str(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] >>",
            page.as_str(),
        ];
        objects.extend_from_slice(extra);
        classic_pdf(&objects)
    }

    /// `pdf` with the last `from` replaced: for edits after the last object, which keep offsets.
    fn replace(pdf: &[u8], from: &str, to: &str) -> Vec<u8> {
        let at = pdf
            .windows(from.len())
            .rposition(|w| w == from.as_bytes())
            .unwrap();
        [&pdf[..at], to.as_bytes(), &pdf[at + from.len()..]].concat()
    }

    fn problems(pdf: &[u8]) -> Vec<String> {
        match check_blank(pdf, &BlankLimits::default()) {
            Ok(summary) => panic!("accepted: {summary:?}"),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    /// Exactly one problem, at `place`, mentioning `keyword`.
    fn assert_refused(pdf: &[u8], place: &str, keyword: &str) {
        let found = problems(pdf);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].starts_with(&format!("{place}: ")) && found[0].contains(keyword),
            "expected {place} and {keyword}: {found:#?}"
        );
    }

    fn assert_accepted(pdf: &[u8]) -> BlankSummary {
        check_blank(pdf, &BlankLimits::default()).unwrap_or_else(|p| panic!("refused: {p:#?}"))
    }

    #[test]
    fn refuses_a_rotated_page() {
        assert_refused(
            &blank("", "/Rotate 90", &[]),
            "template.pdf page 1",
            "rotated by 90°",
        );
    }

    #[test]
    fn accepts_a_plain_page_and_reports_its_normalised_crop_box() {
        let summary = assert_accepted(&blank("", "/CropBox [500 800 100 100]", &[]));
        assert_eq!(
            summary.pages,
            [PageBox {
                number: 1,
                crop_box: [100.0, 100.0, 500.0, 800.0],
                annotations: Vec::new(),
                open_states: 0,
            }]
        );
    }

    #[test]
    fn accepts_navigation_inside_the_document_and_look_alike_s_entries() {
        let pdf = blank(
            "/Outlines 5 0 R /StructTreeRoot << /K << /S /Link >> >>",
            "/Annots [4 0 R] /Trans << /Type /Trans /S /Dissolve >> /Group << /S /Transparency >>",
            &[
                "<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /BS << /S /S >> \
                 /A << /S /GoTo /D [3 0 R /Fit] /Next << /S /Named /N /NextPage >> >> >>",
                "<< /Type /Outlines /First 6 0 R /Last 6 0 R /Count 1 >>",
                "<< /Title (Start) /Parent 5 0 R /A << /Type /Action /S /Thread /D 0 >> >>",
            ],
        );
        assert_accepted(&pdf);
    }

    #[test]
    fn refuses_a_file_over_the_size_limit_before_reading_it() {
        let limits = BlankLimits {
            max_bytes: 100,
            ..BlankLimits::default()
        };
        let refused = check_blank(&blank("", "", &[]), &limits).unwrap_err();
        assert_eq!(refused.len(), 1);
        assert!(
            refused[0].message.contains("at most 100 bytes"),
            "{refused:?}"
        );
        assert_eq!(size_text(8 << 20), "8.0 MiB");
    }

    #[test]
    fn a_reader_error_becomes_one_problem_with_its_message() {
        assert_refused(b"hello", "template.pdf", "does not start with %PDF-");
        let encrypted = replace(
            &blank("", "", &[]),
            "/Root 1 0 R >>",
            "/Root 1 0 R /Encrypt << /Filter /Standard >> >>",
        );
        assert_refused(&encrypted, "template.pdf", "encrypted");
    }

    #[test]
    fn refuses_too_many_objects_as_one_problem() {
        let limits = BlankLimits {
            max_objects: 3,
            ..BlankLimits::default()
        };
        let refused = check_blank(&blank("", "", &[]), &limits).unwrap_err();
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert!(
            refused[0].message.contains("more than 3 objects"),
            "{refused:?}"
        );
    }

    #[test]
    fn refuses_no_pages_and_too_many_pages() {
        let empty = classic_pdf(&[
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [] /Count 0 >>",
        ]);
        assert_refused(&empty, "template.pdf", "has no pages");

        let kids: Vec<String> = (0..21).map(|n| format!("{} 0 R", n + 3)).collect();
        let tree = format!(
            "<< /Type /Pages /Kids [{}] /Count 21 /MediaBox [0 0 595 842] >>",
            kids.join(" ")
        );
        let mut objects = vec!["<< /Type /Catalog /Pages 2 0 R >>", tree.as_str()];
        objects.extend(std::iter::repeat_n("<< /Type /Page /Parent 2 0 R >>", 21));
        assert_refused(
            &classic_pdf(&objects),
            "template.pdf",
            "has 21 pages; a blank may have at most 20",
        );
    }

    #[test]
    fn refuses_pages_too_small_or_too_large() {
        assert_refused(
            &blank("", "/MediaBox [0 0 5000 5000]", &[]),
            "template.pdf page 1",
            "is 5000 × 5000 pt",
        );
        assert_refused(
            &blank("", "/CropBox [10 10 70 800]", &[]),
            "template.pdf page 1",
            "is 60 × 790 pt",
        );
        // A CropBox outside the MediaBox leaves nothing visible.
        assert_refused(
            &blank("", "/CropBox [1000 1000 1200 1200]", &[]),
            "template.pdf page 1",
            "its CropBox lies outside its MediaBox",
        );
    }

    #[test]
    fn refuses_a_page_tree_whose_counts_lie() {
        let pdf = classic_pdf(&[
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 /MediaBox [0 0 595 842] >>",
            "<< /Type /Pages /Kids [5 0 R] /Count 0 >>",
            "<< /Type /Page /Parent 2 0 R >>",
            "<< /Type /Page /Parent 3 0 R >>",
        ]);
        let found = problems(&pdf);
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("template.pdf page 1: the page tree's /Count")),
            "{found:#?}"
        );
    }

    #[test]
    fn refuses_document_javascript_in_the_names_tree() {
        let pdf = blank(
            "/Names << /JavaScript 4 0 R >>",
            "",
            &[
                "<< /Names [(init) 5 0 R] >>",
                "<< /S /JavaScript /JS (app.alert\\(1\\)) >>",
            ],
        );
        assert_eq!(
            problems(&pdf),
            [
                "template.pdf object 1 0: carries JavaScript (/JavaScript); the blank must be \
                 static artwork",
                "template.pdf object 5 0: carries JavaScript (/JS); the blank must be static \
                 artwork",
            ]
        );
    }

    #[test]
    fn refuses_open_actions_and_additional_actions() {
        assert_refused(
            &blank("/OpenAction [3 0 R /Fit]", "", &[]),
            "template.pdf object 1 0",
            "(/OpenAction)",
        );
        assert_refused(
            &blank(
                "",
                "/AA << /O 4 0 R >>",
                &["<< /S /GoTo /D [3 0 R /Fit] >>"],
            ),
            "template.pdf object 3 0",
            "(/AA)",
        );
    }

    #[test]
    fn refuses_each_kind_of_active_action() {
        for (action, keyword) in [
            ("/S /Launch /F (calc.exe)", "starts a program"),
            ("/S /SubmitForm /F (https://example.net)", "/S /SubmitForm"),
            ("/S /ImportData /F (data.fdf)", "/S /ImportData"),
            ("/S /ResetForm", "/S /ResetForm"),
            (
                "/S /URI /URI (https://example.net)",
                "leads out of the document (/S /URI)",
            ),
            ("/S /GoToR /F (other.pdf) /D [0 /Fit]", "/S /GoToR"),
            ("/S /Named /N /Print", "/S /Named"),
            ("/Type /Action /S /SetOCGState /State []", "/S /SetOCGState"),
            ("/S /Rendition /OP 0", "/S /Rendition"),
        ] {
            let link =
                format!("<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << {action} >> >>");
            let pdf = blank("", "/Annots [4 0 R]", &[&link]);
            assert_refused(&pdf, "template.pdf object 4 0", keyword);
        }
    }

    #[test]
    fn refuses_embedded_files_in_each_form() {
        assert_refused(
            &blank(
                "/Names << /EmbeddedFiles 4 0 R >>",
                "",
                &["<< /Names [] >>"],
            ),
            "template.pdf object 1 0",
            "embeds a file (/EmbeddedFiles)",
        );
        assert_refused(
            &blank(
                "",
                "",
                &["<< /Type /EmbeddedFile /Length 2 >>\nstream\nhi\nendstream"],
            ),
            "template.pdf object 4 0",
            "/Type /EmbeddedFile",
        );
        assert_refused(
            &blank(
                "",
                "",
                &["<< /Type /Filespec /F (a.txt) /EF << /F 9 0 R >> >>"],
            ),
            "template.pdf object 4 0",
            "(/EF)",
        );
        assert_refused(
            &blank(
                "",
                "",
                &["<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] >>"],
            ),
            "template.pdf object 4 0",
            "/Subtype /FileAttachment",
        );
    }

    #[test]
    fn refuses_multimedia_annotations() {
        for subtype in ["RichMedia", "3D", "Movie", "Sound", "Screen"] {
            let annotation = format!("<< /Type /Annot /Subtype /{subtype} /Rect [0 0 9 9] >>");
            let pdf = blank("", "/Annots [4 0 R]", &[&annotation]);
            assert_refused(
                &pdf,
                "template.pdf object 4 0",
                &format!("/Subtype /{subtype}"),
            );
        }
    }

    #[test]
    fn refuses_xfa() {
        assert_refused(
            &blank(
                "/AcroForm << /Fields [] /XFA 4 0 R >>",
                "",
                &["<< /Length 0 >>\nstream\n\nendstream"],
            ),
            "template.pdf object 1 0",
            "holds an XFA form (/XFA)",
        );
    }

    #[test]
    fn refuses_existing_signatures_but_not_an_empty_signature_field() {
        assert_accepted(&blank(
            "/AcroForm << /Fields [4 0 R] >>",
            "",
            &["<< /FT /Sig /T (Approval) /V null >>"],
        ));
        let signed = blank(
            "/AcroForm << /Fields [4 0 R] /SigFlags 3 >>",
            "",
            &[
                "<< /FT /Sig /T (Approval) /V 5 0 R >>",
                "<< /Type /Sig /Filter /Adobe.PPKLite /ByteRange [0 1 2 3] /Contents <00> >>",
            ],
        );
        assert_eq!(
            problems(&signed),
            [
                "template.pdf object 4 0: is already signed or carries signature data \
                 (/FT /Sig with /V); send the unsigned original",
                "template.pdf object 5 0: is already signed or carries signature data \
                 (/ByteRange); send the unsigned original",
            ]
        );
        assert_refused(
            &blank("/Perms << /DocMDP 4 0 R >>", "", &["<< /Contents <00> >>"]),
            "template.pdf object 1 0",
            "(/Perms)",
        );
    }

    #[test]
    fn finds_what_hides_in_object_streams_nested_structures_and_escaped_names() {
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] >>",
            "<< /Type /Page /Parent 2 0 R /Annots [4 0 R] >>",
            "<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A 5 0 R >>",
            "<< /S /GoTo /D [3 0 R /Fit] /Next [<< /S /GoTo /D [] >> [<< /S /J#61vaScript /J#53 (x) >>]] >>",
        ];
        let pdf = object_stream_pdf(&objects, &[4, 5]);
        assert_refused(&pdf, "template.pdf object 5 0", "carries JavaScript (/JS)");
    }

    #[test]
    fn scans_the_trailer_and_every_revision_s_objects_in_use() {
        let pdf = blank("", "", &[]);
        let with_trailer = replace(
            &pdf,
            "/Root 1 0 R >>",
            "/Root 1 0 R /AA << /WC << /S /JavaScript >> >> >>",
        );
        let found = problems(&with_trailer);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].starts_with("template.pdf trailer: carries JavaScript"));
        assert!(found[1].starts_with("template.pdf trailer: has actions"));

        // An update that adds a script object and one that frees it again.
        let added = with_update(&pdf, &[(4, "<< /S /JavaScript /JS (1) >>")], &[]);
        assert_refused(&added, "template.pdf object 4 0", "/JS");
        assert_accepted(&with_update(&added, &[], &[4]));
    }

    #[test]
    fn reports_every_problem_together_one_per_object_and_kind() {
        let pdf = blank(
            "/OpenAction << /S /JavaScript /JS (a) /Next << /S /JavaScript /JS (b) >> >>",
            "/MediaBox [0 0 50 50] /AA << /O << /S /Launch /F (x) >> >>",
            &[],
        );
        let found = problems(&pdf);
        assert_eq!(found.len(), 5, "{found:#?}");
        assert!(found[0].starts_with("template.pdf page 1: its visible area"));
        assert!(found[1].starts_with("template.pdf object 1 0: carries JavaScript (/JS)"));
        assert!(found[2].starts_with("template.pdf object 1 0: runs an action"));
        assert!(found[3].starts_with("template.pdf object 3 0: has actions"));
        assert!(found[4].starts_with("template.pdf object 3 0: has an action that starts"));
    }

    #[test]
    fn unreadable_objects_are_problems_and_counted_past_ten() {
        let mut objects = vec![
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] >>",
            "<< /Type /Page /Parent 2 0 R >>",
        ];
        objects.extend(std::iter::repeat_n("<< /Broken ) >>", 12));
        let found = problems(&classic_pdf(&objects));
        assert_eq!(found.len(), 11, "{found:#?}");
        assert!(found[0].starts_with("template.pdf object 4 0: cannot be read (syntax error"));
        assert_eq!(
            found[10],
            "template.pdf: 2 more objects cannot be read, so they cannot be checked"
        );
    }
}
