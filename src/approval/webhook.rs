//! Webhook signatures (the `X-Oneseal-Signature` header) and the retry schedule of deliveries.
//!
//! The scheme is Stripe's: HMAC-SHA256 (RFC 2104, FIPS 180-4) over "<t>." and the body, the
//! timestamp signed with it so a captured delivery cannot be replayed later. Pure: the time is
//! passed in.

use std::time::Duration;

use ring::hmac;

/// `t=<unix seconds>,v1=<lower-hex HMAC-SHA256(secret, "<t>." || body)>`.
pub fn signature(secret: &[u8], timestamp_s: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut context = hmac::Context::with_key(&key);
    context.update(format!("{timestamp_s}.").as_bytes());
    context.update(body);
    let tag = context.sign();
    let hex: String = tag
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("t={timestamp_s},v1={hex}")
}

/// Checks a header made by `signature`, comparing in constant time (`ring::hmac::verify`), and
/// refuses timestamps more than `tolerance_s` away from `now_s` (replays).
///
/// Parts may come in any order; unknown parts (a future `v2`) are ignored, and any one of
/// several `v1` values may match, so a receiver can accept two secrets while rotating them.
/// Exactly one `t`, written canonically, is required.
pub fn verify_signature(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now_s: i64,
    tolerance_s: i64,
) -> bool {
    let mut timestamp = None;
    let mut tags = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", text)) => {
                if timestamp.is_some() {
                    return false;
                }
                match text.parse::<i64>() {
                    // Canonical only ("0123", "+5" refused): the signed text is `format!("{t}")`.
                    Ok(value) if value.to_string() == text => timestamp = Some(value),
                    _ => return false,
                }
            }
            Some(("v1", hex)) => {
                if let Some(tag) = decode_tag(hex) {
                    tags.push(tag);
                }
            }
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    // A negative tolerance (a configuration mistake) accepts nothing rather than everything.
    let Ok(tolerance) = u64::try_from(tolerance_s) else {
        return false;
    };
    if now_s.abs_diff(timestamp) > tolerance {
        return false;
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    tags.iter()
        .any(|tag| hmac::verify(&key, &message, tag).is_ok())
}

/// Wait before retry number `attempt` (1 = the first retry): 1 s, 2 s, 4 s… capped at `max`.
/// Attempt 0 is the first delivery itself and waits nothing. Never overflows.
pub fn backoff(attempt: u32, max: Duration) -> Duration {
    let Some(doublings) = attempt.checked_sub(1) else {
        return Duration::ZERO;
    };
    match 1u64.checked_shl(doublings) {
        Some(seconds) => Duration::from_secs(seconds).min(max),
        None => max,
    }
}

