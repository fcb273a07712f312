//! Issuance data (`--data FILE.json`): checked against the manifest before anything is drawn.
//!
//! Every problem is reported at once. A character the font cannot draw is an error naming it,
//! so a licence never shows a blank or a box where a name should be.

use std::collections::BTreeMap;

use serde_json::Value;
use time::Date;

use super::Problem;
use super::layout::{GlyphMetrics, place};
use super::manifest::{FieldKind, FieldSpec, Manifest};
use crate::pki::CreditCode;

/// Largest data file accepted.
pub const MAX_DATA_BYTES: usize = 256 << 10;

/// The values the data supplies, by field name, as they will be drawn (dates already in
/// `2026年11月26日` form). Fields the issuer fills are not here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldValues(BTreeMap<String, String>);

impl FieldValues {
    /// The drawn text of field `name`, if the data gave one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Every value with its field name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Checks `json` against `manifest` and returns the values to draw, or every problem found.
pub fn check_data(
    manifest: &Manifest,
    json: &[u8],
    font: &dyn GlyphMetrics,
) -> Result<FieldValues, Vec<Problem>> {
    let object = parse_object(json)?;
    let mut problems = Vec::new();
    for name in object.keys() {
        match manifest.fields.iter().find(|f| &f.name == name) {
            None => problems.push(Problem::new(
                format!("data '{}'", printable(name)),
                "the template has no field of this name",
            )),
            Some(field) if !field.from_data() => problems.push(Problem::new(
                field.place(),
                "the issuer fills this field; leave it out of the data",
            )),
            Some(_) => {}
        }
    }
    let mut values = BTreeMap::new();
    for field in manifest.fields.iter().filter(|f| f.from_data()) {
        match check_value(field, object.get(&field.name), font) {
            Ok(Some(text)) => {
                values.insert(field.name.clone(), text);
            }
            Ok(None) => {}
            Err(message) => problems.push(Problem::new(field.place(), message)),
        }
    }
    if problems.is_empty() {
        Ok(FieldValues(values))
    } else {
        Err(problems)
    }
}

/// Formats a date as Chinese documents print it: `2026年11月26日`.
pub fn chinese_date(date: Date) -> String {
    format!(
        "{}年{}月{}日",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The characters of `text` that `font` cannot draw, each named with its code point.
pub fn missing_characters(text: &str, font: &dyn GlyphMetrics) -> Option<String> {
    let mut missing: Vec<char> = text
        .chars()
        .filter(|c| *c != '\n' && !font.has_glyph(*c))
        .collect();
    missing.dedup();
    if missing.is_empty() {
        return None;
    }
    let named: Vec<String> = missing
        .iter()
        .take(8)
        .map(|c| format!("'{}' U+{:04X}", printable(&c.to_string()), u32::from(*c)))
        .collect();
    Some(format!(
        "the font cannot draw {}; use another form of the character or ask for the font to be extended",
        named.join(", ")
    ))
}

fn parse_object(json: &[u8]) -> Result<serde_json::Map<String, Value>, Vec<Problem>> {
    const PLACE: &str = "data";
    if json.len() > MAX_DATA_BYTES {
        return Err(vec![Problem::new(
            PLACE,
            format!(
                "is {} bytes, over the limit of {MAX_DATA_BYTES}",
                json.len()
            ),
        )]);
    }
    let entries = match serde_json::from_slice::<Entries>(json) {
        Ok(Entries(entries)) => entries,
        Err(e) if e.is_data() => {
            return Err(vec![Problem::new(
                PLACE,
                "must be a JSON object of field name to text",
            )]);
        }
        Err(e) => return Err(vec![Problem::new(PLACE, format!("is not valid JSON: {e}"))]),
    };
    let mut object = serde_json::Map::new();
    let mut problems = Vec::new();
    for (name, value) in entries {
        if object.contains_key(&name) {
            // Last-wins would seal a value another reader of the same JSON never saw.
            problems.push(Problem::new(
                format!("data '{}'", printable(&name)),
                "is given more than once",
            ));
        }
        object.insert(name, value);
    }
    if problems.is_empty() {
        Ok(object)
    } else {
        Err(problems)
    }
}

/// A JSON object's members in order, duplicates kept, so they can be refused.
struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

/// One field's value checked and turned into the text to draw; `None` when optional and absent.
fn check_value(
    field: &FieldSpec,
    value: Option<&Value>,
    font: &dyn GlyphMetrics,
) -> Result<Option<String>, String> {
    let text = match value {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(normalise(text)),
        Some(_) => return Err("the value must be a JSON string".into()),
    };
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return if field.required {
            Err("a value is required".into())
        } else {
            Ok(None)
        };
    };
    let count = text.chars().count();
    if count > field.max_chars {
        return Err(format!(
            "the value has {count} characters, over the limit of {}",
            field.max_chars
        ));
    }
    let allowed_control = |c: char| c == '\n' && field.kind == FieldKind::Multiline;
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !allowed_control(*c))
    {
        return Err(format!(
            "the value contains the control character U+{:04X}",
            u32::from(c)
        ));
    }
    if let Some(c) = text.chars().find(|c| invisible(*c)) {
        return Err(format!(
            "the value contains the invisible character U+{:04X}, which would print as a blank or a mark nobody typed",
            u32::from(c)
        ));
    }
    if let Some(pattern) = &field.pattern
        && !pattern.is_match(&text)
    {
        return Err(format!(
            "'{}' does not match the pattern {}",
            printable(&text),
            source_of(pattern)
        ));
    }
    let drawn = match field.kind {
        FieldKind::Date => chinese_date(parse_date(&text)?),
        FieldKind::CreditCode => CreditCode::parse(&text)
            .map_err(|e| e.to_string())?
            .to_string(),
        _ => text,
    };
    if let Some(message) = missing_characters(&drawn, font) {
        return Err(message);
    }
    place(field, &drawn, font)?;
    Ok(Some(drawn))
}

/// The pattern as the manifest wrote it, without the anchoring group added when compiling.
fn source_of(pattern: &regex::Regex) -> &str {
    let compiled = pattern.as_str();
    compiled
        .strip_prefix("^(?:")
        .and_then(|p| p.strip_suffix(")$"))
        .unwrap_or(compiled)
}

/// Format and filler characters (soft hyphen, zero-width and direction marks, fillers): they
/// change how a value looks or reads without being seen in the data.
fn invisible(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180E
            | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
            | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFFB | 0xE0000..=0xE0FFF
    )
}

