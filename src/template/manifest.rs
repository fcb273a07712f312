//! `template.toml`: what a licence is and where each value goes (docs/templates.md).
//!
//! Parsed with serde into raw types, then checked rule by rule so that every problem is reported
//! at once, each naming its field.

use std::collections::HashSet;

use regex::Regex;
use serde::Deserialize;

use super::Problem;

/// Largest manifest accepted.
pub const MAX_MANIFEST_BYTES: usize = 64 << 10;
/// Most fields one template may have.
pub const MAX_FIELDS: usize = 100;
/// Upper bound on any field's `max_chars`.
pub const MAX_FIELD_CHARS: usize = 2_000;
/// Most departments a template may need sign-off from.
pub const MAX_SIGN_OFF: usize = 16;
/// Compiled size limit for a field pattern, so a pattern cannot blow up memory or time. Compile
/// time grows with the compiled size and a manifest may hold [`MAX_FIELDS`] patterns; real ones
/// need far less (`^[\p{Han}·A-Za-z .]{2,20}$`, a Chinese name, about 78 kB).
const PATTERN_SIZE_LIMIT: usize = 256 << 10;

/// A checked manifest: every field valid on its own. Page geometry is checked by the bundle.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub id: String,
    pub title: String,
    pub department: String,
    pub version: String,
    /// 承诺办结时限: committed processing time in working days.
    pub time_limit_days: u32,
    /// Departments whose sign-off issuing needs.
    pub sign_off: Vec<String>,
    /// What happens once every department has signed off.
    pub seal_after_sign_off: SealAfterSignOff,
    /// 容缺后补: materials a request may lack at issuance, against a credit commitment.
    pub secondary_materials: Vec<String>,
    /// Working days an applicant has to supply missing secondary materials.
    pub supply_within_days: u32,
    pub fields: Vec<FieldSpec>,
}

/// Whether the seal is applied as soon as every sign-off is in, or waits for an issuer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SealAfterSignOff {
    /// An issuer applies the seal (the default: a person takes the last step).
    #[default]
    Issuer,
    /// The seal is applied at once, by the bureau, when the last department approves.
    Automatic,
}

impl SealAfterSignOff {
    pub fn as_str(self) -> &'static str {
        match self {
            SealAfterSignOff::Issuer => "issuer",
            SealAfterSignOff::Automatic => "automatic",
        }
    }
}

/// Most secondary materials one template may list.
pub const MAX_SECONDARY_MATERIALS: usize = 32;

/// What a field holds and who supplies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Multiline,
    Date,
    CreditCode,
    Serial,
    Qr,
    Seal,
}

impl FieldKind {
    /// Whether the value comes from the issuance data (the others are filled by the issuer).
    pub fn from_data(self) -> bool {
        matches!(
            self,
            Self::Text | Self::Multiline | Self::Date | Self::CreditCode
        )
    }

    /// Whether the value is drawn as text.
    pub fn is_text(self) -> bool {
        !matches!(self, Self::Qr | Self::Seal)
    }
}

/// Horizontal placement of text in its box.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

/// A value the issuer fills in itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fill {
    /// The date of issue.
    IssueDate,
}

/// A rectangle in PDF points, from the page's lower left.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoxRect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl BoxRect {
    /// Whether this rectangle lies inside `[llx, lly, urx, ury]`.
    pub fn inside(&self, area: [f64; 4]) -> bool {
        let [llx, lly, urx, ury] = area;
        self.x >= llx && self.y >= lly && self.x + self.width <= urx && self.y + self.height <= ury
    }
}

/// One checked field.
#[derive(Clone, Debug)]
pub struct FieldSpec {
    pub name: String,
    pub label: String,
    pub kind: FieldKind,
    pub page: u32,
    pub rect: BoxRect,
    pub font_size: f64,
    pub min_font_size: f64,
    pub align: Align,
    pub required: bool,
    pub max_chars: usize,
    pub pattern: Option<Regex>,
    pub fill: Option<Fill>,
}

impl FieldSpec {
    /// Whether the issuance data supplies this field's value.
    pub fn from_data(&self) -> bool {
        self.kind.from_data() && self.fill.is_none()
    }

