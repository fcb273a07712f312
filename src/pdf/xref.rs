//! Cross-reference data (ISO 32000-2 §7.5.4 tables, §7.5.8 streams, §7.5.6 incremental updates).
//!
//! Sections are read newest first by following `/Prev`; table entries are looked up in place
//! (they are fixed width), so opening a file costs little more than finding its trailer.

use std::collections::HashSet;

use super::PdfError;
use super::lexer::Lexer;
use super::object::{Dictionary, Object};

/// Where the cross-reference data says an object lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum XrefEntry {
    Free,
    InFile { offset: usize, generation: u16 },
    InStream { stream: u32, index: u32 },
}

/// The form of the newest section, which an incremental update should repeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XrefForm {
    Table,
    Stream,
}

/// Most sections a `/Prev` chain may have before the file is refused.
const MAX_SECTIONS: usize = 4096;
/// Largest decoded cross-reference stream accepted.
const MAX_XREF_STREAM: usize = 64 << 20;

/// All cross-reference sections of a file, newest first.
pub(crate) struct XrefChain {
    sections: Vec<Section>,
    /// Byte offset of the newest section: the new revision's `/Prev`.
    pub(crate) newest_offset: usize,
}

struct Section {
    offset: usize,
    table: Option<Table>,
    streams: Vec<StreamTable>,
    trailer: Dictionary,
}

struct Table {
    subsections: Vec<Subsection>,
}

struct Subsection {
    first: u32,
    count: u32,
    start: usize,
    width: usize,
}

struct StreamTable {
    rows: Vec<u8>,
    widths: [usize; 3],
    index: Vec<(u32, u32)>,
}

impl XrefChain {
    /// Reads the chain starting at the `startxref` offset.
    /// `decoded_budget` caps the bytes all cross-reference streams of the chain may decode to.
    pub(crate) fn read(
        bytes: &[u8],
        start: usize,
        decoded_budget: usize,
    ) -> Result<Self, PdfError> {
        let mut budget = decoded_budget;
        let mut sections = Vec::new();
        let mut seen = HashSet::new();
        let mut next = Some(start);
        while let Some(offset) = next {
            if !seen.insert(offset) || sections.len() >= MAX_SECTIONS {
                return Err(PdfError::DamagedXref("the /Prev chain loops".into()));
            }
            let section = read_section(bytes, offset, &mut budget)?;
            next = match section.trailer.get(b"Prev") {
                None => None,
                Some(prev) => Some(offset_value(prev)?),
            };
            sections.push(Section { offset, ..section });
        }
        Ok(Self {
            sections,
            newest_offset: start,
        })
    }

    /// The newest trailer dictionary.
    pub(crate) fn trailer(&self) -> &Dictionary {
        // A chain always has at least the section at startxref.
        static EMPTY: std::sync::OnceLock<Dictionary> = std::sync::OnceLock::new();
        self.sections
            .first()
            .map(|s| &s.trailer)
            .unwrap_or_else(|| EMPTY.get_or_init(Dictionary::new))
    }

    pub(crate) fn newest_form(&self) -> XrefForm {
        match self.sections.first() {
            Some(Section { table: Some(_), .. }) | None => XrefForm::Table,
            Some(_) => XrefForm::Stream,
        }
    }

    /// The entry in force for `number`: the newest section that mentions it decides.
    pub(crate) fn lookup(&self, bytes: &[u8], number: u32) -> Option<XrefEntry> {
        for section in &self.sections {
            let from_table = section.table.as_ref().and_then(|t| t.lookup(bytes, number));
            if let Some(entry @ XrefEntry::InFile { .. }) = from_table {
                return Some(entry);
            }
            // Hybrid files (§7.5.8.4): the /XRefStm stream is consulted before a free table entry.
            if let Some(entry) = section.streams.iter().find_map(|s| s.lookup(number)) {
                return Some(entry);
            }
            if from_table.is_some() {
                return from_table;
            }
        }
        None
    }

    /// Byte offsets of every section, newest first.
    pub(crate) fn section_offsets(&self) -> Vec<usize> {
        self.sections.iter().map(|s| s.offset).collect()
    }

    /// Every object number any section lists, in use or free, ascending.
    pub(crate) fn numbers(&self, bytes: &[u8]) -> Vec<u32> {
        self.numbers_outside(bytes, &[])
    }

