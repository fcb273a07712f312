//! The PDF object model (ISO 32000-2 §7.3), kept faithful enough to write back what was read.

use std::collections::BTreeMap;

/// An indirect object's number and generation (ISO 32000-2 §7.3.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId {
    pub number: u32,
    pub generation: u16,
}

impl ObjectId {
    pub const fn new(number: u32, generation: u16) -> Self {
        Self { number, generation }
    }
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} R", self.number, self.generation)
    }
}

/// How a string was written; both mean the same bytes, but we keep the form to stay close to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringForm {
    Literal,
    Hexadecimal,
}

/// A direct PDF object. Reals keep their source text so re-writing a copied dictionary cannot
/// change a number through rounding (a validator diffing revisions would see a modification).
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    Null,
    Boolean(bool),
    Integer(i64),
    Real(Real),
    Name(Vec<u8>),
    String(Vec<u8>, StringForm),
    Array(Vec<Object>),
    Dictionary(Dictionary),
    Reference(ObjectId),
}

/// A real number as written in the file (or as we format it), e.g. `595.276`.
#[derive(Clone, Debug, PartialEq)]
pub struct Real(String);

impl Real {
    /// Formats a value with at most four decimals, trailing zeros dropped (ISO 32000-2 §7.3.3).
    pub fn from_f64(value: f64) -> Self {
        // Integer arithmetic for the usual range: float formatting with a fixed precision takes
        // the slow exact path, and content streams format thousands of coordinates.
        let scaled = (value * 10_000.0).round();
        if scaled.is_finite() && scaled.abs() < 1e15 {
            let scaled = scaled as i64;
            let (whole, mut fraction) = (scaled.abs() / 10_000, scaled.abs() % 10_000);
            let sign = if scaled < 0 { "-" } else { "" };
            if fraction == 0 {
                return Self(format!("{sign}{whole}"));
            }
            let mut digits = 4;
            while fraction % 10 == 0 {
                fraction /= 10;
                digits -= 1;
            }
            return Self(format!("{sign}{whole}.{fraction:0digits$}"));
        }
        let mut text = format!("{value:.4}");
        if text.contains('.') {
            while text.ends_with('0') {
                text.pop();
            }
            if text.ends_with('.') {
                text.pop();
            }
        }
        if text == "-0" {
            text = "0".into();
        }
        Self(text)
    }

    pub(crate) fn from_source(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn value(&self) -> f64 {
        self.0.parse().unwrap_or(0.0)
    }
}

/// A dictionary; keys are names without the slash, in a stable order for reproducible output.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dictionary(BTreeMap<Vec<u8>, Object>);

impl Dictionary {
    pub fn new() -> Self {
        Self(BTreeMap::new())
    }

    pub fn get(&self, key: &[u8]) -> Option<&Object> {
        self.0.get(key)
    }

    pub fn set(&mut self, key: &[u8], value: impl Into<Object>) {
        self.0.insert(key.to_vec(), value.into());
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Object> {
        self.0.remove(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Vec<u8>, &Object)> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The name stored under `key`, if that entry is a name.
    pub fn name(&self, key: &[u8]) -> Option<&[u8]> {
        match self.0.get(key) {
            Some(Object::Name(name)) => Some(name),
            _ => None,
        }
    }

    /// The integer stored under `key`, if that entry is an integer.
    pub fn integer(&self, key: &[u8]) -> Option<i64> {
        match self.0.get(key) {
            Some(Object::Integer(value)) => Some(*value),
            _ => None,
        }
    }

    /// The reference stored under `key`, if that entry is one.
    pub fn reference(&self, key: &[u8]) -> Option<ObjectId> {
        match self.0.get(key) {
            Some(Object::Reference(id)) => Some(*id),
            _ => None,
        }
    }

    pub(crate) fn insert_raw(&mut self, key: Vec<u8>, value: Object) {
        self.0.insert(key, value);
    }
}

impl Object {
    pub fn name(name: &[u8]) -> Self {
        Self::Name(name.to_vec())
    }

    /// A text string (ISO 32000-2 §7.9.2.2): PDFDocEncoding-safe ASCII as is, else UTF-16BE with BOM.
    pub fn text(text: &str) -> Self {
        if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            Self::String(text.as_bytes().to_vec(), StringForm::Literal)
        } else {
            let mut bytes = vec![0xfe, 0xff];
            for unit in text.encode_utf16() {
                bytes.extend_from_slice(&unit.to_be_bytes());
            }
            Self::String(bytes, StringForm::Hexadecimal)
        }
    }

    pub fn as_dictionary(&self) -> Option<&Dictionary> {
        match self {
            Self::Dictionary(dictionary) => Some(dictionary),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Object>> {
        match self {
            Self::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Self::Integer(value) => Some(*value),
            _ => None,
        }
    }

    /// A number of either kind, as f64.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Self::Integer(value) => Some(*value as f64),
            Self::Real(real) => Some(real.value()),
            _ => None,
        }
    }
}

impl From<i64> for Object {
    fn from(value: i64) -> Self {
        Self::Integer(value)
    }
}

impl From<bool> for Object {
    fn from(value: bool) -> Self {
        Self::Boolean(value)
    }
}

impl From<f64> for Object {
    fn from(value: f64) -> Self {
        Self::Real(Real::from_f64(value))
    }
}

impl From<ObjectId> for Object {
    fn from(id: ObjectId) -> Self {
        Self::Reference(id)
    }
}

impl From<Dictionary> for Object {
    fn from(dictionary: Dictionary) -> Self {
        Self::Dictionary(dictionary)
    }
}

impl From<Vec<Object>> for Object {
    fn from(items: Vec<Object>) -> Self {
        Self::Array(items)
    }
}

/// Decodes a text string (ISO 32000-2 §7.9.2.2): UTF-16BE or UTF-8 with their marks, else
/// PDFDocEncoding, read here as Latin-1 (they agree on the printable range names use).
pub fn decode_text(bytes: &[u8]) -> String {
    if let Some(utf16) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .filter_map(|p| Some(u16::from_be_bytes(p.try_into().ok()?)))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(utf8) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        return String::from_utf8_lossy(utf8).into_owned();
    }
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// What an indirect object holds: a direct object, or a stream (dictionary plus raw bytes).
#[derive(Clone, Debug, PartialEq)]
pub enum IndirectValue<'a> {
    Object(Object),
    Stream(Dictionary, &'a [u8]),
}

#[cfg(test)]
mod tests {
    use super::Real;

    #[test]
    fn reals_have_at_most_four_decimals_and_no_trailing_zeros() {
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (-0.00001, "0"),
            (595.276, "595.276"),
            (12.5, "12.5"),
            (-3.25, "-3.25"),
            (0.123456, "0.1235"),
            (1.00004, "1"),
            (0.05, "0.05"),
            (-0.0007, "-0.0007"),
            (100.0, "100"),
            (2e15, "2000000000000000"),
        ];
        for (value, text) in cases {
            assert_eq!(Real::from_f64(value).as_str(), text, "{value}");
        }
    }
}
