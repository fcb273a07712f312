//! Revisions and what each changed (ISO 32000-2 §7.5.6, §12.8.2.2): every object a later
//! revision rewrote is compared with its signed version and classified as permitted or not.

use std::collections::HashMap;

use super::{Modification, Policy, VerifyError};
use crate::pdf::{Dictionary, IndirectValue, Object, ObjectId, PdfFile};

/// One revision: the file as it stood at one `%%EOF`.
pub(crate) struct Revision<'a> {
    /// 1-based.
    pub number: usize,
    /// Byte length of the file at this revision.
    pub end: usize,
    pub file: PdfFile<'a>,
    pub sections: Vec<usize>,
}

/// Splits `pdf` into revisions: each `%%EOF` whose prefix opens as a PDF with a new section.
/// Prefixes that do not open (a linearized file's first-page trailer) are not revisions.
pub(crate) fn revisions<'a>(
    pdf: &'a [u8],
    whole: PdfFile<'a>,
    policy: &Policy,
) -> Result<Vec<Revision<'a>>, VerifyError> {
    let whole_sections = whole.section_offsets();
    let mut revisions: Vec<Revision<'a>> = Vec::new();
    let mut attempts = 0usize;
    for end in eof_ends(pdf).into_iter().filter(|&end| end < pdf.len()) {
        let Some(prefix) = pdf.get(..end) else {
            continue;
        };
        // A %%EOF whose startxref names no new section adds nothing: skip it unopened.
        let Ok(start) = crate::pdf::startxref_offset(prefix) else {
            continue;
        };
        if revisions.last().and_then(|r| r.sections.first()) == Some(&start) {
            continue;
        }
        attempts += 1;
        if attempts > policy.max_revisions.saturating_mul(4) {
            return Err(VerifyError::TooManyRevisions(policy.max_revisions));
        }
        let Ok(file) = PdfFile::open(prefix, policy.limits) else {
            continue;
        };
        let sections = file.section_offsets();
        let new_sections = revisions
            .last()
            .is_none_or(|last| last.sections != sections);
        if new_sections && sections.iter().all(|s| whole_sections.contains(s)) {
            if revisions.len() >= policy.max_revisions {
                return Err(VerifyError::TooManyRevisions(policy.max_revisions));
            }
            revisions.push(Revision {
                number: revisions.len() + 1,
                end,
                file,
                sections,
            });
        }
    }
    if revisions
        .last()
        .is_none_or(|last| last.sections != whole_sections)
    {
        revisions.push(Revision {
            number: revisions.len() + 1,
            end: pdf.len(),
            file: whole,
            sections: whole_sections,
        });
    } else if let Some(last) = revisions.last_mut() {
        // Only trailing bytes after the final %%EOF: the whole file is that revision.
        last.end = pdf.len();
        last.file = whole;
    }
    Ok(revisions)
}

/// Offsets just past each `%%EOF` and its end-of-line.
fn eof_ends(pdf: &[u8]) -> Vec<usize> {
    memchr::memmem::find_iter(pdf, b"%%EOF")
        .map(|at| {
            let mut end = at + 5;
            if pdf.get(end) == Some(&b'\r') {
                end += 1;
            }
            if pdf.get(end) == Some(&b'\n') {
                end += 1;
            }
            end
        })
        .collect()
}

