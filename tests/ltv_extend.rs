//! `oneseal ltv extend` (archive renewal, docs/ltv.md) and `oneseal sign --tsa` (B-T), judged
//! by pyHanko and qpdf: each extension adds the validation data and one document timestamp, a
//! dead TSA leaves the file untouched, and bad arguments get one line and exit 2.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use common::ltv::{TEMPLATE, development_trust, issue, pyhanko_ltv};
use common::service::{Database, Service};
use common::{fixture, keygen, oneseal, require_tool, run, sign};

/// `oneseal ltv extend FILE --out OUT --tsa URL --tsa-trust ROOT`.
fn extend(input: &Path, out: &Path, tsa: &str, root: &Path) -> common::Run {
    oneseal([
        OsStr::new("ltv"),
        OsStr::new("extend"),
        input.as_os_str(),
        OsStr::new("--out"),
        out.as_os_str(),
        OsStr::new("--tsa"),
        OsStr::new(tsa),
        OsStr::new("--tsa-trust"),
        root.as_os_str(),
        OsStr::new("--tsa-timeout"),
        OsStr::new("2"),
    ])
}

fn qpdf_accepts(pdf: &Path) -> bool {
    run(Command::new(require_tool("qpdf")).arg("--check").arg(pdf)).ok()
}

#[test]
fn extending_a_licence_twice_adds_two_document_timestamps_pyhanko_calls_it_b_lta() {
    let service = Service::start(Database::Sqlite);
    service.install_template(TEMPLATE, "市场监督管理局");
    let work = tempfile::tempdir().unwrap();
    let licence = issue(&service, work.path(), "licence.pdf");
    let (root, _) = development_trust(&service);
    let tsa = format!("{}/tsa", service.url);

    let once = work.path().join("once.pdf");
    let extended = extend(&licence, &once, &tsa, &root);
    assert!(extended.ok(), "{}", extended.describe());
    assert!(
        extended.stdout.contains("document timestamp at"),
        "{}",
        extended.stdout
    );
    let original = std::fs::read(&licence).unwrap();
    assert!(std::fs::read(&once).unwrap().starts_with(&original));
    let report = pyhanko_ltv(&once, &root, &[]);
    assert_eq!(report["document_timestamps"], 1, "{report:#}");
    assert_eq!(report["signatures"][0]["level"], "B-LTA", "{report:#}");
    assert_eq!(
        report["signatures"][0]["modification_level"], "LTA_UPDATES",
        "{report:#}"
    );

    // Renewal again, in place.
    let twice = work.path().join("twice.pdf");
    std::fs::copy(&once, &twice).unwrap();
    let again = oneseal([
        OsStr::new("ltv"),
        OsStr::new("extend"),
        twice.as_os_str(),
        OsStr::new("--tsa"),
        OsStr::new(&tsa),
        OsStr::new("--tsa-trust"),
        root.as_os_str(),
    ]);
    assert!(again.ok(), "{}", again.describe());
    let report = pyhanko_ltv(&twice, &root, &[]);
    assert_eq!(report["document_timestamps"], 2, "{report:#}");
    assert_eq!(report["signatures"][0]["level"], "B-LTA", "{report:#}");
    assert!(qpdf_accepts(&twice));
    for at in [None, Some(common::ltv::ten_years_on())] {
        let (code, ours) = common::ltv::our_verdict(&twice, &root, at.as_deref());
        assert_eq!(code, Some(0), "{at:?}: {ours:#}");
        assert_eq!(ours["signatures"][0]["pades_level"], "B-LTA", "{ours:#}");
    }
    // Both document timestamps came from the service's TSA, which recorded them.
    assert_eq!(service.sql("SELECT COUNT(*) FROM timestamps").trim(), "3");
}

