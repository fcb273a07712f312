//! An opened PDF: the checks that make it safe to append to, and lazy access to its objects.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use super::lexer::Lexer;
use super::object::{Dictionary, IndirectValue, Object, ObjectId};
use super::xref::{XrefChain, XrefEntry, XrefForm, find_startxref};
use super::{Limits, PdfError};

/// The largest object number PDF allows (ISO 32000-1 Annex C.2).
const MAX_OBJECT_NUMBER: u32 = 8_388_607;
/// Most references followed to reach one direct object.
const MAX_REFERENCE_HOPS: usize = 16;
/// Deepest page tree accepted.
const MAX_PAGE_TREE_DEPTH: usize = 64;

/// A PDF ready to receive an incremental update: header at byte 0, not encrypted, and a
/// cross-reference chain that matches the file (nothing had to be reconstructed).
pub struct PdfFile<'a> {
    bytes: &'a [u8],
    xref: XrefChain,
    limits: Limits,
    object_streams: RefCell<HashMap<u32, std::rc::Rc<ObjectStream>>>,
    /// The first object number free for new objects.
    next_free: u32,
    /// Objects already parsed, with what copying each costs (see [`copy_cost`]).
    parsed: RefCell<HashMap<ObjectId, (IndirectValue<'a>, usize)>>,
    /// What copies of already parsed objects may still cost (`Limits::max_repeated_copies`).
    copy_budget: Cell<usize>,
    /// Object streams being decoded: a `/Length` inside its own stream must not recurse.
    loading: RefCell<Vec<u32>>,
    /// Bytes object streams may still decode to (`Limits::max_decoded_object_streams`).
    object_stream_budget: Cell<usize>,
}

struct ObjectStream {
    data: Vec<u8>,
    first: usize,
    offsets: Vec<(u32, usize)>,
}

/// A page found in the page tree, with the attributes it inherits (ISO 32000-2 §7.7.3.4).
#[derive(Clone, Debug)]
pub struct Page {
    pub id: ObjectId,
    pub dictionary: Dictionary,
    pub media_box: [f64; 4],
    /// The visible region (§14.11.2): the CropBox clipped to the MediaBox, or the MediaBox.
    pub crop_box: [f64; 4],
    pub rotate: i64,
    /// `/Resources`, the page's own or inherited from the page tree (ISO 32000-2 §7.7.3.4).
    pub resources: Option<Object>,
}

impl<'a> PdfFile<'a> {
    /// Checks `bytes` and reads its cross-reference data.
    pub fn open(bytes: &'a [u8], limits: Limits) -> Result<Self, PdfError> {
        if bytes.len() > limits.max_input_bytes {
            return Err(PdfError::TooLarge {
                size: bytes.len(),
                limit: limits.max_input_bytes,
            });
        }
        check_header(bytes)?;
        let xref = XrefChain::read(bytes, find_startxref(bytes)?, limits.max_decoded_stream)?;
        if xref.trailer().get(b"Encrypt").is_some() {
            return Err(PdfError::Encrypted);
        }
        let mut file = Self {
            bytes,
            xref,
            limits,
            object_streams: RefCell::new(HashMap::new()),
            loading: RefCell::new(Vec::new()),
            parsed: RefCell::new(HashMap::new()),
            object_stream_budget: Cell::new(limits.max_decoded_object_streams),
            copy_budget: Cell::new(limits.max_repeated_copies.saturating_add(bytes.len())),
            next_free: 1,
        };
        file.check_offsets()?;
        Ok(file)
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    pub fn trailer(&self) -> &Dictionary {
        self.xref.trailer()
    }

    /// The form the newest cross-reference section takes; an update repeats it.
    pub fn xref_form(&self) -> XrefForm {
        self.xref.newest_form()
    }

    /// Byte offsets of every cross-reference section, newest first.
    pub fn section_offsets(&self) -> Vec<usize> {
        self.xref.section_offsets()
    }

    /// Object numbers written by sections other than those at `known` offsets.
    pub fn numbers_written_outside(&self, known: &[usize]) -> Vec<u32> {
        self.xref.numbers_outside(self.bytes, known)
    }

    /// Byte offset of the newest cross-reference section, for the update's `/Prev`.
    pub fn newest_xref_offset(&self) -> usize {
        self.xref.newest_offset
    }

    /// The first object number free for new objects: one more than the highest in use, and
    /// never below the trailer's `/Size`.
    pub fn size(&self) -> u32 {
        self.next_free
    }

    /// Reads indirect object `id`; a free or missing object is `null` (§7.3.10).
    pub fn object(&self, id: ObjectId) -> Result<IndirectValue<'a>, PdfError> {
        // Each object is parsed once, and each later copy of it is charged to one budget:
        // hostile files that name one large object many times (repeated page kids or
        // annotations, say) then cost little more than the file's size to read.
        if let Some((cached, cost)) = self.parsed.borrow().get(&id) {
            let left = self.copy_budget.get().checked_sub(*cost).ok_or_else(|| {
                PdfError::Structure(format!(
                    "object {id} is read too often: it is large and named many times"
                ))
            })?;
            self.copy_budget.set(left);
            return Ok(cached.clone());
        }
        let value = self.parse_object(id)?;
        let cost = copy_cost(&value);
        self.parsed.borrow_mut().insert(id, (value.clone(), cost));
        Ok(value)
    }

