//! A real `oneseal serve` on loopback for the service tests: fresh data directory, SQLite or a
//! fresh database on the test PostgreSQL server (`scripts/postgres-test-server`), tokens made
//! with the real `oneseal token create`, and a blocking HTTP client.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder, Response};
use tempfile::TempDir;

use super::{SETUP_HINT, oneseal_binary, repo_root};

/// Which registry the service runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Database {
    Sqlite,
    Postgres,
}

/// Runs the same test body on both registries: `both_databases!(name, body_fn);`.
#[macro_export]
macro_rules! both_databases {
    ($($name:ident => $body:ident;)+) => {
        mod sqlite {
            $(#[test] fn $name() { super::$body($crate::common::service::Database::Sqlite) })+
        }
        mod postgres {
            $(#[test] fn $name() { super::$body($crate::common::service::Database::Postgres) })+
        }
    };
}

/// The test PostgreSQL server's URL (a role that may create databases).
pub fn postgres_admin_url() -> String {
    std::env::var("ONESEAL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| panic!("ONESEAL_TEST_POSTGRES_URL is not set: {SETUP_HINT}"))
}

/// A new, empty database on the test server, named uniquely for this test.
pub fn fresh_postgres_database() -> String {
    let admin = postgres_admin_url();
    let name = format!(
        "oneseal_t{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    psql(&admin, &format!("CREATE DATABASE {name}"));
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Runs one SQL command with psql; panics with its output on failure.
pub fn psql(url: &str, sql: &str) -> String {
    let output = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql])
        .output()
        .unwrap_or_else(|e| panic!("psql: {e}: {SETUP_HINT}"));
    assert!(
        output.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A running service and everything needed to restart it on the same registry.
pub struct Service {
    child: Option<Child>,
    pub database: Database,
    pub url: String,
    pub data: TempDir,
    /// `ONESEAL_DATABASE_URL` for PostgreSQL; SQLite lives in `data`.
    pub database_url: Option<String>,
    pub env: Vec<(String, String)>,
    log: PathBuf,
    client: Client,
}

impl Service {
    pub fn start(database: Database) -> Service {
        Service::start_with(database, &[])
    }

    /// Starts with extra environment (e.g. `ONESEAL_VERIFY_PER_MINUTE`).
    pub fn start_with(database: Database, env: &[(&str, &str)]) -> Service {
        let data = tempfile::tempdir().expect("temp dir");
        let database_url = (database == Database::Postgres).then(fresh_postgres_database);
        let log = data.path().join("serve.log");
        super::install_crypto_provider();
        let mut service = Service {
            child: None,
            database,
            url: String::new(),
            database_url,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            log,
            data,
            client: Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .expect("HTTP client"),
        };
        service.launch();
        service
    }

    /// A second instance on the same PostgreSQL registry (its own data directory).
    pub fn start_sharing(other: &Service, env: &[(&str, &str)]) -> Service {
        let data = tempfile::tempdir().expect("temp dir");
        let log = data.path().join("serve.log");
        let mut service = Service {
            child: None,
            database: other.database,
            url: String::new(),
            database_url: None,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            log,
            data,
            client: other.client.clone(),
        };
        if let Some(url) = &other.database_url {
            service
                .env
                .push(("ONESEAL_DATABASE_URL".into(), url.clone()));
        }
        service.launch();
        service
    }

    fn command(&self) -> Command {
        let mut command = Command::new(oneseal_binary());
        command.current_dir(self.data.path());
        command
            .env_remove("ONESEAL_DATABASE_URL")
            .env_remove("ONESEAL_CONFIG");
        command.env("ONESEAL_DATA_DIR", self.data.path().join("data"));
        if let Some(url) = &self.database_url {
            command.env("ONESEAL_DATABASE_URL", url);
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    /// Starts the process on a free port (or on `ONESEAL_LISTEN` when the test's environment
    /// fixes one, e.g. for a seal whose CRL distribution point names the service) and waits
    /// until it listens.
    fn launch(&mut self) {
        // Lines of earlier launches (the log is appended across restarts) do not count.
        let earlier = std::fs::read(&self.log)
            .map(|bytes| bytes.iter().filter(|&&b| b == b'\n').count())
            .unwrap_or(0);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let listen = self
            .env
            .iter()
            .find(|(key, _)| key == "ONESEAL_LISTEN")
            .map_or("127.0.0.1:0".to_string(), |(_, address)| address.clone());
        let child = self
            .command()
            .args(["serve", "--listen", &listen])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start oneseal serve");
        self.child = Some(child);
        self.url = self.wait_listening(earlier);
    }

    fn wait_listening(&mut self, earlier: usize) -> String {
        let started = Instant::now();
        loop {
            let file = std::fs::File::open(&self.log).expect("log");
            let lines: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
            if let Some(url) = lines.iter().skip(earlier).rev().find_map(|line| {
                line.strip_prefix("oneseal: listening on ")
                    .map(str::to_string)
            }) {
                return url;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("oneseal serve exited with {status}:\n{}", self.logs());
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "oneseal serve did not start:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything the service wrote to stderr (all launches).
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits for the graceful stop; returns the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("service is running");
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().expect("wait for oneseal serve")
    }

    /// Sends SIGTERM and returns at once; `wait_exit` collects the status.
    pub fn send_terminate(&self) {
        let child = self.child.as_ref().expect("service is running");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(sent.success(), "kill -TERM failed");
    }

    /// Waits for the process to end by itself; returns its exit status.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("service is running");
        child.wait().expect("wait for oneseal serve")
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts again on the same data and database.
    pub fn restart(&mut self) {
        self.kill9();
        self.launch();
    }

    /// Runs an `oneseal` command against this service's registry.
    pub fn oneseal(&self, args: &[&str]) -> super::Run {
        super::run(self.command().args(args))
    }

    /// A new token made with `oneseal token create`.
    pub fn token(&self, role: &str, department: Option<&str>, name: &str) -> String {
        let mut args = vec!["token", "create", "--role", role, "--name", name];
        if let Some(department) = department {
            args.extend(["--department", department]);
        }
        let run = self.oneseal(&args);
        assert!(run.ok(), "token create: {}", run.describe());
        run.stdout
            .lines()
            .last()
            .expect("token line")
            .trim()
            .to_string()
    }

    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> RequestBuilder {
        let builder = self.client.request(method, format!("{}{path}", self.url));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(reqwest::Method::GET, path, token)
            .send()
            .expect("GET")
    }

    pub fn post_json(&self, path: &str, token: Option<&str>, body: &serde_json::Value) -> Response {
        self.request(reqwest::Method::POST, path, token)
            .json(body)
            .send()
            .expect("POST")
    }

    /// Uploads the bundle folder `dir` as a department.
    pub fn upload_template(&self, token: &str, dir: &Path) -> Response {
        let form = reqwest::blocking::multipart::Form::new()
            .file("template.pdf", dir.join("template.pdf"))
            .expect("template.pdf")
            .file("template.toml", dir.join("template.toml"))
            .expect("template.toml")
            .file("example.json", dir.join("example.json"))
            .expect("example.json");
        self.request(reqwest::Method::POST, "/api/v1/templates", Some(token))
            .multipart(form)
            .send()
            .expect("upload")
    }

    /// Uploads and approves a shipped template; returns its version.
    pub fn install_template(&self, name: &str, department: &str) -> i64 {
        let dept = self.token(
            "department",
            Some(department),
            &format!("{department} uploader"),
        );
        let admin = self.token("admin", None, "template approver");
        let uploaded = self.upload_template(&dept, &shipped_template(name));
        assert_eq!(
            uploaded.status(),
            201,
            "upload {name}: {:?}",
            uploaded.text()
        );
        let version = uploaded.json::<serde_json::Value>().expect("json")["version"]
            .as_i64()
            .expect("version");
        let approved = self
            .request(
                reqwest::Method::POST,
                &format!("/api/v1/templates/{name}/versions/{version}/approve"),
                Some(&admin),
            )
            .send()
            .expect("approve");
        assert_eq!(
            approved.status(),
            200,
            "approve {name}: {:?}",
            approved.text()
        );
        version
    }

    /// Issues `template` with its shipped example data.
    pub fn issue_example(&self, issuer: &str, template: &str) -> Response {
        let data: serde_json::Value = serde_json::from_slice(
            &std::fs::read(shipped_template(template).join("example.json")).expect("example"),
        )
        .expect("example json");
        self.post_json(
            "/api/v1/certificates",
            Some(issuer),
            &serde_json::json!({ "template": template, "data": data, "delivery": "window" }),
        )
    }

    /// Issues `template`'s example through an issuance request: opened by `issuer`, signed off
    /// by a fresh reviewer of every department the manifest names, sealed by `issuer` unless
    /// the template seals automatically. Returns the certificate's serial.
    pub fn issue_example_via_request(&self, issuer: &str, template: &str) -> String {
        let manifest: toml::Value = toml::from_str(
            &std::fs::read_to_string(shipped_template(template).join("template.toml"))
                .expect("manifest"),
        )
        .expect("manifest toml");
        let opened = self.post_json(
            "/api/v1/requests",
            Some(issuer),
            &serde_json::json!({ "template": template, "data": Self::example_data(template) }),
        );
        assert_eq!(opened.status(), 201, "open: {:?}", opened.text());
        let mut request: serde_json::Value = opened.json().expect("request json");
        let id = request["id"].as_str().expect("id").to_string();
        let departments = manifest["template"]["sign_off"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for department in departments {
            let department = department.as_str().expect("department");
            let reviewer = self.token("reviewer", Some(department), &format!("审查 {department}"));
            let decided = self.post_json(
                &format!("/api/v1/requests/{id}/sign-off"),
                Some(&reviewer),
                &serde_json::json!({ "decision": "approve", "comment": "同意" }),
            );
            assert_eq!(decided.status(), 200, "sign-off: {:?}", decided.text());
            request = decided.json::<serde_json::Value>().expect("json")["request"].clone();
        }
        if request["status"] == "ready" {
            let sealed = self.post_json(
                &format!("/api/v1/requests/{id}/seal"),
                Some(issuer),
                &serde_json::json!({}),
            );
            assert_eq!(sealed.status(), 201, "seal: {:?}", sealed.text());
            return sealed.json::<serde_json::Value>().expect("json")["serial"]
                .as_str()
                .expect("serial")
                .to_string();
        }
        assert_eq!(request["status"], "issued", "{request}");
        request["serial"].as_str().expect("serial").to_string()
    }

    /// `POST /api/v1/verify` with `pdf` as the body.
    pub fn verify(&self, pdf: &[u8]) -> Response {
        self.request(reqwest::Method::POST, "/api/v1/verify", None)
            .header("content-type", "application/pdf")
            .body(pdf.to_vec())
            .send()
            .expect("verify")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill9();
        if let Some(url) = &self.database_url
            && let Some((_, name)) = url.rsplit_once('/')
        {
            let _ = Command::new("psql")
                .args([
                    &postgres_admin_url(),
                    "-qAt",
                    "-c",
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ])
                .output();
        }
    }
}

/// The bureau's day (China Standard Time) now, with its clock shifted by `days`.
pub fn bureau_day(days: i64) -> time::Date {
    let offset = time::UtcOffset::from_hms(8, 0, 0).expect("UTC+8");
    (time::OffsetDateTime::now_utc() + time::Duration::days(days))
        .to_offset(offset)
        .date()
}

/// A day as the API writes it, YYYY-MM-DD.
pub fn day_text(day: time::Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// A bundle folder under `templates/`.
pub fn shipped_template(name: &str) -> PathBuf {
    repo_root().join("templates").join(name)
}

/// The decoded PDF of a 201 issuance body.
pub fn issued_pdf(body: &serde_json::Value) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(body["pdf"].as_str().expect("pdf field"))
        .expect("base64 pdf")
}

/// The id of a token `oneseal_<id>_<secret>` (public: the audit trail and token list show it).
pub fn token_id(token: &str) -> &str {
    token
        .strip_prefix("oneseal_")
        .and_then(|rest| rest.split_once('_'))
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("not a token: {token}"))
}

/// The secret part of a token, which must never be shown again after its creation.
pub fn token_secret(token: &str) -> &str {
    token
        .strip_prefix("oneseal_")
        .and_then(|rest| rest.split_once('_'))
        .map(|(_, secret)| secret)
        .unwrap_or_else(|| panic!("not a token: {token}"))
}

/// Runs one SQL statement on an SQLite database with python3's sqlite3 module; rows are printed
/// one a line, columns joined by `|` (as `psql -At` prints them).
const SQLITE_SCRIPT: &str = "\
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], timeout=30)
for row in con.execute(sys.argv[2]):
    print('|'.join('' if c is None else str(c) for c in row))
con.commit()
";

impl Service {
    /// The embedded registry's file (SQLite only).
    pub fn sqlite_path(&self) -> PathBuf {
        self.data.path().join("data").join("oneseal.db")
    }

    /// Runs one SQL statement on the registry's database behind the service's back (tamper
    /// tests): SQLite through python3's sqlite3 module, PostgreSQL through psql. Returns the rows,
    /// one a line, columns joined by `|`.
    pub fn sql(&self, sql: &str) -> String {
        match (&self.database, &self.database_url) {
            (Database::Postgres, Some(url)) => psql(url, sql),
            _ => {
                let output = Command::new("python3")
                    .arg("-c")
                    .arg(SQLITE_SCRIPT)
                    .arg(self.sqlite_path())
                    .arg(sql)
                    .output()
                    .unwrap_or_else(|e| panic!("python3: {e}: {SETUP_HINT}"));
                assert!(
                    output.status.success(),
                    "sqlite3 {sql}: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                String::from_utf8_lossy(&output.stdout).into_owned()
            }
        }
    }

    /// `POST /api/v1/templates` with `parts` (name, bytes) as multipart/form-data.
    pub fn upload_parts(&self, token: Option<&str>, parts: &[(&str, Vec<u8>)]) -> Response {
        let (content_type, body) = multipart_body(parts);
        self.request(reqwest::Method::POST, "/api/v1/templates", token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .expect("upload")
    }

    /// The shipped example data of `template`.
    pub fn example_data(template: &str) -> serde_json::Value {
        serde_json::from_slice(
            &std::fs::read(shipped_template(template).join("example.json")).expect("example"),
        )
        .expect("example json")
    }

    /// Makes the registry refuse audit entries whose action is `action`, with a trigger in the
    /// database itself ("the audit disk is full").
    pub fn refuse_audit_entries(&self, action: &str) {
        self.sql(&match self.database {
            Database::Sqlite => format!(
                "CREATE TRIGGER refuse BEFORE INSERT ON audit WHEN NEW.action = '{action}' \
                 BEGIN SELECT RAISE(ABORT, 'the audit disk is full'); END;"
            ),
            Database::Postgres => format!(
                "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger AS $$ BEGIN \
                 IF NEW.action = '{action}' THEN RAISE EXCEPTION 'the audit disk is full'; \
                 END IF; RETURN NEW; END $$ LANGUAGE plpgsql; \
                 CREATE TRIGGER refuse BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION refuse();"
            ),
        });
    }

    /// Removes what `refuse_audit_entries` put in.
    pub fn allow_audit_entries(&self) {
        self.sql(match self.database {
            Database::Sqlite => "DROP TRIGGER refuse;",
            Database::Postgres => "DROP TRIGGER refuse ON audit;",
        });
    }

    /// `GET /healthz` answers 200: the service is still up.
    pub fn assert_healthy(&self) {
        let health = self.get("/healthz", None);
        assert_eq!(health.status(), 200, "{:?}", health.text());
    }
}

/// The three parts of a shipped bundle, by multipart name.
pub fn bundle_parts(name: &str) -> Vec<(&'static str, Vec<u8>)> {
    let dir = shipped_template(name);
    ["template.pdf", "template.toml", "example.json"]
        .into_iter()
        .map(|part| (part, std::fs::read(dir.join(part)).expect("bundle part")))
        .collect()
}

/// A multipart/form-data body made by hand: hostile tests control every part, and the body goes
/// out whole (reqwest's streamed forms fail on the client side when the server answers early).
pub fn multipart_body(parts: &[(&str, Vec<u8>)]) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "oneseal-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, bytes) in parts {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// Checks a failure has the one error shape — `{"error": {"code", "message", "request_id"}}`
/// (plus `problems` when listed), the `x-request-id` header equal to the body's — the expected
/// status and code (a code ending in `.` matches any code under it, an empty one any code), and a safe message.
/// Returns the `error` object.
pub fn expect_error(response: Response, status: u16, code: &str) -> serde_json::Value {
    let got = response.status().as_u16();
    let header_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = response.text().expect("error body");
    assert_eq!(got, status, "status (wanted {status} {code}): {text}");
    assert!(
        content_type.starts_with("application/json"),
        "content type {content_type:?}: {text}"
    );
    let body: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    let object = body.as_object().expect("error body is an object");
    assert_eq!(object.len(), 1, "only `error` at the top: {text}");
    let error = body["error"].as_object().expect("`error` object");
    for key in error.keys() {
        assert!(
            ["code", "message", "problems", "request_id"].contains(&key.as_str()),
            "unexpected key {key}: {text}"
        );
    }
    let got_code = error["code"].as_str().expect("code");
    if code.is_empty() {
        // Any code: the caller checks only that the refusal is clean.
    } else if code.ends_with('.') {
        assert!(
            got_code.starts_with(code),
            "code {got_code}, wanted {code}*: {text}"
        );
    } else {
        assert_eq!(got_code, code, "{text}");
    }
    let message = error["message"].as_str().expect("message");
    assert!(!message.trim().is_empty(), "empty message: {text}");
    assert_safe_message(message);
    if let Some(problems) = error.get("problems") {
        for problem in problems.as_array().expect("problems array") {
            assert_safe_message(problem["message"].as_str().expect("problem message"));
            assert!(problem["place"].is_string(), "problem place: {text}");
        }
    }
    let request_id = error["request_id"].as_str().expect("request_id");
    assert!(!request_id.is_empty(), "empty request id: {text}");
    assert_eq!(
        header_id.as_deref(),
        Some(request_id),
        "x-request-id: {text}"
    );
    body["error"].clone()
}

/// A message for a client names what was wrong in the request, never our internals: no Rust
/// type paths or type names, SQL, server file paths or stack traces.
pub fn assert_safe_message(message: &str) {
    let lower = message.to_lowercase();
    #[rustfmt::skip]
    let internals = [
        "::", "src/", ".rs:", "/tmp/", "/home/", "/work/", "/root/", "/usr/", "/var/", "panicked",
        "backtrace", "sqlx", "sqlite", "postgres", "select ", "insert into", "delete from",
        "update audit", "update tokens", "update templates", "update certificates", "where id",
        "$1", "no such table", "constraint", "violates", "struct ", "enum ", "`i64`", "`u64`",
        "`usize`", "`string`", "option<", "vec<", "box<", "rawvalue", "error {", "kind:",
    ];
    for internal in internals {
        assert!(
            !lower.contains(internal),
            "message shows internals ({internal:?}): {message}"
        );
    }
}

/// A client whose connections come from `local` (any 127.x.y.z reaches the service on
/// 127.0.0.1), so per-address limits can be told apart from per-token ones. It keeps no idle
/// connections: after a refusal the server may close one the client would otherwise reuse.
pub fn client_from(local: std::net::IpAddr) -> Client {
    super::install_crypto_provider();
    Client::builder()
        .local_address(local)
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("HTTP client")
}
