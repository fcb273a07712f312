//! The interactive form as signing needs it: existing fields, signatures, DocMDP, and where the
//! new signature field and widget go (ISO 32000-2 §12.7.3, §12.8).

use super::{DocMdpPermission, SignError, SignatureRequest, appearance};
use crate::pdf::{Dictionary, IncrementalUpdate, Object, ObjectId, PdfError, PdfFile};

/// Annotation flags: Print (bit 3) and Locked (bit 8) (ISO 32000-2 §12.5.3).
const WIDGET_FLAGS: i64 = 4 | 128;

/// The document's form, read once before signing.
pub struct FormState {
    catalog_id: ObjectId,
    catalog: Dictionary,
    acroform: AcroForm,
    fields: Vec<Field>,
    certification_level: Option<i64>,
}

enum AcroForm {
    Indirect(ObjectId, Dictionary),
    Inline(Dictionary),
    Absent,
}

struct Field {
    name: String,
    id: Option<ObjectId>,
    signature: bool,
    signed: bool,
}

impl FormState {
    /// Reads the catalog, the AcroForm and its field tree, and any certification.
    pub fn read(file: &PdfFile<'_>) -> Result<Self, PdfError> {
        let (catalog_id, catalog) = file.catalog()?;
        let acroform = match catalog.get(b"AcroForm") {
            None => AcroForm::Absent,
            Some(Object::Reference(id)) => match file.resolve(&Object::Reference(*id))? {
                Object::Dictionary(dictionary) => AcroForm::Indirect(*id, dictionary),
                _ => AcroForm::Absent,
            },
            Some(Object::Dictionary(dictionary)) => AcroForm::Inline(dictionary.clone()),
            Some(_) => {
                return Err(PdfError::Structure(
                    "the catalog's /AcroForm is not a dictionary".into(),
                ));
            }
        };
        let fields = match &acroform {
            AcroForm::Indirect(_, form) | AcroForm::Inline(form) => read_fields(file, form)?,
            AcroForm::Absent => Vec::new(),
        };
        let certification_level = certification_level(file, &catalog)?;
        Ok(Self {
            catalog_id,
            catalog,
            acroform,
            fields,
            certification_level,
        })
    }

    /// Whether any signature field already holds a signature, or the document is certified.
    pub fn has_signatures(&self) -> bool {
        self.certification_level.is_some() || self.fields.iter().any(|f| f.signature && f.signed)
    }

    /// The DocMDP `P` of an existing certification signature.
    pub fn certification_level(&self) -> Option<i64> {
        self.certification_level
    }

    /// Adds (or fills) the signature field pointing at `signature_id`, merging into the form.
    pub fn add_signature_field(
        &self,
        file: &PdfFile<'_>,
        update: &mut IncrementalUpdate,
        signature_id: ObjectId,
        request: &SignatureRequest,
        signer_name: &str,
    ) -> Result<(), SignError> {
        let existing = request
            .field_name
            .as_deref()
            .and_then(|name| self.fields.iter().find(|f| f.name == name));
        let new_field = match existing {
            Some(field) => {
                self.fill_existing(file, update, field, signature_id, request)?;
                None
            }
            None => Some(self.new_widget(file, update, signature_id, request, signer_name)?),
        };
        self.update_acroform(
            file,
            update,
            new_field,
            request.certify.map(|_| signature_id),
        )?;
        Ok(())
    }

    fn fill_existing(
        &self,
        file: &PdfFile<'_>,
        update: &mut IncrementalUpdate,
        field: &Field,
        signature_id: ObjectId,
        request: &SignatureRequest,
    ) -> Result<(), SignError> {
        let id = field
            .id
            .filter(|_| field.signature && !field.signed)
            .ok_or_else(|| SignError::FieldTaken(field.name.clone()))?;
        if request.visible.is_some() {
            return Err(SignError::InvalidRequest(format!(
                "field '{}' already has its own widget; leave out the visible rectangle",
                field.name
            )));
        }
        let mut dictionary =
            file.resolve_dictionary(&Object::Reference(id), "the signature field")?;
        dictionary.set(b"V", signature_id);
        update.set(id, dictionary);
        Ok(())
    }

