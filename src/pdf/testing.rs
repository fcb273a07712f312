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

/// `objects` numbered from 1 like [`classic_pdf`], those whose numbers are in `packed` inside one
/// uncompressed object stream (§7.5.7), located by a cross-reference stream (§7.5.8).
pub(crate) fn object_stream_pdf(objects: &[&str], packed: &[u32]) -> Vec<u8> {
    let stream_number = objects.len() as u32 + 1;
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut rows = vec![0u8, 0, 0, 0, 0, 0xff, 0xff];
    let (mut header, mut body) = (String::new(), String::new());
    let mut index = 0u16;
    for (number, text) in (1u32..).zip(objects) {
        if packed.contains(&number) {
            header.push_str(&format!("{number} {} ", body.len()));
            body.push_str(text);
            body.push('\n');
            rows.push(2);
            rows.extend_from_slice(&stream_number.to_be_bytes());
            rows.extend_from_slice(&index.to_be_bytes());
            index += 1;
        } else {
            rows.push(1);
            rows.extend_from_slice(&(out.len() as u32).to_be_bytes());
            rows.extend_from_slice(&[0, 0]);
            out.extend_from_slice(format!("{number} 0 obj\n{text}\nendobj\n").as_bytes());
        }
    }
    rows.push(1);
    rows.extend_from_slice(&(out.len() as u32).to_be_bytes());
    rows.extend_from_slice(&[0, 0]);
    let data = format!("{header}{body}");
    out.extend_from_slice(
        format!(
            "{stream_number} 0 obj\n<< /Type /ObjStm /N {index} /First {} /Length {} >>\nstream\n{data}\nendstream\nendobj\n",
            header.len(),
            data.len()
        )
        .as_bytes(),
    );
    let xref_number = stream_number + 1;
    let start = out.len();
    rows.push(1);
    rows.extend_from_slice(&(start as u32).to_be_bytes());
    rows.extend_from_slice(&[0, 0]);
    out.extend_from_slice(
        format!(
            "{xref_number} 0 obj\n<< /Type /XRef /Size {} /W [1 4 2] /Root 1 0 R /Length {} >>\nstream\n",
            xref_number + 1,
            rows.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&rows);
    out.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{start}\n%%EOF\n").as_bytes());
    out
}

/// `base` with an incremental update (§7.5.6) that rewrites the objects in `changed` (number,
/// body) and frees the numbers in `freed`, with a classic table and `/Prev`.
pub(crate) fn with_update(base: &[u8], changed: &[(u32, &str)], freed: &[u32]) -> Vec<u8> {
    let previous = super::startxref_offset(base).unwrap_or_default();
    let mut out = base.to_vec();
    let mut table = String::from("xref\n");
    for &(number, body) in changed {
        table.push_str(&format!("{number} 1\n{:010} 00000 n\r\n", out.len()));
        out.extend_from_slice(format!("{number} 0 obj\n{body}\nendobj\n").as_bytes());
    }
    for number in freed {
        table.push_str(&format!("{number} 1\n0000000000 00001 f\r\n"));
    }
    let size = changed
        .iter()
        .map(|&(n, _)| n)
        .chain(freed.iter().copied())
        .max()
        .unwrap_or(0)
        .max(64);
    let start = out.len();
    out.extend_from_slice(
        format!(
            "{table}trailer\n<< /Size {size} /Root 1 0 R /Prev {previous} >>\nstartxref\n{start}\n%%EOF\n"
        )
        .as_bytes(),
    );
    out
}
