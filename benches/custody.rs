//! Key custody's cost: one signature through SoftHSM2 (PKCS#11) against the same signature with
//! the key in memory, alone and from two threads at once, and a whole one-page PDF signed each
//! way. `scripts/bench-custody` makes the token, its key and certificate, and runs this.
//!
//! Environment: `ONESEAL_BENCH_PKCS11_KEYS` (a key directory holding `seal-pkcs11.toml`),
//! `SOFTHSM2_CONF`, and the PIN in `ONESEAL_PKCS11_PIN` or `ONESEAL_PKCS11_PIN_FILE`. The
//! in-memory key is `keys-example/` (or `ONESEAL_BENCH_KEYS`).

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use time::OffsetDateTime;

use oneseal::seal::{KeyFileSigner, SecretSources, Signer, open_key_directory};
use oneseal::sign::{Seal, SignatureRequest};

mod common;

use common::{SIGNED_ATTRIBUTES_BYTES, read_input, read_key_file};

/// Threads signing at once in the parallel case: the cores of the machine the figures are for.
const THREADS: usize = 2;

fn main() -> ExitCode {
    let bench_mode = std::env::args().any(|argument| argument == "--bench");
    let signers = match load_signers() {
        Ok(signers) => signers,
        Err(message) => {
            eprintln!("benches/custody: {message}");
            // `cargo test --all-targets` runs this once as a smoke test; no token skips it.
            return if bench_mode {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let mut criterion = Criterion::default().configure_from_args();
    bench_signature(&mut criterion, &signers);
    bench_check(&mut criterion, &signers);
    bench_parallel(&mut criterion, &signers);
    if let Err(message) = bench_one_page(&mut criterion, &signers) {
        eprintln!("benches/custody: {message}");
        return ExitCode::FAILURE;
    }
    criterion.final_summary();
    ExitCode::SUCCESS
}

/// A custodian, named as the results show it.
type Custodian = (&'static str, Arc<dyn Signer>);

/// The two custodians.
fn load_signers() -> Result<Vec<Custodian>, String> {
    let keys = common::keys_dir();
    let in_memory = KeyFileSigner::from_pem(
        &read_key_file(&keys, "seal-key.pem")?,
        &read_key_file(&keys, "seal-cert.pem")?,
        None,
    )
    .map_err(|error| format!("cannot load the in-memory seal: {error}"))?;
    let token_keys = std::env::var_os("ONESEAL_BENCH_PKCS11_KEYS")
        .map(PathBuf::from)
        .ok_or("set ONESEAL_BENCH_PKCS11_KEYS (scripts/bench-custody makes a SoftHSM2 token)")?;
    let token = open_key_directory(&token_keys, &SecretSources::from_env().without_prompt())
        .map_err(|error| format!("cannot open the token seal: {error}"))?;
    let signers: Vec<Custodian> = vec![
        ("in-memory", Arc::new(in_memory)),
        ("softhsm2", Arc::new(token)),
    ];
    for (name, signer) in &signers {
        signer
            .sign(b"warm-up")
            .map_err(|error| format!("{name} cannot sign: {error}"))?;
    }
    Ok(signers)
}

/// One ECDSA P-256 signature over signed attributes of the usual size.
fn bench_signature(criterion: &mut Criterion, signers: &[Custodian]) {
    let message = vec![0x31u8; SIGNED_ATTRIBUTES_BYTES];
    let mut group = criterion.benchmark_group("custody_sign");
    for (name, signer) in signers {
        group.bench_function(BenchmarkId::from_parameter(name), |bencher| {
            bencher.iter(|| signer.sign(black_box(&message)));
        });
    }
    group.finish();
}

/// What the token signer adds after `C_Sign`: the ECDSA verification of each signature against
/// the seal certificate (ring), timed alone.
fn bench_check(criterion: &mut Criterion, signers: &[Custodian]) {
    use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
    let message = vec![0x31u8; SIGNED_ATTRIBUTES_BYTES];
    let Some((_, signer)) = signers.first() else {
        return;
    };
    let (Ok(signature), Some(certificate)) =
        (signer.sign(&message), signer.certificate_chain().first())
    else {
        return;
    };
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(certificate) else {
        return;
    };
    let point = parsed.public_key().subject_public_key.data.to_vec();
    let mut group = criterion.benchmark_group("custody_check");
    group.bench_function("ring_verify", |bencher| {
        bencher.iter(|| {
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &point)
                .verify(black_box(&message), black_box(&signature))
        });
    });
    group.finish();
}

/// `THREADS` threads signing at once through one signer (the service's shape): the time per
/// signature, so lower is more throughput.
fn bench_parallel(criterion: &mut Criterion, signers: &[Custodian]) {
    let message = vec![0x31u8; SIGNED_ATTRIBUTES_BYTES];
    let mut group = criterion.benchmark_group("custody_sign_2_threads");
    group.measurement_time(Duration::from_secs(5));
    for (name, signer) in signers {
        group.bench_function(BenchmarkId::from_parameter(name), |bencher| {
            bencher.iter_custom(|iterations| {
                let per_thread = iterations.div_ceil(THREADS as u64);
                let start = Instant::now();
                std::thread::scope(|scope| {
                    for _ in 0..THREADS {
                        scope.spawn(|| {
                            for _ in 0..per_thread {
                                let _ = black_box(signer.sign(black_box(&message)));
                            }
                        });
                    }
                });
                start.elapsed()
            });
        });
    }
    group.finish();
}

/// A one-page PDF signed whole (PAdES B-B) with each custodian.
fn bench_one_page(criterion: &mut Criterion, signers: &[Custodian]) -> Result<(), String> {
    let input = read_input("one-page.pdf")?;
    let signing_time = OffsetDateTime::from_unix_timestamp(1_764_000_000)
        .map_err(|error| format!("bad fixed signing time: {error}"))?;
    let request = SignatureRequest::new(signing_time);
    let mut group = criterion.benchmark_group("custody_seal_sign_one_page");
    for (name, signer) in signers {
        let seal = Seal::new(signer.as_ref()).map_err(|error| format!("{name}: {error}"))?;
        seal.sign(&input, &request)
            .map_err(|error| format!("{name} cannot sign one-page.pdf: {error}"))?;
        group.bench_function(BenchmarkId::from_parameter(name), |bencher| {
            bencher.iter(|| seal.sign(black_box(&input), &request));
        });
    }
    group.finish();
    Ok(())
}
