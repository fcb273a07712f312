//! Rate limits (GCRA, via governor) on signing, per token and per client address, and on public
//! verification and timestamps per client address. Keys are forgotten once idle so the maps stay bounded.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, NotUntil, Quota};

use super::{ApiError, HttpSettings};

/// Most keys a limiter remembers; beyond this it forgets idle keys at once.
const MAX_KEYS: usize = 100_000;

pub struct RateLimits {
    issue_by_token: DefaultKeyedRateLimiter<String>,
    issue_by_address: DefaultKeyedRateLimiter<IpAddr>,
    verify_by_address: DefaultKeyedRateLimiter<IpAddr>,
    timestamp_by_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl RateLimits {
    pub fn new(settings: &HttpSettings) -> RateLimits {
        let per_second =
            NonZeroU32::new(settings.issue_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let per_minute =
            NonZeroU32::new(settings.verify_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        RateLimits {
            issue_by_token: DefaultKeyedRateLimiter::keyed(Quota::per_second(per_second)),
            issue_by_address: DefaultKeyedRateLimiter::keyed(Quota::per_second(per_second)),
            verify_by_address: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
            // Timestamps are as cheap and as public as verifications: the same quota, counted apart.
            timestamp_by_address: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
        }
    }

    /// One issuance by `token` from `address`, or 429.
    pub fn issue(&self, token: &str, address: IpAddr) -> Result<(), ApiError> {
        self.bound();
        self.issue_by_token
            .check_key(&token.to_string())
            .and_then(|()| self.issue_by_address.check_key(&address))
            .map_err(|refused| too_many("issuances", &refused))
    }

    /// One public verification from `address`, or 429.
    pub fn verify(&self, address: IpAddr) -> Result<(), ApiError> {
        self.bound();
        self.verify_by_address
            .check_key(&address)
            .map_err(|refused| too_many("verifications", &refused))
    }

    /// One timestamp request from `address`, or 429.
    pub fn timestamp(&self, address: IpAddr) -> Result<(), ApiError> {
        self.bound();
        self.timestamp_by_address
            .check_key(&address)
            .map_err(|refused| too_many("timestamp requests", &refused))
    }

    /// Forgets idle keys (called from a timer, and at once when a map grows too big).
    pub fn forget_idle(&self) {
        self.issue_by_token.retain_recent();
        self.issue_by_address.retain_recent();
        self.verify_by_address.retain_recent();
        self.timestamp_by_address.retain_recent();
    }

    fn bound(&self) {
        if self.issue_by_token.len() > MAX_KEYS
            || self.issue_by_address.len() > MAX_KEYS
            || self.verify_by_address.len() > MAX_KEYS
            || self.timestamp_by_address.len() > MAX_KEYS
        {
            self.forget_idle();
        }
    }
}

fn too_many(what: &str, refused: &NotUntil<<DefaultClock as Clock>::Instant>) -> ApiError {
    let wait = refused.wait_time_from(DefaultClock::default().now());
    let mut error = ApiError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "request.rate_limited",
        format!("too many {what} from this client; slow down and retry"),
    );
    // Whole seconds, rounded up: never tell a client to come back before it may.
    error.retry_after = Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
    error
}
