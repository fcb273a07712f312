//! The shipped CJK font: coverage and metrics for layout, and the per-document subset embedded as a
//! Type0 font over a CIDFontType0 with a ToUnicode CMap (ISO 32000-2 §9.7, §9.8, §9.10.3).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::raw::TableProvider;
use skrifa::{FontRef, GlyphId, MetadataProvider};
use subsetter::GlyphRemapper;

use crate::pdf::{
    Dictionary, IncrementalUpdate, Object, ObjectId, StringForm, deflate, hex_upper_into,
};

/// Noto Serif CJK SC, cut by `fonts/make-font.sh` (see `fonts/README.md`).
const SHIPPED_FONT: &[u8] = include_bytes!("../../fonts/NotoSerifSC-oneseal.otf");

/// Widths equal to this need no `/W` entry; CJK glyphs are one em wide (ISO 32000-2 §9.7.4.3).
const DEFAULT_WIDTH: f64 = 1000.0;

/// Most entries in one `beginbfchar`/`begincidchar` block (ISO 32000-2 §9.10.3, Adobe TN 5014).
const CMAP_BLOCK: usize = 100;

/// Why a font cannot be used or a text cannot be drawn with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FontError {
    /// The font data is not an OpenType font with CFF outlines, a character map and metrics.
    #[error("the font cannot be used: {0}")]
    Unreadable(String),
    /// The text has a character the font has no glyph for; it would be drawn as a box.
    #[error("the font has no glyph for '{ch}' U+{:04X}", u32::from(*.ch))]
    MissingGlyph { ch: char },
    /// The subsetter rejected the font or the glyph set.
    #[error("cannot subset the font: {0}")]
    Subset(String),
}

/// A font parsed once, kept for the life of the process; every document's subset is cut from it.
pub struct SourceFont {
    data: &'static [u8],
    charmap: Charmap<'static>,
    glyph_metrics: GlyphMetrics<'static>,
    /// Font units to PDF glyph space (1/1000 em): 1000 / unitsPerEm.
    scale: f64,
    /// The CIDFontName in the CFF program, which the PDF's `/BaseFont` must repeat (§9.7.4.1).
    cid_font_name: String,
    descriptor: Descriptor,
}

/// The font-wide metrics a FontDescriptor carries (ISO 32000-2 §9.8.1), in 1/1000 em.
#[derive(Clone, Debug)]
struct Descriptor {
    flags: i64,
    bounding_box: [f64; 4],
    italic_angle: f64,
    ascent: f64,
    descent: f64,
    cap_height: f64,
    stem_v: f64,
}

impl SourceFont {
    /// The shipped Noto Serif CJK SC, parsed on first use.
    pub fn shipped() -> Result<&'static SourceFont, FontError> {
        static SHIPPED: OnceLock<Result<SourceFont, FontError>> = OnceLock::new();
        SHIPPED
            .get_or_init(|| SourceFont::from_bytes(SHIPPED_FONT))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses an OpenType font with CFF outlines (not a collection). Fonts with TrueType or CFF2
    /// outlines are refused: the writer embeds only CIDFontType0C programs.
    pub fn from_bytes(data: &'static [u8]) -> Result<SourceFont, FontError> {
        let font = FontRef::new(data).map_err(|e| unreadable("not an OpenType font", e))?;
        let cff = font.cff().map_err(|e| {
            unreadable(
                "no CFF table (only OpenType fonts with CFF outlines are supported)",
                e,
            )
        })?;
        let cid_font_name = cff
            .name(0)
            .and_then(|name| std::str::from_utf8(name).ok())
            .filter(|name| !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| FontError::Unreadable("the CFF program has no usable name".into()))?
            .to_owned();
        let units_per_em = font
            .head()
            .map_err(|e| unreadable("no head table", e))?
            .units_per_em();
        if !(16..=16384).contains(&units_per_em) {
            return Err(FontError::Unreadable(format!(
                "unitsPerEm {units_per_em} is outside 16–16384"
            )));
        }
        let charmap = font.charmap();
        if !charmap.has_map() {
            return Err(FontError::Unreadable("no Unicode character map".into()));
        }
        let scale = 1000.0 / f64::from(units_per_em);
        Ok(SourceFont {
            data,
            charmap,
            glyph_metrics: font.glyph_metrics(Size::unscaled(), LocationRef::default()),
            scale,
            cid_font_name,
            descriptor: Descriptor::read(&font, scale)?,
        })
    }

