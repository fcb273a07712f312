//! A bounded reader of PDF tokens and direct objects (ISO 32000-2 §7.2, §7.3).
//!
//! lopdf parses only whole documents; signing needs a handful of objects out of files with
//! thousands, so this reads one object at a given offset and nothing else.

use super::PdfError;
use super::object::{Dictionary, Object, ObjectId, Real, StringForm};

/// How deep arrays and dictionaries may nest before the input is refused.
const MAX_NESTING: usize = 64;
/// Longest string, name or number token accepted, in bytes.
const MAX_TOKEN: usize = 4 << 20;

/// A cursor over the file's bytes.
pub(crate) struct Lexer<'a> {
    bytes: &'a [u8],
    pub(crate) position: usize,
}

pub(crate) fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b'\0' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

fn is_delimiter(byte: u8) -> bool {
    matches!(
        byte,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(byte: u8) -> bool {
    !is_whitespace(byte) && !is_delimiter(byte)
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(bytes: &'a [u8], position: usize) -> Self {
        Self { bytes, position }
    }

    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn error(&self, what: &str) -> PdfError {
        PdfError::Syntax {
            offset: self.position,
            what: what.to_string(),
        }
    }

    /// Skips white space and comments (ISO 32000-2 §7.2.3, §7.2.4).
    pub(crate) fn skip_whitespace(&mut self) {
        while let Some(byte) = self.peek() {
            if is_whitespace(byte) {
                self.position += 1;
            } else if byte == b'%' {
                while let Some(byte) = self.peek() {
                    if byte == b'\n' || byte == b'\r' {
                        break;
                    }
                    self.position += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Reads a run of regular characters: a keyword or a number.
    pub(crate) fn word(&mut self) -> &'a [u8] {
        let start = self.position;
        while self.peek().is_some_and(is_regular) {
            self.position += 1;
        }
        self.bytes.get(start..self.position).unwrap_or_default()
    }

    /// Consumes `keyword` after optional white space, or fails naming it.
    pub(crate) fn expect_keyword(&mut self, keyword: &[u8]) -> Result<(), PdfError> {
        self.skip_whitespace();
        let start = self.position;
        if self.word() == keyword {
            Ok(())
        } else {
            self.position = start;
            Err(self.error(&format!("expected '{}'", String::from_utf8_lossy(keyword))))
        }
    }

    /// Reads an unsigned integer such as an object number or an offset.
    pub(crate) fn unsigned(&mut self) -> Result<u64, PdfError> {
        self.skip_whitespace();
        let start = self.position;
        let word = self.word();
        if word.is_empty() || word.len() > 19 || !word.iter().all(u8::is_ascii_digit) {
            self.position = start;
            return Err(self.error("expected a non-negative integer"));
        }
        Ok(word.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
    }

    /// Reads the `N G obj` header of an indirect object (ISO 32000-2 §7.3.10).
    pub(crate) fn object_header(&mut self) -> Result<ObjectId, PdfError> {
        let number = self.unsigned()?;
        let generation = self.unsigned()?;
        self.expect_keyword(b"obj")?;
        match (u32::try_from(number), u16::try_from(generation)) {
            (Ok(number), Ok(generation)) => Ok(ObjectId::new(number, generation)),
            _ => Err(self.error("object number out of range")),
        }
    }

    /// Reads one direct object.
    pub(crate) fn object(&mut self) -> Result<Object, PdfError> {
        self.object_at_depth(0)
    }

    fn object_at_depth(&mut self, depth: usize) -> Result<Object, PdfError> {
        if depth > MAX_NESTING {
            return Err(self.error("arrays or dictionaries nested too deeply"));
        }
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error("unexpected end of file")),
            Some(b'/') => Ok(Object::Name(self.name()?)),
            Some(b'(') => Ok(Object::String(self.literal_string()?, StringForm::Literal)),
            Some(b'[') => self.array(depth),
            Some(b'<') if self.bytes.get(self.position + 1) == Some(&b'<') => {
                Ok(Object::Dictionary(self.dictionary(depth)?))
            }
            Some(b'<') => Ok(Object::String(self.hex_string()?, StringForm::Hexadecimal)),
            Some(byte) if is_regular(byte) => self.number_or_keyword(),
            Some(_) => Err(self.error("unexpected delimiter")),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Object, PdfError> {
        self.position += 1;
        let mut items = Vec::new();
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b']') => {
                    self.position += 1;
                    return Ok(Object::Array(items));
                }
                None => return Err(self.error("unterminated array")),
                Some(_) => items.push(self.object_at_depth(depth + 1)?),
            }
        }
    }

    /// Reads `<< /Key value … >>` (ISO 32000-2 §7.3.7).
    pub(crate) fn dictionary_at_top(&mut self) -> Result<Dictionary, PdfError> {
        self.skip_whitespace();
        if self.bytes.get(self.position..self.position + 2) != Some(b"<<") {
            return Err(self.error("expected a dictionary"));
        }
        self.dictionary(0)
    }

    fn dictionary(&mut self, depth: usize) -> Result<Dictionary, PdfError> {
        self.position += 2;
        let mut dictionary = Dictionary::new();
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b'>') if self.bytes.get(self.position + 1) == Some(&b'>') => {
                    self.position += 2;
                    return Ok(dictionary);
                }
                Some(b'/') => {
                    let key = self.name()?;
                    let value = self.object_at_depth(depth + 1)?;
                    // ISO 32000-2 §7.3.7: a null value is the same as an absent entry.
                    if value != Object::Null {
                        dictionary.insert_raw(key, value);
                    }
                }
                None => return Err(self.error("unterminated dictionary")),
                Some(_) => return Err(self.error("dictionary key is not a name")),
            }
        }
    }

    /// Reads `/Name` with `#xx` escapes (ISO 32000-2 §7.3.5).
    fn name(&mut self) -> Result<Vec<u8>, PdfError> {
        self.position += 1;
        let raw = self.word();
        if raw.len() > MAX_TOKEN {
            return Err(self.error("name too long"));
        }
        let mut name = Vec::with_capacity(raw.len());
        let mut index = 0;
        while let Some(&byte) = raw.get(index) {
            if byte == b'#' {
                let hex = raw
                    .get(index + 1..index + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(decoded) => {
                        name.push(decoded);
                        index += 3;
                        continue;
                    }
                    None => return Err(self.error("bad #xx escape in name")),
                }
            }
            name.push(byte);
            index += 1;
        }
        Ok(name)
    }

    fn number_or_keyword(&mut self) -> Result<Object, PdfError> {
        let start = self.position;
        let word = self.word();
        match word {
            b"true" => return Ok(Object::Boolean(true)),
            b"false" => return Ok(Object::Boolean(false)),
            b"null" => return Ok(Object::Null),
            _ => {}
        }
        let text = std::str::from_utf8(word).map_err(|_| self.error("unknown token"))?;
        if word.len() > 64 {
            self.position = start;
            return Err(self.error("number too long"));
        }
        if let Ok(integer) = text.parse::<i64>() {
            return Ok(self
                .reference_after(integer)
                .unwrap_or(Object::Integer(integer)));
        }
        if is_real(text) {
            return Ok(Object::Real(Real::from_source(normalise_real(text))));
        }
        self.position = start;
        Err(self.error(&format!(
            "unknown token '{}'",
            text.chars().take(20).collect::<String>()
        )))
    }

    /// After an integer, tries `G R` to make a reference; leaves the cursor alone if it is not one.
    fn reference_after(&mut self, number: i64) -> Option<Object> {
        let saved = self.position;
        let attempt = (|| {
            let number = u32::try_from(number).ok()?;
            self.skip_whitespace();
            let generation = self.word();
            if generation.is_empty() || !generation.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let generation: u16 = std::str::from_utf8(generation).ok()?.parse().ok()?;
            self.skip_whitespace();
            (self.word() == b"R").then_some(Object::Reference(ObjectId::new(number, generation)))
        })();
        if attempt.is_none() {
            self.position = saved;
        }
        attempt
    }

    /// Reads `( … )` with balanced parentheses and escapes (ISO 32000-2 §7.3.4.2).
    fn literal_string(&mut self) -> Result<Vec<u8>, PdfError> {
        self.position += 1;
        let mut out = Vec::new();
        let mut open = 1usize;
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.error("unterminated string"));
            };
            self.position += 1;
            match byte {
                b'(' => open += 1,
                b')' => {
                    open -= 1;
                    if open == 0 {
                        return Ok(out);
                    }
                }
                b'\\' => {
                    self.escape(&mut out)?;
                    continue;
                }
                b'\r' => {
                    // An end-of-line in a string is read as a single line feed.
                    if self.peek() == Some(b'\n') {
                        self.position += 1;
                    }
                    out.push(b'\n');
                    continue;
                }
                _ => {}
            }
            out.push(byte);
            if out.len() > MAX_TOKEN {
                return Err(self.error("string too long"));
            }
        }
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), PdfError> {
        let Some(byte) = self.peek() else {
            return Err(self.error("unterminated string"));
        };
        self.position += 1;
        match byte {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'\r' => {
                if self.peek() == Some(b'\n') {
                    self.position += 1;
                }
            }
            b'\n' => {}
            b'0'..=b'7' => {
                let mut value = u32::from(byte - b'0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(digit @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(digit - b'0');
                            self.position += 1;
                        }
                        _ => break,
                    }
                }
                out.push((value & 0xff) as u8);
            }
            other => out.push(other),
        }
        Ok(())
    }

    /// Reads `< hex digits >`; white space is ignored and an odd final digit means a trailing 0.
    fn hex_string(&mut self) -> Result<Vec<u8>, PdfError> {
        self.position += 1;
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.error("unterminated hex string"));
            };
            self.position += 1;
            let nibble = match byte {
                b'>' => break,
                b'0'..=b'9' => byte - b'0',
                b'a'..=b'f' => byte - b'a' + 10,
                b'A'..=b'F' => byte - b'A' + 10,
                _ if is_whitespace(byte) => continue,
                _ => return Err(self.error("bad character in hex string")),
            };
            match high.take() {
                Some(h) => out.push(h << 4 | nibble),
                None => high = Some(nibble),
            }
            if out.len() > MAX_TOKEN {
                return Err(self.error("string too long"));
            }
        }
        if let Some(h) = high {
            out.push(h << 4);
        }
        Ok(out)
    }
}

