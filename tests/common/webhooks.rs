//! A webhook receiver for the tests: tests/tools/webhook_receiver.py in its own process, which
//! checks every signature with Python's own hmac, records what arrived, and can be made to answer
//! 503 for a while.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

use super::repo_root;
use super::service::Service;

/// A receiver process (tests/tools/webhook_receiver.py) in its own directory.
pub struct Receiver {
    child: Child,
    dir: TempDir,
    pub url: String,
}

impl Receiver {
    pub fn start() -> Receiver {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new("python3")
            .arg(repo_root().join("tests/tools/webhook_receiver.py"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 tests/tools/webhook_receiver.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("receiver said {line:?}"));
        let url = format!("http://127.0.0.1:{port}");
        Receiver { child, dir, url }
    }

    /// The secret deliveries to `path` are checked with.
    pub fn set_secret(&self, path: &str, secret: &str) {
        let file = self.dir.path().join("secrets.json");
        let mut secrets: Value = std::fs::read(&file)
            .map(|bytes| serde_json::from_slice(&bytes).unwrap())
            .unwrap_or_else(|_| json!({}));
        secrets[path] = json!(secret);
        std::fs::write(&file, serde_json::to_vec(&secrets).unwrap()).unwrap();
    }

    /// While down, it answers every delivery 503.
    pub fn set_down(&self, down: bool) {
        let flag = self.dir.path().join("down");
        if down {
            std::fs::write(flag, b"").unwrap();
        } else {
            std::fs::remove_file(flag).unwrap();
        }
    }

    /// Every POST it got, in order.
    pub fn received(&self) -> Vec<Value> {
        read_lines(&self.dir.path().join("received.jsonl"))
    }

    /// Waits (up to 60 s) until what was received satisfies `done`; returns it.
    pub fn wait_for(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let received = self.received();
            if done(&received) {
                return received;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "waited 60 s for {what}; received {received:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until `count` distinct events were accepted at `path`.
    pub fn wait_delivered(&self, path: &str, count: usize) {
        self.wait_for(&format!("{count} events at {path}"), |received| {
            delivered_ids(received, path).len() >= count
        });
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn read_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The ids accepted (200) at `path`, each at its first acceptance: a redelivery (at least once)
/// is allowed, an event arriving before an earlier one is not.
pub fn delivered_ids(received: &[Value], path: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = Vec::new();
    for record in received
        .iter()
        .filter(|r| r["path"] == path && r["status"] == 200)
    {
        let id = record["id"].as_i64().unwrap();
        if !ids.contains(&id) {
            assert!(
                ids.last().is_none_or(|last| *last < id),
                "event {id} arrived after {ids:?} at {path}"
            );
            ids.push(id);
        }
    }
    ids
}

/// Creates a subscriber for `receiver` at `path` (extra fields from `options`), hands the
/// receiver its secret, and returns the subscriber's id.
pub fn subscribe(
    service: &Service,
    admin: &str,
    receiver: &Receiver,
    path: &str,
    options: Value,
) -> String {
    let mut body =
        json!({ "name": format!("receiver {path}"), "url": format!("{}{path}", receiver.url) });
    for (key, value) in options.as_object().unwrap() {
        body[key] = value.clone();
    }
    let created = service.post_json("/api/v1/webhooks", Some(admin), &body);
    assert_eq!(created.status(), 201, "{:?}", created.text());
    let created: Value = created.json().unwrap();
    receiver.set_secret(path, created["secret"].as_str().unwrap());
    created["webhook"]["id"].as_str().unwrap().to_string()
}
