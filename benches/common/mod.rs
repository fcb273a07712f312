//! What the signing and verification benchmarks share: the inputs, the key, timing helpers.
// Each bench target compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, SamplingMode, Throughput};

/// The benchmark inputs, smallest first, as the generator names them.
pub const FILES: [&str; 3] = [
    "one-page.pdf",
    "image-heavy-10mb.pdf",
    "text-heavy-10mb.pdf",
];
/// Size of the DER signed attributes an ECDSA signature covers in a PAdES CMS.
pub const SIGNED_ATTRIBUTES_BYTES: usize = 160;

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where the generated inputs live.
pub fn data_dir() -> PathBuf {
    root().join("benches/data/generated")
}

/// `ONESEAL_BENCH_KEYS`, if set.
pub fn keys_override() -> Option<PathBuf> {
    std::env::var_os("ONESEAL_BENCH_KEYS").map(PathBuf::from)
}

/// The key directory: `ONESEAL_BENCH_KEYS` or `keys-example/`.
pub fn keys_dir() -> PathBuf {
    keys_override().unwrap_or_else(|| root().join("keys-example"))
}

/// Reads one input, saying how to generate the inputs when it is missing.
pub fn read_input(name: &str) -> Result<Vec<u8>, String> {
    let path = data_dir().join(name);
    std::fs::read(&path).map_err(|error| {
        format!(
            "cannot read {} ({error}).\n  Generate the inputs first:\n    \
             python3 -m venv .venv && .venv/bin/pip install reportlab pillow\n    \
             .venv/bin/python benches/data/make_bench_pdfs.py\n  \
             (or run scripts/bench, which does this)",
            path.display()
        )
    })
}

/// Reads `name` from the key directory, saying how to point at another one.
pub fn read_key_file(keys: &Path, name: &str) -> Result<Vec<u8>, String> {
    let path = keys.join(name);
    std::fs::read(&path).map_err(|error| {
        format!(
            "cannot read {} ({error}); set ONESEAL_BENCH_KEYS to a directory holding \
             seal-key.pem, seal-cert.pem and root-ca.pem (e.g. from `oneseal keygen --out DIR`)",
            path.display()
        )
    })
}

/// Nanoseconds `work` takes, its result kept alive.
pub fn time_ns<T>(work: impl FnOnce() -> T) -> f64 {
    let start = std::time::Instant::now();
    black_box(work());
    start.elapsed().as_nanos() as f64
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Bytes throughput, and fewer, flat samples for the 10 MB files so a run stays in minutes.
pub fn configure_for_size(group: &mut BenchmarkGroup<'_, WallTime>, bytes: usize) {
    group.throughput(Throughput::Bytes(bytes as u64));
    if bytes > 1 << 20 {
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(30);
        group.measurement_time(Duration::from_secs(8));
    } else {
        group.sampling_mode(SamplingMode::Auto);
        group.sample_size(100);
        group.measurement_time(Duration::from_secs(5));
    }
}