/// What the revisions after `signed` (1-based) changed, judged under DocMDP `level`
/// (none: an approval signature, which tolerates form filling, signing and annotations).
pub(crate) fn after(
    revisions: &[Revision<'_>],
    signed: usize,
    level: Option<i64>,
) -> Result<Vec<Modification>, VerifyError> {
    let mut found = Vec::new();
    let Some(base) = revisions.get(signed.saturating_sub(1)) else {
        return Ok(found);
    };
    if signed >= revisions.len() {
        // The signature covers the last revision: nothing came after it.
        return Ok(found);
    }
    let context = Context::new(&base.file, level.unwrap_or(3));
    for pair in revisions.windows(2).skip(signed.saturating_sub(1)) {
        let [previous, current] = pair else { continue };
        // Rewritten in place: a DSS object before and after.
        let before = store_objects(&previous.file);
        let store: Vec<u32> = store_objects(&current.file)
            .into_iter()
            .filter(|number| before.contains(number))
            .collect();
        for number in current.file.numbers_written_outside(&previous.sections) {
            let old = value(&previous.file, number);
            let new = value(&current.file, number);
            let judged = match context.classify(number, old.as_ref(), new.as_ref(), &current.file) {
                // Judged as "some other object": the DSS rewritten in place is permitted.
                Some((_, false)) if context.is_unknown(number) && store.contains(&number) => {
                    Some(("validation data (DSS) updated".to_string(), true))
                }
                other => other,
            };
            if let Some((description, permitted)) = judged {
                found.push(Modification {
                    revision: current.number,
                    description: format!("{description} in revision {}", current.number),
                    permitted,
                });
            }
        }
    }
    Ok(found)
}

/// The objects of the catalog's `/DSS` that an update may rewrite in place (ISO 32000-2
/// §12.8.4.3; permitted under any DocMDP level, §12.8.2.2.2): the DSS dictionary, its indirect
/// `/Certs`, `/CRLs`, `/OCSPs` arrays and its `/VRI` dictionary. Each must look like what it
/// claims (DSS keys only; arrays of plain streams), so that pointing `/DSS` at a page, a field
/// or an image cannot pass off a change to it as validation data.
fn store_objects(file: &PdfFile<'_>) -> Vec<u32> {
    let Some(Object::Reference(id)) = file
        .catalog()
        .ok()
        .and_then(|(_, c)| c.get(b"DSS").cloned())
    else {
        return Vec::new();
    };
    let Ok(store) = file.resolve_dictionary(&Object::Reference(id), "the DSS") else {
        return Vec::new();
    };
    let dss_keys = |key: &Vec<u8>| {
        matches!(
            key.as_slice(),
            b"Type" | b"Certs" | b"CRLs" | b"OCSPs" | b"VRI"
        )
    };
    if !store.iter().all(|(key, _)| dss_keys(key))
        || store.name(b"Type").is_some_and(|t| t != b"DSS")
    {
        return Vec::new();
    }
    let mut objects = vec![id.number];
    for key in [&b"Certs"[..], b"CRLs", b"OCSPs"] {
        if let Some(Object::Reference(array)) = store.get(key)
            && let Ok(Object::Array(items)) = file.resolve(&Object::Reference(*array))
            && items.iter().all(|item| is_plain_stream(file, item))
        {
            objects.push(array.number);
        }
    }
    if let Some(Object::Reference(vri)) = store.get(b"VRI")
        && let Ok(dictionary) = file.resolve_dictionary(&Object::Reference(*vri), "the VRI")
        && dictionary.iter().all(|(key, _)| is_vri_key(key))
    {
        objects.push(vri.number);
    }
    objects
}

/// A `/VRI` key: the uppercase hex SHA-1 of a signature's `/Contents` (ISO 32000-2 §12.8.4.4),
/// or `/Type`. A resource dictionary or anything else that draws has other keys.
fn is_vri_key(key: &[u8]) -> bool {
    key == b"Type" || (key.len() == 40 && key.iter().all(u8::is_ascii_hexdigit))
}

/// A stream with neither `/Type` nor `/Subtype`: a DER item, not an image or form.
fn is_plain_stream(file: &PdfFile<'_>, item: &Object) -> bool {
    let Object::Reference(id) = item else {
        return false;
    };
    matches!(
        file.object(*id),
        Ok(IndirectValue::Stream(dictionary, _))
            if dictionary.get(b"Type").is_none() && dictionary.get(b"Subtype").is_none()
    )
}

fn value<'a>(file: &PdfFile<'a>, number: u32) -> Option<IndirectValue<'a>> {
    let id = file.current_id(number)?;
    match file.object(id) {
        Ok(IndirectValue::Object(Object::Null)) | Err(_) => None,
        Ok(value) => Some(value),
    }
}