    /// Object numbers listed by the sections whose offsets are not in `known`: what the
    /// revisions after a known prefix wrote.
    pub(crate) fn numbers_outside(&self, bytes: &[u8], known: &[usize]) -> Vec<u32> {
        let mut numbers = Vec::new();
        for section in self.sections.iter().filter(|s| !known.contains(&s.offset)) {
            let mut collect = |number: u32, _: XrefEntry| -> Result<(), PdfError> {
                numbers.push(number);
                Ok(())
            };
            if let Some(table) = &section.table {
                let _ = table.try_for_each(bytes, &mut collect);
            }
            for stream in &section.streams {
                let _ = stream.try_for_each(&mut collect);
            }
        }
        numbers.sort_unstable();
        numbers.dedup();
        numbers
    }

    /// Calls `check` with every in-file entry of every section, refusing more than `max` entries;
    /// returns the highest object number in use.
    pub(crate) fn check_in_file_entries(
        &self,
        bytes: &[u8],
        max: usize,
        mut check: impl FnMut(u32, usize, u16) -> Result<(), PdfError>,
    ) -> Result<u32, PdfError> {
        let mut seen = 0usize;
        let mut highest = 0u32;
        let mut visit = |number: u32, entry: XrefEntry| -> Result<(), PdfError> {
            seen += 1;
            if entry != XrefEntry::Free {
                highest = highest.max(number);
            }
            if seen > max {
                return Err(PdfError::TooManyObjects { limit: max });
            }
            match entry {
                XrefEntry::InFile { offset, generation } => check(number, offset, generation),
                _ => Ok(()),
            }
        };
        for section in &self.sections {
            if let Some(table) = &section.table {
                table.try_for_each(bytes, &mut visit)?;
            }
            for stream in &section.streams {
                stream.try_for_each(&mut visit)?;
            }
        }
        Ok(highest)
    }
}

/// Finds the offset after the last `startxref` (ISO 32000-2 §7.5.5), searching the file's tail.
pub(crate) fn find_startxref(bytes: &[u8]) -> Result<usize, PdfError> {
    let tail_start = bytes.len().saturating_sub(2048);
    let tail = bytes.get(tail_start..).unwrap_or_default();
    let at = tail
        .windows(9)
        .rposition(|w| w == b"startxref")
        .ok_or_else(|| {
            PdfError::DamagedXref(
                "no startxref at the end: the file is truncated or damaged".into(),
            )
        })?;
    let mut lexer = Lexer::new(bytes, tail_start + at + 9);
    let offset = lexer
        .unsigned()
        .map_err(|_| PdfError::DamagedXref("startxref is not followed by an offset".into()))?;
    usize::try_from(offset)
        .ok()
        .filter(|&o| o < bytes.len())
        .ok_or_else(|| {
            PdfError::DamagedXref(format!(
                "startxref points past the end of the file ({offset})"
            ))
        })
}

fn offset_value(object: &Object) -> Result<usize, PdfError> {
    object
        .as_integer()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| PdfError::DamagedXref("/Prev is not a byte offset".into()))
}

fn read_section(bytes: &[u8], offset: usize, budget: &mut usize) -> Result<Section, PdfError> {
    let mut lexer = Lexer::new(bytes, offset);
    lexer.skip_whitespace();
    if bytes.get(lexer.position..lexer.position + 4) == Some(b"xref") {
        lexer.position += 4;
        let table = Table::read(&mut lexer)?;
        lexer
            .expect_keyword(b"trailer")
            .map_err(|_| damaged(offset, "no trailer after the table"))?;
        let trailer = lexer
            .dictionary_at_top()
            .map_err(|e| damaged(offset, &e.to_string()))?;
        let mut streams = Vec::new();
        if let Some(stream_offset) = trailer.get(b"XRefStm") {
            let (_, table) = read_xref_stream(bytes, offset_value(stream_offset)?, budget)?;
            streams.push(table);
        }
        Ok(Section {
            offset,
            table: Some(table),
            streams,
            trailer,
        })
    } else {
        let (trailer, table) = read_xref_stream(bytes, offset, budget)?;
        Ok(Section {
            offset,
            table: None,
            streams: vec![table],
            trailer,
        })
    }
}

fn damaged(offset: usize, what: &str) -> PdfError {
    PdfError::DamagedXref(format!("cross-reference section at byte {offset}: {what}"))
}

