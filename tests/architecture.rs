//! The pure core stays pure (../shared/STYLE.md): no I/O, clock, global RNG or server crates in
//! `approval`, `pdf`, `cms`, `pki`, `sign`, `verify` and `template`, so they stay deterministic
//! and fuzzable.
#![allow(clippy::expect_used, clippy::panic)]

use std::path::Path;

const PURE: [&str; 8] = [
    "src/approval",
    "src/pdf",
    "src/cms",
    "src/pki",
    "src/sign",
    "src/sign.rs",
    "src/verify",
    "src/template",
];
const FORBIDDEN: [&str; 12] = [
    "std::fs",
    "std::net",
    "std::env",
    "std::process",
    "tokio",
    "axum",
    "sqlx",
    "SystemTime",
    "Instant::now",
    "now_utc",
    "SystemRandom",
    "thread_rng",
];

fn rust_files(path: &Path, found: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())) {
            rust_files(&entry.expect("directory entry").path(), found);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        found.push(path.to_path_buf());
    }
}

#[test]
fn pure_modules_do_no_io_and_read_no_clock() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for module in PURE {
        rust_files(&root.join(module), &mut files);
    }
    assert!(
        files.len() >= 8,
        "expected the pure modules' files, found {files:?}"
    );
    let mut offences = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable source");
        // Test modules may use what they like; they sit at the end of each file.
        let production = text.split("#[cfg(test)]").next().unwrap_or_default();
        for word in FORBIDDEN {
            if production.contains(word) {
                offences.push(format!("{} uses {word}", file.display()));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "the pure core reaches outside itself:\n{}",
        offences.join("\n")
    );
}

/// Data flows one way (../shared/STYLE.md): `http` → `service` → `registry`, `seal` and the
/// pure core. Nothing below imports anything above it, and only `http` knows axum.
#[test]
fn layers_import_only_downwards() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules: [(&str, &[&str]); 4] = [
        (
            "src/registry",
            &["crate::service", "crate::http", "axum", "tower"],
        ),
        ("src/service", &["crate::http", "axum", "tower"]),
        (
            "src/seal",
            &[
                "crate::service",
                "crate::http",
                "crate::registry",
                "sqlx",
                "axum",
            ],
        ),
        (
            "src/template",
            &[
                "crate::service",
                "crate::http",
                "crate::registry",
                "crate::seal",
            ],
        ),
    ];
    let mut offences = Vec::new();
    for (module, forbidden) in rules {
        let mut files = Vec::new();
        rust_files(&root.join(module), &mut files);
        assert!(!files.is_empty(), "{module} has no files");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("readable source");
            let production = text.split("#[cfg(test)]").next().unwrap_or_default();
            for word in forbidden {
                if production.contains(word) {
                    offences.push(format!("{} uses {word}", file.display()));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "a layer imports upwards:\n{}",
        offences.join("\n")
    );
}