    /// A merged signature field and widget annotation on its page (§12.7.5.5, §12.5.6.19).
    fn new_widget(
        &self,
        file: &PdfFile<'_>,
        update: &mut IncrementalUpdate,
        signature_id: ObjectId,
        request: &SignatureRequest,
        signer_name: &str,
    ) -> Result<ObjectId, SignError> {
        let page = file.page(request.visible.map_or(1, |v| v.page))?;
        let field_id = update.allocate();
        let mut widget = Dictionary::new();
        widget.set(b"FT", Object::name(b"Sig"));
        widget.set(b"T", Object::text(&self.fresh_name(request)));
        widget.set(b"V", signature_id);
        widget.set(b"Type", Object::name(b"Annot"));
        widget.set(b"Subtype", Object::name(b"Widget"));
        widget.set(b"F", WIDGET_FLAGS);
        widget.set(b"P", page.id);
        match request.visible {
            Some(visible) => {
                let rect = placed_rectangle(&page, visible)?;
                widget.set(
                    b"Rect",
                    rect.iter().map(|&v| Object::from(v)).collect::<Vec<_>>(),
                );
                let appearance_id = update.allocate();
                let (dictionary, content) = match &request.appearance {
                    Some(drawn) => (
                        appearance::form_dictionary(
                            visible.width,
                            visible.height,
                            drawn.resources.clone(),
                        ),
                        drawn.content.clone(),
                    ),
                    None => appearance::signature_appearance(
                        signer_name,
                        request.signing_time,
                        visible.width,
                        visible.height,
                    ),
                };
                update.set_stream(appearance_id, dictionary, content);
                let mut ap = Dictionary::new();
                ap.set(b"N", appearance_id);
                widget.set(b"AP", ap);
            }
            None => widget.set(b"Rect", vec![Object::Integer(0); 4]),
        }
        update.set(field_id, widget);
        let mut page_dictionary = page.dictionary;
        if let Some(Object::Reference(array)) = page_dictionary.get(b"Annots").cloned()
            && annotations_shared(file, page.id, array)?
        {
            // Copy on write: another page shares this array, so this page gets its own.
            let items = file.resolve(&Object::Reference(array))?;
            page_dictionary.set(b"Annots", items.as_array().cloned().unwrap_or_default());
        }
        append_to_array_entry(file, update, page.id, page_dictionary, b"Annots", field_id)?;
        Ok(field_id)
    }

    /// The requested name, or `Signature<n>` with the first unused n.
    fn fresh_name(&self, request: &SignatureRequest) -> String {
        match &request.field_name {
            Some(name) => name.clone(),
            None => self.unused_name("Signature"),
        }
    }

    /// `<prefix><n>` with the first n no field uses.
    pub fn unused_name(&self, prefix: &str) -> String {
        (1..)
            .map(|n| format!("{prefix}{n}"))
            .find(|name| self.fields.iter().all(|f| &f.name != name))
            .unwrap_or_default()
    }

    /// Adds the field to `/Fields`, sets `/SigFlags 3`, and `/Perms` when certifying.
    fn update_acroform(
        &self,
        file: &PdfFile<'_>,
        update: &mut IncrementalUpdate,
        new_field: Option<ObjectId>,
        certifying: Option<ObjectId>,
    ) -> Result<(), SignError> {
        let mut catalog = self.catalog.clone();
        let mut catalog_changed = false;
        let mut form = match &self.acroform {
            AcroForm::Indirect(_, form) | AcroForm::Inline(form) => form.clone(),
            AcroForm::Absent => Dictionary::new(),
        };
        // SignaturesExist | AppendOnly (§12.7.3, Table 225).
        form.set(b"SigFlags", 3);
        // With NeedAppearances set, viewers redraw fields and Poppler skips the seal's own
        // appearance; signed documents should carry their appearances (as pyHanko does).
        form.remove(b"NeedAppearances");
        if let Some(field_id) = new_field {
            form = append_in_place(file, update, form, b"Fields", field_id)?;
        }
        match &self.acroform {
            AcroForm::Indirect(id, _) => update.set(*id, form),
            AcroForm::Inline(_) => {
                catalog.set(b"AcroForm", form);
                catalog_changed = true;
            }
            AcroForm::Absent => {
                let id = update.allocate();
                update.set(id, form);
                catalog.set(b"AcroForm", id);
                catalog_changed = true;
            }
        }
        if let Some(signature_id) = certifying {
            let mut perms = match catalog.get(b"Perms") {
                Some(perms) => file.resolve_dictionary(perms, "/Perms")?,
                None => Dictionary::new(),
            };
            perms.set(b"DocMDP", signature_id);
            catalog.set(b"Perms", perms);
            catalog_changed = true;
        }
        if catalog_changed {
            update.set(self.catalog_id, catalog);
        }
        Ok(())
    }
}