#[test]
fn a_dead_tsa_leaves_the_file_untouched_and_bad_arguments_get_one_line() {
    let service = Service::start(Database::Sqlite);
    service.install_template(TEMPLATE, "市场监督管理局");
    let work = tempfile::tempdir().unwrap();
    let licence = issue(&service, work.path(), "licence.pdf");
    let (root, _) = development_trust(&service);
    let before = std::fs::read(&licence).unwrap();

    let dead = extend(&licence, &licence, "http://127.0.0.1:9/tsa", &root);
    assert_eq!(dead.code, Some(2), "{}", dead.describe());
    assert!(dead.stderr.contains("127.0.0.1:9"), "{}", dead.stderr);
    assert_eq!(dead.stderr.trim().lines().count(), 1, "{}", dead.stderr);
    assert_eq!(std::fs::read(&licence).unwrap(), before);

    let unsigned = extend(
        &fixture("gs-pdfwrite.pdf"),
        &work.path().join("x.pdf"),
        &format!("{}/tsa", service.url),
        &root,
    );
    assert_eq!(unsigned.code, Some(2), "{}", unsigned.describe());
    assert!(
        unsigned.stderr.contains("carries no signature"),
        "{}",
        unsigned.stderr
    );

    let untrusted = oneseal([
        OsStr::new("ltv"),
        OsStr::new("extend"),
        licence.as_os_str(),
        OsStr::new("--tsa"),
        OsStr::new("http://127.0.0.1:9/tsa"),
    ]);
    assert_eq!(untrusted.code, Some(2), "{}", untrusted.describe());
    assert!(
        untrusted.stderr.contains("--tsa-trust"),
        "{}",
        untrusted.stderr
    );
    assert!(!work.path().join("x.pdf").exists());
}

#[test]
fn sign_with_a_tsa_makes_a_b_t_signature_that_extends_to_b_lta() {
    let service = Service::start(Database::Sqlite);
    let (tsa_root, _) = development_trust(&service);
    let tsa = format!("{}/tsa", service.url);
    let keys = keygen(&[]);
    let work = tempfile::tempdir().unwrap();
    let signed = work.path().join("signed.pdf");
    let made = sign(
        &fixture("gs-pdfwrite.pdf"),
        &signed,
        &keys.dir,
        &["--tsa", &tsa, "--tsa-trust", tsa_root.to_str().unwrap()],
    );
    assert!(made.ok(), "{}", made.describe());
    let roots = [OsStr::new("--root"), tsa_root.as_os_str()];
    let report = pyhanko_ltv(&signed, &keys.root, &roots);
    let signature = &report["signatures"][0];
    assert_eq!(signature["timestamp"]["valid"], true, "{report:#}");
    assert_eq!(signature["timestamp"]["trusted"], true, "{report:#}");
    assert_eq!(signature["level"], "B-T", "{report:#}");

    // B-LT asks for revocation data on both paths: each root's CRL, from `oneseal ca crl`.
    let development_seal = service.data.path().join("data/development-seal");
    let crls: Vec<_> = [keys.dir.as_path(), development_seal.as_path()]
        .iter()
        .map(|ca| {
            let made = oneseal([
                OsStr::new("ca"),
                OsStr::new("crl"),
                OsStr::new("--ca"),
                ca.as_os_str(),
            ]);
            assert!(made.ok(), "{}", made.describe());
            ca.join("root-ca.crl")
        })
        .collect();
    let extended = work.path().join("extended.pdf");
    let done = oneseal([
        OsStr::new("ltv"),
        OsStr::new("extend"),
        signed.as_os_str(),
        OsStr::new("--out"),
        extended.as_os_str(),
        OsStr::new("--tsa"),
        OsStr::new(&tsa),
        OsStr::new("--tsa-trust"),
        tsa_root.as_os_str(),
        OsStr::new("--crl"),
        crls[0].as_os_str(),
        OsStr::new("--crl"),
        crls[1].as_os_str(),
    ]);
    assert!(done.ok(), "{}", done.describe());
    assert!(done.stdout.contains("2 CRL(s)"), "{}", done.stdout);
    let report = pyhanko_ltv(&extended, &keys.root, &roots);
    assert_eq!(report["document_timestamps"], 1, "{report:#}");
    assert_eq!(report["signatures"][0]["level"], "B-LTA", "{report:#}");
    assert!(qpdf_accepts(&extended));

    let dead = sign(
        &fixture("gs-pdfwrite.pdf"),
        &work.path().join("never.pdf"),
        &keys.dir,
        &[
            "--tsa",
            "http://127.0.0.1:9/tsa",
            "--tsa-trust",
            tsa_root.to_str().unwrap(),
        ],
    );
    assert_eq!(dead.code, Some(2), "{}", dead.describe());
    assert!(!work.path().join("never.pdf").exists());
}