impl Table {
    /// Reads subsection headers, measuring each one's fixed-width entries (§7.5.4).
    fn read(lexer: &mut Lexer<'_>) -> Result<Self, PdfError> {
        let mut subsections = Vec::new();
        loop {
            lexer.skip_whitespace();
            let header_at = lexer.position;
            let Ok(first) = lexer.unsigned() else {
                lexer.position = header_at;
                break;
            };
            let count = lexer.unsigned()?;
            let (Ok(first), Ok(count)) = (u32::try_from(first), u32::try_from(count)) else {
                return Err(damaged(header_at, "subsection header out of range"));
            };
            // The header's end of line, then entries of 20 bytes (some writers use 19).
            let bytes = lexer.bytes();
            while bytes
                .get(lexer.position)
                .is_some_and(|&b| b == b' ' || b == b'\r' || b == b'\n')
            {
                lexer.position += 1;
            }
            let start = lexer.position;
            let width =
                entry_width(bytes, start).ok_or_else(|| damaged(start, "malformed entry"))?;
            let length = (count as usize)
                .checked_mul(width)
                .filter(|&l| start + l <= bytes.len());
            let Some(length) = length else {
                return Err(damaged(start, "subsection runs past the end of the file"));
            };
            if count > 0 && parse_entry(bytes, start + length - width).is_none() {
                return Err(damaged(start, "entries are not all the same width"));
            }
            lexer.position = start + length;
            // Empty subsections name no object; keeping them would let a file of nothing but
            // `0 0` headers make every lookup slow.
            if count > 0 {
                subsections.push(Subsection {
                    first,
                    count,
                    start,
                    width,
                });
            }
        }
        Ok(Self { subsections })
    }

    fn lookup(&self, bytes: &[u8], number: u32) -> Option<XrefEntry> {
        let subsection = self
            .subsections
            .iter()
            .rev()
            .find(|s| number >= s.first && number - s.first < s.count)?;
        parse_entry(
            bytes,
            subsection.start + (number - subsection.first) as usize * subsection.width,
        )
    }

    fn try_for_each(
        &self,
        bytes: &[u8],
        visit: &mut impl FnMut(u32, XrefEntry) -> Result<(), PdfError>,
    ) -> Result<(), PdfError> {
        for subsection in &self.subsections {
            for i in 0..subsection.count {
                let at = subsection.start + i as usize * subsection.width;
                let entry = parse_entry(bytes, at).ok_or_else(|| damaged(at, "malformed entry"))?;
                visit(subsection.first.saturating_add(i), entry)?;
            }
        }
        Ok(())
    }
}

/// The width of the entry at `start`: `oooooooooo ggggg n` plus a two-byte (or one-byte) EOL.
fn entry_width(bytes: &[u8], start: usize) -> Option<usize> {
    let eol = bytes.get(start + 18..start + 20)?;
    match eol {
        [b' ' | b'\r', b'\n' | b'\r'] => Some(20),
        [b'\n' | b'\r', _] => Some(19),
        // The final entry of a file cut right after it.
        _ => None,
    }
}

fn parse_entry(bytes: &[u8], at: usize) -> Option<XrefEntry> {
    let entry = bytes.get(at..at + 18)?;
    let (offset, rest) = entry.split_at(10);
    let digits = |field: &[u8]| -> Option<u64> {
        field.iter().try_fold(0u64, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
        })
    };
    if rest.first() != Some(&b' ') || rest.get(6) != Some(&b' ') {
        return None;
    }
    let generation = u16::try_from(digits(rest.get(1..6)?)?).ok()?;
    let offset = usize::try_from(digits(offset)?).ok()?;
    match rest.get(7) {
        Some(b'n') => Some(XrefEntry::InFile { offset, generation }),
        Some(b'f') => Some(XrefEntry::Free),
        _ => None,
    }
}