/// A `v1` value: exactly 64 lower-case hex digits, the 32 bytes of an HMAC-SHA256 tag.
fn decode_tag(hex: &str) -> Option<[u8; 32]> {
    let digits = hex.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut tag = [0u8; 32];
    for (byte, pair) in tag.iter_mut().zip(digits.chunks_exact(2)) {
        let [high, low] = pair else {
            return None;
        };
        *byte = (hex_value(*high)? << 4) | hex_value(*low)?;
    }
    Some(tag)
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_secret";
    const BODY: &[u8] = br#"{"event":"licence.issued","serial":"2024-000001"}"#;

    #[test]
    fn signature_matches_an_independent_computation() {
        // python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec_test_secret",
        //   b"1700000000." + b"{\"event\":\"licence.issued\",\"serial\":\"2024-000001\"}",
        //   hashlib.sha256).hexdigest())'
        assert_eq!(
            signature(SECRET, 1_700_000_000, BODY),
            "t=1700000000,v1=24a683e6a92268496bd922452c013900843ddc484b95371fe689cc8cb94e4d9a"
        );
    }

    #[test]
    fn a_fresh_signature_verifies() {
        let header = signature(SECRET, 1_700_000_000, BODY);
        assert!(verify_signature(SECRET, &header, BODY, 1_700_000_000, 300));
        assert!(verify_signature(SECRET, &header, BODY, 1_700_000_300, 300));
        assert!(verify_signature(SECRET, &header, BODY, 1_699_999_700, 300));
        // Negative timestamps are signed and checked the same way.
        let header = signature(SECRET, -5, BODY);
        assert!(verify_signature(SECRET, &header, BODY, 0, 10));
    }

    #[test]
    fn stale_or_future_timestamps_are_refused() {
        let header = signature(SECRET, 1_700_000_000, BODY);
        assert!(!verify_signature(SECRET, &header, BODY, 1_700_000_301, 300));
        assert!(!verify_signature(SECRET, &header, BODY, 1_699_999_699, 300));
        assert!(!verify_signature(SECRET, &header, BODY, 1_700_000_001, 0));
        assert!(!verify_signature(SECRET, &header, BODY, 1_700_000_000, -1));
        let extreme = signature(SECRET, i64::MIN, BODY);
        assert!(!verify_signature(
            SECRET,
            &extreme,
            BODY,
            i64::MAX,
            i64::MAX
        ));
    }

    #[test]
    fn wrong_secret_body_or_timestamp_is_refused() {
        let header = signature(SECRET, 1_700_000_000, BODY);
        assert!(!verify_signature(
            b"other",
            &header,
            BODY,
            1_700_000_000,
            300
        ));
        assert!(!verify_signature(
            SECRET,
            &header,
            b"{}",
            1_700_000_000,
            300
        ));
        // Moving the timestamp breaks the tag.
        let moved = header.replace("t=1700000000", "t=1700000001");
        assert!(!verify_signature(SECRET, &moved, BODY, 1_700_000_000, 300));
    }

    #[test]
    fn malformed_headers_are_refused() {
        let header = signature(SECRET, 1_700_000_000, BODY);
        let tag = header.split_once(",v1=").unwrap().1;
        let now = 1_700_000_000;
        for bad in [
            String::new(),
            format!("v1={tag}"),
            "t=1700000000".to_string(),
            format!("t=01700000000,v1={tag}"),
            format!("t=+1700000000,v1={tag}"),
            format!("t= 1700000000,v1={tag}"),
            format!("t=1700000000,t=1700000000,v1={tag}"),
            format!("t=1700000000,v1={}", tag.to_uppercase()),
            format!("t=1700000000,v1={}", &tag[..62]),
            format!("t=1700000000,v1={tag}00"),
            format!("t=1700000000, v1={tag}"),
            format!("t=1700000000,v0={tag}"),
        ] {
            assert!(!verify_signature(SECRET, &bad, BODY, now, 300), "{bad:?}");
        }
    }

    #[test]
    fn parts_in_any_order_and_rotated_secrets_verify() {
        let header = signature(SECRET, 1_700_000_000, BODY);
        let tag = header.split_once(",v1=").unwrap().1;
        let old = signature(b"old secret", 1_700_000_000, BODY);
        let old_tag = old.split_once(",v1=").unwrap().1;
        let now = 1_700_000_000;
        for good in [
            format!("v1={tag},t=1700000000"),
            format!("t=1700000000,v1={old_tag},v1={tag}"),
            format!("t=1700000000,v1=zz,v1={tag},v2=future"),
        ] {
            assert!(verify_signature(SECRET, &good, BODY, now, 300), "{good:?}");
        }
    }

    #[test]
    fn backoff_doubles_from_one_second_to_the_cap() {
        let max = Duration::from_secs(3600);
        assert_eq!(backoff(0, max), Duration::ZERO);
        assert_eq!(backoff(1, max), Duration::from_secs(1));
        assert_eq!(backoff(2, max), Duration::from_secs(2));
        assert_eq!(backoff(3, max), Duration::from_secs(4));
        assert_eq!(backoff(12, max), Duration::from_secs(2048));
        assert_eq!(backoff(13, max), max);
        for attempt in [63, 64, 65, 100, u32::MAX] {
            assert_eq!(backoff(attempt, max), max, "attempt {attempt}");
        }
        assert_eq!(backoff(64, Duration::MAX), Duration::from_secs(1 << 63));
        assert_eq!(backoff(65, Duration::MAX), Duration::MAX);
        assert_eq!(backoff(5, Duration::ZERO), Duration::ZERO);
    }
}