    /// How error messages name the field: `field 'name' (标签)`.
    pub fn place(&self) -> String {
        format!("field '{}' ({})", self.name, self.label)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    template: RawTemplate,
    #[serde(default, rename = "field")]
    fields: Vec<RawField>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    id: String,
    title: String,
    department: String,
    version: String,
    time_limit_days: i64,
    #[serde(default)]
    sign_off: Vec<String>,
    #[serde(default)]
    seal_after_sign_off: SealAfterSignOff,
    #[serde(default)]
    secondary_materials: Vec<String>,
    supply_within_days: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    name: String,
    label: String,
    kind: FieldKind,
    #[serde(default = "first_page")]
    page: i64,
    #[serde(rename = "box")]
    rect: Vec<f64>,
    font_size: Option<f64>,
    min_font_size: Option<f64>,
    #[serde(default)]
    align: Align,
    required: Option<bool>,
    max_chars: Option<i64>,
    pattern: Option<String>,
    fill: Option<Fill>,
}

fn first_page() -> i64 {
    1
}

/// Parses and checks a manifest, returning every problem found.
pub fn parse_manifest(text: &[u8]) -> Result<Manifest, Vec<Problem>> {
    match parse_manifest_partly(text) {
        (Some(manifest), problems) if problems.is_empty() => Ok(manifest),
        (_, problems) => Err(problems),
    }
}

/// Like [`parse_manifest`], but also returns the fields that are valid on their own when others
/// are not, so the bundle check can report their geometry in the same pass.
pub fn parse_manifest_partly(text: &[u8]) -> (Option<Manifest>, Vec<Problem>) {
    match parse_raw(text) {
        Ok(raw) => {
            let mut problems = Vec::new();
            let header = check_header(raw.template, &mut problems);
            let fields = check_fields(raw.fields, &mut problems);
            (header.map(|h| Manifest { fields, ..h }), problems)
        }
        Err(problems) => (None, problems),
    }
}

fn parse_raw(text: &[u8]) -> Result<RawManifest, Vec<Problem>> {
    const PLACE: &str = "template.toml";
    if text.len() > MAX_MANIFEST_BYTES {
        return Err(vec![Problem::new(
            PLACE,
            format!(
                "is {} bytes, over the limit of {MAX_MANIFEST_BYTES}",
                text.len()
            ),
        )]);
    }
    let text = std::str::from_utf8(text)
        .map_err(|e| vec![Problem::new(PLACE, format!("is not UTF-8 ({e})"))])?;
    toml::from_str(text).map_err(|e| vec![Problem::new(PLACE, one_line(&e.to_string()))])
}

fn check_header(raw: RawTemplate, problems: &mut Vec<Problem>) -> Option<Manifest> {
    let mut bad = |key: &str, message: String| {
        problems.push(Problem::new(
            format!("template.toml [template] {key}"),
            message,
        ));
    };
    if !token(&raw.id, 64, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
    }) {
        bad("id", "must be 1–64 characters of a–z, 0–9 and '-'".into());
    }
    if !token(&raw.version, 32, |c| {
        c.is_ascii_alphanumeric() || c == '.' || c == '-'
    }) {
        bad(
            "version",
            "must be 1–32 characters of A–Z, a–z, 0–9, '.' and '-'".into(),
        );
    }
    for (key, value) in [("title", &raw.title), ("department", &raw.department)] {
        if let Err(message) = check_label(value) {
            bad(key, message);
        }
    }
    if !(1..=365).contains(&raw.time_limit_days) {
        bad(
            "time_limit_days",
            format!("must be 1–365 working days, not {}", raw.time_limit_days),
        );
    }
    if raw.sign_off.len() > MAX_SIGN_OFF {
        bad(
            "sign_off",
            format!("lists more than {MAX_SIGN_OFF} departments"),
        );
    }
    for department in &raw.sign_off {
        if let Err(message) = check_label(department) {
            bad("sign_off", message);
        }
    }
    if has_duplicates(&raw.sign_off) {
        bad("sign_off", "names a department twice".into());
    }
    if raw.sign_off.contains(&raw.department) {
        bad(
            "sign_off",
            "names the template's own department, which hands the template over and needs no sign-off"
                .into(),
        );
    }
    check_materials(&raw, &mut bad);
    // Returned even when a header value is wrong, so the fields are still checked in this pass;
    // `parse_manifest` never hands out a manifest that has problems.
    Some(Manifest {
        id: raw.id,
        title: raw.title,
        department: raw.department,
        version: raw.version,
        time_limit_days: u32::try_from(raw.time_limit_days).unwrap_or(0),
        supply_within_days: raw
            .supply_within_days
            .and_then(|days| u32::try_from(days).ok())
            .unwrap_or(0),
        sign_off: raw.sign_off,
        seal_after_sign_off: raw.seal_after_sign_off,
        secondary_materials: raw.secondary_materials,
        fields: Vec::new(),
    })
}

