//! Shared helpers of the integration tests: the `oneseal` binary, the fixtures, and the outside
//! validators (pyHanko, Poppler's pdfsig, openssl cms, qpdf) that judge what it writes.
//!
//! Nothing here skips: a missing tool or fixture fails the test and says to run `scripts/test`.
#![allow(dead_code)] // each test crate uses a different subset

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

pub mod hsm;
pub mod ltv;
pub mod service;
pub mod webhooks;

/// Installs ring as rustls's process-wide provider. reqwest is built with rustls but no
/// provider of its own (the service's webhook client brings ring), so every test process that
/// builds an HTTP client calls this first; later calls do nothing.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub const SETUP_HINT: &str = "run scripts/test (it installs the tools and generates the fixtures)";

/// The freshly built `oneseal` binary.
pub fn oneseal_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_oneseal"))
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The generated fixtures: $ONESEAL_FIXTURES, else tests/data/generated.
pub fn fixtures_dir() -> PathBuf {
    let dir = std::env::var_os("ONESEAL_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("tests/data/generated"));
    assert!(
        dir.join(".stamp").is_file(),
        "fixtures missing in {}: {SETUP_HINT}",
        dir.display()
    );
    dir
}

/// One generated fixture, which must exist.
pub fn fixture(name: &str) -> PathBuf {
    let path = fixtures_dir().join(name);
    assert!(
        path.is_file(),
        "fixture {} missing: {SETUP_HINT}",
        path.display()
    );
    path
}

/// The venv's bin directory: $ONESEAL_VENV, else .venv/bin.
pub fn venv_bin() -> PathBuf {
    let dir = std::env::var_os("ONESEAL_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin"));
    assert!(
        dir.join("python").is_file(),
        "Python venv missing at {}: {SETUP_HINT}",
        dir.display()
    );
    dir
}

/// A program on PATH; fails (never skips) when it is missing.
pub fn require_tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| panic!("`{name}` not found on PATH: {SETUP_HINT}"))
}

/// What a finished command left behind.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub command: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// The command and everything it printed, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "$ {}\nexit status: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

/// Runs a command to completion with no stdin, capturing its output.
pub fn run(command: &mut Command) -> Run {
    let text = format!(
        "{} {}",
        command.get_program().to_string_lossy(),
        command
            .get_args()
            .map(shell_word)
            .collect::<Vec<_>>()
            .join(" ")
    );
    // `sign` and `issue` record in the audit trail: each test process gets its own registry
    // rather than ./data in the checkout, unless the test chose one.
    if !command.get_envs().any(|(key, _)| key == "ONESEAL_DATA_DIR") {
        command.env("ONESEAL_DATA_DIR", test_trail_dir());
    }
    let output = command
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot start `{text}`: {error} ({SETUP_HINT})"));
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        command: text,
    }
}

/// This test process's audit-trail directory (under the system temp dir).
pub fn test_trail_dir() -> PathBuf {
    std::env::temp_dir().join(format!("oneseal-test-trail-{}", std::process::id()))
}

