//! Fuzz target: the lazy PDF reader on untrusted bytes, plus the lookups signing makes after it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oneseal::pdf::{Limits, ObjectId, PdfFile};

fuzz_target!(|data: &[u8]| {
    let Ok(file) = PdfFile::open(data, Limits::default()) else {
        return;
    };
    // What `sign_pdf` reads next: the trailer, catalog, first page and a few objects.
    let _ = file.xref_form();
    let _ = file.newest_xref_offset();
    let size = file.size();
    let _ = file.catalog();
    let _ = file.page(1);
    let _ = file.page(2);
    for number in 0..size.min(64) {
        let _ = file.object(ObjectId::new(number, 0));
    }
});