    fn parse_object(&self, id: ObjectId) -> Result<IndirectValue<'a>, PdfError> {
        match self.xref.lookup(self.bytes, id.number) {
            None | Some(XrefEntry::Free) => Ok(IndirectValue::Object(Object::Null)),
            Some(XrefEntry::InFile { offset, generation }) if generation == id.generation => {
                self.object_at(id, offset)
            }
            Some(XrefEntry::InFile { .. }) => Ok(IndirectValue::Object(Object::Null)),
            Some(XrefEntry::InStream { stream, index }) => Ok(IndirectValue::Object(
                self.object_in_stream(id, stream, index)?,
            )),
        }
    }

    /// The id (with its generation) under which object `number` is currently stored.
    pub fn current_id(&self, number: u32) -> Option<ObjectId> {
        match self.xref.lookup(self.bytes, number)? {
            XrefEntry::InFile { generation, .. } => Some(ObjectId::new(number, generation)),
            XrefEntry::InStream { .. } => Some(ObjectId::new(number, 0)),
            XrefEntry::Free => None,
        }
    }

    /// Every object the cross-reference data currently lists as in use, by ascending number:
    /// for each number the newest section decides (§7.5.6), as for [`Self::object`]. At most
    /// `Limits::max_objects` entries, which `open` checked.
    pub fn object_ids(&self) -> Vec<ObjectId> {
        self.xref
            .numbers(self.bytes)
            .into_iter()
            .filter_map(|number| self.current_id(number))
            .collect()
    }

    /// Every page's id in document order, reading at most `max` page tree nodes.
    pub fn page_ids(&self, max: usize) -> Result<Vec<ObjectId>, PdfError> {
        let (_, catalog) = self.catalog()?;
        let root = catalog
            .get(b"Pages")
            .cloned()
            .ok_or_else(|| PdfError::Structure("the catalog has no /Pages".into()))?;
        let mut pages = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![(root, 0usize)];
        let mut visited = 0usize;
        while let Some((node, depth)) = stack.pop() {
            visited += 1;
            if visited > max || depth > MAX_PAGE_TREE_DEPTH {
                return Err(PdfError::Structure(
                    "the page tree is too large or too deep".into(),
                ));
            }
            let Object::Reference(id) = node else {
                continue;
            };
            // Each node once: a /Kids naming the same node again is a loop or a bomb.
            if !seen.insert(id) {
                continue;
            }
            let dictionary = self.resolve_dictionary(&node, "a page tree node")?;
            match dictionary
                .get(b"Kids")
                .map(|k| self.resolve(k))
                .transpose()?
            {
                Some(Object::Array(kids)) if dictionary.name(b"Type") != Some(b"Page") => {
                    stack.extend(kids.into_iter().rev().map(|kid| (kid, depth + 1)));
                }
                _ => pages.push(id),
            }
        }
        Ok(pages)
    }

    /// Follows references until a direct object; streams resolve to their dictionary.
    pub fn resolve(&self, object: &Object) -> Result<Object, PdfError> {
        let mut current = object.clone();
        for _ in 0..MAX_REFERENCE_HOPS {
            let Object::Reference(id) = current else {
                return Ok(current);
            };
            current = match self.object(id)? {
                IndirectValue::Object(object) => object,
                IndirectValue::Stream(dictionary, _) => Object::Dictionary(dictionary),
            };
        }
        Err(PdfError::Structure(
            "a chain of references is too long".into(),
        ))
    }

    /// The dictionary behind `object`, or an error naming `what` was expected.
    pub fn resolve_dictionary(&self, object: &Object, what: &str) -> Result<Dictionary, PdfError> {
        match self.resolve(object)? {
            Object::Dictionary(dictionary) => Ok(dictionary),
            _ => Err(PdfError::Structure(format!("{what} is not a dictionary"))),
        }
    }

    /// The document catalog (§7.7.2).
    pub fn catalog(&self) -> Result<(ObjectId, Dictionary), PdfError> {
        let id = self
            .trailer()
            .reference(b"Root")
            .ok_or_else(|| PdfError::Structure("the trailer has no /Root".into()))?;
        let catalog = self.resolve_dictionary(&Object::Reference(id), "the catalog")?;
        if catalog.name(b"Type").is_some_and(|t| t != b"Catalog") {
            return Err(PdfError::Structure(format!("/Root {id} is not a /Catalog")));
        }
        Ok((id, catalog))
    }

    /// A page's content streams decoded and joined with a newline (§7.8.2: the streams of an
    /// array form one stream, divided only between tokens), refusing more than `limit` bytes.
    pub fn page_content(&self, page: &Page, limit: usize) -> Result<Vec<u8>, PdfError> {
        let references = match page.dictionary.get(b"Contents") {
            None => return Ok(Vec::new()),
            Some(Object::Reference(id)) => match self.object(*id)? {
                IndirectValue::Object(Object::Array(items)) => items,
                _ => vec![Object::Reference(*id)],
            },
            Some(Object::Array(items)) => items.clone(),
            Some(_) => return Err(PdfError::Structure("/Contents is not a stream".into())),
        };
        let mut joined = Vec::new();
        for reference in references.iter().take(self.limits.max_array_items) {
            let Object::Reference(id) = reference else {
                return Err(PdfError::Structure(
                    "/Contents holds a direct object".into(),
                ));
            };
            let IndirectValue::Stream(dictionary, raw) = self.object(*id)? else {
                return Err(PdfError::Structure(format!("content {id} is not a stream")));
            };
            let budget = limit.saturating_sub(joined.len());
            joined.extend(decode_stream(&dictionary, raw, budget)?);
            joined.push(b'\n');
        }
        Ok(joined)
    }

    /// Stream object `id`'s data with its filters decoded, refusing more than `limit` bytes.
    pub fn stream_contents(&self, id: ObjectId, limit: usize) -> Result<Vec<u8>, PdfError> {
        match self.object(id)? {
            IndirectValue::Stream(dictionary, raw) => decode_stream(&dictionary, raw, limit),
            IndirectValue::Object(_) => Err(PdfError::Structure(format!("{id} is not a stream"))),
        }
    }

    /// Page `number` (1-based), found by walking the page tree with `/Count` (§7.7.3).
    pub fn page(&self, number: u32) -> Result<Page, PdfError> {
        let (_, catalog) = self.catalog()?;
        let mut node_ref = catalog
            .get(b"Pages")
            .cloned()
            .ok_or_else(|| PdfError::Structure("the catalog has no /Pages".into()))?;
        let mut remaining = u64::from(number.checked_sub(1).ok_or(PdfError::NoSuchPage(number))?);
        let mut inherited = Dictionary::new();
        for _ in 0..MAX_PAGE_TREE_DEPTH {
            let Object::Reference(node_id) = node_ref else {
                return Err(PdfError::Structure(
                    "a page tree node is not an indirect object".into(),
                ));
            };
            let node = self.resolve_dictionary(&node_ref, "a page tree node")?;
            for key in [&b"MediaBox"[..], b"CropBox", b"Rotate", b"Resources"] {
                if let Some(value) = node.get(key) {
                    inherited.set(key, value.clone());
                }
            }
            if node.name(b"Type") == Some(b"Page") || node.get(b"Kids").is_none() {
                if remaining != 0 {
                    return Err(PdfError::NoSuchPage(number));
                }
                return self.finish_page(node_id, node, &inherited);
            }
            node_ref = self
                .child_holding(&node, &mut remaining)
                .ok_or(PdfError::NoSuchPage(number))??;
        }
        Err(PdfError::Structure("the page tree is too deep".into()))
    }

    /// The kid of `node` whose subtree holds page index `remaining`, which is made relative to it.
    fn child_holding(
        &self,
        node: &Dictionary,
        remaining: &mut u64,
    ) -> Option<Result<Object, PdfError>> {
        let kids = match self.resolve(node.get(b"Kids")?) {
            Ok(Object::Array(kids)) => kids,
            Ok(_) => return Some(Err(PdfError::Structure("/Kids is not an array".into()))),
            Err(error) => return Some(Err(error)),
        };
        for kid in kids.into_iter().take(self.limits.max_array_items) {
            let count = match self.resolve_dictionary(&kid, "a page tree node") {
                Ok(child) if child.name(b"Type") == Some(b"Pages") => child
                    .integer(b"Count")
                    .and_then(|c| u64::try_from(c).ok())
                    .unwrap_or(0),
                Ok(_) => 1,
                Err(error) => return Some(Err(error)),
            };
            if *remaining < count {
                return Some(Ok(kid));
            }
            *remaining -= count;
        }
        None
    }

    fn finish_page(
        &self,
        id: ObjectId,
        dictionary: Dictionary,
        inherited: &Dictionary,
    ) -> Result<Page, PdfError> {
        let media_box = inherited
            .get(b"MediaBox")
            .map(|b| self.resolve(b))
            .transpose()?
            .and_then(|b| rectangle(&b))
            .unwrap_or([0.0, 0.0, 612.0, 792.0]);
        let crop_box = inherited
            .get(b"CropBox")
            .map(|b| self.resolve(b))
            .transpose()?
            .and_then(|b| rectangle(&b))
            .map_or(media_box, |c| {
                [
                    c[0].max(media_box[0]),
                    c[1].max(media_box[1]),
                    c[2].min(media_box[2]),
                    c[3].min(media_box[3]),
                ]
            });
        // §7.7.3.3: /Rotate may be an indirect integer like any other value.
        let rotate = inherited
            .get(b"Rotate")
            .map(|r| self.resolve(r))
            .transpose()?
            .and_then(|r| r.as_integer())
            .unwrap_or(0)
            .rem_euclid(360);
        Ok(Page {
            id,
            dictionary,
            media_box,
            crop_box,
            rotate,
            resources: inherited.get(b"Resources").cloned(),
        })
    }

    fn object_at(&self, id: ObjectId, offset: usize) -> Result<IndirectValue<'a>, PdfError> {
        let mut lexer = Lexer::new(self.bytes, offset);
        let found = lexer.object_header().map_err(|_| misplaced(id, offset))?;
        if found != id {
            return Err(misplaced(id, offset));
        }
        let object = lexer.object()?;
        lexer.skip_whitespace();
        let after = lexer.position;
        if self.bytes.get(after..after + 6) != Some(b"stream") {
            return Ok(IndirectValue::Object(object));
        }
        let Object::Dictionary(dictionary) = object else {
            return Err(PdfError::Syntax {
                offset: after,
                what: "stream without a dictionary".into(),
            });
        };
        let length = match dictionary.get(b"Length") {
            Some(Object::Integer(n)) => *n,
            Some(Object::Reference(length_id)) if *length_id != id => {
                self.direct_length(*length_id)?
            }
            _ => {
                return Err(PdfError::Structure(format!(
                    "stream {id} has no usable /Length"
                )));
            }
        };
        let length = usize::try_from(length)
            .map_err(|_| PdfError::Structure(format!("stream {id} has a negative /Length")))?;
        let data = stream_data(self.bytes, after + 6, length)?;
        Ok(IndirectValue::Stream(dictionary, data))
    }

    fn direct_length(&self, id: ObjectId) -> Result<i64, PdfError> {
        match self.xref.lookup(self.bytes, id.number) {
            Some(XrefEntry::InFile { offset, .. }) => {
                let mut lexer = Lexer::new(self.bytes, offset);
                lexer.object_header().map_err(|_| misplaced(id, offset))?;
                lexer.object()?.as_integer().ok_or_else(|| {
                    PdfError::Structure(format!("stream length {id} is not an integer"))
                })
            }
            Some(XrefEntry::InStream { stream, index }) => self
                .object_in_stream(id, stream, index)?
                .as_integer()
                .ok_or_else(|| {
                    PdfError::Structure(format!("stream length {id} is not an integer"))
                }),
            _ => Err(PdfError::Structure(format!(
                "stream length {id} is missing"
            ))),
        }
    }

    /// Reads object `id` from object stream `stream` (§7.5.7).
    fn object_in_stream(&self, id: ObjectId, stream: u32, index: u32) -> Result<Object, PdfError> {
        let object_stream = self.object_stream(stream)?;
        let (number, offset) = object_stream
            .offsets
            .get(index as usize)
            .copied()
            .ok_or_else(|| {
                PdfError::Structure(format!("object stream {stream} has no entry {index}"))
            })?;
        if number != id.number {
            return Err(PdfError::Structure(format!(
                "object stream {stream} entry {index} holds {number}, not {id}"
            )));
        }
        let at = object_stream
            .first
            .checked_add(offset)
            .filter(|&a| a < object_stream.data.len());
        let at = at.ok_or_else(|| {
            PdfError::Structure(format!(
                "object stream {stream} entry {index} is out of range"
            ))
        })?;
        Lexer::new(&object_stream.data, at).object()
    }

    fn object_stream(&self, number: u32) -> Result<std::rc::Rc<ObjectStream>, PdfError> {
        if let Some(cached) = self.object_streams.borrow().get(&number) {
            return Ok(cached.clone());
        }
        if self.loading.borrow().contains(&number)
            || self.loading.borrow().len() >= MAX_REFERENCE_HOPS
        {
            return Err(PdfError::Structure(format!(
                "object stream {number} needs itself to be read"
            )));
        }
        self.loading.borrow_mut().push(number);
        let loaded = self.load_object_stream(number);
        self.loading.borrow_mut().retain(|&n| n != number);
        let parsed = std::rc::Rc::new(loaded?);
        self.object_streams
            .borrow_mut()
            .insert(number, parsed.clone());
        Ok(parsed)
    }

    fn load_object_stream(&self, number: u32) -> Result<ObjectStream, PdfError> {
        let id = ObjectId::new(number, 0);
        let (dictionary, raw) = match self.xref.lookup(self.bytes, number) {
            Some(XrefEntry::InFile {
                offset,
                generation: 0,
            }) => match self.object_at(id, offset)? {
                IndirectValue::Stream(dictionary, raw) => (dictionary, raw),
                IndirectValue::Object(_) => {
                    return Err(PdfError::Structure(format!(
                        "object stream {id} is not a stream"
                    )));
                }
            },
            _ => {
                return Err(PdfError::Structure(format!(
                    "object stream {id} is missing"
                )));
            }
        };
        let budget = self.object_stream_budget.get();
        let data = decode_stream(&dictionary, raw, self.limits.max_decoded_stream.min(budget))
            .map_err(|error| {
                if budget < self.limits.max_decoded_stream {
                    PdfError::Stream(format!(
                        "{error} (the file's object streams may decode to {} bytes in all)",
                        self.limits.max_decoded_object_streams
                    ))
                } else {
                    error
                }
            })?;
        self.object_stream_budget
            .set(budget.saturating_sub(data.len()));
        parse_object_stream(&dictionary, data)
            .ok_or_else(|| PdfError::Structure(format!("object stream {id} has a bad header")))
    }

    /// Checks every in-file entry points at its object: a table that needs rebuilding is refused.
    fn check_offsets(&mut self) -> Result<(), PdfError> {
        let bytes = self.bytes;
        let highest = self.xref.check_in_file_entries(
            bytes,
            self.limits.max_objects,
            |number, offset, generation| {
                let id = ObjectId::new(number, generation);
                match Lexer::new(bytes, offset).object_header() {
                    Ok(found) if found == id => Ok(()),
                    _ => Err(misplaced(id, offset)),
                }
            },
        )?;
        let size = self.trailer().integer(b"Size");
        match size.and_then(|n| u32::try_from(n).ok()) {
            Some(size) if size <= MAX_OBJECT_NUMBER + 1 => {
                // A /Size below the highest number in use would make new objects replace old ones.
                self.next_free = size.max(highest.saturating_add(1)).max(1);
                Ok(())
            }
            _ => Err(PdfError::Structure(format!(
                "the trailer's /Size ({}) is missing or over PDF's limit of {MAX_OBJECT_NUMBER} objects",
                size.map_or("none".into(), |n| n.to_string())
            ))),
        }
    }
}