fn shell_word(arg: &OsStr) -> String {
    let text = arg.to_string_lossy();
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,".contains(c))
    {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// Runs `oneseal ARGS`.
pub fn oneseal<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    oneseal_env(args, &[])
}

/// The environment variables oneseal reads; cleared so a developer's shell cannot sway a test.
pub const ONESEAL_VARIABLES: &[&str] = &["ONESEAL_MAX_PDF_BYTES", "ONESEAL_KEY_PASSPHRASE"];

/// Runs `oneseal ARGS` with only `env` of oneseal's own variables set.
pub fn oneseal_env<I, S>(args: I, env: &[(&str, &str)]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(oneseal_binary());
    for variable in ONESEAL_VARIABLES {
        command.env_remove(variable);
    }
    run(command.envs(env.iter().copied()).args(args))
}

/// A seal made by `oneseal keygen` in a temporary directory.
pub struct Keys {
    _dir: Option<TempDir>,
    /// The directory to pass as `--keys`.
    pub dir: PathBuf,
    /// The root certificate to trust when validating.
    pub root: PathBuf,
}

/// Runs `oneseal keygen --out TMP/keys EXTRA...` and checks the four files exist.
pub fn keygen(extra: &[&str]) -> Keys {
    keygen_env(extra, &[])
}

/// `keygen` with some of oneseal's variables set (ONESEAL_KEY_PASSPHRASE encrypts the keys).
pub fn keygen_env(extra: &[&str], env: &[(&str, &str)]) -> Keys {
    let tmp = TempDir::new().expect("temp dir");
    let dir = tmp.path().join("keys");
    let mut args = vec!["keygen".as_ref(), "--out".as_ref(), dir.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    let result = oneseal_env(&args, env);
    assert!(result.ok(), "oneseal keygen failed:\n{}", result.describe());
    for file in [
        "root-ca.pem",
        "root-ca-key.pem",
        "seal-cert.pem",
        "seal-key.pem",
    ] {
        assert!(
            dir.join(file).is_file(),
            "oneseal keygen did not write {file}\n{}",
            result.describe()
        );
    }
    Keys {
        root: dir.join("root-ca.pem"),
        dir,
        _dir: Some(tmp),
    }
}

impl Keys {
    /// A key directory that already exists (such as keys-example/) and the root to trust.
    pub fn existing(dir: PathBuf, root: PathBuf) -> Keys {
        Keys {
            _dir: None,
            dir,
            root,
        }
    }
}

/// Runs `oneseal sign INPUT --out OUTPUT --keys KEYS EXTRA...`.
pub fn sign(input: &Path, output: &Path, keys: &Path, extra: &[&str]) -> Run {
    sign_env(input, output, keys, extra, &[])
}

/// `sign` with some of oneseal's variables set.
pub fn sign_env(
    input: &Path,
    output: &Path,
    keys: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let mut args: Vec<&OsStr> = vec![
        "sign".as_ref(),
        input.as_os_str(),
        "--out".as_ref(),
        output.as_os_str(),
        "--keys".as_ref(),
        keys.as_os_str(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    oneseal_env(&args, env)
}

/// Runs a script of tests/tools with the venv's Python and parses its JSON output.
pub fn python_tool(script: &str, args: &[&OsStr]) -> (Json, Run) {
    let python = venv_bin().join("python");
    let result = run(Command::new(python)
        .arg(repo_root().join("tests/tools").join(script))
        .args(args));
    assert!(
        result.ok(),
        "tests/tools/{script} failed:\n{}",
        result.describe()
    );
    let json = Json::parse(&result.stdout).unwrap_or_else(|error| {
        panic!(
            "tests/tools/{script} printed bad JSON ({error}):\n{}",
            result.describe()
        )
    });
    (json, result)
}

/// pyHanko's verdict on every signature of `pdf`, trusting only `roots` (tests/tools/validate.py).
/// `lenient` reads with strict=False, which pyHanko needs for hybrid-reference files.
pub fn pyhanko_validate(pdf: &Path, roots: &[&Path], lenient: bool) -> Json {
    let mut args: Vec<&OsStr> = Vec::new();
    for root in roots {
        args.push("--root".as_ref());
        args.push(root.as_os_str());
    }
    if lenient {
        args.push("--lenient".as_ref());
    }
    args.push(pdf.as_os_str());
    python_tool("validate.py", &args).0
}

/// pypdf's view of the signature fields, widgets and form fields (tests/tools/sigparts.py).
pub fn sig_parts(pdf: &Path) -> Json {
    python_tool("sigparts.py", &[pdf.as_os_str()]).0
}

/// One signature as Poppler's pdfsig reports it.
#[derive(Debug)]
pub struct PdfsigSignature {
    pub field: String,
    /// False for an empty signature field ("The signature form field is not signed.").
    pub signed: bool,
    pub signature_valid: bool,
    pub certificate_trusted: bool,
    pub total_document_signed: bool,
    pub report: String,
}

/// Runs pdfsig with a throwaway NSS database holding only `roots`. pdfsig lists signature fields
/// in field order, empty ones included (`signed` false).
pub fn pdfsig_validate(pdf: &Path, roots: &[&Path]) -> (Vec<PdfsigSignature>, Run) {
    let certutil = require_tool("certutil");
    let pdfsig = require_tool("pdfsig");
    let nss = TempDir::new().expect("temp dir");
    let db = format!("sql:{}", nss.path().display());
    let created = run(Command::new(&certutil).args(["-N", "-d", &db, "--empty-password"]));
    assert!(created.ok(), "certutil -N failed:\n{}", created.describe());
    for (n, root) in roots.iter().enumerate() {
        let nickname = format!("root{n}");
        let added = run(Command::new(&certutil)
            .args(["-A", "-d", &db, "-n", &nickname, "-t", "CT,C,C", "-i"])
            .arg(root));
        assert!(
            added.ok(),
            "certutil -A failed for {}:\n{}",
            root.display(),
            added.describe()
        );
    }
    let result = run(Command::new(pdfsig).args(["-nssdir", &db]).arg(pdf));
    (parse_pdfsig(&result.stdout), result)
}

fn parse_pdfsig(stdout: &str) -> Vec<PdfsigSignature> {
    let mut signatures: Vec<PdfsigSignature> = Vec::new();
    for line in stdout.lines() {
        if line.starts_with("Signature #") {
            signatures.push(PdfsigSignature {
                field: String::new(),
                signed: true,
                signature_valid: false,
                certificate_trusted: false,
                total_document_signed: false,
                report: String::new(),
            });
        }
        let Some(current) = signatures.last_mut() else {
            continue;
        };
        let _ = writeln!(current.report, "{line}");
        let item = line.trim_start().trim_start_matches("- ");
        if let Some(name) = item.strip_prefix("Signature Field Name: ") {
            current.field = name.to_owned();
        }
        if item.contains("form field is not signed") {
            current.signed = false;
        }
        current.signature_valid |= item == "Signature Validation: Signature is Valid.";
        current.certificate_trusted |= item == "Certificate Validation: Certificate is Trusted.";
        current.total_document_signed |= item == "Total document signed";
    }
    signatures
}

/// `openssl cms -verify` of every signature's CMS over its ByteRange bytes; one result per
/// signature, in file order, with openssl's output on failure.
pub fn openssl_cms_verify(pdf: &Path, roots: &[&Path]) -> Vec<Result<(), String>> {
    let openssl = require_tool("openssl");
    let tmp = TempDir::new().expect("temp dir");
    let bundle = tmp.path().join("roots.pem");
    let mut pem = Vec::new();
    for root in roots {
        pem.extend(std::fs::read(root).unwrap_or_else(|e| panic!("read {}: {e}", root.display())));
        pem.push(b'\n');
    }
    std::fs::write(&bundle, pem).expect("write roots bundle");
    let (parts, _) = python_tool(
        "sigparts.py",
        &[
            "--extract".as_ref(),
            tmp.path().as_os_str(),
            pdf.as_os_str(),
        ],
    );
    let mut results = Vec::new();
    for signature in parts.get("signatures").array() {
        if signature.get("signed").as_bool() != Some(true) {
            continue;
        }
        let result = run(Command::new(&openssl)
            .args([
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-purpose",
                "any",
                "-out",
                "/dev/null",
            ])
            .arg("-in")
            .arg(signature.get("der_path").str())
            .arg("-content")
            .arg(signature.get("signed_path").str())
            .arg("-CAfile")
            .arg(&bundle));
        let field = signature.get("field").str();
        results.push(if result.ok() {
            Ok(())
        } else {
            Err(format!("signature {field}:\n{}", result.describe()))
        });
    }
    results
}

/// `qpdf --check` of `output` must show no warning or error that `input` did not already have.
pub fn qpdf_check_no_new_problems(input: &Path, output: &Path) -> Result<(), String> {
    let qpdf = require_tool("qpdf");
    let before = run(Command::new(&qpdf).arg("--check").arg(input));
    let after = run(Command::new(&qpdf).arg("--check").arg(output));
    if after.code == Some(0) {
        return Ok(());
    }
    let known = problems(&before, input);
    let new: Vec<String> = problems(&after, output)
        .into_iter()
        .filter(|p| !known.contains(p))
        .collect();
    if after.code == before.code && new.is_empty() {
        return Ok(());
    }
    Err(format!(
        "qpdf --check: new problems {new:?}\n--- input ---\n{}\n--- output ---\n{}",
        before.describe(),
        after.describe()
    ))
}

/// qpdf's warning/error lines with the file name taken out, so two files' lists compare.
fn problems(result: &Run, file: &Path) -> Vec<String> {
    let name = file.display().to_string();
    format!("{}\n{}", result.stdout, result.stderr)
        .lines()
        .filter(|line| {
            line.contains("WARNING") || line.contains("ERROR") || line.starts_with("qpdf:")
        })
        .filter(|line| !line.contains("operation succeeded with warnings"))
        .map(|line| line.replace(&name, "FILE"))
        .collect()
}

/// A PDF of `objects` (numbered from 1; object 1 is the catalog) with a classic cross-reference
/// table, for tests that draw into a page of their own.
pub fn classic_pdf(objects: &[&[u8]]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (number, object) in (1..).zip(objects) {
        offsets.push(out.len());
        out.extend_from_slice(format!("{number} 0 obj\n").as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let start = out.len();
    let size = objects.len() + 1;
    out.extend_from_slice(format!("xref\n0 {size}\n0000000000 65535 f\r\n").as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{start}\n%%EOF\n").as_bytes(),
    );
    out
}

/// Renders one page with pdftoppm as an 8-bit grey image at 72 dpi (one pixel per point).
pub fn render_page_gray(pdf: &Path, page: u32) -> Result<GrayImage, String> {
    let pdftoppm = require_tool("pdftoppm");
    let tmp = TempDir::new().expect("temp dir");
    let prefix = tmp.path().join("page");
    let page = page.to_string();
    let result = run(Command::new(pdftoppm)
        .args(["-gray", "-r", "72", "-singlefile", "-f", &page, "-l", &page])
        .arg(pdf)
        .arg(&prefix));
    if !result.ok() {
        return Err(result.describe());
    }
    let bytes = std::fs::read(prefix.with_extension("pgm"))
        .map_err(|e| format!("{e}\n{}", result.describe()))?;
    GrayImage::from_pgm(&bytes)
        .ok_or_else(|| format!("pdftoppm wrote an unreadable PGM\n{}", result.describe()))
}

/// A binary PGM (P5, maxval 255).
pub struct GrayImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl GrayImage {
    fn from_pgm(bytes: &[u8]) -> Option<GrayImage> {
        let mut fields = Vec::new();
        let mut at = 0;
        while fields.len() < 4 {
            while bytes.get(at)?.is_ascii_whitespace() {
                at += 1;
            }
            let start = at;
            while !bytes.get(at)?.is_ascii_whitespace() {
                at += 1;
            }
            fields.push(std::str::from_utf8(bytes.get(start..at)?).ok()?.to_owned());
        }
        let (width, height) = (fields[1].parse().ok()?, fields[2].parse().ok()?);
        if fields[0] != "P5" || fields[3] != "255" {
            return None;
        }
        let pixels = bytes.get(at + 1..at + 1 + width * height)?.to_vec();
        Some(GrayImage {
            width,
            height,
            pixels,
        })
    }

    /// The pixel showing point (x, y) of PDF user space (origin bottom left, MediaBox at 0 0) on a
    /// page displayed with /Rotate `rotate` (clockwise), if inside the image.
    pub fn at_pdf(&self, x: usize, y: usize, rotate: u32) -> Option<u8> {
        let (column, row) = match rotate {
            90 => (y, x),
            180 => (self.width.checked_sub(x + 1)?, y),
            270 => (
                self.width.checked_sub(y + 1)?,
                self.height.checked_sub(x + 1)?,
            ),
            _ => (x, self.height.checked_sub(y + 1)?),
        };
        (column < self.width && row < self.height).then(|| self.pixels[row * self.width + column])
    }
}

/// A parsed JSON value, enough for the reports of tests/tools (no serde in dev-dependencies).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

static NULL: Json = Json::Null;

impl Json {
    pub fn parse(text: &str) -> Result<Json, String> {
        let mut parser = JsonParser {
            bytes: text.as_bytes(),
            at: 0,
        };
        let value = parser.value()?;
        parser.skip_space();
        if parser.at != parser.bytes.len() {
            return Err(format!("trailing data at byte {}", parser.at));
        }
        Ok(value)
    }

    /// The member `key` of an object, or null.
    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Object(map) => map.get(key).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    pub fn array(&self) -> &[Json] {
        match self {
            Json::Array(items) => items,
            _ => &[],
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The string value, or "" for anything else.
    pub fn str(&self) -> &str {
        self.as_str().unwrap_or("")
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }
}

impl std::fmt::Display for Json {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Json::Null => write!(f, "null"),
            Json::Bool(b) => write!(f, "{b}"),
            Json::Number(n) => write!(f, "{n}"),
            Json::String(s) => write!(f, "{s:?}"),
            Json::Array(items) => {
                write!(f, "[")?;
                for (i, item) in items.iter().enumerate() {
                    write!(f, "{}{item}", if i > 0 { ", " } else { "" })?;
                }
                write!(f, "]")
            }
            Json::Object(map) => {
                write!(f, "{{")?;
                for (i, (key, value)) in map.iter().enumerate() {
                    write!(f, "{}{key:?}: {value}", if i > 0 { ", " } else { "" })?;
                }
                write!(f, "}}")
            }
        }
    }
}

struct JsonParser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl JsonParser<'_> {
    fn skip_space(&mut self) {
        while self
            .bytes
            .get(self.at)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Result<u8, String> {
        self.skip_space();
        self.bytes
            .get(self.at)
            .copied()
            .ok_or_else(|| "unexpected end".to_owned())
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek()? != byte {
            return Err(format!("expected '{}' at byte {}", byte as char, self.at));
        }
        self.at += 1;
        Ok(())
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(format!("bad literal at byte {}", self.at))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        match self.peek()? {
            b'n' => self.literal("null", Json::Null),
            b't' => self.literal("true", Json::Bool(true)),
            b'f' => self.literal("false", Json::Bool(false)),
            b'"' => self.string().map(Json::String),
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                if self.peek()? == b']' {
                    self.at += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    if self.peek()? == b',' {
                        self.at += 1;
                    } else {
                        self.expect(b']')?;
                        return Ok(Json::Array(items));
                    }
                }
            }
            b'{' => {
                self.at += 1;
                let mut map = BTreeMap::new();
                if self.peek()? == b'}' {
                    self.at += 1;
                    return Ok(Json::Object(map));
                }
                loop {
                    self.peek()?;
                    let key = self.string()?;
                    self.expect(b':')?;
                    map.insert(key, self.value()?);
                    if self.peek()? == b',' {
                        self.at += 1;
                    } else {
                        self.expect(b'}')?;
                        return Ok(Json::Object(map));
                    }
                }
            }
            _ => self.number(),
        }
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.at;
        while self
            .bytes
            .get(self.at)
            .is_some_and(|b| b"+-.eE0123456789".contains(b))
        {
            self.at += 1;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).map_err(|e| e.to_string())?;
        text.parse()
            .map(Json::Number)
            .map_err(|_| format!("bad number {text:?} at byte {start}"))
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out: Vec<u16> = Vec::new();
        let mut utf8 = Vec::new();
        loop {
            let byte = *self.bytes.get(self.at).ok_or("unterminated string")?;
            self.at += 1;
            match byte {
                b'"' => break,
                b'\\' => {
                    flush_utf8(&mut utf8, &mut out)?;
                    let escape = *self.bytes.get(self.at).ok_or("bad escape")?;
                    self.at += 1;
                    let unit = match escape {
                        b'n' => u16::from(b'\n'),
                        b't' => u16::from(b'\t'),
                        b'r' => u16::from(b'\r'),
                        b'b' => 8,
                        b'f' => 12,
                        b'u' => {
                            let hex = self
                                .bytes
                                .get(self.at..self.at + 4)
                                .ok_or("bad \\u escape")?;
                            self.at += 4;
                            u16::from_str_radix(
                                std::str::from_utf8(hex).map_err(|e| e.to_string())?,
                                16,
                            )
                            .map_err(|e| e.to_string())?
                        }
                        other => u16::from(other),
                    };
                    out.push(unit);
                }
                _ => utf8.push(byte),
            }
        }
        flush_utf8(&mut utf8, &mut out)?;
        String::from_utf16(&out).map_err(|e| e.to_string())
    }
}

fn flush_utf8(utf8: &mut Vec<u8>, out: &mut Vec<u16>) -> Result<(), String> {
    let text = std::str::from_utf8(utf8).map_err(|e| e.to_string())?;
    out.extend(text.encode_utf16());
    utf8.clear();
    Ok(())
}
