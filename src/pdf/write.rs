//! Writing objects and appending an incremental update (ISO 32000-2 §7.5.6).

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;

use super::object::{Dictionary, Object, ObjectId, StringForm};
use super::xref::XrefForm;
use super::{PdfError, PdfFile};

/// New and changed objects to append after the original bytes.
pub struct IncrementalUpdate {
    objects: BTreeMap<ObjectId, NewObject>,
    next_number: u32,
    watched: Vec<(ObjectId, Vec<u8>)>,
    info: Option<ObjectId>,
}

enum NewObject {
    Object(Object),
    Stream(Dictionary, Vec<u8>),
}

/// The written update and where watched dictionary values landed in the whole output.
pub struct WrittenUpdate {
    pub bytes: Vec<u8>,
    /// Output offset of each watched `(object, key)` value.
    pub positions: HashMap<(ObjectId, Vec<u8>), usize>,
}

impl IncrementalUpdate {
    /// An empty update for `file`; new objects are numbered from its `/Size`.
    pub fn new(file: &PdfFile<'_>) -> Self {
        Self {
            objects: BTreeMap::new(),
            next_number: file.size().max(1),
            watched: Vec::new(),
            info: None,
        }
    }

    /// Makes `id` the document information dictionary of the new revision (§14.3.3).
    pub fn set_info(&mut self, id: ObjectId) {
        self.info = Some(id);
    }

    /// A fresh object number.
    pub fn allocate(&mut self) -> ObjectId {
        let id = ObjectId::new(self.next_number, 0);
        self.next_number += 1;
        id
    }

    /// Adds or replaces object `id`.
    pub fn set(&mut self, id: ObjectId, object: impl Into<Object>) {
        self.objects.insert(id, NewObject::Object(object.into()));
    }

    /// Adds stream `id`; `/Length` is filled in on writing.
    pub fn set_stream(&mut self, id: ObjectId, dictionary: Dictionary, data: Vec<u8>) {
        self.objects.insert(id, NewObject::Stream(dictionary, data));
    }

    /// Records where the value of `key` in dictionary object `id` is written.
    pub fn watch(&mut self, id: ObjectId, key: &[u8]) {
        self.watched.push((id, key.to_vec()));
    }

    /// Writes `original` followed by the update: objects, cross-reference section and trailer.
    pub fn write(
        mut self,
        file: &PdfFile<'_>,
        document_id: [u8; 16],
    ) -> Result<WrittenUpdate, PdfError> {
        let original = file.bytes();
        let mut out = Vec::with_capacity(original.len() + 16 * 1024 + self.estimated_size());
        out.extend_from_slice(original);
        if !original.ends_with(b"\n") && !original.ends_with(b"\r") {
            out.push(b'\n');
        }
        let mut offsets = Vec::with_capacity(self.objects.len() + 1);
        let mut positions = HashMap::new();
        for (id, object) in &self.objects {
            offsets.push((*id, out.len()));
            writeln!(out, "{} {} obj", id.number, id.generation).map_err(io)?;
            let watch: Vec<&[u8]> = self
                .watched
                .iter()
                .filter(|(w, _)| w == id)
                .map(|(_, k)| k.as_slice())
                .collect();
            match object {
                NewObject::Object(Object::Dictionary(dictionary)) if !watch.is_empty() => {
                    for (key, at) in write_dictionary_tracking(&mut out, dictionary, &watch) {
                        positions.insert((*id, key), at);
                    }
                }
                NewObject::Object(object) => write_object(&mut out, object),
                NewObject::Stream(dictionary, data) => write_stream(&mut out, dictionary, data),
            }
            out.extend_from_slice(b"\nendobj\n");
        }
        let trailer = self.trailer(file, document_id);
        match file.xref_form() {
            XrefForm::Table => write_table(&mut out, &offsets, &trailer),
            XrefForm::Stream => {
                let id = self.allocate();
                write_xref_stream(&mut out, id, &mut offsets, trailer)
            }
        }
        Ok(WrittenUpdate {
            bytes: out,
            positions,
        })
    }

    fn estimated_size(&self) -> usize {
        self.objects
            .values()
            .map(|o| {
                if let NewObject::Stream(_, d) = o {
                    d.len() + 256
                } else {
                    512
                }
            })
            .sum()
    }