/// What copying `value` costs: one per object in it, plus the bytes of its strings, names and
/// keys (a stream's data is borrowed from the file, not copied).
fn copy_cost(value: &IndirectValue<'_>) -> usize {
    let mut stack: Vec<&Object> = Vec::new();
    let mut cost = match value {
        IndirectValue::Object(object) => {
            stack.push(object);
            0
        }
        IndirectValue::Stream(dictionary, _) => dictionary_cost(dictionary, &mut stack),
    };
    while let Some(object) = stack.pop() {
        let own = match object {
            Object::Name(bytes) | Object::String(bytes, _) => bytes.len(),
            Object::Array(items) => {
                stack.extend(items);
                0
            }
            Object::Dictionary(dictionary) => dictionary_cost(dictionary, &mut stack),
            _ => 0,
        };
        cost = cost.saturating_add(own).saturating_add(1);
    }
    cost
}

/// The bytes of the keys of `dictionary`; its values go on `stack`.
fn dictionary_cost<'o>(dictionary: &'o Dictionary, stack: &mut Vec<&'o Object>) -> usize {
    dictionary
        .iter()
        .map(|(key, value)| {
            stack.push(value);
            key.len()
        })
        .sum()
}

fn misplaced(id: ObjectId, offset: usize) -> PdfError {
    PdfError::DamagedXref(format!(
        "object {id} is not at byte {offset} where the cross-reference data puts it"
    ))
}