/// 容缺后补: the materials that may follow, and the working days allowed for them.
fn check_materials(raw: &RawTemplate, bad: &mut impl FnMut(&str, String)) {
    if raw.secondary_materials.len() > MAX_SECONDARY_MATERIALS {
        bad(
            "secondary_materials",
            format!("lists more than {MAX_SECONDARY_MATERIALS} materials"),
        );
    }
    for material in &raw.secondary_materials {
        if let Err(message) = check_label(material) {
            bad("secondary_materials", message);
        }
    }
    if has_duplicates(&raw.secondary_materials) {
        bad("secondary_materials", "names a material twice".into());
    }
    match (raw.secondary_materials.is_empty(), raw.supply_within_days) {
        (true, Some(_)) => bad(
            "supply_within_days",
            "is set but no secondary_materials are listed".into(),
        ),
        (false, None) => bad(
            "supply_within_days",
            "is needed with secondary_materials: the working days an applicant has to supply them"
                .into(),
        ),
        (false, Some(days)) if !(1..=365).contains(&days) => bad(
            "supply_within_days",
            format!("must be 1–365 working days, not {days}"),
        ),
        _ => {}
    }
}

fn has_duplicates(names: &[String]) -> bool {
    let mut seen = HashSet::new();
    names.iter().any(|name| !seen.insert(name))
}

fn check_fields(raw: Vec<RawField>, problems: &mut Vec<Problem>) -> Vec<FieldSpec> {
    if raw.is_empty() || raw.len() > MAX_FIELDS {
        problems.push(Problem::new(
            "template.toml",
            format!("must have 1–{MAX_FIELDS} fields, not {}", raw.len()),
        ));
        return Vec::new();
    }
    for (kind, what, exactly) in [
        (FieldKind::Seal, "seal", true),
        (FieldKind::Qr, "qr", false),
    ] {
        let count = raw.iter().filter(|f| f.kind == kind).count();
        if count > 1 || (exactly && count == 0) {
            let rule = if exactly {
                "exactly one"
            } else {
                "at most one"
            };
            problems.push(Problem::new(
                "template.toml",
                format!("must have {rule} '{what}' field, not {count}"),
            ));
        }
    }
    let mut names = HashSet::new();
    let mut fields = Vec::new();
    for field in raw {
        if !names.insert(field.name.clone()) {
            problems.push(Problem::new(
                format!("field '{}'", field.name),
                "the name is used by more than one field",
            ));
        }
        if let Some(field) = check_field(field, problems) {
            fields.push(field);
        }
    }
    fields
}

