//! Interactive form fields (ISO 32000-2 §12.7): the tree read once, bounded.

use super::object::decode_text;
use super::{Dictionary, Object, ObjectId, PdfError, PdfFile};

/// Most field nodes read from a form before it is refused as hostile.
const MAX_FIELD_NODES: usize = 50_000;
/// Deepest field hierarchy accepted.
const MAX_FIELD_DEPTH: usize = 32;
/// Longest fully qualified field name kept, in characters; longer names are cut.
const MAX_NAME_CHARS: usize = 512;

/// A terminal or non-terminal field with its fully qualified name.
#[derive(Clone, Debug)]
pub struct FormField {
    pub name: String,
    pub id: Option<ObjectId>,
    /// `/FT /Sig`, possibly inherited.
    pub signature: bool,
    /// `/V`, when present and not null.
    pub value: Option<Object>,
}

/// Walks the field tree (§12.7.4) collecting fully qualified names and signature state.
pub fn form_fields(file: &PdfFile<'_>, form: &Dictionary) -> Result<Vec<FormField>, PdfError> {
    let roots = match form.get(b"Fields") {
        Some(fields) => match file.resolve(fields)? {
            Object::Array(items) => items,
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    let mut stack: Vec<(Object, String, bool, usize)> = roots
        .into_iter()
        .rev()
        .map(|o| (o, String::new(), false, 0))
        .collect();
    let mut fields = Vec::new();
    let mut visited = 0usize;
    let mut seen = std::collections::HashSet::new();
    while let Some((node, parent, inherited_sig, depth)) = stack.pop() {
        visited += 1;
        if visited > MAX_FIELD_NODES || depth > MAX_FIELD_DEPTH {
            return Err(PdfError::Structure(
                "the form's field tree is too large or too deep".into(),
            ));
        }
        let id = match node {
            Object::Reference(id) => Some(id),
            _ => None,
        };
        // A field tree is a tree: a node reached twice is a loop or a DAG bomb, read once.
        if let Some(id) = id
            && !seen.insert(id)
        {
            continue;
        }
        let Object::Dictionary(dictionary) = file.resolve(&node)? else {
            continue;
        };
        let partial = dictionary.get(b"T").and_then(|t| match t {
            Object::String(bytes, _) => Some(decode_text(bytes)),
            _ => None,
        });
        let partial = partial.map(|p| p.chars().take(MAX_NAME_CHARS).collect::<String>());
        let name = match (&partial, parent.is_empty()) {
            (Some(p), true) => p.clone(),
            (Some(p), false) => format!("{parent}.{p}")
                .chars()
                .take(MAX_NAME_CHARS)
                .collect(),
            (None, _) => parent.clone(),
        };
        let signature = dictionary
            .name(b"FT")
            .map_or(inherited_sig, |ft| ft == b"Sig");
        if partial.is_some() {
            fields.push(FormField {
                name: name.clone(),
                id,
                signature,
                value: dictionary
                    .get(b"V")
                    .filter(|v| **v != Object::Null)
                    .cloned(),
            });
        }
        if let Some(kids) = dictionary.get(b"Kids")
            && let Object::Array(kids) = file.resolve(kids)?
        {
            stack.extend(
                kids.into_iter()
                    .rev()
                    .map(|kid| (kid, name.clone(), signature, depth + 1)),
            );
        }
    }
    Ok(fields)
}