/// The widget's rectangle in default user space: the request is relative to the visible box's
/// lower-left corner (ISO 32000-2 §14.11.2), and must fall on the page.
fn placed_rectangle(
    page: &crate::pdf::Page,
    visible: super::VisibleSignature,
) -> Result<[f64; 4], SignError> {
    let [x0, y0, x1, y1] = page.crop_box;
    let rect = [
        x0 + visible.x,
        y0 + visible.y,
        x0 + visible.x + visible.width,
        y0 + visible.y + visible.height,
    ];
    let inside =
        rect[0] >= x0 - 0.5 && rect[1] >= y0 - 0.5 && rect[2] <= x1 + 0.5 && rect[3] <= y1 + 0.5;
    if !inside {
        return Err(SignError::InvalidRequest(format!(
            "the visible rectangle {},{} {}x{} does not fit on the page, which is {} x {} points",
            visible.x,
            visible.y,
            visible.width,
            visible.height,
            x1 - x0,
            y1 - y0
        )));
    }
    Ok(rect)
}

/// Whether a page other than `page` names the annotation array `array`.
fn annotations_shared(
    file: &PdfFile<'_>,
    page: ObjectId,
    array: ObjectId,
) -> Result<bool, SignError> {
    for other in file.page_ids(100_000)?.into_iter().filter(|&id| id != page) {
        let dictionary = file.resolve_dictionary(&Object::Reference(other), "a page")?;
        if dictionary.reference(b"Annots") == Some(array) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Appends `item` to the array under `key` of object `owner_id`, writing whichever object holds it.
fn append_to_array_entry(
    file: &PdfFile<'_>,
    update: &mut IncrementalUpdate,
    owner_id: ObjectId,
    owner: Dictionary,
    key: &[u8],
    item: ObjectId,
) -> Result<(), SignError> {
    let owner = append_in_place(file, update, owner, key, item)?;
    if owner_changed(&owner, key) {
        update.set(owner_id, owner);
    }
    Ok(())
}

fn owner_changed(owner: &Dictionary, key: &[u8]) -> bool {
    !matches!(owner.get(key), Some(Object::Reference(_)))
}

/// Appends to `dictionary[key]`: an indirect array gets a new version of itself; a direct or
/// missing one is replaced inside the returned dictionary.
fn append_in_place(
    file: &PdfFile<'_>,
    update: &mut IncrementalUpdate,
    mut dictionary: Dictionary,
    key: &[u8],
    item: ObjectId,
) -> Result<Dictionary, SignError> {
    match dictionary.get(key).cloned() {
        Some(Object::Reference(array_id)) => {
            let mut items = match file.resolve(&Object::Reference(array_id))? {
                Object::Array(items) => items,
                Object::Null => Vec::new(),
                _ => {
                    return Err(PdfError::Structure(format!(
                        "/{} {array_id} is not an array",
                        String::from_utf8_lossy(key)
                    ))
                    .into());
                }
            };
            items.push(Object::Reference(item));
            update.set(array_id, items);
        }
        Some(Object::Array(mut items)) => {
            items.push(Object::Reference(item));
            dictionary.set(key, items);
        }
        _ => dictionary.set(key, vec![Object::Reference(item)]),
    }
    Ok(dictionary)
}

fn read_fields(file: &PdfFile<'_>, form: &Dictionary) -> Result<Vec<Field>, PdfError> {
    Ok(crate::pdf::form_fields(file, form)?
        .into_iter()
        .map(|field| Field {
            signed: field.value.is_some(),
            name: field.name,
            id: field.id,
            signature: field.signature,
        })
        .collect())
}

/// The `P` of the certification signature named by `/Perms /DocMDP` (§12.8.2.2), default 2.
fn certification_level(file: &PdfFile<'_>, catalog: &Dictionary) -> Result<Option<i64>, PdfError> {
    let Some(perms) = catalog.get(b"Perms") else {
        return Ok(None);
    };
    let perms = match file.resolve(perms)? {
        Object::Dictionary(perms) => perms,
        _ => return Ok(None),
    };
    let Some(signature) = perms.get(b"DocMDP") else {
        return Ok(None);
    };
    let signature = file.resolve_dictionary(signature, "the DocMDP signature")?;
    let references = match signature
        .get(b"Reference")
        .map(|r| file.resolve(r))
        .transpose()?
    {
        Some(Object::Array(references)) => references,
        _ => Vec::new(),
    };
    for reference in references {
        let Object::Dictionary(reference) = file.resolve(&reference)? else {
            continue;
        };
        if reference.name(b"TransformMethod") == Some(b"DocMDP") {
            let params = match reference.get(b"TransformParams") {
                Some(params) => file.resolve_dictionary(params, "DocMDP /TransformParams")?,
                None => Dictionary::new(),
            };
            return Ok(Some(
                params
                    .integer(b"P")
                    .unwrap_or(DocMdpPermission::FormFilling as i64),
            ));
        }
    }
    Ok(Some(DocMdpPermission::FormFilling as i64))
}
