//! Who is calling: the API key from `Authorization: Bearer <key>`, checked per field by guards.

use super::error::code;
use crate::store::{ApiKey, KeyRole};
use async_graphql::{Context, Error, ErrorExtensions, Guard, Result};

#[derive(Clone, Debug)]
pub enum Caller {
    Anonymous,
    Key(ApiKey),
    /// A key was sent, but it is unknown or revoked.
    BadKey,
}

impl Caller {
    /// The name recorded in revision histories.
    pub fn name(&self) -> String {
        match self {
            Caller::Key(k) => format!("key:{}", k.name),
            _ => "anonymous".into(),
        }
    }

    /// Who a write is done for; None for a caller without a live key.
    pub fn author(&self) -> Option<crate::ingest::write::Author> {
        match self {
            Caller::Key(k) => Some(crate::ingest::write::Author {
                name: self.name(),
                role: k.role,
            }),
            _ => None,
        }
    }
}

/// The key in an `Authorization` value: `Bearer <key>`, the scheme in any case (RFC 9110 makes
/// it case-insensitive). None for another scheme or no key.
pub fn bearer_secret(authorization: &str) -> Option<&str> {
    let (scheme, secret) = authorization.trim().split_once(char::is_whitespace)?;
    let secret = secret.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then_some(secret)
}

pub fn unauthenticated(message: &str) -> Error {
    Error::new(message).extend_with(|_, e| e.set("code", code::UNAUTHENTICATED))
}

/// Requires a live key of at least `role`.
pub struct RoleGuard(pub KeyRole);

impl RoleGuard {
    pub fn check_caller(&self, caller: &Caller) -> Result<()> {
        match caller {
            Caller::Anonymous => Err(unauthenticated(
                "this needs an API key: send Authorization: Bearer <key>",
            )),
            Caller::BadKey => Err(unauthenticated("the API key is unknown or revoked")),
            Caller::Key(k) if k.role < self.0 => Err(Error::new(format!(
                "this needs a key with the {} role; key '{}' is a {}",
                self.0, k.name, k.role
            ))
            .extend_with(|_, e| e.set("code", code::FORBIDDEN))),
            Caller::Key(_) => Ok(()),
        }
    }
}

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        self.check_caller(ctx.data_unchecked::<Caller>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        for value in [
            "Bearer k1",
            "bearer k1",
            "BEARER k1",
            "  BeArEr   k1  ",
            "Bearer\tk1",
        ] {
            assert_eq!(bearer_secret(value), Some("k1"), "{value:?}");
        }
        for value in ["Basic k1", "Bearer", "Bearer   ", "k1", "Bearerk1", ""] {
            assert_eq!(bearer_secret(value), None, "{value:?}");
        }
    }
}
