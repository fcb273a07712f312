//! Issuance throughput: one e-licence end to end (check the data, draw it on the blank with a
//! per-document font subset and QR code, sign as a DocMDP P=1 certification), per template.
//!
//! The `Issuer` is prepared once, as a service holds it (chain parsed, font loaded). The parts
//! are timed too, so BENCHMARKS.md can say where the time goes: the font subset, the drawing
//! (render) and the signature. Target (issue 4): at least 500 issuances per second on one core.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use criterion::{BenchmarkId, Criterion};
use time::OffsetDateTime;

use oneseal::seal::KeyFileSigner;
use oneseal::service::issuance::{IssuanceRequest, Issuer};
use oneseal::template::data::check_data;
use oneseal::template::font::{FontSubset, SourceFont};
use oneseal::template::render::{IssuerValues, render};
use oneseal::template::{Bundle, LicenceSerial, verification_url};

mod common;

use common::read_key_file;

/// The issue time, fixed so every iteration does the same work (2026-11-26 10:00 +08:00).
const ISSUED_AT_UNIX: i64 = 1_796_090_400;
const BASE_URL: &str = "https://oneseal.example.gov.cn/verify/";

fn main() -> ExitCode {
    let setup = match Setup::load() {
        Ok(setup) => setup,
        Err(message) => {
            eprintln!("benches/issuance: {message}");
            return ExitCode::FAILURE;
        }
    };
    let mut criterion = Criterion::default().configure_from_args();
    if let Err(message) = bench(&mut criterion, &setup) {
        eprintln!("benches/issuance: {message}");
        return ExitCode::FAILURE;
    }
    criterion.final_summary();
    ExitCode::SUCCESS
}

struct Setup {
    signer: KeyFileSigner,
    bundles: Vec<(String, Bundle, Vec<u8>)>,
    request: IssuanceRequest,
}

impl Setup {
    fn load() -> Result<Self, String> {
        let keys = common::keys_dir();
        let signer = KeyFileSigner::from_pem(
            &read_key_file(&keys, "seal-key.pem")?,
            &read_key_file(&keys, "seal-cert.pem")?,
            None,
        )
        .map_err(|e| format!("cannot load the seal: {e}"))?;
        let font = SourceFont::shipped().map_err(|e| e.to_string())?;
        let mut bundles = Vec::new();
        for dir in template_dirs()? {
            let read = |name: &str| {
                std::fs::read(dir.join(name)).map_err(|e| format!("{}: {e}", dir.display()))
            };
            let example = read("example.json")?;
            let bundle = Bundle::load(
                &read("template.toml")?,
                read("template.pdf")?,
                Some(&example),
                font,
            )
            .map_err(|p| format!("{}: {p:?}", dir.display()))?;
            let name = bundle.manifest.id.clone();
            bundles.push((name, bundle, example));
        }
        let issued_at = OffsetDateTime::from_unix_timestamp(ISSUED_AT_UNIX)
            .map_err(|e| e.to_string())?
            .to_offset(time::macros::offset!(+8));
        let request = IssuanceRequest {
            serial: LicenceSerial::parse("20261126-BENCH0001")?,
            issued_at,
            base_url: BASE_URL.into(),
        };
        Ok(Self {
            signer,
            bundles,
            request,
        })
    }
}

fn template_dirs() -> Result<Vec<PathBuf>, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map_err(|e| format!("{}: {e}", root.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("template.toml").is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

fn bench(criterion: &mut Criterion, setup: &Setup) -> Result<(), String> {
    let issuer = Issuer::new(&setup.signer).map_err(|e| e.to_string())?;
    let font = SourceFont::shipped().map_err(|e| e.to_string())?;
    let url = verification_url(BASE_URL, &setup.request.serial)?;
    let (organization, seal_name) = issuer.seal_words();
    let values = IssuerValues {
        serial: &setup.request.serial,
        issued_at: setup.request.issued_at,
        verification_url: &url,
        organization,
        seal_name,
        seal_image: None,
    };
    for (_, bundle, example) in &setup.bundles {
        issuer
            .issue(bundle, example, &setup.request)
            .map_err(|e| format!("{}: {e}", bundle.manifest.id))?;
    }
    let mut group = criterion.benchmark_group("issue");
    for (name, bundle, example) in &setup.bundles {
        group.bench_with_input(BenchmarkId::from_parameter(name), example, |b, example| {
            b.iter(|| issuer.issue(bundle, black_box(example), &setup.request));
        });
    }
    group.finish();
    let mut group = criterion.benchmark_group("render");
    for (name, bundle, example) in &setup.bundles {
        let fields =
            check_data(&bundle.manifest, example, font).map_err(|p| format!("{name}: {p:?}"))?;
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| render(bundle, black_box(&fields), &values, font));
        });
    }
    group.finish();
    let mut group = criterion.benchmark_group("font_subset");
    for (name, _, example) in &setup.bundles {
        let text = String::from_utf8_lossy(example).into_owned();
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                let mut subset = FontSubset::new(font);
                let shown: String = text.chars().filter(|c| font.has_glyph(*c)).collect();
                let _ = subset.show(&shown);
                let file = oneseal::pdf::PdfFile::open(BLANK, Default::default());
                file.map(|file| {
                    let mut update = oneseal::pdf::IncrementalUpdate::new(&file);
                    subset.write(&mut update)
                })
            });
        });
    }
    group.finish();
    Ok(())
}

/// A minimal PDF for the font-only measurement's IncrementalUpdate.
const BLANK: &[u8] = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\nxref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \ntrailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n110\n%%EOF\n";
