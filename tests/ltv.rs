//! Validation data inside the document (the DSS, ISO 32000-2 §12.8.4.3): added in an incremental
//! update, it lets pyHanko check a signature's revocation offline in hard-fail mode, from the
//! file alone; a later CRL in the DSS shows the seal revoked. qpdf, and our own verifier, accept
//! the update, and a licence certified with DocMDP P=1 stays valid.

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

use common::{Keys, fixture, keygen, oneseal_env, python_tool, require_tool, run, sign};
use oneseal::pdf::Limits;
use oneseal::sign::{ValidationData, add_validation_data};
use serde_json::Value;

/// pyHanko's offline verdict from the DSS alone (tests/tools/validate_dss.py).
fn offline_verdict(pdf: &Path, root: &Path) -> Value {
    let (_, done) = python_tool(
        "validate_dss.py",
        &[OsStr::new("--root"), root.as_os_str(), pdf.as_os_str()],
    );
    serde_json::from_str(&done.stdout).unwrap_or_else(|_| panic!("{}", done.describe()))
}

/// The chain keygen wrote, DER, and the CRL `oneseal ca ARGS` just wrote.
fn chain_and_crl(keys: &Keys, ca_args: &[&str]) -> ValidationData {
    let mut args = vec!["ca"];
    args.extend_from_slice(ca_args);
    args.extend(["--ca", keys.dir.to_str().unwrap()]);
    let made = oneseal_env(&args, &[]);
    assert!(made.ok(), "{}", made.describe());
    let pem = std::fs::read(keys.dir.join("seal-cert.pem")).unwrap();
    ValidationData {
        certificates: x509_parser::pem::Pem::iter_from_buffer(&pem)
            .map(|block| block.unwrap().contents)
            .collect(),
        crls: vec![std::fs::read(keys.dir.join("root-ca.crl")).unwrap()],
        ocsp_responses: Vec::new(),
    }
}

#[test]
fn the_dss_lets_pyhanko_check_revocation_offline_and_sees_a_later_revocation() {
    // The CRL's URL answers nothing: whatever pyHanko finds, it finds in the file.
    let keys = keygen(&["--crl-base-url", "http://127.0.0.1:9"]);
    let work = tempfile::tempdir().unwrap();
    let signed = work.path().join("signed.pdf");
    let result = sign(&fixture("gs-pdfwrite.pdf"), &signed, &keys.dir, &[]);
    assert!(result.ok(), "{}", result.describe());

    // Without validation data, hard-fail revocation checking cannot pass.
    let bare = offline_verdict(&signed, &keys.root);
    assert_ne!(bare["signatures"][0]["bottom_line"], true, "{bare:#}");

    let data = chain_and_crl(&keys, &["crl"]);
    let original = std::fs::read(&signed).unwrap();
    let with_dss = add_validation_data(&original, &data, Limits::default()).unwrap();
    assert!(
        with_dss.starts_with(&original),
        "an incremental update keeps every byte"
    );
    let ltv = work.path().join("ltv.pdf");
    std::fs::write(&ltv, &with_dss).unwrap();
    let verdict = offline_verdict(&ltv, &keys.root);
    assert_eq!(verdict["dss"]["certs"], 2, "{verdict:#}");
    assert_eq!(verdict["dss"]["crls"], 1, "{verdict:#}");
    let signature = &verdict["signatures"][0];
    for key in ["intact", "valid", "trusted", "bottom_line"] {
        assert_eq!(signature[key], true, "{key}: {verdict:#}");
    }
    assert_eq!(signature["revoked"], false, "{verdict:#}");

    // The same data again adds nothing.
    assert_eq!(
        add_validation_data(&with_dss, &data, Limits::default()).unwrap(),
        with_dss
    );
    let checked = run(Command::new(require_tool("qpdf")).arg("--check").arg(&ltv));
    assert!(checked.ok(), "{}", checked.describe());
    let ours = oneseal_env(
        [
            OsStr::new("verify"),
            ltv.as_os_str(),
            OsStr::new("--trust"),
            keys.root.as_os_str(),
            OsStr::new("--json"),
        ],
        &[],
    );
    assert!(ours.ok(), "{}", ours.describe());
    let report: Value = serde_json::from_str(&ours.stdout).unwrap();
    assert_eq!(report["indication"], "TOTAL-PASSED", "{report:#}");
    let modifications = report["signatures"][0]["modifications"].as_array().unwrap();
    assert!(
        modifications.iter().any(|m| {
            m["description"].as_str().unwrap().contains("/DSS") && m["permitted"] == true
        }),
        "{report:#}"
    );

    // The seal is revoked: a newer CRL in the DSS (kept beside the old one) says so.
    let seal = work.path().join("seal.pem");
    std::fs::copy(keys.dir.join("seal-cert.pem"), &seal).unwrap();
    let revoked = chain_and_crl(&keys, &["revoke", "--certificate", seal.to_str().unwrap()]);
    let later = add_validation_data(&with_dss, &revoked, Limits::default()).unwrap();
    let ltv_revoked = work.path().join("ltv-revoked.pdf");
    std::fs::write(&ltv_revoked, &later).unwrap();
    let verdict = offline_verdict(&ltv_revoked, &keys.root);
    assert_eq!(
        verdict["dss"]["certs"], 2,
        "certificates are not added twice: {verdict:#}"
    );
    assert_eq!(verdict["dss"]["crls"], 2, "{verdict:#}");
    assert_eq!(verdict["signatures"][0]["revoked"], true, "{verdict:#}");
    assert_eq!(
        verdict["signatures"][0]["bottom_line"], false,
        "{verdict:#}"
    );
}

#[test]
fn a_licence_certified_with_no_changes_allowed_takes_a_dss_and_stays_valid() {
    let keys = keygen(&["--crl-base-url", "http://127.0.0.1:9"]);
    let work = tempfile::tempdir().unwrap();
    let licence = work.path().join("licence.pdf");
    common::ltv::issue_with_cli(&keys.dir, &licence, &[]);
    let data = chain_and_crl(&keys, &["crl"]);
    let with_dss =
        add_validation_data(&std::fs::read(&licence).unwrap(), &data, Limits::default()).unwrap();
    let ltv = work.path().join("licence-ltv.pdf");
    std::fs::write(&ltv, &with_dss).unwrap();
    let verdict = offline_verdict(&ltv, &keys.root);
    let signature = &verdict["signatures"][0];
    for key in ["intact", "valid", "trusted", "bottom_line", "docmdp_ok"] {
        assert_eq!(signature[key], true, "{key}: {verdict:#}");
    }
    assert_eq!(
        signature["modification_level"], "LTA_UPDATES",
        "{verdict:#}"
    );
}