/// What the signed revision looked like: which object is the catalog, a page, a content stream.
struct Context {
    level: i64,
    catalog: Option<ObjectId>,
    info: Option<ObjectId>,
    /// The catalog's `/Metadata` stream (XMP, ISO 32000-2 §14.3.2).
    metadata: Option<u32>,
    pages: HashMap<u32, usize>,
    contents: HashMap<u32, usize>,
    annotation_arrays: HashMap<u32, usize>,
    acroform: Option<u32>,
    fields_array: Option<u32>,
    /// Appearance streams of widgets: form filling may redraw them.
    appearances: std::collections::HashSet<u32>,
    seen_annotations: std::collections::HashSet<ObjectId>,
}

impl Context {
    fn new(file: &PdfFile<'_>, level: i64) -> Self {
        let catalog = file.catalog().ok();
        let mut context = Self {
            level,
            catalog: catalog.as_ref().map(|(id, _)| *id),
            info: file.trailer().reference(b"Info"),
            metadata: catalog
                .as_ref()
                .and_then(|(_, c)| c.reference(b"Metadata"))
                .map(|id| id.number),
            pages: HashMap::new(),
            contents: HashMap::new(),
            annotation_arrays: HashMap::new(),
            acroform: None,
            fields_array: None,
            appearances: std::collections::HashSet::new(),
            seen_annotations: std::collections::HashSet::new(),
        };
        for (index, page_id) in file
            .page_ids(100_000)
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            context.pages.insert(page_id.number, index + 1);
            let Ok(page) = file.resolve_dictionary(&Object::Reference(page_id), "page") else {
                continue;
            };
            if let Some(Object::Reference(annots)) = page.get(b"Annots") {
                context.annotation_arrays.insert(annots.number, index + 1);
            }
            context.collect_appearances(file, &page);
            let contents = match page.get(b"Contents") {
                Some(Object::Reference(id)) => match file.resolve(&Object::Reference(*id)) {
                    Ok(Object::Array(items)) => {
                        context.contents.insert(id.number, index + 1);
                        items
                    }
                    _ => vec![Object::Reference(*id)],
                },
                Some(Object::Array(items)) => items.clone(),
                _ => Vec::new(),
            };
            for item in contents {
                if let Object::Reference(id) = item {
                    context.contents.insert(id.number, index + 1);
                }
            }
        }
        if let Some((_, catalog)) = &catalog
            && let Some(Object::Reference(form)) = catalog.get(b"AcroForm")
        {
            context.acroform = Some(form.number);
            if let Ok(form) = file.resolve_dictionary(&Object::Reference(*form), "AcroForm")
                && let Some(Object::Reference(fields)) = form.get(b"Fields")
            {
                context.fields_array = Some(fields.number);
            }
        }
        context
    }

    /// The streams under each widget's `/AP` (§12.5.5): `/N`, `/R`, `/D`, directly or per state.
    fn collect_appearances(&mut self, file: &PdfFile<'_>, page: &Dictionary) {
        // Arrays and annotations shared between pages are read once.
        if let Some(Object::Reference(array)) = page.get(b"Annots")
            && !self.seen_annotations.insert(*array)
        {
            return;
        }
        let Some(Ok(Object::Array(annotations))) = page.get(b"Annots").map(|a| file.resolve(a))
        else {
            return;
        };
        for annotation in annotations.iter().take(10_000) {
            if let Object::Reference(id) = annotation
                && !self.seen_annotations.insert(*id)
            {
                continue;
            }
            let Ok(annotation) = file.resolve_dictionary(annotation, "annotation") else {
                continue;
            };
            let Some(Ok(Object::Dictionary(appearance))) =
                annotation.get(b"AP").map(|a| file.resolve(a))
            else {
                continue;
            };
            for (_, entry) in appearance.iter() {
                match entry {
                    Object::Reference(id) => {
                        self.appearances.insert(id.number);
                    }
                    Object::Dictionary(states) => {
                        self.appearances
                            .extend(states.iter().filter_map(|(_, s)| match s {
                                Object::Reference(id) => Some(id.number),
                                _ => None,
                            }));
                    }
                    _ => {}
                }
            }
        }
    }

    /// Whether the signed revision gave `number` no role this classifier knows (catalog, info,
    /// page, content, annotations, form, fields, appearance).
    fn is_unknown(&self, number: u32) -> bool {
        !(self.catalog.is_some_and(|c| c.number == number)
            || self.info.is_some_and(|i| i.number == number)
            || Some(number) == self.metadata
            || self.pages.contains_key(&number)
            || self.contents.contains_key(&number)
            || self.annotation_arrays.contains_key(&number)
            || Some(number) == self.acroform
            || Some(number) == self.fields_array
            || self.appearances.contains(&number))
    }

    /// `(description, permitted)` for one rewritten object, or `None` when nothing changed.
    fn classify(
        &self,
        number: u32,
        old: Option<&IndirectValue<'_>>,
        new: Option<&IndirectValue<'_>>,
        file: &PdfFile<'_>,
    ) -> Option<(String, bool)> {
        if old == new {
            return None;
        }
        let new_dictionary = new.map(dictionary_of);
        let kind = new_dictionary
            .as_ref()
            .and_then(|d| d.name(b"Type"))
            .map(<[u8]>::to_vec);
        if matches!(kind.as_deref(), Some(b"XRef" | b"ObjStm")) {
            return None;
        }
        let (Some(old), Some(new_dictionary)) = (old, new_dictionary.clone()) else {
            return match (new, &new_dictionary) {
                (None, _) => Some((format!("object {number} deleted"), false)),
                (Some(_), Some(dictionary)) if dictionary.name(b"FT") == Some(b"Sig") => {
                    if is_document_timestamp_field(file, dictionary) {
                        Some(("document timestamp field created".into(), true))
                    } else {
                        Some(("signature field created".into(), self.level >= 2))
                    }
                }
                (Some(_), Some(dictionary)) if dictionary.name(b"Subtype") == Some(b"Form") => {
                    Some(("appearance stream added".into(), true))
                }
                (Some(_), _) => self.added(number, &kind),
            };
        };
        let old_dictionary = dictionary_of(old);
        if self.catalog.is_some_and(|c| c.number == number) {
            return Some(self.catalog_change(&old_dictionary, &new_dictionary));
        }
        if self.info.is_some_and(|i| i.number == number) {
            return Some(("document information updated".into(), true));
        }
        // Its XMP twin, as signing and timestamping tools (pyHanko) rewrite it with /Info: what
        // the document shows does not change.
        if Some(number) == self.metadata
            && matches!(new, Some(IndirectValue::Stream(..)))
            && new_dictionary.name(b"Subtype") == Some(b"XML")
        {
            return Some(("document metadata (XMP) updated".into(), true));
        }
        if let Some(page) = self.pages.get(&number) {
            return Some(self.page_change(*page, &old_dictionary, &new_dictionary, file));
        }
        if let Some(page) = self.contents.get(&number) {
            return Some((format!("page {page} content stream replaced"), false));
        }
        if let Some(page) = self.annotation_arrays.get(&number) {
            return Some(self.annotations_added(*page, old, new?, file));
        }
        if Some(number) == self.acroform {
            return Some(self.form_change(&old_dictionary, &new_dictionary, file));
        }
        if self.appearances.contains(&number) {
            return Some((
                format!("appearance of a form field redrawn (object {number})"),
                self.level >= 2,
            ));
        }
        if Some(number) == self.fields_array {
            let new = new?;
            return Some((
                "form fields added".into(),
                only_document_timestamps_added(old, new, file)
                    || self.level >= 2 && extends(old, new),
            ));
        }
        Some(self.field_or_other(number, &old_dictionary, &new_dictionary))
    }

    /// A new object: harmless until something the signed revision had points at it, which is
    /// judged where that happens; only signatures are counted against DocMDP P=1.
    fn added(&self, number: u32, kind: &Option<Vec<u8>>) -> Option<(String, bool)> {
        match kind.as_deref() {
            Some(b"Sig") => Some(("signature added".into(), self.level >= 2)),
            Some(b"DocTimeStamp") => Some(("document timestamp added".into(), true)),
            Some(b"DSS") => Some(("validation data (DSS) added".into(), true)),
            _ => Some((
                format!("object {number} added (unused until a changed object refers to it)"),
                true,
            )),
        }
    }

    fn catalog_change(&self, old: &Dictionary, new: &Dictionary) -> (String, bool) {
        let changed = changed_keys(old, new);
        let allowed = |key: &[u8]| match key {
            b"DSS" | b"Extensions" => true,
            b"AcroForm" => self.level >= 2,
            _ => false,
        };
        let permitted = changed.iter().all(|k| allowed(k));
        (
            format!("document catalog changed ({})", names(&changed)),
            permitted,
        )
    }

    fn form_change(
        &self,
        old: &Dictionary,
        new: &Dictionary,
        file: &PdfFile<'_>,
    ) -> (String, bool) {
        let changed = changed_keys(old, new);
        let fields = |dictionary: &Dictionary| {
            dictionary
                .get(b"Fields")
                .and_then(|f| file.resolve(f).ok())
                .map_or(
                    IndirectValue::Object(Object::Array(Vec::new())),
                    IndirectValue::Object,
                )
        };
        // Only document timestamp fields appended: permitted at every level.
        let timestamps_only = changed
            .iter()
            .all(|k| matches!(k.as_slice(), b"Fields" | b"SigFlags"))
            && only_document_timestamps_added(&fields(old), &fields(new), file);
        let permitted = timestamps_only
            || self.level >= 2
                && changed.iter().all(|k| {
                    matches!(
                        k.as_slice(),
                        b"Fields" | b"SigFlags" | b"NeedAppearances" | b"DR" | b"DA"
                    )
                });
        (
            format!("interactive form changed ({})", names(&changed)),
            permitted,
        )
    }

    fn page_change(
        &self,
        page: usize,
        old: &Dictionary,
        new: &Dictionary,
        file: &PdfFile<'_>,
    ) -> (String, bool) {
        let changed = changed_keys(old, new);
        if changed.iter().any(|k| k == b"Contents") {
            return (format!("page {page} content replaced"), false);
        }
        if changed.iter().all(|k| k == b"Annots") {
            // An indirect array may have become a page's own copy: compare the items.
            let items = |dictionary: &Dictionary| match dictionary
                .get(b"Annots")
                .map(|a| file.resolve(a))
            {
                Some(Ok(array @ Object::Array(_))) => array,
                _ => Object::Array(Vec::new()),
            };
            let (old_annots, new_annots) = (items(old), items(new));
            return self.annotations_added(
                page,
                &IndirectValue::Object(old_annots),
                &IndirectValue::Object(new_annots),
                file,
            );
        }
        (format!("page {page} changed ({})", names(&changed)), false)
    }

    /// Annotations appended to a page: signature widgets need P≥2, any other annotation P=3.
    fn annotations_added(
        &self,
        page: usize,
        old: &IndirectValue<'_>,
        new: &IndirectValue<'_>,
        file: &PdfFile<'_>,
    ) -> (String, bool) {
        let (IndirectValue::Object(Object::Array(old)), IndirectValue::Object(Object::Array(new))) =
            (old, new)
        else {
            return (format!("page {page} annotations replaced"), false);
        };
        if !new.starts_with(old) {
            return (
                format!("page {page} annotations removed or reordered"),
                false,
            );
        }
        let added = new.get(old.len()..).unwrap_or_default();
        let only_signatures = added.iter().all(|a| is_signature_widget(file, a));
        if added.iter().all(|a| {
            file.resolve_dictionary(a, "annotation")
                .is_ok_and(|widget| is_document_timestamp_field(file, &widget))
        }) {
            (
                format!("document timestamp field added on page {page}"),
                true,
            )
        } else if only_signatures {
            (
                format!("signature field added on page {page}"),
                self.level >= 2,
            )
        } else {
            (format!("annotation added on page {page}"), self.level >= 3)
        }
    }

    /// A field whose value changed (form filling, signing) or some other object.
    fn field_or_other(&self, number: u32, old: &Dictionary, new: &Dictionary) -> (String, bool) {
        let changed = changed_keys(old, new);
        let is_field = new.get(b"FT").is_some()
            || new.get(b"T").is_some()
            || new.name(b"Subtype") == Some(b"Widget");
        if is_field
            && changed
                .iter()
                .all(|k| matches!(k.as_slice(), b"V" | b"AS" | b"AP" | b"MK"))
        {
            let name = new.get(b"T").and_then(|t| match t {
                Object::String(bytes, _) => Some(crate::pdf::object::decode_text(bytes)),
                _ => None,
            });
            let label = name.map_or(format!("form field {number}"), |n| {
                format!("form field '{n}'")
            });
            let signing = new.name(b"FT") == Some(b"Sig");
            return (
                format!("{label} {}", if signing { "signed" } else { "filled" }),
                self.level >= 2,
            );
        }
        if new.name(b"Type") == Some(b"Annot") {
            return (format!("annotation {number} changed"), self.level >= 3);
        }
        let kind = new
            .name(b"Type")
            .map(|t| format!(" (/{})", String::from_utf8_lossy(t)))
            .unwrap_or_default();
        (format!("object {number}{kind} changed"), false)
    }
}