/// `%PDF-1.x` or `%PDF-2.0` at byte 0 (ISO 32000-2 §7.5.2). Leading junk would shift offsets.
fn check_header(bytes: &[u8]) -> Result<(), PdfError> {
    if bytes.starts_with(b"%PDF-") {
        return Ok(());
    }
    let within = bytes.get(..1024).unwrap_or(bytes);
    match within.windows(5).position(|w| w == b"%PDF-") {
        Some(at) => Err(PdfError::JunkBeforeHeader(at)),
        None => Err(PdfError::NotPdf),
    }
}

/// The `[x1 y1 x2 y2]` rectangle in `object`, normalised so x1 ≤ x2 and y1 ≤ y2.
pub fn rectangle(object: &Object) -> Option<[f64; 4]> {
    let items = object.as_array()?;
    let mut values = [0.0; 4];
    for (value, item) in values.iter_mut().zip(items.iter()) {
        *value = item.as_number()?;
    }
    (items.len() == 4).then_some([
        values[0].min(values[2]),
        values[1].min(values[3]),
        values[0].max(values[2]),
        values[1].max(values[3]),
    ])
}

/// The raw bytes of a stream whose data begins after the `stream` keyword at `after_keyword`.
pub(crate) fn stream_data(
    bytes: &[u8],
    after_keyword: usize,
    length: usize,
) -> Result<&[u8], PdfError> {
    // §7.3.8.1: the keyword is followed by CRLF or LF (a lone CR is tolerated).
    let mut start = after_keyword;
    if bytes.get(start) == Some(&b'\r') {
        start += 1;
    }
    if bytes.get(start) == Some(&b'\n') {
        start += 1;
    }
    let end = start.checked_add(length).filter(|&e| e <= bytes.len());
    let end = end.ok_or(PdfError::Syntax {
        offset: start,
        what: "stream runs past the end of the file".into(),
    })?;
    let mut lexer = Lexer::new(bytes, end);
    lexer
        .expect_keyword(b"endstream")
        .map_err(|_| PdfError::Syntax {
            offset: end,
            what: "stream /Length does not end at 'endstream'".into(),
        })?;
    bytes.get(start..end).ok_or(PdfError::Syntax {
        offset: start,
        what: "stream out of range".into(),
    })
}

