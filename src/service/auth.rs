//! API tokens: made from 256 random bits, shown once, stored as SHA-256, compared in constant time.
//!
//! A token reads `oneseal_<id>_<secret>`: the id (public, 16 hex digits) finds the stored row, so
//! the secret itself is never used as a lookup key whose timing could leak it.

use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{Bureau, ServiceError, now_ms, require};
use crate::registry::{AuditRecord, Registry, Role, TokenRecord, Transition};

const PREFIX: &str = "oneseal_";
const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;

/// Who is calling, as proven by their token.
#[derive(Clone, Debug, Serialize)]
pub struct Identity {
    pub token_id: String,
    pub name: String,
    pub role: Role,
    pub department: Option<String>,
}

impl Identity {
    /// How the audit trail names this caller.
    pub fn actor(&self) -> String {
        format!(
            "token:{} ({}, {})",
            self.token_id,
            self.name,
            self.role.as_str()
        )
    }
}

/// A token just made: the only time its secret exists outside the holder's hands.
pub struct NewToken {
    pub record: TokenRecord,
    /// The whole token to hand over; zeroized when dropped.
    pub token: Zeroizing<String>,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("record", &self.record)
            .field("token", &"[secret elided]")
            .finish()
    }
}

/// What a token is for.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub role: Role,
    pub department: Option<String>,
    pub name: String,
}

/// Creates a token in `registry`, recorded as done by `actor`. Used by the console
/// (`oneseal token create`) and by admins over the API.
pub async fn create_token(
    registry: &Registry,
    request: &TokenRequest,
    actor: &str,
) -> Result<NewToken, ServiceError> {
    check_token_request(request)?;
    let id = crate::registry::audit::hex(&super::random_bytes::<ID_BYTES>()?);
    let secret = super::random_secret::<SECRET_BYTES>()?;
    let encoded =
        Zeroizing::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret.as_ref()));
    let record = TokenRecord {
        id: id.clone(),
        name: request.name.clone(),
        role: request.role,
        department: request.department.clone(),
        secret_hash: Sha256::digest(encoded.as_bytes()).into(),
        created_at_ms: now_ms(),
        revoked_at_ms: None,
    };
    let audit = AuditRecord::new(
        actor,
        "token.created",
        format!("token:{id}"),
        serde_json::json!({
            "name": record.name,
            "role": record.role.as_str(),
            "department": record.department,
        }),
    );
    registry.create_token(&record, &audit).await?;
    Ok(NewToken {
        record,
        token: Zeroizing::new(format!("{PREFIX}{id}_{}", encoded.as_str())),
    })
}

/// Revokes token `id`, recorded as done by `actor`.
pub async fn revoke_token(registry: &Registry, id: &str, actor: &str) -> Result<(), ServiceError> {
    let not_found = || ServiceError::NotFound(format!("no token with id {}", super::quoted(id)));
    // Not a token id: not sent to the registry (PostgreSQL refuses NUL in a query).
    if !is_token_id(id) {
        return Err(not_found());
    }
    let audit = AuditRecord::new(
        actor,
        "token.revoked",
        format!("token:{id}"),
        serde_json::json!({}),
    );
    match registry.revoke_token(id, &audit, now_ms()).await? {
        Transition::Done(()) => Ok(()),
        Transition::NotFound => Err(not_found()),
        Transition::Refused(why) => Err(ServiceError::Conflict(why)),
    }
}

fn check_token_request(request: &TokenRequest) -> Result<(), ServiceError> {
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            "token.invalid",
            "the token name must be 1–100 characters without control characters",
        ));
    }
    match (request.role, &request.department) {
        (Role::Department | Role::Reviewer, None) => Err(ServiceError::invalid(
            "token.invalid",
            format!("a {} token needs a department", request.role.as_str()),
        )),
        (_, Some(department))
            if department.trim().is_empty()
                || department.chars().count() > 100
                || department.chars().any(char::is_control) =>
        {
            Err(ServiceError::invalid(
                "token.invalid",
                "the department must be 1–100 characters without control characters",
            ))
        }
        _ => Ok(()),
    }
}

impl Bureau {
    /// The caller behind `Authorization: Bearer <token>`, or `Unauthenticated` for anything else.
    pub async fn authenticate(&self, token: &str) -> Result<Identity, ServiceError> {
        let Some((id, secret)) = split_token(token) else {
            return Err(ServiceError::Unauthenticated);
        };
        let presented: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let stored = self.registry().token(id).await?;
        // An unknown id still costs one comparison, against a hash no secret has.
        let expected = stored
            .as_ref()
            .map_or([0xff; 32], |record| record.secret_hash);
        let matches: bool = presented.ct_eq(&expected).into();
        match stored {
            Some(record) if matches && record.revoked_at_ms.is_none() => Ok(Identity {
                token_id: record.id,
                name: record.name,
                role: record.role,
                department: record.department,
            }),
            _ => Err(ServiceError::Unauthenticated),
        }
    }

    pub async fn create_token(
        &self,
        caller: &Identity,
        request: &TokenRequest,
    ) -> Result<NewToken, ServiceError> {
        require(caller, &[Role::Admin], "create tokens")?;
        create_token(self.registry(), request, &caller.actor()).await
    }

    pub async fn tokens(&self, caller: &Identity) -> Result<Vec<TokenRecord>, ServiceError> {
        require(caller, &[Role::Admin], "list tokens")?;
        Ok(self.registry().tokens().await?)
    }

    pub async fn revoke_token(&self, caller: &Identity, id: &str) -> Result<(), ServiceError> {
        require(caller, &[Role::Admin], "revoke tokens")?;
        revoke_token(self.registry(), id, &caller.actor()).await
    }
}

/// A token's public id: 16 lower-case hex digits.
fn is_token_id(id: &str) -> bool {
    id.len() == ID_BYTES * 2 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `oneseal_<16 hex>_<43 base64url>` split into id and secret; anything else is `None`.
fn split_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let id_ok = is_token_id(id);
    let secret_ok = secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (id_ok && secret_ok).then_some((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_tokens_split() {
        let secret = "A".repeat(43);
        let good = format!("oneseal_0123456789abcdef_{secret}");
        assert_eq!(
            split_token(&good),
            Some(("0123456789abcdef", secret.as_str()))
        );
        for bad in [
            "",
            "oneseal_",
            "Bearer x",
            &format!("oneseal_0123456789ABCDEF_{secret}"),
            &format!("oneseal_0123456789abcdef_{}", "A".repeat(42)),
            &format!("oneseal_0123456789abcdef_{}!", "A".repeat(42)),
        ] {
            assert_eq!(split_token(bad), None, "{bad}");
        }
    }
}
