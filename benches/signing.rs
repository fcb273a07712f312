//! Signing throughput: `sign_pdf` bytes in, bytes out, beside the floor no signer can beat.
//!
//! `sign_pdf` prepares the signer on every call; `seal_sign` times a `Seal` prepared once, as a
//! long-running service holds it.
//!
//! The floor for one signature over a file is measured in the same run, from its parts:
//! one SHA-256 pass over the file (the ByteRange digest), one ECDSA P-256 signature (the signed
//! attributes) and copying the input into a new buffer plus writing a ~20 KB revision.
//! `scripts/bench` sums them and reports each file's ratio to the floor in `BENCHMARKS.md`.
//!
//! Inputs come from `benches/data/make_bench_pdfs.py` (deterministic, git-ignored); the key is
//! `keys-example/` unless `ONESEAL_BENCH_KEYS` names another directory holding
//! `seal-key.pem` and `seal-cert.pem`. With `ONESEAL_BENCH_PAIRED=FILE`, a bench run ends with
//! an interleaved comparison (see `paired_comparison`) written to FILE as JSON.

use std::hint::black_box;
use std::path::Path;
use std::process::ExitCode;

use criterion::{BenchmarkId, Criterion};
use ring::digest::{SHA256, digest};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use time::OffsetDateTime;

use oneseal::seal::KeyFileSigner;
use oneseal::sign::{Seal, SignatureRequest, sign_pdf};

/// Bytes an incremental signature revision adds: `/Contents` reserve, dictionaries, xref.
const REVISION_BYTES: usize = 20 * 1024;
/// The claimed signing time, fixed so every iteration does the same work.
const SIGNING_TIME_UNIX: i64 = 1_764_000_000;

mod common;

use common::{
    FILES, SIGNED_ATTRIBUTES_BYTES, configure_for_size, median, read_input, read_key_file, time_ns,
};