#[test]
fn extend_fetches_the_crl_a_certificate_names() {
    let service = Service::start(Database::Sqlite);
    let (tsa_root, _) = development_trust(&service);
    // The seal certificate names its root's CRL at a server of the test's own.
    let crl_server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let crl_origin = format!("http://{}", crl_server.local_addr().unwrap());
    let keys = keygen(&["--crl-base-url", &crl_origin]);
    let made = oneseal([
        OsStr::new("ca"),
        OsStr::new("crl"),
        OsStr::new("--ca"),
        keys.dir.as_os_str(),
    ]);
    assert!(made.ok(), "{}", made.describe());
    serve_once(
        crl_server,
        std::fs::read(keys.dir.join("root-ca.crl")).unwrap(),
    );
    let work = tempfile::tempdir().unwrap();
    let signed = work.path().join("signed.pdf");
    let made = sign(&fixture("gs-pdfwrite.pdf"), &signed, &keys.dir, &[]);
    assert!(made.ok(), "{}", made.describe());
    // Offline and hard-fail, pyHanko cannot check the seal without that CRL.
    let roots = [OsStr::new("--root"), tsa_root.as_os_str()];
    let before = pyhanko_ltv(&signed, &keys.root, &roots);
    assert_eq!(before["signatures"][0]["bottom_line"], false, "{before:#}");

    let extended = work.path().join("extended.pdf");
    let done = extend(
        &signed,
        &extended,
        &format!("{}/tsa", service.url),
        &tsa_root,
    );
    assert!(done.ok(), "{}", done.describe());
    assert!(done.stdout.contains("1 CRL(s)"), "{}", done.stdout);
    let after = pyhanko_ltv(&extended, &keys.root, &roots);
    assert_eq!(after["signatures"][0]["bottom_line"], true, "{after:#}");
    assert_eq!(after["signatures"][0]["dss"], true, "{after:#}");
    assert_eq!(after["document_timestamps"], 1, "{after:#}");
}

/// Answers the first GET on `listener` with `body` as a CRL.
fn serve_once(listener: std::net::TcpListener, body: Vec<u8>) {
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        if let Some(Ok(mut stream)) = listener.incoming().next() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
}

#[test]
fn issue_with_a_tsa_timestamps_the_seal() {
    let service = Service::start(Database::Sqlite);
    let (tsa_root, _) = development_trust(&service);
    let keys = keygen(&[]);
    let work = tempfile::tempdir().unwrap();
    let licence = work.path().join("licence.pdf");
    let trail = work.path().join("trail");
    let tsa = format!("{}/tsa", service.url);
    common::ltv::issue_with_cli(
        &keys.dir,
        &licence,
        &[
            OsStr::new("--data-dir"),
            trail.as_os_str(),
            OsStr::new("--tsa"),
            OsStr::new(&tsa),
            OsStr::new("--tsa-trust"),
            tsa_root.as_os_str(),
        ],
    );
    let report = pyhanko_ltv(
        &licence,
        &keys.root,
        &[OsStr::new("--root"), tsa_root.as_os_str()],
    );
    assert_eq!(report["signatures"][0]["level"], "B-T", "{report:#}");
    assert_eq!(report["signatures"][0]["bottom_line"], true, "{report:#}");
}
