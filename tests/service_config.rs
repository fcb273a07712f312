//! `oneseal serve`'s configuration: embedded defaults, TOML with environment overrides, TLS, and
//! production mode's refusals of seals that are not safe to sign with.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::{SETUP_HINT, oneseal_binary, repo_root};

/// How a `serve` started: the URL it listens on, or its exit code and stderr.
enum Started {
    Listening(Child, String),
    Exited(i32, String),
}

fn serve(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Started {
    let mut command = Command::new(oneseal_binary());
    command
        .current_dir(dir)
        .arg("serve")
        .args(args)
        .env_remove("ONESEAL_DATABASE_URL")
        .env_remove("ONESEAL_KEY_PASSPHRASE")
        .env("ONESEAL_LOG_FORMAT", "text")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("start oneseal serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut seen = String::new();
    let mut lines = BufReader::new(stderr).lines();
    for line in lines.by_ref().map_while(Result::ok) {
        seen.push_str(&line);
        seen.push('\n');
        if let Some(url) = line.strip_prefix("oneseal: listening on ") {
            // Keep reading, as a terminal would, so the server's log lines have somewhere to go.
            std::thread::spawn(move || lines.for_each(drop));
            return Started::Listening(child, url.to_string());
        }
    }
    let status = child.wait().expect("wait");
    Started::Exited(status.code().unwrap_or(-1), seen)
}

fn refused(dir: &Path, env: &[(&str, &str)], expected: &str) {
    match serve(dir, &["--listen", "127.0.0.1:0"], env) {
        Started::Listening(mut child, url) => {
            let _ = child.kill();
            panic!("production started on {url}; expected a refusal naming {expected:?}");
        }
        Started::Exited(code, stderr) => {
            assert_eq!(code, 2, "{stderr}");
            assert!(
                stderr.contains(expected),
                "expected {expected:?} in:\n{stderr}"
            );
        }
    }
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn curl(args: &[&str]) -> (bool, String) {
    let output = Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("curl: {e}: {SETUP_HINT}"));
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[test]
fn fresh_start_makes_and_announces_a_development_seal() {
    let dir = tempfile::tempdir().unwrap();
    let Started::Listening(child, url) = serve(dir.path(), &["--listen", "127.0.0.1:0"], &[])
    else {
        panic!("did not start");
    };
    let (ok, health) = curl(&[&format!("{url}/healthz")]);
    stop(child);
    assert!(ok && health.contains("\"ok\""), "{health}");
    let seal = dir.path().join("data/development-seal");
    assert!(seal.join("DEVELOPMENT-ONLY").is_file());
    assert!(dir.path().join("data/oneseal.db").is_file());
    let chain = std::fs::read_to_string(seal.join("seal-cert.pem")).unwrap();
    assert!(chain.contains("BEGIN CERTIFICATE"));
}

#[test]
fn production_refuses_development_example_plain_and_shared_keys() {
    let dir = tempfile::tempdir().unwrap();
    let production = [("ONESEAL_MODE", "production")];
    // No seal configured: production does not make one.
    refused(dir.path(), &production, "production mode needs a seal");

    // The committed example seal.
    let example = repo_root().join("keys-example");
    let example = example.to_str().unwrap();
    refused(
        dir.path(),
        &[
            ("ONESEAL_MODE", "production"),
            ("ONESEAL_SEAL_KEYS", example),
        ],
        "example seal",
    );

    // The development seal a first start made.
    if let Started::Listening(child, _) = serve(dir.path(), &["--listen", "127.0.0.1:0"], &[]) {
        stop(child);
    }
    let development = dir.path().join("data/development-seal");
    refused(
        dir.path(),
        &[
            ("ONESEAL_MODE", "production"),
            ("ONESEAL_SEAL_KEYS", development.to_str().unwrap()),
        ],
        "development seal",
    );

    // A real seal, but its key is not encrypted.
    let plain = common::keygen(&[
        "--org",
        "某开发区行政审批局",
        "--seal-name",
        "某开发区行政审批局行政审批专用章",
    ]);
    refused(
        dir.path(),
        &[
            ("ONESEAL_MODE", "production"),
            ("ONESEAL_SEAL_KEYS", plain.dir.as_path().to_str().unwrap()),
        ],
        "unencrypted key",
    );

    // Encrypted: production starts; readable by others: refused.
    let passphrase = ("ONESEAL_KEY_PASSPHRASE", "correct horse battery staple");
    let sealed = common::keygen_env(
        &[
            "--org",
            "某开发区行政审批局",
            "--seal-name",
            "某开发区行政审批局行政审批专用章",
        ],
        &[passphrase],
    );
    let keys = sealed.dir.as_path().to_str().unwrap();
    let env = [
        ("ONESEAL_MODE", "production"),
        ("ONESEAL_SEAL_KEYS", keys),
        passphrase,
    ];
    refused(dir.path(), &env, "production needs base_url");
    let env = [
        ("ONESEAL_MODE", "production"),
        ("ONESEAL_SEAL_KEYS", keys),
        passphrase,
        ("ONESEAL_BASE_URL", "https://zwfw.example.gov.cn/verify/"),
    ];
    match serve(dir.path(), &["--listen", "127.0.0.1:0"], &env) {
        Started::Listening(child, _) => stop(child),
        Started::Exited(code, stderr) => {
            panic!("production refused a good seal ({code}): {stderr}")
        }
    }
    // A shifted clock would move every deadline: development only.
    let shifted = [
        env[0],
        env[1],
        env[2],
        env[3],
        ("ONESEAL_CLOCK_OFFSET_SECONDS", "86400"),
    ];
    refused(dir.path(), &shifted, "production refuses a shifted clock");
    let key = sealed.dir.as_path().join("seal-key.pem");
    let mut permissions = std::fs::metadata(&key).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o644);
    std::fs::set_permissions(&key, permissions).unwrap();
    refused(dir.path(), &env, "others can read");
}

#[test]
fn configuration_file_environment_and_flags_layer_in_that_order() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("oneseal.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:1\"\ndata_dir = \"store\"\n[log]\nformat = \"text\"\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    // The environment overrides the file's port 1 (which needs root to bind).
    let Started::Listening(child, _) = serve(
        dir.path(),
        &["--config", config],
        &[("ONESEAL_LISTEN", "127.0.0.1:0")],
    ) else {
        panic!("ONESEAL_LISTEN did not override the file's listen");
    };
    stop(child);
    assert!(
        dir.path().join("store/oneseal.db").is_file(),
        "data_dir from the file"
    );

    // A misspelt key is refused by name, with the file named.
    std::fs::write(dir.path().join("bad.toml"), "lisen = \"127.0.0.1:0\"\n").unwrap();
    let bad = dir.path().join("bad.toml");
    match serve(dir.path(), &["--config", bad.to_str().unwrap()], &[]) {
        Started::Exited(2, stderr) => {
            assert!(
                stderr.contains("bad.toml") && stderr.contains("lisen"),
                "{stderr}"
            );
        }
        Started::Exited(code, stderr) => panic!("exit {code}: {stderr}"),
        Started::Listening(child, _) => {
            stop(child);
            panic!("a misspelt key was accepted");
        }
    }
}

#[test]
fn tls_serves_https_with_the_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (certificate, key) = (dir.path().join("tls.pem"), dir.path().join("tls-key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&certificate)
        .output()
        .unwrap_or_else(|e| panic!("openssl: {e}: {SETUP_HINT}"));
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let env = [
        ("ONESEAL_TLS_CERTIFICATE", certificate.to_str().unwrap()),
        ("ONESEAL_TLS_KEY", key.to_str().unwrap()),
    ];
    let Started::Listening(child, url) = serve(dir.path(), &["--listen", "127.0.0.1:0"], &env)
    else {
        panic!("TLS did not start");
    };
    assert!(url.starts_with("https://"), "{url}");
    let (ok, body) = curl(&[
        "-i",
        "--cacert",
        certificate.to_str().unwrap(),
        &format!("{url}/healthz"),
    ]);
    let (plain_ok, _) = curl(&[&format!("{}/healthz", url.replacen("https", "http", 1))]);
    stop(child);
    assert!(ok, "{body}");
    assert!(
        body.to_lowercase().contains("strict-transport-security"),
        "{body}"
    );
    assert!(!plain_ok, "plain HTTP must not be answered on the TLS port");
}