fn check_field(raw: RawField, problems: &mut Vec<Problem>) -> Option<FieldSpec> {
    let start = problems.len();
    let place = format!("field '{}'", raw.name);
    let mut bad = |message: String| problems.push(Problem::new(place.clone(), message));
    let name_ok = token(&raw.name, 64, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
    }) && raw.name.starts_with(|c: char| c.is_ascii_lowercase());
    if !name_ok {
        bad("the name must be a–z then a–z, 0–9 or '_', at most 64 characters".into());
    }
    if let Err(message) = check_label(&raw.label) {
        bad(format!("label {message}"));
    }
    let page = u32::try_from(raw.page)
        .ok()
        .filter(|p| (1..=20).contains(p));
    if page.is_none() {
        bad(format!("page must be 1–20, not {}", raw.page));
    }
    let rect = match raw.rect.as_slice() {
        [x, y, width, height] if [x, y, width, height].iter().all(|v| v.is_finite()) => {
            Some(BoxRect {
                x: *x,
                y: *y,
                width: *width,
                height: *height,
            })
        }
        _ => None,
    };
    match rect {
        None => bad("box must be four finite numbers [x, y, width, height]".into()),
        Some(r) if r.width <= 0.0 || r.height <= 0.0 => {
            bad("box must have a positive width and height".into())
        }
        Some(_) => {}
    }
    let font_size = raw.font_size.unwrap_or(12.0);
    let min_font_size = raw.min_font_size.unwrap_or((font_size / 2.0).max(4.0));
    if !(4.0..=72.0).contains(&font_size) {
        bad(format!("font_size must be 4–72 points, not {font_size}"));
    }
    if !(4.0..=font_size).contains(&min_font_size) {
        bad(format!(
            "min_font_size must be from 4 up to font_size ({font_size}), not {min_font_size}"
        ));
    }
    let max_chars = raw.max_chars.unwrap_or(200);
    if !(1..=MAX_FIELD_CHARS as i64).contains(&max_chars) {
        bad(format!(
            "max_chars must be 1–{MAX_FIELD_CHARS}, not {max_chars}"
        ));
    }
    if raw.fill.is_some() && raw.kind != FieldKind::Date {
        bad("only a date field can be filled by the issuer (fill = \"issue_date\")".into());
    }
    let issuer_fills = !raw.kind.from_data() || raw.fill.is_some();
    if issuer_fills && raw.required == Some(true) {
        bad("the issuer fills this field, so it cannot be required in the data".into());
    }
    if issuer_fills && raw.pattern.is_some() {
        bad("the issuer fills this field, so a pattern does not apply".into());
    }
    let pattern = match &raw.pattern {
        Some(source) => match compile_pattern(source) {
            Ok(regex) => Some(regex),
            Err(message) => {
                bad(message);
                None
            }
        },
        None => None,
    };
    if problems.len() > start {
        return None;
    }
    Some(FieldSpec {
        required: raw.required.unwrap_or(!issuer_fills),
        name: raw.name,
        label: raw.label,
        kind: raw.kind,
        page: page.unwrap_or(1),
        rect: rect.unwrap_or(BoxRect {
            x: 0.0,
            y: 0.0,
            width: 0.0,
            height: 0.0,
        }),
        font_size,
        min_font_size,
        align: raw.align,
        max_chars: usize::try_from(max_chars).unwrap_or(1),
        pattern,
        fill: raw.fill,
    })
}

/// A pattern matching the whole value, within a compiled-size limit.
fn compile_pattern(source: &str) -> Result<Regex, String> {
    if source.chars().count() > 512 {
        return Err("pattern is longer than 512 characters".into());
    }
    let build = |source: &str, size_limit: usize| {
        regex::RegexBuilder::new(source)
            .size_limit(size_limit)
            .dfa_size_limit(PATTERN_SIZE_LIMIT)
            .build()
    };
    let syntax_error = |text: String| {
        format!(
            "pattern does not compile: {}",
            text.lines().last().unwrap_or("syntax error").trim()
        )
    };
    // The source must be a pattern on its own, not only once wrapped (`a)|(b`). With no room to
    // compile, the build stops right after the syntax check, so only the wrapped form is compiled.
    if let Err(regex::Error::Syntax(text)) = build(source, 0) {
        return Err(syntax_error(text));
    }
    build(&format!("^(?:{source})$"), PATTERN_SIZE_LIMIT).map_err(|e| match e {
        regex::Error::Syntax(text) => syntax_error(text),
        other => format!("pattern is too large: {other}"),
    })
}

fn token(value: &str, max: usize, allowed: impl Fn(char) -> bool) -> bool {
    !value.is_empty() && value.len() <= max && value.chars().all(allowed)
}

