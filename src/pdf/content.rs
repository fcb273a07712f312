//! A content stream's lexical and nesting structure (ISO 32000-2 §7.8.2, §8.4.2, §9.4): enough
//! to know that content appended after it starts from a clean state.
//!
//! Readers lex a page's content streams as one: an unterminated string or array in a blank, or
//! an extra `Q`, would swallow or abort whatever is drawn after it.

/// The deepest `q` nesting accepted (ISO 32000-1 Annex C gives 28 as an implementation limit).
pub const MAX_SAVED_STATES: u32 = 28;

/// What a well-formed content stream leaves behind: graphics states it saved and never restored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentEnd {
    pub open_states: u32,
}

/// Checks `content` (all of a page's streams, decoded and joined with whitespace).
pub fn check_content(content: &[u8]) -> Result<ContentEnd, String> {
    let mut scanner = Scanner {
        bytes: content,
        at: 0,
    };
    let mut states: u32 = 0;
    let mut in_text = false;
    let mut nesting: Vec<u8> = Vec::new();
    while let Some(token) = scanner.next_token()? {
        match token {
            Token::Open(kind) => nesting.push(kind),
            Token::Close(kind) => {
                if nesting.pop() != Some(kind) {
                    return Err(scanner.error("a closing ']' or '>>' without its opening"));
                }
            }
            Token::Operator(name) => {
                if !nesting.is_empty() && !matches!(name, b"true" | b"false" | b"null") {
                    return Err(scanner.error("an operator inside an array or dictionary"));
                }
                match name {
                    b"q" => {
                        states += 1;
                        if states > MAX_SAVED_STATES {
                            return Err(scanner.error("more than 28 nested 'q'"));
                        }
                    }
                    b"Q" => {
                        states = states.checked_sub(1).ok_or_else(|| {
                            scanner.error("a 'Q' restores a graphics state that was never saved")
                        })?;
                    }
                    b"BT" if in_text => return Err(scanner.error("'BT' inside a text object")),
                    b"BT" => in_text = true,
                    b"ET" if !in_text => return Err(scanner.error("'ET' without 'BT'")),
                    b"ET" => in_text = false,
                    b"BI" => scanner.skip_inline_image()?,
                    _ => {}
                }
            }
        }
    }
    if !nesting.is_empty() {
        return Err("the content ends inside an array or dictionary".into());
    }
    if in_text {
        return Err("the content ends inside a text object (BT without ET)".into());
    }
    Ok(ContentEnd {
        open_states: states,
    })
}

enum Token<'a> {
    Open(u8),
    Close(u8),
    Operator(&'a [u8]),
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
}

fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn is_delimiter(byte: u8) -> bool {
    b"()<>[]{}/%".contains(&byte)
}