fn is_real(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let mut dots = 0;
    let mut any_digit = false;
    for c in digits.chars() {
        match c {
            '.' => dots += 1,
            '0'..='9' => any_digit = true,
            _ => return false,
        }
    }
    dots <= 1 && any_digit
}

/// Keeps a real as written, but in a form every reader accepts (`.5` → `0.5`, `+1.` → `1.`).
fn normalise_real(text: &str) -> String {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.strip_prefix('+').unwrap_or(text)),
    };
    let digits = if digits.starts_with('.') {
        format!("0{digits}")
    } else {
        digits.to_string()
    };
    format!("{sign}{digits}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Object {
        Lexer::new(text.as_bytes(), 0).object().unwrap()
    }

    #[test]
    fn reads_references_numbers_and_names() {
        let object =
            parse("<< /A 1 0 R /B [1 -2 3.50 .5] /C#20D (x\\(y\\)\\101) /E <41 4> /F null >>");
        let dict = object.as_dictionary().unwrap();
        assert_eq!(dict.reference(b"A"), Some(ObjectId::new(1, 0)));
        let items = dict.get(b"B").unwrap().as_array().unwrap();
        assert_eq!(items[1], Object::Integer(-2));
        assert_eq!(items[2], Object::Real(Real::from_source("3.50".into())));
        assert_eq!(items[3], Object::Real(Real::from_source("0.5".into())));
        assert_eq!(
            dict.get(b"C D"),
            Some(&Object::String(b"x(y)A".to_vec(), StringForm::Literal))
        );
        assert_eq!(
            dict.get(b"E"),
            Some(&Object::String(vec![0x41, 0x40], StringForm::Hexadecimal))
        );
        assert!(dict.get(b"F").is_none());
    }

    #[test]
    fn integer_followed_by_integer_is_not_a_reference() {
        assert_eq!(parse("[1 2]").as_array().unwrap().len(), 2);
        assert_eq!(parse("[1 2 R]").as_array().unwrap().len(), 1);
    }

    #[test]
    fn refuses_deep_nesting_and_garbage() {
        let deep = "[".repeat(200);
        assert!(Lexer::new(deep.as_bytes(), 0).object().is_err());
        assert!(Lexer::new(b"<< /A ", 0).object().is_err());
        assert!(Lexer::new(b"(unterminated", 0).object().is_err());
        assert!(Lexer::new(b"<< 1 2 >>", 0).object().is_err());
        assert!(Lexer::new(b"@@@", 0).object().is_err());
    }
}