/// Decodes a stream's filters with lopdf, refusing output over `limit` bytes.
pub(crate) fn decode_stream(
    dictionary: &Dictionary,
    raw: &[u8],
    limit: usize,
) -> Result<Vec<u8>, PdfError> {
    let mut filter_dictionary = lopdf::Dictionary::new();
    for key in [&b"Filter"[..], b"DecodeParms"] {
        if let Some(value) = dictionary.get(key) {
            filter_dictionary.set(key, to_lopdf(value));
        }
    }
    let stream = lopdf::Stream::new(filter_dictionary, raw.to_vec());
    stream
        .decompressed_content_with_limit(limit)
        .map_err(|e| PdfError::Stream(e.to_string()))
}

/// Converts the few direct objects filter parameters use.
fn to_lopdf(object: &Object) -> lopdf::Object {
    match object {
        Object::Null | Object::Reference(_) => lopdf::Object::Null,
        Object::Boolean(b) => lopdf::Object::Boolean(*b),
        Object::Integer(n) => lopdf::Object::Integer(*n),
        Object::Real(r) => lopdf::Object::Real(r.value() as f32),
        Object::Name(name) => lopdf::Object::Name(name.clone()),
        Object::String(bytes, _) => {
            lopdf::Object::String(bytes.clone(), lopdf::StringFormat::Literal)
        }
        Object::Array(items) => lopdf::Object::Array(items.iter().map(to_lopdf).collect()),
        Object::Dictionary(dictionary) => {
            let mut converted = lopdf::Dictionary::new();
            for (key, value) in dictionary.iter() {
                converted.set(key.clone(), to_lopdf(value));
            }
            lopdf::Object::Dictionary(converted)
        }
    }
}