    /// The new trailer (§7.5.5, §7.5.6): `/Prev`, the grown `/Size`, and the carried-over keys.
    fn trailer(&self, file: &PdfFile<'_>, document_id: [u8; 16]) -> Dictionary {
        let previous = file.trailer();
        let mut trailer = Dictionary::new();
        for key in [&b"Root"[..], b"Info"] {
            if let Some(value) = previous.get(key) {
                trailer.set(key, value.clone());
            }
        }
        let original_id = match previous
            .get(b"ID")
            .and_then(Object::as_array)
            .and_then(|ids| ids.first())
        {
            Some(Object::String(first, _)) => first.clone(),
            _ => document_id.to_vec(),
        };
        trailer.set(
            b"ID",
            vec![
                Object::String(original_id, StringForm::Hexadecimal),
                Object::String(document_id.to_vec(), StringForm::Hexadecimal),
            ],
        );
        if let Some(info) = self.info {
            trailer.set(b"Info", info);
        }
        trailer.set(b"Prev", file.newest_xref_offset() as i64);
        trailer.set(b"Size", i64::from(self.next_number.max(file.size())));
        trailer
    }
}

fn io(error: std::io::Error) -> PdfError {
    PdfError::Structure(format!("cannot write: {error}"))
}

/// FlateDecode (ISO 32000-2 §7.4.4) with lopdf's zlib encoder when that makes the stream
/// smaller; sets `/Filter` on `dictionary` when it does.
pub fn deflate(dictionary: &mut Dictionary, data: Vec<u8>) -> Vec<u8> {
    let mut stream = lopdf::Stream::new(lopdf::Dictionary::new(), data);
    if stream.compress().is_ok() && stream.dict.has(b"Filter") {
        dictionary.set(b"Filter", Object::name(b"FlateDecode"));
    }
    stream.content
}

/// Serialises one direct object.
pub fn serialize(object: &Object) -> Vec<u8> {
    let mut out = Vec::new();
    write_object(&mut out, object);
    out
}

fn write_object(out: &mut Vec<u8>, object: &Object) {
    match object {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(true) => out.extend_from_slice(b"true"),
        Object::Boolean(false) => out.extend_from_slice(b"false"),
        Object::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Object::Real(real) => out.extend_from_slice(real.as_str().as_bytes()),
        Object::Name(name) => write_name(out, name),
        Object::String(bytes, StringForm::Literal) => write_literal(out, bytes),
        Object::String(bytes, StringForm::Hexadecimal) => write_hex(out, bytes),
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(out, item);
            }
            out.push(b']');
        }
        Object::Dictionary(dictionary) => {
            write_dictionary_tracking(out, dictionary, &[]);
        }
        Object::Reference(id) => {
            out.extend_from_slice(format!("{} {} R", id.number, id.generation).as_bytes())
        }
    }
}

/// Writes a dictionary, returning the offsets at which the values of `watch` keys begin.
fn write_dictionary_tracking(
    out: &mut Vec<u8>,
    dictionary: &Dictionary,
    watch: &[&[u8]],
) -> Vec<(Vec<u8>, usize)> {
    let mut positions = Vec::new();
    out.extend_from_slice(b"<<");
    for (key, value) in dictionary.iter() {
        write_name(out, key);
        out.push(b' ');
        if watch.contains(&key.as_slice()) {
            positions.push((key.clone(), out.len()));
        }
        write_object(out, value);
    }
    out.extend_from_slice(b">>");
    positions
}

fn write_stream(out: &mut Vec<u8>, dictionary: &Dictionary, data: &[u8]) {
    let mut dictionary = dictionary.clone();
    dictionary.set(b"Length", data.len() as i64);
    write_dictionary_tracking(out, &dictionary, &[]);
    out.extend_from_slice(b"\nstream\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream");
}

/// `/Name` with every byte outside the regular printable range as `#xx` (§7.3.5).
fn write_name(out: &mut Vec<u8>, name: &[u8]) {
    out.push(b'/');
    for &byte in name {
        let delimiter = b"()<>[]{}/%#".contains(&byte);
        if (0x21..=0x7e).contains(&byte) && !delimiter {
            out.push(byte);
        } else {
            out.extend_from_slice(format!("#{byte:02X}").as_bytes());
        }
    }
}

fn write_literal(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'(');
    for &byte in bytes {
        match byte {
            b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', byte]),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(byte),
        }
    }
    out.push(b')');
}

/// Hex digits, uppercase.
pub(crate) fn write_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'<');
    let start = out.len();
    out.resize(start + bytes.len() * 2, b'0');
    if let Some(slot) = out.get_mut(start..) {
        hex_upper_into(slot, bytes);
    }
    out.push(b'>');
}

