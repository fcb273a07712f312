//! The visible signature's appearance stream (ISO 32000-2 §12.5.5, §12.7.5.5): a red frame with
//! the sealing authority's name and the signing time. The drawn round seal comes with templates.

use time::OffsetDateTime;

use crate::pdf::{Dictionary, Object, StringForm};

/// Seal red, as used for official seals.
const SEAL_RED: &str = "0.8 0.05 0.05";

/// A Form XObject of `width` × `height` points showing `name` and `time`.
pub fn signature_appearance(
    name: &str,
    time: OffsetDateTime,
    width: f64,
    height: f64,
) -> (Dictionary, Vec<u8>) {
    let when = time.to_offset(time::UtcOffset::UTC);
    let date = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        when.year(),
        u8::from(when.month()),
        when.day(),
        when.hour(),
        when.minute(),
        when.second()
    );
    let margin = (width.min(height) * 0.08).clamp(1.0, 6.0);
    let inner_width = width - 2.0 * margin;
    let date_size = (height * 0.16)
        .min(inner_width / (date.len() as f64 * 0.56))
        .max(1.0);
    let name_area = height - 3.0 * margin - date_size * 1.2;
    let name_lines = wrap_name(name, inner_width, name_area);
    let name_size = name_lines.size;
    let mut bytes = format!(
        "q {SEAL_RED} RG {SEAL_RED} rg 1.2 w {half} {half} {w} {h} re S\n",
        half = fmt(margin / 2.0),
        w = fmt(width - margin),
        h = fmt(height - margin)
    )
    .into_bytes();
    for (index, line) in name_lines.lines.iter().enumerate() {
        let y = height - margin - name_size * (index as f64 + 1.0);
        bytes.extend_from_slice(
            format!(
                "BT /F1 {} Tf {} {} Td <",
                fmt(name_size),
                fmt(margin),
                fmt(y)
            )
            .as_bytes(),
        );
        for unit in line.encode_utf16() {
            bytes.extend_from_slice(format!("{unit:04X}").as_bytes());
        }
        bytes.extend_from_slice(b"> Tj ET\n");
    }
    let date_y = margin + date_size * 0.3;
    bytes.extend_from_slice(
        format!(
            "BT /F2 {} Tf {} {} Td ({date}) Tj ET\nQ\n",
            fmt(date_size),
            fmt(margin),
            fmt(date_y)
        )
        .as_bytes(),
    );
    let mut fonts = Dictionary::new();
    fonts.set(b"F1", cjk_font());
    fonts.set(b"F2", helvetica());
    let mut resources = Dictionary::new();
    resources.set(b"Font", fonts);
    (form_dictionary(width, height, resources), bytes)
}

/// The name broken into lines so that its one-em glyphs come out as large as the box allows.
struct NameLines {
    lines: Vec<String>,
    size: f64,
}

fn wrap_name(name: &str, width: f64, height: f64) -> NameLines {
    let characters: Vec<char> = name.chars().collect();
    let count = characters.len().max(1);
    let mut best = NameLines {
        lines: vec![name.to_string()],
        size: 0.0,
    };
    for line_count in 1..=3usize {
        let per_line = count.div_ceil(line_count);
        let size = (height / line_count as f64).min(width / per_line as f64);
        if size > best.size {
            let lines = characters
                .chunks(per_line.max(1))
                .map(|c| c.iter().collect())
                .collect();
            best = NameLines { lines, size };
        }
    }
    best.size = best.size.max(1.0);
    best
}

fn fmt(value: f64) -> String {
    crate::pdf::Real::from_f64(value).as_str().to_string()
}

/// A Form XObject dictionary with `/BBox [0 0 width height]` (ISO 32000-2 §8.10.2).
pub fn form_dictionary(width: f64, height: f64, resources: Dictionary) -> Dictionary {
    let mut dictionary = Dictionary::new();
    dictionary.set(b"Type", Object::name(b"XObject"));
    dictionary.set(b"Subtype", Object::name(b"Form"));
    dictionary.set(
        b"BBox",
        vec![
            Object::Integer(0),
            Object::Integer(0),
            Object::from(width),
            Object::from(height),
        ],
    );
    dictionary.set(b"Resources", resources);
    dictionary
}

/// Adobe's STSong-Light with the UCS-2 CMap: Chinese without embedding a font file
/// (ISO 32000-2 §9.7.5.2). Embedded, subsetted fonts arrive with e-licence rendering.
fn cjk_font() -> Dictionary {
    let mut system_info = Dictionary::new();
    system_info.set(
        b"Registry",
        Object::String(b"Adobe".to_vec(), StringForm::Literal),
    );
    system_info.set(
        b"Ordering",
        Object::String(b"GB1".to_vec(), StringForm::Literal),
    );
    system_info.set(b"Supplement", 2);
    let mut descriptor = Dictionary::new();
    descriptor.set(b"Type", Object::name(b"FontDescriptor"));
    descriptor.set(b"FontName", Object::name(b"STSong-Light"));
    descriptor.set(b"Flags", 6);
    descriptor.set(
        b"FontBBox",
        vec![
            Object::Integer(-25),
            Object::Integer(-254),
            Object::Integer(1000),
            Object::Integer(880),
        ],
    );
    descriptor.set(b"ItalicAngle", 0);
    descriptor.set(b"Ascent", 880);
    descriptor.set(b"Descent", -120);
    descriptor.set(b"CapHeight", 880);
    descriptor.set(b"StemV", 93);
    let mut descendant = Dictionary::new();
    descendant.set(b"Type", Object::name(b"Font"));
    descendant.set(b"Subtype", Object::name(b"CIDFontType0"));
    descendant.set(b"BaseFont", Object::name(b"STSong-Light"));
    descendant.set(b"CIDSystemInfo", system_info);
    descendant.set(b"FontDescriptor", descriptor);
    descendant.set(b"DW", 1000);
    let mut font = Dictionary::new();
    font.set(b"Type", Object::name(b"Font"));
    font.set(b"Subtype", Object::name(b"Type0"));
    font.set(b"BaseFont", Object::name(b"STSong-Light-UniGB-UCS2-H"));
    font.set(b"Encoding", Object::name(b"UniGB-UCS2-H"));
    font.set(b"DescendantFonts", vec![Object::Dictionary(descendant)]);
    font
}

fn helvetica() -> Dictionary {
    let mut font = Dictionary::new();
    font.set(b"Type", Object::name(b"Font"));
    font.set(b"Subtype", Object::name(b"Type1"));
    font.set(b"BaseFont", Object::name(b"Helvetica"));
    font.set(b"Encoding", Object::name(b"WinAnsiEncoding"));
    font
}