fn parse_object_stream(dictionary: &Dictionary, data: Vec<u8>) -> Option<ObjectStream> {
    let count = usize::try_from(dictionary.integer(b"N")?).ok()?;
    let first = usize::try_from(dictionary.integer(b"First")?).ok()?;
    if count > data.len() {
        return None;
    }
    let mut lexer = Lexer::new(&data, 0);
    let mut offsets = Vec::with_capacity(count);
    for _ in 0..count {
        let number = u32::try_from(lexer.unsigned().ok()?).ok()?;
        let offset = usize::try_from(lexer.unsigned().ok()?).ok()?;
        offsets.push((number, offset));
    }
    Some(ObjectStream {
        data,
        first,
        offsets,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::pdf::testing::{
        ONE_PAGE_OBJECTS, classic_pdf, object_stream_pdf, one_page, with_update, xref_stream_pdf,
    };

    fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = bytes.windows(from.len()).rposition(|w| w == from).unwrap();
        [&bytes[..at], to, &bytes[at + from.len()..]].concat()
    }

    #[test]
    fn opens_a_classic_file_and_finds_its_page() {
        let bytes = one_page();
        let file = PdfFile::open(&bytes, Limits::default()).unwrap();
        let page = file.page(1).unwrap();
        assert_eq!(page.id, ObjectId::new(3, 0));
        assert_eq!(page.media_box, [0.0, 0.0, 595.276, 841.89]);
        assert_eq!(file.page(2).unwrap_err(), PdfError::NoSuchPage(2));
    }

    #[test]
    fn refuses_what_cannot_be_appended_to() {
        let bytes = one_page();
        let limits = Limits::default();
        let junk = [b"xx".as_slice(), &bytes].concat();
        assert_eq!(
            PdfFile::open(&junk, limits).err(),
            Some(PdfError::JunkBeforeHeader(2))
        );
        assert!(matches!(
            PdfFile::open(&bytes[..bytes.len() / 2], limits).err(),
            Some(PdfError::DamagedXref(_))
        ));
        let small = Limits {
            max_input_bytes: 10,
            ..limits
        };
        assert!(matches!(
            PdfFile::open(&bytes, small).err(),
            Some(PdfError::TooLarge { .. })
        ));
        let encrypted = replace(&bytes, b"/Root 1 0 R >>", b"/Root 1 0 R /Encrypt 9 0 R >>");
        assert_eq!(
            PdfFile::open(&encrypted, limits).err(),
            Some(PdfError::Encrypted)
        );
    }

    #[test]
    fn refuses_an_xref_entry_that_misses_its_object() {
        let bytes = one_page();
        // Point object 2's entry one byte too far.
        let at = bytes.windows(4).position(|w| w == b"obj\n").unwrap();
        let second = bytes.windows(7).position(|w| w == b"2 0 obj").unwrap();
        assert!(second > at);
        let entry = format!("{second:010} 00000 n");
        let wrong = format!("{:010} 00000 n", second + 1);
        let bytes = replace(&bytes, entry.as_bytes(), wrong.as_bytes());
        let error = PdfFile::open(&bytes, Limits::default()).err().unwrap();
        assert!(
            error.to_string().contains("object 2 0 R is not at byte"),
            "{error}"
        );
    }

    #[test]
    fn reads_indirect_stream_lengths_and_reference_loops_end() {
        let bytes = classic_pdf(&[
            "<< /Type /Catalog /Pages 2 0 R /Loop 3 0 R >>",
            "<< /Length 5 0 R >>\nstream\nabcde\nendstream",
            "4 0 R",
            "3 0 R",
            "5",
        ]);
        let file = PdfFile::open(&bytes, Limits::default()).unwrap();
        match file.object(ObjectId::new(2, 0)).unwrap() {
            IndirectValue::Stream(_, data) => assert_eq!(data, b"abcde"),
            other => panic!("not a stream: {other:?}"),
        }
        assert!(
            file.resolve(&Object::Reference(ObjectId::new(3, 0)))
                .is_err()
        );
    }

    fn numbers(ids: &[ObjectId]) -> Vec<u32> {
        ids.iter().map(|id| id.number).collect()
    }

    #[test]
    fn lists_the_objects_in_use_after_updates() {
        let mut objects = ONE_PAGE_OBJECTS.to_vec();
        objects.push("<< /Old true >>");
        let base = classic_pdf(&objects);
        let updated = with_update(
            &base,
            &[(6, "<< /New true >>"), (3, "<< /Type /Page >>")],
            &[5],
        );
        let file = PdfFile::open(&updated, Limits::default()).unwrap();
        assert_eq!(numbers(&file.object_ids()), [1, 2, 3, 4, 6]);
        let rewritten = file.object(ObjectId::new(3, 0)).unwrap();
        assert_eq!(
            rewritten,
            IndirectValue::Object(Object::Dictionary({
                let mut page = Dictionary::new();
                page.set(b"Type", Object::name(b"Page"));
                page
            }))
        );
    }

    #[test]
    fn lists_and_reads_objects_inside_object_streams() {
        let mut objects = ONE_PAGE_OBJECTS.to_vec();
        objects.push("<< /Packed 42 >>");
        let bytes = object_stream_pdf(&objects, &[2, 5]);
        let file = PdfFile::open(&bytes, Limits::default()).unwrap();
        // 6 is the object stream, 7 the cross-reference stream.
        assert_eq!(numbers(&file.object_ids()), [1, 2, 3, 4, 5, 6, 7]);
        match file.object(ObjectId::new(5, 0)).unwrap() {
            IndirectValue::Object(Object::Dictionary(packed)) => {
                assert_eq!(packed.integer(b"Packed"), Some(42));
            }
            other => panic!("not the packed dictionary: {other:?}"),
        }
        assert_eq!(file.page_ids(10).unwrap(), [ObjectId::new(3, 0)]);
    }

    #[test]
    fn object_streams_share_one_decoding_budget() {
        let mut objects = ONE_PAGE_OBJECTS.to_vec();
        objects.push("<< /Packed 42 >>");
        let bytes = object_stream_pdf(&objects, &[2, 5]);
        let limits = Limits {
            max_decoded_object_streams: 8,
            ..Limits::default()
        };
        let file = PdfFile::open(&bytes, limits).unwrap();
        let error = file.object(ObjectId::new(5, 0)).unwrap_err();
        assert!(error.to_string().contains("8 bytes in all"), "{error}");
    }

    #[test]
    fn copies_of_parsed_objects_share_one_budget() {
        let mut objects = ONE_PAGE_OBJECTS.to_vec();
        objects.push("<< /Pad [0 0 0 0 0 0 0 0 0] /S (abc) >>");
        let bytes = classic_pdf(&objects);
        let limits = Limits {
            max_repeated_copies: 0,
            ..Limits::default()
        };
        let file = PdfFile::open(&bytes, limits).unwrap();
        let padded = file.object(ObjectId::new(5, 0)).unwrap();
        // 12 objects (the dictionary, the array and its 9 numbers, the string), the 4 bytes of
        // the keys and the 3 of the string.
        assert_eq!(copy_cost(&padded), 19);
        // The first read parsed it; each later one is charged, out of one unit per file byte.
        let reads = (0..1000)
            .take_while(|_| file.object(ObjectId::new(5, 0)).is_ok())
            .count();
        assert_eq!(reads, bytes.len() / 19);
        let error = file.object(ObjectId::new(5, 0)).unwrap_err();
        assert!(error.to_string().contains("read too often"), "{error}");
    }

    #[test]
    fn empty_ranges_of_an_xref_stream_index_are_skipped() {
        let bytes = xref_stream_pdf(&ONE_PAGE_OBJECTS);
        let bytes = replace(&bytes, b"/W [1 2 1]", b"/Index [9 0 0 6 3 0] /W [1 2 1]");
        let file = PdfFile::open(&bytes, Limits::default()).unwrap();
        assert_eq!(numbers(&file.object_ids()), [1, 2, 3, 4, 5]);
        assert_eq!(file.page(1).unwrap().id, ObjectId::new(3, 0));
    }
}
