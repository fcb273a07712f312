//! Long-term validation data in the document: the Document Security Store (ISO 32000-2
//! §12.8.4.3, ETSI EN 319 142-1 §5.4.2), appended as an incremental update so the signatures
//! before it stay intact and a validator can check them offline.

use ring::digest;

use crate::pdf::{Dictionary, Limits, Object, PdfError, PdfFile};
use crate::pdf::{IncrementalUpdate, deflate};

use super::SignError;

/// Most items of each kind one update may add: a chain and its CRLs are a handful.
const MAX_ITEMS: usize = 256;
/// Largest item accepted (a CRL of 10,000 entries is well under this).
const MAX_ITEM_BYTES: usize = 2 << 20;

/// Certificates, CRLs and OCSP responses (DER) to keep in the document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationData {
    pub certificates: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
    pub ocsp_responses: Vec<Vec<u8>>,
}

impl ValidationData {
    fn check(&self) -> Result<(), SignError> {
        for (kind, items) in [
            ("certificates", &self.certificates),
            ("CRLs", &self.crls),
            ("OCSP responses", &self.ocsp_responses),
        ] {
            if items.len() > MAX_ITEMS {
                return Err(SignError::InvalidRequest(format!(
                    "{} {kind} are more than one update may add ({MAX_ITEMS})",
                    items.len()
                )));
            }
            if items
                .iter()
                .any(|item| item.is_empty() || item.len() > MAX_ITEM_BYTES)
            {
                return Err(SignError::InvalidRequest(format!(
                    "one of the {kind} is empty or over {MAX_ITEM_BYTES} bytes"
                )));
            }
        }
        Ok(())
    }
}

/// Appends `data` to the document's DSS (creating it when there is none): each item becomes a
/// stream listed in `/Certs`, `/CRLs` or `/OCSPs`; an item the DSS already lists is not added
/// twice. The catalog gains the ESIC extension PAdES asks of a PDF 1.7 file with a DSS
/// (ETSI EN 319 142-1 §5.4.1). No `/VRI`: it is optional, and validators search the store.
/// Returns the input unchanged when there is nothing new to add.
pub fn add_validation_data(
    input: &[u8],
    data: &ValidationData,
    limits: Limits,
) -> Result<Vec<u8>, SignError> {
    data.check()?;
    let file = PdfFile::open(input, limits)?;
    let (catalog_id, mut catalog) = file.catalog()?;
    let mut dss = match catalog.get(b"DSS") {
        Some(existing) => file.resolve_dictionary(existing, "the catalog's /DSS")?,
        None => Dictionary::new(),
    };
    let mut update = IncrementalUpdate::new(&file);
    let mut added = 0;
    for (key, items) in [
        (&b"Certs"[..], &data.certificates),
        (&b"CRLs"[..], &data.crls),
        (&b"OCSPs"[..], &data.ocsp_responses),
    ] {
        let mut listed = listed_items(&file, &dss, key)?;
        let mut array =
            match dss.get(key) {
                Some(existing) => file.resolve(existing)?.as_array().cloned().ok_or_else(|| {
                    structure(format!("the DSS's /{} is not an array", text(key)))
                })?,
                None => Vec::new(),
            };
        for item in items {
            let hash = sha256(item);
            if listed.contains(&hash) {
                continue;
            }
            listed.push(hash);
            let id = update.allocate();
            let mut dictionary = Dictionary::new();
            let packed = deflate(&mut dictionary, item.clone());
            update.set_stream(id, dictionary, packed);
            array.push(Object::Reference(id));
            added += 1;
        }
        if !array.is_empty() {
            dss.set(key, array);
        }
    }
    if added == 0 {
        return Ok(input.to_vec());
    }
    let dss_id = update.allocate();
    update.set(dss_id, dss);
    catalog.set(b"DSS", Object::Reference(dss_id));
    add_esic_extension(&file, &mut catalog)?;
    update.set(catalog_id, catalog);
    let written = update.write(&file, document_id(&file, data))?;
    Ok(written.bytes)
}

/// SHA-256 of every item a DSS array already lists (decoded stream data).
fn listed_items(
    file: &PdfFile<'_>,
    dss: &Dictionary,
    key: &[u8],
) -> Result<Vec<[u8; 32]>, SignError> {
    let Some(array) = dss.get(key) else {
        return Ok(Vec::new());
    };
    let resolved = file.resolve(array)?;
    let items = resolved
        .as_array()
        .ok_or_else(|| structure(format!("the DSS's /{} is not an array", text(key))))?;
    if items.len() > 4 * MAX_ITEMS {
        return Err(structure(format!(
            "the DSS's /{} lists {} items",
            text(key),
            items.len()
        )));
    }
    let mut hashes = Vec::with_capacity(items.len());
    for item in items {
        if let Object::Reference(id) = item
            && let Ok(bytes) = file.stream_contents(*id, MAX_ITEM_BYTES)
        {
            hashes.push(sha256(&bytes));
        }
    }
    Ok(hashes)
}

/// `/Extensions << /ESIC << /BaseVersion /1.7 /ExtensionLevel 5 >> >>` unless already there.
fn add_esic_extension(file: &PdfFile<'_>, catalog: &mut Dictionary) -> Result<(), SignError> {
    let mut extensions = match catalog.get(b"Extensions") {
        Some(existing) => file.resolve_dictionary(existing, "the catalog's /Extensions")?,
        None => Dictionary::new(),
    };
    if extensions.get(b"ESIC").is_some() {
        return Ok(());
    }
    let mut esic = Dictionary::new();
    esic.set(b"BaseVersion", Object::name(b"1.7"));
    esic.set(b"ExtensionLevel", 5);
    extensions.set(b"ESIC", esic);
    catalog.set(b"Extensions", extensions);
    Ok(())
}

/// The trailer's second `/ID` for this update: derived from the first and what is added.
fn document_id(file: &PdfFile<'_>, data: &ValidationData) -> [u8; 16] {
    let mut context = digest::Context::new(&digest::SHA256);
    if let Some(first) = file.trailer().get(b"ID") {
        context.update(&crate::pdf::serialize(first));
    }
    context.update(&file.bytes().len().to_le_bytes());
    for item in data
        .certificates
        .iter()
        .chain(&data.crls)
        .chain(&data.ocsp_responses)
    {
        context.update(&sha256(item));
    }
    let mut id = [0; 16];
    id.copy_from_slice(context.finish().as_ref().get(..16).unwrap_or(&[0; 16]));
    id
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

fn structure(message: String) -> SignError {
    SignError::Pdf(PdfError::Structure(message))
}

fn text(key: &[u8]) -> String {
    String::from_utf8_lossy(key).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_validation_data_before_reading_the_file() {
        let too_many = ValidationData {
            crls: vec![vec![0x30]; MAX_ITEMS + 1],
            ..ValidationData::default()
        };
        let error = add_validation_data(b"%PDF-1.7", &too_many, Limits::default()).unwrap_err();
        assert!(
            error.to_string().contains("more than one update may add"),
            "{error}"
        );
        let empty = ValidationData {
            certificates: vec![Vec::new()],
            ..ValidationData::default()
        };
        let error = add_validation_data(b"%PDF-1.7", &empty, Limits::default()).unwrap_err();
        assert!(error.to_string().contains("empty"), "{error}");
    }

    #[test]
    fn refuses_a_file_that_is_not_a_pdf() {
        let data = ValidationData {
            crls: vec![vec![0x30, 0x00]],
            ..ValidationData::default()
        };
        assert!(matches!(
            add_validation_data(b"not a pdf", &data, Limits::default()),
            Err(SignError::Pdf(_))
        ));
    }
}
