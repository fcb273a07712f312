//! Verification throughput: `verify` on each benchmark PDF signed once by oneseal, beside the
//! floor no verifier can beat.
//!
//! Setup signs the three inputs of `benches/data/make_bench_pdfs.py` with the bench key
//! (`keys-example/` unless `ONESEAL_BENCH_KEYS` names another directory) at a fixed signing
//! time, writes them to `benches/data/generated/signed-<name>` for the pyHanko peer
//! (`benches/peers/pyhanko_validate.py`), and checks that `verify` says TOTAL-PASSED for each
//! before anything is timed.
//!
//! The floor for verifying one signature, measured in the same run from its parts: one SHA-256
//! pass over the signed file (the ByteRange digest) and two ECDSA P-256 verifications (the
//! signature over the signed attributes, and the root's signature on the seal certificate), both
//! with ring. `scripts/bench` adds them (SHA-256 + 2 × ECDSA verify) and reports each file's
//! ratio to the floor in `BENCHMARKS.md`.
//!
//! The signing time is fixed at the seal certificate's notBefore plus ten minutes and the
//! validation time one day after it, so every run does the same work with any key. The trust
//! anchor is `certs/example-root-ca.pem`, or `root-ca.pem` in `ONESEAL_BENCH_KEYS`, or
//! `ONESEAL_BENCH_ROOT`. With `ONESEAL_BENCH_VERIFY_PAIRED=FILE`, a bench run ends with an
//! interleaved comparison (see `paired_comparison`) written to FILE as JSON.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use criterion::{BenchmarkId, Criterion};
use ring::digest::{SHA256, digest};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use time::{Duration as TimeDuration, OffsetDateTime};

use oneseal::seal::KeyFileSigner;
use oneseal::sign::{Seal, SignatureRequest};
use oneseal::verify::{Indication, Policy, TrustAnchors, verify};

/// ECDSA verifications in the floor: the CMS signature and the seal certificate's signature.
const FLOOR_ECDSA_VERIFICATIONS: f64 = 2.0;

mod common;

use common::{
    FILES, SIGNED_ATTRIBUTES_BYTES, configure_for_size, median, read_input, read_key_file, time_ns,
};