/// Reads an xref stream object (§7.5.8): its dictionary is also the section's trailer.
fn read_xref_stream(
    bytes: &[u8],
    offset: usize,
    budget: &mut usize,
) -> Result<(Dictionary, StreamTable), PdfError> {
    let mut lexer = Lexer::new(bytes, offset);
    lexer
        .object_header()
        .map_err(|_| damaged(offset, "neither 'xref' nor an xref stream"))?;
    let dictionary = lexer
        .dictionary_at_top()
        .map_err(|e| damaged(offset, &e.to_string()))?;
    if dictionary.name(b"Type") != Some(b"XRef") {
        return Err(damaged(offset, "the object there is not /Type /XRef"));
    }
    let length = dictionary
        .integer(b"Length")
        .and_then(|n| usize::try_from(n).ok());
    let length =
        length.ok_or_else(|| damaged(offset, "xref stream /Length must be a direct integer"))?;
    lexer.skip_whitespace();
    if bytes.get(lexer.position..lexer.position + 6) != Some(b"stream") {
        return Err(damaged(offset, "the xref stream has no 'stream' keyword"));
    }
    let raw = super::file::stream_data(bytes, lexer.position + 6, length)
        .map_err(|e| damaged(offset, &e.to_string()))?;
    let rows = super::file::decode_stream(&dictionary, raw, (*budget).min(MAX_XREF_STREAM))
        .map_err(|_| {
            damaged(
                offset,
                "the xref stream cannot be decoded within the limits",
            )
        })?;
    *budget = budget.saturating_sub(rows.len());
    let table =
        StreamTable::new(&dictionary, rows).ok_or_else(|| damaged(offset, "bad /W or /Index"))?;
    Ok((dictionary, table))
}

impl StreamTable {
    fn new(dictionary: &Dictionary, rows: Vec<u8>) -> Option<Self> {
        let widths: Vec<usize> = dictionary
            .get(b"W")?
            .as_array()?
            .iter()
            .map(|w| {
                w.as_integer()
                    .and_then(|w| usize::try_from(w).ok())
                    .filter(|&w| w <= 8)
            })
            .collect::<Option<_>>()?;
        let widths: [usize; 3] = widths.try_into().ok()?;
        let size = u32::try_from(dictionary.integer(b"Size")?).ok()?;
        let index = match dictionary.get(b"Index") {
            None => vec![(0, size)],
            Some(index) => {
                let numbers: Vec<u32> = index
                    .as_array()?
                    .iter()
                    .map(|n| n.as_integer().and_then(|n| u32::try_from(n).ok()))
                    .collect::<Option<_>>()?;
                // Empty ranges are dropped for the same reason as empty table subsections.
                numbers
                    .chunks_exact(2)
                    .filter_map(|p| Some((*p.first()?, *p.get(1)?)))
                    .filter(|&(_, count)| count > 0)
                    .collect()
            }
        };
        let row = widths.iter().sum::<usize>();
        let needed = index
            .iter()
            .map(|&(_, count)| count as usize)
            .sum::<usize>()
            .checked_mul(row)?;
        (row > 0 && needed <= rows.len()).then_some(Self {
            rows,
            widths,
            index,
        })
    }

    fn row_width(&self) -> usize {
        self.widths.iter().sum()
    }

    fn lookup(&self, number: u32) -> Option<XrefEntry> {
        let mut base = 0usize;
        for &(first, count) in &self.index {
            if number >= first && number - first < count {
                return self.entry(base + (number - first) as usize);
            }
            base += count as usize;
        }
        None
    }

    fn entry(&self, row: usize) -> Option<XrefEntry> {
        let width = self.row_width();
        let mut fields = [0u64; 3];
        let mut at = row * width;
        for (field, &w) in fields.iter_mut().zip(&self.widths) {
            *field = self
                .rows
                .get(at..at + w)?
                .iter()
                .fold(0u64, |n, &b| n << 8 | u64::from(b));
            at += w;
        }
        // A zero-width type field means type 1 (§7.5.8.2, Table 17).
        let kind = if self.widths[0] == 0 { 1 } else { fields[0] };
        match kind {
            0 => Some(XrefEntry::Free),
            1 => Some(XrefEntry::InFile {
                offset: usize::try_from(fields[1]).ok()?,
                generation: u16::try_from(fields[2]).ok()?,
            }),
            2 => Some(XrefEntry::InStream {
                stream: u32::try_from(fields[1]).ok()?,
                index: u32::try_from(fields[2]).ok()?,
            }),
            // Unknown types are references to the null object.
            _ => Some(XrefEntry::Free),
        }
    }

    fn try_for_each(
        &self,
        visit: &mut impl FnMut(u32, XrefEntry) -> Result<(), PdfError>,
    ) -> Result<(), PdfError> {
        let mut row = 0usize;
        for &(first, count) in &self.index {
            for i in 0..count {
                if let Some(entry) = self.entry(row) {
                    visit(first.saturating_add(i), entry)?;
                }
                row += 1;
            }
        }
        Ok(())
    }
}