/// Labels and names shown to people: 1–64 characters, no control characters.
fn check_label(value: &str) -> Result<(), String> {
    let count = value.chars().count();
    if count == 0 || count > 64 {
        return Err(format!("must be 1–64 characters, not {count}"));
    }
    if value.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// Error text from a parser, on one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '|' || c == '^' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[template]
id = "food-business-licence"
title = "食品经营许可证"
department = "市场监督管理局"
version = "2026.1"
time_limit_days = 10
sign_off = ["卫生健康委员会"]

[[field]]
name = "operator_name"
label = "经营者名称"
kind = "text"
box = [100, 600, 300, 20]
font_size = 14
pattern = ".{2,60}"

[[field]]
name = "issued_on"
label = "发证日期"
kind = "date"
fill = "issue_date"
box = [100, 100, 150, 20]

[[field]]
name = "seal"
label = "印章"
kind = "seal"
box = [300, 60, 120, 120]
"#;

    fn problems(text: &str) -> Vec<String> {
        match parse_manifest(text.as_bytes()) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_good_manifest_parses_with_defaults() {
        let manifest = parse_manifest(GOOD.as_bytes()).expect("valid");
        assert_eq!(manifest.title, "食品经营许可证");
        assert_eq!(manifest.fields.len(), 3);
        let name = &manifest.fields[0];
        assert!(name.required && name.from_data());
        assert_eq!(name.min_font_size, 7.0);
        let date = &manifest.fields[1];
        assert!(!date.required && !date.from_data());
        assert!(name.pattern.as_ref().expect("pattern").is_match("华辰食品"));
        assert!(!name.pattern.as_ref().expect("pattern").is_match("华"));
    }

    #[test]
    fn the_workflow_keys_default_and_are_checked() {
        let manifest = parse_manifest(GOOD.as_bytes()).expect("valid");
        assert_eq!(manifest.seal_after_sign_off, SealAfterSignOff::Issuer);
        assert!(manifest.secondary_materials.is_empty());
        let with = GOOD.replace(
            "sign_off = [\"卫生健康委员会\"]",
            "sign_off = [\"卫生健康委员会\"]\nseal_after_sign_off = \"automatic\"\n\
             secondary_materials = [\"从业人员健康证明\"]\nsupply_within_days = 20",
        );
        let manifest = parse_manifest(with.as_bytes()).expect("valid");
        assert_eq!(manifest.seal_after_sign_off, SealAfterSignOff::Automatic);
        assert_eq!(manifest.secondary_materials, ["从业人员健康证明"]);
        assert_eq!(manifest.supply_within_days, 20);

        let cases = [
            ("seal_after_sign_off = \"later\"", "seal_after_sign_off"),
            ("secondary_materials = [\"a\"]", "supply_within_days"),
            ("supply_within_days = 5", "no secondary_materials"),
            (
                "secondary_materials = [\"a\", \"a\"]\nsupply_within_days = 5",
                "names a material twice",
            ),
            (
                "secondary_materials = [\"a\"]\nsupply_within_days = 0",
                "1–365 working days, not 0",
            ),
        ];
        for (line, expected) in cases {
            let text = GOOD.replace(
                "time_limit_days = 10",
                &format!("time_limit_days = 10\n{line}"),
            );
            let found = problems(&text).join("\n");
            assert!(found.contains(expected), "{line}: {found}");
        }
        let twice = GOOD.replace(
            "sign_off = [\"卫生健康委员会\"]",
            "sign_off = [\"卫生健康委员会\", \"卫生健康委员会\", \"市场监督管理局\"]",
        );
        let found = problems(&twice).join("\n");
        assert!(found.contains("names a department twice"), "{found}");
        assert!(found.contains("the template's own department"), "{found}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = GOOD
            .replace("time_limit_days = 10", "time_limit_days = 0")
            .replace("name = \"issued_on\"", "name = \"operator_name\"")
            .replace("[300, 60, 120, 120]", "[300, 60, 0, 120]")
            .replace("\".{2,60}\"", "\"(\"");
        let found = problems(&text);
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(found[0].contains("time_limit_days"));
        assert!(found.iter().any(|p| p.contains("more than one field")));
        assert!(found.iter().any(|p| p.contains("positive width")));
        assert!(found.iter().any(|p| p.contains("pattern does not compile")));
    }

    #[test]
    fn unknown_keys_and_kinds_are_refused_on_one_line() {
        let found = problems(&GOOD.replace("kind = \"text\"", "kind = \"barcode\""));
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("barcode") && !found[0].contains('\n'));
        let found = problems(&GOOD.replace("font_size = 14", "font_sise = 14"));
        assert!(found[0].contains("font_sise"), "{found:?}");
    }

    /// Each rule of docs/templates.md, one edit of the good manifest each, and the words of its
    /// message.
    #[test]
    fn every_manifest_rule_is_enforced() {
        let seal = "\n[[field]]\nname = \"seal2\"\nlabel = \"章\"\nkind = \"seal\"\nbox = [1, 1, 50, 50]\n";
        let qr =
            "\n[[field]]\nname = \"qr{n}\"\nlabel = \"码\"\nkind = \"qr\"\nbox = [1, 1, 50, 50]\n";
        let two_qr = format!("{}{}", qr.replace("{n}", "1"), qr.replace("{n}", "2"));
        let many: String = (0..100)
            .map(|n| format!("\n[[field]]\nname = \"f{n}\"\nlabel = \"值\"\nkind = \"text\"\nbox = [1, 1, 5, 5]\n"))
            .collect();
        let cases: Vec<(String, &str)> = vec![
            (
                GOOD.replace("\"food-business-licence\"", "\"Food Licence\""),
                "[template] id",
            ),
            (
                GOOD.replace("\"2026.1\"", "\"2026/1\""),
                "[template] version",
            ),
            (
                GOOD.replace("title = \"食品经营许可证\"", "title = \"\""),
                "[template] title",
            ),
            (
                GOOD.replace(
                    "department = \"市场监督管理局\"",
                    "department = \"局\\u0007\"",
                ),
                "control characters",
            ),
            (
                GOOD.replace("time_limit_days = 10", "time_limit_days = 366"),
                "1–365 working days",
            ),
            (
                GOOD.replace(
                    "[\"卫生健康委员会\"]",
                    &format!("[{}]", vec!["\"局\""; 17].join(",")),
                ),
                "more than 16",
            ),
            (
                GOOD.replace("name = \"operator_name\"", "name = \"Operator\""),
                "the name must be",
            ),
            (
                GOOD.replace("label = \"经营者名称\"", "label = \"\""),
                "label must be",
            ),
            (
                GOOD.replace("kind = \"text\"", "kind = \"text\"\npage = 21"),
                "page must be 1–20",
            ),
            (
                GOOD.replace("[100, 600, 300, 20]", "[100, 600, 300]"),
                "four finite numbers",
            ),
            (
                GOOD.replace("[100, 600, 300, 20]", "[100, 600, nan, 20]"),
                "four finite numbers",
            ),
            (
                GOOD.replace("[100, 600, 300, 20]", "[100, 600, -3, 20]"),
                "positive width",
            ),
            (
                GOOD.replace("font_size = 14", "font_size = 80"),
                "font_size must be 4–72",
            ),
            (
                GOOD.replace("font_size = 14", "font_size = 14\nmin_font_size = 20"),
                "min_font_size must be",
            ),
            (
                GOOD.replace("pattern = \".{2,60}\"", "max_chars = 2001"),
                "max_chars must be",
            ),
            (
                GOOD.replace("kind = \"seal\"", "kind = \"seal\"\nfill = \"issue_date\""),
                "only a date field",
            ),
            (
                GOOD.replace("kind = \"seal\"", "kind = \"seal\"\npattern = \"x\""),
                "pattern does not apply",
            ),
            (
                GOOD.replace("\".{2,60}\"", "\"a{99999}{99999}\""),
                "pattern",
            ),
            (format!("{GOOD}{seal}"), "exactly one 'seal' field, not 2"),
            (format!("{GOOD}{two_qr}"), "at most one 'qr' field, not 2"),
            (format!("{GOOD}{many}"), "1–100 fields"),
            ("[template]\nid = \"x\"\n".to_string(), "missing field"),
        ];
        for (text, words) in cases {
            let found = problems(&text);
            assert!(
                found.iter().any(|p| p.contains(words)),
                "expected '{words}' in {found:#?}"
            );
        }
    }

    #[test]
    fn exactly_one_seal_field() {
        let without = GOOD.replace("kind = \"seal\"", "kind = \"qr\"");
        assert!(problems(&without)[0].contains("exactly one 'seal'"));
    }

    #[test]
    fn issuer_filled_fields_take_no_data_rules() {
        let text = GOOD.replace("kind = \"seal\"", "kind = \"seal\"\nrequired = true");
        assert!(problems(&text).iter().any(|p| p.contains("issuer fills")));
    }

    #[test]
    fn patterns_must_stand_alone_and_stay_small() {
        let with = |pattern: &str| GOOD.replace("\".{2,60}\"", &format!("'{pattern}'"));
        let found = problems(&with("a)|(b"));
        assert!(found[0].contains("pattern does not compile"), "{found:?}");
        let found = problems(&with(r"\w{20}"));
        assert!(found[0].contains("pattern is too large"), "{found:?}");
        assert!(problems(&with(r"^[\p{Han}·A-Za-z .]{2,20}$")).is_empty());
    }

    #[test]
    fn oversized_and_non_utf8_manifests_are_refused() {
        assert!(parse_manifest(&vec![b' '; MAX_MANIFEST_BYTES + 1]).is_err());
        assert!(problems("\u{0}").len() == 1);
        assert!(parse_manifest(&[0xff, 0xfe]).is_err());
    }
}
