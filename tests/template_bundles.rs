//! The blank check against hand-built blanks with one hostile feature each
//! (tests/data/bundles/hostile/, made by make_hostile.py): each is refused at the right object or
//! place for the right reason, and the clean one passes.
#![allow(clippy::panic, clippy::indexing_slicing)]

use std::path::PathBuf;

use oneseal::template::Problem;
use oneseal::template::bundle::{BlankLimits, BlankSummary, PageBox, check_blank};

fn check(name: &str) -> Result<BlankSummary, Vec<Problem>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/bundles/hostile")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    check_blank(&bytes, &BlankLimits::default())
}

/// The file is refused with exactly the problems `expected` lists as (place, keyword) pairs, in
/// order.
fn assert_refused(name: &str, expected: &[(&str, &str)]) {
    let problems = match check(name) {
        Ok(summary) => panic!("{name} accepted: {summary:?}"),
        Err(problems) => problems,
    };
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), expected.len(), "{name}: {shown:#?}");
    for (problem, (place, keyword)) in problems.iter().zip(expected) {
        assert_eq!(problem.place, *place, "{name}: {shown:#?}");
        assert!(
            problem.message.contains(keyword),
            "{name}: expected {keyword:?} at {place}: {shown:#?}"
        );
    }
}

#[test]
fn the_clean_blank_passes() {
    let summary = check("clean.pdf").unwrap_or_else(|p| panic!("clean.pdf refused: {p:#?}"));
    assert_eq!(
        summary.pages,
        [PageBox {
            number: 1,
            crop_box: [0.0, 0.0, 595.276, 841.89],
            // Its one annotation, an internal link: allowed, reported for the overlap check.
            annotations: vec![[72.0, 700.0, 300.0, 730.0]],
            open_states: 0,
        }]
    );
}

#[test]
fn document_javascript_in_the_names_tree() {
    assert_refused(
        "names-javascript.pdf",
        &[
            (
                "template.pdf object 1 0",
                "carries JavaScript (/JavaScript)",
            ),
            ("template.pdf object 6 0", "carries JavaScript (/JS)"),
        ],
    );
}

#[test]
fn open_action_javascript() {
    assert_refused(
        "openaction-javascript.pdf",
        &[
            ("template.pdf object 1 0", "(/OpenAction)"),
            ("template.pdf object 5 0", "carries JavaScript (/JS)"),
        ],
    );
}

#[test]
fn page_additional_actions() {
    assert_refused(
        "page-aa.pdf",
        &[
            ("template.pdf object 3 0", "(/AA)"),
            ("template.pdf object 5 0", "carries JavaScript (/JS)"),
        ],
    );
}

#[test]
fn launch_action_in_a_link() {
    assert_refused(
        "link-launch.pdf",
        &[(
            "template.pdf object 5 0",
            "starts a program or opens a file (/S /Launch)",
        )],
    );
}

#[test]
fn embedded_files() {
    assert_refused(
        "embedded-files.pdf",
        &[
            ("template.pdf object 1 0", "embeds a file (/EmbeddedFiles)"),
            ("template.pdf object 5 0", "embeds a file (/EF)"),
            (
                "template.pdf object 6 0",
                "embeds a file (/Type /EmbeddedFile)",
            ),
        ],
    );
}

#[test]
fn rich_media_annotation() {
    assert_refused(
        "richmedia.pdf",
        &[(
            "template.pdf object 5 0",
            "multimedia annotation (/Subtype /RichMedia)",
        )],
    );
}

#[test]
fn xfa_form() {
    assert_refused(
        "xfa.pdf",
        &[("template.pdf object 1 0", "holds an XFA form (/XFA)")],
    );
}

#[test]
fn javascript_hidden_in_a_compressed_object_stream() {
    assert_refused(
        "objstm-javascript.pdf",
        &[("template.pdf object 6 0", "carries JavaScript (/JS)")],
    );
}

#[test]
fn encrypted() {
    assert_refused("encrypted.pdf", &[("template.pdf", "is encrypted")]);
}

#[test]
fn too_many_pages() {
    assert_refused(
        "pages-21.pdf",
        &[("template.pdf", "has 21 pages; a blank may have at most 20")],
    );
}

#[test]
fn page_too_large() {
    assert_refused(
        "page-5000pt.pdf",
        &[(
            "template.pdf page 1",
            "CropBox) is 5000 × 5000 pt; each side must be between 72 and 3370 pt",
        )],
    );
}

#[test]
fn already_signed() {
    assert_refused(
        "signed.pdf",
        &[
            ("template.pdf object 5 0", "already signed"),
            ("template.pdf object 6 0", "already signed"),
        ],
    );
}
