//! What the signatures already in a document carry: the certificates in each CMS and in each
//! signature timestamp token. A DSS for B-LT must hold every one of them with its issuer's CRL
//! (ETSI EN 319 142-1 §5.4.2), so extending a file starts here.

use ::cms::cert::CertificateChoices;
use ::cms::signed_data::SignedData;
use der::Encode;

use crate::cms::{self, ID_AA_SIGNATURE_TIME_STAMP_TOKEN};
use crate::pdf::{Limits, Object, PdfFile, form_fields};

use super::SignError;

/// Most signatures and document timestamps read from one file.
const MAX_SIGNATURES: usize = 256;

/// Every distinct certificate (DER) carried by the signatures and timestamps of `input`, in
/// the order first met. A signature whose `/Contents` cannot be read adds nothing.
pub fn carried_certificates(input: &[u8], limits: Limits) -> Result<Vec<Vec<u8>>, SignError> {
    let file = PdfFile::open(input, limits)?;
    let (_, catalog) = file.catalog()?;
    let Some(form) = catalog.get(b"AcroForm") else {
        return Ok(Vec::new());
    };
    let form = file.resolve_dictionary(form, "the catalog's /AcroForm")?;
    let mut found = Vec::new();
    let signatures = form_fields(&file, &form)?
        .into_iter()
        .filter(|field| field.signature)
        .filter_map(|field| field.value)
        .take(MAX_SIGNATURES);
    for value in signatures {
        let Ok(dictionary) = file.resolve_dictionary(&value, "a signature value") else {
            continue;
        };
        let Some(Object::String(contents, _)) = dictionary.get(b"Contents") else {
            continue;
        };
        if let Ok(signed_data) = cms::parse_signed_data(contents) {
            collect(&signed_data, &mut found);
        }
    }
    Ok(found)
}

/// The SignedData's certificates, then those of its signature timestamp tokens.
fn collect(signed_data: &SignedData, found: &mut Vec<Vec<u8>>) {
    for certificate in signed_data.certificates.iter().flat_map(|set| set.0.iter()) {
        if let CertificateChoices::Certificate(certificate) = certificate
            && let Ok(der) = certificate.to_der()
            && !found.contains(&der)
        {
            found.push(der);
        }
    }
    let tokens = signed_data
        .signer_infos
        .0
        .iter()
        .filter_map(|info| info.unsigned_attrs.as_ref())
        .flat_map(|attributes| attributes.iter())
        .filter(|attribute| attribute.oid == ID_AA_SIGNATURE_TIME_STAMP_TOKEN)
        .flat_map(|attribute| attribute.values.iter());
    for token in tokens {
        if let Ok(der) = token.to_der()
            && let Ok(token) = cms::parse_signed_data(&der)
        {
            collect_certificates_only(&token, found);
        }
    }
}

/// A token's own certificates (a token inside a token is not followed).
fn collect_certificates_only(signed_data: &SignedData, found: &mut Vec<Vec<u8>>) {
    let inner = SignedData {
        signer_infos: ::cms::signed_data::SignerInfos(Default::default()),
        ..signed_data.clone()
    };
    collect(&inner, found);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::pdf::testing::one_page;
    use crate::sign::{SignatureRequest, sign_pdf};

    #[test]
    fn the_signers_certificate_is_found_once_per_signature_and_not_in_an_unsigned_file() {
        assert!(
            carried_certificates(&one_page(), Limits::default())
                .unwrap()
                .is_empty()
        );
        let (signer, certificate) = crate::test_support::test_signer();
        let time = time::OffsetDateTime::from_unix_timestamp(1_764_000_000).unwrap();
        let once = sign_pdf(&one_page(), &signer, &SignatureRequest::new(time)).unwrap();
        let twice = sign_pdf(&once, &signer, &SignatureRequest::new(time)).unwrap();
        assert_eq!(
            carried_certificates(&twice, Limits::default()).unwrap(),
            vec![certificate]
        );
    }
}