fn dictionary_of(value: &IndirectValue<'_>) -> Dictionary {
    match value {
        IndirectValue::Object(Object::Dictionary(dictionary))
        | IndirectValue::Stream(dictionary, _) => dictionary.clone(),
        _ => Dictionary::new(),
    }
}

fn changed_keys(old: &Dictionary, new: &Dictionary) -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = old
        .iter()
        .chain(new.iter())
        .map(|(k, _)| k.clone())
        .collect();
    keys.sort();
    keys.dedup();
    keys.retain(|k| old.get(k) != new.get(k));
    keys
}

fn names(keys: &[Vec<u8>]) -> String {
    keys.iter()
        .map(|k| format!("/{}", String::from_utf8_lossy(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn extends(old: &IndirectValue<'_>, new: &IndirectValue<'_>) -> bool {
    match (old, new) {
        (IndirectValue::Object(Object::Array(old)), IndirectValue::Object(Object::Array(new))) => {
            new.starts_with(old)
        }
        _ => false,
    }
}

/// A field holding a document timestamp (ISO 32000-2 §12.8.5) whose widget draws nothing: with
/// the DSS, what every DocMDP level permits (ISO 32000-2 §12.8.2.2.2, ETSI EN 319 142-1 §5.4).
/// A merged field and widget, no kids, a zero-area `/Rect` (or none), `/V` a DocTimeStamp.
fn is_document_timestamp_field(file: &PdfFile<'_>, field: &Dictionary) -> bool {
    let invisible = match field.get(b"Rect").map(crate::pdf::rectangle) {
        None => true,
        Some(Some([x1, y1, x2, y2])) => x1 == x2 || y1 == y2,
        Some(None) => false,
    };
    let value = field
        .get(b"V")
        .and_then(|v| file.resolve_dictionary(v, "the field's value").ok());
    field.name(b"FT") == Some(b"Sig")
        && field.get(b"Kids").is_none()
        && invisible
        && value.is_some_and(|v| v.name(b"Type") == Some(b"DocTimeStamp"))
}

/// Whether `new` is `old` with only document timestamp fields appended.
fn only_document_timestamps_added(
    old: &IndirectValue<'_>,
    new: &IndirectValue<'_>,
    file: &PdfFile<'_>,
) -> bool {
    let (IndirectValue::Object(Object::Array(old)), IndirectValue::Object(Object::Array(new))) =
        (old, new)
    else {
        return false;
    };
    new.starts_with(old)
        && new.len() > old.len()
        && new
            .get(old.len()..)
            .unwrap_or_default()
            .iter()
            .all(|field| {
                file.resolve_dictionary(field, "a field")
                    .is_ok_and(|field| is_document_timestamp_field(file, &field))
            })
}

fn is_signature_widget(file: &PdfFile<'_>, annotation: &Object) -> bool {
    let Ok(dictionary) = file.resolve_dictionary(annotation, "annotation") else {
        return false;
    };
    let field_type = match (dictionary.name(b"FT"), dictionary.get(b"Parent")) {
        (Some(ft), _) => Some(ft.to_vec()),
        (None, Some(parent)) => file
            .resolve_dictionary(parent, "field")
            .ok()
            .and_then(|p| p.name(b"FT").map(<[u8]>::to_vec)),
        (None, None) => None,
    };
    dictionary.name(b"Subtype") == Some(b"Widget") && field_type.as_deref() == Some(b"Sig")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod store_tests {
    use super::*;
    use crate::pdf::testing::one_page;
    use crate::pdf::{IncrementalUpdate, Limits};

    /// `one_page` with a DSS whose `/VRI` is an indirect dictionary with the key `vri_key`.
    fn with_vri(vri_key: &[u8]) -> (Vec<u8>, u32, u32) {
        let pdf = one_page();
        let file = PdfFile::open(&pdf, Limits::default()).unwrap();
        let (catalog_id, mut catalog) = file.catalog().unwrap();
        let mut update = IncrementalUpdate::new(&file);
        let (store, vri) = (update.allocate(), update.allocate());
        let mut entry = Dictionary::new();
        entry.set(vri_key, Dictionary::new());
        update.set(vri, entry);
        let mut dss = Dictionary::new();
        dss.set(b"VRI", vri);
        update.set(store, dss);
        catalog.set(b"DSS", store);
        update.set(catalog_id, catalog);
        let written = update.write(&file, [7; 16]).unwrap();
        (written.bytes, store.number, vri.number)
    }

    #[test]
    fn a_vri_keyed_by_signature_hashes_is_validation_data() {
        let (pdf, store, vri) = with_vri(&[b'A'; 40]);
        let file = PdfFile::open(&pdf, Limits::default()).unwrap();
        assert_eq!(store_objects(&file), vec![store, vri]);
    }

    #[test]
    fn a_dictionary_that_draws_passed_off_as_the_vri_is_not() {
        // A resource dictionary (/Font, /XObject ...) behind /VRI: rewriting it would change
        // what a page shows, so it must not be judged as validation data.
        let (pdf, store, _) = with_vri(b"Font");
        let file = PdfFile::open(&pdf, Limits::default()).unwrap();
        assert_eq!(store_objects(&file), vec![store]);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod document_timestamp_tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::pdf::Limits;
    use crate::pdf::testing::one_page;
    use crate::sign::{
        DocMdpPermission, DocumentTimestampRequest, SignatureRequest, prepare_document_timestamp,
        sign_pdf,
    };
    use crate::test_support::test_signer;

    /// A P=1 certified page, then a document timestamp (its token a stand-in: only the change
    /// is judged here).
    fn certified_then_stamped() -> Vec<u8> {
        let (signer, _) = test_signer();
        let mut request = SignatureRequest::new(OffsetDateTime::UNIX_EPOCH);
        request.certify = Some(DocMdpPermission::NoChanges);
        let certified = sign_pdf(&one_page(), &signer, &request).unwrap();
        prepare_document_timestamp(&certified, &DocumentTimestampRequest::default())
            .unwrap()
            .finish(&[0x30, 0x00])
            .unwrap()
    }

    fn changes_after_certification(pdf: &[u8]) -> Vec<Modification> {
        let policy = crate::verify::Policy::new(OffsetDateTime::UNIX_EPOCH);
        let file = PdfFile::open(pdf, Limits::default()).unwrap();
        let all = revisions(pdf, file, &policy).unwrap();
        after(&all, 2, Some(1)).unwrap()
    }

    #[test]
    fn an_invisible_document_timestamp_is_permitted_under_p1() {
        let changes = changes_after_certification(&certified_then_stamped());
        assert!(!changes.is_empty());
        assert!(changes.iter().all(|m| m.permitted), "{changes:#?}");
        assert!(
            changes
                .iter()
                .any(|m| m.description.contains("document timestamp field")),
            "{changes:#?}"
        );
    }

    #[test]
    fn a_document_timestamp_that_draws_on_the_page_is_not() {
        // The same bytes with the widget given an area: it could paint over the licence.
        let mut stamped = certified_then_stamped();
        let at = stamped
            .windows(15)
            .rposition(|w| w == b"/Rect [0 0 0 0]")
            .unwrap();
        stamped[at..at + 15].copy_from_slice(b"/Rect [0 0 9 9]");
        let changes = changes_after_certification(&stamped);
        assert!(changes.iter().any(|m| !m.permitted), "{changes:#?}");
    }
}