    pub fn has_glyph(&self, ch: char) -> bool {
        self.glyph(ch).is_some()
    }

    /// Horizontal advance in 1/1000 em (PDF glyph space); `None` when the font lacks `ch`.
    pub fn advance(&self, ch: char) -> Option<f64> {
        self.glyph(ch).map(|glyph| self.glyph_advance(glyph))
    }

    /// Width in points of `text` set at `size` points, one glyph per character and no kerning,
    /// exactly as [`FontSubset::show`] draws it. A character the font lacks counts as `.notdef`.
    pub fn text_width(&self, text: &str, size: f64) -> f64 {
        let em: f64 = text
            .chars()
            .map(|ch| self.glyph_advance(self.glyph(ch).unwrap_or(0)))
            .sum();
        em * size / 1000.0
    }

    /// Typographic ascent (OS/2 sTypoAscender) in 1/1000 em: the top of the ideographic em box.
    pub fn ascent(&self) -> f64 {
        self.descriptor.ascent
    }

    /// Typographic descent (OS/2 sTypoDescender) in 1/1000 em, negative: the em box's bottom.
    pub fn descent(&self) -> f64 {
        self.descriptor.descent
    }

    /// The glyph for `ch`, if the font maps it to anything but `.notdef`.
    fn glyph(&self, ch: char) -> Option<u16> {
        let glyph = u16::try_from(self.charmap.map(ch)?.to_u32()).ok()?;
        (glyph != 0).then_some(glyph)
    }

    fn glyph_advance(&self, glyph: u16) -> f64 {
        let units = self
            .glyph_metrics
            .advance_width(GlyphId::new(u32::from(glyph)))
            .unwrap_or(0.0);
        f64::from(units) * self.scale
    }
}

impl std::fmt::Debug for SourceFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceFont")
            .field("cid_font_name", &self.cid_font_name)
            .field("bytes", &self.data.len())
            .finish_non_exhaustive()
    }
}

impl Descriptor {
    fn read(font: &FontRef<'static>, scale: f64) -> Result<Self, FontError> {
        let head = font.head().map_err(|e| unreadable("no head table", e))?;
        let os2 = font.os2().map_err(|e| unreadable("no OS/2 table", e))?;
        let italic_angle = font
            .post()
            .map(|post| post.italic_angle().to_f64())
            .unwrap_or(0.0);
        let fixed_pitch = font.post().is_ok_and(|post| post.is_fixed_pitch() != 0);
        let panose = os2.panose_10();
        // PANOSE Latin Text (family 2): serif styles 2–10 have serifs, 11 and up do not.
        let serif =
            panose.first() == Some(&2) && panose.get(1).is_some_and(|s| (2..=10).contains(s));
        // §9.8.2 Table 121: FixedPitch 1, Serif 2, Symbolic 4 (glyphs outside the standard Latin
        // character set, true of every CJK font), Italic 64.
        let flags = i64::from(fixed_pitch)
            | if serif { 2 } else { 0 }
            | 4
            | if italic_angle != 0.0 { 64 } else { 0 };
        let units = |value: i16| f64::from(value) * scale;
        // StemV is required but only matters to viewers substituting a font, never the case with
        // an embedded program; estimated from the weight class (400 → 96, 700 → 169).
        let stem_v = (10.0 + 0.245 * (f64::from(os2.us_weight_class()) - 50.0)).round();
        Ok(Self {
            flags,
            bounding_box: [
                units(head.x_min()),
                units(head.y_min()),
                units(head.x_max()),
                units(head.y_max()),
            ],
            italic_angle,
            ascent: units(os2.s_typo_ascender()),
            descent: units(os2.s_typo_descender()),
            cap_height: units(os2.s_cap_height().unwrap_or(os2.s_typo_ascender())),
            stem_v,
        })
    }
}

fn unreadable(what: &str, error: impl std::fmt::Display) -> FontError {
    FontError::Unreadable(format!("{what}: {error}"))
}

/// Layout measures text with the shipped font itself.
impl super::layout::GlyphMetrics for SourceFont {
    fn has_glyph(&self, ch: char) -> bool {
        SourceFont::has_glyph(self, ch)
    }
    fn advance(&self, ch: char) -> Option<f64> {
        SourceFont::advance(self, ch)
    }
    fn vertical_metrics(&self) -> (f64, f64) {
        (self.ascent(), self.descent())
    }
}