impl<'a> Scanner<'a> {
    fn error(&self, what: &str) -> String {
        format!("{what} (at byte {} of the page content)", self.at)
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.at + ahead).copied()
    }

    /// The next structural token; operands other than arrays and dictionaries are skipped.
    fn next_token(&mut self) -> Result<Option<Token<'a>>, String> {
        loop {
            let Some(byte) = self.peek(0) else {
                return Ok(None);
            };
            match byte {
                b if is_whitespace(b) => self.at += 1,
                b'%' => self.skip_while(|b| b != b'\n' && b != b'\r'),
                b'(' => self.skip_literal_string()?,
                b'<' if self.peek(1) == Some(b'<') => {
                    self.at += 2;
                    return Ok(Some(Token::Open(b'<')));
                }
                b'<' => self.skip_hex_string()?,
                b'>' if self.peek(1) == Some(b'>') => {
                    self.at += 2;
                    return Ok(Some(Token::Close(b'<')));
                }
                b'[' => {
                    self.at += 1;
                    return Ok(Some(Token::Open(b'[')));
                }
                b']' => {
                    self.at += 1;
                    return Ok(Some(Token::Close(b'[')));
                }
                b'/' => {
                    self.at += 1;
                    self.skip_while(|b| !is_whitespace(b) && !is_delimiter(b));
                }
                b')' | b'>' | b'{' | b'}' => return Err(self.error("a stray delimiter")),
                _ => {
                    let start = self.at;
                    self.skip_while(|b| !is_whitespace(b) && !is_delimiter(b));
                    let word = self.bytes.get(start..self.at).unwrap_or_default();
                    let number = word
                        .first()
                        .is_some_and(|b| b.is_ascii_digit() || b"+-.".contains(b));
                    if !number {
                        return Ok(Some(Token::Operator(word)));
                    }
                }
            }
        }
    }

    fn skip_while(&mut self, keep: impl Fn(u8) -> bool) {
        while self.peek(0).is_some_and(&keep) {
            self.at += 1;
        }
    }

    /// §7.3.4.2: balanced parentheses, backslash escapes.
    fn skip_literal_string(&mut self) -> Result<(), String> {
        let mut depth = 0usize;
        while let Some(byte) = self.peek(0) {
            self.at += 1;
            match byte {
                b'\\' => self.at += 1,
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        Err(self.error("an unterminated string"))
    }

    fn skip_hex_string(&mut self) -> Result<(), String> {
        self.at += 1;
        while let Some(byte) = self.peek(0) {
            self.at += 1;
            match byte {
                b'>' => return Ok(()),
                b if b.is_ascii_hexdigit() || is_whitespace(b) => {}
                _ => return Err(self.error("a bad character in a hex string")),
            }
        }
        Err(self.error("an unterminated hex string"))
    }

    /// §8.9.7: `BI` key-value pairs `ID` data `EI`; the data ends at whitespace, `EI`, and
    /// whitespace or the end, as readers find it.
    fn skip_inline_image(&mut self) -> Result<(), String> {
        loop {
            match self.next_token()? {
                Some(Token::Operator(b"ID")) => break,
                Some(Token::Operator(_)) | Some(Token::Open(_)) | Some(Token::Close(_)) => {}
                None => return Err(self.error("an inline image without 'ID'")),
            }
        }
        self.at += 1;
        while self.at < self.bytes.len() {
            let ends = self.peek(0).is_some_and(is_whitespace)
                && self.peek(1) == Some(b'E')
                && self.peek(2) == Some(b'I')
                && self
                    .peek(3)
                    .is_none_or(|b| is_whitespace(b) || is_delimiter(b));
            self.at += 1;
            if ends {
                self.at += 2;
                return Ok(());
            }
        }
        Err(self.error("an inline image without 'EI'"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn open_states(content: &str) -> Result<u32, String> {
        check_content(content.as_bytes()).map(|end| end.open_states)
    }

    #[test]
    fn well_formed_content_passes_and_reports_unclosed_states() {
        let content = "q 1 0 0 1 10 10 cm BT /F1 12 Tf (a \\) (b) c) Tj [(x) -20 <41 42>] TJ ET \
                       Q q << /MCID 1 >> BDC EMC % comment )\n BI /W 2 /H 1 /BPC 8 /CS /G ID \x00E\x01 EI q";
        assert_eq!(open_states(content), Ok(2));
        assert_eq!(open_states(""), Ok(0));
    }

    #[test]
    fn what_would_swallow_or_abort_the_overlay_is_refused() {
        for (content, words) in [
            ("q Q Q", "never saved"),
            ("BT (unterminated Tj ET", "unterminated string"),
            ("[ <<", "ends inside an array"),
            ("<41 4", "unterminated hex"),
            ("BT BT ET", "inside a text object"),
            ("ET", "without 'BT'"),
            ("BT /F1 1 Tf", "ends inside a text object"),
            ("[ 1 2 re ]", "operator inside"),
            ("]", "without its opening"),
            ("BI /W 1 ID \x00\x00", "without 'EI'"),
            (&"q ".repeat(29), "more than 28"),
        ] {
            let error = open_states(content).unwrap_err();
            assert!(error.contains(words), "{content:?}: {error}");
        }
    }
}