/// Surrounding whitespace dropped and `\r\n` made `\n`: what a clerk pasting a value meant.
fn normalise(text: &str) -> String {
    text.trim().replace("\r\n", "\n")
}

/// A real calendar date written `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let parsed = if shaped {
        Date::parse(text, &format).ok()
    } else {
        None
    };
    let date = parsed.ok_or_else(|| {
        format!(
            "'{}' is not a date written YYYY-MM-DD (e.g. 2026-11-26)",
            printable(text)
        )
    })?;
    if !(1900..=2200).contains(&date.year()) {
        return Err(format!("the year {} is out of range", date.year()));
    }
    Ok(date)
}

/// Text from the data shown in a message: control characters escaped, at most 60 characters.
fn printable(text: &str) -> String {
    let shown: String = text
        .chars()
        .take(60)
        .map(|c| {
            if c.is_control() {
                c.escape_default().collect()
            } else {
                c.to_string()
            }
        })
        .collect();
    if text.chars().count() > 60 {
        format!("{shown}…")
    } else {
        shown
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::template::manifest::parse_manifest;

    use crate::template::layout::FixedFont;

    const MANIFEST: &str = r#"
[template]
id = "t"
title = "食品经营许可证"
department = "市场监督管理局"
version = "1"
time_limit_days = 10

[[field]]
name = "operator"
label = "经营者名称"
kind = "text"
box = [0, 0, 200, 20]
font_size = 10
min_font_size = 8
max_chars = 30

[[field]]
name = "code"
label = "统一社会信用代码"
kind = "credit_code"
box = [0, 30, 200, 20]

[[field]]
name = "until"
label = "有效期至"
kind = "date"
box = [0, 60, 200, 20]

[[field]]
name = "postcode"
label = "邮编"
kind = "text"
required = false
pattern = "[0-9]{6}"
box = [0, 90, 200, 20]

[[field]]
name = "seal"
label = "印章"
kind = "seal"
box = [300, 0, 120, 120]
"#;

    fn check(json: &str) -> Result<FieldValues, Vec<String>> {
        let manifest = parse_manifest(MANIFEST.as_bytes()).expect("manifest");
        check_data(&manifest, json.as_bytes(), &FixedFont)
            .map_err(|p| p.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn good_data_is_normalised_for_drawing() {
        let values = check(
            r#"{"operator": " 新乡市华辰食品贸易有限公司 ", "code": "91410700MA9FXXX6XY",
                "until": "2031-01-05"}"#,
        );
        let values = match values {
            Ok(values) => values,
            // The example code's check character is computed by the test below, not guessed.
            Err(problems) => panic!("{problems:?}"),
        };
        assert_eq!(values.get("operator"), Some("新乡市华辰食品贸易有限公司"));
        assert_eq!(values.get("until"), Some("2031年1月5日"));
        assert_eq!(values.get("postcode"), None);
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let problems = check(
            r#"{"operator": "华辰𠀀", "code": "91410700MA9FXXX6XA", "until": "2031-02-30",
                "postcode": "12345", "seal": "x", "extra": "y"}"#,
        )
        .expect_err("bad data");
        let joined = problems.join("\n");
        assert_eq!(problems.len(), 6, "{joined}");
        assert!(joined.contains("data 'extra': the template has no field"));
        assert!(joined.contains("field 'seal' (印章): the issuer fills this field"));
        assert!(joined.contains("'𠀀' U+20000"));
        assert!(joined.contains("check character should be"));
        assert!(joined.contains("'2031-02-30' is not a date"));
        assert!(joined.contains("'12345' does not match"));
    }

    #[test]
    fn missing_required_values_and_wrong_types_are_refused() {
        let problems = check(r#"{"operator": 5, "until": ""}"#).expect_err("bad data");
        let joined = problems.join("\n");
        assert!(joined.contains("must be a JSON string"), "{joined}");
        assert!(joined.contains("统一社会信用代码): a value is required"));
        assert!(joined.contains("有效期至): a value is required"));
        assert!(check("[1]").expect_err("array")[0].contains("JSON object"));
        let twice = check(r#"{"operator": "甲", "operator": "乙"}"#).expect_err("twice");
        assert!(
            twice[0].contains("data 'operator': is given more than once"),
            "{twice:?}"
        );
        for date in ["+2031-11-25", "2031-1-25", "20311125", "2031-11-25T00:00"] {
            let json =
                format!(r#"{{"operator": "甲", "code": "91410700MA9FXXX6XY", "until": "{date}"}}"#);
            assert!(
                check(&json).expect_err(date)[0].contains("not a date"),
                "{date}"
            );
        }
        let json = "{\"operator\": \"新乡\\u00ad市\", \"code\": \"91410700MA9FXXX6XY\", \"until\": \"2031-01-05\"}";
        assert!(check(json).expect_err("shy")[0].contains("U+00AD"));
        assert!(check("{").expect_err("broken")[0].contains("not valid JSON"));
    }

    #[test]
    fn length_control_characters_and_fit_are_checked() {
        let long = format!(
            r#"{{"operator": "{}", "code": "91410700MA9FXXX6XY", "until": "2031-01-05"}}"#,
            "字".repeat(31)
        );
        assert!(check(&long).expect_err("long")[0].contains("31 characters"));
        let wide = long.replace(&"字".repeat(31), &"字".repeat(26));
        assert!(check(&wide).expect_err("wide")[0].contains("does not fit"));
        let control = long.replace(&"字".repeat(31), "华辰\\u001b[2J");
        assert!(check(&control).expect_err("control")[0].contains("U+001B"));
    }
}
