//! The unified social credit code (统一社会信用代码) of GB 32100-2015, checked before it names anyone.

use std::fmt;

use super::PkiError;

/// GB 32100-2015 §4.3 (and Table 1): the 31 code characters; a character's value is its index.
/// The letters I, O, Z, S and V are left out so they cannot be misread as 1, 0, 2, 5 and U.
const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// GB 32100-2015 §5 (Table 2): the weights 3^(i) mod 31 of the first 17 positions.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The number of characters in a code: 17 data characters and one check character.
const LENGTH: usize = 18;

/// An 18-character unified social credit code whose check character is correct.
///
/// Only [`CreditCode::parse`] makes one, so a value of this type is always well formed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CreditCode(String);

impl CreditCode {
    /// Parses a code, checking its length, character set and check character (GB 32100-2015 §5).
    ///
    /// Lower-case letters are refused rather than folded: the code is printed in upper case and
    /// goes into certificates verbatim.
    pub fn parse(text: &str) -> Result<CreditCode, PkiError> {
        let invalid = |reason: String| PkiError::InvalidCreditCode {
            code: text.chars().take(40).collect(),
            reason,
        };
        let values = text
            .chars()
            .map(|character| {
                character_value(character).ok_or_else(|| {
                    invalid(format!("'{character}' is not one of {}", charset_text()))
                })
            })
            .collect::<Result<Vec<u32>, PkiError>>()?;
        let Some((check, data)) = values.split_last().filter(|_| values.len() == LENGTH) else {
            return Err(invalid(format!(
                "it has {} characters, not {LENGTH}",
                values.len()
            )));
        };
        let expected = check_value(data);
        if *check != expected {
            return Err(invalid(format!(
                "the check character should be '{}'",
                char::from(charset_byte(expected))
            )));
        }
        Ok(CreditCode(text.to_owned()))
    }

    /// The code as printed on a business licence.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// GB 32100-2015 §5: C18 = 31 − (Σ Ci·Wi mod 31), where a result of 31 is written as 0.
fn check_value(data: &[u32]) -> u32 {
    let sum: u32 = data
        .iter()
        .zip(WEIGHTS)
        .map(|(value, weight)| value * weight)
        .sum();
    (31 - sum % 31) % 31
}

fn character_value(character: char) -> Option<u32> {
    let byte = u8::try_from(character).ok()?;
    let index = CHARSET.iter().position(|&member| member == byte)?;
    u32::try_from(index).ok()
}

fn charset_byte(value: u32) -> u8 {
    usize::try_from(value)
        .ok()
        .and_then(|index| CHARSET.get(index))
        .copied()
        .unwrap_or(b'?')
}

fn charset_text() -> &'static str {
    // The charset is ASCII, so this conversion cannot fail.
    std::str::from_utf8(CHARSET).unwrap_or("0-9 and A-Y without I O S V Z")
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;

    /// Codes whose check characters were recomputed with an independent script (Python, the same
    /// charset and weights); the first is the example most often quoted for the standard.
    const VALID: [&str; 5] = [
        "91350100M000100Y43",
        "91440300708461136T",
        "91110000600037341L",
        "91110108551385082Q",
        "91110000802100433B",
    ];

    #[test]
    fn accepts_valid_codes() {
        for code in VALID {
            assert_eq!(CreditCode::parse(code).unwrap().as_str(), code);
        }
    }

    #[test]
    fn charset_and_weights_follow_the_standard() {
        assert_eq!(CHARSET.len(), 31);
        for forbidden in [b'I', b'O', b'Z', b'S', b'V'] {
            assert!(!CHARSET.contains(&forbidden));
        }
        let mut weight = 1u32;
        for expected in WEIGHTS {
            assert_eq!(weight, expected);
            weight = weight * 3 % 31;
        }
    }

    #[test]
    fn check_value_31_is_written_as_zero() {
        // A sum that is a multiple of 31 gives 31 − 0 = 31, written as '0'.
        assert_eq!(check_value(&[0; 17]), 0);
        assert!(CreditCode::parse("000000000000000000").is_ok());
    }

    #[test]
    fn rejects_a_wrong_check_character() {
        let error = CreditCode::parse("91350100M000100Y44").unwrap_err();
        assert!(error.to_string().contains("should be '3'"), "{error}");
    }

    #[test]
    fn rejects_every_single_character_change() {
        for code in VALID {
            for position in 0..LENGTH {
                for &replacement in CHARSET {
                    let mut bytes = code.as_bytes().to_vec();
                    if bytes[position] == replacement {
                        continue;
                    }
                    bytes[position] = replacement;
                    let changed = String::from_utf8(bytes).unwrap();
                    assert!(CreditCode::parse(&changed).is_err(), "{changed}");
                }
            }
        }
    }

    #[test]
    fn rejects_bad_length_and_characters() {
        for bad in [
            "",
            "91350100M000100Y4",
            "91350100M000100Y433",
            "91350100m000100Y43",
            "91350100I000100Y43",
            "91350100M000100Y4 ",
            "9135０100M000100Y43",
        ] {
            assert!(CreditCode::parse(bad).is_err(), "{bad:?}");
        }
    }
}