/// Writes `bytes` as uppercase hex into `slot`, two digits per byte, as far as `slot` reaches.
/// A table of digit pairs: the `/Contents` of every signature passes through here.
pub fn hex_upper_into(slot: &mut [u8], bytes: &[u8]) {
    // Built at compile time; every index is below the array lengths (256 and 16).
    #[allow(clippy::indexing_slicing)]
    static PAIRS: [[u8; 2]; 256] = {
        const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
        let mut table = [[0u8; 2]; 256];
        let mut byte = 0;
        while byte < 256 {
            table[byte] = [DIGITS[byte >> 4], DIGITS[byte & 0x0f]];
            byte += 1;
        }
        table
    };
    for (pair, &byte) in slot.chunks_exact_mut(2).zip(bytes) {
        if let Some(digits) = PAIRS.get(usize::from(byte)) {
            pair.copy_from_slice(digits);
        }
    }
}

/// Runs of consecutive object numbers, for subsection headers and `/Index`.
fn runs(offsets: &[(ObjectId, usize)]) -> Vec<(u32, Vec<(ObjectId, usize)>)> {
    let mut runs: Vec<(u32, Vec<(ObjectId, usize)>)> = Vec::new();
    for &(id, offset) in offsets {
        match runs.last_mut() {
            Some((first, entries)) if *first + entries.len() as u32 == id.number => {
                entries.push((id, offset))
            }
            _ => runs.push((id.number, vec![(id, offset)])),
        }
    }
    runs
}

/// A classic table section (§7.5.4) and its trailer.
fn write_table(out: &mut Vec<u8>, offsets: &[(ObjectId, usize)], trailer: &Dictionary) {
    let start = out.len();
    out.extend_from_slice(b"xref\n");
    for (first, entries) in runs(offsets) {
        out.extend_from_slice(format!("{first} {}\n", entries.len()).as_bytes());
        for (id, offset) in entries {
            out.extend_from_slice(format!("{offset:010} {:05} n\r\n", id.generation).as_bytes());
        }
    }
    out.extend_from_slice(b"trailer\n");
    write_dictionary_tracking(out, trailer, &[]);
    out.extend_from_slice(format!("\nstartxref\n{start}\n%%EOF\n").as_bytes());
}

/// A cross-reference stream section (§7.5.8), uncompressed, that also lists itself.
fn write_xref_stream(
    out: &mut Vec<u8>,
    id: ObjectId,
    offsets: &mut Vec<(ObjectId, usize)>,
    mut trailer: Dictionary,
) {
    let start = out.len();
    offsets.push((id, start));
    let offset_width = (usize::BITS - start.leading_zeros()).div_ceil(8).max(1) as usize;
    let mut rows = Vec::with_capacity(offsets.len() * (3 + offset_width));
    let mut index = Vec::new();
    for (first, entries) in runs(offsets) {
        index.push(Object::Integer(i64::from(first)));
        index.push(Object::Integer(entries.len() as i64));
        for (entry_id, offset) in entries {
            rows.push(1);
            let be = offset.to_be_bytes();
            rows.extend_from_slice(
                be.get(be.len().saturating_sub(offset_width)..)
                    .unwrap_or(&be),
            );
            rows.extend_from_slice(&entry_id.generation.to_be_bytes());
        }
    }
    trailer.set(b"Type", Object::name(b"XRef"));
    trailer.set(
        b"W",
        vec![
            Object::Integer(1),
            Object::Integer(offset_width as i64),
            Object::Integer(2),
        ],
    );
    trailer.set(b"Index", index);
    let size = trailer
        .integer(b"Size")
        .unwrap_or(0)
        .max(i64::from(id.number) + 1);
    trailer.set(b"Size", size);
    out.extend_from_slice(format!("{} {} obj\n", id.number, id.generation).as_bytes());
    write_stream(out, &trailer, &rows);
    out.extend_from_slice(format!("\nendobj\nstartxref\n{start}\n%%EOF\n").as_bytes());
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn names_and_strings_escape_what_they_must() {
        assert_eq!(serialize(&Object::name(b"A B#")), b"/A#20B#23");
        assert_eq!(
            serialize(&Object::String(b"a(b)\\\r".to_vec(), StringForm::Literal)),
            b"(a\\(b\\)\\\\\\r)"
        );
        assert_eq!(
            serialize(&Object::String(vec![0xab, 0x01], StringForm::Hexadecimal)),
            b"<AB01>"
        );
    }

    #[test]
    fn runs_group_consecutive_numbers() {
        let ids = [
            (ObjectId::new(3, 0), 1),
            (ObjectId::new(4, 0), 2),
            (ObjectId::new(9, 0), 3),
        ];
        let grouped = runs(&ids);
        assert_eq!(grouped.len(), 2);
        assert_eq!(grouped[0].0, 3);
        assert_eq!(grouped[1].1.len(), 1);
    }
}