/// The glyphs one document uses; becomes one embedded Type0 font.
///
/// Codes are two bytes and equal the subset's CIDs (Identity-H), so each code names one glyph;
/// each code also stands for exactly one character, so text extraction returns the text as given.
/// Where two characters share a glyph (U+301C 〜 and U+FF5E ～, a compatibility ideograph and its
/// unified twin), the second gets an alias code counted down from 0xFFFF and the font gets an
/// embedded encoding CMap mapping the alias to the shared CID (§9.7.5.3).
pub struct FontSubset<'f> {
    font: &'f SourceFont,
    remapper: GlyphRemapper,
    /// The code already given to each character.
    codes: HashMap<char, u16>,
    /// Each code's character, for ToUnicode.
    text: BTreeMap<u16, char>,
    /// Alias codes and the CIDs they show.
    aliases: BTreeMap<u16, u16>,
    /// The next alias code; every CID stays below it.
    next_alias: u16,
}

impl std::fmt::Debug for FontSubset<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FontSubset")
            .field("font", &self.font.cid_font_name)
            .field("text", &self.text)
            .field("aliases", &self.aliases)
            .finish_non_exhaustive()
    }
}

impl<'f> FontSubset<'f> {
    pub fn new(font: &'f SourceFont) -> Self {
        Self {
            font,
            remapper: GlyphRemapper::new(),
            codes: HashMap::new(),
            text: BTreeMap::new(),
            aliases: BTreeMap::new(),
            next_alias: u16::MAX,
        }
    }

