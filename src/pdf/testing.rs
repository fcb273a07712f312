//! Small hand-built PDFs for unit tests.

/// A PDF with a classic xref table holding `objects` (numbered from 1), `/Root 1 0 R`.
pub(crate) fn classic_pdf(objects: &[&str]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (index, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", index + 1).as_bytes());
    }
    let start = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{start}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A one-page document: catalog, page tree, page, empty content.
pub(crate) fn one_page() -> Vec<u8> {
    classic_pdf(&[
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595.276 841.89] >>",
        "<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>",
        "<< /Length 0 >>\nstream\n\nendstream",
    ])
}

/// The same objects with an uncompressed cross-reference stream instead of a table (§7.5.8).
pub(crate) fn xref_stream_pdf(objects: &[&str]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (index, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", index + 1).as_bytes());
    }
    let start = out.len();
    offsets.push(start);
    let mut rows = vec![0u8, 0, 0, 0xff];
    for offset in &offsets {
        rows.push(1);
        rows.extend_from_slice(&(*offset as u16).to_be_bytes());
        rows.push(0);
    }
    let number = objects.len() + 1;
    out.extend_from_slice(
        format!(
            "{number} 0 obj\n<< /Type /XRef /Size {} /W [1 2 1] /Root 1 0 R /Length {} >>\nstream\n",
            number + 1,
            rows.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&rows);
    out.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{start}\n%%EOF\n").as_bytes());
    out
}

/// The one-page document's objects.
pub(crate) const ONE_PAGE_OBJECTS: [&str; 4] = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595.276 841.89] >>",
    "<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>",
    "<< /Length 0 >>\nstream\n\nendstream",
];