fn main() -> ExitCode {
    let bench_mode = std::env::args().any(|argument| argument == "--bench");
    let setup = match Setup::load() {
        Ok(setup) => setup,
        Err(message) => {
            eprintln!("benches/verification: {message}");
            // `cargo test --all-targets` runs this once as a smoke test; missing inputs skip it.
            return if bench_mode {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let mut criterion = Criterion::default().configure_from_args();
    bench_verify(&mut criterion, &setup);
    bench_floor(&mut criterion, &setup);
    criterion.final_summary();
    if let Some(out) = std::env::var_os("ONESEAL_BENCH_VERIFY_PAIRED").filter(|_| bench_mode)
        && let Err(message) = paired_comparison(&setup, Path::new(&out))
    {
        eprintln!("benches/verification: paired comparison: {message}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Everything prepared once, outside every timing loop.
struct Setup {
    /// (input name, the input signed once by oneseal).
    signed: Vec<(&'static str, Vec<u8>)>,
    anchors: TrustAnchors,
    policy: Policy,
}

impl Setup {
    fn load() -> Result<Self, String> {
        let root = common::root();
        let data = common::data_dir();
        let keys = common::keys_override();
        let keys_dir = common::keys_dir();
        let key_pem = read_key_file(&keys_dir, "seal-key.pem")?;
        let chain_pem = read_key_file(&keys_dir, "seal-cert.pem")?;
        let signer = KeyFileSigner::from_pem(&key_pem, &chain_pem, None).map_err(|error| {
            format!("cannot load the seal from {}: {error}", keys_dir.display())
        })?;
        let seal =
            Seal::new(&signer).map_err(|error| format!("cannot prepare the seal: {error}"))?;

        let signing_time = not_before(&chain_pem)? + TimeDuration::minutes(10);
        let request = SignatureRequest::new(signing_time);
        let policy = Policy::new(signing_time + TimeDuration::days(1));

        let anchor_path = std::env::var_os("ONESEAL_BENCH_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| match &keys {
                Some(dir) => dir.join("root-ca.pem"),
                None => root.join("certs/example-root-ca.pem"),
            });
        let anchor = std::fs::read(&anchor_path).map_err(|error| {
            format!(
                "cannot read the trust anchor {} ({error}); set ONESEAL_BENCH_ROOT",
                anchor_path.display()
            )
        })?;
        let mut anchors = TrustAnchors::new();
        anchors
            .add_pem_or_der(&anchor)
            .map_err(|error| format!("{}: {error}", anchor_path.display()))?;

        let mut signed = Vec::new();
        for name in FILES {
            let input = read_input(name)?;

            let output = seal
                .sign(&input, &request)
                .map_err(|error| format!("signing {name} failed: {error}"))?;
            let out_path = data.join(format!("signed-{name}"));
            std::fs::write(&out_path, &output)
                .map_err(|error| format!("cannot write {} ({error})", out_path.display()))?;
            signed.push((name, output));
        }
        let setup = Self {
            signed,
            anchors,
            policy,
        };
        setup.check_verification_passes()?;
        Ok(setup)
    }

    /// One verification per file before timing: a benchmark of a failing verdict measures the
    /// wrong path, so anything but TOTAL-PASSED is an error.
    fn check_verification_passes(&self) -> Result<(), String> {
        for (name, signed) in &self.signed {
            let report = verify(signed, &self.anchors, &self.policy)
                .map_err(|error| format!("verify failed on signed-{name}: {error}"))?;
            if report.indication != Indication::TotalPassed || report.signatures.len() != 1 {
                return Err(format!(
                    "verify on signed-{name} did not say TOTAL-PASSED for its one signature: \
                     {:?} ({}), {} signature(s), messages {:?}",
                    report.indication,
                    report.summary,
                    report.signatures.len(),
                    report
                        .signatures
                        .iter()
                        .flat_map(|signature| signature.messages.iter())
                        .collect::<Vec<_>>()
                ));
            }
        }
        Ok(())
    }
}

/// The seal certificate's notBefore (the first certificate of the chain PEM).
fn not_before(chain_pem: &[u8]) -> Result<OffsetDateTime, String> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(chain_pem)
        .map_err(|error| format!("seal-cert.pem is not PEM: {error}"))?;
    let certificate = pem
        .parse_x509()
        .map_err(|error| format!("seal-cert.pem: {error}"))?;
    OffsetDateTime::from_unix_timestamp(certificate.validity().not_before.timestamp())
        .map_err(|error| format!("seal-cert.pem notBefore: {error}"))
}

/// The product: `verify` on bytes in memory, the anchors and the policy prepared once.
fn bench_verify(criterion: &mut Criterion, setup: &Setup) {
    let mut group = criterion.benchmark_group("verify");
    for (name, signed) in &setup.signed {
        configure_for_size(&mut group, signed.len());
        group.bench_with_input(
            BenchmarkId::from_parameter(name),
            signed,
            |bencher, signed| {
                bencher.iter(|| verify(black_box(signed), &setup.anchors, &setup.policy));
            },
        );
    }
    group.finish();
}

/// The floor's parts; `scripts/bench` adds them per file (SHA-256 + 2 × ECDSA verify).
fn bench_floor(criterion: &mut Criterion, setup: &Setup) {
    let mut group = criterion.benchmark_group("verify_floor_sha256");
    for (name, signed) in &setup.signed {
        configure_for_size(&mut group, signed.len());
        group.bench_with_input(
            BenchmarkId::from_parameter(name),
            signed,
            |bencher, signed| {
                bencher.iter(|| digest(&SHA256, black_box(signed)));
            },
        );
    }
    group.finish();

    let Ok(floor) = EcdsaFloor::new() else {
        eprintln!(
            "benches/verification: ring could not make a P-256 signature; \
             skipping verify_floor_ecdsa_p256"
        );
        return;
    };
    let mut group = criterion.benchmark_group("verify_floor_ecdsa_p256");
    group.bench_function("verify", |bencher| {
        bencher.iter(|| floor.verify());
    });
    group.finish();
}

/// One ECDSA P-256 signature over signed-attributes-sized bytes, made with ring's own key, to
/// verify with ring: the floor owes nothing to oneseal's parsing.
struct EcdsaFloor {
    public_key: Vec<u8>,
    message: [u8; SIGNED_ATTRIBUTES_BYTES],
    signature: Vec<u8>,
}

impl EcdsaFloor {
    fn new() -> Result<Self, ring::error::Unspecified> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| ring::error::Unspecified)?;
        let message = [0x31_u8; SIGNED_ATTRIBUTES_BYTES];
        let signature = key.sign(&rng, &message)?.as_ref().to_vec();
        let floor = Self {
            public_key: key.public_key().as_ref().to_vec(),
            message,
            signature,
        };
        floor.verify()?;
        Ok(floor)
    }

    /// Parses the public key and verifies, as a verifier must for a key it has not seen.
    fn verify(&self) -> Result<(), ring::error::Unspecified> {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, black_box(&self.public_key))
            .verify(black_box(&self.message), black_box(&self.signature))
    }
}

/// The ratio to the floor measured so that other load on the machine hits both sides alike.
///
/// Every round times `verify` and the floor's parts (one SHA-256 pass, two ECDSA verifications)
/// back to back; the medians over rounds go to `out` as JSON.
fn paired_comparison(setup: &Setup, out: &Path) -> Result<(), String> {
    let floor = EcdsaFloor::new().map_err(|_| "ring could not make a P-256 signature")?;
    let mut json = Vec::new();
    eprintln!("paired comparison (medians over interleaved rounds):");
    for (name, signed) in &setup.signed {
        let rounds = if signed.len() > 1 << 20 { 80 } else { 4000 };
        let mut samples: [Vec<f64>; 5] = Default::default();
        for _ in 0..rounds {
            let [verify_all, sha, ecdsa, floor_all, ratio] = &mut samples;
            let verify_ns = time_ns(|| verify(black_box(signed), &setup.anchors, &setup.policy));
            let sha_ns = time_ns(|| digest(&SHA256, black_box(signed)));
            let ecdsa_ns = time_ns(|| floor.verify()) + time_ns(|| floor.verify());
            let floor_ns = sha_ns + ecdsa_ns;
            verify_all.push(verify_ns);
            sha.push(sha_ns);
            ecdsa.push(ecdsa_ns / FLOOR_ECDSA_VERIFICATIONS);
            floor_all.push(floor_ns);
            ratio.push(verify_ns / floor_ns);
        }
        let [verify_ns, sha_ns, ecdsa_ns, floor_ns, ratio] = samples.map(median);
        eprintln!(
            "  {name:<22} verify {:>9.1} µs  floor {:>9.1} µs (SHA-256 {:.1} µs + 2 × ECDSA \
             verify {:.1} µs)  verify/floor {ratio:.2}x  ({rounds} rounds)",
            verify_ns / 1e3,
            floor_ns / 1e3,
            sha_ns / 1e3,
            ecdsa_ns / 1e3,
        );
        json.push(format!(
            "\"{name}\": {{\"rounds\": {rounds}, \"bytes\": {}, \"verify_ns\": {verify_ns:.0}, \
             \"floor_ns\": {floor_ns:.0}, \"sha256_ns\": {sha_ns:.0}, \
             \"ecdsa_verify_ns\": {ecdsa_ns:.0}, \"verify_over_floor\": {ratio:.4}}}",
            signed.len()
        ));
    }
    std::fs::write(out, format!("{{{}}}\n", json.join(", ")))
        .map_err(|error| format!("cannot write {}: {error}", out.display()))
}
