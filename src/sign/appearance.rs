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
    let inner = width - 2.0 * margin;
    let name_units: Vec<u16> = name.encode_utf16().collect();
    // STSong-Light glyphs are one em wide for CJK; Helvetica digits are about 0.56 em.
    let name_size = (height * 0.38)
        .min(inner / (name_units.len().max(1) as f64))
        .max(1.0);
    let date_size = (height * 0.22)
        .min(inner / (date.len() as f64 * 0.56))
        .max(1.0);
    let name_y = height - margin - name_size;
    let date_y = margin + date_size * 0.3;
    let mut content = String::new();
    content.push_str(&format!(
        "q {SEAL_RED} RG {SEAL_RED} rg 1.2 w {m} {m} {w} {h} re S\n",
        m = fmt(margin / 2.0),
        w = fmt(width - margin),
        h = fmt(height - margin)
    ));
    content.push_str(&format!(
        "BT /F1 {} Tf {} {} Td <",
        fmt(name_size),
        fmt(margin),
        fmt(name_y)
    ));
    let mut bytes = content.into_bytes();
    for unit in &name_units {
        bytes.extend_from_slice(format!("{unit:04X}").as_bytes());
    }
    bytes.extend_from_slice(
        format!(
            "> Tj ET\nBT /F2 {} Tf {} {} Td ({}) Tj ET\nQ\n",
            fmt(date_size),
            fmt(margin),
            fmt(date_y),
            date
        )
        .as_bytes(),
    );
    (form_dictionary(width, height), bytes)
}

fn fmt(value: f64) -> String {
    crate::pdf::Real::from_f64(value).as_str().to_string()
}

fn form_dictionary(width: f64, height: f64) -> Dictionary {
    let mut fonts = Dictionary::new();
    fonts.set(b"F1", cjk_font());
    fonts.set(b"F2", helvetica());
    let mut resources = Dictionary::new();
    resources.set(b"Font", fonts);
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