fn main() -> ExitCode {
    let bench_mode = std::env::args().any(|argument| argument == "--bench");
    let setup = match Setup::load() {
        Ok(setup) => setup,
        Err(message) => {
            eprintln!("benches/signing: {message}");
            // `cargo test --all-targets` runs this once as a smoke test; missing inputs skip it.
            return if bench_mode {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let mut criterion = Criterion::default().configure_from_args();
    bench_sign_pdf(&mut criterion, &setup);
    bench_floor(&mut criterion, &setup);
    criterion.final_summary();
    if let Some(out) = std::env::var_os("ONESEAL_BENCH_PAIRED").filter(|_| bench_mode)
        && let Err(message) = paired_comparison(&setup, Path::new(&out))
    {
        eprintln!("benches/signing: paired comparison: {message}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Everything loaded once, outside every timing loop.
struct Setup {
    inputs: Vec<(&'static str, Vec<u8>)>,
    signer: KeyFileSigner,
    request: SignatureRequest,
}

impl Setup {
    fn load() -> Result<Self, String> {
        let mut inputs = Vec::new();
        for name in FILES {
            inputs.push((name, read_input(name)?));
        }
        let signer = load_signer()?;
        let signing_time = OffsetDateTime::from_unix_timestamp(SIGNING_TIME_UNIX)
            .map_err(|error| format!("bad fixed signing time: {error}"))?;
        let request = SignatureRequest::new(signing_time);
        let setup = Self {
            inputs,
            signer,
            request,
        };
        setup.check_signing_works()?;
        Ok(setup)
    }

    /// One signature per file before timing, so a failure reads as an error, not a benchmark.
    fn check_signing_works(&self) -> Result<(), String> {
        for (name, input) in &self.inputs {
            let signed = sign_pdf(input, &self.signer, &self.request)
                .map_err(|error| format!("sign_pdf failed on {name}: {error}"))?;
            if !signed.starts_with(input) || signed.len() <= input.len() {
                return Err(format!(
                    "sign_pdf on {name} did not append an incremental update"
                ));
            }
        }
        Ok(())
    }
}

fn load_signer() -> Result<KeyFileSigner, String> {
    let keys = common::keys_dir();
    let key_pem = read_key_file(&keys, "seal-key.pem")?;
    let chain_pem = read_key_file(&keys, "seal-cert.pem")?;
    KeyFileSigner::from_pem(&key_pem, &chain_pem, None)
        .map_err(|error| format!("cannot load the seal from {}: {error}", keys.display()))
}

/// The product, two ways: `sign_pdf` as specified (bytes in, bytes out, the signer prepared on
/// every call, as the CLI does once) and `Seal::sign` with the `Seal` prepared once, as a service
/// keeps it (chain parsed and CMS sized at start-up, like loading the key).
fn bench_sign_pdf(criterion: &mut Criterion, setup: &Setup) {
    let mut group = criterion.benchmark_group("sign_pdf");
    for (name, input) in &setup.inputs {
        configure_for_size(&mut group, input.len());
        group.bench_with_input(
            BenchmarkId::from_parameter(name),
            input,
            |bencher, input| {
                bencher.iter(|| sign_pdf(black_box(input), &setup.signer, &setup.request));
            },
        );
    }
    group.finish();

    let seal = match Seal::new(&setup.signer) {
        Ok(seal) => seal,
        Err(error) => {
            eprintln!("benches/signing: cannot prepare the seal: {error}");
            return;
        }
    };
    let mut group = criterion.benchmark_group("seal_sign");
    for (name, input) in &setup.inputs {
        configure_for_size(&mut group, input.len());
        group.bench_with_input(
            BenchmarkId::from_parameter(name),
            input,
            |bencher, input| {
                bencher.iter(|| seal.sign(black_box(input), &setup.request));
            },
        );
    }
    group.finish();
}

/// The floor's parts; `scripts/bench` adds them per file.
fn bench_floor(criterion: &mut Criterion, setup: &Setup) {
    let mut group = criterion.benchmark_group("floor_sha256");
    for (name, input) in &setup.inputs {
        configure_for_size(&mut group, input.len());
        group.bench_with_input(
            BenchmarkId::from_parameter(name),
            input,
            |bencher, input| {
                bencher.iter(|| digest(&SHA256, black_box(input)));
            },
        );
    }
    group.finish();

    let revision = vec![b' '; REVISION_BYTES];
    let mut group = criterion.benchmark_group("floor_copy_revision");
    for (name, input) in &setup.inputs {
        configure_for_size(&mut group, input.len());
        group.bench_with_input(
            BenchmarkId::from_parameter(name),
            input,
            |bencher, input| {
                bencher.iter(|| {
                    let mut output = Vec::with_capacity(input.len() + revision.len());
                    output.extend_from_slice(black_box(input));
                    output.extend_from_slice(black_box(&revision));
                    output
                });
            },
        );
    }
    group.finish();

    bench_ecdsa(criterion);
}

/// One ECDSA P-256 signature over signed-attributes-sized bytes, with ring's own key.
fn bench_ecdsa(criterion: &mut Criterion) {
    let rng = SystemRandom::new();
    let Ok(key) = floor_key(&rng) else {
        eprintln!("benches/signing: ring could not make a P-256 key; skipping floor_ecdsa_p256");
        return;
    };
    let message = [0x31_u8; SIGNED_ATTRIBUTES_BYTES];
    let mut group = criterion.benchmark_group("floor_ecdsa_p256");
    group.bench_function("sign", |bencher| {
        bencher.iter(|| key.sign(&rng, black_box(&message)));
    });
    group.finish();
}

/// A fresh P-256 key of ring's own, so the floor's signature owes nothing to oneseal.
fn floor_key(rng: &SystemRandom) -> Result<EcdsaKeyPair, ring::error::Unspecified> {
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, rng)?;
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), rng)
        .map_err(|_| ring::error::Unspecified)
}

/// The ratio to the floor measured so that other load on the machine hits both sides alike.
///
/// Criterion times each benchmark in its own stretch of minutes, so a compile that starts
/// half-way skews one side of a ratio. Here every round times `sign_pdf`, `Seal::sign` and the
/// floor's three parts back to back; the medians over rounds go to `out` as JSON.
fn paired_comparison(setup: &Setup, out: &Path) -> Result<(), String> {
    let seal = Seal::new(&setup.signer).map_err(|error| error.to_string())?;
    let rng = SystemRandom::new();
    let key = floor_key(&rng).map_err(|_| "ring could not make a P-256 key".to_owned())?;
    let message = [0x31_u8; SIGNED_ATTRIBUTES_BYTES];
    let revision = vec![b' '; REVISION_BYTES];
    let mut json = Vec::new();
    eprintln!("paired comparison (medians over interleaved rounds):");
    for (name, input) in &setup.inputs {
        let rounds = if input.len() > 1 << 20 { 80 } else { 4000 };
        let mut samples: [Vec<f64>; 5] = Default::default();
        for _ in 0..rounds {
            let [sign, seal_sign, floor, ratio, seal_ratio] = &mut samples;
            let sign_ns = time_ns(|| sign_pdf(black_box(input), &setup.signer, &setup.request));
            let seal_ns = time_ns(|| seal.sign(black_box(input), &setup.request));
            let floor_ns = time_ns(|| digest(&SHA256, black_box(input)))
                + time_ns(|| key.sign(&rng, black_box(&message)))
                + time_ns(|| {
                    let mut output = Vec::with_capacity(input.len() + revision.len());
                    output.extend_from_slice(black_box(input));
                    output.extend_from_slice(black_box(&revision));
                    output
                });
            sign.push(sign_ns);
            seal_sign.push(seal_ns);
            floor.push(floor_ns);
            ratio.push(sign_ns / floor_ns);
            seal_ratio.push(seal_ns / floor_ns);
        }
        let [sign, seal_sign, floor, ratio, seal_ratio] = samples.map(median);
        eprintln!(
            "  {name:<22} sign_pdf {:>9.1} µs  Seal::sign {:>9.1} µs  floor {:>9.1} µs  \
             sign_pdf/floor {ratio:.2}x  Seal::sign/floor {seal_ratio:.2}x  ({rounds} rounds)",
            sign / 1e3,
            seal_sign / 1e3,
            floor / 1e3,
        );
        json.push(format!(
            "\"{name}\": {{\"rounds\": {rounds}, \"sign_pdf_ns\": {sign:.0}, \
             \"seal_sign_ns\": {seal_sign:.0}, \"floor_ns\": {floor:.0}, \
             \"sign_pdf_over_floor\": {ratio:.4}, \"seal_sign_over_floor\": {seal_ratio:.4}}}"
        ));
    }
    std::fs::write(out, format!("{{{}}}\n", json.join(", ")))
        .map_err(|error| format!("cannot write {}: {error}", out.display()))
}