    /// The font the glyphs come from, for measuring text before showing it.
    pub fn source(&self) -> &'f SourceFont {
        self.font
    }

    /// The operand for `Tj`: a hex string `<...>` of 2-byte codes (Identity-H), registering each
    /// glyph and its Unicode text for ToUnicode. Err(MissingGlyph) naming the first char the font
    /// lacks, in which case nothing is registered.
    pub fn show(&mut self, text: &str) -> Result<Vec<u8>, FontError> {
        let glyphs = text
            .chars()
            .map(|ch| self.font.glyph(ch).map(|glyph| (ch, glyph)))
            .collect::<Option<Vec<_>>>();
        let Some(glyphs) = glyphs else {
            let ch = text.chars().find(|&ch| !self.font.has_glyph(ch));
            return Err(FontError::MissingGlyph {
                ch: ch.unwrap_or(char::REPLACEMENT_CHARACTER),
            });
        };
        let mut operand = Vec::with_capacity(2 + 4 * glyphs.len());
        operand.push(b'<');
        for (ch, glyph) in glyphs {
            let code = self.register(ch, glyph)?;
            let mut digits = [0u8; 4];
            hex_upper_into(&mut digits, &code.to_be_bytes());
            operand.extend_from_slice(&digits);
        }
        operand.push(b'>');
        Ok(operand)
    }

    /// Writes the subset font objects into `update` and returns the Type0 font's object id.
    pub fn write(self, update: &mut IncrementalUpdate) -> Result<ObjectId, FontError> {
        let program = self.font_program()?;
        let tag = self.subset_tag();
        let base_font = format!("{tag}+{}", self.font.cid_font_name);
        let type0 = update.allocate();
        let cid_font = update.allocate();
        let descriptor = update.allocate();
        let file = update.allocate();
        let to_unicode = update.allocate();

        // Left uncompressed: Flate (lopdf's, level 9 only) saves ~18% of a CFF program (28 KB to
        // 23 KB for 141 glyphs) and costs ~0.6 ms, most of what subsetting it costs.
        let mut file_dictionary = Dictionary::new();
        file_dictionary.set(b"Subtype", Object::name(b"CIDFontType0C"));
        update.set_stream(file, file_dictionary, program);

        update.set(descriptor, self.descriptor_dictionary(&base_font, file));
        update.set(cid_font, self.cid_font_dictionary(&base_font, descriptor));

        let mut cmap_dictionary = Dictionary::new();
        let cmap = deflate(&mut cmap_dictionary, to_unicode_cmap(&self.text));
        update.set_stream(to_unicode, cmap_dictionary, cmap);

        let (encoding, encoding_name) = self.encoding(&tag, update);
        // §9.7.6.1: a Type0 font over a CIDFontType0 is named CIDFont name, hyphen, CMap name.
        let mut font = Dictionary::new();
        font.set(b"Type", Object::name(b"Font"));
        font.set(b"Subtype", Object::name(b"Type0"));
        font.set(
            b"BaseFont",
            Object::Name(format!("{base_font}-{encoding_name}").into_bytes()),
        );
        font.set(b"Encoding", encoding);
        font.set(b"DescendantFonts", vec![Object::Reference(cid_font)]);
        font.set(b"ToUnicode", Object::Reference(to_unicode));
        update.set(type0, font);
        Ok(type0)
    }

    /// `/Identity-H`, or an embedded CMap when some characters share a glyph; and its name.
    fn encoding(&self, tag: &str, update: &mut IncrementalUpdate) -> (Object, String) {
        if self.aliases.is_empty() {
            return (Object::name(b"Identity-H"), "Identity-H".to_owned());
        }
        let id = update.allocate();
        let name = format!("OneSeal-{tag}-H");
        let (dictionary, data) = self.encoding_cmap(&name);
        update.set_stream(id, dictionary, data);
        (Object::Reference(id), name)
    }

    /// The code for `ch`, registering its glyph on first use. CIDs count up from 1 and alias
    /// codes down from 0xFFFF; the two must never meet.
    fn register(&mut self, ch: char, glyph: u16) -> Result<u16, FontError> {
        if let Some(&code) = self.codes.get(&ch) {
            return Ok(code);
        }
        let cid = self.remapper.remap(glyph);
        let last_cid = self.remapper.num_gids().saturating_sub(1);
        let code = if !self.text.contains_key(&cid) && cid <= self.next_alias {
            cid
        } else if self.text.contains_key(&cid) && self.next_alias > last_cid {
            let alias = self.next_alias;
            self.next_alias = alias.saturating_sub(1);
            self.aliases.insert(alias, cid);
            alias
        } else {
            return Err(FontError::Subset(
                "more glyphs and characters than two-byte codes can address".into(),
            ));
        };
        self.codes.insert(ch, code);
        self.text.insert(code, ch);
        Ok(code)
    }

    /// The subset's CFF program (OpenType `CFF ` table), CID-keyed with CID = new glyph id: the
    /// subsetter writes a charset mapping each glyph to its own index.
    fn font_program(&self) -> Result<Vec<u8>, FontError> {
        let subset = subsetter::subset(self.font.data, 0, &self.remapper)
            .map_err(|e| FontError::Subset(e.to_string()))?;
        let table = FontRef::new(&subset)
            .ok()
            .and_then(|font| font.table_data(skrifa::Tag::new(b"CFF ")))
            .ok_or_else(|| FontError::Subset("the subset has no CFF table".into()))?;
        Ok(table.as_bytes().to_vec())
    }

    /// Six capital letters naming this glyph set (§9.6.4): the same glyphs in the same order give
    /// the same tag, so the output is reproducible.
    fn subset_tag(&self) -> String {
        let mut hash = Sha256::new();
        for glyph in self.remapper.remapped_gids() {
            hash.update(glyph.to_be_bytes());
        }
        hash.finalize()
            .iter()
            .take(6)
            .map(|byte| char::from(b'A' + byte % 26))
            .collect()
    }

    fn descriptor_dictionary(&self, base_font: &str, file: ObjectId) -> Dictionary {
        let metrics = &self.font.descriptor;
        let mut descriptor = Dictionary::new();
        descriptor.set(b"Type", Object::name(b"FontDescriptor"));
        descriptor.set(b"FontName", Object::Name(base_font.as_bytes().to_vec()));
        descriptor.set(b"Flags", metrics.flags);
        descriptor.set(
            b"FontBBox",
            metrics
                .bounding_box
                .iter()
                .map(|&v| Object::from(v.round()))
                .collect::<Vec<_>>(),
        );
        descriptor.set(b"ItalicAngle", metrics.italic_angle);
        descriptor.set(b"Ascent", metrics.ascent);
        descriptor.set(b"Descent", metrics.descent);
        descriptor.set(b"CapHeight", metrics.cap_height);
        descriptor.set(b"StemV", metrics.stem_v);
        descriptor.set(b"FontFile3", Object::Reference(file));
        descriptor
    }

    /// The CIDFontType0 dictionary (§9.7.4.1) with `/W` widths for glyphs not one em wide.
    fn cid_font_dictionary(&self, base_font: &str, descriptor: ObjectId) -> Dictionary {
        let mut font = Dictionary::new();
        font.set(b"Type", Object::name(b"Font"));
        font.set(b"Subtype", Object::name(b"CIDFontType0"));
        font.set(b"BaseFont", Object::Name(base_font.as_bytes().to_vec()));
        font.set(b"CIDSystemInfo", adobe_identity());
        font.set(b"FontDescriptor", Object::Reference(descriptor));
        font.set(b"DW", DEFAULT_WIDTH);
        let widths = self.widths();
        if !widths.is_empty() {
            font.set(b"W", widths);
        }
        font
    }

    /// `/W` (§9.7.4.3): `c [w1 w2 …]` for each run of consecutive CIDs whose width is not /DW.
    fn widths(&self) -> Vec<Object> {
        let mut entries = Vec::new();
        let mut run: Option<(usize, Vec<Object>)> = None;
        for (cid, glyph) in self.remapper.remapped_gids().enumerate() {
            let width = self.font.glyph_advance(glyph);
            if width == DEFAULT_WIDTH {
                if let Some((first, widths)) = run.take() {
                    entries.push(Object::Integer(first as i64));
                    entries.push(Object::Array(widths));
                }
                continue;
            }
            run.get_or_insert_with(|| (cid, Vec::new()))
                .1
                .push(Object::from(width));
        }
        if let Some((first, widths)) = run {
            entries.push(Object::Integer(first as i64));
            entries.push(Object::Array(widths));
        }
        entries
    }

    /// An embedded encoding CMap (§9.7.5.3): identity for the CIDs, plus the alias codes.
    fn encoding_cmap(&self, name: &str) -> (Dictionary, Vec<u8>) {
        let last_cid = self.remapper.num_gids().saturating_sub(1);
        let mut text = format!(
            "%!PS-Adobe-3.0 Resource-CMap\n/CIDInit /ProcSet findresource begin\n12 dict begin\n\
             begincmap\n/CIDSystemInfo 3 dict dup begin\n/Registry (Adobe) def\n\
             /Ordering (Identity) def\n/Supplement 0 def\nend def\n/CMapName /{name} def\n\
             /CMapType 1 def\n/WMode 0 def\n1 begincodespacerange\n<0000> <FFFF>\n\
             endcodespacerange\n1 begincidrange\n<0000> <{last_cid:04X}> 0\nendcidrange\n"
        );
        let aliases: Vec<_> = self.aliases.iter().collect();
        for block in aliases.chunks(CMAP_BLOCK) {
            let _ = writeln!(text, "{} begincidchar", block.len());
            for (code, cid) in block {
                let _ = writeln!(text, "<{code:04X}> {cid}");
            }
            text.push_str("endcidchar\n");
        }
        text.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");

        let mut dictionary = Dictionary::new();
        dictionary.set(b"Type", Object::name(b"CMap"));
        dictionary.set(b"CMapName", Object::Name(name.as_bytes().to_vec()));
        dictionary.set(b"CIDSystemInfo", adobe_identity());
        let data = deflate(&mut dictionary, text.into_bytes());
        (dictionary, data)
    }
}

/// CIDSystemInfo Adobe-Identity-0 (§9.7.3): CIDs are glyph indices with no registered meaning.
fn adobe_identity() -> Dictionary {
    let mut system_info = Dictionary::new();
    let string = |text: &[u8]| Object::String(text.to_vec(), StringForm::Literal);
    system_info.set(b"Registry", string(b"Adobe"));
    system_info.set(b"Ordering", string(b"Identity"));
    system_info.set(b"Supplement", 0);
    system_info
}

/// The ToUnicode CMap (§9.10.3): each code to its one character, in UTF-16BE, so characters
/// beyond the BMP (𠇔 U+201D4) become surrogate pairs (`<D840DDD4>`).
fn to_unicode_cmap(text: &BTreeMap<u16, char>) -> Vec<u8> {
    let mut cmap = String::with_capacity(400 + 20 * text.len());
    cmap.push_str(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<_> = text.iter().collect();
    for block in entries.chunks(CMAP_BLOCK) {
        let _ = writeln!(cmap, "{} beginbfchar", block.len());
        for (code, ch) in block {
            let _ = write!(cmap, "<{code:04X}> <");
            for unit in ch.encode_utf16(&mut [0; 2]) {
                let _ = write!(cmap, "{unit:04X}");
            }
            cmap.push_str(">\n");
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    cmap.into_bytes()
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use skrifa::outline::DrawSettings;
    use skrifa::outline::pen::PathElement;
    use skrifa::raw::ps::cff::{charset::Charset, dict, index::Index};
    use skrifa::raw::{FontData, FontRead, tables::cff::Cff};

    use super::*;
    use crate::pdf::testing::one_page;
    use crate::pdf::{IndirectValue, Limits, PdfFile};

    const RARE_NAMES: &str = "喆堃赟珺昇甦犇淼鑫𠇔";

    fn shipped() -> &'static SourceFont {
        SourceFont::shipped().unwrap()
    }

    /// Writes `subset` into an update of the one-page test PDF and reads the result back.
    fn written(subset: FontSubset<'_>) -> (Vec<u8>, ObjectId) {
        let base = one_page();
        let file = PdfFile::open(&base, Limits::default()).unwrap();
        let mut update = IncrementalUpdate::new(&file);
        let font = subset.write(&mut update).unwrap();
        (update.write(&file, [7; 16]).unwrap().bytes, font)
    }

    fn dictionary(file: &PdfFile<'_>, id: ObjectId) -> Dictionary {
        match file.object(id).unwrap() {
            IndirectValue::Object(Object::Dictionary(d)) | IndirectValue::Stream(d, _) => d,
            other => panic!("object {id} is {other:?}"),
        }
    }

    /// A stream's data, inflated if it is Flate-compressed.
    fn stream(file: &PdfFile<'_>, id: ObjectId) -> Vec<u8> {
        let IndirectValue::Stream(d, raw) = file.object(id).unwrap() else {
            panic!("object {id} is not a stream")
        };
        match d.name(b"Filter") {
            None => raw.to_vec(),
            Some(b"FlateDecode") => lopdf::Stream::new(
                lopdf::dictionary! { "Filter" => "FlateDecode" },
                raw.to_vec(),
            )
            .decompressed_content()
            .unwrap(),
            Some(other) => panic!("filter {other:?}"),
        }
    }

    fn reference(d: &Dictionary, key: &[u8]) -> ObjectId {
        d.reference(key)
            .unwrap_or_else(|| panic!("no reference at {key:?}"))
    }

    #[test]
    fn the_shipped_font_has_rare_name_characters_and_not_what_it_lacks() {
        let font = shipped();
        for ch in RARE_NAMES
            .chars()
            .chain("中文ASCII 0-9（）：①α㎡≥ā".chars())
        {
            assert!(font.has_glyph(ch), "{ch}");
        }
        // U+20000 is not in Noto, Hangul was cut, control characters map to .notdef.
        for ch in ['𠀀', '\n', '\u{0}', '가'] {
            assert!(!font.has_glyph(ch), "{ch:?}");
            assert_eq!(font.advance(ch), None);
        }
    }

    #[test]
    fn widths_are_in_thousandths_of_an_em_and_points() {
        let font = shipped();
        assert_eq!(font.advance('中'), Some(1000.0));
        assert_eq!(font.advance('𠇔'), Some(1000.0));
        let latin = font.advance('A').unwrap();
        assert!((500.0..800.0).contains(&latin), "{latin}");
        assert_eq!(font.text_width("中文", 12.0), 24.0);
        assert!((font.text_width("中A", 10.0) - (10.0 + latin / 100.0)).abs() < 1e-9);
        assert_eq!((font.ascent(), font.descent()), (880.0, -120.0));
    }

    #[test]
    fn show_writes_two_byte_codes_and_reuses_them() {
        let font = shipped();
        let mut subset = FontSubset::new(font);
        assert_eq!(subset.show("张三").unwrap(), b"<00010002>");
        assert_eq!(subset.show("三张A").unwrap(), b"<000200010003>");
        assert_eq!(subset.show("").unwrap(), b"<>");
    }

    #[test]
    fn a_missing_glyph_is_named_and_registers_nothing() {
        let mut subset = FontSubset::new(shipped());
        let error = subset.show("王𠀀李\n").unwrap_err();
        assert_eq!(error, FontError::MissingGlyph { ch: '𠀀' });
        assert_eq!(error.to_string(), "the font has no glyph for '𠀀' U+20000");
        assert!(subset.text.is_empty());
        assert_eq!(subset.remapper.num_gids(), 1);
    }

    #[test]
    fn to_unicode_maps_each_code_to_its_character_with_surrogate_pairs() {
        let mut subset = FontSubset::new(shipped());
        subset.show("王𠇔A").unwrap();
        let cmap = String::from_utf8(to_unicode_cmap(&subset.text)).unwrap();
        assert!(
            cmap.contains(
                "3 beginbfchar\n<0001> <738B>\n<0002> <D840DDD4>\n<0003> <0041>\nendbfchar\n"
            ),
            "{cmap}"
        );
        assert!(cmap.contains("/CMapType 2 def"));
        assert!(cmap.ends_with("end\nend\n"));
    }

    #[test]
    fn to_unicode_blocks_hold_at_most_a_hundred_entries() {
        let mut subset = FontSubset::new(shipped());
        let text: String = ('\u{4E00}'..='\u{4F00}').collect();
        subset.show(&text).unwrap();
        let cmap = String::from_utf8(to_unicode_cmap(&subset.text)).unwrap();
        let blocks: Vec<&str> = cmap
            .lines()
            .filter(|l| l.ends_with("beginbfchar"))
            .collect();
        assert_eq!(
            blocks,
            ["100 beginbfchar", "100 beginbfchar", "57 beginbfchar"]
        );
    }

    #[test]
    fn characters_sharing_a_glyph_get_their_own_codes() {
        let font = shipped();
        // Wave dash and fullwidth tilde, and a compatibility ideograph, share glyphs in Noto.
        assert_eq!(font.glyph('〜'), font.glyph('～'));
        assert_eq!(font.glyph('不'), font.glyph('\u{F967}'));
        let mut subset = FontSubset::new(font);
        assert_eq!(
            subset.show("〜～\u{F967}不〜").unwrap(),
            b"<0001FFFF0002FFFE0001>"
        );
        assert_eq!(subset.remapper.num_gids(), 3);

        let (bytes, id) = written(subset);
        let file = PdfFile::open(&bytes, Limits::default()).unwrap();
        let type0 = dictionary(&file, id);
        let encoding = stream(&file, reference(&type0, b"Encoding"));
        let encoding = String::from_utf8(encoding).unwrap();
        assert!(encoding.contains("1 begincidrange\n<0000> <0002> 0\nendcidrange\n"));
        assert!(encoding.contains("2 begincidchar\n<FFFE> 2\n<FFFF> 1\nendcidchar\n"));
        let to_unicode = String::from_utf8(stream(&file, reference(&type0, b"ToUnicode"))).unwrap();
        for entry in [
            "<0001> <301C>",
            "<FFFF> <FF5E>",
            "<0002> <F967>",
            "<FFFE> <4E0D>",
        ] {
            assert!(to_unicode.contains(entry), "{entry} in {to_unicode}");
        }
        let base_font = String::from_utf8(type0.name(b"BaseFont").unwrap().to_vec()).unwrap();
        let tag = &base_font[..6];
        assert_eq!(
            base_font,
            format!("{tag}+NotoSerifCJKjp-Regular-OneSeal-{tag}-H")
        );
    }

    #[test]
    fn the_written_font_is_a_type0_over_an_embedded_cid_keyed_cff() {
        let mut subset = FontSubset::new(shipped());
        subset.show("电子证照 Licence 1").unwrap();
        let (bytes, id) = written(subset);
        let file = PdfFile::open(&bytes, Limits::default()).unwrap();

        let type0 = dictionary(&file, id);
        assert_eq!(type0.name(b"Subtype"), Some(&b"Type0"[..]));
        assert_eq!(type0.name(b"Encoding"), Some(&b"Identity-H"[..]));
        let base_font = String::from_utf8(type0.name(b"BaseFont").unwrap().to_vec()).unwrap();
        let (tag, rest) = base_font.split_once('+').unwrap();
        assert!(
            tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_uppercase()),
            "{tag}"
        );
        assert_eq!(rest, "NotoSerifCJKjp-Regular-Identity-H");

        let descendants = type0
            .get(b"DescendantFonts")
            .and_then(Object::as_array)
            .unwrap();
        let Object::Reference(cid_font_id) = descendants[0] else {
            panic!()
        };
        let cid_font = dictionary(&file, cid_font_id);
        assert_eq!(cid_font.name(b"Subtype"), Some(&b"CIDFontType0"[..]));
        assert_eq!(
            cid_font.name(b"BaseFont"),
            Some(format!("{tag}+NotoSerifCJKjp-Regular").as_bytes())
        );
        // The Latin letters, the space and the digit are narrower than an em: CIDs 5–11 in one run.
        let w = crate::pdf::serialize(cid_font.get(b"W").unwrap());
        assert!(w.starts_with(b"[5 ["), "{}", String::from_utf8_lossy(&w));

        let descriptor = dictionary(&file, reference(&cid_font, b"FontDescriptor"));
        assert_eq!(descriptor.integer(b"Flags"), Some(6));
        assert_eq!(
            crate::pdf::serialize(descriptor.get(b"FontBBox").unwrap()),
            b"[-997 -1049 2929 1809]"
        );
        for (key, value) in [
            (&b"Ascent"[..], 880.0),
            (b"Descent", -120.0),
            (b"CapHeight", 729.0),
            (b"StemV", 96.0),
        ] {
            assert_eq!(
                descriptor.get(key).and_then(Object::as_number),
                Some(value),
                "{key:?}"
            );
        }
        let program = stream(&file, reference(&descriptor, b"FontFile3"));
        let cff = Cff::read(FontData::new(&program)).unwrap();
        assert_eq!(cff.name(0), Some(&b"NotoSerifCJKjp-Regular"[..]));
        // CID-keyed (ROS present), and CID = glyph index, which Identity-H codes address (§9.7.4.2).
        let (mut ros, mut charset, mut glyphs) = (false, None, None);
        for entry in dict::entries(cff.top_dicts().get(0).unwrap(), None) {
            match entry.unwrap() {
                dict::Entry::Ros { .. } => ros = true,
                dict::Entry::Charset(offset) => charset = Some(offset),
                dict::Entry::CharstringsOffset(offset) => {
                    let index = cff.offset_data().split_off(offset).unwrap();
                    glyphs = Some(Index::new(index.as_bytes(), false).unwrap().count())
                }
                _ => {}
            }
        }
        assert!(ros);
        assert_eq!(glyphs, Some(12));
        let charset = Charset::new(cff.offset_data(), charset.unwrap(), 12).unwrap();
        for glyph in 0..12u16 {
            let cid = charset.string_id(GlyphId::new(u32::from(glyph))).unwrap();
            assert_eq!(cid.to_u16(), glyph);
        }
    }

    #[test]
    fn each_cid_draws_the_glyph_of_its_character() {
        let font = shipped();
        let mut subset = FontSubset::new(font);
        let text = format!("{RARE_NAMES}审批Az");
        subset.show(&text).unwrap();
        let cut = subsetter::subset(font.data, 0, &subset.remapper).unwrap();
        let source = FontRef::new(font.data).unwrap();
        let cut = FontRef::new(&cut).unwrap();
        let outline = |font: &FontRef<'_>, glyph: u32| {
            let mut path: Vec<PathElement> = Vec::new();
            font.outline_glyphs()
                .get(GlyphId::new(glyph))
                .unwrap()
                .draw(
                    DrawSettings::unhinted(Size::unscaled(), LocationRef::default()),
                    &mut path,
                )
                .unwrap();
            format!("{path:?}")
        };
        for ch in text.chars() {
            let code = subset.codes[&ch];
            let original = font.glyph(ch).unwrap();
            assert_eq!(
                outline(&cut, u32::from(code)),
                outline(&source, u32::from(original)),
                "{ch}"
            );
        }
    }

    #[test]
    fn the_same_text_gives_the_same_bytes() {
        let run = || {
            let mut subset = FontSubset::new(shipped());
            subset.show("新乡经济技术开发区管理委员会").unwrap();
            subset.show(RARE_NAMES).unwrap();
            written(subset).0
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn from_bytes_refuses_what_is_not_a_cff_font() {
        assert!(matches!(
            SourceFont::from_bytes(b"not a font"),
            Err(FontError::Unreadable(_))
        ));
        // The font's first bytes with the table directory cut short.
        let truncated: &'static [u8] = &SHIPPED_FONT[..64];
        assert!(matches!(
            SourceFont::from_bytes(truncated),
            Err(FontError::Unreadable(_))
        ));
    }
}
